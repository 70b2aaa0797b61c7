//! pg_hba records (pgconf): add and remove client authentication rules of an instance.
use std::os::raw::{c_char, c_int};

use super::{call, cstring, ffi, json, take, Context, Error, Json, Op};

extern "C" {
    fn pglift_hba_add(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        records: *const c_char,
        len: usize,
        flags: u32,
        out_json: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_hba_remove(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        records: *const c_char,
        len: usize,
        flags: u32,
        out_json: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_hba_add_async(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        records: *const c_char,
        len: usize,
        flags: u32,
        tag: u64,
        out: *mut *mut ffi::pglift_op,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_hba_remove_async(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        records: *const c_char,
        len: usize,
        flags: u32,
        tag: u64,
        out: *mut *mut ffi::pglift_op,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
}

const DRY_RUN: u32 = 1; // PGLIFT_HBA_DRY_RUN

/// A host record's connection; a record without one is `local`.
#[derive(Clone, Debug, PartialEq)]
pub struct HbaConnection {
    pub conn_type: String, // host, hostssl, hostnossl, hostgssenc, hostnogssenc
    pub address: String,   // 10.0.0.0/8, a host name, all, samehost, samenet
    pub netmask: Option<String>,
}

/// One pg_hba rule; empty `database` or `user` mean "all".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HbaRecord {
    pub connection: Option<HbaConnection>,
    pub database: Vec<String>,
    pub user: Vec<String>,
    pub method: String,
    pub options: Vec<String>, // "name=value"
}

impl HbaRecord {
    pub fn local(method: &str) -> HbaRecord {
        HbaRecord { method: method.to_string(), ..Default::default() }
    }
    pub fn host(address: &str, method: &str) -> HbaRecord {
        HbaRecord {
            connection: Some(HbaConnection { conn_type: "host".into(), address: address.into(), netmask: None }),
            ..HbaRecord::local(method)
        }
    }
    fn to_json(&self) -> String {
        let list = |v: &[String], default: &str| {
            if v.is_empty() {
                format!("[{}]", json::quote(default))
            } else {
                format!("[{}]", v.iter().map(|s| json::quote(s)).collect::<Vec<_>>().join(","))
            }
        };
        let connection = match &self.connection {
            None => "null".to_string(),
            Some(c) => format!(
                "{{\"type\":{},\"address\":{},\"netmask\":{}}}",
                json::quote(&c.conn_type),
                json::quote(&c.address),
                c.netmask.as_deref().map_or("null".to_string(), json::quote)
            ),
        };
        let options = format!("[{}]", self.options.iter().map(|s| json::quote(s)).collect::<Vec<_>>().join(","));
        format!(
            "{{\"connection\":{},\"database\":{},\"user\":{},\"method\":{},\"options\":{}}}",
            connection,
            list(&self.database, "all"),
            list(&self.user, "all"),
            json::quote(&self.method),
            options
        )
    }
}

fn records_json(records: &[HbaRecord]) -> String {
    format!("[{}]", records.iter().map(HbaRecord::to_json).collect::<Vec<_>>().join(","))
}

/// What an add or remove did (or, dry run, would do).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HbaResult {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: bool,
    pub reloaded: bool,
    /// Unified diff of pg_hba.conf (a Patroni member: of its postgresql.pg_hba lines).
    pub diff: String,
}

impl HbaResult {
    pub fn from_json(text: &str) -> Result<HbaResult, Error> {
        let v = Json::parse(text).map_err(|e| Error::decode(&e.to_string()))?;
        let lines = |key: &str| -> Vec<String> {
            match v.get(key) {
                Some(Json::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
                _ => Vec::new(),
            }
        };
        Ok(HbaResult {
            added: lines("added"),
            removed: lines("removed"),
            changed: v.get("changed").and_then(Json::as_bool).unwrap_or(false),
            reloaded: v.get("reloaded").and_then(Json::as_bool).unwrap_or(false),
            diff: v.get("diff").and_then(Json::as_str).unwrap_or("").to_string(),
        })
    }
}

impl Context {
    /// Adds the records not already there (validated first: InvalidSpec naming the field), then reloads a
    /// running instance (a Patroni member through Patroni).
    pub fn add_hba_records(&self, instance: &str, records: &[HbaRecord], dry_run: bool) -> Result<HbaResult, Error> {
        self.hba(instance, records, dry_run, pglift_hba_add)
    }
    /// Removes the records; NotFound when one is nowhere (then nothing changes).
    pub fn remove_hba_records(&self, instance: &str, records: &[HbaRecord], dry_run: bool) -> Result<HbaResult, Error> {
        self.hba(instance, records, dry_run, pglift_hba_remove)
    }
    pub fn add_hba_records_async(
        &self,
        instance: &str,
        records: &[HbaRecord],
        dry_run: bool,
        tag: u64,
    ) -> Result<Op, Error> {
        self.hba_async(instance, records, dry_run, tag, pglift_hba_add_async)
    }
    pub fn remove_hba_records_async(
        &self,
        instance: &str,
        records: &[HbaRecord],
        dry_run: bool,
        tag: u64,
    ) -> Result<Op, Error> {
        self.hba_async(instance, records, dry_run, tag, pglift_hba_remove_async)
    }

    fn hba(
        &self,
        instance: &str,
        records: &[HbaRecord],
        dry_run: bool,
        f: unsafe extern "C" fn(
            *mut ffi::pglift_ctx,
            *const c_char,
            *const c_char,
            usize,
            u32,
            *mut *mut c_char,
            *mut *mut ffi::pglift_error,
        ) -> c_int,
    ) -> Result<HbaResult, Error> {
        let name = cstring(instance)?;
        let doc = records_json(records);
        let flags = if dry_run { DRY_RUN } else { 0 };
        let mut out: *mut c_char = std::ptr::null_mut();
        call(|e| unsafe { f(self.ctx, name.as_ptr(), doc.as_ptr() as *const c_char, doc.len(), flags, &mut out, e) })?;
        HbaResult::from_json(&unsafe { take(out) })
    }

    #[allow(clippy::type_complexity)]
    fn hba_async(
        &self,
        instance: &str,
        records: &[HbaRecord],
        dry_run: bool,
        tag: u64,
        f: unsafe extern "C" fn(
            *mut ffi::pglift_ctx,
            *const c_char,
            *const c_char,
            usize,
            u32,
            u64,
            *mut *mut ffi::pglift_op,
            *mut *mut ffi::pglift_error,
        ) -> c_int,
    ) -> Result<Op, Error> {
        let name = cstring(instance)?;
        let doc = records_json(records);
        let flags = if dry_run { DRY_RUN } else { 0 };
        let mut op = std::ptr::null_mut();
        call(|e| unsafe {
            f(self.ctx, name.as_ptr(), doc.as_ptr() as *const c_char, doc.len(), flags, tag, &mut op, e)
        })?;
        Ok(Op { op })
    }
}
