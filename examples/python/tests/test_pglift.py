"""Tests of the Python binding against a real PostgreSQL 15: run through tests/capi/with_prefix.sh
(a throw-away prefix) with LIBPGLIFT_PATH naming the library; see ../README.md."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import unittest

import pglift
from pglift.databases import Databases

PREFIX = os.environ.get("LIBPGLIFT_TEST_PREFIX", "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApiTest(unittest.TestCase):
    def test_version(self) -> None:
        self.assertRegex(pglift.version(), r"^\d+\.\d+\.\d+$")

    def test_errors_are_typed(self) -> None:
        with pglift.Context() as ctx:
            with self.assertRaises(pglift.NotFound) as cm:
                ctx.get("15/missing")
            self.assertEqual(cm.exception.code, -3)
            self.assertEqual(cm.exception.status_name, "not_found")
            self.assertIn("missing", str(cm.exception))
            with self.assertRaises(pglift.InvalidSpec) as cm:
                ctx.create({"name": "bad/name"})
            self.assertEqual(cm.exception.field, "name")
            with self.assertRaises(ValueError):  # InvalidSpec is a ValueError too
                ctx.stop("15/x", mode=9)
            self.assertNotIn("pyapply", [i.name for i in ctx.list()])
            op = ctx.get_async("15/missing", 5)
            self.assertTrue(op.wait(30))
            self.assertEqual(op.state, pglift.OP_FAILED)
            self.assertIsInstance(op.error(), pglift.NotFound)
            with self.assertRaises(pglift.NotFound):
                op.result()
            events = list(ctx.events())
            self.assertEqual([(e.kind, e.tag, e.status) for e in events], [(pglift.EVENT_OP_DONE, 5, -3)])
            op.close()

    def test_settings(self) -> None:
        with pglift.Context({"prefix": PREFIX + "/elsewhere"}) as ctx:
            self.assertEqual(ctx.settings()["prefix"], PREFIX + "/elsewhere")
        with self.assertRaises(pglift.SettingsError):
            pglift.Context({"no_such_setting": 1})


class InstanceTest(unittest.TestCase):
    def test_blocking_life(self) -> None:
        port = free_port()
        with pglift.Context() as ctx:
            created = ctx.create({"name": "py", "version": "15", "port": port})
            try:
                self.assertIsInstance(created, pglift.Instance)
                self.assertEqual((created.name, created.version, created.port), ("py", "15", port))
                self.assertEqual(created.state, "started")
                got = ctx.get("15/py")
                self.assertEqual(got.data_directory, f"{PREFIX}/srv/pgsql/15/py/data")
                self.assertTrue(os.path.isdir(got.data_directory))
                self.assertEqual(got.encoding, "UTF8")
                self.assertIsInstance(got.settings, dict)
                self.assertFalse(got.pending_restart)
                self.assertEqual(got.qualname, "15-py")
                self.assertIsNone(got.patroni, "a plain instance has no Patroni section")
                [item] = ctx.list()
                self.assertEqual((item.name, item.port, item.status), ("py", port, "running"))
                status = ctx.status("py")
                self.assertTrue(status.running)
                self.assertIsInstance(status.pid, int)
                self.assertIsNone(status.patroni)
                self.assertEqual(ctx.env("15/py")["PGPORT"], str(port))
                with self.assertRaises(pglift.AlreadyExists):
                    ctx.create({"name": "py", "version": "15", "port": port})
                logs = [e for e in ctx.events() if e.kind == pglift.EVENT_LOG]
                self.assertIn("initializing PostgreSQL instance", [e.message for e in logs])
            finally:
                ctx.drop("15/py")
            self.assertFalse(os.path.exists(created.data_directory))


class ConfigureTest(unittest.TestCase):
    def test_configuration_and_patroni_calls(self) -> None:
        with pglift.Context() as ctx:
            ctx.create({"name": "pycfg", "port": free_port()})
            try:
                result = ctx.configure("pycfg", {"work_mem": "8MB"})
                self.assertEqual(result["changes"], {"work_mem": [None, "8MB"]})
                self.assertTrue(result["reloaded"])
                self.assertEqual(ctx.parameters("pycfg")["work_mem"], "8MB")
                restart = ctx.configure("pycfg", {"max_connections": 50})
                self.assertEqual(restart["needs_restart"], ["max_connections"])
                # Dry runs: the change reported, the parameters left as they were.
                before = ctx.parameters("pycfg")
                dry = ctx.configure("pycfg", {"work_mem": "9MB"}, dry_run=True)
                self.assertEqual(dry["changes"], {"work_mem": ["8MB", "9MB"]})
                self.assertFalse(dry["reloaded"])
                with self.assertRaises(pglift.InvalidSpec):
                    ctx.configure("pycfg", {"work_mem": "lots"}, dry_run=True)
                dry_text = ctx.configure_text("pycfg", ctx.parameters_text("pycfg").replace("'8MB'", "'10MB'"),
                                              dry_run=True)
                self.assertEqual(dry_text["changes"], {"work_mem": ["8MB", "10MB"]})
                op = ctx.configure_async("pycfg", {"work_mem": "11MB"}, 10, dry_run=True)
                self.assertTrue(op.wait(60))
                self.assertEqual(op.result()["changes"], {"work_mem": ["8MB", "11MB"]})
                op.close()
                self.assertEqual(ctx.parameters("pycfg"), before)
                op = ctx.configure_async("pycfg", {"work_mem": None}, 11)
                self.assertTrue(op.wait(60))
                self.assertEqual(op.result()["changes"], {"work_mem": ["8MB", None]})
                op.close()
                # Patroni operations on a plain instance: typed state errors.
                with self.assertRaises(pglift.StateError):
                    ctx.promote("pycfg")
                with self.assertRaises(pglift.StateError):
                    ctx.switchover("pycfg")
                with self.assertRaises(pglift.StateError):
                    ctx.drop("pycfg", remove_cluster=True)
            finally:
                ctx.drop("pycfg")


class HbaTest(unittest.TestCase):  # pgconf (wt-pgconf)
    def test_hba_records(self) -> None:
        record = {"connection": {"type": "host", "address": "10.0.0.0/8"}, "database": ["app"], "user": "alice",
                  "method": "scram-sha-256"}
        with pglift.Context() as ctx:
            ctx.create({"name": "pyhba", "port": free_port()})
            try:
                dry = ctx.hba_add("pyhba", record, dry_run=True)
                self.assertTrue(dry["changed"])
                self.assertFalse(dry["reloaded"])
                self.assertIn("+host    app", dry["diff"])
                added = ctx.hba_add("pyhba", record)
                self.assertEqual(len(added["added"]), 1)
                self.assertTrue(added["reloaded"])
                self.assertFalse(ctx.hba_add("pyhba", [record])["changed"])
                with self.assertRaises(pglift.InvalidSpec) as bad:
                    ctx.hba_add("pyhba", dict(record, method="nope"))
                self.assertEqual(bad.exception.field, "method")
                op = ctx.hba_remove_async("pyhba", record, 12)
                self.assertTrue(op.wait(60))
                self.assertEqual(op.result()["removed"], added["added"])
                op.close()
                with self.assertRaises(pglift.NotFound):
                    ctx.hba_remove("pyhba", record)
                text = ctx.parameters_text("pyhba")
                self.assertIn("port = ", text)
                edited = ctx.configure_text("pyhba", text + "work_mem = '16MB'\n")
                self.assertEqual(edited["changes"], {"work_mem": [None, "16MB"]})
                self.assertEqual(ctx.configure_text("pyhba", text + "work_mem = '16MB'\n")["changes"], {})
                with self.assertRaises(pglift.InvalidSpec) as bad_line:
                    ctx.configure_text("pyhba", "include 'x.conf'\n")
                self.assertEqual(bad_line.exception.field, "line 1")
            finally:
                ctx.drop("pyhba")
class ApplyTest(unittest.TestCase):
    def test_apply_and_alter(self) -> None:
        with pglift.Context() as ctx:
            port = free_port()
            manifest = {"name": "pyapply", "port": port, "settings": {"work_mem": "5MB"}}
            self.assertEqual(ctx.apply(manifest, dry_run=True)["change_state"], "created")
            self.assertNotIn("pyapply", [i.name for i in ctx.list()])
            self.assertEqual(ctx.apply(manifest)["change_state"], "created")
            try:
                self.assertIsNone(ctx.apply(manifest)["change_state"])
                # On the existing instance: the manifest's roles and databases, reported one by one.
                objects = dict(manifest, roles=[{"name": "pyapplyrole", "login": True}],
                               databases=[{"name": "pyapplydb", "owner": "pyapplyrole"}])
                created = ctx.apply(objects)
                self.assertEqual(created["roles"], [{"name": "pyapplyrole", "change_state": "created"}])
                self.assertEqual(created["databases"], [{"name": "pyapplydb", "change_state": "created"}])
                same = ctx.apply(objects)
                self.assertEqual(same["roles"], [{"name": "pyapplyrole", "change_state": None}])
                self.assertEqual(same["databases"], [{"name": "pyapplydb", "change_state": None}])
                absent = dict(manifest, roles=[{"name": "pyapplyrole", "state": "absent"}],
                              databases=[{"name": "pyapplydb", "state": "absent"}])
                dropped = ctx.apply(absent)
                self.assertEqual(dropped["roles"], [{"name": "pyapplyrole", "change_state": "dropped"}])
                self.assertEqual(dropped["databases"], [{"name": "pyapplydb", "change_state": "dropped"}])
                dry = ctx.alter("pyapply", {"settings": {"work_mem": "6MB"}}, dry_run=True)
                self.assertEqual(dry["diff"], [{"field": "settings.work_mem", "before": "5MB", "after": "6MB"}])
                self.assertEqual(ctx.parameters("pyapply")["work_mem"], "5MB")
                op = ctx.alter_async("pyapply", {"state": "stopped"}, 12)
                self.assertTrue(op.wait(60))
                self.assertEqual(op.result()["change_state"], "changed")
                op.close()
                with self.assertRaises(pglift.InvalidSpec) as raised:
                    ctx.alter("pyapply", {"port": 0})
                self.assertEqual(raised.exception.field, "port")
            finally:
                op = ctx.apply_async({"name": "pyapply", "state": "absent"}, 13)
                self.assertTrue(op.wait(60))
                self.assertEqual(op.result()["change_state"], "dropped")
                op.close()


class OptionsTest(unittest.TestCase):
    def test_options_on_a_plain_instance(self) -> None:
        with pglift.Context() as ctx:
            created = ctx.create({"name": "pyopts", "version": "15", "port": free_port()})
            dropped = False
            try:
                ctx.stop("15/pyopts")
                ctx.start("15/pyopts", accept_data_loss=True)
                self.assertTrue(ctx.status("15/pyopts").running)
                ctx.stop("15/pyopts")
                op = ctx.start_async("15/pyopts", 12, accept_data_loss=True)
                self.assertTrue(op.wait(60))
                self.assertEqual(op.state, pglift.OP_SUCCEEDED)
                op.close()
                self.assertTrue(ctx.status("15/pyopts").running)
                with self.assertRaises(pglift.StateError):
                    ctx.patroni_credentials("15/pyopts")
                with self.assertRaises(pglift.StateError):
                    ctx.promote("15/pyopts")
                # Nothing to ask a DCS about: the flag changes nothing for a plain instance.
                ctx.drop("15/pyopts", dcs_unreachable_ok=True)
                dropped = True
                self.assertFalse(os.path.exists(created.data_directory))
            finally:
                if not dropped:
                    ctx.drop("15/pyopts")


class AsyncioTest(unittest.TestCase):
    def test_async_ops_with_log_events(self) -> None:
        asyncio.run(self._life(free_port()))

    async def _life(self, port: int) -> None:
        events: list[pglift.Event] = []
        async with pglift.aio.Context(on_event=events.append) as ctx:
            created = await ctx.create({"name": "aio", "version": "15", "port": port})
            try:
                self.assertEqual(created.state, "started")
                # a restart while the loop stays free: a ticker runs meanwhile
                ticks = 0

                async def ticker() -> None:
                    nonlocal ticks
                    while True:
                        await asyncio.sleep(0.01)
                        ticks += 1

                task = asyncio.create_task(ticker())
                await ctx.restart("15/aio")
                task.cancel()
                self.assertGreater(ticks, 0)
                got, status, items = await asyncio.gather(ctx.get("15/aio"), ctx.status("15/aio"), ctx.list())
                self.assertEqual(got.port, port)
                self.assertTrue(status.running)
                self.assertEqual([i.name for i in items], ["aio"])
                self.assertIn("PGDATA", await ctx.env("aio"))
            finally:
                await ctx.drop("15/aio")
            messages = [e.message for e in events if e.kind == pglift.EVENT_LOG]
            self.assertIn("restarting instance 15/aio", messages)
            self.assertIn("dropping instance 15/aio", messages)
            self.assertTrue(all(e.tag > 0 for e in events))  # every event belongs to an awaited op

            # cancelling the awaiting task cancels the op, which reverts before the task ends
            creating = asyncio.create_task(ctx.create({"name": "aio2", "version": "15", "port": free_port()}))
            while not any(e.kind == pglift.EVENT_PROGRESS and e.message.startswith("initializing") for e in events):
                await asyncio.sleep(0.01)
            creating.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await creating
            self.assertFalse(os.path.exists(f"{PREFIX}/srv/pgsql/15/aio2/data"))
            self.assertEqual(await ctx.list(), [])


MARKER = "statement: SELECT 'py-follow-marker'"


def read_until(stream: pglift.Stream, needle: str, seconds: float) -> str:
    """The stream's chunks until one holds ``needle`` (PostgreSQL writes the line within moments) or the
    deadline passes."""
    text, deadline = "", time.monotonic() + seconds
    while needle not in text and not stream.ended and (left := deadline - time.monotonic()) > 0:
        text += stream.get(left) or ""
    return text


class StreamsTest(unittest.TestCase):  # issue 12, item 5: logs, and the async twins of the reads
    def test_logs_and_async_reads(self) -> None:
        with pglift.Context() as ctx:
            ctx.create({"name": "pylogs", "port": free_port(), "settings": {"log_statement": "all"}})
            try:
                self._async_reads(ctx)
                self._logs(ctx)
            finally:
                ctx.drop("pylogs")

    def _wait(self, op: pglift.Op):
        self.assertTrue(op.wait(60), "the op did not end within 60 s")
        try:
            return op.result()
        finally:
            op.close()

    def _async_reads(self, ctx: pglift.Context) -> None:
        self.assertEqual(self._wait(ctx.parameters_async("pylogs", 20)), ctx.parameters("pylogs"))
        text = ctx.parameters_text("pylogs")
        self.assertEqual(self._wait(ctx.parameters_text_async("pylogs", 21)), text)
        dry = self._wait(ctx.configure_text_async("pylogs", text + "work_mem = '7MB'\n", 22, dry_run=True))
        self.assertEqual((dry["changes"], dry["reloaded"]), ({"work_mem": [None, "7MB"]}, False))
        self.assertNotIn("work_mem", ctx.parameters("pylogs"))
        done = self._wait(ctx.configure_text_async("pylogs", text + "work_mem = '7MB'\n", 23))
        self.assertEqual(done["changes"], {"work_mem": [None, "7MB"]})
        self.assertEqual(ctx.parameters("pylogs")["work_mem"], "7MB")
        with self.assertRaises(pglift.InvalidSpec) as bad:  # the text is checked by the call
            ctx.configure_text_async("pylogs", "include 'x.conf'\n", 24)
        self.assertEqual(bad.exception.field, "line 1")
        path = ctx.log_file("pylogs")
        self.assertTrue(os.path.isfile(path), f"log_file: {path}")
        self.assertEqual(self._wait(ctx.log_file_async("pylogs", 25)), path)
        with self.assertRaises(pglift.StateError):
            self._wait(ctx.patroni_credentials_async("pylogs", 26))
        with self.assertRaises(pglift.StateError):
            self._wait(ctx.patroni_config_async("pylogs", 27))
        with self.assertRaises(pglift.StateError):
            ctx.patroni_config("pylogs")
        done = {e.tag for e in ctx.events() if e.kind == pglift.EVENT_OP_DONE}
        self.assertLessEqual({20, 21, 22, 23, 25}, done, "an op's OP_DONE is missing")

    def _logs(self, ctx: pglift.Context) -> None:
        dbs = Databases(ctx, "pylogs")
        with ctx.follow_logs("pylogs") as stream:
            dbs.run("SELECT 'py-follow-marker'", databases=["postgres"])
            self.assertIn(MARKER, read_until(stream, MARKER, 30), "follow_logs did not see the statement")
            self.assertFalse(stream.ended)
        self.assertEqual(stream.state, pglift.OP_CANCELLED, "leaving the with block did not cancel the stream")
        self.assertEqual(ctx.open_streams, 0)
        self.assertIn(MARKER, ctx.logs("pylogs"))
        # Not followed: the current content, then the iterator ends (SUCCEEDED).
        unfollowed = ctx.follow_logs("pylogs", follow=False)
        self.assertIn(MARKER, "".join(unfollowed))
        self.assertEqual((unfollowed.ended, unfollowed.state), (True, pglift.OP_SUCCEEDED))
        # break: the dropped iterator cancels its op; none of its items reaches next_event.
        for chunk in ctx.follow_logs("pylogs"):
            self.assertTrue(chunk)
            break
        self.assertEqual(ctx.open_streams, 0, "break did not close the stream")
        dbs.run("SELECT 'after-break'", databases=["postgres"])
        self.assertFalse([e for e in ctx.events() if e.kind == pglift.EVENT_DATA], "a closed stream's items leaked")
        # A stream and a raw event consumer share the context: each gets its own.
        with ctx.follow_logs("pylogs", tag=77) as stream:
            op = ctx.get_async("pylogs", 78)
            self.assertEqual(stream.tag, 77)
            dbs.run("SELECT 'py-follow-marker'", databases=["postgres"])
            self.assertIn(MARKER, read_until(stream, MARKER, 30))
            done = ctx.next_event(30)
            while done is not None and done.kind != pglift.EVENT_OP_DONE:
                done = ctx.next_event(30)
            self.assertEqual((done.kind, done.tag), (pglift.EVENT_OP_DONE, 78), "the get's OP_DONE was lost")
            op.close()
        # Two threads, a stream each, on one context: each gets all of its own items (the file holds the line).
        dbs.run("SELECT 'py-thread-marker'", databases=["postgres"])
        seen: dict[int, str] = {}

        def follow(n: int) -> None:
            with ctx.follow_logs("pylogs") as mine:
                seen[n] = read_until(mine, "'py-thread-marker'", 30)

        threads = [threading.Thread(target=follow, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(seen), [0, 1, 2], "a thread's stream did not end")
        for n, text in seen.items():
            self.assertIn("'py-thread-marker'", text, f"thread {n}")
            self.assertIn(MARKER, text, f"thread {n}: the earlier lines")
        self.assertEqual(ctx.open_streams, 0)
        # Failures end the iteration with the op's error: a plain instance has no cluster to watch.
        with ctx.watch_cluster("pylogs") as watch:
            with self.assertRaises(pglift.StateError):
                watch.get(30)
            self.assertEqual((watch.ended, watch.state), (True, pglift.OP_FAILED))

    def test_asyncio_streams(self) -> None:
        asyncio.run(self._aio(free_port()))

    async def _aio(self, port: int) -> None:
        async with pglift.aio.Context(on_event=None) as ctx:
            await ctx.create({"name": "pyalogs", "port": port, "settings": {"log_statement": "all"}})
            dbs = Databases(ctx.sync, "pyalogs")
            try:
                self.assertEqual(await ctx.parameters("pyalogs"), ctx.sync.parameters("pyalogs"))
                text = await ctx.parameters_text("pyalogs")
                self.assertIn("port = ", text)
                changed = await ctx.configure_text("pyalogs", text + "work_mem = '9MB'\n")
                self.assertEqual(changed["changes"], {"work_mem": [None, "9MB"]})
                self.assertEqual(await ctx.log_file("pyalogs"), ctx.sync.log_file("pyalogs"))
                with self.assertRaises(pglift.StateError):
                    await ctx.patroni_config("pyalogs")

                seen = ""
                async with ctx.follow_logs("pyalogs") as stream:
                    await asyncio.to_thread(dbs.run, "SELECT 'py-follow-marker'", databases=["postgres"])

                    async def until_marker() -> None:
                        nonlocal seen
                        async for chunk in stream:
                            seen += chunk
                            if MARKER in seen:
                                return

                    await asyncio.wait_for(until_marker(), 30)
                self.assertIn(MARKER, seen)
                self.assertEqual(stream.state, pglift.OP_CANCELLED)
                self.assertIn(MARKER, await ctx.logs("pyalogs"))
                # Cancelling the task that awaits an item cancels the op.
                stream = ctx.follow_logs("pyalogs")
                got_one = asyncio.Event()

                async def drain() -> None:
                    async for _ in stream:
                        got_one.set()

                task = asyncio.create_task(drain())
                await asyncio.wait_for(got_one.wait(), 30)  # it is reading: the log is not empty
                task.cancel()
                with self.assertRaises(asyncio.CancelledError):
                    await task
                self.assertTrue(stream.ended, "the cancelled task left its stream open")
                self.assertEqual(ctx.open_streams, 0)
                async for _ in ctx.follow_logs("pyalogs"):
                    break
                self.assertEqual(ctx.open_streams, 0, "break did not close the stream")
            finally:
                await ctx.drop("pyalogs")


if __name__ == "__main__":
    unittest.main()
