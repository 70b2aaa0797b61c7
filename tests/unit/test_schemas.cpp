// The JSON Schemas of the manifests (`instance|role|database --schema`) against their readers: every
// property a schema lists is read, none other is; secrets are writeOnly. And the instance manifest's
// roles and databases, read by their own readers, with errors named by their path.
#include <doctest/doctest.h>

#include <functional>
#include <set>

#include "core/value.hpp"
#include "pglift/databases.hpp"
#include "pglift/errors.hpp"
#include "pglift/instance.hpp"
#include "pglift/roles.hpp"

using namespace pglift;
using core::Value;

namespace {

using Reader = std::function<void(const std::string&)>;

std::set<std::string> properties_of(const Value& schema) {
  std::set<std::string> out;
  if (const Value* p = schema.find("properties"))
    for (const auto& [k, _] : p->as_object()) out.insert(k);
  return out;
}

const char* first_type(const Value& schema) {
  const Value* t = schema.find("type");
  if (!t) return "";
  if (t->is_string()) return t->as_string() == "null" ? "" : t->as_string().c_str();
  for (const auto& x : t->as_array())
    if (x.as_string() != "null") return x.as_string().c_str();
  return "";
}

/// A value the schema allows; an object with its required properties only, or with all when `full`.
Value sample(const Value& schema, bool full) {
  if (const Value* ro = schema.find("readOnly"); ro && ro->as_bool()) return nullptr;
  if (const Value* e = schema.find("enum")) {
    for (const auto& x : e->as_array())
      if (!x.is_null()) return x;
  }
  if (const Value* one = schema.find("oneOf")) return sample(one->as_array().front(), full);
  const std::string type = first_type(schema);
  if (type == "integer") return std::int64_t{5433};
  if (type == "number") return 1.5;
  if (type == "boolean") return false;
  if (type == "array") {
    core::Array a;
    const Value& items = *schema.find("items");
    if (const Value* one = items.find("oneOf"))
      for (const auto& alternative : one->as_array()) a.push_back(sample(alternative, false));
    else a.push_back(sample(items, false));
    return a;
  }
  if (type == "object") {
    if (!schema.find("properties")) return core::Object{{"work_mem", "8MB"}};
    Value o = core::Object{};
    std::set<std::string> required;
    if (const Value* r = schema.find("required"))
      for (const auto& x : r->as_array()) required.insert(x.as_string());
    for (const auto& [k, v] : schema.find("properties")->as_object())
      if (full || required.count(k)) o.set(k, sample(v, full));
    return o;
  }
  const Value* pattern = schema.find("pattern");
  if (pattern && pattern->as_string().find(":[0-9]") != std::string::npos) return "127.0.0.1:8008";
  if (pattern && pattern->as_string() == "^[0-9]+$") return "15";
  return "x1";
}

std::string read_error(const Reader& read, const Value& doc) {
  try {
    read(core::to_json(doc));
  } catch (const InvalidSpec& e) {
    return e.field() + ": " + e.what();
  }
  return {};
}

/// Each property of `schema` alone over `base` (an object holding the required ones) is read; objects
/// are given whole (all their properties, nested ones too); an unknown property is refused, at the top
/// and in each nested object.
void check_against_reader(const Value& schema, const Value& base, const Reader& read) {
  for (const auto& [key, prop] : schema.find("properties")->as_object()) {
    Value doc = base;
    doc.set(key, sample(prop, true));
    CHECK_MESSAGE(read_error(read, doc).empty(), key, " refused: ", read_error(read, doc));
    if (std::string(first_type(prop)) == "object" && prop.find("properties")) {
      Value nested = sample(prop, true);
      nested.set("no_such_field", "x");
      doc.set(key, nested);
      CHECK_MESSAGE(read_error(read, doc).find(key + ".no_such_field") == 0, key, ": an unknown field is read");
    }
  }
  Value doc = base;
  doc.set("no_such_field", "x");
  CHECK(read_error(read, doc).find("no_such_field") == 0);
}

/// Every property whose name holds a secret is writeOnly, at any depth.
void check_secrets(const Value& schema, const std::string& path) {
  if (const Value* props = schema.find("properties"))
    for (const auto& [k, v] : props->as_object()) {
      if (is_secret_field(k)) {
        const Value* w = v.find("writeOnly");
        CHECK_MESSAGE((w && w->as_bool()), path, k, " is not writeOnly");
      }
      check_secrets(v, path + k + ".");
    }
  if (const Value* items = schema.find("items")) check_secrets(*items, path + "[].");
}

const Reader read_instance = [](const std::string& j) { InstanceSpec::from_json(j); };
const Reader read_role = [](const std::string& j) { role_spec_from_json(j); };
const Reader read_database = [](const std::string& j) { DatabaseSpec::from_json(j); };

std::string field_of(const Reader& read, const std::string& json) {
  try {
    read(json);
  } catch (const InvalidSpec& e) {
    return e.field();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("the role schema lists exactly the fields role_spec_from_json reads; passwords are writeOnly") {
  const Value schema = core::parse_json(RoleSpec::json_schema());
  CHECK(schema.find("$schema"));
  CHECK(properties_of(schema) == std::set<std::string>{"name", "password", "encrypted_password", "inherit", "login",
                                                       "superuser", "createdb", "createrole", "replication",
                                                       "connection_limit", "valid_until", "in_roles", "pgpass", "state"});
  check_against_reader(schema, core::Object{{"name", "alice"}}, read_role);
  CHECK(field_of(read_role, "{}") == "name");
  check_secrets(schema, "");
}

TEST_CASE("the database schema lists exactly the fields DatabaseSpec::from_json reads") {
  const Value schema = core::parse_json(DatabaseSpec::json_schema());
  CHECK(properties_of(schema) == std::set<std::string>{"name", "owner", "settings", "schemas", "extensions", "tablespace",
                                                       "locale", "force_drop", "state"});
  check_against_reader(schema, core::Object{{"name", "app"}}, read_database);
  // The object forms of a schema and an extension: every listed property read, no other.
  for (const char* list : {"schemas", "extensions"}) {
    const Value& object = schema.find("properties")->find(list)->find("items")->find("oneOf")->as_array().at(1);
    Value item = sample(object, true);
    Value doc = core::Object{{"name", "app"}, {list, core::Array{item}}};
    CHECK_MESSAGE(read_error(read_database, doc).empty(), list, ": ", read_error(read_database, doc));
    item.set("no_such_field", "x");
    doc.set(list, core::Array{item});
    CHECK(read_error(read_database, doc).find(std::string(list) + "[0].no_such_field") == 0);
  }
}

TEST_CASE("the instance schema lists exactly what InstanceSpec::from_json reads: patroni, roles and databases too") {
  const Value schema = core::parse_json(InstanceSpec::json_schema());
  CHECK(properties_of(schema) ==
        std::set<std::string>{"name", "version", "port", "settings", "data_checksums", "locale", "encoding", "auth",
                              "surole_password", "replrole_password", "rewind_password", "state", "patroni", "roles",
                              "databases", "pending_restart", "data_directory", "wal_directory", "standby"});
  const Value& props = *schema.find("properties");
  CHECK(properties_of(*props.find("patroni")) ==
        std::set<std::string>{"cluster", "node", "restapi", "postgresql", "postgresql_connect_host", "synchronous_mode",
                              "synchronous_mode_strict", "cluster_members", "is_paused", "state", "orphan_postmaster",
                              "dcs_error", "fenced", "discarded_on_rejoin"});
  // The items are the role and database schemas themselves (without their "$schema").
  Value role = core::parse_json(RoleSpec::json_schema()), database = core::parse_json(DatabaseSpec::json_schema());
  role.as_object().erase(role.as_object().begin());
  database.as_object().erase(database.as_object().begin());
  CHECK(*props.find("roles")->find("items") == role);
  CHECK(*props.find("databases")->find("items") == database);
  CHECK(props.find("roles")->find("writeOnly")->as_bool());
  CHECK(props.find("databases")->find("writeOnly")->as_bool());
  // rewind_password needs a Patroni member: the base has one.
  check_against_reader(schema, core::Object{{"name", "main"}, {"patroni", core::Object{{"cluster", "c1"}}}}, read_instance);
  check_secrets(schema, "");
  // A get -o json document of a fenced member is read back (its read-only fields are ignored).
  CHECK(field_of(read_instance, R"({"name": "m", "patroni": {"cluster": "c", "fenced": {"at": "t", "reason": "r"}}})") ==
        "(no error)");
}

TEST_CASE("the instance manifest's roles and databases: read by their readers, errors named by their path") {
  auto spec = InstanceSpec::from_json(R"({"name": "m", "roles": [{"name": "alice", "login": true, "password": "Canary-9f3b2c"},
    {"name": "bob"}], "databases": [{"name": "app", "owner": "alice", "schemas": ["s1"]}]})");
  REQUIRE(spec.roles.size() == 2);
  CHECK(spec.roles[0].login);
  CHECK(spec.roles[0].password == std::optional<std::string>("Canary-9f3b2c"));
  CHECK(spec.roles[1].name == "bob");
  REQUIRE(spec.databases.size() == 1);
  CHECK(spec.databases[0].owner == std::optional<std::string>("alice"));
  CHECK(spec.databases[0].schemas.at(0).name == "s1");
  // Write-only: never serialised.
  CHECK(spec.to_json().find("roles") == std::string::npos);
  CHECK(spec.to_json().find("Canary") == std::string::npos);

  CHECK(field_of(read_instance, R"({"name": "m", "roles": [{"name": "a"}, {"name": ""}]})") == "roles[1].name");
  CHECK(field_of(read_instance, R"({"name": "m", "roles": [{"name": "a", "superuser": 1}]})") == "roles[0].superuser");
  CHECK(field_of(read_instance, R"({"name": "m", "roles": [{"login": true}]})") == "roles[0].name");
  CHECK(field_of(read_instance, R"({"name": "m", "roles": [{"name": "a", "pgpass": true}]})") == "roles[0].password");
  CHECK(field_of(read_instance, R"({"name": "m", "roles": [{"name": "a", "in_roles": ["b", ""]}]})") ==
        "roles[0].in_roles[1]");
  CHECK(field_of(read_instance, R"({"name": "m", "roles": ["alice"]})") == "roles[0]");
  CHECK(field_of(read_instance, R"({"name": "m", "roles": {"name": "a"}})") == "roles");
  CHECK(field_of(read_instance, R"({"name": "m", "roles": [{"name": "a"}, {"name": "a"}]})") == "roles[1].name");
  CHECK(field_of(read_instance, R"({"name": "m", "databases": [{"name": "d", "schemas": ["s", {"name": ""}]}]})") ==
        "databases[0].schemas[1].name");
  CHECK(field_of(read_instance, R"({"name": "m", "databases": [{"name": "d", "tablespace": "default"}]})") ==
        "databases[0].tablespace");
  CHECK(field_of(read_instance, R"({"name": "m", "databases": [{"name": "d", "colour": "x"}]})") == "databases[0].colour");

  // A secret stays hidden under its path; the message names the path.
  try {
    InstanceSpec::from_json(R"({"name": "m", "roles": [{"name": "a", "password": "Canary-9f3b2c", "encrypted_password": "x"}]})");
    FAIL("no error");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "roles[0].encrypted_password");
    CHECK(std::string(e.what()).find("roles[0].encrypted_password") != std::string::npos);
    CHECK(std::string(e.what()).find("Canary") == std::string::npos);
  }
  // Specs built in C++ are validated the same way.
  InstanceSpec built;
  built.name = "m";
  built.databases.push_back(DatabaseSpec{.name = "d", .owner = std::string(64, 'o')});
  try {
    built.validate();
    FAIL("no error");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "databases[0].owner");
  }
}

TEST_CASE("InvalidSpec::within: the field and the message name the nested path") {
  InvalidSpec e("name", "bad\x01", "must not contain control characters");
  InvalidSpec n = e.within("roles[2]");
  CHECK(n.field() == "roles[2].name");
  CHECK(n.value() == e.value());
  CHECK(std::string(n.what()) == "invalid value 'bad\\x01' for field 'roles[2].name': must not contain control characters");
  InvalidSpec secret("password", "Canary-9f3b2c", "too short");
  CHECK(std::string(secret.within("roles[0]").what()).find("Canary") == std::string::npos);
  InvalidSpec missing = InvalidSpec::missing("name", "the role document needs a 'name'");
  CHECK(missing.within("roles[0]").field() == "roles[0].name");
  CHECK(std::string(missing.within("roles[0]").what()) == "roles[0]: the role document needs a 'name'");
  CHECK(n.code() == ErrorCode::invalid_spec);
}
