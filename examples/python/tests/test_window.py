"""The stream window (PGLIFT_HAS_STREAM_WINDOW): a stream holds at most W items for its reader, each kept
as the library's event until taken; one left unread stops by itself while other ops complete (blocking
and asyncio); reading it then gives every line once, in order; closing it frees what it holds."""

from __future__ import annotations

import asyncio
import socket
import time
import unittest
from typing import Callable

import pglift
from pglift.databases import Databases

W = 4  # a small window: 3 * W + 2 statements are logged while the stream is not read
NAME = "pywin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def markers(prefix: str) -> list[str]:
    return [f"'{prefix}-{i:02d}'" for i in range(3 * W + 2)]


def pump_until(ctx: pglift.Context, ready: Callable[[], bool], seconds: float) -> bool:
    """Takes the context's events (as any next_event caller does, which routes stream items to their
    stream) until ready() or ``seconds`` passed; each wait is short, so ready() is checked often."""
    deadline = time.monotonic() + seconds
    while not ready() and time.monotonic() < deadline:
        ctx.next_event(0.02)
    return ready()


def in_file(ctx: pglift.Context, marker: str, seconds: float) -> bool:
    """Whether the log file holds ``marker`` within ``seconds`` (the logging collector writes a bit later)."""
    deadline = time.monotonic() + seconds
    while marker not in ctx.logs(NAME):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class WindowTest(unittest.TestCase):
    def test_bad_window(self) -> None:
        with self.assertRaises(pglift.InvalidSpec) as bad:
            pglift.Context(stream_window=0)
        self.assertEqual(bad.exception.field, "window")
        with pglift.Context(stream_window=1) as ctx:
            for value in (0, -1, 2.5, True):
                with self.assertRaises(pglift.InvalidSpec, msg=repr(value)) as bad:
                    ctx.set_stream_window(value)  # type: ignore[arg-type]
                self.assertEqual(bad.exception.field, "window", repr(value))
            ctx.set_stream_window(1000)

    def test_unread_stream_is_bounded(self) -> None:
        with pglift.Context(stream_window=W) as ctx:
            ctx.create({"name": NAME, "port": free_port(), "settings": {"log_statement": "all"}})
            try:
                self._blocking(ctx)
                asyncio.run(self._asyncio())
            finally:
                ctx.drop(NAME)

    def _check_lines(self, text: str, expected: list[str]) -> None:
        previous = -1
        for marker in expected:
            self.assertEqual(text.count(marker), 1, f"{marker} not once in:\n{text}")
            self.assertGreater(text.index(marker), previous, f"{marker} out of order")
            previous = text.index(marker)

    def _blocking(self, ctx: pglift.Context) -> None:
        dbs = Databases(ctx, NAME)
        lines = markers("win")

        def fill(stream: pglift.Stream, statements: list[str]) -> None:
            """One statement at a time; while the window has room, each one's item is awaited."""
            for marker in statements:
                dbs.run(f"SELECT {marker}", databases=["postgres"])
                before = stream.buffered
                if before < W:
                    pump_until(ctx, lambda: stream.buffered > before, 10)
            self.assertTrue(in_file(ctx, statements[-1], 10), "the last statement is not in the log file")

        stream = ctx.follow_logs(NAME)
        fill(stream, lines)
        self.assertTrue(pump_until(ctx, lambda: stream.buffered == W, 10), f"buffered: {stream.buffered}")
        # Other ops complete meanwhile: an async get's OP_DONE comes through the queue, a blocking get returns.
        op = ctx.get_async(NAME, 1)
        done = None
        deadline = time.monotonic() + 30
        while done is None and time.monotonic() < deadline:
            ev = ctx.next_event(1)
            if ev is not None and ev.kind == pglift.EVENT_OP_DONE and ev.tag == 1:
                done = ev
        self.assertIsNotNone(done, "the get's OP_DONE did not come while the stream was full")
        self.assertEqual(op.result().name, NAME)
        op.close()
        self.assertEqual(ctx.get(NAME).name, NAME)
        # The file holds more lines, but the stream is held at its window (the library waits for room).
        self.assertFalse(pump_until(ctx, lambda: stream.buffered > W, 1), "the window was exceeded")
        self.assertEqual((stream.buffered, stream._buffer.peak, ctx._kept_handles), (W, W, W))
        self.assertFalse(stream.ended)
        self.assertEqual(stream._op.state, pglift.OP_PENDING)
        # Reading it gives every line once, in order; it never holds more than the window meanwhile.
        text, deadline = "", time.monotonic() + 30
        while lines[-1] not in text and (left := deadline - time.monotonic()) > 0:
            text += stream.get(left) or ""
        self._check_lines(text, lines)
        self.assertLessEqual(stream._buffer.peak, W)
        stream.close()
        self.assertEqual((stream.state, ctx.open_streams, ctx._kept_handles), (pglift.OP_CANCELLED, 0, 0))

        # Closing an unread full stream ends it (cancelled) and frees what it held.
        full = ctx.follow_logs(NAME)
        fill(full, markers("full"))
        self.assertTrue(pump_until(ctx, lambda: full.buffered == W, 10), f"buffered: {full.buffered}")
        self.assertEqual(ctx._kept_handles, W)
        full.close()
        self.assertEqual((full.ended, full.state), (True, pglift.OP_CANCELLED))
        self.assertEqual((ctx.open_streams, ctx._kept_handles, full.buffered), (0, 0, 0))
        self.assertIsNone(full.get(0))
        dbs.run("SELECT 'after-close'", databases=["postgres"])
        self.assertTrue(in_file(ctx, "'after-close'", 10))
        self.assertFalse([e for e in ctx.events() if e.kind == pglift.EVENT_DATA], "a closed stream's items leaked")

    async def _asyncio(self) -> None:
        async with pglift.aio.Context(on_event=None, stream_window=W) as ctx:
            dbs = Databases(ctx.sync, NAME)

            async def until(ready: Callable[[], bool], seconds: float) -> bool:
                """Lets the loop drain the queue until ready() or ``seconds`` passed."""
                deadline = time.monotonic() + seconds
                while not ready() and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
                return ready()

            async def fill(stream: pglift.aio.AsyncStream, statements: list[str]) -> None:
                for marker in statements:
                    await asyncio.to_thread(dbs.run, f"SELECT {marker}", databases=["postgres"])
                    before = stream.buffered
                    if before < W:
                        await until(lambda: stream.buffered > before, 10)
                self.assertTrue(await asyncio.to_thread(in_file, ctx.sync, statements[-1], 10))

            lines = markers("awin")
            stream = ctx.follow_logs(NAME)
            await fill(stream, lines)
            self.assertTrue(await until(lambda: stream.buffered == W, 10), f"buffered: {stream.buffered}")
            instance = await asyncio.wait_for(ctx.get(NAME), 30)  # another op completes meanwhile
            self.assertEqual(instance.name, NAME)
            self.assertFalse(await until(lambda: stream.buffered > W, 1), "the window was exceeded")
            self.assertEqual((stream.buffered, stream._inbox.peak, ctx.sync._kept_handles), (W, W, W))
            self.assertFalse(stream.ended)

            async def read() -> str:
                text = ""
                async for chunk in stream:
                    text += chunk
                    if lines[-1] in text:
                        break
                return text

            text = await asyncio.wait_for(read(), 30)
            self._check_lines(text, lines)
            self.assertLessEqual(stream._inbox.peak, W)
            await asyncio.wait_for(stream.aclose(), 30)
            self.assertEqual((stream.state, ctx.open_streams, ctx.sync._kept_handles), (pglift.OP_CANCELLED, 0, 0))

            full = ctx.follow_logs(NAME)
            await fill(full, markers("afull"))
            self.assertTrue(await until(lambda: full.buffered == W, 10), f"buffered: {full.buffered}")
            await asyncio.wait_for(full.aclose(), 30)
            self.assertEqual((full.ended, full.state), (True, pglift.OP_CANCELLED))
            self.assertEqual((ctx.open_streams, ctx.sync._kept_handles, full.buffered), (0, 0, 0))


if __name__ == "__main__":
    unittest.main()
