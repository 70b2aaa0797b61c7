"""asyncio: await libpglift operations without threads.

The context's event fd is watched with ``loop.add_reader``; when it is readable the queue is drained:
OP_DONE events resolve the future of their tag, log and progress events go to ``on_event`` (by default,
log records to the ``logging`` module under their target's name). Nothing runs on library threads.

    async with pglift.aio.Context() as ctx:
        instance = await ctx.create({"name": "main", "port": 5433})
        await ctx.restart("15/main")
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

from . import context as sync
from . import errors
from ._native import EVENT_LOG, EVENT_OP_DONE, OP_CANCELLED, OP_PENDING, OP_SUCCEEDED, lib
from .models import Cluster, ClusterEvent, ConfigValidation, Event, Instance, InstanceListItem, InstanceStatus

if TYPE_CHECKING:
    from .roles import AioRoles


def log_event(event: Event) -> None:
    """The default ``on_event``: log records to ``logging.getLogger(target)``; progress ignored."""
    if event.kind == EVENT_LOG:
        logging.getLogger(event.target or "pglift").log(event.level, "%s", event.message)


T = TypeVar("T")


class _Inbox(sync._Buffer):
    """What the context holds of an open stream (not the stream: dropping it closes it at once): the
    blocking context's buffer (DATA events kept as C handles, bounded by the window), which wakes the
    stream's reader. Filled by the blocking context's routing as the loop drains the queue."""

    def __init__(self, ctx: sync.Context) -> None:
        super().__init__(ctx)
        self.waiter: asyncio.Future[None] | None = None

    def push(self, item: int | Event) -> None:
        super().push(item)
        self.wake()

    def wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class AsyncStream(Generic[T]):
    """The items of a streaming op as an async iterator (``async for chunk in ctx.follow_logs("main")``),
    in order, none lost. It ends when the op ends (a failure raised) or once ``aclose()`` cancelled it;
    cancelling the task that awaits an item, dropping the stream (``break``) or leaving its ``async with``
    block cancels the op. Bounded as :class:`pglift.Stream`: at most the context's stream window of items
    is held (``buffered``), each as the library's event until it is taken; a stream nobody reads stops
    by itself while the context's other ops go on."""

    def __init__(self, actx: "Context", op: sync.Op, decode_item: Callable[[str], T]) -> None:
        self._actx, self._op, self._decode = actx, op, decode_item
        self.tag: int = op.tag
        self._inbox = _Inbox(actx.sync)
        self._error: errors.Error | None = None
        self.state = OP_PENDING  # once ended: OP_SUCCEEDED, OP_FAILED or OP_CANCELLED
        self._closed = False

    @property
    def ended(self) -> bool:
        return self._closed

    @property
    def buffered(self) -> int:
        """How many items are held for the reader (at most the stream's window)."""
        with self._actx.sync._cond:
            return self._inbox.kept

    def __aiter__(self) -> "AsyncStream[T]":
        return self

    async def __anext__(self) -> T:
        return await self._next(drop=False)

    async def _next(self, drop: bool) -> T:
        """The next item; with ``drop``, frees the items instead until the end (StopAsyncIteration)."""
        while True:
            text: str | None = None
            with self._actx.sync._cond:  # the buffer's lock (a closing context frees it from a thread)
                while text is None and self._inbox.items:
                    item = self._inbox.pop()
                    if isinstance(item, Event):
                        self._finish()  # its OP_DONE, after every DATA
                    elif drop:
                        lib.pglift_event_free(item)
                    else:
                        text = sync._take_message(item)  # freed: the window has room for one more
            if text is not None:
                return self._decode(text)
            if self._actx._ended_by_close(self):
                continue  # the context was closed: so was the op
            if self._closed:
                if self._error is not None:
                    err, self._error = self._error, None
                    raise err
                raise StopAsyncIteration
            self._inbox.waiter = self._actx._loop.create_future()
            try:
                await self._inbox.waiter
            except asyncio.CancelledError:
                self.close_now()  # the awaiting task was cancelled: so is the op
                raise
            finally:
                self._inbox.waiter = None

    def _finish(self) -> None:
        self.state = self._op.state
        if self.state not in (OP_SUCCEEDED, OP_CANCELLED):
            self._error = self._op.error()
        self._release(discard=False)

    def _release(self, discard: bool) -> None:
        sctx = self._actx.sync
        with sctx._cond:
            self._closed = True
            if self._actx._streams.get(self.tag) is self._inbox:
                del self._actx._streams[self.tag]
            if sctx._streams.get(self.tag) is self._inbox:
                del sctx._streams[self.tag]
                if discard and not self._inbox.has_done():
                    sctx._discard.add(self.tag)  # its remaining DATA and OP_DONE are dropped as they come
            self._inbox.clear()
            self._op.close()
        self._inbox.wake()

    def close_now(self) -> None:
        """Cancels and frees the op without waiting for its end (``state`` then stays as it was seen)."""
        if not self._closed:
            self._op.cancel()
            self.state = self._op.state
            self._release(discard=True)

    async def aclose(self) -> None:
        """Cancels the op and waits for its end (``state``); items not yet taken are freed."""
        if self._closed:
            return
        self._op.cancel()
        self._error = None
        try:
            await self._next(drop=True)
        except StopAsyncIteration:
            pass
        except errors.Error:  # it failed before the cancel took effect: it ended all the same
            pass

    async def __aenter__(self) -> "AsyncStream[T]":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        try:
            self.close_now()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass


