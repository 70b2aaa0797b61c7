// JSON faces of the role values, and their validation.
#include <set>

#include "core/fields.hpp"
#include "core/spec_json.hpp"
#include "core/value.hpp"
#include "pglift/errors.hpp"
#include "pglift/roles.hpp"
#include "postgres/roles.hpp"

namespace pglift {
using core::Value;

namespace {

using core::Fields;
using core::parse;

/// connection_limit: an integer from -1 (no limit) to INT_MAX.
std::optional<int> connection_limit(Fields& f) {
  auto v = f.integer("connection_limit");
  if (v && (*v < -1 || *v > 2147483647))
    throw InvalidSpec("connection_limit", std::to_string(*v), "expecting -1 (no limit) or more, at most 2147483647");
  return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
}

void validate_names(const std::string& field, const std::vector<std::string>& names) {
  for (std::size_t i = 0; i < names.size(); ++i)
    postgres::validate_role_name(field + "[" + std::to_string(i) + "]", names[i]);
}

void validate_secrets(const std::optional<std::string>& password, const std::optional<std::string>& encrypted) {
  if (password && encrypted)
    throw InvalidSpec("encrypted_password", "", "field is mutually exclusive with 'password'");
  for (const auto* p : {&password, &encrypted})
    if (*p && p->value().find('\0') != std::string::npos)
      throw InvalidSpec(p == &password ? "password" : "encrypted_password", "", "must not hold a NUL byte");
  if (encrypted && encrypted->empty()) throw InvalidSpec("encrypted_password", "", "must not be empty");
}

void validate_common(const std::optional<int>& connection_limit, const std::optional<std::string>& valid_until) {
  if (connection_limit && *connection_limit < -1)
    throw InvalidSpec("connection_limit", std::to_string(*connection_limit), "expecting -1 (no limit) or more");
  if (valid_until) {
    if (valid_until->empty() || valid_until->size() > 64)
      throw InvalidSpec("valid_until", *valid_until, "expecting an ISO 8601 date and time");
    for (unsigned char c : *valid_until)
      if (c < 0x20 || c == 0x7f) throw InvalidSpec("valid_until", *valid_until, "expecting an ISO 8601 date and time");
  }
}

}  // namespace

void RoleSpec::validate() const {
  postgres::validate_role_name("name", name);
  validate_secrets(password, encrypted_password);
  validate_common(connection_limit, valid_until);
  validate_names("in_roles", in_roles);
  if (pgpass && !password)
    throw InvalidSpec::missing("password", "'pgpass' needs the role's 'password' (its clear text goes to the passfile)");
}

void RoleChanges::validate() const {
  validate_secrets(password, encrypted_password);
  validate_common(connection_limit, valid_until);
  validate_names("grant", grant);
  validate_names("revoke", revoke);
  if (pgpass == true && encrypted_password)
    throw InvalidSpec("pgpass", "true", "the passfile needs the clear-text 'password', not 'encrypted_password'");
}

void RoleDropOptions::validate() const {
  if (drop_owned && reassign_owned)
    throw InvalidSpec("reassign_owned", *reassign_owned, "field is mutually exclusive with 'drop_owned'");
  if (reassign_owned) postgres::validate_role_name("reassign_owned", *reassign_owned);
}

RoleSpec role_spec_from_json(const std::string& json) { return core::role_spec_of(parse(json, "role")); }

RoleSpec core::role_spec_of(const Value& doc) {
  Fields f(doc, "role", Fields::TopLevel{});
  RoleSpec s;
  auto name = f.str("name");
  if (!name) throw InvalidSpec::missing("name", "the role document needs a 'name'");
  s.name = *name;
  s.password = f.str("password");
  s.encrypted_password = f.str("encrypted_password");
  s.inherit = f.boolean("inherit").value_or(true);
  s.login = f.boolean("login").value_or(false);
  s.superuser = f.boolean("superuser").value_or(false);
  s.createdb = f.boolean("createdb").value_or(false);
  s.createrole = f.boolean("createrole").value_or(false);
  s.replication = f.boolean("replication").value_or(false);
  s.connection_limit = connection_limit(f);
  if (s.connection_limit == -1) s.connection_limit.reset();
  s.valid_until = f.str("valid_until");
  s.in_roles = f.strings("in_roles", "an array of role names");
  s.pgpass = f.boolean("pgpass").value_or(false);
  if (auto state = f.str("state"); state && *state != "present")
    throw InvalidSpec("state", *state, "a role to create must be 'present'");
  f.reject_unknown();
  s.validate();
  return s;
}

RoleChanges role_changes_from_json(const std::string& json) {
  Value doc = parse(json, "role changes");
  Fields f(doc, "role changes", Fields::TopLevel{});
  RoleChanges c;
  c.password = f.str("password");
  c.encrypted_password = f.str("encrypted_password");
  c.inherit = f.boolean("inherit");
  c.login = f.boolean("login");
  c.superuser = f.boolean("superuser");
  c.createdb = f.boolean("createdb");
  c.createrole = f.boolean("createrole");
  c.replication = f.boolean("replication");
  c.connection_limit = connection_limit(f);
  c.valid_until = f.str("valid_until");
  c.pgpass = f.boolean("pgpass");
  c.grant = f.strings("grant", "an array of role names");
  c.revoke = f.strings("revoke", "an array of role names");
  f.reject_unknown();
  c.validate();
  return c;
}

RoleDropOptions role_drop_options_from_json(const std::string& json) {
  RoleDropOptions o;
  if (json.empty()) return o;
  Value doc = parse(json, "role drop options");
  if (doc.is_null()) return o;
  Fields f(doc, "role drop options", Fields::TopLevel{});
  o.drop_owned = f.boolean("drop_owned").value_or(false);
  o.reassign_owned = f.str("reassign_owned");
  f.reject_unknown();
  o.validate();
  return o;
}

namespace {
Value value_of(const Role& r) {
  core::Array in_roles;
  for (const auto& n : r.in_roles) in_roles.push_back(n);
  return core::Object{{"name", r.name},
                      {"has_password", r.has_password},
                      {"inherit", r.inherit},
                      {"login", r.login},
                      {"superuser", r.superuser},
                      {"createdb", r.createdb},
                      {"createrole", r.createrole},
                      {"replication", r.replication},
                      {"connection_limit", r.connection_limit ? Value(*r.connection_limit) : Value()},
                      {"valid_until", r.valid_until ? Value(*r.valid_until) : Value()},
                      {"in_roles", in_roles},
                      {"pgpass", r.pgpass}};
}
}  // namespace

std::string to_json(const Role& role) { return core::to_json(value_of(role)); }

namespace {
Value nullable(const char* type, const char* description) {
  return core::Object{{"type", core::Array{type, "null"}}, {"description", description}};
}
Value flag(bool by_default, const char* description) {
  return core::Object{{"type", core::Array{"boolean", "null"}}, {"default", by_default}, {"description", description}};
}
/// What core::check_sql_name lets through (the 63 bytes: at most 63 characters, fewer when not ASCII).
Value sql_name(const char* description) {
  return core::Object{{"type", "string"},
                      {"minLength", 1},
                      {"maxLength", 63},
                      {"pattern", "^[^\\u0000-\\u001f\\u007f]+$"},
                      {"description", description}};
}
}  // namespace

Value core::role_schema() {
  Value name = sql_name("Role name (at most 63 bytes, no control characters).");
  Value password = nullable("string", "Role password (encrypted client-side with SCRAM).");
  password.set("writeOnly", true);
  Value encrypted = nullable("string", "Role password, already encrypted (SCRAM-SHA-256$... or md5...); exclusive with 'password'.");
  encrypted.set("writeOnly", true);
  Value limit = nullable("integer", "Maximum number of concurrent connections (-1 or null: no limit).");
  limit.set("minimum", -1);
  limit.set("maximum", 2147483647);
  Value in_roles = nullable("array", "Roles this role is a member of.");
  in_roles.set("items", sql_name("Role name."));
  return core::Object{
      {"title", "Role"},
      {"description", "PostgreSQL role"},
      {"type", "object"},
      {"additionalProperties", false},
      {"required", core::Array{"name"}},
      {"properties",
       core::Object{
           {"name", name},
           {"password", password},
           {"encrypted_password", encrypted},
           {"inherit", flag(true, "Let the role inherit the privileges of the roles it is a member of.")},
           {"login", flag(false, "Allow the role to log in.")},
           {"superuser", flag(false, "Whether the role is a superuser.")},
           {"createdb", flag(false, "Whether the role can create databases.")},
           {"createrole", flag(false, "Whether the role can create, alter or drop roles.")},
           {"replication", flag(false, "Whether the role is a replication role.")},
           {"connection_limit", limit},
           {"valid_until", nullable("string", "Date and time after which the password is no longer valid (ISO 8601, or 'infinity').")},
           {"in_roles", in_roles},
           {"pgpass", flag(false, "Add the password to the site's passfile (needs 'password' and a configured passfile).")},
           {"state", Value(core::Object{{"enum", core::Array{"present", nullptr}},
                                        {"default", "present"},
                                        {"description", "Only 'present': a role is dropped with its drop operation."}})},
       }},
  };
}

std::string RoleSpec::json_schema() {
  Value schema = core::Object{{"$schema", "https://json-schema.org/draft/2020-12/schema"}};
  const Value described = core::role_schema();  // named: as_object() refers into it
  for (const auto& [k, v] : described.as_object()) schema.set(k, v);
  return core::to_json(schema, true);
}

std::string to_json(const std::vector<Role>& roles) {
  core::Array a;
  for (const auto& r : roles) a.push_back(value_of(r));
  return core::to_json(a);
}

}  // namespace pglift
