// JSON faces of the database values (pglift's Database manifest and its outputs), and the spec's
// validation.
#include <algorithm>
#include <charconv>
#include <set>

#include "core/fields.hpp"
#include "core/spec_json.hpp"
#include "core/value.hpp"
#include "pglift/databases.hpp"
#include "pglift/errors.hpp"
#include "core/sql_names.hpp"
#include "core/text.hpp"

namespace pglift {
using core::Value;

namespace {

using core::expecting;
using core::Fields;
using core::parse;

/// A schema's or an extension's "state": present (the default) or absent.
DatabaseObjectState object_state(Fields& f, const std::string& key) {
  auto s = f.str(key);
  if (!s || *s == "present") return DatabaseObjectState::present;
  if (*s == "absent") return DatabaseObjectState::absent;
  throw InvalidSpec(f.path(key), *s, "expecting 'present' or 'absent'");
}

std::string setting_text(const std::string& field, const Value& v) {
  if (v.is_string()) return v.as_string();
  if (v.is_bool()) return v.as_bool() ? "on" : "off";
  if (v.is_int()) return std::to_string(v.as_int());
  if (v.is_double()) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v.as_double());
    return std::string(buf, r.ptr);
  }
  throw InvalidSpec(field, core::short_text(v), expecting("a string, number or boolean", v));
}

const Value& array_of(const Value* v, const std::string& field) {
  if (!v->is_array()) throw InvalidSpec(field, core::short_text(*v), expecting("an array", *v));
  return *v;
}

Value opt(const std::optional<std::string>& o) { return o ? Value(*o) : Value(); }

Value strings(const std::vector<std::string>& v) {
  core::Array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::vector<std::string> names(Fields& m, const std::string& key) {
  std::vector<std::string> out;
  const Value* v = m.get(key);
  if (!v) return out;
  std::size_t i = 0;
  for (const auto& item : array_of(v, key).as_array()) {
    const std::string path = key + "[" + std::to_string(i++) + "]";
    if (!item.is_string()) throw InvalidSpec(path, core::short_text(item), expecting("a string", item));
    core::check_sql_name(path, item.as_string());
    out.push_back(item.as_string());
  }
  return out;
}

}  // namespace

DatabaseSelection DatabaseSelection::from_json(const std::string& json) {
  Value doc = parse(json, "database selection");
  Fields m(doc, "database", Fields::TopLevel{});
  DatabaseSelection s;
  s.databases = names(m, "databases");
  s.exclude = names(m, "exclude");
  m.reject_unknown();
  return s;
}

PrivilegesQuery PrivilegesQuery::from_json(const std::string& json) {
  Value doc = parse(json, "privileges query");
  Fields m(doc, "database", Fields::TopLevel{});
  PrivilegesQuery q;
  q.databases = names(m, "databases");
  q.roles = names(m, "roles");
  q.defaults = m.boolean("defaults").value_or(false);
  m.reject_unknown();
  return q;
}

DatabaseSpec DatabaseSpec::from_json(const std::string& json) { return core::database_spec_of(parse(json, "database")); }

DatabaseSpec core::database_spec_of(const Value& doc) {
  Fields m(doc, "database", Fields::TopLevel{});
  DatabaseSpec spec;
  spec.name = m.str("name").value_or("");
  spec.owner = m.str("owner");
  if (const Value* s = m.get("settings")) {
    if (!s->is_object()) throw InvalidSpec("settings", core::short_text(*s), expecting("an object", *s));
    DatabaseSettings settings;
    for (const auto& [k, v] : s->as_object())
      settings[k] = v.is_null() ? std::nullopt : std::optional<std::string>(setting_text("settings." + k, v));
    spec.settings = std::move(settings);
  }
  if (const Value* s = m.get("schemas")) {
    std::size_t i = 0;
    for (const auto& item : array_of(s, "schemas").as_array()) {
      const std::string path = "schemas[" + std::to_string(i++) + "]";
      SchemaSpec schema;
      if (item.is_string()) {
        schema.name = item.as_string();
      } else {
        Fields sm(item, path);
        schema.name = sm.str("name").value_or("");
        schema.owner = sm.str("owner");
        schema.state = object_state(sm, "state");
        sm.reject_unknown();
      }
      spec.schemas.push_back(std::move(schema));
    }
  }
  if (const Value* s = m.get("extensions")) {
    std::size_t i = 0;
    for (const auto& item : array_of(s, "extensions").as_array()) {
      const std::string path = "extensions[" + std::to_string(i++) + "]";
      ExtensionSpec ext;
      if (item.is_string()) {
        ext.name = item.as_string();
      } else {
        Fields em(item, path);
        ext.name = em.str("name").value_or("");
        ext.schema = em.str("schema");
        ext.version = em.str("version");
        ext.state = object_state(em, "state");
        em.reject_unknown();
      }
      spec.extensions.push_back(std::move(ext));
    }
  }
  spec.tablespace = m.str("tablespace");
  spec.locale = m.str("locale");
  spec.force_drop = m.boolean("force_drop").value_or(false);
  // pglift's manifests carry a state; here the operation says it (drop_database for absent).
  if (auto state = m.str("state"); state && *state != "present")
    throw InvalidSpec("state", *state, "create and alter take a present database: drop it with drop_database");
  m.reject_unknown();
  spec.validate();
  return spec;
}

