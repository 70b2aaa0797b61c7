"""Roles of a running instance: ``ctx.roles.create(...)``, ``get``, ``list``, ``alter``, ``drop`` (and
``*_async``). Specs are dicts with the fields of pglift's role manifest::

    ctx.roles.create("15/main", {"name": "bob", "password": secret, "login": True, "in_roles": ["pg_monitor"]})
    ctx.roles.alter("15/main", "bob", {"login": False, "grant": ["pg_read_all_stats"]})
    ctx.roles.drop("15/main", "bob", reassign_owned="postgres")

Every write takes ``dry_run=True`` to check it (names, references, existence, a standby's read-only state) and
change nothing: its SQL runs in a transaction rolled back.

Passwords are encrypted by the library (SCRAM) and never come back: a :class:`Role` has ``has_password``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from ._native import encode, lib
from . import errors
from .context import _op_flags

if TYPE_CHECKING:
    from . import aio
    from .context import Context, Op


@dataclasses.dataclass(frozen=True)
class Role:
    """A role as PostgreSQL reports it (``pglift role get -o json``)."""

    name: str
    has_password: bool = False
    inherit: bool = True
    login: bool = False
    superuser: bool = False
    createdb: bool = False
    createrole: bool = False
    replication: bool = False
    connection_limit: int | None = None
    valid_until: str | None = None
    in_roles: list[str] = dataclasses.field(default_factory=list)
    pgpass: bool = False
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Role":
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in data.items() if k in names},
                   extra={k: v for k, v in data.items() if k not in names})

    @classmethod
    def from_json(cls, text: str) -> "Role":
        return cls.from_dict(json.loads(text))

    @classmethod
    def list_from_json(cls, text: str) -> list["Role"]:
        return [cls.from_dict(item) for item in json.loads(text)]


def _doc(value: dict[str, Any] | str) -> bytes:
    return (value if isinstance(value, str) else json.dumps(value)).encode()


def _drop_doc(drop_owned: bool, reassign_owned: str | None) -> bytes | None:
    options: dict[str, Any] = {}
    if drop_owned:
        options["drop_owned"] = True
    if reassign_owned is not None:
        options["reassign_owned"] = reassign_owned
    return json.dumps(options).encode() if options else None


class Roles:
    """The role operations of a :class:`pglift.Context` (``ctx.roles``)."""

    def __init__(self, ctx: "Context") -> None:
        self._ctx = ctx

    def create(self, instance: str, spec: dict[str, Any] | str, *, dry_run: bool = False) -> None:
        doc = _doc(spec)
        errors.check(lib.pglift_role_create_with, self._ctx.handle, encode(instance), doc, len(doc),
                     _op_flags(dry_run))

    def alter(self, instance: str, name: str, changes: dict[str, Any] | str, *, dry_run: bool = False) -> None:
        doc = _doc(changes)
        errors.check(lib.pglift_role_alter_with, self._ctx.handle, encode(instance), encode(name), doc, len(doc),
                     _op_flags(dry_run))

    def get(self, instance: str, name: str) -> Role:
        return Role.from_json(self._ctx._json_call(lib.pglift_role_get, encode(instance), encode(name)))

    def list(self, instance: str) -> list[Role]:
        return Role.list_from_json(self._ctx._json_call(lib.pglift_role_list, encode(instance)))

    def drop(self, instance: str, name: str, *, drop_owned: bool = False, reassign_owned: str | None = None,
             dry_run: bool = False) -> None:
        doc = _drop_doc(drop_owned, reassign_owned)
        errors.check(lib.pglift_role_drop_with, self._ctx.handle, encode(instance), encode(name), doc,
                     len(doc) if doc else 0, _op_flags(dry_run))

    # -- asynchronous ------------------------------------------------------------------------------------
    def create_async(self, instance: str, spec: dict[str, Any] | str, tag: int, *, dry_run: bool = False) -> "Op":
        doc = _doc(spec)
        return self._ctx._start(lib.pglift_role_create_with_async, None, tag, encode(instance), doc, len(doc),
                                _op_flags(dry_run))

    def alter_async(self, instance: str, name: str, changes: dict[str, Any] | str, tag: int, *,
                    dry_run: bool = False) -> "Op":
        doc = _doc(changes)
        return self._ctx._start(lib.pglift_role_alter_with_async, None, tag, encode(instance), encode(name), doc,
                                len(doc), _op_flags(dry_run))

    def get_async(self, instance: str, name: str, tag: int) -> "Op":
        return self._ctx._start(lib.pglift_role_get_async, Role.from_json, tag, encode(instance), encode(name))

    def list_async(self, instance: str, tag: int) -> "Op":
        return self._ctx._start(lib.pglift_role_list_async, Role.list_from_json, tag, encode(instance))

    def drop_async(self, instance: str, name: str, tag: int, *, drop_owned: bool = False,
                   reassign_owned: str | None = None, dry_run: bool = False) -> "Op":
        doc = _drop_doc(drop_owned, reassign_owned)
        return self._ctx._start(lib.pglift_role_drop_with_async, None, tag, encode(instance), encode(name), doc,
                                len(doc) if doc else 0, _op_flags(dry_run))


class AioRoles:
    """The role operations of a :class:`pglift.aio.Context` (``ctx.roles``), awaited without threads."""

    def __init__(self, ctx: "aio.Context") -> None:
        self._ctx = ctx
        self._sync = Roles(ctx.sync)

    async def create(self, instance: str, spec: dict[str, Any] | str, *, dry_run: bool = False) -> None:
        await self._ctx._run(lambda tag: self._sync.create_async(instance, spec, tag, dry_run=dry_run))

    async def alter(self, instance: str, name: str, changes: dict[str, Any] | str, *, dry_run: bool = False) -> None:
        await self._ctx._run(lambda tag: self._sync.alter_async(instance, name, changes, tag, dry_run=dry_run))

    async def get(self, instance: str, name: str) -> Role:
        return await self._ctx._run(lambda tag: self._sync.get_async(instance, name, tag))

    async def list(self, instance: str) -> list[Role]:
        return await self._ctx._run(lambda tag: self._sync.list_async(instance, tag))

    async def drop(self, instance: str, name: str, *, drop_owned: bool = False,
                   reassign_owned: str | None = None, dry_run: bool = False) -> None:
        await self._ctx._run(lambda tag: self._sync.drop_async(instance, name, tag, drop_owned=drop_owned,
                                                               reassign_owned=reassign_owned, dry_run=dry_run))
