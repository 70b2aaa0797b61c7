//! Safe bindings to libpglift's C ABI: manage PostgreSQL instances from Rust.
//!
//! ```no_run
//! let ctx = pglift::Context::new()?; // settings from the environment, like the pglift CLI
//! let instance = ctx.create(&pglift::InstanceSpec::new("main").port(5433))?;
//! println!("{} in {}", instance.name, instance.data_directory.display());
//! ctx.drop_instance("15/main")?;
//! # Ok::<(), pglift::Error>(())
//! ```
//!
//! Handles free themselves on drop; failures are [`Error`] values. Operations also exist
//! asynchronously ([`Context::restart_async`]...): they return an [`Op`], and their end, log records and
//! progress steps are [`Event`]s taken with [`Context::next_event`] (or when [`Context::event_fd`] is
//! readable, from an event loop such as tokio's `AsyncFd`), or awaited as `std::future::Future`s
//! ([`Context::future`]). Streams (a followed log, a cluster's changes) are iterators
//! ([`Context::follow_logs`], [`Context::watch_cluster`]). No callback runs on library threads.
//! No crates; builds with Rust 1.63.

mod apply; // alter, apply, the parameters as text: Context::alter_instance...
mod cluster; // Patroni clusters as a whole and a member's Patroni configuration (wt-bind-rust)
mod databases; // databases: Context::create_database...
mod ffi;
mod forms; // the async twins of the reads and of the configuration by text (wt-bind-rust)
mod future; // ops as std::future::Future, woken from the eventfd (wt-bind-rust)
mod hba; // pgconf (wt-pgconf)
pub mod json;
mod patroni; // Patroni members and topology (wt-conform): Context::switchover...
mod roles;
mod router; // one router of the C queue's events per context (wt-rust)
mod streams; // log chunks and cluster events as iterators (wt-bind-rust)

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::fmt;
use std::os::raw::{c_char, c_int, c_void};
use std::path::PathBuf;
use std::ptr;
use std::sync::Arc;
use std::time::Duration;

pub use apply::{ApplyResult, ConfigurationResult, FieldChange, InstanceChanges, ObjectChange};
pub use cluster::{Cluster, ClusterHistoryEntry, ConfigIssue, ConfigValidation}; // wt-bind-rust
pub use future::OpFuture; // wt-bind-rust
pub use hba::{HbaConnection, HbaRecord, HbaResult}; // pgconf (wt-pgconf)
pub use json::Json;
pub use patroni::{ClusterMember, Lag, PatroniInfo, PatroniStatus, SwitchoverOptions, TopologyResult}; // wt-conform
pub use roles::{Role, RoleChanges, RoleDropOptions, RoleSpec};
pub use streams::{ClusterEvent, ClusterWatch, LogStream, Stream}; // wt-bind-rust

/// The version of the loaded library, e.g. "0.1.0".
pub fn version() -> String {
    unsafe { borrowed(ffi::pglift_version()) }
}

/// A copy of a borrowed C string ("" for NULL).
unsafe fn borrowed(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// A copy of an owned C string, which is then released with pglift_free.
unsafe fn take(p: *mut c_char) -> String {
    let s = borrowed(p);
    ffi::pglift_free(p as *mut c_void);
    s
}

fn cstring(s: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| Error::local(-100, "a string argument contains a NUL byte"))
}

fn millis(timeout: Option<Duration>) -> c_int {
    timeout.map_or(-1, |d| d.as_millis().min(c_int::MAX as u128) as c_int)
}

// --- errors ------------------------------------------------------------------------------------------

/// What went wrong, from the status code. `Other` keeps codes this binding does not know yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Internal,
    InvalidSpec,
    NotFound,
    AlreadyExists,
    CommandFailed,
    Unsupported,
    State,
    Timeout,
    Cancelled,
    Dcs,
    Http,
    Settings,
    Busy,
    System,
    /// Refused: it would discard committed transactions (a former Patroni leader's rejoin).
    WouldLoseData,
    /// A write (a role...) asked of a read-only standby; the message names the leader when known.
    ReadOnly,
    InvalidArgument,
    NoMemory,
    /// JSON returned by the library could not be decoded (a binding error, not a library one).
    Decode,
    Other(i32),
}

