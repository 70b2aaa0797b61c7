//! Patroni clusters as a whole ([`Cluster`]: [`Context::cluster`], [`Context::cluster_from_dcs`],
//! [`Context::cluster_restart`], [`Context::cluster_reinit`], [`Context::cluster_remove`]) and a member's
//! Patroni configuration as a JSON document ([`Context::patroni_config`], [`Context::set_patroni_config`],
//! [`Context::validate_patroni_config`]); each with an `_async` twin returning an [`Op`].
//!
//! ```no_run
//! let ctx = pglift::Context::new()?;
//! let cluster = ctx.cluster("15/pg1")?;
//! println!("{} led by {:?}: {} members", cluster.name, cluster.leader, cluster.members.len());
//! let mut config = ctx.patroni_config("15/pg1")?; // secrets as "**********"
//! if let Some(pglift::Json::Object(p)) = config.get_mut("postgresql").and_then(|p| p.get_mut("parameters")) {
//!     p.insert("work_mem".into(), "8MB".into());
//! }
//! assert!(ctx.validate_patroni_config("15/pg1", &config)?.valid);
//! ctx.set_patroni_config("15/pg1", &config)?; // applied by a reload
//! # Ok::<(), pglift::Error>(())
//! ```
use std::os::raw::{c_char, c_int};
use std::ptr;

use crate::patroni::ClusterMember;
use crate::{call, cstring, ffi, Context, Error, Json, Op};

type Out = *mut *mut c_char;
type OpOut = *mut *mut ffi::pglift_op;
type Err = *mut *mut ffi::pglift_error;
type Ctx = *mut ffi::pglift_ctx;

extern "C" {
    fn pglift_patroni_config_get(ctx: Ctx, instance: *const c_char, out_json: Out, err: Err) -> c_int;
    fn pglift_patroni_config_set(ctx: Ctx, instance: *const c_char, json: *const c_char, len: usize, err: Err)
        -> c_int;
    fn pglift_patroni_config_validate(
        ctx: Ctx,
        instance: *const c_char,
        json: *const c_char,
        len: usize,
        out_json: Out,
        err: Err,
    ) -> c_int;
    fn pglift_patroni_config_get_async(ctx: Ctx, instance: *const c_char, tag: u64, out: OpOut, err: Err) -> c_int;
    fn pglift_patroni_config_set_async(
        ctx: Ctx,
        instance: *const c_char,
        json: *const c_char,
        len: usize,
        tag: u64,
        out: OpOut,
        err: Err,
    ) -> c_int;
    fn pglift_patroni_config_validate_async(
        ctx: Ctx,
        instance: *const c_char,
        json: *const c_char,
        len: usize,
        tag: u64,
        out: OpOut,
        err: Err,
    ) -> c_int;

    fn pglift_cluster_get(ctx: Ctx, instance: *const c_char, out_json: Out, err: Err) -> c_int;
    fn pglift_cluster_get_dcs(ctx: Ctx, name: *const c_char, out_json: Out, err: Err) -> c_int;
    fn pglift_cluster_restart(ctx: Ctx, instance: *const c_char, member: *const c_char, err: Err) -> c_int;
    fn pglift_cluster_reinit(ctx: Ctx, instance: *const c_char, member: *const c_char, err: Err) -> c_int;
    fn pglift_cluster_remove(ctx: Ctx, instance_or_name: *const c_char, err: Err) -> c_int;
    fn pglift_cluster_get_async(ctx: Ctx, instance: *const c_char, tag: u64, out: OpOut, err: Err) -> c_int;
    fn pglift_cluster_get_dcs_async(ctx: Ctx, name: *const c_char, tag: u64, out: OpOut, err: Err) -> c_int;
    fn pglift_cluster_restart_async(
        ctx: Ctx,
        instance: *const c_char,
        member: *const c_char,
        tag: u64,
        out: OpOut,
        err: Err,
    ) -> c_int;
    fn pglift_cluster_reinit_async(
        ctx: Ctx,
        instance: *const c_char,
        member: *const c_char,
        tag: u64,
        out: OpOut,
        err: Err,
    ) -> c_int;
    fn pglift_cluster_remove_async(ctx: Ctx, instance_or_name: *const c_char, tag: u64, out: OpOut, err: Err) -> c_int;
}

