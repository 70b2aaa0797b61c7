// JSON faces of the role values, and their validation.
#include <set>

#include "core/fields.hpp"
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

RoleSpec role_spec_from_json(const std::string& json) {
  Value doc = parse(json, "role");
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

std::string to_json(const std::vector<Role>& roles) {
  core::Array a;
  for (const auto& r : roles) a.push_back(value_of(r));
  return core::to_json(a);
}

}  // namespace pglift