void DatabaseSpec::validate() const {
  using core::check_sql_name;
  auto check_name = [](const std::string& f, const std::string& v) { check_sql_name(f, v); };
  check_name("name", name);
  if (owner) check_name("owner", *owner);
  if (settings)
    for (const auto& [k, _] : *settings) core::check_setting_name("settings", k);
  for (std::size_t i = 0; i < schemas.size(); ++i) {
    const std::string path = "schemas[" + std::to_string(i) + "]";
    check_name(path + ".name", schemas[i].name);
    if (schemas[i].owner) check_name(path + ".owner", *schemas[i].owner);
  }
  for (std::size_t i = 0; i < extensions.size(); ++i) {
    const std::string path = "extensions[" + std::to_string(i) + "]";
    check_name(path + ".name", extensions[i].name);
    if (extensions[i].schema) check_name(path + ".schema", *extensions[i].schema);
    if (extensions[i].version) check_name(path + ".version", *extensions[i].version);
  }
  if (tablespace) {
    check_name("tablespace", *tablespace);
    if (*tablespace == "default") throw InvalidSpec("tablespace", *tablespace, "'default' is not allowed: give no tablespace instead");
  }
  if (locale) check_name("locale", *locale);
}

namespace {
Value nullable(const char* type, const char* description) {
  return core::Object{{"type", core::Array{type, "null"}}, {"description", description}};
}
/// What core::check_sql_name lets through (the 63 bytes: at most 63 characters, fewer when not ASCII).
Value sql_name(const char* description, bool or_null = false) {
  Value type = or_null ? Value(core::Array{"string", "null"}) : Value("string");
  return core::Object{{"type", type},
                      {"minLength", 1},
                      {"maxLength", 63},
                      {"pattern", "^[^\\u0000-\\u001f\\u007f]+$"},
                      {"description", description}};
}
Value object_state() {
  return core::Object{{"enum", core::Array{"present", "absent", nullptr}}, {"default", "present"}};
}
/// An item of "schemas" or "extensions": a name, or an object of these properties.
Value name_or_object(const char* description, core::Object properties) {
  Value object = core::Object{{"type", "object"},
                              {"additionalProperties", false},
                              {"required", core::Array{"name"}},
                              {"properties", std::move(properties)}};
  return core::Object{{"description", description}, {"oneOf", core::Array{sql_name("Name."), std::move(object)}}};
}
}  // namespace

Value core::database_schema() {
  Value settings = nullable("object", "Session defaults (ALTER DATABASE SET); a null value resets that one; on alter, {} resets all.");
  settings.set("propertyNames", Value(core::Object{{"pattern", "^[A-Za-z0-9_]([A-Za-z0-9_.]*[A-Za-z0-9_])?$"}}));
  settings.set("additionalProperties", Value(core::Object{{"type", core::Array{"string", "integer", "number", "boolean", "null"}}}));
  Value schemas = nullable("array", "Schemas in the database: created (present) or dropped with CASCADE (absent).");
  schemas.set("items", name_or_object("A schema: its name, or an object", core::Object{{"name", sql_name("Schema name.")},
                                                                                      {"owner", sql_name("Owner of the schema.", true)},
                                                                                      {"state", object_state()}}));
  Value extensions = nullable("array", "Extensions in the database: created (CASCADE), updated, moved, or dropped (absent).");
  extensions.set("items", name_or_object("An extension: its name, or an object",
                                         core::Object{{"name", sql_name("Extension name.")},
                                                      {"schema", sql_name("Schema to install it in.", true)},
                                                      {"version", sql_name("Version to install or update to.", true)},
                                                      {"state", object_state()}}));
  Value tablespace = sql_name("Tablespace of the database ('default' is refused: give none).", true);
  tablespace.set("not", Value(core::Object{{"const", "default"}}));
  return core::Object{
      {"title", "Database"},
      {"description", "PostgreSQL database"},
      {"type", "object"},
      {"additionalProperties", false},
      {"required", core::Array{"name"}},
      {"properties",
       core::Object{
           {"name", sql_name("Database name (at most 63 bytes, no control characters).")},
           {"owner", sql_name("The role owning the database (create: default the superuser; alter: null means CURRENT_USER).", true)},
           {"settings", settings},
           {"schemas", schemas},
           {"extensions", extensions},
           {"tablespace", tablespace},
           {"locale", sql_name("Locale of the database (create only: from template0).", true)},
           {"force_drop", Value(core::Object{{"type", core::Array{"boolean", "null"}},
                                             {"default", false},
                                             {"description", "Drop only: terminate the sessions connected to it first."}})},
           {"state", Value(core::Object{{"enum", core::Array{"present", nullptr}},
                                        {"default", "present"},
                                        {"description", "Only 'present': a database is dropped with its drop operation."}})},
       }},
  };
}