impl ErrorKind {
    fn of(code: i32) -> ErrorKind {
        match code {
            -1 => ErrorKind::Internal,
            -2 => ErrorKind::InvalidSpec,
            -3 => ErrorKind::NotFound,
            -4 => ErrorKind::AlreadyExists,
            -5 => ErrorKind::CommandFailed,
            -6 => ErrorKind::Unsupported,
            -7 => ErrorKind::State,
            -8 => ErrorKind::Timeout,
            -9 => ErrorKind::Cancelled,
            -10 => ErrorKind::Dcs,
            -11 => ErrorKind::Http,
            -12 => ErrorKind::Settings,
            -13 => ErrorKind::Busy,
            -14 => ErrorKind::System,
            -15 => ErrorKind::WouldLoseData,
            -16 => ErrorKind::ReadOnly,
            -100 => ErrorKind::InvalidArgument,
            -101 => ErrorKind::NoMemory,
            -1000 => ErrorKind::Decode,
            c => ErrorKind::Other(c),
        }
    }
}

/// A libpglift failure.
#[derive(Clone, Debug)]
pub struct Error {
    /// The (negative) status code.
    pub code: i32,
    pub message: String,
    /// InvalidSpec: the field at fault ("name", "settings.port").
    pub field: String,
    /// CommandFailed: the tail of the command's output.
    pub detail: String,
    /// CommandFailed: the exit status (128 + N: killed by signal N); -1 otherwise.
    pub exit_status: i32,
    /// Trying again later may succeed (busy, timeout).
    pub retriable: bool,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::of(self.code)
    }
    /// The stable name of the status, e.g. "not_found".
    pub fn status_name(&self) -> String {
        unsafe { borrowed(ffi::pglift_status_name(self.code)) }
    }
    fn local(code: i32, message: &str) -> Error {
        Error {
            code,
            message: message.to_string(),
            field: String::new(),
            detail: String::new(),
            exit_status: -1,
            retriable: false,
        }
    }
    fn decode(what: &str) -> Error {
        Error::local(-1000, &format!("cannot decode the library's JSON: {}", what))
    }
    /// A copy of a borrowed pglift_error.
    unsafe fn from_ptr(e: *const ffi::pglift_error, status: c_int) -> Error {
        if e.is_null() {
            return Error::local(status, &borrowed(ffi::pglift_status_name(status)));
        }
        Error {
            code: ffi::pglift_error_code(e),
            message: borrowed(ffi::pglift_error_message(e)),
            field: borrowed(ffi::pglift_error_field(e)),
            detail: borrowed(ffi::pglift_error_detail(e)),
            exit_status: ffi::pglift_error_exit_status(e),
            retriable: ffi::pglift_error_is_retriable(e) != 0,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.status_name())
    }
}

impl std::error::Error for Error {}

/// Calls a C function taking `pglift_error **err` last; an error object it returns is copied and freed.
fn call<F: FnOnce(*mut *mut ffi::pglift_error) -> c_int>(f: F) -> Result<(), Error> {
    let mut err: *mut ffi::pglift_error = ptr::null_mut();
    let status = f(&mut err);
    if status == ffi::PGLIFT_OK {
        return Ok(());
    }
    unsafe {
        let e = Error::from_ptr(err, status);
        ffi::pglift_error_free(err);
        Err(e)
    }
}

// --- values ------------------------------------------------------------------------------------------

fn field<'a>(v: &'a Json, key: &str) -> Result<&'a Json, Error> {
    v.get(key).ok_or_else(|| Error::decode(&format!("no '{}'", key)))
}
fn string(v: &Json, key: &str) -> Result<String, Error> {
    field(v, key)?.as_str().map(str::to_string).ok_or_else(|| Error::decode(key))
}
fn opt_string(v: &Json, key: &str) -> Option<String> {
    v.get(key).and_then(Json::as_str).map(str::to_string)
}
fn integer(v: &Json, key: &str) -> Result<i64, Error> {
    field(v, key)?.as_i64().ok_or_else(|| Error::decode(key))
}

/// An instance as found on disk and, when running, as PostgreSQL reports it (`instance get -o json`).
#[derive(Clone, Debug)]
pub struct Instance {
    pub name: String,
    pub version: String,
    pub port: u16,
    /// "started" or "stopped"
    pub state: String,
    pub data_directory: PathBuf,
    pub wal_directory: PathBuf,
    /// Managed postgresql.conf parameters.
    pub settings: BTreeMap<String, Json>,
    pub data_checksums: Option<bool>,
    pub locale: Option<String>,
    pub encoding: Option<String>,
    pub pending_restart: bool,
    /// A Patroni member's cluster, node and the cluster's members (None for a plain instance).
    pub patroni: Option<PatroniInfo>,
}