fn parse(text: &str) -> Result<Json, Error> {
    Json::parse(text).map_err(|e| Error::decode(&e.to_string()))
}
fn str_of(v: &Json, key: &str) -> Result<String, Error> {
    v.get(key).and_then(Json::as_str).map(str::to_string).ok_or_else(|| Error::decode(key))
}
fn opt_str(v: &Json, key: &str) -> Option<String> {
    v.get(key).and_then(Json::as_str).map(str::to_string)
}

/// One line of Patroni's timeline history: a timeline that ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterHistoryEntry {
    /// The timeline that ended.
    pub timeline: i64,
    /// Where it ended (a WAL position in bytes): the next timeline starts there.
    pub lsn: i64,
    /// PostgreSQL's reason, may be empty.
    pub reason: String,
    /// When (ISO 8601), when Patroni recorded it.
    pub timestamp: Option<String>,
    /// Who led next, when Patroni recorded it.
    pub new_leader: Option<String>,
}

/// A Patroni cluster as observed through a member of this host (its REST API, else the DCS) or from the
/// DCS alone.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub name: String,
    /// The member holding the leader lock; None when nobody leads.
    pub leader: Option<String>,
    /// Automatic failover paused (maintenance mode).
    pub paused: bool,
    /// "rest" (a member's REST API answered) or "dcs" (the DCS's keys).
    pub source: String,
    /// The member of this host that actions go through ("15/pg1"), if any.
    pub local_member: Option<String>,
    pub members: Vec<ClusterMember>,
    /// Oldest first; empty for a cluster that never changed timeline.
    pub history: Vec<ClusterHistoryEntry>,
    /// The DCS `config` key (else the member's GET /config); password values redacted.
    pub dynamic_configuration: Json,
    /// The DCS could not be reached ([`Context::cluster`] only): the error.
    pub dcs_error: Option<String>,
}

