"""Databases of an instance through the C ABI (``PGLIFT_HAS_DATABASES``).

    import pglift
    from pglift.databases import Databases
    with pglift.Context() as ctx:
        dbs = Databases(ctx, "15/main")
        dbs.create({"name": "app", "owner": "bob", "schemas": ["s"], "extensions": ["hstore"]})
        print(dbs.run("SELECT 1 AS one", databases=["app"]))   # {"app": [{"one": "1"}]}

Specs and results are the C ABI's JSON documents as dicts (pglift's `database ... -o json` shapes).
``create``, ``alter`` and ``drop`` (and their ``*_async``) take ``dry_run=True``: checked, nothing changed;
a dry create returns the database it would make, a dry alter the database as it is now.
Failures raise :class:`pglift.Error` subclasses (NotFound, AlreadyExists, InvalidSpec with ``field``...).
"""

from __future__ import annotations

import ctypes
import json
from ctypes import c_char_p, c_int, c_size_t, c_uint32, c_uint64
from typing import Any

from . import errors
from ._native import _err_out, _handle, _op_out, _str_out, encode, lib, take_string
from .context import Context, Op, _op_flags

for _name, _argtypes in {
    "pglift_database_create": [_handle, c_char_p, c_char_p, c_size_t, _str_out, _err_out],
    "pglift_database_alter": [_handle, c_char_p, c_char_p, c_size_t, _str_out, _err_out],
    "pglift_database_get": [_handle, c_char_p, c_char_p, _str_out, _err_out],
    "pglift_database_list": [_handle, c_char_p, c_char_p, _str_out, _err_out],
    "pglift_database_drop": [_handle, c_char_p, c_char_p, c_int, _err_out],
    "pglift_database_run": [_handle, c_char_p, c_char_p, c_char_p, _str_out, _err_out],
    "pglift_database_privileges": [_handle, c_char_p, c_char_p, _str_out, _err_out],
    "pglift_database_create_async": [_handle, c_char_p, c_char_p, c_size_t, c_uint64, _op_out, _err_out],
    "pglift_database_alter_async": [_handle, c_char_p, c_char_p, c_size_t, c_uint64, _op_out, _err_out],
    "pglift_database_get_async": [_handle, c_char_p, c_char_p, c_uint64, _op_out, _err_out],
    "pglift_database_list_async": [_handle, c_char_p, c_char_p, c_uint64, _op_out, _err_out],
    "pglift_database_drop_async": [_handle, c_char_p, c_char_p, c_int, c_uint64, _op_out, _err_out],
    "pglift_database_run_async": [_handle, c_char_p, c_char_p, c_char_p, c_uint64, _op_out, _err_out],
    "pglift_database_privileges_async": [_handle, c_char_p, c_char_p, c_uint64, _op_out, _err_out],
    # dry runs (PGLIFT_HAS_DRY_RUN): the _with forms of the writes, taking flags
    "pglift_database_create_with": [_handle, c_char_p, c_char_p, c_size_t, c_uint32, _str_out, _err_out],
    "pglift_database_alter_with": [_handle, c_char_p, c_char_p, c_size_t, c_uint32, _str_out, _err_out],
    "pglift_database_drop_with": [_handle, c_char_p, c_char_p, c_int, c_uint32, _err_out],
    "pglift_database_create_with_async": [_handle, c_char_p, c_char_p, c_size_t, c_uint32, c_uint64, _op_out,
                                          _err_out],
    "pglift_database_alter_with_async": [_handle, c_char_p, c_char_p, c_size_t, c_uint32, c_uint64, _op_out,
                                         _err_out],
    "pglift_database_drop_with_async": [_handle, c_char_p, c_char_p, c_int, c_uint32, c_uint64, _op_out, _err_out],
}.items():
    _fn = getattr(lib, _name)
    _fn.restype = c_int
    _fn.argtypes = _argtypes


def _selection(databases: list[str] | None, exclude: list[str] | None) -> bytes | None:
    if not databases and not exclude:
        return None
    return json.dumps({"databases": databases or [], "exclude": exclude or []}).encode()


def _query(databases: list[str] | None, roles: list[str] | None, defaults: bool) -> bytes:
    return json.dumps({"databases": databases or [], "roles": roles or [], "defaults": defaults}).encode()


