//! Databases of an instance (`PGLIFT_HAS_DATABASES`): specs and results are pglift's
//! `database ... -o json` documents, here as JSON text in and [`Json`] values out. Writes have `_with`
//! forms taking [`WriteOptions`] (a dry run), blocking or `_async`.
//!
//! ```no_run
//! let ctx = pglift::Context::new()?;
//! ctx.create_database("15/main", r#"{"name": "app", "schemas": ["s"], "extensions": ["hstore"]}"#)?;
//! let rows = ctx.run_sql("15/main", "SELECT 1 AS one", &["app"], &[])?;  // {"app": [{"one": "1"}]}
//! # Ok::<(), pglift::Error>(())
//! ```
use std::os::raw::{c_char, c_int};

use crate::json::quote;
use crate::{call, cstring, ffi, Context, Error, Json, Op, WriteOptions};

extern "C" {
    fn pglift_database_create_with(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        spec: *const c_char,
        len: usize,
        flags: u32,
        out: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_database_alter_with(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        spec: *const c_char,
        len: usize,
        flags: u32,
        out: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_database_get(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        name: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_database_list(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        selection: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_database_drop_with(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        name: *const c_char,
        force: c_int,
        flags: u32,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_database_run(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        sql: *const c_char,
        selection: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_database_privileges(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        query: *const c_char,
        out: *mut *mut c_char,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_database_create_with_async(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        spec: *const c_char,
        len: usize,
        flags: u32,
        tag: u64,
        out: *mut *mut ffi::pglift_op,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_database_alter_with_async(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        spec: *const c_char,
        len: usize,
        flags: u32,
        tag: u64,
        out: *mut *mut ffi::pglift_op,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
    fn pglift_database_drop_with_async(
        ctx: *mut ffi::pglift_ctx,
        instance: *const c_char,
        name: *const c_char,
        force: c_int,
        flags: u32,
        tag: u64,
        out: *mut *mut ffi::pglift_op,
        err: *mut *mut ffi::pglift_error,
    ) -> c_int;
}

fn names(list: &[&str]) -> String {
    let quoted: Vec<String> = list.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(","))
}

fn selection(databases: &[&str], exclude: &[&str]) -> String {
    format!(r#"{{"databases":{},"exclude":{}}}"#, names(databases), names(exclude))
}

fn parse(text: &str) -> Result<Json, Error> {
    Json::parse(text).map_err(|e| Error::decode(&e.to_string()))
}

impl Context {
    /// Creates a database from its spec (`{"name": "app", "owner": ..., "settings": {...}, "schemas":
    /// [...], "extensions": [...]}`); a failure after CREATE DATABASE drops what it created.
    pub fn create_database(&self, instance: &str, spec: &str) -> Result<Json, Error> {
        self.create_database_with(instance, spec, &WriteOptions::default())
    }

    /// pglift's declarative alter (no owner means CURRENT_USER; `"settings": {}` resets them all).
    pub fn alter_database(&self, instance: &str, spec: &str) -> Result<Json, Error> {
        self.alter_database_with(instance, spec, &WriteOptions::default())
    }

    /// [`Context::create_database`] with options; a dry run returns the database it would make.
    pub fn create_database_with(&self, instance: &str, spec: &str, options: &WriteOptions) -> Result<Json, Error> {
        let inst = cstring(instance)?;
        parse(&self.json_call(|out, e| unsafe {
            pglift_database_create_with(
                self.ctx,
                inst.as_ptr(),
                spec.as_ptr() as *const c_char,
                spec.len(),
                options.flags(),
                out,
                e,
            )
        })?)
    }

    /// [`Context::alter_database`] with options; a dry run returns the database as it is now.
    pub fn alter_database_with(&self, instance: &str, spec: &str, options: &WriteOptions) -> Result<Json, Error> {
        let inst = cstring(instance)?;
        parse(&self.json_call(|out, e| unsafe {
            pglift_database_alter_with(
                self.ctx,
                inst.as_ptr(),
                spec.as_ptr() as *const c_char,
                spec.len(),
                options.flags(),
                out,
                e,
            )
        })?)
    }

    pub fn get_database(&self, instance: &str, name: &str) -> Result<Json, Error> {
        let (inst, n) = (cstring(instance)?, cstring(name)?);
        parse(&self.json_call(|out, e| unsafe { pglift_database_get(self.ctx, inst.as_ptr(), n.as_ptr(), out, e) })?)
    }

    /// The databases allowing connections: `databases` (all when empty) minus `exclude`.
    pub fn list_databases(&self, instance: &str, databases: &[&str], exclude: &[&str]) -> Result<Json, Error> {
        let (inst, sel) = (cstring(instance)?, cstring(&selection(databases, exclude))?);
        parse(&self.json_call(|out, e| unsafe { pglift_database_list(self.ctx, inst.as_ptr(), sel.as_ptr(), out, e) })?)
    }

    /// `force`: the sessions connected to it are terminated first.
    pub fn drop_database(&self, instance: &str, name: &str, force: bool) -> Result<(), Error> {
        self.drop_database_with(instance, name, force, &WriteOptions::default())
    }

    /// [`Context::drop_database`] with options (a dry run changes nothing).
    pub fn drop_database_with(
        &self,
        instance: &str,
        name: &str,
        force: bool,
        options: &WriteOptions,
    ) -> Result<(), Error> {
        let (inst, n) = (cstring(instance)?, cstring(name)?);
        call(|e| unsafe {
            pglift_database_drop_with(self.ctx, inst.as_ptr(), n.as_ptr(), force as c_int, options.flags(), e)
        })
    }

    /// The result decodes with [`Op::database`].
    pub fn create_database_with_async(
        &self,
        instance: &str,
        spec: &str,
        options: &WriteOptions,
        tag: u64,
    ) -> Result<Op, Error> {
        let inst = cstring(instance)?;
        self.start_op(|o, e| unsafe {
            pglift_database_create_with_async(
                self.ctx,
                inst.as_ptr(),
                spec.as_ptr() as *const c_char,
                spec.len(),
                options.flags(),
                tag,
                o,
                e,
            )
        })
    }

    /// The result decodes with [`Op::database`].
    pub fn alter_database_with_async(
        &self,
        instance: &str,
        spec: &str,
        options: &WriteOptions,
        tag: u64,
    ) -> Result<Op, Error> {
        let inst = cstring(instance)?;
        self.start_op(|o, e| unsafe {
            pglift_database_alter_with_async(
                self.ctx,
                inst.as_ptr(),
                spec.as_ptr() as *const c_char,
                spec.len(),
                options.flags(),
                tag,
                o,
                e,
            )
        })
    }

    pub fn drop_database_with_async(
        &self,
        instance: &str,
        name: &str,
        force: bool,
        options: &WriteOptions,
        tag: u64,
    ) -> Result<Op, Error> {
        let (inst, n) = (cstring(instance)?, cstring(name)?);
        self.start_op(|o, e| unsafe {
            pglift_database_drop_with_async(
                self.ctx,
                inst.as_ptr(),
                n.as_ptr(),
                force as c_int,
                options.flags(),
                tag,
                o,
                e,
            )
        })
    }

    /// Runs `sql` on each selected database: `{"db": [{"column": "text value" | null}]}`.
    pub fn run_sql(&self, instance: &str, sql: &str, databases: &[&str], exclude: &[&str]) -> Result<Json, Error> {
        let (inst, q, sel) = (cstring(instance)?, cstring(sql)?, cstring(&selection(databases, exclude))?);
        parse(&self.json_call(|out, e| unsafe {
            pglift_database_run(self.ctx, inst.as_ptr(), q.as_ptr(), sel.as_ptr(), out, e)
        })?)
    }

    /// Relation (and column) privileges, or default ones, in `databases` (all when empty) for `roles`
    /// (all when empty).
    pub fn database_privileges(
        &self,
        instance: &str,
        databases: &[&str],
        roles: &[&str],
        defaults: bool,
    ) -> Result<Json, Error> {
        let query = format!(r#"{{"databases":{},"roles":{},"defaults":{}}}"#, names(databases), names(roles), defaults);
        let (inst, q) = (cstring(instance)?, cstring(&query)?);
        parse(
            &self.json_call(|out, e| unsafe {
                pglift_database_privileges(self.ctx, inst.as_ptr(), q.as_ptr(), out, e)
            })?,
        )
    }
}

impl Op {
    /// The database of a create or alter op.
    pub fn database(&self) -> Result<Json, Error> {
        parse(&self.result_json()?.ok_or_else(|| Error::decode("no result"))?)
    }
}
