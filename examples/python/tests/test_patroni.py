"""A Patroni pair through the Python binding: the topology operations of the blocking Context and of the
asyncio Context (pglift.aio), on one leader and one replica on loopback.

Needs a private etcd: run through tests/capi/with_prefix.sh with LIBPGLIFT_TEST_WITH_ETCD=1 (which exports
LIBPGLIFT_TEST_ETCD); skipped otherwise.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import unittest

import pglift
import pglift.aio

PREFIX = os.environ.get("LIBPGLIFT_TEST_PREFIX", "")
ETCD = os.environ.get("LIBPGLIFT_TEST_ETCD")
MEMBERS = {"pytopo1": "127.0.1.1", "pytopo2": "127.0.1.2"}
OTHER = {"pytopo1": "pytopo2", "pytopo2": "pytopo1"}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@unittest.skipUnless(ETCD, "no etcd: run through tests/capi/with_prefix.sh with LIBPGLIFT_TEST_WITH_ETCD=1")
class PatroniPairTest(unittest.TestCase):
    def setUp(self) -> None:
        self.cluster = f"pytopo{os.getpid()}"
        self.settings = {"prefix": PREFIX, "run_prefix": PREFIX + "/run",
                         "patroni": {"etcd": {"hosts": [ETCD]}, "loop_wait": 2, "ttl": 10, "retry_timeout": 3,
                                     "create_timeout": 120}}
        self.ctx = pglift.Context(self.settings)
        self.addCleanup(self.ctx.close)
        self.created: list[str] = []
        self.addCleanup(self._drop_all)
        for name, host in MEMBERS.items():
            api = f"{host}:{free_port(host)}"
            got = self.ctx.create({"name": name, "port": free_port(),
                                   "patroni": {"cluster": self.cluster, "node": name,
                                               "restapi": {"connect_address": api, "listen": api},
                                               "postgresql": {"connect_host": host}}})
            self.created.append(name)
            self.assertEqual((got.patroni["cluster"], got.patroni["node"]), (self.cluster, name))

    def _drop_all(self) -> None:  # the replica first, the last member with its cluster's keys
        while self.created:
            name = self.created.pop()
            try:
                self.ctx.drop(name, remove_cluster=not self.created)
            except pglift.Error as e:
                print(f"cleanup: drop {name}: {e}")

    def settled(self, member: str) -> str:
        """Polls get until one member leads and the other is a running replica (a former leader rejoins
        within seconds; while it restarts, its get may fail); returns the leader."""
        deadline, last = time.monotonic() + 90, None
        while time.monotonic() < deadline:
            try:
                last = self.ctx.get(member).patroni["cluster_members"]
            except pglift.Error as e:
                last = e
            else:
                leaders = [m["name"] for m in last if m["role"] == "leader"]
                replicas = [m for m in last if m["role"] == "replica" and m["state"] in ("streaming", "running")]
                if len(leaders) == 1 and len(replicas) == 1:
                    return leaders[0]
            time.sleep(0.2)  # polling a cluster that converges by itself
        self.fail(f"no leader with a running replica after 90 s: {last}")

    def test_topology_blocking_then_asyncio(self) -> None:
        ctx = self.ctx
        self.assertEqual(self.settled("pytopo2"), "pytopo1")
        status = ctx.status("pytopo2")
        self.assertEqual((status.running, status.patroni["state"], status.patroni["orphan_postmaster"]),
                         (True, "running", False))

        self._config_and_cluster()

        # Blocking, watched: the switchover is seen in etcd's order.
        with ctx.watch_cluster("pytopo1") as watch:
            current = self.watch_until(watch, lambda e: e.kind == "leader_changed", 30)
            self.assertIn(("member_added", "pytopo1"), [(e.kind, e.member) for e in current])
            self.assertIn(("member_added", "pytopo2"), [(e.kind, e.member) for e in current])
            self.assertEqual((current[-1].member, current[-1].before, current[-1].after), ("pytopo1", None, "pytopo1"))
            self.assertEqual(ctx.switchover("pytopo1", candidate="pytopo2"),
                             {"previous_leader": "pytopo1", "new_leader": "pytopo2", "scheduled": False})
            changes = self.watch_until(watch, lambda e: e.kind == "role_changed" and e.member == "pytopo2", 60)
            seen = [(e.kind, e.member, e.before, e.after) for e in changes]
            released = seen.index(("leader_changed", "pytopo1", "pytopo1", None))
            taken = seen.index(("leader_changed", "pytopo2", None, "pytopo2"))
            self.assertLess(released, taken, f"watch: {seen}")
            self.assertLess(taken, len(seen) - 1, f"watch: the role changed before the lock was taken: {seen}")
            revisions = [e.revision for e in current + changes]
            self.assertEqual(revisions, sorted(revisions), "revisions out of order")
        self.assertEqual(watch.state, pglift.OP_CANCELLED)
        self.assertEqual(ctx.open_streams, 0)
        self.assertEqual(self.settled("pytopo1"), "pytopo2")
        ctx.pause("pytopo1")
        self.assertIs(ctx.get("pytopo2").patroni["is_paused"], True)
        ctx.resume("pytopo2")
        self.assertIs(ctx.get("pytopo1").patroni["is_paused"], False)
        with self.assertRaises(pglift.InvalidSpec) as cm:
            ctx.failover("pytopo1", "nosuch")
        self.assertEqual(cm.exception.field, "candidate")
        self.assertTrue(os.path.getsize(ctx.patroni_log_file("pytopo1")) > 0, "an empty Patroni log")

        # asyncio, on the same pair.
        asyncio.run(self._aio())

        # The cluster's keys outlive its members (dropped without remove_cluster) until removed.
        leader = self.settled("pytopo1")
        for name in (OTHER[leader], leader):
            ctx.drop(name)
            self.created.remove(name)
        self.assertEqual(ctx.cluster_from_dcs(self.cluster).name, self.cluster, "the drops left no key")
        ctx.cluster_remove(self.cluster)
        with self.assertRaises(pglift.NotFound):
            ctx.cluster_from_dcs(self.cluster)

    def watch_until(self, watch: pglift.Stream, done, seconds: float) -> list[pglift.ClusterEvent]:
        """The watch's events up to the first for which done(event), within ``seconds``."""
        events, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            event = watch.get(left)
            if event is None:
                break
            self.assertIsInstance(event, pglift.ClusterEvent)
            events.append(event)
            if done(event):
                return events
        self.fail(f"watch: not seen within {seconds} s: {events}")

    def _config_and_cluster(self) -> None:
        """pytopo1 leads, pytopo2 streams from it."""
        ctx = self.ctx
        # The configuration: secrets redacted, never the credentials' passwords.
        config = ctx.patroni_config("pytopo2")
        self.assertEqual((config["scope"], config["name"]), (self.cluster, "pytopo2"))
        credentials = ctx.patroni_credentials("pytopo2")
        passwords = [c["password"] for c in credentials.values() if c.get("password")]
        self.assertTrue(passwords, f"no password among the credentials' {sorted(credentials)}")
        text = json.dumps(config)
        for password in passwords:
            self.assertNotIn(password, text, "patroni_config shows a password")
        self.assertIn('"**********"', text)
        # validate: the member's own document is valid; a value PostgreSQL refuses is an issue naming it.
        validation = ctx.patroni_config_validate("pytopo2", config)
        self.assertTrue(validation.valid, f"the member's own configuration: {validation}")
        bad = json.loads(text)
        bad["postgresql"].setdefault("parameters", {})["work_mem"] = "lots"
        validation = ctx.patroni_config_validate("pytopo2", bad)
        self.assertFalse(validation)
        self.assertIn("postgresql.parameters.work_mem", [i.field for i in validation.issues], f"{validation}")
        for password in passwords:
            self.assertNotIn(password, str(validation))
        with self.assertRaises(pglift.InvalidSpec) as refused:
            ctx.patroni_config_set("pytopo2", bad)
        self.assertTrue(refused.exception.field.endswith("work_mem"), f"field: {refused.exception.field}")
        # set: a parameter, the secrets kept (a redacted one means "the current one").
        good = json.loads(text)
        good["postgresql"].setdefault("parameters", {})["work_mem"] = "12MB"
        ctx.patroni_config_set("pytopo2", good)
        self.assertEqual(ctx.patroni_config("pytopo2")["postgresql"]["parameters"]["work_mem"], "12MB")
        self.assertEqual(ctx.parameters("pytopo2")["work_mem"], "12MB")
        self.assertEqual(ctx.patroni_credentials("pytopo2"), credentials, "set changed the credentials")
        op = ctx.patroni_config_validate_async("pytopo2", good, 30)
        self.assertTrue(op.wait(90))
        self.assertTrue(op.result().valid)
        op.close()
        ctx.reload("pytopo2")

        # The cluster as a whole: through a member's REST API, and from the DCS.
        cluster = ctx.cluster("pytopo2")
        self.assertIsInstance(cluster, pglift.Cluster)
        self.assertEqual((cluster.name, cluster.leader, cluster.source), (self.cluster, "pytopo1", "rest"))
        self.assertTrue(str(cluster.local_member).endswith("/pytopo2"), f"local_member: {cluster.local_member}")
        self.assertEqual(sorted(m.name for m in cluster.members), ["pytopo1", "pytopo2"])
        self.assertEqual(cluster.member("pytopo1").role, "leader")
        self.assertEqual([m.name for m in cluster.replicas], ["pytopo2"])
        self.assertIsNone(cluster.dcs_error)
        from_dcs = ctx.cluster_from_dcs(self.cluster)
        self.assertEqual((from_dcs.source, from_dcs.leader), ("dcs", "pytopo1"))
        with self.assertRaises(pglift.InvalidSpec) as bad_name:
            ctx.cluster_from_dcs("no/such")
        self.assertEqual(bad_name.exception.field, "cluster")

        # Restart of the replica through its Patroni: a new postmaster.
        pid = ctx.status("pytopo2").pid
        ctx.cluster_restart("pytopo1", "pytopo2")
        self.assertNotEqual(ctx.status("pytopo2").pid, pid, "cluster_restart left the replica's postmaster")
        with self.assertRaises(pglift.InvalidSpec) as not_member:
            ctx.cluster_restart("pytopo1", "nosuch")
        self.assertEqual(not_member.exception.field, "member")
        op = ctx.cluster_async("pytopo1", 31)
        self.assertTrue(op.wait(60))
        self.assertEqual(op.result().leader, "pytopo1")
        op.close()
        # Reinit of the replica: its data cloned anew; the op's result is the cluster once it streams again.
        with self.assertRaises(pglift.StateError):
            ctx.cluster_reinit("pytopo2", "pytopo1")
        op = ctx.cluster_reinit_async("pytopo1", "pytopo2", 32)
        self.assertTrue(op.wait(300), "reinit did not end within 300 s")
        self.assertEqual(op.result().member("pytopo2").health, "streaming")
        op.close()
        self.assertEqual(self.settled("pytopo2"), "pytopo1")

    async def _aio(self) -> None:
        async with pglift.aio.Context(self.settings, on_event=None) as actx:
            leader = self.settled("pytopo1")
            cluster = await actx.cluster("pytopo1")
            self.assertEqual(cluster.leader, leader)
            config = await actx.patroni_config(OTHER[leader])
            self.assertTrue((await actx.patroni_config_validate(OTHER[leader], config)).valid)
            watch = actx.watch_cluster("pytopo1")
            result = await actx.switchover("pytopo2", OTHER[leader])
            self.assertEqual(result, {"previous_leader": leader, "new_leader": OTHER[leader], "scheduled": False})
            async with watch:
                async def taken() -> None:
                    async for event in watch:
                        if (event.kind, event.after) == ("leader_changed", OTHER[leader]):
                            return

                await asyncio.wait_for(taken(), 60)
            self.assertEqual((watch.state, actx.open_streams), (pglift.OP_CANCELLED, 0))
            self.assertEqual(self.settled("pytopo1"), OTHER[leader])
            restarted = await actx.cluster_restart("pytopo1", leader)  # the former leader, a replica now
            self.assertIsInstance(restarted, pglift.Cluster)
            self.assertEqual(restarted.leader, OTHER[leader])
            leader = OTHER[leader]
            self.assertEqual(self.settled("pytopo1"), leader)
            await actx.pause("pytopo2")
            self.assertIs((await actx.get("pytopo1")).patroni["is_paused"], True)
            await actx.resume("pytopo1")
            self.assertIs((await actx.get("pytopo2")).patroni["is_paused"], False)
            result = await actx.failover("pytopo1", OTHER[leader])
            self.assertEqual((result["previous_leader"], result["new_leader"]), (leader, OTHER[leader]))
            leader = OTHER[leader]
            self.assertEqual(self.settled("pytopo2"), leader)
            await actx.promote(OTHER[leader])
            leader = OTHER[leader]
            self.assertEqual(self.settled("pytopo2"), leader, "the asyncio promotion did not hold")
            changed = await actx.configure("pytopo1", {"work_mem": "6MB"})
            self.assertEqual(changed["changes"], {"work_mem": [None, "6MB"]})
            self.assertTrue(os.path.exists(await actx.patroni_log_file("pytopo2")))


if __name__ == "__main__":
    unittest.main()