class Databases:
    """The databases of one instance ("15/main", or "main" when one version has it) of a Context."""

    def __init__(self, ctx: Context, instance: str) -> None:
        self.ctx = ctx
        self.instance = instance

    def _call(self, fn, *args) -> str:
        out = ctypes.c_void_p()
        errors.check(fn, self.ctx.handle, encode(self.instance), *args, ctypes.byref(out))
        return take_string(out)

    def _start(self, fn, decode_result, tag: int, *args) -> Op:
        op = ctypes.c_void_p()
        errors.check(fn, self.ctx.handle, encode(self.instance), *args, tag, ctypes.byref(op))
        return Op(op.value, decode_result)

    # -- blocking --------------------------------------------------------------------------------------
    def create(self, spec: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """Creates the database, its settings, schemas and extensions; a failure drops what it created.
        ``dry_run``: checks it (name, owner...) and returns the database it would make, creating nothing."""
        doc = json.dumps(spec).encode()
        return json.loads(self._call(lib.pglift_database_create_with, doc, len(doc), _op_flags(dry_run)))

    def alter(self, spec: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """pglift's declarative alter (owner None means CURRENT_USER; settings {} means RESET ALL).
        ``dry_run``: checks it and returns the database as it is now, changing nothing."""
        doc = json.dumps(spec).encode()
        return json.loads(self._call(lib.pglift_database_alter_with, doc, len(doc), _op_flags(dry_run)))

    def get(self, name: str) -> dict[str, Any]:
        return json.loads(self._call(lib.pglift_database_get, encode(name)))

    def list(self, databases: list[str] | None = None, exclude: list[str] | None = None) -> list[dict[str, Any]]:
        return json.loads(self._call(lib.pglift_database_list, _selection(databases, exclude)))

    def drop(self, name: str, *, force: bool = False, dry_run: bool = False) -> None:
        """force: terminate the sessions connected to it first. dry_run: check it exists, drop nothing."""
        errors.check(lib.pglift_database_drop_with, self.ctx.handle, encode(self.instance), encode(name),
                     1 if force else 0, _op_flags(dry_run))

    def run(self, sql: str, databases: list[str] | None = None,
            exclude: list[str] | None = None) -> dict[str, list[dict[str, str | None]]]:
        """Runs ``sql`` on each selected database: {"db": [{"column": "text value" or None}]}."""
        return json.loads(self._call(lib.pglift_database_run, encode(sql), _selection(databases, exclude)))

    def privileges(self, databases: list[str] | None = None, roles: list[str] | None = None,
                   defaults: bool = False) -> list[dict[str, Any]]:
        """Relation (and column) privileges, or default privileges; all databases when none is given."""
        return json.loads(self._call(lib.pglift_database_privileges, _query(databases, roles, defaults)))

    # -- asynchronous: an Op whose end is also an OP_DONE event ------------------------------------------
    def create_async(self, spec: dict[str, Any], tag: int, *, dry_run: bool = False) -> Op:
        doc = json.dumps(spec).encode()
        return self._start(lib.pglift_database_create_with_async, json.loads, tag, doc, len(doc), _op_flags(dry_run))

    def alter_async(self, spec: dict[str, Any], tag: int, *, dry_run: bool = False) -> Op:
        doc = json.dumps(spec).encode()
        return self._start(lib.pglift_database_alter_with_async, json.loads, tag, doc, len(doc), _op_flags(dry_run))

    def get_async(self, name: str, tag: int) -> Op:
        return self._start(lib.pglift_database_get_async, json.loads, tag, encode(name))

    def list_async(self, tag: int, databases: list[str] | None = None, exclude: list[str] | None = None) -> Op:
        return self._start(lib.pglift_database_list_async, json.loads, tag, _selection(databases, exclude))

    def drop_async(self, name: str, tag: int, *, force: bool = False, dry_run: bool = False) -> Op:
        return self._start(lib.pglift_database_drop_with_async, None, tag, encode(name), 1 if force else 0,
                           _op_flags(dry_run))

    def run_async(self, sql: str, tag: int, databases: list[str] | None = None,
                  exclude: list[str] | None = None) -> Op:
        return self._start(lib.pglift_database_run_async, json.loads, tag, encode(sql), _selection(databases, exclude))

    def privileges_async(self, tag: int, databases: list[str] | None = None, roles: list[str] | None = None,
                         defaults: bool = False) -> Op:
        return self._start(lib.pglift_database_privileges_async, json.loads, tag, _query(databases, roles, defaults))
