"""The blocking API: a Context, its instance operations, async ops and the event queue."""

from __future__ import annotations

import ctypes
import itertools
import json
import math
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterator, TypeVar

from . import errors
from ._native import (
    EVENT_DATA,
    EVENT_LOG,
    EVENT_OP_DONE,
    EVENT_PROGRESS,
    OP_CANCELLED,
    OP_PENDING,
    OP_SUCCEEDED,
    decode,
    encode,
    lib,
    take_string,
)
from .models import Cluster, ClusterEvent, ConfigValidation, Event, Instance, InstanceListItem, InstanceStatus

if TYPE_CHECKING:
    from .roles import Roles

SMART, FAST, IMMEDIATE = 0, 1, 2  # stop modes
DEBUG, INFO, WARNING, ERROR, OFF = 10, 20, 30, 40, 100  # log level thresholds
KEEP_ON_ERROR = 1  # create flag: do not revert a failed creation
START_ACCEPT_DATA_LOSS = 1  # start flag: a former Patroni leader rejoins even if committed transactions are lost
DROP_REMOVE_CLUSTER = 1  # drop flags
DROP_DCS_UNREACHABLE_OK = 2


def version() -> str:
    """The version of the loaded libpglift."""
    return decode(lib.pglift_version())


def _start_flags(accept_data_loss: bool) -> int:
    return START_ACCEPT_DATA_LOSS if accept_data_loss else 0


def _drop_flags(remove_cluster: bool, dcs_unreachable_ok: bool) -> int:
    return (DROP_REMOVE_CLUSTER if remove_cluster else 0) | (DROP_DCS_UNREACHABLE_OK if dcs_unreachable_ok else 0)


APPLY_DRY_RUN = 1 << 0  # PGLIFT_APPLY_DRY_RUN


def _apply_flags(dry_run: bool) -> int:
    return APPLY_DRY_RUN if dry_run else 0


OP_DRY_RUN = 1 << 0  # PGLIFT_OP_DRY_RUN: the flag of the _with forms of role, database and configuration writes


def _op_flags(dry_run: bool) -> int:
    return OP_DRY_RUN if dry_run else 0


def _spec_bytes(spec: dict[str, Any] | str) -> bytes:
    return (spec if isinstance(spec, str) else json.dumps(spec)).encode()


class Op:
    """An operation started by a ``*_async`` method. Thread-safe; ``close()`` (or garbage collection)
    frees it, cancelling it if still pending. ``decode`` turns the result JSON into a value."""

    def __init__(self, handle: int, decode_result: Callable[[str], Any] | None) -> None:
        self._handle: int | None = handle
        self._decode = decode_result

    @property
    def tag(self) -> int:
        return lib.pglift_op_tag(self._handle)

    @property
    def state(self) -> int:
        return lib.pglift_op_state_of(self._handle)

    @property
    def done(self) -> bool:
        return self.state != OP_PENDING

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until the op ends (True) or ``timeout`` seconds pass (False)."""
        return lib.pglift_op_wait(self._handle, -1 if timeout is None else int(timeout * 1000)) == 1

    def cancel(self) -> None:
        """Requests cancellation: a mutation reverts, then the op ends cancelled."""
        lib.pglift_op_cancel(self._handle)

    def error(self) -> errors.Error | None:
        err = lib.pglift_op_error(self._handle)
        return errors.from_handle(err, -1) if err else None

    def result(self) -> Any:
        """The decoded result of an op that ended; raises its error if it failed or was cancelled."""
        state = self.state
        if state == OP_PENDING:
            raise errors.StateError("the operation is still pending", code=-7)
        if state != OP_SUCCEEDED:
            raise self.error()
        raw = lib.pglift_op_result(self._handle)
        if self._decode is None or raw is None:
            return None
        return self._decode(raw.decode())

    def close(self) -> None:
        if self._handle is not None:
            lib.pglift_op_free(self._handle)
            self._handle = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass


def _take_event(handle: int) -> Event:
    try:
        kind = lib.pglift_event_kind_of(handle)
        return Event(
            kind=kind,
            tag=lib.pglift_event_tag(handle),
            message=decode(lib.pglift_event_message(handle)),
            level=lib.pglift_event_log_level(handle),
            target=decode(lib.pglift_event_target(handle)),
            phase=lib.pglift_event_progress_phase(handle),
            op_state=lib.pglift_event_op_state(handle),
            status=lib.pglift_event_status(handle),
        )
    finally:
        lib.pglift_event_free(handle)


def _take_message(handle: int) -> str:
    """A kept DATA event's message; the event is freed."""
    try:
        return decode(lib.pglift_event_message(handle))
    finally:
        lib.pglift_event_free(handle)