class Context:
    """An asyncio face over a :class:`pglift.Context`; use it from one event loop."""

    def __init__(self, settings: dict[str, Any] | str | None = None, *, log_level: int = sync.INFO,
                 on_event: Callable[[Event], None] | None = log_event, stream_window: int | None = None) -> None:
        """``stream_window``: as :class:`pglift.Context`'s (:meth:`set_stream_window`)."""
        self.sync = sync.Context(settings, log_level=log_level, stream_window=stream_window)
        self._on_event = on_event
        self._tags = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self._streams: dict[int, _Inbox] = {}  # tag -> the inbox of an open stream (also in self.sync._streams)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.sync.event_fd, self._drain)

    def _ended_by_close(self, stream: AsyncStream[Any]) -> bool:
        """Ends ``stream`` (True) if the context was closed under it."""
        if stream._closed or self.sync._handle is not None:
            return False
        stream._finish()
        return True

    async def __aenter__(self) -> "Context":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Frees the context: pending ops are cancelled and reverted (in a thread: that may take a
        while), then their futures end."""
        if self.sync._handle is None:
            return
        self._loop.remove_reader(self.sync.event_fd)
        await asyncio.to_thread(self.sync.close)
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_result(None)
        self._waiting.clear()
        inboxes = list(self._streams.values())
        self._streams.clear()  # the ops of open streams were cancelled with the context: they end
        for inbox in inboxes:
            inbox.wake()

    def _drain(self) -> None:
        # The blocking context routes the events of streams to their inboxes (waking their readers) and
        # drops those of closed streams; the others come here.
        while (event := self.sync.next_event(0)) is not None:
            if event.kind == EVENT_OP_DONE:
                fut = self._waiting.pop(event.tag, None)
                if fut is not None and not fut.done():
                    fut.set_result(None)
            elif self._on_event is not None:
                self._on_event(event)

    async def _run(self, start: Callable[[int], sync.Op]) -> Any:
        tag = next(self._tags)
        op = start(tag)  # raises if the call fails: then nothing will come for this tag
        fut = self._loop.create_future()
        self._waiting[tag] = fut
        try:
            try:
                await asyncio.shield(fut)
            except asyncio.CancelledError:
                # Cancelling the task cancels the op, and waits for its revert before going on.
                op.cancel()
                await fut
                raise
            return op.result()
        finally:
            op.close()

    async def create(self, spec: dict[str, Any] | str, *, keep_on_error: bool = False) -> Instance:
        return await self._run(lambda tag: self.sync.create_async(spec, tag, keep_on_error=keep_on_error))

    async def get(self, instance: str) -> Instance:
        return await self._run(lambda tag: self.sync.get_async(instance, tag))

    async def list(self, version: str | None = None) -> list[InstanceListItem]:
        return await self._run(lambda tag: self.sync.list_async(version, tag))

    async def status(self, instance: str) -> InstanceStatus:
        return await self._run(lambda tag: self.sync.status_async(instance, tag))

    async def env(self, instance: str) -> dict[str, str]:
        return await self._run(lambda tag: self.sync.env_async(instance, tag))

    async def start(self, instance: str, *, accept_data_loss: bool = False) -> None:
        await self._run(lambda tag: self.sync.start_async(instance, tag, accept_data_loss=accept_data_loss))

    async def stop(self, instance: str, mode: int = sync.FAST) -> None:
        await self._run(lambda tag: self.sync.stop_async(instance, tag, mode))

    async def restart(self, instance: str, mode: int = sync.FAST) -> None:
        await self._run(lambda tag: self.sync.restart_async(instance, tag, mode))

    async def reload(self, instance: str) -> None:
        await self._run(lambda tag: self.sync.reload_async(instance, tag))

    async def drop(self, instance: str, *, remove_cluster: bool = False, dcs_unreachable_ok: bool = False) -> None:
        await self._run(lambda tag: self.sync.drop_async(instance, tag, remove_cluster=remove_cluster,
                                                         dcs_unreachable_ok=dcs_unreachable_ok))

    async def configure(self, instance: str, changes: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """As :meth:`pglift.Context.configure`."""
        return await self._run(lambda tag: self.sync.configure_async(instance, changes, tag, dry_run=dry_run))

    # Patroni: as the blocking Context's; each returns once the library observed the outcome.
    async def switchover(self, instance: str, candidate: str | None = None,
                         scheduled_at: str | None = None) -> dict[str, Any]:
        """{"previous_leader", "new_leader", "scheduled"} once the new leader is observed."""
        return await self._run(lambda tag: self.sync.switchover_async(instance, tag, candidate, scheduled_at))

    async def failover(self, instance: str, candidate: str) -> dict[str, Any]:
        return await self._run(lambda tag: self.sync.failover_async(instance, candidate, tag))

    async def pause(self, instance: str, pause: bool = True) -> None:
        await self._run(lambda tag: self.sync.pause_async(instance, tag, pause))

    async def resume(self, instance: str) -> None:
        await self.pause(instance, False)

    async def promote(self, instance: str) -> None:
        await self._run(lambda tag: self.sync.promote_async(instance, tag))

    async def patroni_log_file(self, instance: str) -> str:
        return await self._run(lambda tag: self.sync.patroni_log_file_async(instance, tag))

    async def patroni_credentials(self, instance: str) -> dict[str, Any]:
        """RETURNS SECRETS: as :meth:`pglift.Context.patroni_credentials`."""
        return await self._run(lambda tag: self.sync.patroni_credentials_async(instance, tag))

    async def parameters(self, instance: str) -> dict[str, Any]:
        return await self._run(lambda tag: self.sync.parameters_async(instance, tag))

    async def parameters_text(self, instance: str) -> str:
        return await self._run(lambda tag: self.sync.parameters_text_async(instance, tag))

    async def configure_text(self, instance: str, text: str, *, dry_run: bool = False) -> dict[str, Any]:
        """As :meth:`pglift.Context.configure_text`."""
        return await self._run(lambda tag: self.sync.configure_text_async(instance, text, tag, dry_run=dry_run))

    async def log_file(self, instance: str) -> str:
        return await self._run(lambda tag: self.sync.log_file_async(instance, tag))

    # A Patroni member's configuration: as the blocking Context's.
    async def patroni_config(self, instance: str) -> dict[str, Any]:
        return await self._run(lambda tag: self.sync.patroni_config_async(instance, tag))

    async def patroni_config_set(self, instance: str, config: dict[str, Any] | str) -> None:
        await self._run(lambda tag: self.sync.patroni_config_set_async(instance, config, tag))

    async def patroni_config_validate(self, instance: str, config: dict[str, Any] | str) -> ConfigValidation:
        return await self._run(lambda tag: self.sync.patroni_config_validate_async(instance, config, tag))

    # Patroni clusters: each operation returns the Cluster as observed after it.
    async def cluster(self, instance: str) -> Cluster:
        return await self._run(lambda tag: self.sync.cluster_async(instance, tag))

    async def cluster_from_dcs(self, name: str) -> Cluster:
        return await self._run(lambda tag: self.sync.cluster_from_dcs_async(name, tag))

    async def cluster_restart(self, instance: str, member: str | None = None) -> Cluster:
        return await self._run(lambda tag: self.sync.cluster_restart_async(instance, tag, member))

    async def cluster_reinit(self, instance: str, member: str) -> Cluster:
        return await self._run(lambda tag: self.sync.cluster_reinit_async(instance, member, tag))

    async def cluster_remove(self, instance_or_name: str) -> Cluster:
        return await self._run(lambda tag: self.sync.cluster_remove_async(instance_or_name, tag))

    # Streams.
    @property
    def open_streams(self) -> int:
        """How many streams of this context are neither ended nor closed."""
        return len(self._streams)

    def set_stream_window(self, window: int) -> None:
        """As :meth:`pglift.Context.set_stream_window`."""
        self.sync.set_stream_window(window)

    def _stream(self, start: Callable[[int], sync.Op], decode_item: Callable[[str], Any]) -> AsyncStream[Any]:
        with self.sync._cond:  # registered before the loop runs _drain again: no item is missed
            stream = AsyncStream(self, start(next(self._tags)), decode_item)
            self._streams[stream.tag] = stream._inbox
            self.sync._streams[stream.tag] = stream._inbox
        return stream

    def follow_logs(self, instance: str, *, follow: bool = True) -> AsyncStream[str]:
        """As :meth:`pglift.Context.follow_logs`: ``async for chunk in ctx.follow_logs("main")``."""
        return self._stream(lambda tag: self.sync.logs_async(instance, tag, follow=follow), str)

    def watch_cluster(self, instance: str) -> AsyncStream[ClusterEvent]:
        """As :meth:`pglift.Context.watch_cluster`: ``async for event in ctx.watch_cluster("pg1")``."""
        return self._stream(lambda tag: self.sync.watch_cluster_async(instance, tag), ClusterEvent.from_json)

    async def logs(self, instance: str) -> str:
        """The current log file's text (read as a stream that is not followed: no thread)."""
        async with self.follow_logs(instance, follow=False) as stream:
            return "".join([chunk async for chunk in stream])

    # --- roles
    @property
    def roles(self) -> "AioRoles":
        """The role operations (see :mod:`pglift.roles`)."""
        from .roles import AioRoles

        return AioRoles(self)
    # --- end roles