impl Instance {
    pub fn from_json(text: &str) -> Result<Instance, Error> {
        let v = Json::parse(text).map_err(|e| Error::decode(&e.to_string()))?;
        Ok(Instance {
            name: string(&v, "name")?,
            version: string(&v, "version")?,
            port: integer(&v, "port")? as u16,
            state: string(&v, "state")?,
            data_directory: PathBuf::from(string(&v, "data_directory")?),
            wal_directory: PathBuf::from(string(&v, "wal_directory")?),
            settings: match v.get("settings") {
                Some(Json::Object(m)) => m.clone(),
                _ => BTreeMap::new(),
            },
            data_checksums: v.get("data_checksums").and_then(Json::as_bool),
            locale: opt_string(&v, "locale"),
            encoding: opt_string(&v, "encoding"),
            pending_restart: v.get("pending_restart").and_then(Json::as_bool).unwrap_or(false),
            patroni: v.get("patroni").map(PatroniInfo::from_value).transpose()?,
        })
    }
    /// "15-main"
    pub fn qualname(&self) -> String {
        format!("{}-{}", self.version, self.name)
    }
}

/// One row of `instance list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceListItem {
    pub name: String,
    pub version: String,
    pub port: u16,
    pub datadir: PathBuf,
    /// "running" or "not_running"
    pub status: String,
}

fn list_from_json(text: &str) -> Result<Vec<InstanceListItem>, Error> {
    match Json::parse(text).map_err(|e| Error::decode(&e.to_string()))? {
        Json::Array(items) => items
            .iter()
            .map(|v| {
                Ok(InstanceListItem {
                    name: string(v, "name")?,
                    version: string(v, "version")?,
                    port: integer(v, "port")? as u16,
                    datadir: PathBuf::from(string(v, "datadir")?),
                    status: string(v, "status")?,
                })
            })
            .collect(),
        _ => Err(Error::decode("expecting an array")),
    }
}

/// Whether the instance's server runs, and its PID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceStatus {
    /// "running" or "not_running"
    pub postgresql: String,
    pub pid: Option<i32>,
    /// A Patroni member's Patroni (None for a plain instance).
    pub patroni: Option<PatroniStatus>,
}

impl InstanceStatus {
    pub fn running(&self) -> bool {
        self.postgresql == "running"
    }
}

fn status_from_json(text: &str) -> Result<InstanceStatus, Error> {
    let v = Json::parse(text).map_err(|e| Error::decode(&e.to_string()))?;
    Ok(InstanceStatus {
        postgresql: string(&v, "postgresql")?,
        pid: v.get("pid").and_then(Json::as_i64).map(|p| p as i32),
        patroni: v.get("patroni").map(PatroniStatus::from_value).transpose()?,
    })
}

fn env_from_json(text: &str) -> Result<BTreeMap<String, String>, Error> {
    match Json::parse(text).map_err(|e| Error::decode(&e.to_string()))? {
        Json::Object(m) => {
            Ok(m.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        }
        _ => Err(Error::decode("expecting an object")),
    }
}

/// The manifest of a new instance (and of [`Context::apply_instance`]); [`InstanceSpec::to_json`] is
/// what the library receives. For fields not modelled here, pass JSON to [`Context::create_json`] or
/// [`Context::apply_instance_json`].
#[derive(Clone, Debug, Default)]
pub struct InstanceSpec {
    pub name: String,
    pub version: Option<String>,
    pub port: Option<u16>,
    /// "started" (default) or "stopped"; [`Context::apply_instance`]: also "absent", "restarted"
    pub state: Option<String>,
    /// Managed postgresql.conf parameters; [`Context::apply_instance`]: `Json::Null` removes one.
    pub settings: BTreeMap<String, Json>,
}

impl InstanceSpec {
    pub fn new(name: &str) -> InstanceSpec {
        InstanceSpec { name: name.to_string(), ..InstanceSpec::default() }
    }
    pub fn version(mut self, version: &str) -> InstanceSpec {
        self.version = Some(version.to_string());
        self
    }
    pub fn port(mut self, port: u16) -> InstanceSpec {
        self.port = Some(port);
        self
    }
    pub fn state(mut self, state: &str) -> InstanceSpec {
        self.state = Some(state.to_string());
        self
    }
    pub fn setting<V: Into<Json>>(mut self, name: &str, value: V) -> InstanceSpec {
        self.settings.insert(name.to_string(), value.into());
        self
    }
    pub fn to_json(&self) -> String {
        let mut fields = vec![format!("\"name\":{}", json::quote(&self.name))];
        if let Some(v) = &self.version {
            fields.push(format!("\"version\":{}", json::quote(v)));
        }
        if let Some(p) = self.port {
            fields.push(format!("\"port\":{}", p));
        }
        if let Some(s) = &self.state {
            fields.push(format!("\"state\":{}", json::quote(s)));
        }
        if !self.settings.is_empty() {
            fields.push(format!("\"settings\":{}", Json::Object(self.settings.clone())));
        }
        format!("{{{}}}", fields.join(","))
    }
}

/// How to stop a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopMode {
    Smart = 0,
    Fast = 1,
    Immediate = 2,
}