class _Buffer:
    """What the context holds of an open stream (not the stream: dropping it closes it at once): its items in
    order, each DATA event as its C handle (int), kept alive until the reader takes it, and the op's OP_DONE
    as an :class:`Event`. Kept handles count against the op's window (``Context(stream_window=W)``): the
    library holds the op back while W of them are alive, so a buffer never holds more than W items (and the
    OP_DONE). Touched only under the context's lock (``ctx._cond``)."""

    def __init__(self, ctx: "Context") -> None:
        self._ctx = ctx
        self.items: deque[int | Event] = deque()
        self.kept = 0  # DATA handles held
        self.peak = 0  # the most ever held at once (for tests)

    def push(self, item: int | Event) -> None:
        self.items.append(item)
        if not isinstance(item, Event):
            self.kept += 1
            self._ctx._kept_handles += 1
            self.peak = max(self.peak, self.kept)

    def pop(self) -> int | Event:
        """The oldest item; a handle returned is the caller's to free (``_take_message``)."""
        item = self.items.popleft()
        if not isinstance(item, Event):
            self.kept -= 1
            self._ctx._kept_handles -= 1
        return item

    def has_done(self) -> bool:
        return any(isinstance(item, Event) for item in self.items)

    def clear(self) -> None:
        """Frees the kept handles: the op's window has room again (a cancelled op can end)."""
        while self.items:
            item = self.pop()
            if not isinstance(item, Event):
                lib.pglift_event_free(item)


T = TypeVar("T")
STREAM_TAGS = 1 << 63  # the tags streams take unless given one: from 2**63 up (keep your own tags below)