impl Cluster {
    pub fn from_json(text: &str) -> Result<Cluster, Error> {
        let v = parse(text)?;
        let members = match v.get("members") {
            Some(Json::Array(items)) => items.iter().map(ClusterMember::from_value).collect::<Result<Vec<_>, _>>()?,
            _ => return Err(Error::decode("members")),
        };
        let history = match v.get("history") {
            Some(Json::Array(items)) => items
                .iter()
                .map(|h| {
                    Ok(ClusterHistoryEntry {
                        timeline: h.get("timeline").and_then(Json::as_i64).ok_or_else(|| Error::decode("timeline"))?,
                        lsn: h.get("lsn").and_then(Json::as_i64).ok_or_else(|| Error::decode("lsn"))?,
                        reason: opt_str(h, "reason").unwrap_or_default(),
                        timestamp: opt_str(h, "timestamp"),
                        new_leader: opt_str(h, "new_leader"),
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?,
            _ => Vec::new(),
        };
        Ok(Cluster {
            name: str_of(&v, "name")?,
            leader: opt_str(&v, "leader"),
            paused: v.get("paused").and_then(Json::as_bool).unwrap_or(false),
            source: str_of(&v, "source")?,
            local_member: opt_str(&v, "local_member"),
            members,
            history,
            dynamic_configuration: v.get("dynamic_configuration").cloned().unwrap_or(Json::Null),
            dcs_error: opt_str(&v, "dcs_error"),
        })
    }

    /// The member named `name`.
    pub fn member(&self, name: &str) -> Option<&ClusterMember> {
        self.members.iter().find(|m| m.name == name)
    }
}

/// One thing [`Context::validate_patroni_config`] found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigIssue {
    /// The field at fault ("postgresql.parameters.work_mem"); "" when Patroni names none.
    pub field: String,
    pub message: String,
}

/// The outcome of [`Context::validate_patroni_config`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigValidation {
    pub valid: bool,
    pub issues: Vec<ConfigIssue>,
}

impl ConfigValidation {
    pub fn from_json(text: &str) -> Result<ConfigValidation, Error> {
        let v = parse(text)?;
        let issues = match v.get("issues") {
            Some(Json::Array(items)) => items
                .iter()
                .map(|i| {
                    Ok(ConfigIssue { field: opt_str(i, "field").unwrap_or_default(), message: str_of(i, "message")? })
                })
                .collect::<Result<Vec<_>, Error>>()?,
            _ => return Err(Error::decode("issues")),
        };
        Ok(ConfigValidation {
            valid: v.get("valid").and_then(Json::as_bool).ok_or_else(|| Error::decode("valid"))?,
            issues,
        })
    }
}

fn member_ptr(member: &Option<std::ffi::CString>) -> *const c_char {
    member.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

impl Context {
    // -- a member's Patroni configuration ----------------------------------------------------------
    /// The member's Patroni configuration (its YAML as a JSON object, every key as in the file), every
    /// secret as "**********" ([`Context::patroni_credentials`] gives them). A plain instance:
    /// [`crate::ErrorKind::State`].
    pub fn patroni_config(&self, instance: &str) -> Result<Json, Error> {
        let name = cstring(instance)?;
        parse(&self.json_call(|out, e| unsafe { pglift_patroni_config_get(self.ctx, name.as_ptr(), out, e) })?)
    }

    /// Replaces the member's configuration by the whole document `config` ([`Context::patroni_config`]'s,
    /// edited): absent keys removed, a "**********" or absent secret kept, another secret value refused.
    /// Checked first ([`crate::ErrorKind::InvalidSpec`] naming the field: "scope", "restapi.listen",
    /// "postgresql.parameters.work_mem"...), then written (0600); a running member applies it on
    /// [`Context::reload`].
    pub fn set_patroni_config(&self, instance: &str, config: &Json) -> Result<(), Error> {
        let name = cstring(instance)?;
        let doc = config.to_string();
        call(|e| unsafe {
            pglift_patroni_config_set(self.ctx, name.as_ptr(), doc.as_ptr() as *const c_char, doc.len(), e)
        })
    }

    /// What [`Context::set_patroni_config`] would refuse of `config`, then Patroni's own validation;
    /// nothing is changed. A malformed document fails as `set_patroni_config` does.
    pub fn validate_patroni_config(&self, instance: &str, config: &Json) -> Result<ConfigValidation, Error> {
        let name = cstring(instance)?;
        let doc = config.to_string();
        let json = self.json_call(|out, e| unsafe {
            pglift_patroni_config_validate(self.ctx, name.as_ptr(), doc.as_ptr() as *const c_char, doc.len(), out, e)
        })?;
        ConfigValidation::from_json(&json)
    }

    /// [`Context::patroni_config`] as an op: [`Op::patroni_config`].
    pub fn patroni_config_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { pglift_patroni_config_get_async(self.ctx, name.as_ptr(), tag, o, e) })
    }

    /// [`Context::set_patroni_config`] as an op (no result); a malformed document fails at the call.
    pub fn set_patroni_config_async(&self, instance: &str, config: &Json, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        let doc = config.to_string();
        self.start_op(|o, e| unsafe {
            pglift_patroni_config_set_async(
                self.ctx,
                name.as_ptr(),
                doc.as_ptr() as *const c_char,
                doc.len(),
                tag,
                o,
                e,
            )
        })
    }

    /// [`Context::validate_patroni_config`] as an op: [`Op::config_validation`].
    pub fn validate_patroni_config_async(&self, instance: &str, config: &Json, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        let doc = config.to_string();
        self.start_op(|o, e| unsafe {
            pglift_patroni_config_validate_async(
                self.ctx,
                name.as_ptr(),
                doc.as_ptr() as *const c_char,
                doc.len(),
                tag,
                o,
                e,
            )
        })
    }

    // -- clusters ----------------------------------------------------------------------------------
    /// The cluster of `instance` (a Patroni member of this host), through its REST API, else the DCS.
    pub fn cluster(&self, instance: &str) -> Result<Cluster, Error> {
        let name = cstring(instance)?;
        Cluster::from_json(&self.json_call(|out, e| unsafe { pglift_cluster_get(self.ctx, name.as_ptr(), out, e) })?)
    }

    /// The cluster named `name` as the DCS of the site settings holds it (no member is asked). A bad name:
    /// [`crate::ErrorKind::InvalidSpec`] (field "cluster"); no key: [`crate::ErrorKind::NotFound`].
    pub fn cluster_from_dcs(&self, name: &str) -> Result<Cluster, Error> {
        let name = cstring(name)?;
        Cluster::from_json(
            &self.json_call(|out, e| unsafe { pglift_cluster_get_dcs(self.ctx, name.as_ptr(), out, e) })?,
        )
    }

    /// Restarts `member`'s PostgreSQL through its Patroni (returns once a new postmaster runs); None:
    /// every member, replicas first and the leader last (all on this host). Not a member:
    /// [`crate::ErrorKind::InvalidSpec`] (field "member").
    pub fn cluster_restart(&self, instance: &str, member: Option<&str>) -> Result<(), Error> {
        let name = cstring(instance)?;
        let member = member.map(cstring).transpose()?;
        call(|e| unsafe { pglift_cluster_restart(self.ctx, name.as_ptr(), member_ptr(&member), e) })
    }

    /// Reinitializes replica `member` (cloned anew from the leader); returns once it streams again. The
    /// leader: [`crate::ErrorKind::State`].
    pub fn cluster_reinit(&self, instance: &str, member: &str) -> Result<(), Error> {
        let name = cstring(instance)?;
        let member = cstring(member)?;
        call(|e| unsafe { pglift_cluster_reinit(self.ctx, name.as_ptr(), member.as_ptr(), e) })
    }

    /// Deletes the cluster's keys from the DCS: `instance_or_name` is a cluster name or "VERSION/NAME", a
    /// member of this host. Refused ([`crate::ErrorKind::State`]) while a member is alive or configured here.
    pub fn cluster_remove(&self, instance_or_name: &str) -> Result<(), Error> {
        let name = cstring(instance_or_name)?;
        call(|e| unsafe { pglift_cluster_remove(self.ctx, name.as_ptr(), e) })
    }

    /// [`Context::cluster`] as an op: [`Op::cluster`].
    pub fn cluster_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { pglift_cluster_get_async(self.ctx, name.as_ptr(), tag, o, e) })
    }

    /// [`Context::cluster_from_dcs`] as an op: [`Op::cluster`].
    pub fn cluster_from_dcs_async(&self, name: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(name)?;
        self.start_op(|o, e| unsafe { pglift_cluster_get_dcs_async(self.ctx, name.as_ptr(), tag, o, e) })
    }

    /// [`Context::cluster_restart`] as an op: [`Op::cluster`] is the cluster observed afterwards.
    pub fn cluster_restart_async(&self, instance: &str, member: Option<&str>, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        let member = member.map(cstring).transpose()?;
        self.start_op(|o, e| unsafe {
            pglift_cluster_restart_async(self.ctx, name.as_ptr(), member_ptr(&member), tag, o, e)
        })
    }

    /// [`Context::cluster_reinit`] as an op: [`Op::cluster`] is the cluster observed afterwards.
    pub fn cluster_reinit_async(&self, instance: &str, member: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        let member = cstring(member)?;
        self.start_op(|o, e| unsafe {
            pglift_cluster_reinit_async(self.ctx, name.as_ptr(), member.as_ptr(), tag, o, e)
        })
    }

    /// [`Context::cluster_remove`] as an op: [`Op::cluster`] is what is left (no members).
    pub fn cluster_remove_async(&self, instance_or_name: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance_or_name)?;
        self.start_op(|o, e| unsafe { pglift_cluster_remove_async(self.ctx, name.as_ptr(), tag, o, e) })
    }
}

