"""pglift: manage PostgreSQL instances through libpglift's C ABI (ctypes, standard library only).

    import pglift
    with pglift.Context() as ctx:                     # settings from the environment, like the CLI
        instance = ctx.create({"name": "main", "port": 5433})
        print(instance.data_directory, ctx.status("15/main").pid)
        ctx.drop("15/main")

Blocking calls release the GIL. ``pglift.aio.Context`` awaits the same operations from asyncio.
Failures raise :class:`pglift.Error` subclasses (NotFound, InvalidSpec, Busy...).
"""

from . import aio
from ._native import EVENT_DATA, EVENT_LOG, EVENT_OP_DONE, EVENT_PROGRESS, OP_CANCELLED, OP_FAILED, OP_PENDING, OP_SUCCEEDED
from .context import DEBUG, ERROR, FAST, IMMEDIATE, INFO, OFF, SMART, STREAM_TAGS, WARNING, Context, Op, Stream, version
from .errors import (
    AlreadyExists,
    Busy,
    Cancelled,
    CommandFailed,
    DcsError,
    Error,
    HttpError,
    InternalError,
    InvalidArgument,
    InvalidSpec,
    NoMemory,
    NotFound,
    ReadOnly,
    SettingsError,
    StateError,
    SystemError_,
    Timeout,
    Unsupported,
    WouldLoseData,
)
from .models import (
    Cluster,
    ClusterEvent,
    ClusterHistoryEntry,
    ClusterMember,
    ConfigIssue,
    ConfigValidation,
    Event,
    Instance,
    InstanceListItem,
    InstanceStatus,
)
from .roles import Role, Roles

__all__ = [
    "aio", "Context", "Op", "Stream", "STREAM_TAGS", "Event", "Instance", "InstanceListItem", "InstanceStatus",
    "Cluster", "ClusterMember", "ClusterHistoryEntry", "ClusterEvent", "ConfigIssue", "ConfigValidation", "version",
    "SMART", "FAST", "IMMEDIATE", "DEBUG", "INFO", "WARNING", "ERROR", "OFF",
    "EVENT_OP_DONE", "EVENT_LOG", "EVENT_PROGRESS", "EVENT_DATA", "OP_PENDING", "OP_SUCCEEDED", "OP_FAILED", "OP_CANCELLED",
    "Error", "InternalError", "InvalidSpec", "NotFound", "AlreadyExists", "CommandFailed", "Unsupported",
    "StateError", "Timeout", "Cancelled", "DcsError", "HttpError", "SettingsError", "Busy", "SystemError_",
    "WouldLoseData", "InvalidArgument", "NoMemory", "ReadOnly", "Role", "Roles",
]