class Stream(Generic[T]):
    """The items of a streaming op (``follow_logs``: str chunks of whole log lines; ``watch_cluster``:
    :class:`ClusterEvent`), in order, none lost. An iterator that ends when the op ends (a failure
    raised), or once ``close()`` cancelled it; dropping it (``break`` out of ``for x in ctx.follow_logs(i)``)
    or leaving its ``with`` block closes it. ``get(timeout)`` waits at most ``timeout`` seconds.

    While a stream waits it takes events from the context's queue: those of other ops are kept for
    :meth:`Context.next_event` / :meth:`Context.events`, which in turn route the stream's items to it, so
    streams and event loops may share a context and run in several threads (one thread per stream).

    Bounded: an item is kept as the library's event until ``get`` takes it, and the library holds a stream
    back while its window of items (``Context(stream_window=W)``, 256 by default) is alive. So a stream holds
    at most W items (``buffered``); one nobody reads stops by itself, without holding back other ops' events;
    ``close()`` frees what it holds."""

    def __init__(self, ctx: "Context", op: "Op", decode_item: Callable[[str], T]) -> None:
        self._ctx, self._op, self._decode = ctx, op, decode_item
        self.tag: int = op.tag
        self._buffer = _Buffer(ctx)  # filled by Context._route, under ctx._cond (which holds it, not us:
        # no cycle, so that dropping the stream closes it at once)
        self._error: errors.Error | None = None
        self.state = OP_PENDING  # once ended: OP_SUCCEEDED, OP_FAILED or OP_CANCELLED
        self._closed = False

    @property
    def ended(self) -> bool:
        return self._closed

    @property
    def buffered(self) -> int:
        """How many items are held for the reader (at most the stream's window)."""
        with self._ctx._cond:
            return self._buffer.kept

    def get(self, timeout: float | None = None) -> T | None:
        """The next item, waiting up to ``timeout`` seconds (None: no limit); None when the time passed or
        the stream ended (``ended``). Raises the op's error if it failed (once)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._closed:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._ctx._wait_for(self._ready, remaining, wakeup_ends=False):
                return None
            with self._ctx._cond:
                if not self._buffer.items:
                    if self._ctx._handle is None:  # the context was closed: so was the op
                        self._finish()
                    continue
                item = self._buffer.pop()
                if isinstance(item, Event):
                    self._finish()  # its OP_DONE: every DATA came before, in order
                    continue
                text = _take_message(item)  # freed: the window has room for one more
            return self._decode(text)
        if self._error is not None:
            err, self._error = self._error, None
            raise err
        return None

    def _ready(self) -> bool:
        return bool(self._buffer.items) or self._closed or self._ctx._handle is None

    def __iter__(self) -> "Stream[T]":
        return self

    def __next__(self) -> T:
        item = self.get(None)
        if item is None:
            raise StopIteration
        return item

    # The op is only touched under ctx._cond (reentrant): close() may run in another thread than get().
    def _finish(self) -> None:
        """Under ctx._cond: the op ended (its OP_DONE taken): record how, release it."""
        if self._closed:
            return
        self.state = self._op.state
        if self.state not in (OP_SUCCEEDED, OP_CANCELLED):
            self._error = self._op.error()
        self._release(discard=False)

    def _release(self, discard: bool) -> None:
        with self._ctx._cond:
            self._closed = True
            if self._ctx._streams.get(self.tag) is self._buffer:
                del self._ctx._streams[self.tag]
                if discard and not self._buffer.has_done():
                    self._ctx._discard.add(self.tag)  # its remaining DATA and OP_DONE are dropped as they come
            self._buffer.clear()
            self._op.close()
            self._ctx._cond.notify_all()

    def close(self) -> None:
        """Cancels the op (if still running), waits for its end (cancel ends a stream at once) and frees it.
        May be called from another thread than the one iterating (which then stops)."""
        with self._ctx._cond:
            if self._closed:
                return
            self._op.cancel()
            self._op.wait(30)  # a cancelled stream ends at once; the deadline only guards a broken library
            self.state = self._op.state
            self._release(discard=True)

    def __enter__(self) -> "Stream[T]":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass


class Context:
    """A libpglift context. Thread-safe. Settings come from the environment (as the pglift CLI's)
    unless given as a dict or JSON text; ``log_level`` filters the log events queued; ``stream_window``:
    how many items a stream may hold for its reader (see :meth:`set_stream_window`; None: the library's 256)."""

    def __init__(self, settings: dict[str, Any] | str | None = None, *, log_level: int = INFO,
                 stream_window: int | None = None) -> None:
        self._handle: int | None = None
        handle = ctypes.c_void_p()
        if settings is None:
            errors.check(lib.pglift_ctx_new, None, ctypes.byref(handle))
        else:
            doc = _spec_bytes(settings)
            s = ctypes.c_void_p()
            errors.check(lib.pglift_settings_from_json, doc, len(doc), ctypes.byref(s))
            try:
                errors.check(lib.pglift_ctx_new, s, ctypes.byref(handle))
            finally:
                lib.pglift_settings_free(s)
        self._handle = handle.value
        # Event routing between streams and next_event (see Stream): one thread at a time pumps the
        # library's queue (_pumping), every other waits on _cond for what it needs.
        self._cond = threading.Condition(threading.RLock())
        self._pumping = False
        self._wakeups = 0  # how many wakeups the pumping threads took
        self._stash: deque[Event] = deque()  # events for next_event
        self._streams: dict[int, _Buffer] = {}  # tag -> the items of an open stream
        self._discard: set[int] = set()  # tags of closed streams whose OP_DONE is still to come
        self._kept_handles = 0  # DATA events kept alive in the buffers of open streams
        self._stream_tags = itertools.count(STREAM_TAGS)
        try:
            self.set_log_level(log_level)
            if stream_window is not None:
                self.set_stream_window(stream_window)
        except BaseException:
            self.close()
            raise

    # -- lifetime ------------------------------------------------------------------------------------
    def close(self) -> None:
        """Cancels pending ops, waits for their reverts, frees the context; open streams end (cancelled).
        No thread may still be waiting in next_event or in a stream (wake it first)."""
        if self._handle is not None:
            lib.pglift_ctx_free(self._handle)
            self._handle = None
            with self._cond:  # the ops of open streams ended (cancelled) with the context: so do they
                for buffer in self._streams.values():
                    buffer.clear()  # events outlive their context: freed here
                self._streams.clear()
                self._cond.notify_all()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def handle(self) -> int:
        if self._handle is None:
            raise errors.InvalidArgument("the context is closed", code=-100)
        return self._handle

    def settings(self) -> dict[str, Any]:
        out = ctypes.c_void_p()
        errors.check(lib.pglift_ctx_settings_json, self.handle, ctypes.byref(out))
        return json.loads(take_string(out))

    # -- blocking operations -------------------------------------------------------------------------
    # --- roles
    @property
    def roles(self) -> "Roles":
        """The role operations (see :mod:`pglift.roles`)."""
        from .roles import Roles

        return Roles(self)
    # --- end roles

    def _json_call(self, fn, *args) -> str:
        out = ctypes.c_void_p()
        errors.check(fn, self.handle, *args, ctypes.byref(out))
        return take_string(out)

    def create(self, spec: dict[str, Any] | str, *, keep_on_error: bool = False) -> Instance:
        """Creates (and by default starts) an instance from its manifest, e.g. {"name": "main"}."""
        doc = _spec_bytes(spec)
        flags = KEEP_ON_ERROR if keep_on_error else 0
        return Instance.from_json(self._json_call(lib.pglift_instance_create, doc, len(doc), flags))

    def get(self, instance: str) -> Instance:
        """``instance``: "15/main", or "main" when only one version has it."""
        return Instance.from_json(self._json_call(lib.pglift_instance_get, encode(instance)))

    def list(self, version: str | None = None) -> list[InstanceListItem]:
        return InstanceListItem.list_from_json(self._json_call(lib.pglift_instance_list, encode(version)))

    def status(self, instance: str) -> InstanceStatus:
        return InstanceStatus.from_json(self._json_call(lib.pglift_instance_status, encode(instance)))

    def env(self, instance: str) -> dict[str, str]:
        return json.loads(self._json_call(lib.pglift_instance_env, encode(instance)))

    def start(self, instance: str, *, accept_data_loss: bool = False) -> None:
        """``accept_data_loss``: a former Patroni leader whose rejoin would discard committed transactions
        rejoins anyway (a WARNING log event names what is lost); otherwise the site's setting decides, by
        default :class:`WouldLoseData` with the member left stopped."""
        errors.check(lib.pglift_instance_start_with, self.handle, encode(instance), _start_flags(accept_data_loss))

    def stop(self, instance: str, mode: int = FAST) -> None:
        errors.check(lib.pglift_instance_stop, self.handle, encode(instance), mode)

    def restart(self, instance: str, mode: int = FAST) -> None:
        errors.check(lib.pglift_instance_restart, self.handle, encode(instance), mode)

    def reload(self, instance: str) -> None:
        errors.check(lib.pglift_instance_reload, self.handle, encode(instance))

    def drop(self, instance: str, *, remove_cluster: bool = False, dcs_unreachable_ok: bool = False) -> None:
        """``remove_cluster``: for the last member of a Patroni cluster, also delete its DCS keys.
        ``dcs_unreachable_ok``: drop a Patroni member even though the DCS cannot be reached (refused otherwise)."""
        flags = _drop_flags(remove_cluster, dcs_unreachable_ok)
        errors.check(lib.pglift_instance_drop_with, self.handle, encode(instance), flags)

    def configure(self, instance: str, changes: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """Sets parameters (None removes one); reloads and confirms. Returns {"changes": {name: [old, new]},
        "reloaded", "needs_restart": [...], "pending_restart"}; ``dry_run`` checks the values and returns the
        changes it would make ("reloaded": False), writing nothing."""
        doc = json.dumps(changes).encode()
        return json.loads(self._json_call(lib.pglift_instance_configure_with, encode(instance), doc, len(doc),
                                          _op_flags(dry_run)))

    def alter(self, instance: str, changes: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """Changes an instance: {"port", "state": "started"|"stopped"|"restarted", "settings": {name: value or
        None}, "data_checksums", "restart_on_changes"}, every key optional. Returns {"change_state":
        "changed" or None, "diff": [{"field", "before", "after"}], "needs_restart", "restarted",
        "pending_restart", "dry_run"}; ``dry_run`` changes nothing."""
        doc = json.dumps(changes).encode()
        return json.loads(self._json_call(lib.pglift_instance_alter, encode(instance), doc, len(doc), _apply_flags(dry_run)))

    def apply(self, manifest: dict[str, Any] | str, *, dry_run: bool = False) -> dict[str, Any]:
        """Creates, changes or drops ("state": "absent") the instance of a manifest; the result as alter's,
        with change_state "created", "changed", "dropped" or None. On an existing instance the manifest's
        "roles" and "databases" are applied too (an item with "state": "absent" dropped), reported in the
        result's "roles" and "databases": [{"name", "change_state": "created"|"changed"|"dropped"|None}]."""
        doc = _spec_bytes(manifest)
        return json.loads(self._json_call(lib.pglift_instance_apply, doc, len(doc), _apply_flags(dry_run)))

    def parameters(self, instance: str) -> dict[str, Any]:
        """The managed postgresql.conf parameters (a Patroni member's: its YAML's)."""
        return json.loads(self._json_call(lib.pglift_instance_parameters, encode(instance)))

    def promote(self, instance: str) -> None:
        """A Patroni member: switchover to it."""
        errors.check(lib.pglift_instance_promote, self.handle, encode(instance))

    def switchover(self, instance: str, candidate: str | None = None, scheduled_at: str | None = None) -> dict[str, Any]:
        """Returns {"previous_leader", "new_leader", "scheduled"} once the new leader is observed."""
        return json.loads(self._json_call(lib.pglift_patroni_switchover, encode(instance), encode(candidate),
                                          encode(scheduled_at)))

    def failover(self, instance: str, candidate: str) -> dict[str, Any]:
        return json.loads(self._json_call(lib.pglift_patroni_failover, encode(instance), encode(candidate)))

    def pause(self, instance: str, pause: bool = True) -> None:
        """Pauses (or resumes, pause=False) automatic failover of the member's cluster."""
        errors.check(lib.pglift_patroni_pause, self.handle, encode(instance), 1 if pause else 0)

    def resume(self, instance: str) -> None:
        """Resumes automatic failover of the member's cluster (``pause(instance, False)``)."""
        self.pause(instance, False)

    def patroni_log_file(self, instance: str) -> str:
        return self._json_call(lib.pglift_patroni_log_file, encode(instance))

    def patroni_credentials(self, instance: str) -> dict[str, Any]:
        """RETURNS SECRETS: the cluster's superuser, replication and rewind credentials
        ({"superuser": {"username": ..., "password": ...}, "replication": {...}, "rewind": {...}}), what a
        member on another host needs to join (spec: surole_password, replrole_password, rewind_password).
        Keep them out of logs; write them only to a file nobody else can read."""
        return json.loads(self._json_call(lib.pglift_patroni_credentials, encode(instance)))

    # -- asynchronous operations: each returns an Op whose end is also an OP_DONE event -----------------
    def _start(self, fn, decode_result, tag: int, *args) -> Op:
        op = ctypes.c_void_p()
        errors.check(fn, self.handle, *args, tag, ctypes.byref(op))
        return Op(op.value, decode_result)

    def create_async(self, spec: dict[str, Any] | str, tag: int, *, keep_on_error: bool = False) -> Op:
        doc = _spec_bytes(spec)
        flags = KEEP_ON_ERROR if keep_on_error else 0
        return self._start(lib.pglift_instance_create_async, Instance.from_json, tag, doc, len(doc), flags)

    def get_async(self, instance: str, tag: int) -> Op:
        return self._start(lib.pglift_instance_get_async, Instance.from_json, tag, encode(instance))

    def list_async(self, version: str | None, tag: int) -> Op:
        return self._start(lib.pglift_instance_list_async, InstanceListItem.list_from_json, tag, encode(version))

    def status_async(self, instance: str, tag: int) -> Op:
        return self._start(lib.pglift_instance_status_async, InstanceStatus.from_json, tag, encode(instance))

    def env_async(self, instance: str, tag: int) -> Op:
        return self._start(lib.pglift_instance_env_async, json.loads, tag, encode(instance))

    def start_async(self, instance: str, tag: int, *, accept_data_loss: bool = False) -> Op:
        return self._start(lib.pglift_instance_start_with_async, None, tag, encode(instance),
                           _start_flags(accept_data_loss))

    def stop_async(self, instance: str, tag: int, mode: int = FAST) -> Op:
        return self._start(lib.pglift_instance_stop_async, None, tag, encode(instance), mode)

    def restart_async(self, instance: str, tag: int, mode: int = FAST) -> Op:
        return self._start(lib.pglift_instance_restart_async, None, tag, encode(instance), mode)

    def reload_async(self, instance: str, tag: int) -> Op:
        return self._start(lib.pglift_instance_reload_async, None, tag, encode(instance))

    def alter_async(self, instance: str, changes: dict[str, Any], tag: int, *, dry_run: bool = False) -> Op:
        doc = json.dumps(changes).encode()
        return self._start(lib.pglift_instance_alter_async, json.loads, tag, encode(instance), doc, len(doc),
                           _apply_flags(dry_run))

    def apply_async(self, manifest: dict[str, Any] | str, tag: int, *, dry_run: bool = False) -> Op:
        doc = _spec_bytes(manifest)
        return self._start(lib.pglift_instance_apply_async, json.loads, tag, doc, len(doc), _apply_flags(dry_run))

    def configure_async(self, instance: str, changes: dict[str, Any], tag: int, *, dry_run: bool = False) -> Op:
        doc = json.dumps(changes).encode()
        return self._start(lib.pglift_instance_configure_with_async, json.loads, tag, encode(instance), doc,
                           len(doc), _op_flags(dry_run))

    def switchover_async(self, instance: str, tag: int, candidate: str | None = None,
                         scheduled_at: str | None = None) -> Op:
        return self._start(lib.pglift_patroni_switchover_async, json.loads, tag, encode(instance),
                           encode(candidate), encode(scheduled_at))

    def failover_async(self, instance: str, candidate: str, tag: int) -> Op:
        return self._start(lib.pglift_patroni_failover_async, json.loads, tag, encode(instance), encode(candidate))

    def pause_async(self, instance: str, tag: int, pause: bool = True) -> Op:
        """Pauses (or resumes, pause=False) automatic failover; the op ends once the member reports it."""
        return self._start(lib.pglift_patroni_pause_async, None, tag, encode(instance), 1 if pause else 0)

    def promote_async(self, instance: str, tag: int) -> Op:
        return self._start(lib.pglift_instance_promote_async, None, tag, encode(instance))

    def drop_async(self, instance: str, tag: int, *, remove_cluster: bool = False,
                   dcs_unreachable_ok: bool = False) -> Op:
        return self._start(lib.pglift_instance_drop_with_async, None, tag, encode(instance),
                           _drop_flags(remove_cluster, dcs_unreachable_ok))

    # -- the managed parameters as postgresql.conf text (pgconf edit) --------------------------------
    def parameters_text(self, instance: str) -> str:
        """"name = value" lines (a Patroni member: its YAML's parameters only)."""
        return self._json_call(lib.pglift_instance_parameters_text, encode(instance))

    def configure_text(self, instance: str, text: str, *, dry_run: bool = False) -> dict[str, Any]:
        """Makes ``text`` the managed parameters (set and removed as in the text), as :meth:`configure` does
        (``dry_run`` too: the changes it would make, nothing written)."""
        doc = text.encode()
        return json.loads(self._json_call(lib.pglift_instance_configure_text_with, encode(instance), doc, len(doc),
                                          _op_flags(dry_run)))

    # -- pg_hba records (pgconf) ---------------------------------------------------------------------
    # A record: {"connection": {"type": "host", "address": "10.0.0.0/8", "netmask": None} or None (local),
    # "database": "all" or [...], "user": "all" or [...], "method": "scram-sha-256", "options": [...]}.
    # Results: {"added": [lines], "removed": [lines], "changed", "reloaded", "diff": unified diff}.
    def hba_add(self, instance: str, records: dict[str, Any] | list[dict[str, Any]], *,
                dry_run: bool = False) -> dict[str, Any]:
        """Adds the records not already there; reloads a running instance (a Patroni member through Patroni)."""
        doc = json.dumps(records).encode()
        return json.loads(self._json_call(lib.pglift_hba_add, encode(instance), doc, len(doc), 1 if dry_run else 0))

    def hba_remove(self, instance: str, records: dict[str, Any] | list[dict[str, Any]], *,
                   dry_run: bool = False) -> dict[str, Any]:
        """Removes the records; :class:`NotFound` when one is nowhere (then nothing changes)."""
        doc = json.dumps(records).encode()
        return json.loads(self._json_call(lib.pglift_hba_remove, encode(instance), doc, len(doc), 1 if dry_run else 0))

    def hba_add_async(self, instance: str, records: dict[str, Any] | list[dict[str, Any]], tag: int, *,
                      dry_run: bool = False) -> Op:
        doc = json.dumps(records).encode()
        return self._start(lib.pglift_hba_add_async, json.loads, tag, encode(instance), doc, len(doc),
                           1 if dry_run else 0)

    def hba_remove_async(self, instance: str, records: dict[str, Any] | list[dict[str, Any]], tag: int, *,
                         dry_run: bool = False) -> Op:
        doc = json.dumps(records).encode()
        return self._start(lib.pglift_hba_remove_async, json.loads, tag, encode(instance), doc, len(doc),
                           1 if dry_run else 0)

    def parameters_async(self, instance: str, tag: int) -> Op:
        return self._start(lib.pglift_instance_parameters_async, json.loads, tag, encode(instance))

    def parameters_text_async(self, instance: str, tag: int) -> Op:
        return self._start(lib.pglift_instance_parameters_text_async, json.loads, tag, encode(instance))

    def configure_text_async(self, instance: str, text: str, tag: int, *, dry_run: bool = False) -> Op:
        """The text's syntax is checked by this call (:class:`InvalidSpec`, field "line N"), the rest by the op."""
        doc = text.encode()
        return self._start(lib.pglift_instance_configure_text_with_async, json.loads, tag, encode(instance), doc,
                           len(doc), _op_flags(dry_run))

    # -- log files -----------------------------------------------------------------------------------
    def log_file(self, instance: str) -> str:
        """The path of the instance's current PostgreSQL log file (:class:`NotFound` when none is written yet)."""
        return self._json_call(lib.pglift_instance_log_file, encode(instance))

    def log_file_async(self, instance: str, tag: int) -> Op:
        return self._start(lib.pglift_instance_log_file_async, json.loads, tag, encode(instance))

    def patroni_log_file_async(self, instance: str, tag: int) -> Op:
        return self._start(lib.pglift_patroni_log_file_async, json.loads, tag, encode(instance))

    def patroni_credentials_async(self, instance: str, tag: int) -> Op:
        """THE RESULT HOLDS SECRETS, as :meth:`patroni_credentials`' does: close the op once they are copied."""
        return self._start(lib.pglift_patroni_credentials_async, json.loads, tag, encode(instance))

    # -- streams: DATA events, as a Stream (an iterator) or as a raw Op -------------------------------
    def logs(self, instance: str) -> str:
        """The instance's current PostgreSQL log file as text (not followed); passwords masked."""
        return self._json_call(lib.pglift_instance_logs, encode(instance))

    def _stream(self, start: Callable[[int], Op], decode_item: Callable[[str], Any], tag: int | None) -> Stream[Any]:
        with self._cond:  # registered before a pumping thread can route its first item
            op = start(next(self._stream_tags) if tag is None else tag)
            stream = Stream(self, op, decode_item)
            self._streams[stream.tag] = stream._buffer
            return stream

    def follow_logs(self, instance: str, *, follow: bool = True, tag: int | None = None) -> Stream[str]:
        """The current log file as chunks of whole lines (passwords masked), then, with ``follow``, what
        PostgreSQL writes next (across rotations) until the stream is closed; ``follow=False`` ends after
        the current content. ``for chunk in ctx.follow_logs("main"): ...``"""
        return self._stream(lambda t: self.logs_async(instance, t, follow=follow), str, tag)

    def watch_cluster(self, instance: str, *, tag: int | None = None) -> Stream[ClusterEvent]:
        """The Patroni cluster of member ``instance`` as seen in its DCS: first its current state (member_added
        for each member, leader_changed from None, paused), then each change, until closed. Fails
        (:class:`StateError`) for a plain instance, :class:`DcsError` when etcd is gone for over 30 s."""
        return self._stream(lambda t: self.watch_cluster_async(instance, t), ClusterEvent.from_json, tag)

    def logs_async(self, instance: str, tag: int, *, follow: bool = False) -> Op:
        """Raw form: the log as DATA events (target "log") with ``tag`` on the event queue; no result."""
        return self._start(lib.pglift_instance_logs_async, None, tag, encode(instance), 1 if follow else 0)

    def watch_cluster_async(self, instance: str, tag: int) -> Op:
        """Raw form: ClusterEvent JSON documents as DATA events (target "cluster") with ``tag``, until cancelled."""
        return self._start(lib.pglift_cluster_watch_async, None, tag, encode(instance))

    # -- a Patroni member's configuration (its YAML as a JSON document) -------------------------------
    def patroni_config(self, instance: str) -> dict[str, Any]:
        """The member's Patroni YAML as a dict, every secret as "**********" (see :meth:`patroni_credentials`)."""
        return json.loads(self._json_call(lib.pglift_patroni_config_get, encode(instance)))

    def patroni_config_set(self, instance: str, config: dict[str, Any] | str) -> None:
        """Replaces the member's configuration by the whole document (``patroni_config``'s, edited): absent
        keys are removed; a secret left "**********" (or absent) is kept. :class:`InvalidSpec` naming the
        field (``scope``, ``postgresql.parameters.work_mem``...) before anything is written. A running
        member applies it on :meth:`reload`."""
        doc = _spec_bytes(config)
        errors.check(lib.pglift_patroni_config_set, self.handle, encode(instance), doc, len(doc))

    def patroni_config_validate(self, instance: str, config: dict[str, Any] | str) -> ConfigValidation:
        """What ``patroni_config_set`` would refuse, then Patroni's own validation; changes nothing."""
        doc = _spec_bytes(config)
        return ConfigValidation.from_json(
            self._json_call(lib.pglift_patroni_config_validate, encode(instance), doc, len(doc)))

    def patroni_config_async(self, instance: str, tag: int) -> Op:
        return self._start(lib.pglift_patroni_config_get_async, json.loads, tag, encode(instance))

    def patroni_config_set_async(self, instance: str, config: dict[str, Any] | str, tag: int) -> Op:
        doc = _spec_bytes(config)
        return self._start(lib.pglift_patroni_config_set_async, None, tag, encode(instance), doc, len(doc))

    def patroni_config_validate_async(self, instance: str, config: dict[str, Any] | str, tag: int) -> Op:
        doc = _spec_bytes(config)
        return self._start(lib.pglift_patroni_config_validate_async, ConfigValidation.from_json, tag,
                           encode(instance), doc, len(doc))

    # -- Patroni clusters as a whole ------------------------------------------------------------------
    def cluster(self, instance: str) -> Cluster:
        """The cluster of member ``instance`` (of this host), through its REST API, else the DCS."""
        return Cluster.from_json(self._json_call(lib.pglift_cluster_get, encode(instance)))

    def cluster_from_dcs(self, name: str) -> Cluster:
        """The cluster ``name`` as the site's DCS holds it (no member asked); :class:`NotFound` without keys."""
        return Cluster.from_json(self._json_call(lib.pglift_cluster_get_dcs, encode(name)))

    def cluster_restart(self, instance: str, member: str | None = None) -> None:
        """Restarts ``member``'s PostgreSQL through its Patroni; None: every member, replicas first, leader
        last (all on this host). Returns once a new postmaster runs. :class:`InvalidSpec` ("member")."""
        errors.check(lib.pglift_cluster_restart, self.handle, encode(instance), encode(member))

    def cluster_reinit(self, instance: str, member: str) -> None:
        """Clones replica ``member`` anew from the leader; returns once it streams. The leader: :class:`StateError`."""
        errors.check(lib.pglift_cluster_reinit, self.handle, encode(instance), encode(member))

    def cluster_remove(self, instance_or_name: str) -> None:
        """Deletes the cluster's DCS keys (a cluster name, or "VERSION/NAME" a member of this host); refused
        (:class:`StateError`) while a member is alive or configured here."""
        errors.check(lib.pglift_cluster_remove, self.handle, encode(instance_or_name))

    # Their ops' results: the Cluster (as observed after the operation).
    def cluster_async(self, instance: str, tag: int) -> Op:
        return self._start(lib.pglift_cluster_get_async, Cluster.from_json, tag, encode(instance))

    def cluster_from_dcs_async(self, name: str, tag: int) -> Op:
        return self._start(lib.pglift_cluster_get_dcs_async, Cluster.from_json, tag, encode(name))

    def cluster_restart_async(self, instance: str, tag: int, member: str | None = None) -> Op:
        return self._start(lib.pglift_cluster_restart_async, Cluster.from_json, tag, encode(instance),
                           encode(member))

    def cluster_reinit_async(self, instance: str, member: str, tag: int) -> Op:
        return self._start(lib.pglift_cluster_reinit_async, Cluster.from_json, tag, encode(instance),
                           encode(member))

    def cluster_remove_async(self, instance_or_name: str, tag: int) -> Op:
        return self._start(lib.pglift_cluster_remove_async, Cluster.from_json, tag, encode(instance_or_name))

    # -- events --------------------------------------------------------------------------------------
    def set_log_level(self, level: int) -> None:
        errors.check(lib.pglift_ctx_set_log_level, self.handle, level)

    def set_stream_window(self, window: int) -> None:
        """The window of the streams started from now on (those open keep theirs): at most ``window`` (>= 1)
        items of a stream are held for its reader; at the window the library holds the stream back until
        the reader takes one. 0: :class:`InvalidSpec` naming "window"."""
        if isinstance(window, bool) or not isinstance(window, int):
            raise errors.InvalidSpec(f"the stream window must be an integer, not {window!r}", field="window")
        if window < 0:  # size_t: a negative value would wrap to a huge window
            raise errors.InvalidSpec(f"the stream window must be at least 1, not {window}", field="window")
        errors.check(lib.pglift_ctx_set_stream_window, self.handle, window)

    def set_event_capacity(self, capacity: int) -> None:
        errors.check(lib.pglift_ctx_set_event_capacity, self.handle, capacity)

    @property
    def dropped_events(self) -> int:
        return lib.pglift_ctx_dropped_events(self.handle)

    @property
    def event_fd(self) -> int:
        """Readable while events are queued: for event loops. Do not read, write or close it."""
        return lib.pglift_ctx_event_fd(self.handle)

    @property
    def open_streams(self) -> int:
        """How many streams of this context are neither ended nor closed."""
        with self._cond:
            return len(self._streams)

    def next_event(self, timeout: float | None = 0) -> Event | None:
        """The oldest event, waiting up to ``timeout`` seconds (None: no limit); None on timeout or
        wakeup. The items of open streams are not returned: they go to their :class:`Stream`."""
        if not self._wait_for(lambda: bool(self._stash), timeout, wakeup_ends=True):
            return None
        with self._cond:
            return self._stash.popleft() if self._stash else None

    def _route(self, handle: int) -> None:
        """Under _cond: a taken event to its stream (a DATA event kept as its handle, counting against the
        stream's window until its reader takes it), to nowhere (a closed stream's), or to next_event."""
        kind = lib.pglift_event_kind_of(handle)
        if kind in (EVENT_DATA, EVENT_OP_DONE):
            tag = lib.pglift_event_tag(handle)
            buffer = self._streams.get(tag)
            if buffer is not None:
                buffer.push(handle if kind == EVENT_DATA else _take_event(handle))
                return
            if tag in self._discard:
                if kind == EVENT_OP_DONE:
                    self._discard.discard(tag)
                lib.pglift_event_free(handle)
                return
        self._stash.append(_take_event(handle))

    def _wait_for(self, ready: Callable[[], bool], timeout: float | None, *, wakeup_ends: bool) -> bool:
        """Waits until ready() (checked under _cond), pumping the library's queue when no other thread
        does; False once ``timeout`` seconds passed (0: one poll), or on a wakeup when ``wakeup_ends``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        polled = False
        with self._cond:
            wakeups = self._wakeups
        while True:
            with self._cond:
                while True:
                    if ready():
                        return True
                    if wakeup_ends and self._wakeups != wakeups:  # taken by the pumping thread
                        return False
                    remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                    if remaining == 0 and (polled or self._pumping):
                        return False
                    if not self._pumping:
                        break
                    self._cond.wait(remaining)  # the pumping thread notifies after each event
                self._pumping = True
            ev = None
            try:
                handle = ctypes.c_void_p()
                ms = -1 if remaining is None else math.ceil(remaining * 1000)
                began = time.monotonic()
                if lib.pglift_ctx_next_event(self.handle, ms, ctypes.byref(handle)) == 1:
                    ev = handle.value
            finally:
                with self._cond:
                    self._pumping = False
                    if ev is not None:
                        self._route(ev)
                    elif ms < 0 or time.monotonic() - began < ms / 1000:
                        self._wakeups += 1  # a wakeup (not the timeout): it ends other threads' next_event too
                    self._cond.notify_all()
            polled = True
            if ev is None and wakeup_ends:  # a timeout or a wakeup
                with self._cond:
                    return ready()

    def events(self) -> Iterator[Event]:
        """Every event queued now, without waiting."""
        while (ev := self.next_event(0)) is not None:
            yield ev

    def wakeup(self) -> None:
        lib.pglift_ctx_wakeup(self.handle)


__all__ = [
    "Context", "Op", "Stream", "version", "STREAM_TAGS", "SMART", "FAST", "IMMEDIATE", "DEBUG", "INFO", "WARNING", "ERROR", "OFF",
    "EVENT_OP_DONE", "EVENT_LOG", "EVENT_PROGRESS", "EVENT_DATA",
]