impl Op {
    /// The result of a cluster op (get, restart, reinit, remove).
    pub fn cluster(&self) -> Result<Cluster, Error> {
        Cluster::from_json(&self.result_json()?.ok_or_else(|| Error::decode("no result"))?)
    }
    /// The result of [`Context::patroni_config_async`].
    pub fn patroni_config(&self) -> Result<Json, Error> {
        parse(&self.result_json()?.ok_or_else(|| Error::decode("no result"))?)
    }
    /// The result of [`Context::validate_patroni_config_async`].
    pub fn config_validation(&self) -> Result<ConfigValidation, Error> {
        ConfigValidation::from_json(&self.result_json()?.ok_or_else(|| Error::decode("no result"))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_cluster() {
        let c = Cluster::from_json(
            r#"{"name": "c", "leader": "n1", "paused": false, "source": "rest", "local_member": "15/n1",
                "members": [{"name": "n1", "host": "127.0.1.1", "port": 5432, "role": "leader", "state": "running"},
                            {"name": "n2", "host": "127.0.1.2", "port": 5433, "role": "replica", "state": "streaming", "lag": 0}],
                "history": [{"timeline": 1, "lsn": 50331808, "reason": "no recovery target specified",
                             "timestamp": "2026-12-06T03:00:00+00:00", "new_leader": "n2"},
                            {"timeline": 2, "lsn": 67108864, "reason": "", "timestamp": null, "new_leader": null}],
                "dynamic_configuration": {"ttl": 10, "postgresql": {"parameters": {"x": "**********"}}}}"#,
        )
        .unwrap();
        assert_eq!(
            (c.name.as_str(), c.leader.as_deref(), c.paused, c.source.as_str()),
            ("c", Some("n1"), false, "rest")
        );
        assert_eq!(c.local_member.as_deref(), Some("15/n1"));
        assert_eq!(c.member("n2").map(|m| m.role.as_str()), Some("replica"));
        assert_eq!(c.history.len(), 2);
        assert_eq!(c.history[0].new_leader.as_deref(), Some("n2"));
        assert_eq!((c.history[1].lsn, c.history[1].timestamp.clone()), (67108864, None));
        assert_eq!(c.dynamic_configuration.get("ttl").and_then(Json::as_i64), Some(10));
        assert_eq!(c.dcs_error, None);
        let c = Cluster::from_json(
            r#"{"name": "c", "leader": null, "paused": true, "source": "dcs", "local_member": null, "members": [],
                "history": [], "dynamic_configuration": {}, "dcs_error": "etcd: connection refused"}"#,
        )
        .unwrap();
        assert_eq!((c.leader, c.paused, c.dcs_error.as_deref()), (None, true, Some("etcd: connection refused")));
        assert!(Cluster::from_json(r#"{"name": "c", "source": "dcs"}"#).is_err(), "no members: an error");
    }

    #[test]
    fn decodes_a_validation() {
        let v = ConfigValidation::from_json(
            r#"{"valid": false, "issues": [{"field": "postgresql.parameters.work_mem", "message": "bad"},
                                            {"field": "", "message": "x"}]}"#,
        )
        .unwrap();
        assert!(!v.valid);
        assert_eq!(v.issues[0], ConfigIssue { field: "postgresql.parameters.work_mem".into(), message: "bad".into() });
        assert_eq!(v.issues[1].field, "");
        assert!(ConfigValidation::from_json(r#"{"valid": true, "issues": []}"#).unwrap().valid);
        assert!(ConfigValidation::from_json(r#"{"issues": []}"#).is_err());
    }
}
