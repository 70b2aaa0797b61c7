//! Patroni clusters: what [`Context::get`] shows of a member ([`Instance::patroni`]) and the topology
//! operations, typed: [`Context::switchover`], [`Context::failover`], [`Context::pause`],
//! [`Context::resume`], [`Context::promote`] (each with an `_async` twin), and
//! [`Context::patroni_log_file`]. The instance argument names any member on this host.
//!
//! ```no_run
//! use pglift::{Context, SwitchoverOptions};
//! let ctx = Context::new()?;
//! let done = ctx.switchover("pg1", &SwitchoverOptions { candidate: Some("pg2".into()), ..Default::default() })?;
//! assert_eq!(done.new_leader.as_deref(), Some("pg2"));
//! # Ok::<(), pglift::Error>(())
//! ```
use std::os::raw::{c_char, c_int};
use std::path::PathBuf;
use std::ptr;

use crate::{call, cstring, ffi, take, Context, Error, Json, Op};

extern "C" {
    fn pglift_patroni_switchover(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        candidate: *const c_char,
        scheduled_at: *const c_char,
        out_json: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_patroni_failover(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        candidate: *const c_char,
        out_json: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_patroni_pause(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        pause: c_int,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_instance_promote(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_patroni_log_file(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        out_path: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_patroni_switchover_async(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        candidate: *const c_char,
        scheduled_at: *const c_char,
        tag: u64,
        out: *mut *mut ffi::pglift_op,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_patroni_failover_async(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        candidate: *const c_char,
        tag: u64,
        out: *mut *mut ffi::pglift_op,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_patroni_pause_async(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        pause: c_int,
        tag: u64,
        out: *mut *mut ffi::pglift_op,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_instance_promote_async(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        tag: u64,
        out: *mut *mut ffi::pglift_op,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
}

fn decode_error(what: &str) -> Error {
    Error::decode(what)
}
fn str_of(v: &Json, key: &str) -> Result<String, Error> {
    v.get(key).and_then(Json::as_str).map(str::to_string).ok_or_else(|| decode_error(key))
}
fn opt_str(v: &Json, key: &str) -> Option<String> {
    v.get(key).and_then(Json::as_str).map(str::to_string)
}

/// A replica's lag, as Patroni reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lag {
    Bytes(i64),
    /// Patroni's "unknown".
    Unknown,
}

/// One member of a Patroni cluster, as Patroni (or, failing it, the DCS) reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterMember {
    pub name: String,
    pub host: String,
    pub port: u16,
    /// "leader", "replica", "sync_standby"...
    pub role: String,
    /// "running", "streaming", "stopped"...
    pub state: String,
    pub api_url: Option<String>,
    pub timeline: Option<i64>,
    /// None on the leader.
    pub lag: Option<Lag>,
    /// Observed by pglift: "running" or "unreachable" (its REST API answered or not).
    pub patroni_api: Option<String>,
    /// As a candidate to lead: "leader", "streaming", "not_streaming", "lagging", "diverged"...
    pub health: Option<String>,
    /// Why it cannot take over.
    pub health_reason: Option<String>,
}

impl ClusterMember {
    pub(crate) fn from_value(v: &Json) -> Result<ClusterMember, Error> {
        Ok(ClusterMember {
            name: str_of(v, "name")?,
            host: str_of(v, "host")?,
            port: v.get("port").and_then(Json::as_i64).ok_or_else(|| decode_error("port"))? as u16,
            role: str_of(v, "role")?,
            state: str_of(v, "state")?,
            api_url: opt_str(v, "api_url"),
            timeline: v.get("timeline").and_then(Json::as_i64),
            lag: match v.get("lag") {
                Some(Json::String(_)) => Some(Lag::Unknown),
                Some(n) => n.as_i64().map(Lag::Bytes),
                None => None,
            },
            patroni_api: opt_str(v, "patroni_api"),
            health: opt_str(v, "health"),
            health_reason: opt_str(v, "health_reason"),
        })
    }
}

/// The "patroni" section of a member's [`Context::get`].
#[derive(Clone, Debug, PartialEq)]
pub struct PatroniInfo {
    pub cluster: String,
    pub node: String,
    pub restapi_connect_address: String,
    pub restapi_listen: String,
    pub postgresql_connect_host: Option<String>,
    /// From this member's REST API, else from the DCS (then each with state "unknown"); never empty.
    pub members: Vec<ClusterMember>,
    pub is_paused: Option<bool>,
    /// This member's Patroni: "running", "not_running" or "unreachable".
    pub state: Option<String>,
    /// Its postmaster runs while its Patroni does not.
    pub orphan_postmaster: bool,
    /// The DCS could not be reached: the error.
    pub dcs_error: Option<String>,
}

impl PatroniInfo {
    pub(crate) fn from_value(v: &Json) -> Result<PatroniInfo, Error> {
        let restapi = v.get("restapi");
        let members = match v.get("cluster_members") {
            Some(Json::Array(items)) => items.iter().map(ClusterMember::from_value).collect::<Result<Vec<_>, _>>()?,
            _ => Vec::new(),
        };
        Ok(PatroniInfo {
            cluster: str_of(v, "cluster")?,
            node: str_of(v, "node")?,
            restapi_connect_address: restapi.and_then(|r| opt_str(r, "connect_address")).unwrap_or_default(),
            restapi_listen: restapi.and_then(|r| opt_str(r, "listen")).unwrap_or_default(),
            postgresql_connect_host: v.get("postgresql").and_then(|p| opt_str(p, "connect_host")),
            members,
            is_paused: v.get("is_paused").and_then(Json::as_bool),
            state: opt_str(v, "state"),
            orphan_postmaster: v.get("orphan_postmaster").and_then(Json::as_bool).unwrap_or(false),
            dcs_error: opt_str(v, "dcs_error"),
        })
    }

    /// The member leading the cluster, if any.
    pub fn leader(&self) -> Option<&ClusterMember> {
        self.members.iter().find(|m| m.role == "leader")
    }
}

/// The "patroni" part of a member's [`Context::status`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatroniStatus {
    /// "running", "not_running" or "unreachable"
    pub state: String,
    /// Its postmaster runs without its Patroni.
    pub orphan_postmaster: bool,
    /// The DCS could not be reached: the error.
    pub dcs_error: Option<String>,
}

impl PatroniStatus {
    pub(crate) fn from_value(v: &Json) -> Result<PatroniStatus, Error> {
        Ok(PatroniStatus {
            state: str_of(v, "state")?,
            orphan_postmaster: v.get("orphan_postmaster").and_then(Json::as_bool).unwrap_or(false),
            dcs_error: opt_str(v, "dcs_error"),
        })
    }
}

/// The outcome of a switchover or a failover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopologyResult {
    pub previous_leader: String,
    /// None when only scheduled.
    pub new_leader: Option<String>,
    pub scheduled: bool,
}

impl TopologyResult {
    pub fn from_json(text: &str) -> Result<TopologyResult, Error> {
        let v = Json::parse(text).map_err(|e| Error::decode(&e.to_string()))?;
        Ok(TopologyResult {
            previous_leader: str_of(&v, "previous_leader")?,
            new_leader: opt_str(&v, "new_leader"),
            scheduled: v.get("scheduled").and_then(Json::as_bool).unwrap_or(false),
        })
    }
}

/// Options of [`Context::switchover`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SwitchoverOptions {
    /// None: any healthy replica.
    pub candidate: Option<String>,
    /// ISO 8601 with a time zone ("2026-12-24T08:00:00+00:00"); None: now.
    pub scheduled_at: Option<String>,
}

fn optional(s: Option<&str>) -> Result<Option<std::ffi::CString>, Error> {
    s.map(cstring).transpose()
}
fn ptr_of(s: &Option<std::ffi::CString>) -> *const c_char {
    s.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

impl Context {
    /// Hands the leadership of the member's cluster to the candidate (or any healthy replica); returns
    /// once the new leader is observed and the former one rejoined (or once scheduled).
    pub fn switchover(&self, instance: &str, options: &SwitchoverOptions) -> Result<TopologyResult, Error> {
        let name = cstring(instance)?;
        let candidate = optional(options.candidate.as_deref())?;
        let at = optional(options.scheduled_at.as_deref())?;
        let json = self.json_call(|out, e| unsafe {
            pglift_patroni_switchover(self.ctx, name.as_ptr(), ptr_of(&candidate), ptr_of(&at), out, e)
        })?;
        TopologyResult::from_json(&json)
    }

    /// Makes `candidate` lead the member's cluster (manual failover); returns once it leads.
    pub fn failover(&self, instance: &str, candidate: &str) -> Result<TopologyResult, Error> {
        let name = cstring(instance)?;
        let candidate = cstring(candidate)?;
        let json = self.json_call(|out, e| unsafe {
            pglift_patroni_failover(self.ctx, name.as_ptr(), candidate.as_ptr(), out, e)
        })?;
        TopologyResult::from_json(&json)
    }

    /// Pauses automatic failover of the member's cluster; returns once the member reports it.
    pub fn pause(&self, instance: &str) -> Result<(), Error> {
        let name = cstring(instance)?;
        call(|e| unsafe { pglift_patroni_pause(self.ctx, name.as_ptr(), 1, e) })
    }

    /// Resumes automatic failover of the member's cluster; returns once the member reports it.
    pub fn resume(&self, instance: &str) -> Result<(), Error> {
        let name = cstring(instance)?;
        call(|e| unsafe { pglift_patroni_pause(self.ctx, name.as_ptr(), 0, e) })
    }

    /// A switchover to the member; [`crate::ErrorKind::State`] for a plain instance.
    pub fn promote(&self, instance: &str) -> Result<(), Error> {
        let name = cstring(instance)?;
        call(|e| unsafe { pglift_instance_promote(self.ctx, name.as_ptr(), e) })
    }

    /// The path of the member's Patroni log file.
    pub fn patroni_log_file(&self, instance: &str) -> Result<PathBuf, Error> {
        let name = cstring(instance)?;
        let mut out: *mut c_char = ptr::null_mut();
        call(|e| unsafe { pglift_patroni_log_file(self.ctx, name.as_ptr(), &mut out, e) })?;
        Ok(PathBuf::from(unsafe { take(out) }))
    }

    /// [`Context::switchover`], as an op: the result decodes with [`Op::topology_result`].
    pub fn switchover_async(&self, instance: &str, options: &SwitchoverOptions, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        let candidate = optional(options.candidate.as_deref())?;
        let at = optional(options.scheduled_at.as_deref())?;
        self.start_op(|o, e| unsafe {
            pglift_patroni_switchover_async(self.ctx, name.as_ptr(), ptr_of(&candidate), ptr_of(&at), tag, o, e)
        })
    }

    /// [`Context::failover`], as an op: the result decodes with [`Op::topology_result`].
    pub fn failover_async(&self, instance: &str, candidate: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        let candidate = cstring(candidate)?;
        self.start_op(|o, e| unsafe {
            pglift_patroni_failover_async(self.ctx, name.as_ptr(), candidate.as_ptr(), tag, o, e)
        })
    }

    /// [`Context::pause`] (`pause`) or [`Context::resume`] (`!pause`), as an op.
    pub fn pause_async(&self, instance: &str, pause: bool, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { pglift_patroni_pause_async(self.ctx, name.as_ptr(), pause as c_int, tag, o, e) })
    }

    /// [`Context::promote`], as an op.
    pub fn promote_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { pglift_instance_promote_async(self.ctx, name.as_ptr(), tag, o, e) })
    }
}

impl Op {
    /// The result of a switchover or failover op.
    pub fn topology_result(&self) -> Result<TopologyResult, Error> {
        TopologyResult::from_json(&self.result_json()?.ok_or_else(|| Error::decode("no result"))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_members_patroni_section() {
        let v = Json::parse(
            r#"{"cluster": "c", "node": "n1", "restapi": {"connect_address": "127.0.1.1:8008", "listen": "127.0.1.1:8008"},
                "postgresql": {"connect_host": null}, "is_paused": true, "orphan_postmaster": false,
                "cluster_members": [
                  {"name": "n1", "host": "127.0.1.1", "port": 5432, "role": "leader", "state": "running", "timeline": 2},
                  {"name": "n2", "host": "127.0.1.2", "port": 5433, "role": "replica", "state": "streaming", "lag": 16},
                  {"name": "n3", "host": "127.0.1.3", "port": 5434, "role": "replica", "state": "starting", "lag": "unknown"}]}"#,
        )
        .unwrap();
        let p = PatroniInfo::from_value(&v).unwrap();
        assert_eq!((p.cluster.as_str(), p.node.as_str(), p.is_paused), ("c", "n1", Some(true)));
        assert_eq!(p.postgresql_connect_host, None);
        assert_eq!(p.leader().map(|m| (m.name.as_str(), m.timeline)), Some(("n1", Some(2))));
        let lags: Vec<Option<Lag>> = p.members.iter().map(|m| m.lag.clone()).collect();
        assert_eq!(lags, vec![None, Some(Lag::Bytes(16)), Some(Lag::Unknown)]);
        assert!(PatroniInfo::from_value(&Json::parse(r#"{"node": "n1"}"#).unwrap()).is_err(), "no cluster: an error");
    }

    #[test]
    fn decodes_topology_results() {
        let r =
            TopologyResult::from_json(r#"{"previous_leader": "a", "new_leader": null, "scheduled": true}"#).unwrap();
        assert_eq!(r, TopologyResult { previous_leader: "a".into(), new_leader: None, scheduled: true });
        let r =
            TopologyResult::from_json(r#"{"previous_leader": "a", "new_leader": "b", "scheduled": false}"#).unwrap();
        assert_eq!(r.new_leader.as_deref(), Some("b"));
    }
}
