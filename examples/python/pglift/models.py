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

    kind: int  # EVENT_OP_DONE, EVENT_LOG, EVENT_PROGRESS, EVENT_DATA
    tag: int
    message: str = ""  # LOG: the message; PROGRESS: the step title; OP_DONE: the error message; DATA: the item
    level: int = 0  # LOG: 10 DEBUG, 20 INFO, 30 WARNING, 40 ERROR
    target: str = ""  # LOG: the logger name, e.g. "pglift.instances"; DATA: "log" or "cluster"
    phase: int = -1  # PROGRESS: 0 begin, 1 end
    op_state: int = -1  # OP_DONE: 1 succeeded, 2 failed, 3 cancelled
    status: int = 0  # OP_DONE: 0 or the negative status

    @property
    def level_name(self) -> str:
        return {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR"}.get(self.level, str(self.level))


def _from(cls, data: dict[str, Any]):
    known, extra = _split(cls, data)
    return cls(**known, extra=extra)


@dataclasses.dataclass(frozen=True)
class ClusterMember:
    """A member of a Patroni cluster, as Patroni lists it (and, where observed, as pglift judges it)."""

    name: str
    role: str = ""  # "leader" | "replica" | "standby_leader" | "sync_standby" ...
    state: str = ""  # "running" | "streaming" | "stopped" ...
    host: str = ""
    port: int = 0
    api_url: str | None = None
    timeline: int | None = None
    lag: int | str | None = None  # bytes, or "unknown"
    patroni_api: str | None = None  # "running" | "unreachable": its own REST API answered
    health: str | None = None  # as a candidate to lead: "leader" | "streaming" | "lagging" | ...
    health_reason: str | None = None  # why it cannot take over (None when it can)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ClusterHistoryEntry:
    timeline: int  # the timeline that ended
    lsn: int  # where it ended (bytes)
    reason: str = ""
    timestamp: str | None = None
    new_leader: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Cluster:
    """A Patroni cluster as a whole (``Context.cluster``; the result of the cluster-wide operations)."""

    name: str
    leader: str | None = None  # None: nobody leads
    paused: bool = False
    source: str = ""  # "rest": through a member's REST API; "dcs": the DCS's keys
    local_member: str | None = None  # the member of this host actions go through ("15/pg1"), if any
    members: list[ClusterMember] = dataclasses.field(default_factory=list)
    history: list[ClusterHistoryEntry] = dataclasses.field(default_factory=list)
    dynamic_configuration: dict[str, Any] = dataclasses.field(default_factory=dict)  # passwords redacted
    dcs_error: str | None = None  # only when the DCS could not be reached
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def member(self, name: str) -> ClusterMember:
        """The member named ``name``; KeyError when there is none."""
        for m in self.members:
            if m.name == name:
                return m
        raise KeyError(name)

    @property
    def replicas(self) -> list[ClusterMember]:
        """The members that do not hold the leader lock."""
        return [m for m in self.members if m.name != self.leader]

    @classmethod
    def from_json(cls, text: str) -> "Cluster":
        known, extra = _split(cls, json.loads(text))
        known["members"] = [_from(ClusterMember, m) for m in known.get("members") or []]
        known["history"] = [_from(ClusterHistoryEntry, h) for h in known.get("history") or []]
        return cls(**known, extra=extra)


@dataclasses.dataclass(frozen=True)
class ClusterEvent:
    """One change seen by ``watch_cluster``: kind "leader_changed" (before/after: the leaders),
    "member_added" / "member_removed" (after / before: its role), "role_changed", "state_changed",
    "paused", "resumed" (member "")."""

    kind: str
    member: str = ""
    before: str | None = None
    after: str | None = None
    revision: int = 0  # the etcd revision of the change
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str) -> "ClusterEvent":
        known, extra = _split(cls, json.loads(text))
        return cls(**known, extra=extra)


@dataclasses.dataclass(frozen=True)
class ConfigIssue:
    field: str  # "postgresql.listen"; "" when Patroni names none
    message: str


@dataclasses.dataclass(frozen=True)
class ConfigValidation:
    """What ``patroni_config_validate`` found: ``valid``, and the issues (never quoting a secret)."""

    valid: bool
    issues: list[ConfigIssue] = dataclasses.field(default_factory=list)

    def __bool__(self) -> bool:
        return self.valid

    @classmethod
    def from_json(cls, text: str) -> "ConfigValidation":
        data = json.loads(text)
        return cls(valid=bool(data["valid"]),
                   issues=[ConfigIssue(i.get("field", ""), i.get("message", "")) for i in data.get("issues", [])])
