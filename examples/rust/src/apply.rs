//! Declarative changes (`PGLIFT_HAS_APPLY`): [`Context::alter_instance`] changes an existing instance,
//! [`Context::apply_instance`] brings one to a manifest (creating, changing or dropping it). Everything
//! is checked before the first change; with `dry_run` the differences are computed and returned, and
//! nothing changes. On an existing instance, apply also brings the manifest's "roles" and "databases"
//! to it ([`ApplyResult::roles`], [`ApplyResult::databases`]). Also the managed parameters as a map,
//! [`Context::configure`], or as postgresql.conf text (`PGLIFT_HAS_CONF_TEXT`):
//! [`Context::parameters_text`], [`Context::configure_text`] (dry runs: `PGLIFT_HAS_DRY_RUN`).
//!
//! ```no_run
//! use pglift::{Context, InstanceChanges, InstanceSpec};
//! let ctx = Context::new()?;
//! let manifest = InstanceSpec::new("main").port(5433).setting("work_mem", "8MB");
//! assert_eq!(ctx.apply_instance(&manifest, false)?.change_state.as_deref(), Some("created"));
//! let changes = InstanceChanges::default().setting("work_mem", "16MB");
//! let preview = ctx.alter_instance("main", &changes, true)?; // dry run: preview.diff, nothing changed
//! # Ok::<(), pglift::Error>(())
//! ```
use std::collections::BTreeMap;
use std::os::raw::{c_char, c_int};

use crate::json::quote;
use crate::{call, cstring, ffi, take, Context, Error, InstanceSpec, Json, Op, WriteOptions};

