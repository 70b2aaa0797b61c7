//! Roles of a running instance: [`Context::create_role`], [`Context::get_role`], [`Context::list_roles`],
//! [`Context::alter_role`], [`Context::drop_role`], and their `_with` forms taking [`WriteOptions`] (a dry
//! run), blocking or `_async`. Passwords are encrypted by the library (SCRAM) and never
//! come back; `Debug` never shows them.
use std::fmt;
use std::os::raw::c_char;
use std::ptr;

use crate::json::{quote, Json};
use crate::{call, cstring, ffi, Context, Error, Op, WriteOptions};

/// What [`Context::create_role`] takes (pglift's role manifest). `password` and `encrypted_password`
/// are secrets, exclusive with each other.
#[derive(Clone, Default)]
pub struct RoleSpec {
    pub name: String,
    pub password: Option<String>,
    pub encrypted_password: Option<String>,
    /// None: true
    pub inherit: Option<bool>,
    pub login: bool,
    pub superuser: bool,
    pub createdb: bool,
    pub createrole: bool,
    pub replication: bool,
    /// None: no limit
    pub connection_limit: Option<i32>,
    /// ISO 8601
    pub valid_until: Option<String>,
    pub in_roles: Vec<String>,
    /// Keep `password` in the site's passfile.
    pub pgpass: bool,
}

impl fmt::Debug for RoleSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleSpec")
            .field("name", &self.name)
            .field("password", &self.password.as_ref().map(|_| "**********"))
            .field("encrypted_password", &self.encrypted_password.as_ref().map(|_| "**********"))
            .field("login", &self.login)
            .field("in_roles", &self.in_roles)
            .finish_non_exhaustive()
    }
}

fn strings(values: &[String]) -> String {
    format!("[{}]", values.iter().map(|v| quote(v)).collect::<Vec<_>>().join(","))
}

impl RoleSpec {
    pub fn new(name: &str) -> RoleSpec {
        RoleSpec { name: name.to_string(), ..RoleSpec::default() }
    }
    pub fn to_json(&self) -> String {
        let mut fields = vec![format!("\"name\":{}", quote(&self.name))];
        if let Some(p) = &self.password {
            fields.push(format!("\"password\":{}", quote(p)));
        }
        if let Some(p) = &self.encrypted_password {
            fields.push(format!("\"encrypted_password\":{}", quote(p)));
        }
        if let Some(i) = self.inherit {
            fields.push(format!("\"inherit\":{}", i));
        }
        for (key, value) in [
            ("login", self.login),
            ("superuser", self.superuser),
            ("createdb", self.createdb),
            ("createrole", self.createrole),
            ("replication", self.replication),
            ("pgpass", self.pgpass),
        ] {
            fields.push(format!("\"{}\":{}", key, value));
        }
        if let Some(n) = self.connection_limit {
            fields.push(format!("\"connection_limit\":{}", n));
        }
        if let Some(v) = &self.valid_until {
            fields.push(format!("\"valid_until\":{}", quote(v)));
        }
        fields.push(format!("\"in_roles\":{}", strings(&self.in_roles)));
        format!("{{{}}}", fields.join(","))
    }
}

/// What [`Context::alter_role`] takes: `None` fields are left as they are; `grant`/`revoke` change
/// memberships.
#[derive(Clone, Default)]
pub struct RoleChanges {
    pub password: Option<String>,
    pub inherit: Option<bool>,
    pub login: Option<bool>,
    pub superuser: Option<bool>,
    pub createdb: Option<bool>,
    pub createrole: Option<bool>,
    pub replication: Option<bool>,
    /// -1: no limit
    pub connection_limit: Option<i32>,
    /// "infinity": no expiry
    pub valid_until: Option<String>,
    pub pgpass: Option<bool>,
    pub grant: Vec<String>,
    pub revoke: Vec<String>,
}

impl fmt::Debug for RoleChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleChanges")
            .field("password", &self.password.as_ref().map(|_| "**********"))
            .field("login", &self.login)
            .field("grant", &self.grant)
            .field("revoke", &self.revoke)
            .finish_non_exhaustive()
    }
}

