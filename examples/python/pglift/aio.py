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
from typing import TYPE_CHECKING, Any, Callable

from . import context as sync
from ._native import EVENT_LOG, EVENT_OP_DONE
from .models import Event, Instance, InstanceListItem, InstanceStatus

if TYPE_CHECKING:
    from .roles import AioRoles


def log_event(event: Event) -> None:
    """The default ``on_event``: log records to ``logging.getLogger(target)``; progress ignored."""
    if event.kind == EVENT_LOG:
        logging.getLogger(event.target or "pglift").log(event.level, "%s", event.message)


class Context:
    """An asyncio face over a :class:`pglift.Context`; use it from one event loop."""

    def __init__(self, settings: dict[str, Any] | str | None = None, *, log_level: int = sync.INFO,
                 on_event: Callable[[Event], None] | None = log_event) -> None:
        self.sync = sync.Context(settings, log_level=log_level)
        self._on_event = on_event
        self._tags = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.sync.event_fd, self._drain)

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

    def _drain(self) -> None:
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
        """Reads a file name only: answered at once, without a thread."""
        return self.sync.patroni_log_file(instance)

    # --- roles
    @property
    def roles(self) -> "AioRoles":
        """The role operations (see :mod:`pglift.roles`)."""
        from .roles import AioRoles

        return AioRoles(self)
    # --- end roles