/// Options of [`Context::start_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StartOptions {
    /// A former Patroni leader whose rejoin would discard committed transactions: rejoin anyway
    /// (a WARNING log event names what is lost). Without it the site's setting decides, by default
    /// [`ErrorKind::WouldLoseData`] with the member left stopped.
    pub accept_data_loss: bool,
}

impl StartOptions {
    fn flags(&self) -> u32 {
        if self.accept_data_loss {
            ffi::PGLIFT_START_ACCEPT_DATA_LOSS
        } else {
            0
        }
    }
}

/// Options of [`Context::drop_instance_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DropOptions {
    /// The last member of a Patroni cluster: also delete the cluster's keys from the DCS
    /// ([`ErrorKind::State`] while another member is alive, or on a plain instance).
    pub remove_cluster: bool,
    /// A Patroni member while the DCS cannot be reached: drop it anyway (without it:
    /// [`ErrorKind::Dcs`], nothing changed).
    pub dcs_unreachable_ok: bool,
}

impl DropOptions {
    fn flags(&self) -> u32 {
        let mut flags = 0;
        if self.remove_cluster {
            flags |= ffi::PGLIFT_DROP_REMOVE_CLUSTER;
        }
        if self.dcs_unreachable_ok {
            flags |= ffi::PGLIFT_DROP_DCS_UNREACHABLE_OK;
        }
        flags
    }
}

/// Options of the `_with` forms of role, database and configuration writes
/// ([`Context::create_role_with`], [`Context::create_database_with`], [`Context::configure_text_with`]...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Check what can be checked without making the change (names, values, existence, references, a
    /// standby's read-only state, the instance lock), log what would be done, change nothing.
    pub dry_run: bool,
}

impl WriteOptions {
    /// `&WriteOptions::DRY_RUN`: a dry run.
    pub const DRY_RUN: WriteOptions = WriteOptions { dry_run: true };

    fn flags(&self) -> u32 {
        if self.dry_run {
            ffi::PGLIFT_OP_DRY_RUN
        } else {
            0
        }
    }
}

/// A role's name and password, from [`PatroniCredentials`]. Its `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential").field("username", &self.username).field("password", &"<hidden>").finish()
    }
}

/// SECRETS: what a member on another host needs to join a Patroni cluster (its spec's
/// surole_password, replrole_password and rewind_password). Keep them out of logs and terminals;
/// write them only where nobody else can read them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatroniCredentials {
    pub superuser: Credential,
    pub replication: Credential,
    pub rewind: Credential,
}

impl PatroniCredentials {
    fn from_json(text: &str) -> Result<PatroniCredentials, Error> {
        let doc = Json::parse(text).map_err(|e| Error::decode(&e.to_string()))?;
        let role = |name: &str| -> Result<Credential, Error> {
            let r = field(&doc, name)?;
            Ok(Credential { username: string(r, "username")?, password: string(r, "password")? })
        };
        Ok(PatroniCredentials {
            superuser: role("superuser")?,
            replication: role("replication")?,
            rewind: role("rewind")?,
        })
    }
}

/// Log level thresholds of [`Context::set_log_level`] (and [`Event::level`] values).
pub mod level {
    pub const DEBUG: i32 = 10;
    pub const INFO: i32 = 20;
    pub const WARNING: i32 = 30;
    pub const ERROR: i32 = 40;
    pub const OFF: i32 = 100;
}

// --- events ------------------------------------------------------------------------------------------

/// What an [`Event`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// An async op ended: its final state and status (0 or the error code).
    OpDone { state: OpState, status: i32 },
    /// A log record.
    Log { level: i32, target: String },
    /// A step began (`begin`) or ended.
    Progress { begin: bool },
    /// An item of a streaming op (never dropped): `target` "log" (the message is a chunk of log text)
    /// or "cluster" (the message is a [`ClusterEvent`] as JSON).
    Data { target: String },
    /// A kind this binding does not know.
    Other(i32),
}

/// An event taken from the context's queue (copied; the native event is freed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// The tag of the op it belongs to (0: a blocking call).
    pub tag: u64,
    /// Log: the message; Progress: the step title; OpDone: the error message or "".
    pub message: String,
}