impl RoleChanges {
    pub fn to_json(&self) -> String {
        let mut fields = Vec::new();
        if let Some(p) = &self.password {
            fields.push(format!("\"password\":{}", quote(p)));
        }
        for (key, value) in [
            ("inherit", self.inherit),
            ("login", self.login),
            ("superuser", self.superuser),
            ("createdb", self.createdb),
            ("createrole", self.createrole),
            ("replication", self.replication),
            ("pgpass", self.pgpass),
        ] {
            if let Some(v) = value {
                fields.push(format!("\"{}\":{}", key, v));
            }
        }
        if let Some(n) = self.connection_limit {
            fields.push(format!("\"connection_limit\":{}", n));
        }
        if let Some(v) = &self.valid_until {
            fields.push(format!("\"valid_until\":{}", quote(v)));
        }
        fields.push(format!("\"grant\":{}", strings(&self.grant)));
        fields.push(format!("\"revoke\":{}", strings(&self.revoke)));
        format!("{{{}}}", fields.join(","))
    }
}

/// How [`Context::drop_role`] handles objects the role owns.
#[derive(Clone, Debug, Default)]
pub struct RoleDropOptions {
    pub drop_owned: bool,
    pub reassign_owned: Option<String>,
}

impl RoleDropOptions {
    fn to_json(&self) -> String {
        let mut fields = vec![format!("\"drop_owned\":{}", self.drop_owned)];
        if let Some(r) = &self.reassign_owned {
            fields.push(format!("\"reassign_owned\":{}", quote(r)));
        }
        format!("{{{}}}", fields.join(","))
    }
}

/// A role as `role get -o json` shows it: `has_password`, never a password.
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    pub name: String,
    pub has_password: bool,
    pub inherit: bool,
    pub login: bool,
    pub superuser: bool,
    pub createdb: bool,
    pub createrole: bool,
    pub replication: bool,
    pub connection_limit: Option<i64>,
    pub valid_until: Option<String>,
    pub in_roles: Vec<String>,
    pub pgpass: bool,
}

impl Role {
    fn from_value(v: &Json) -> Result<Role, Error> {
        let flag = |key: &str| v.get(key).and_then(Json::as_bool).unwrap_or(false);
        let in_roles = match v.get("in_roles") {
            Some(Json::Array(items)) => items.iter().filter_map(Json::as_str).map(str::to_string).collect(),
            _ => Vec::new(),
        };
        Ok(Role {
            name: v.get("name").and_then(Json::as_str).ok_or_else(|| Error::decode("name"))?.to_string(),
            has_password: flag("has_password"),
            inherit: flag("inherit"),
            login: flag("login"),
            superuser: flag("superuser"),
            createdb: flag("createdb"),
            createrole: flag("createrole"),
            replication: flag("replication"),
            connection_limit: v.get("connection_limit").and_then(Json::as_i64),
            valid_until: v.get("valid_until").and_then(Json::as_str).map(str::to_string),
            in_roles,
            pgpass: flag("pgpass"),
        })
    }

    pub fn from_json(text: &str) -> Result<Role, Error> {
        Role::from_value(&Json::parse(text).map_err(|e| Error::decode(&e.to_string()))?)
    }

    pub fn list_from_json(text: &str) -> Result<Vec<Role>, Error> {
        match Json::parse(text).map_err(|e| Error::decode(&e.to_string()))? {
            Json::Array(items) => items.iter().map(Role::from_value).collect(),
            _ => Err(Error::decode("expecting an array")),
        }
    }
}

impl Context {
    pub fn create_role(&self, instance: &str, spec: &RoleSpec) -> Result<(), Error> {
        self.create_role_with(instance, spec, &WriteOptions::default())
    }

    pub fn alter_role(&self, instance: &str, name: &str, changes: &RoleChanges) -> Result<(), Error> {
        self.alter_role_with(instance, name, changes, &WriteOptions::default())
    }

    /// [`Context::create_role`] with options: a dry run checks the spec and that the role does not
    /// exist yet (its SQL runs in a transaction rolled back), and creates nothing.
    pub fn create_role_with(&self, instance: &str, spec: &RoleSpec, options: &WriteOptions) -> Result<(), Error> {
        let i = cstring(instance)?;
        let doc = spec.to_json();
        call(|e| unsafe {
            ffi::pglift_role_create_with(
                self.ctx,
                i.as_ptr(),
                doc.as_ptr() as *const c_char,
                doc.len(),
                options.flags(),
                e,
            )
        })
    }

    /// [`Context::alter_role`] with options (a dry run changes nothing).
    pub fn alter_role_with(
        &self,
        instance: &str,
        name: &str,
        changes: &RoleChanges,
        options: &WriteOptions,
    ) -> Result<(), Error> {
        let (i, n) = (cstring(instance)?, cstring(name)?);
        let doc = changes.to_json();
        call(|e| unsafe {
            ffi::pglift_role_alter_with(
                self.ctx,
                i.as_ptr(),
                n.as_ptr(),
                doc.as_ptr() as *const c_char,
                doc.len(),
                options.flags(),
                e,
            )
        })
    }

