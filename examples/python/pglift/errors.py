"""Exceptions mapped from the C ABI's status codes (pglift.h ``pglift_status``)."""

from __future__ import annotations

import ctypes

from ._native import decode, lib


class Error(Exception):
    """A libpglift failure: ``code`` is the (negative) status, ``message`` the library's text."""

    code = -1

    def __init__(self, message: str, *, code: int | None = None, field: str = "", detail: str = "",
                 exit_status: int = -1, retriable: bool = False) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.field = field  #: InvalidSpec: the field at fault ("name", "settings.port")
        self.detail = detail  #: CommandFailed: the tail of the command's output
        self.exit_status = exit_status  #: CommandFailed: exit status (128 + N: killed by signal N)
        self.retriable = retriable  #: trying again later may succeed (Busy, Timeout)

    @property
    def status_name(self) -> str:
        return decode(lib.pglift_status_name(self.code))


class InternalError(Error):
    code = -1


class InvalidSpec(Error, ValueError):
    code = -2


class NotFound(Error, LookupError):
    code = -3


class AlreadyExists(Error):
    code = -4


class CommandFailed(Error):
    code = -5


class Unsupported(Error):
    code = -6


class StateError(Error):
    code = -7


class Timeout(Error, TimeoutError):
    code = -8


class Cancelled(Error):
    code = -9


class DcsError(Error):
    code = -10


class HttpError(Error):
    code = -11


class SettingsError(Error):
    code = -12


class Busy(Error):
    code = -13


class SystemError_(Error, OSError):
    code = -14


class WouldLoseData(Error):
    """Refused: it would discard committed transactions (a former Patroni leader's rejoin)."""

    code = -15


class ReadOnly(Error):
    """A write (a role...) asked of a read-only standby: the message names the leader when known."""

    code = -16


class InvalidArgument(Error, ValueError):
    code = -100


class NoMemory(Error, MemoryError):
    code = -101

_BY_CODE = {cls.code: cls for cls in Error.__subclasses__()}


def from_handle(err: int | None, status: int) -> Error:
    """The exception for a ``pglift_error *`` (borrowed here: the caller frees it if it owns it)."""
    if not err:
        cls = _BY_CODE.get(status, Error)
        return cls(decode(lib.pglift_status_name(status)), code=status)
    code = lib.pglift_error_code(err)
    cls = _BY_CODE.get(code, Error)
    return cls(
        decode(lib.pglift_error_message(err)),
        code=code,
        field=decode(lib.pglift_error_field(err)),
        detail=decode(lib.pglift_error_detail(err)),
        exit_status=lib.pglift_error_exit_status(err),
        retriable=bool(lib.pglift_error_is_retriable(err)),
    )


def check(call, *args) -> None:
    """Calls a C function whose last parameter is ``pglift_error **``; raises on a negative status."""
    err = ctypes.c_void_p()
    status = call(*args, ctypes.byref(err))
    if status != 0:
        try:
            raise from_handle(err.value, status)
        finally:
            lib.pglift_error_free(err)