impl Event {
    /// A copy of a C event (which stays the caller's).
    fn of(raw: &router::RawEvent) -> Event {
        let ev = raw.as_ptr();
        unsafe {
            let kind = match ffi::pglift_event_kind_of(ev) {
                ffi::PGLIFT_EVENT_OP_DONE => EventKind::OpDone {
                    state: OpState::of(ffi::pglift_event_op_state(ev)),
                    status: ffi::pglift_event_status(ev),
                },
                ffi::PGLIFT_EVENT_LOG => EventKind::Log {
                    level: ffi::pglift_event_log_level(ev),
                    target: borrowed(ffi::pglift_event_target(ev)),
                },
                ffi::PGLIFT_EVENT_PROGRESS => EventKind::Progress { begin: ffi::pglift_event_progress_phase(ev) == 0 },
                ffi::PGLIFT_EVENT_DATA => EventKind::Data { target: borrowed(ffi::pglift_event_target(ev)) },
                k => EventKind::Other(k),
            };
            Event { kind, tag: ffi::pglift_event_tag(ev), message: borrowed(ffi::pglift_event_message(ev)) }
        }
    }
}

// --- ops ---------------------------------------------------------------------------------------------

/// The state of an [`Op`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpState {
    Pending,
    Succeeded,
    Failed,
    Cancelled,
    Other(i32),
}

impl OpState {
    fn of(state: c_int) -> OpState {
        match state {
            ffi::PGLIFT_OP_PENDING => OpState::Pending,
            ffi::PGLIFT_OP_SUCCEEDED => OpState::Succeeded,
            ffi::PGLIFT_OP_FAILED => OpState::Failed,
            ffi::PGLIFT_OP_CANCELLED => OpState::Cancelled,
            s => OpState::Other(s),
        }
    }
}

/// An operation started asynchronously. Dropping a pending op cancels it (its OpDone event still
/// comes). Thread-safe.
pub struct Op {
    op: *mut ffi::pglift_op,
}

unsafe impl Send for Op {}
unsafe impl Sync for Op {}

impl Op {
    /// The tag its events carry.
    pub fn tag(&self) -> u64 {
        unsafe { ffi::pglift_op_tag(self.op) }
    }
    pub fn state(&self) -> OpState {
        OpState::of(unsafe { ffi::pglift_op_state_of(self.op) })
    }
    /// Waits until the op ends (true) or `timeout` passes (false); None waits without limit.
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        unsafe { ffi::pglift_op_wait(self.op, millis(timeout)) == 1 }
    }
    /// Requests cancellation: a mutation reverts, then the op ends Cancelled.
    pub fn cancel(&self) {
        unsafe { ffi::pglift_op_cancel(self.op) }
    }
    /// The result JSON of an op that succeeded (None for operations without a result), or its error.
    pub fn result_json(&self) -> Result<Option<String>, Error> {
        unsafe {
            match self.state() {
                OpState::Pending => Err(Error::local(-7, "the operation is still pending")),
                OpState::Succeeded => {
                    let r = ffi::pglift_op_result(self.op);
                    Ok(if r.is_null() { None } else { Some(borrowed(r)) })
                }
                _ => Err(Error::from_ptr(ffi::pglift_op_error(self.op), ffi::PGLIFT_E_INTERNAL)),
            }
        }
    }
    /// For an op that ended: Ok(()) if it succeeded, else its error.
    pub fn outcome(&self) -> Result<(), Error> {
        self.result_json().map(|_| ())
    }
}

impl Drop for Op {
    fn drop(&mut self) {
        unsafe { ffi::pglift_op_free(self.op) }
    }
}

// --- context -----------------------------------------------------------------------------------------

/// A libpglift context: settings, library threads, the event queue. Thread-safe (`Send + Sync`):
/// streams, futures, `next_event` and the blocking calls may be used at once from several threads (see
/// [`Context::next_event`] for how the events find their owner). Dropping it cancels pending ops and
/// waits for their reverts.
pub struct Context {
    ctx: *mut ffi::pglift_ctx,
    /// Routes each event taken from the C queue to its owner: a stream, a future, `next_event`.
    router: Arc<router::Router>,
    /// The futures' thread.
    reactor: future::Reactor,
}

unsafe impl Send for Context {}
unsafe impl Sync for Context {}

impl Drop for Context {
    fn drop(&mut self) {
        self.reactor.shutdown(&self.router);
        {
            // No stream or future is left (they borrow the context): free what is still routed.
            let mut routes = self.router.lock();
            routes.streams.clear();
            routes.stash.clear();
        }
        unsafe { ffi::pglift_ctx_free(self.ctx) }
    }
}

impl Context {
    fn wrap(ctx: *mut ffi::pglift_ctx) -> Context {
        Context { ctx, router: Arc::new(router::Router::new(ctx)), reactor: future::Reactor::default() }
    }