    pub fn get_role(&self, instance: &str, name: &str) -> Result<Role, Error> {
        let (i, n) = (cstring(instance)?, cstring(name)?);
        Role::from_json(
            &self.json_call(|out, e| unsafe { ffi::pglift_role_get(self.ctx, i.as_ptr(), n.as_ptr(), out, e) })?,
        )
    }

    /// Every role but the system's (pg_*), by name.
    pub fn list_roles(&self, instance: &str) -> Result<Vec<Role>, Error> {
        let i = cstring(instance)?;
        Role::list_from_json(&self.json_call(|out, e| unsafe { ffi::pglift_role_list(self.ctx, i.as_ptr(), out, e) })?)
    }

    /// [`crate::ErrorKind::State`] when objects depend on the role and `options` say nothing of them.
    pub fn drop_role(&self, instance: &str, name: &str, options: &RoleDropOptions) -> Result<(), Error> {
        self.drop_role_with(instance, name, options, &WriteOptions::default())
    }

    /// [`Context::drop_role`] with write options (a dry run changes nothing).
    pub fn drop_role_with(
        &self,
        instance: &str,
        name: &str,
        options: &RoleDropOptions,
        write: &WriteOptions,
    ) -> Result<(), Error> {
        let (i, n) = (cstring(instance)?, cstring(name)?);
        let doc = options.to_json();
        call(|e| unsafe {
            ffi::pglift_role_drop_with(
                self.ctx,
                i.as_ptr(),
                n.as_ptr(),
                doc.as_ptr() as *const c_char,
                doc.len(),
                write.flags(),
                e,
            )
        })
    }

    /// The result (`Op::result_json`) decodes with [`Role::from_json`].
    pub fn get_role_async(&self, instance: &str, name: &str, tag: u64) -> Result<Op, Error> {
        let (i, n) = (cstring(instance)?, cstring(name)?);
        self.start_op(|o, e| unsafe { ffi::pglift_role_get_async(self.ctx, i.as_ptr(), n.as_ptr(), tag, o, e) })
    }

    pub fn drop_role_async(&self, instance: &str, name: &str, tag: u64) -> Result<Op, Error> {
        let (i, n) = (cstring(instance)?, cstring(name)?);
        self.start_op(|o, e| unsafe {
            ffi::pglift_role_drop_async(self.ctx, i.as_ptr(), n.as_ptr(), ptr::null(), 0, tag, o, e)
        })
    }

    pub fn create_role_with_async(
        &self,
        instance: &str,
        spec: &RoleSpec,
        options: &WriteOptions,
        tag: u64,
    ) -> Result<Op, Error> {
        let i = cstring(instance)?;
        let doc = spec.to_json();
        self.start_op(|o, e| unsafe {
            ffi::pglift_role_create_with_async(
                self.ctx,
                i.as_ptr(),
                doc.as_ptr() as *const c_char,
                doc.len(),
                options.flags(),
                tag,
                o,
                e,
            )
        })
    }

    pub fn alter_role_with_async(
        &self,
        instance: &str,
        name: &str,
        changes: &RoleChanges,
        options: &WriteOptions,
        tag: u64,
    ) -> Result<Op, Error> {
        let (i, n) = (cstring(instance)?, cstring(name)?);
        let doc = changes.to_json();
        self.start_op(|o, e| unsafe {
            ffi::pglift_role_alter_with_async(
                self.ctx,
                i.as_ptr(),
                n.as_ptr(),
                doc.as_ptr() as *const c_char,
                doc.len(),
                options.flags(),
                tag,
                o,
                e,
            )
        })
    }

    pub fn drop_role_with_async(
        &self,
        instance: &str,
        name: &str,
        options: &RoleDropOptions,
        write: &WriteOptions,
        tag: u64,
    ) -> Result<Op, Error> {
        let (i, n) = (cstring(instance)?, cstring(name)?);
        let doc = options.to_json();
        self.start_op(|o, e| unsafe {
            ffi::pglift_role_drop_with_async(
                self.ctx,
                i.as_ptr(),
                n.as_ptr(),
                doc.as_ptr() as *const c_char,
                doc.len(),
                write.flags(),
                tag,
                o,
                e,
            )
        })
    }
}