extern "C" {
    fn pglift_instance_alter(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        changes: *const c_char,
        len: usize,
        flags: u32,
        out_json: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_instance_apply(
        ctx: *mut ffi::pglift_ctx,
        manifest: *const c_char,
        len: usize,
        flags: u32,
        out_json: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_instance_alter_async(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        changes: *const c_char,
        len: usize,
        flags: u32,
        tag: u64,
        out: *mut *mut ffi::pglift_op,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_instance_apply_async(
        ctx: *mut ffi::pglift_ctx,
        manifest: *const c_char,
        len: usize,
        flags: u32,
        tag: u64,
        out: *mut *mut ffi::pglift_op,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_instance_parameters_text(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        out_text: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_instance_configure_text_with(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        text: *const c_char,
        len: usize,
        flags: u32,
        out_json: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_instance_configure_with(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        changes: *const c_char,
        len: usize,
        flags: u32,
        out_json: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_instance_configure_with_async(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        changes: *const c_char,
        len: usize,
        flags: u32,
        tag: u64,
        out: *mut *mut ffi::pglift_op,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
}

const DRY_RUN: u32 = 1; // PGLIFT_APPLY_DRY_RUN, and PGLIFT_OP_DRY_RUN of configure

fn flags(dry_run: bool) -> u32 {
    if dry_run {
        DRY_RUN
    } else {
        0
    }
}

/// What [`Context::alter_instance`] takes: `None` (and empty) fields are left as they are.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InstanceChanges {
    pub port: Option<u16>,
    /// "started", "stopped" or "restarted"
    pub state: Option<String>,
    /// Managed postgresql.conf parameters to set; `Json::Null` removes one.
    pub settings: BTreeMap<String, Json>,
    /// pg_checksums --enable / --disable: the instance must be stopped.
    pub data_checksums: Option<bool>,
    /// Restart at once when a change takes effect at restart only (the port, postmaster parameters);
    /// without it they are reported in [`ApplyResult::needs_restart`].
    pub restart_on_changes: bool,
}

impl InstanceChanges {
    pub fn port(mut self, port: u16) -> InstanceChanges {
        self.port = Some(port);
        self
    }
    pub fn state(mut self, state: &str) -> InstanceChanges {
        self.state = Some(state.to_string());
        self
    }
    pub fn setting<V: Into<Json>>(mut self, name: &str, value: V) -> InstanceChanges {
        self.settings.insert(name.to_string(), value.into());
        self
    }
    pub fn to_json(&self) -> String {
        let mut fields = Vec::new();
        if let Some(p) = self.port {
            fields.push(format!("\"port\":{}", p));
        }
        if let Some(s) = &self.state {
            fields.push(format!("\"state\":{}", quote(s)));
        }
        if !self.settings.is_empty() {
            fields.push(format!("\"settings\":{}", Json::Object(self.settings.clone())));
        }
        if let Some(c) = self.data_checksums {
            fields.push(format!("\"data_checksums\":{}", c));
        }
        if self.restart_on_changes {
            fields.push("\"restart_on_changes\":true".to_string());
        }
        format!("{{{}}}", fields.join(","))
    }
}

/// One difference: `before` and `after` are JSON values (null: absent).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    /// "port", "state", "settings.work_mem"...
    pub field: String,
    pub before: Json,
    pub after: Json,
}

fn strings(v: &Json, key: &str) -> Vec<String> {
    match v.get(key) {
        Some(Json::Array(items)) => items.iter().filter_map(Json::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

fn flag(v: &Json, key: &str) -> bool {
    v.get(key).and_then(Json::as_bool).unwrap_or(false)
}

/// What an apply did (or, dry run, would do) to one of the manifest's roles or databases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectChange {
    pub name: String,
    /// "created", "changed" or "dropped"; None when it was already as the manifest says.
    pub change_state: Option<String>,
}

fn object_changes(v: &Json, key: &str) -> Result<Vec<ObjectChange>, Error> {
    match v.get(key) {
        Some(Json::Array(items)) => items
            .iter()
            .map(|o| {
                Ok(ObjectChange {
                    name: o
                        .get("name")
                        .and_then(Json::as_str)
                        .ok_or_else(|| Error::decode(&format!("{}.name", key)))?
                        .to_string(),
                    change_state: o.get("change_state").and_then(Json::as_str).map(str::to_string),
                })
            })
            .collect(),
        _ => Ok(Vec::new()), // an alter's result, or a library without them
    }
}

/// What an alter or an apply did (or, dry run, would do).
#[derive(Clone, Debug, PartialEq)]
pub struct ApplyResult {
    /// "created", "changed" or "dropped"; None when nothing changed.
    pub change_state: Option<String>,
    pub diff: Vec<FieldChange>,
    /// Changed parameters (the port included) effective at restart only, and not restarted for.
    pub needs_restart: Vec<String>,
    pub restarted: bool,
    pub pending_restart: bool,
    pub dry_run: bool,
    /// An apply on an existing instance: each of the manifest's roles, in order, then the absent ones
    /// (empty when the instance is created: they are made with it).
    pub roles: Vec<ObjectChange>,
    /// As `roles`, for the manifest's databases.
    pub databases: Vec<ObjectChange>,
}

impl ApplyResult {
    pub fn from_json(text: &str) -> Result<ApplyResult, Error> {
        let v = Json::parse(text).map_err(|e| Error::decode(&e.to_string()))?;
        let diff = match v.get("diff") {
            Some(Json::Array(items)) => items
                .iter()
                .map(|c| {
                    Ok(FieldChange {
                        field: c
                            .get("field")
                            .and_then(Json::as_str)
                            .ok_or_else(|| Error::decode("diff.field"))?
                            .to_string(),
                        before: c.get("before").cloned().unwrap_or(Json::Null),
                        after: c.get("after").cloned().unwrap_or(Json::Null),
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?,
            _ => return Err(Error::decode("no 'diff'")),
        };
        Ok(ApplyResult {
            change_state: v.get("change_state").and_then(Json::as_str).map(str::to_string),
            diff,
            needs_restart: strings(&v, "needs_restart"),
            restarted: flag(&v, "restarted"),
            pending_restart: flag(&v, "pending_restart"),
            dry_run: flag(&v, "dry_run"),
            roles: object_changes(&v, "roles")?,
            databases: object_changes(&v, "databases")?,
        })
    }
    /// Whether the instance changed (or, dry run, would change).
    pub fn changed(&self) -> bool {
        self.change_state.is_some()
    }
}

/// What [`Context::configure`] or [`Context::configure_text`] did (or, dry run, would do: then
/// `reloaded` is false).
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigurationResult {
    /// Each parameter changed: (before, after), JSON values (null: absent).
    pub changes: BTreeMap<String, (Json, Json)>,
    pub reloaded: bool,
    /// Restart-only parameters: reported, not applied.
    pub needs_restart: Vec<String>,
    pub pending_restart: bool,
}

impl ConfigurationResult {
    pub fn from_json(text: &str) -> Result<ConfigurationResult, Error> {
        let v = Json::parse(text).map_err(|e| Error::decode(&e.to_string()))?;
        let changes = match v.get("changes") {
            Some(Json::Object(m)) => m
                .iter()
                .map(|(name, pair)| match pair {
                    Json::Array(p) if p.len() == 2 => Ok((name.clone(), (p[0].clone(), p[1].clone()))),
                    _ => Err(Error::decode("changes: expecting [before, after]")),
                })
                .collect::<Result<BTreeMap<_, _>, Error>>()?,
            _ => return Err(Error::decode("no 'changes'")),
        };
        Ok(ConfigurationResult {
            changes,
            reloaded: flag(&v, "reloaded"),
            needs_restart: strings(&v, "needs_restart"),
            pending_restart: flag(&v, "pending_restart"),
        })
    }
}

impl Context {
    /// Changes an existing instance (NotFound otherwise): data checksums, then port and settings
    /// (reloaded when running), then state, then the restart asked for or needed. A bad field is
    /// InvalidSpec naming it, before anything changes.
    pub fn alter_instance(
        &self,
        instance: &str,
        changes: &InstanceChanges,
        dry_run: bool,
    ) -> Result<ApplyResult, Error> {
        self.alter_instance_json(instance, &changes.to_json(), dry_run)
    }

    /// [`Context::alter_instance`] with the changes as JSON.
    pub fn alter_instance_json(&self, instance: &str, changes: &str, dry_run: bool) -> Result<ApplyResult, Error> {
        let name = cstring(instance)?;
        let json = self.json_call(|out, e| unsafe {
            pglift_instance_alter(
                self.ctx,
                name.as_ptr(),
                changes.as_ptr() as *const c_char,
                changes.len(),
                flags(dry_run),
                out,
                e,
            )
        })?;
        ApplyResult::from_json(&json)
    }

    /// Brings an instance to its manifest, whose `state` may also be "absent" (drop it) or "restarted":
    /// creates it (change_state "created"), changes what differs (port, settings given, state:
    /// "changed"), drops it ("dropped"), or does nothing (None). Locale, encoding and version cannot
    /// change (InvalidSpec naming the field).
    pub fn apply_instance(&self, manifest: &InstanceSpec, dry_run: bool) -> Result<ApplyResult, Error> {
        self.apply_instance_json(&manifest.to_json(), dry_run)
    }

    /// [`Context::apply_instance`] with the manifest as JSON (for fields [`InstanceSpec`] does not
    /// model, such as "restart_on_changes" or "data_checksums").
    pub fn apply_instance_json(&self, manifest: &str, dry_run: bool) -> Result<ApplyResult, Error> {
        let json = self.json_call(|out, e| unsafe {
            pglift_instance_apply(self.ctx, manifest.as_ptr() as *const c_char, manifest.len(), flags(dry_run), out, e)
        })?;
        ApplyResult::from_json(&json)
    }

    /// The result decodes with [`Op::apply_result`].
    pub fn alter_instance_async(
        &self,
        instance: &str,
        changes: &InstanceChanges,
        dry_run: bool,
        tag: u64,
    ) -> Result<Op, Error> {
        let name = cstring(instance)?;
        let doc = changes.to_json();
        self.start_op(|o, e| unsafe {
            pglift_instance_alter_async(
                self.ctx,
                name.as_ptr(),
                doc.as_ptr() as *const c_char,
                doc.len(),
                flags(dry_run),
                tag,
                o,
                e,
            )
        })
    }

    /// The result decodes with [`Op::apply_result`].
    pub fn apply_instance_async(&self, manifest: &InstanceSpec, dry_run: bool, tag: u64) -> Result<Op, Error> {
        let doc = manifest.to_json();
        self.start_op(|o, e| unsafe {
            pglift_instance_apply_async(self.ctx, doc.as_ptr() as *const c_char, doc.len(), flags(dry_run), tag, o, e)
        })
    }

    /// The managed parameters as "name = value" lines, sorted, values as postgresql.conf writes them (a
    /// Patroni member: its YAML's postgresql.parameters only). Blocking: the C ABI has no async form.
    pub fn parameters_text(&self, instance: &str) -> Result<String, Error> {
        let name = cstring(instance)?;
        self.json_call(|out, e| unsafe { pglift_instance_parameters_text(self.ctx, name.as_ptr(), out, e) })
    }

    /// Makes `text` (postgresql.conf syntax; blank lines and comments ignored) the managed parameters:
    /// new or changed values set, names no longer there removed, then a running instance reloaded. A
    /// line that is not one `name = value` entry is InvalidSpec with field "line N", and nothing changes.
    /// Blocking: the C ABI has no async form.
    pub fn configure_text(&self, instance: &str, text: &str) -> Result<ConfigurationResult, Error> {
        self.configure_text_with(instance, text, &WriteOptions::default())
    }

    /// [`Context::configure_text`] with options; a dry run returns the changes it would make.
    pub fn configure_text_with(
        &self,
        instance: &str,
        text: &str,
        options: &WriteOptions,
    ) -> Result<ConfigurationResult, Error> {
        let name = cstring(instance)?;
        let mut out: *mut c_char = std::ptr::null_mut();
        call(|e| unsafe {
            pglift_instance_configure_text_with(
                self.ctx,
                name.as_ptr(),
                text.as_ptr() as *const c_char,
                text.len(),
                options.flags(),
                &mut out,
                e,
            )
        })?;
        ConfigurationResult::from_json(&unsafe { take(out) })
    }

    /// Sets managed postgresql.conf parameters (`Json::Null` removes one; the others are kept), checked
    /// first, then reloads a running instance (a Patroni member: its YAML, then a reload through
    /// Patroni). Parameters needing a restart are reported in `needs_restart`, not restarted for. A dry
    /// run returns the changes it would make and changes nothing.
    pub fn configure(
        &self,
        instance: &str,
        parameters: &BTreeMap<String, Json>,
        dry_run: bool,
    ) -> Result<ConfigurationResult, Error> {
        let name = cstring(instance)?;
        let doc = Json::Object(parameters.clone()).to_string();
        let json = self.json_call(|out, e| unsafe {
            pglift_instance_configure_with(
                self.ctx,
                name.as_ptr(),
                doc.as_ptr() as *const c_char,
                doc.len(),
                flags(dry_run),
                out,
                e,
            )
        })?;
        ConfigurationResult::from_json(&json)
    }

    /// The result decodes with [`Op::configuration_result`].
    pub fn configure_async(
        &self,
        instance: &str,
        parameters: &BTreeMap<String, Json>,
        dry_run: bool,
        tag: u64,
    ) -> Result<Op, Error> {
        let name = cstring(instance)?;
        let doc = Json::Object(parameters.clone()).to_string();
        self.start_op(|o, e| unsafe {
            pglift_instance_configure_with_async(
                self.ctx,
                name.as_ptr(),
                doc.as_ptr() as *const c_char,
                doc.len(),
                flags(dry_run),
                tag,
                o,
                e,
            )
        })
    }
}

impl Op {
    /// The result of an alter or an apply op.
    pub fn apply_result(&self) -> Result<ApplyResult, Error> {
        ApplyResult::from_json(&self.result_json()?.ok_or_else(|| Error::decode("no result"))?)
    }
    /// The result of a configure op.
    pub fn configuration_result(&self) -> Result<ConfigurationResult, Error> {
        ConfigurationResult::from_json(&self.result_json()?.ok_or_else(|| Error::decode("no result"))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_and_results_in_json() {
        let changes = InstanceChanges::default().port(5433).setting("work_mem", "8MB").setting("jit", Json::Null);
        assert_eq!(changes.to_json(), r#"{"port":5433,"settings":{"jit":null,"work_mem":"8MB"}}"#);
        assert_eq!(InstanceChanges::default().to_json(), "{}");
        let r = ApplyResult::from_json(
            r#"{"change_state": "changed", "diff": [{"field": "port", "before": 5432, "after": 5433}],
               "needs_restart": ["port"], "restarted": false, "pending_restart": true, "dry_run": true}"#,
        )
        .unwrap();
        assert_eq!(r.change_state.as_deref(), Some("changed"));
        assert_eq!(
            r.diff,
            vec![FieldChange { field: "port".into(), before: Json::from(5432), after: Json::from(5433) }]
        );
        assert_eq!((r.needs_restart.len(), r.pending_restart, r.dry_run), (1, true, true));
        assert!(r.roles.is_empty() && r.databases.is_empty());
        let none = ApplyResult::from_json(r#"{"change_state": null, "diff": []}"#).unwrap();
        assert!(!none.changed());
        let objects = ApplyResult::from_json(
            r#"{"change_state": "changed", "diff": [], "roles": [{"name": "alice", "change_state": "created"}],
               "databases": [{"name": "app", "change_state": null}]}"#,
        )
        .unwrap();
        assert_eq!(objects.roles, vec![ObjectChange { name: "alice".into(), change_state: Some("created".into()) }]);
        assert_eq!(objects.databases, vec![ObjectChange { name: "app".into(), change_state: None }]);
        assert!(ApplyResult::from_json(r#"{"diff": [], "roles": [{"change_state": null}]}"#).is_err());
        let c =
            ConfigurationResult::from_json(r#"{"changes": {"work_mem": [null, "8MB"]}, "reloaded": true}"#).unwrap();
        assert_eq!(c.changes["work_mem"], (Json::Null, Json::from("8MB")));
        assert!(ConfigurationResult::from_json(r#"{"changes": {"x": [1]}}"#).is_err());
    }
}