    /// A context with settings from the environment, as the pglift CLI loads them. Refuses root.
    pub fn new() -> Result<Context, Error> {
        let mut ctx = ptr::null_mut();
        call(|e| unsafe { ffi::pglift_ctx_new(ptr::null(), &mut ctx, e) })?;
        Ok(Context::wrap(ctx))
    }

    /// A context with settings from a JSON document over the defaults (the environment is not read).
    pub fn with_settings_json(settings: &str) -> Result<Context, Error> {
        let mut s = ptr::null_mut();
        call(|e| unsafe {
            ffi::pglift_settings_from_json(settings.as_ptr() as *const c_char, settings.len(), &mut s, e)
        })?;
        let mut ctx = ptr::null_mut();
        let made = call(|e| unsafe { ffi::pglift_ctx_new(s, &mut ctx, e) });
        unsafe { ffi::pglift_settings_free(s) };
        made.map(|_| Context::wrap(ctx))
    }

    /// The effective settings, as JSON.
    pub fn settings_json(&self) -> Result<String, Error> {
        let mut out = ptr::null_mut();
        call(|e| unsafe { ffi::pglift_ctx_settings_json(self.ctx, &mut out, e) })?;
        Ok(unsafe { take(out) })
    }

    fn json_call<F>(&self, f: F) -> Result<String, Error>
    where
        F: FnOnce(*mut *mut c_char, *mut *mut ffi::pglift_error) -> c_int,
    {
        let mut out: *mut c_char = ptr::null_mut();
        call(|e| f(&mut out, e))?;
        Ok(unsafe { take(out) })
    }

    // -- blocking ----------------------------------------------------------------------------------
    /// Creates (and by default starts) an instance; a failed creation is reverted.
    pub fn create(&self, spec: &InstanceSpec) -> Result<Instance, Error> {
        self.create_json(&spec.to_json())
    }

    pub fn create_json(&self, spec: &str) -> Result<Instance, Error> {
        let json = self.json_call(|out, e| unsafe {
            ffi::pglift_instance_create(self.ctx, spec.as_ptr() as *const c_char, spec.len(), 0, out, e)
        })?;
        Instance::from_json(&json)
    }

    /// `instance`: "15/main", or "main" when one version only has it.
    pub fn get(&self, instance: &str) -> Result<Instance, Error> {
        let name = cstring(instance)?;
        Instance::from_json(
            &self.json_call(|out, e| unsafe { ffi::pglift_instance_get(self.ctx, name.as_ptr(), out, e) })?,
        )
    }

    /// The instances of one PostgreSQL version, or of all.
    pub fn list(&self, version: Option<&str>) -> Result<Vec<InstanceListItem>, Error> {
        let v = version.map(cstring).transpose()?;
        let vp = v.as_ref().map_or(ptr::null(), |c| c.as_ptr());
        list_from_json(&self.json_call(|out, e| unsafe { ffi::pglift_instance_list(self.ctx, vp, out, e) })?)
    }

    pub fn status(&self, instance: &str) -> Result<InstanceStatus, Error> {
        let name = cstring(instance)?;
        status_from_json(
            &self.json_call(|out, e| unsafe { ffi::pglift_instance_status(self.ctx, name.as_ptr(), out, e) })?,
        )
    }

    /// PGDATA, PGHOST, PGPORT... for the instance's client programs.
    pub fn env(&self, instance: &str) -> Result<BTreeMap<String, String>, Error> {
        let name = cstring(instance)?;
        env_from_json(&self.json_call(|out, e| unsafe { ffi::pglift_instance_env(self.ctx, name.as_ptr(), out, e) })?)
    }

    pub fn start(&self, instance: &str) -> Result<(), Error> {
        let name = cstring(instance)?;
        call(|e| unsafe { ffi::pglift_instance_start(self.ctx, name.as_ptr(), e) })
    }

    pub fn stop(&self, instance: &str, mode: StopMode) -> Result<(), Error> {
        let name = cstring(instance)?;
        call(|e| unsafe { ffi::pglift_instance_stop(self.ctx, name.as_ptr(), mode as c_int, e) })
    }

    pub fn restart(&self, instance: &str, mode: StopMode) -> Result<(), Error> {
        let name = cstring(instance)?;
        call(|e| unsafe { ffi::pglift_instance_restart(self.ctx, name.as_ptr(), mode as c_int, e) })
    }

    pub fn reload(&self, instance: &str) -> Result<(), Error> {
        let name = cstring(instance)?;
        call(|e| unsafe { ffi::pglift_instance_reload(self.ctx, name.as_ptr(), e) })
    }

