"""The C ABI through ctypes: the library, its prototypes and the few helpers every call needs.

Owned strings come back through ``char **`` outputs declared as ``POINTER(c_void_p)``, never
``c_char_p`` (which would copy and lose the pointer to free); borrowed strings are ``c_char_p``.
ctypes releases the GIL during each call, so blocking calls from threads run in parallel.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import POINTER, c_char_p, c_int, c_size_t, c_uint32, c_uint64, c_void_p

# Values of pglift.h (append-only, stable).
OK = 0
E_TIMEOUT = -8
EVENT_OP_DONE, EVENT_LOG, EVENT_PROGRESS, EVENT_DATA = 1, 2, 3, 4
OP_PENDING, OP_SUCCEEDED, OP_FAILED, OP_CANCELLED = 0, 1, 2, 3


def _load() -> ctypes.CDLL:
    """$LIBPGLIFT_PATH (a file), else the installed libpglift.so.0."""
    path = os.environ.get("LIBPGLIFT_PATH") or ctypes.util.find_library("pglift") or "libpglift.so.0"
    return ctypes.CDLL(path)


lib = _load()

_handle = c_void_p
_err_out = POINTER(c_void_p)  # pglift_error **
_str_out = POINTER(c_void_p)  # char ** (owned)
_op_out = POINTER(c_void_p)  # pglift_op **

_PROTOTYPES = {
    # name: (restype, argtypes)
    "pglift_version": (c_char_p, []),
    "pglift_status_name": (c_char_p, [c_int]),
    "pglift_free": (None, [c_void_p]),
    "pglift_error_code": (c_int, [_handle]),
    "pglift_error_message": (c_char_p, [_handle]),
    "pglift_error_field": (c_char_p, [_handle]),
    "pglift_error_detail": (c_char_p, [_handle]),
    "pglift_error_exit_status": (c_int, [_handle]),
    "pglift_error_is_retriable": (c_int, [_handle]),
    "pglift_error_free": (None, [_handle]),
    "pglift_settings_from_json": (c_int, [c_char_p, c_size_t, POINTER(c_void_p), _err_out]),
    "pglift_settings_free": (None, [_handle]),
    "pglift_ctx_new": (c_int, [_handle, POINTER(c_void_p), _err_out]),
    "pglift_ctx_free": (None, [_handle]),
    "pglift_ctx_settings_json": (c_int, [_handle, _str_out, _err_out]),
    "pglift_instance_create": (c_int, [_handle, c_char_p, c_size_t, c_uint32, _str_out, _err_out]),
    "pglift_instance_get": (c_int, [_handle, c_char_p, _str_out, _err_out]),
    "pglift_instance_list": (c_int, [_handle, c_char_p, _str_out, _err_out]),
    "pglift_instance_status": (c_int, [_handle, c_char_p, _str_out, _err_out]),
    "pglift_instance_start": (c_int, [_handle, c_char_p, _err_out]),
    "pglift_instance_stop": (c_int, [_handle, c_char_p, c_int, _err_out]),
    "pglift_instance_restart": (c_int, [_handle, c_char_p, c_int, _err_out]),
    "pglift_instance_reload": (c_int, [_handle, c_char_p, _err_out]),
    "pglift_instance_drop": (c_int, [_handle, c_char_p, _err_out]),
    "pglift_instance_env": (c_int, [_handle, c_char_p, _str_out, _err_out]),
    "pglift_instance_create_async": (
        c_int,
        [_handle, c_char_p, c_size_t, c_uint32, c_uint64, _op_out, _err_out],
    ),
    "pglift_instance_get_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_instance_list_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_instance_status_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_instance_start_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_instance_stop_async": (c_int, [_handle, c_char_p, c_int, c_uint64, _op_out, _err_out]),
    "pglift_instance_restart_async": (c_int, [_handle, c_char_p, c_int, c_uint64, _op_out, _err_out]),
    "pglift_instance_reload_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_instance_drop_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_instance_env_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_instance_drop_with": (c_int, [_handle, c_char_p, c_uint32, _err_out]),
    "pglift_instance_start_with": (c_int, [_handle, c_char_p, c_uint32, _err_out]),
    "pglift_instance_start_with_async": (c_int, [_handle, c_char_p, c_uint32, c_uint64, _op_out, _err_out]),
    "pglift_instance_drop_with_async": (c_int, [_handle, c_char_p, c_uint32, c_uint64, _op_out, _err_out]),
    "pglift_instance_configure": (c_int, [_handle, c_char_p, c_char_p, c_size_t, _str_out, _err_out]),
    "pglift_instance_parameters": (c_int, [_handle, c_char_p, _str_out, _err_out]),
    "pglift_instance_alter": (c_int, [_handle, c_char_p, c_char_p, c_size_t, c_uint32, _str_out, _err_out]),
    "pglift_instance_apply": (c_int, [_handle, c_char_p, c_size_t, c_uint32, _str_out, _err_out]),
    "pglift_instance_alter_async": (
        c_int,
        [_handle, c_char_p, c_char_p, c_size_t, c_uint32, c_uint64, _op_out, _err_out],
    ),
    "pglift_instance_apply_async": (c_int, [_handle, c_char_p, c_size_t, c_uint32, c_uint64, _op_out, _err_out]),
    "pglift_instance_promote": (c_int, [_handle, c_char_p, _err_out]),
    "pglift_patroni_switchover": (c_int, [_handle, c_char_p, c_char_p, c_char_p, _str_out, _err_out]),
    "pglift_patroni_failover": (c_int, [_handle, c_char_p, c_char_p, _str_out, _err_out]),
    "pglift_patroni_pause": (c_int, [_handle, c_char_p, c_int, _err_out]),
    "pglift_patroni_log_file": (c_int, [_handle, c_char_p, _str_out, _err_out]),
    "pglift_patroni_credentials": (c_int, [_handle, c_char_p, _str_out, _err_out]),
    "pglift_instance_configure_async": (
        c_int,
        [_handle, c_char_p, c_char_p, c_size_t, c_uint64, _op_out, _err_out],
    ),
    "pglift_patroni_switchover_async": (
        c_int,
        [_handle, c_char_p, c_char_p, c_char_p, c_uint64, _op_out, _err_out],
    ),
    # pgconf (wt-pgconf): pg_hba records
    "pglift_instance_parameters_text": (c_int, [_handle, c_char_p, _str_out, _err_out]),
    "pglift_instance_configure_text": (c_int, [_handle, c_char_p, c_char_p, c_size_t, _str_out, _err_out]),
    "pglift_hba_add": (c_int, [_handle, c_char_p, c_char_p, c_size_t, c_uint32, _str_out, _err_out]),
    "pglift_hba_remove": (c_int, [_handle, c_char_p, c_char_p, c_size_t, c_uint32, _str_out, _err_out]),
    "pglift_hba_add_async": (c_int, [_handle, c_char_p, c_char_p, c_size_t, c_uint32, c_uint64, _op_out, _err_out]),
    "pglift_hba_remove_async": (c_int, [_handle, c_char_p, c_char_p, c_size_t, c_uint32, c_uint64, _op_out, _err_out]),
    "pglift_op_state_of": (c_int, [_handle]),
    "pglift_op_wait": (c_int, [_handle, c_int]),
    "pglift_op_cancel": (None, [_handle]),
    "pglift_op_tag": (c_uint64, [_handle]),
    "pglift_op_result": (c_char_p, [_handle]),
    "pglift_op_error": (c_void_p, [_handle]),
    "pglift_op_free": (None, [_handle]),
    "pglift_ctx_next_event": (c_int, [_handle, c_int, POINTER(c_void_p)]),
    "pglift_ctx_wakeup": (None, [_handle]),
    "pglift_ctx_event_fd": (c_int, [_handle]),
    "pglift_ctx_set_log_level": (c_int, [_handle, c_int, _err_out]),
    "pglift_ctx_set_event_capacity": (c_int, [_handle, c_size_t, _err_out]),
    "pglift_ctx_dropped_events": (c_uint64, [_handle]),
    "pglift_event_kind_of": (c_int, [_handle]),
    "pglift_event_tag": (c_uint64, [_handle]),
    "pglift_event_op_state": (c_int, [_handle]),
    "pglift_event_status": (c_int, [_handle]),
    "pglift_event_log_level": (c_int, [_handle]),
    "pglift_event_target": (c_char_p, [_handle]),
    "pglift_event_message": (c_char_p, [_handle]),
    "pglift_event_progress_phase": (c_int, [_handle]),
    "pglift_event_free": (None, [_handle]),
    # --- roles
    "pglift_role_create": (c_int, [_handle, c_char_p, c_char_p, c_size_t, _err_out]),
    "pglift_role_alter": (c_int, [_handle, c_char_p, c_char_p, c_char_p, c_size_t, _err_out]),
    "pglift_role_get": (c_int, [_handle, c_char_p, c_char_p, _str_out, _err_out]),
    "pglift_role_list": (c_int, [_handle, c_char_p, _str_out, _err_out]),
    "pglift_role_drop": (c_int, [_handle, c_char_p, c_char_p, c_char_p, c_size_t, _err_out]),
    "pglift_role_create_async": (c_int, [_handle, c_char_p, c_char_p, c_size_t, c_uint64, _op_out, _err_out]),
    "pglift_role_alter_async": (
        c_int,
        [_handle, c_char_p, c_char_p, c_char_p, c_size_t, c_uint64, _op_out, _err_out],
    ),
    "pglift_role_get_async": (c_int, [_handle, c_char_p, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_role_list_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_role_drop_async": (
        c_int,
        [_handle, c_char_p, c_char_p, c_char_p, c_size_t, c_uint64, _op_out, _err_out],
    ),
    # --- end roles
    # --- dry runs (PGLIFT_HAS_DRY_RUN): the _with forms of role and configuration writes, taking flags
    "pglift_role_create_with": (c_int, [_handle, c_char_p, c_char_p, c_size_t, c_uint32, _err_out]),
    "pglift_role_alter_with": (c_int, [_handle, c_char_p, c_char_p, c_char_p, c_size_t, c_uint32, _err_out]),
    "pglift_role_drop_with": (c_int, [_handle, c_char_p, c_char_p, c_char_p, c_size_t, c_uint32, _err_out]),
    "pglift_role_create_with_async": (
        c_int,
        [_handle, c_char_p, c_char_p, c_size_t, c_uint32, c_uint64, _op_out, _err_out],
    ),
    "pglift_role_alter_with_async": (
        c_int,
        [_handle, c_char_p, c_char_p, c_char_p, c_size_t, c_uint32, c_uint64, _op_out, _err_out],
    ),
    "pglift_role_drop_with_async": (
        c_int,
        [_handle, c_char_p, c_char_p, c_char_p, c_size_t, c_uint32, c_uint64, _op_out, _err_out],
    ),
    "pglift_instance_configure_with": (c_int, [_handle, c_char_p, c_char_p, c_size_t, c_uint32, _str_out, _err_out]),
    "pglift_instance_configure_text_with": (
        c_int,
        [_handle, c_char_p, c_char_p, c_size_t, c_uint32, _str_out, _err_out],
    ),
    "pglift_instance_configure_with_async": (
        c_int,
        [_handle, c_char_p, c_char_p, c_size_t, c_uint32, c_uint64, _op_out, _err_out],
    ),
    # conform (wt-conform): the Patroni operations' async twins
    "pglift_patroni_failover_async": (c_int, [_handle, c_char_p, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_patroni_pause_async": (c_int, [_handle, c_char_p, c_int, c_uint64, _op_out, _err_out]),
    "pglift_instance_promote_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    # Patroni configuration (PGLIFT_HAS_PATRONI_CONFIG)
    "pglift_patroni_config_get": (c_int, [_handle, c_char_p, _str_out, _err_out]),
    "pglift_patroni_config_set": (c_int, [_handle, c_char_p, c_char_p, c_size_t, _err_out]),
    "pglift_patroni_config_validate": (c_int, [_handle, c_char_p, c_char_p, c_size_t, _str_out, _err_out]),
    "pglift_patroni_config_get_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_patroni_config_set_async": (c_int, [_handle, c_char_p, c_char_p, c_size_t, c_uint64, _op_out, _err_out]),
    "pglift_patroni_config_validate_async": (
        c_int,
        [_handle, c_char_p, c_char_p, c_size_t, c_uint64, _op_out, _err_out],
    ),
    # the async twins of the reads and of the configuration by text (PGLIFT_HAS_ASYNC_ALL)
    "pglift_instance_log_file": (c_int, [_handle, c_char_p, _str_out, _err_out]),
    "pglift_instance_parameters_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_instance_parameters_text_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_instance_configure_text_with_async": (
        c_int,
        [_handle, c_char_p, c_char_p, c_size_t, c_uint32, c_uint64, _op_out, _err_out],
    ),
    "pglift_instance_log_file_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_patroni_credentials_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_patroni_log_file_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    # Patroni clusters as a whole (PGLIFT_HAS_CLUSTER)
    "pglift_cluster_get": (c_int, [_handle, c_char_p, _str_out, _err_out]),
    "pglift_cluster_get_dcs": (c_int, [_handle, c_char_p, _str_out, _err_out]),
    "pglift_cluster_restart": (c_int, [_handle, c_char_p, c_char_p, _err_out]),
    "pglift_cluster_reinit": (c_int, [_handle, c_char_p, c_char_p, _err_out]),
    "pglift_cluster_remove": (c_int, [_handle, c_char_p, _err_out]),
    "pglift_cluster_get_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_cluster_get_dcs_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_cluster_restart_async": (c_int, [_handle, c_char_p, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_cluster_reinit_async": (c_int, [_handle, c_char_p, c_char_p, c_uint64, _op_out, _err_out]),
    "pglift_cluster_remove_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    # streams (PGLIFT_HAS_DATA_EVENTS, PGLIFT_HAS_CLUSTER_WATCH): DATA events
    "pglift_instance_logs": (c_int, [_handle, c_char_p, _str_out, _err_out]),
    "pglift_instance_logs_async": (c_int, [_handle, c_char_p, c_int, c_uint64, _op_out, _err_out]),
    "pglift_cluster_watch_async": (c_int, [_handle, c_char_p, c_uint64, _op_out, _err_out]),
    # the stream window (PGLIFT_HAS_STREAM_WINDOW)
    "pglift_ctx_set_stream_window": (c_int, [_handle, c_size_t, _err_out]),
}

for _name, (_restype, _argtypes) in _PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _restype
    _fn.argtypes = _argtypes


def encode(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def decode(raw: bytes | None) -> str:
    return "" if raw is None else raw.decode("utf-8", "replace")


def take_string(ptr: c_void_p) -> str:
    """Copies an owned library string, then releases it."""
    try:
        return ctypes.string_at(ptr.value).decode() if ptr.value else ""
    finally:
        lib.pglift_free(ptr)
