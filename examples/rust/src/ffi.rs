//! The C ABI, declared by hand from pglift.h. Handles are opaque (zero-sized, never constructed);
//! enums are plain `c_int` constants: an unknown value in a Rust enum would be undefined behaviour.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

macro_rules! opaque {
    ($($name:ident),*) => {$(
        #[repr(C)]
        pub struct $name {
            _private: [u8; 0],
        }
    )*};
}
opaque!(pglift_error, pglift_settings, pglift_ctx, pglift_op, pglift_event);

pub const PGLIFT_OK: c_int = 0;
pub const PGLIFT_E_INTERNAL: c_int = -1;

pub const PGLIFT_EVENT_OP_DONE: c_int = 1;
pub const PGLIFT_EVENT_LOG: c_int = 2;
pub const PGLIFT_EVENT_PROGRESS: c_int = 3;
pub const PGLIFT_EVENT_DATA: c_int = 4;

pub const PGLIFT_START_ACCEPT_DATA_LOSS: u32 = 1;
pub const PGLIFT_DROP_REMOVE_CLUSTER: u32 = 1;
pub const PGLIFT_DROP_DCS_UNREACHABLE_OK: u32 = 2;
pub const PGLIFT_OP_DRY_RUN: u32 = 1;

pub const PGLIFT_OP_PENDING: c_int = 0;
pub const PGLIFT_OP_SUCCEEDED: c_int = 1;
pub const PGLIFT_OP_FAILED: c_int = 2;
pub const PGLIFT_OP_CANCELLED: c_int = 3;

extern "C" {
    pub fn pglift_version() -> *const c_char;
    pub fn pglift_status_name(status: c_int) -> *const c_char;
    pub fn pglift_free(ptr: *mut c_void);

    pub fn pglift_error_code(err: *const pglift_error) -> c_int;
    pub fn pglift_error_message(err: *const pglift_error) -> *const c_char;
    pub fn pglift_error_field(err: *const pglift_error) -> *const c_char;
    pub fn pglift_error_detail(err: *const pglift_error) -> *const c_char;
    pub fn pglift_error_exit_status(err: *const pglift_error) -> c_int;
    pub fn pglift_error_is_retriable(err: *const pglift_error) -> c_int;
    pub fn pglift_error_free(err: *mut pglift_error);

    pub fn pglift_settings_from_json(
        json: *const c_char,
        len: usize,
        out: *mut *mut pglift_settings,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_settings_free(settings: *mut pglift_settings);

    pub fn pglift_ctx_new(
        settings: *const pglift_settings,
        out: *mut *mut pglift_ctx,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_ctx_free(ctx: *mut pglift_ctx);
    pub fn pglift_ctx_settings_json(ctx: *mut pglift_ctx, out: *mut *mut c_char, err: *mut *mut pglift_error) -> c_int;
    pub fn pglift_ctx_next_event(ctx: *mut pglift_ctx, timeout_ms: c_int, out: *mut *mut pglift_event) -> c_int;
    pub fn pglift_ctx_wakeup(ctx: *mut pglift_ctx);
    pub fn pglift_ctx_event_fd(ctx: *mut pglift_ctx) -> c_int;
    pub fn pglift_ctx_set_log_level(ctx: *mut pglift_ctx, level: c_int, err: *mut *mut pglift_error) -> c_int;
    pub fn pglift_ctx_dropped_events(ctx: *const pglift_ctx) -> u64;
    pub fn pglift_ctx_set_stream_window(ctx: *mut pglift_ctx, window: usize, err: *mut *mut pglift_error) -> c_int; // wt-rust

    pub fn pglift_instance_create(
        ctx: *mut pglift_ctx,
        spec: *const c_char,
        len: usize,
        flags: u32,
        out: *mut *mut c_char,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_get(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_list(
        ctx: *mut pglift_ctx,
        version: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_status(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_env(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_start(ctx: *mut pglift_ctx, instance: *const c_char, err: *mut *mut pglift_error) -> c_int;
    pub fn pglift_instance_stop(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        mode: c_int,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_restart(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        mode: c_int,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_reload(ctx: *mut pglift_ctx, instance: *const c_char, err: *mut *mut pglift_error) -> c_int;
    pub fn pglift_instance_drop(ctx: *mut pglift_ctx, instance: *const c_char, err: *mut *mut pglift_error) -> c_int;
    pub fn pglift_instance_start_with(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        flags: u32,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_drop_with(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        flags: u32,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_patroni_credentials(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        out_json: *mut *mut c_char,
        err: *mut *mut pglift_error,
    ) -> c_int;

    pub fn pglift_instance_create_async(
        ctx: *mut pglift_ctx,
        spec: *const c_char,
        len: usize,
        flags: u32,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_get_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_list_async(
        ctx: *mut pglift_ctx,
        version: *const c_char,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_env_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_status_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_start_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_stop_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        mode: c_int,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_restart_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        mode: c_int,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_reload_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_drop_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_start_with_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        flags: u32,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_instance_drop_with_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        flags: u32,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;

    pub fn pglift_op_state_of(op: *const pglift_op) -> c_int;
    pub fn pglift_op_wait(op: *mut pglift_op, timeout_ms: c_int) -> c_int;
    pub fn pglift_op_cancel(op: *mut pglift_op);
    pub fn pglift_op_tag(op: *const pglift_op) -> u64;
    pub fn pglift_op_result(op: *const pglift_op) -> *const c_char;
    pub fn pglift_op_error(op: *const pglift_op) -> *const pglift_error;
    pub fn pglift_op_free(op: *mut pglift_op);

    pub fn pglift_event_kind_of(ev: *const pglift_event) -> c_int;
    pub fn pglift_event_tag(ev: *const pglift_event) -> u64;
    pub fn pglift_event_op_state(ev: *const pglift_event) -> c_int;
    pub fn pglift_event_status(ev: *const pglift_event) -> c_int;
    pub fn pglift_event_log_level(ev: *const pglift_event) -> c_int;
    pub fn pglift_event_target(ev: *const pglift_event) -> *const c_char;
    pub fn pglift_event_message(ev: *const pglift_event) -> *const c_char;
    pub fn pglift_event_progress_phase(ev: *const pglift_event) -> c_int;
    pub fn pglift_event_free(ev: *mut pglift_event);
    // --- roles
    pub fn pglift_role_create_with(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        spec_json: *const c_char,
        spec_len: usize,
        flags: u32,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_role_alter_with(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        name: *const c_char,
        changes_json: *const c_char,
        changes_len: usize,
        flags: u32,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_role_get(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        name: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_role_list(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_role_drop_with(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        name: *const c_char,
        options_json: *const c_char,
        options_len: usize,
        flags: u32,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_role_get_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        name: *const c_char,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_role_drop_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        name: *const c_char,
        options_json: *const c_char,
        options_len: usize,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_role_create_with_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        spec_json: *const c_char,
        spec_len: usize,
        flags: u32,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_role_alter_with_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        name: *const c_char,
        changes_json: *const c_char,
        changes_len: usize,
        flags: u32,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    pub fn pglift_role_drop_with_async(
        ctx: *mut pglift_ctx,
        instance: *const c_char,
        name: *const c_char,
        options_json: *const c_char,
        options_len: usize,
        flags: u32,
        tag: u64,
        out: *mut *mut pglift_op,
        err: *mut *mut pglift_error,
    ) -> c_int;
    // --- end roles
}