    /// Stops the instance and deletes its files (`drop` is taken by `Drop`).
    pub fn drop_instance(&self, instance: &str) -> Result<(), Error> {
        let name = cstring(instance)?;
        call(|e| unsafe { ffi::pglift_instance_drop(self.ctx, name.as_ptr(), e) })
    }

    /// [`Context::start`] with options.
    pub fn start_with(&self, instance: &str, options: &StartOptions) -> Result<(), Error> {
        let name = cstring(instance)?;
        call(|e| unsafe { ffi::pglift_instance_start_with(self.ctx, name.as_ptr(), options.flags(), e) })
    }

    /// [`Context::drop_instance`] with options.
    pub fn drop_instance_with(&self, instance: &str, options: &DropOptions) -> Result<(), Error> {
        let name = cstring(instance)?;
        call(|e| unsafe { ffi::pglift_instance_drop_with(self.ctx, name.as_ptr(), options.flags(), e) })
    }

    /// SECRETS: the credentials of the member's Patroni cluster (see [`PatroniCredentials`]);
    /// [`ErrorKind::State`] when the instance is not a Patroni member.
    pub fn patroni_credentials(&self, instance: &str) -> Result<PatroniCredentials, Error> {
        let name = cstring(instance)?;
        let json =
            self.json_call(|out, e| unsafe { ffi::pglift_patroni_credentials(self.ctx, name.as_ptr(), out, e) })?;
        PatroniCredentials::from_json(&json)
    }

    // -- asynchronous: an Op now, an OpDone event (tagged `tag`) at its end ----------------------------
    fn start_op<F>(&self, f: F) -> Result<Op, Error>
    where
        F: FnOnce(*mut *mut ffi::pglift_op, *mut *mut ffi::pglift_error) -> c_int,
    {
        let mut op = ptr::null_mut();
        call(|e| f(&mut op, e))?;
        Ok(Op { op })
    }

    pub fn create_async(&self, spec: &InstanceSpec, tag: u64) -> Result<Op, Error> {
        let json = spec.to_json();
        self.start_op(|o, e| unsafe {
            ffi::pglift_instance_create_async(self.ctx, json.as_ptr() as *const c_char, json.len(), 0, tag, o, e)
        })
    }

