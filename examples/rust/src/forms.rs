//! The remaining reads and their async twins: the managed parameters as a map ([`Context::parameters`]),
//! the PostgreSQL log file's path ([`Context::log_file`]), and the `_async` forms of
//! [`Context::parameters_text`], [`Context::configure_text`], [`Context::configure_text_with`],
//! [`Context::patroni_credentials`] and [`Context::patroni_log_file`].
use std::collections::BTreeMap;
use std::os::raw::{c_char, c_int};
use std::path::PathBuf;

use crate::{cstring, ffi, Context, Error, Json, Op, PatroniCredentials, WriteOptions};

type OpOut = *mut *mut ffi::pglift_op;
type Err = *mut *mut ffi::pglift_error;
type Ctx = *mut ffi::pglift_ctx;

extern "C" {
    fn pglift_instance_parameters(ctx: Ctx, instance: *const c_char, out_json: *mut *mut c_char, err: Err) -> c_int;
    fn pglift_instance_log_file(ctx: Ctx, instance: *const c_char, out_path: *mut *mut c_char, err: Err) -> c_int;
    fn pglift_instance_parameters_async(ctx: Ctx, instance: *const c_char, tag: u64, out: OpOut, err: Err) -> c_int;
    fn pglift_instance_parameters_text_async(
        ctx: Ctx,
        instance: *const c_char,
        tag: u64,
        out: OpOut,
        err: Err,
    ) -> c_int;
    fn pglift_instance_configure_text_async(
        ctx: Ctx,
        instance: *const c_char,
        text: *const c_char,
        text_len: usize,
        tag: u64,
        out: OpOut,
        err: Err,
    ) -> c_int;
    fn pglift_instance_configure_text_with_async(
        ctx: Ctx,
        instance: *const c_char,
        text: *const c_char,
        text_len: usize,
        flags: u32,
        tag: u64,
        out: OpOut,
        err: Err,
    ) -> c_int;
    fn pglift_instance_log_file_async(ctx: Ctx, instance: *const c_char, tag: u64, out: OpOut, err: Err) -> c_int;
    fn pglift_patroni_credentials_async(ctx: Ctx, instance: *const c_char, tag: u64, out: OpOut, err: Err) -> c_int;
    fn pglift_patroni_log_file_async(ctx: Ctx, instance: *const c_char, tag: u64, out: OpOut, err: Err) -> c_int;
}

fn parameters_from_json(text: &str) -> Result<BTreeMap<String, Json>, Error> {
    match Json::parse(text).map_err(|e| Error::decode(&e.to_string()))? {
        Json::Object(m) => Ok(m),
        _ => Err(Error::decode("expecting an object")),
    }
}

impl Context {
    /// The managed parameters (postgresql.conf's, or a Patroni member's YAML's), as values.
    pub fn parameters(&self, instance: &str) -> Result<BTreeMap<String, Json>, Error> {
        let name = cstring(instance)?;
        parameters_from_json(
            &self.json_call(|out, e| unsafe { pglift_instance_parameters(self.ctx, name.as_ptr(), out, e) })?,
        )
    }

    /// The path of the instance's current PostgreSQL log file ([`crate::ErrorKind::NotFound`] when
    /// PostgreSQL has written none yet).
    pub fn log_file(&self, instance: &str) -> Result<PathBuf, Error> {
        let name = cstring(instance)?;
        Ok(PathBuf::from(
            self.json_call(|out, e| unsafe { pglift_instance_log_file(self.ctx, name.as_ptr(), out, e) })?,
        ))
    }

    /// [`Context::parameters`] as an op: [`Op::parameters`].
    pub fn parameters_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { pglift_instance_parameters_async(self.ctx, name.as_ptr(), tag, o, e) })
    }

    /// [`Context::parameters_text`] as an op: [`Op::text`].
    pub fn parameters_text_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { pglift_instance_parameters_text_async(self.ctx, name.as_ptr(), tag, o, e) })
    }

    /// [`Context::configure_text`] as an op: [`Op::configuration_result`]. The text's syntax is checked
    /// at the call ([`crate::ErrorKind::InvalidSpec`], field "line N").
    pub fn configure_text_async(&self, instance: &str, text: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe {
            pglift_instance_configure_text_async(
                self.ctx,
                name.as_ptr(),
                text.as_ptr() as *const c_char,
                text.len(),
                tag,
                o,
                e,
            )
        })
    }

    /// [`Context::configure_text_with`] as an op: [`Op::configuration_result`].
    pub fn configure_text_with_async(
        &self,
        instance: &str,
        text: &str,
        options: &WriteOptions,
        tag: u64,
    ) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe {
            pglift_instance_configure_text_with_async(
                self.ctx,
                name.as_ptr(),
                text.as_ptr() as *const c_char,
                text.len(),
                options.flags(),
                tag,
                o,
                e,
            )
        })
    }

    /// [`Context::log_file`] as an op: [`Op::path`].
    pub fn log_file_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { pglift_instance_log_file_async(self.ctx, name.as_ptr(), tag, o, e) })
    }

    /// SECRETS: [`Context::patroni_credentials`] as an op: [`Op::patroni_credentials`]. The op holds them
    /// until dropped: drop it once they are copied where they belong.
    pub fn patroni_credentials_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { pglift_patroni_credentials_async(self.ctx, name.as_ptr(), tag, o, e) })
    }

    /// [`Context::patroni_log_file`] as an op: [`Op::path`].
    pub fn patroni_log_file_async(&self, instance: &str, tag: u64) -> Result<Op, Error> {
        let name = cstring(instance)?;
        self.start_op(|o, e| unsafe { pglift_patroni_log_file_async(self.ctx, name.as_ptr(), tag, o, e) })
    }
}

impl Op {
    fn string_result(&self) -> Result<String, Error> {
        let json = self.result_json()?.ok_or_else(|| Error::decode("no result"))?;
        match Json::parse(&json).map_err(|e| Error::decode(&e.to_string()))? {
            Json::String(s) => Ok(s),
            _ => Err(Error::decode("expecting a JSON string")),
        }
    }
    /// The result of [`Context::parameters_async`].
    pub fn parameters(&self) -> Result<BTreeMap<String, Json>, Error> {
        parameters_from_json(&self.result_json()?.ok_or_else(|| Error::decode("no result"))?)
    }
    /// The text result of [`Context::parameters_text_async`].
    pub fn text(&self) -> Result<String, Error> {
        self.string_result()
    }
    /// The path of [`Context::log_file_async`] and [`Context::patroni_log_file_async`].
    pub fn path(&self) -> Result<PathBuf, Error> {
        self.string_result().map(PathBuf::from)
    }
    /// SECRETS: the result of [`Context::patroni_credentials_async`].
    pub fn patroni_credentials(&self) -> Result<PatroniCredentials, Error> {
        PatroniCredentials::from_json(&self.result_json()?.ok_or_else(|| Error::decode("no result"))?)
    }
}