std::string DatabaseSpec::json_schema() {
  Value schema = core::Object{{"$schema", "https://json-schema.org/draft/2020-12/schema"}};
  const Value described = core::database_schema();  // named: as_object() refers into it
  for (const auto& [k, v] : described.as_object()) schema.set(k, v);
  return core::to_json(schema, true);
}

std::string Database::to_json() const {
  core::Object s;
  for (const auto& [k, v] : settings) s.emplace_back(k, v);
  core::Array schemas_json, extensions_json;
  for (const auto& x : schemas) schemas_json.push_back(core::Object{{"name", x.name}, {"owner", x.owner}});
  for (const auto& x : extensions)
    extensions_json.push_back(core::Object{{"name", x.name}, {"schema", x.schema}, {"version", x.version}});
  core::Object o{{"name", name},
                 {"owner", owner},
                 {"settings", settings.empty() ? Value() : Value(std::move(s))},
                 {"schemas", std::move(schemas_json)},
                 {"extensions", std::move(extensions_json)},
                 {"tablespace", opt(tablespace)}};
  return core::to_json(Value(std::move(o)));
}

std::string to_json(const std::vector<DatabaseListItem>& items) {
  core::Array a;
  for (const auto& d : items)
    a.push_back(core::Object{{"name", d.name},
                             {"owner", d.owner},
                             {"encoding", d.encoding},
                             {"collation", d.collation},
                             {"ctype", d.ctype},
                             {"acls", strings(d.acls)},
                             {"size", d.size},
                             {"description", opt(d.description)},
                             {"tablespace", core::Object{{"name", d.tablespace.name},
                                                         {"location", d.tablespace.location},
                                                         {"size", d.tablespace.size}}}});
  return core::to_json(Value(std::move(a)));
}

std::string Privileges::to_json() const {
  core::Array a;
  if (defaults) {
    for (const auto& p : default_privileges)
      a.push_back(core::Object{{"database", p.database},
                               {"schema", p.schema},
                               {"object_type", p.object_type},
                               {"role", p.role},
                               {"privileges", strings(p.privileges)}});
  } else {
    for (const auto& p : privileges) {
      core::Object cols;
      for (const auto& [c, privs] : p.column_privileges) cols.emplace_back(c, strings(privs));
      a.push_back(core::Object{{"database", p.database},
                               {"schema", p.schema},
                               {"object_name", p.object_name},
                               {"object_type", p.object_type},
                               {"role", p.role},
                               {"privileges", strings(p.privileges)},
                               {"column_privileges", std::move(cols)}});
    }
  }
  return core::to_json(Value(std::move(a)));
}

std::string to_json(const SqlResults& results) {
  core::Object o;
  for (const auto& [db, r] : results) {
    core::Array rows;
    for (const auto& row : r.rows) {
      core::Object obj;
      for (std::size_t c = 0; c < r.columns.size() && c < row.size(); ++c) obj.emplace_back(r.columns[c], opt(row[c]));
      rows.push_back(std::move(obj));
    }
    o.emplace_back(db, std::move(rows));
  }
  return core::to_json(Value(std::move(o)));
}

}  // namespace pglift

namespace pglift::core {

void check_sql_name(const std::string& field, const std::string& value) {
  if (value.empty()) throw InvalidSpec(field, value, "must not be empty");
  if (value.size() > 63) throw InvalidSpec(field, value, "must be at most 63 bytes long");
  if (std::any_of(value.begin(), value.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    throw InvalidSpec(field, value, "must not contain control characters");
}

void check_setting_name(const std::string& field, const std::string& name) {
  if (name.empty() || name.front() == '.' || name.back() == '.' ||
      !std::all_of(name.begin(), name.end(), [](unsigned char c) { return core::is_ascii_alnum(c) || c == '_' || c == '.'; }))
    throw InvalidSpec(field, name, "not a valid PostgreSQL parameter name");
}

}  // namespace pglift::core