    pub fn get_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { ffi::pglift_instance_get_async(self.ctx, name.as_ptr(), tag, o, e) })
    }

    pub fn list_async(&self, version: Option<&str>, tag: u64) -> Result<Op, Error> {
        let v = version.map(cstring).transpose()?;
        let vp = v.as_ref().map_or(ptr::null(), |c| c.as_ptr());
        self.start_op(|o, e| unsafe { ffi::pglift_instance_list_async(self.ctx, vp, tag, o, e) })
    }

    pub fn status_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { ffi::pglift_instance_status_async(self.ctx, name.as_ptr(), tag, o, e) })
    }

    pub fn env_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { ffi::pglift_instance_env_async(self.ctx, name.as_ptr(), tag, o, e) })
    }

    pub fn start_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { ffi::pglift_instance_start_async(self.ctx, name.as_ptr(), tag, o, e) })
    }

    pub fn stop_async(&self, instance: &str, mode: StopMode, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe {
            ffi::pglift_instance_stop_async(self.ctx, name.as_ptr(), mode as c_int, tag, o, e)
        })
    }

    pub fn restart_async(&self, instance: &str, mode: StopMode, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe {
            ffi::pglift_instance_restart_async(self.ctx, name.as_ptr(), mode as c_int, tag, o, e)
        })
    }

    pub fn reload_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { ffi::pglift_instance_reload_async(self.ctx, name.as_ptr(), tag, o, e) })
    }

    pub fn drop_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { ffi::pglift_instance_drop_async(self.ctx, name.as_ptr(), tag, o, e) })
    }

    pub fn start_with_async(&self, instance: &str, options: &StartOptions, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe {
            ffi::pglift_instance_start_with_async(self.ctx, name.as_ptr(), options.flags(), tag, o, e)
        })
    }

    pub fn drop_with_async(&self, instance: &str, options: &DropOptions, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe {
            ffi::pglift_instance_drop_with_async(self.ctx, name.as_ptr(), options.flags(), tag, o, e)
        })
    }

    // -- events ------------------------------------------------------------------------------------
    /// The oldest event for the program, waiting up to `timeout` (None: no limit); None on timeout or
    /// wakeup. Every thread that takes events from the library's queue (this call, a [`Stream`]'s reader,
    /// the futures' thread) routes each to its owner, so several threads may call this, iterate streams
    /// and await futures of the context at once:
    /// - a stream's items and end go to that stream only (kept as the library's events, so that at most
    ///   the stream window of them are held: see [`Context::set_stream_window`]); those of a dropped
    ///   stream are freed;
    /// - the end (OpDone) of an op awaited as a future goes to that future only;
    /// - everything else comes here: log and progress events (beyond 4096 waiting here, the oldest are
    ///   dropped and counted in [`Context::dropped_events`]), the OpDone of other ops, the DATA events of
    ///   raw streaming ops ([`Context::instance_logs_async`]...).
    ///
    /// [`Context::event_fd`] is readable while the library's queue holds events; events another thread
    /// already routed here are not signalled by it: with an event loop, take them with a zero timeout.
    pub fn next_event(&self, timeout: Option<Duration>) -> Option<Event> {
        self.router.wait_for(timeout, true, |r| r.stash.pop_front())
    }

    /// Makes one pending or the next `next_event` return None (a stream's reader is not stopped).
    pub fn wakeup(&self) {
        self.router.lock().wakeup = true;
        self.router.cv.notify_all();
        self.router.interrupt();
    }

    /// Readable while events are queued in the library (for event loops: tokio `AsyncFd`, mio...). Owned
    /// by the context: never read, write or close it.
    pub fn event_fd(&self) -> c_int {
        unsafe { ffi::pglift_ctx_event_fd(self.ctx) }
    }

    /// Log events below `level` (see [`level`]) are not queued; the default is INFO.
    pub fn set_log_level(&self, level: i32) -> Result<(), Error> {
        call(|e| unsafe { ffi::pglift_ctx_set_log_level(self.ctx, level, e) })
    }

    /// The window of the streams started from now on (256 by default): at most `window` items of one
    /// stream are held at once, in its buffer or queued in the library; at the window the stream's
    /// producer waits until its reader takes one, so a stream nobody reads stops by itself (nothing is
    /// lost) while the context's other events flow. 0: [`ErrorKind::InvalidSpec`] (field "window").
    pub fn set_stream_window(&self, window: usize) -> Result<(), Error> {
        call(|e| unsafe { ffi::pglift_ctx_set_stream_window(self.ctx, window, e) })
    }

    /// Log and progress events dropped because the library's queue, or the events waiting for
    /// [`Context::next_event`], were full.
    pub fn dropped_events(&self) -> u64 {
        let native = unsafe { ffi::pglift_ctx_dropped_events(self.ctx) };
        native + self.router.lock().dropped
    }

    /// Takes events until the OpDone of `op` (waiting up to `timeout` in all), handing the others to
    /// `on_event`; returns the op's final state, or None on timeout.
    pub fn drain_until_done<F: FnMut(Event)>(&self, op: &Op, timeout: Duration, mut on_event: F) -> Option<OpState> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            match self.next_event(Some(left)) {
                Some(Event { kind: EventKind::OpDone { state, .. }, tag, .. }) if tag == op.tag() => {
                    return Some(state)
                }
                Some(event) => on_event(event),
                None => {}
            }
        }
    }
}

/// Results of async ops, decoded.
impl Op {
    pub fn instance(&self) -> Result<Instance, Error> {
        Instance::from_json(&self.result_json()?.ok_or_else(|| Error::decode("no result"))?)
    }
    pub fn instances(&self) -> Result<Vec<InstanceListItem>, Error> {
        list_from_json(&self.result_json()?.ok_or_else(|| Error::decode("no result"))?)
    }
    pub fn status(&self) -> Result<InstanceStatus, Error> {
        status_from_json(&self.result_json()?.ok_or_else(|| Error::decode("no result"))?)
    }
    pub fn env(&self) -> Result<BTreeMap<String, String>, Error> {
        env_from_json(&self.result_json()?.ok_or_else(|| Error::decode("no result"))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patroni_credentials_decode_and_hide_their_passwords() {
        let json = r#"{"superuser": {"username": "postgres", "password": "s3cret-su"},
            "replication": {"username": "replicator", "password": "s3cret-repl"},
            "rewind": {"username": "rewind_user", "password": "s3cret-rw"}}"#;
        let credentials = PatroniCredentials::from_json(json).unwrap();
        assert_eq!(credentials.replication.username, "replicator");
        assert_eq!(credentials.rewind.password, "s3cret-rw");
        let shown = format!("{:?}", credentials);
        assert!(shown.contains("postgres") && !shown.contains("s3cret"), "{}", shown);
        let e = PatroniCredentials::from_json(r#"{"superuser": {"username": "postgres"}}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
    }
}
