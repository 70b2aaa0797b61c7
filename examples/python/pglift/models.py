"""Typed results, decoded from the JSON the library returns (the CLI's ``-o json`` schema).

Unknown keys are kept in ``extra``: newer libraries may add fields.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any


def _split(cls, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
    return {k: v for k, v in data.items() if k in names}, {k: v for k, v in data.items() if k not in names}


@dataclasses.dataclass(frozen=True)
class Instance:
    """An instance as found on disk and, when running, as PostgreSQL reports it."""

    name: str
    version: str
    port: int
    state: str  # "started" | "stopped"
    data_directory: str
    wal_directory: str
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    data_checksums: bool | None = None
    locale: str | None = None
    encoding: str | None = None
    pending_restart: bool = False
    standby: Any = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def qualname(self) -> str:
        return f"{self.version}-{self.name}"

    @property
    def patroni(self) -> dict[str, Any] | None:
        """A Patroni member's section: {"cluster", "node", "cluster_members": [{"name", "role", "state",
        "host", "port", "timeline", "lag"...}], "is_paused", ...}; None for a plain instance."""
        return self.extra.get("patroni")

    @classmethod
    def from_json(cls, text: str) -> "Instance":
        known, extra = _split(cls, json.loads(text))
        return cls(**known, extra=extra)


@dataclasses.dataclass(frozen=True)
class InstanceListItem:
    name: str
    version: str
    port: int
    datadir: str
    status: str  # "running" | "not_running"
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def list_from_json(cls, text: str) -> list["InstanceListItem"]:
        items = []
        for data in json.loads(text):
            known, extra = _split(cls, data)
            items.append(cls(**known, extra=extra))
        return items


@dataclasses.dataclass(frozen=True)
class InstanceStatus:
    postgresql: str  # "running" | "not_running"
    pid: int | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.postgresql == "running"

    @property
    def patroni(self) -> dict[str, Any] | None:
        """A Patroni member's {"state", "orphan_postmaster", "dcs_error"?}; None for a plain instance."""
        return self.extra.get("patroni")

    @classmethod
    def from_json(cls, text: str) -> "InstanceStatus":
        known, extra = _split(cls, json.loads(text))
        return cls(**known, extra=extra)


@dataclasses.dataclass(frozen=True)
class Event:
    """A queued event, copied out of the library (the native event is freed at once)."""

    kind: int  # EVENT_OP_DONE, EVENT_LOG, EVENT_PROGRESS
    tag: int
    message: str = ""  # LOG: the message; PROGRESS: the step title; OP_DONE: the error message
    level: int = 0  # LOG: 10 DEBUG, 20 INFO, 30 WARNING, 40 ERROR
    target: str = ""  # LOG: the logger name, e.g. "pglift.instances"
    phase: int = -1  # PROGRESS: 0 begin, 1 end
    op_state: int = -1  # OP_DONE: 1 succeeded, 2 failed, 3 cancelled
    status: int = 0  # OP_DONE: 0 or the negative status

    @property
    def level_name(self) -> str:
        return {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR"}.get(self.level, str(self.level))
