"""The blocking API: a Context, its instance operations, async ops and the event queue."""

from __future__ import annotations

import ctypes
import json
from typing import TYPE_CHECKING, Any, Callable, Iterator

from . import errors
from ._native import (
    EVENT_LOG,
    EVENT_OP_DONE,
    EVENT_PROGRESS,
    OP_PENDING,
    OP_SUCCEEDED,
    decode,
    encode,
    lib,
    take_string,
)
from .models import Event, Instance, InstanceListItem, InstanceStatus

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


class Context:
    """A libpglift context. Thread-safe. Settings come from the environment (as the pglift CLI's)
    unless given as a dict or JSON text; ``log_level`` filters the log events queued."""

    def __init__(self, settings: dict[str, Any] | str | None = None, *, log_level: int = INFO) -> None:
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
        self.set_log_level(log_level)

    # -- lifetime ------------------------------------------------------------------------------------
    def close(self) -> None:
        """Cancels pending ops, waits for their reverts, frees the context. No thread may still be
        waiting in next_event (wake it first)."""
        if self._handle is not None:
            lib.pglift_ctx_free(self._handle)
            self._handle = None

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

    # -- events --------------------------------------------------------------------------------------
    def set_log_level(self, level: int) -> None:
        errors.check(lib.pglift_ctx_set_log_level, self.handle, level)

    def set_event_capacity(self, capacity: int) -> None:
        errors.check(lib.pglift_ctx_set_event_capacity, self.handle, capacity)

    @property
    def dropped_events(self) -> int:
        return lib.pglift_ctx_dropped_events(self.handle)

    @property
    def event_fd(self) -> int:
        """Readable while events are queued: for event loops. Do not read, write or close it."""
        return lib.pglift_ctx_event_fd(self.handle)

    def next_event(self, timeout: float | None = 0) -> Event | None:
        """The oldest event, waiting up to ``timeout`` seconds (None: no limit); None on timeout or
        wakeup."""
        ev = ctypes.c_void_p()
        ms = -1 if timeout is None else int(timeout * 1000)
        if lib.pglift_ctx_next_event(self.handle, ms, ctypes.byref(ev)) != 1:
            return None
        return _take_event(ev.value)

    def events(self) -> Iterator[Event]:
        """Every event queued now, without waiting."""
        while (ev := self.next_event(0)) is not None:
            yield ev

    def wakeup(self) -> None:
        lib.pglift_ctx_wakeup(self.handle)


__all__ = [
    "Context", "Op", "version", "SMART", "FAST", "IMMEDIATE", "DEBUG", "INFO", "WARNING", "ERROR", "OFF",
    "EVENT_OP_DONE", "EVENT_LOG", "EVENT_PROGRESS",
]
