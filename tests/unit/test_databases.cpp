// The SQL of database operations, built from specs (quoting is libpq's in production: here a fake that
// marks what it quoted), the JSON faces and the spec's validation.
#include <doctest/doctest.h>

#include "pglift/databases.hpp"
#include "pglift/errors.hpp"
#include "postgres/databases.hpp"

using namespace pglift;
namespace dbsql = pglift::postgres::dbsql;

namespace {
const dbsql::Quote q{[](std::string_view n) { return "<" + std::string(n) + ">"; },
                     [](std::string_view v) { return "[" + std::string(v) + "]"; }};

std::string field_of(const std::string& json) {
  try {
    DatabaseSpec::from_json(json);
  } catch (const InvalidSpec& e) {
    return e.field();
  }
  return "(none)";
}
}  // namespace

TEST_CASE("CREATE DATABASE: owner, locale from template0, tablespace; every name through the quoting function") {
  DatabaseSpec s;
  s.name = "db";
  CHECK(dbsql::create_database(q, s) == "CREATE DATABASE <db>");
  s.owner = "bob";
  s.locale = "fr_FR.UTF-8";
  s.tablespace = "fast";
  CHECK(dbsql::create_database(q, s) == "CREATE DATABASE <db> OWNER <bob> TEMPLATE template0 LOCALE [fr_FR.UTF-8] TABLESPACE <fast>");
  CHECK(dbsql::drop_database(q, "db", false) == "DROP DATABASE <db>");
  CHECK(dbsql::drop_database(q, "db", true) == "DROP DATABASE <db> WITH (FORCE)");
  CHECK(dbsql::alter_owner(q, "db", std::nullopt) == "ALTER DATABASE <db> OWNER TO CURRENT_USER");
  CHECK(dbsql::alter_owner(q, "db", "alice") == "ALTER DATABASE <db> OWNER TO <alice>");
}

TEST_CASE("settings: SET/RESET per key (dotted names quoted part by part), RESET ALL for an empty map") {
  CHECK(dbsql::settings(q, "db", {}) == std::vector<std::string>{"ALTER DATABASE <db> RESET ALL"});
  DatabaseSettings s{{"work_mem", "8MB"}, {"jit", std::nullopt}, {"pg_stat_statements.track", "all"}};
  CHECK(dbsql::settings(q, "db", s) == std::vector<std::string>{"ALTER DATABASE <db> RESET <jit>",
                                                                 "ALTER DATABASE <db> SET <pg_stat_statements>.<track> TO [all]",
                                                                 "ALTER DATABASE <db> SET <work_mem> TO [8MB]"});
  DatabaseSettings bad{{"work_mem; DROP", "x"}};
  CHECK_THROWS_AS(dbsql::settings(q, "db", bad), InvalidSpec);
}

TEST_CASE("schema and extension diffs: create what is missing, drop what is absent, nothing for what is already so") {
  dbsql::Contents current{{{"public", "postgres"}, {"app", "bob"}}, {{"hstore", "public", "1.8"}}};
  std::vector<SchemaSpec> schemas{{"app", std::nullopt, DatabaseObjectState::present},
                                  {"new", "bob", DatabaseObjectState::present},
                                  {"public", "alice", DatabaseObjectState::present},
                                  {"gone", std::nullopt, DatabaseObjectState::absent},
                                  {"app2", std::nullopt, DatabaseObjectState::present}};
  CHECK(dbsql::schema_changes(q, schemas, current) ==
        std::vector<std::string>{"CREATE SCHEMA <new> AUTHORIZATION <bob>", "ALTER SCHEMA <public> OWNER TO <alice>",
                                 "CREATE SCHEMA <app2>"});
  std::vector<SchemaSpec> drop{{"app", std::nullopt, DatabaseObjectState::absent}};
  CHECK(dbsql::schema_changes(q, drop, current) == std::vector<std::string>{"DROP SCHEMA <app> CASCADE"});

  std::vector<ExtensionSpec> exts{{"hstore", std::nullopt, std::nullopt, DatabaseObjectState::present},
                                  {"citext", "app", "1.6", DatabaseObjectState::present},
                                  {"pg_trgm", std::nullopt, std::nullopt, DatabaseObjectState::absent}};
  CHECK(dbsql::extension_changes(q, exts, current) ==
        std::vector<std::string>{"CREATE EXTENSION IF NOT EXISTS <citext> SCHEMA <app> VERSION [1.6] CASCADE"});
  std::vector<ExtensionSpec> change{{"hstore", "app", "1.7", DatabaseObjectState::present}};
  CHECK(dbsql::extension_changes(q, change, current) ==
        std::vector<std::string>{"ALTER EXTENSION <hstore> SET SCHEMA <app>", "ALTER EXTENSION <hstore> UPDATE TO [1.7]"});
  std::vector<ExtensionSpec> remove{{"hstore", std::nullopt, std::nullopt, DatabaseObjectState::absent}};
  CHECK(dbsql::extension_changes(q, remove, current) == std::vector<std::string>{"DROP EXTENSION IF EXISTS <hstore> CASCADE"});
}

TEST_CASE("a statement's passwords are masked for the log, whatever their quoting") {
  CHECK(dbsql::redact_sql("ALTER ROLE bob PASSWORD 's3cret'") == "ALTER ROLE bob PASSWORD '**********'");
  CHECK(dbsql::redact_sql("create role x login encrypted password E'a\\'b' valid until 'infinity'") ==
        "create role x login encrypted password '**********' valid until 'infinity'");
  CHECK(dbsql::redact_sql("ALTER ROLE x PASSWORD 'it''s'; SELECT 1") == "ALTER ROLE x PASSWORD '**********'; SELECT 1");
  CHECK(dbsql::redact_sql("ALTER ROLE x PASSWORD $q$secret$q$") == "ALTER ROLE x PASSWORD '**********'");
  CHECK(dbsql::redact_sql("ALTER ROLE x PASSWORD NULL") == "ALTER ROLE x PASSWORD NULL");
  CHECK(dbsql::redact_sql("SELECT password_encryption") == "SELECT password_encryption");
  CHECK(dbsql::redact_sql("ALTER ROLE x PASSWORD 'unterminated") == "ALTER ROLE x PASSWORD '**********'");
}

TEST_CASE("DatabaseSpec from JSON: plain strings for schemas and extensions, settings of any scalar type") {
  auto s = DatabaseSpec::from_json(
      R"({"name": "db", "owner": "bob", "settings": {"work_mem": "8MB", "jit": false, "max_parallel_workers": 2, "x.y": null},
          "schemas": ["s1", {"name": "s2", "owner": "bob", "state": "absent"}],
          "extensions": ["hstore", {"name": "citext", "schema": "s1", "version": "1.6"}], "force_drop": true})");
  CHECK(s.name == "db");
  CHECK(s.owner == std::optional<std::string>("bob"));
  REQUIRE(s.settings);
  CHECK(s.settings->at("work_mem") == std::optional<std::string>("8MB"));
  CHECK(s.settings->at("jit") == std::optional<std::string>("off"));
  CHECK(s.settings->at("max_parallel_workers") == std::optional<std::string>("2"));
  CHECK_FALSE(s.settings->at("x.y").has_value());
  REQUIRE(s.schemas.size() == 2);
  CHECK(s.schemas[1].state == DatabaseObjectState::absent);
  REQUIRE(s.extensions.size() == 2);
  CHECK(s.extensions[1].schema == std::optional<std::string>("s1"));
  CHECK(s.force_drop);
  CHECK_FALSE(DatabaseSpec::from_json(R"({"name": "db"})").settings.has_value());
  CHECK(DatabaseSpec::from_json(R"({"name": "db", "settings": {}})").settings->empty());
}

TEST_CASE("DatabaseSpec errors name the field and never quote the document") {
  CHECK(field_of(R"({"name": ""})") == "name");
  CHECK(field_of(R"({})") == "name");
  CHECK(field_of(R"({"name": "a\u0001b"})") == "name");
  CHECK(field_of(R"({"name": ")" + std::string(64, 'x') + R"("})") == "name");
  CHECK(field_of(R"({"name": "db", "tablespace": "default"})") == "tablespace");
  CHECK(field_of(R"({"name": "db", "schemas": ["ok", {"name": ""}]})") == "schemas[1].name");
  CHECK(field_of(R"({"name": "db", "schemas": [{"name": "s", "state": "gone"}]})") == "schemas[0].state");
  CHECK(field_of(R"({"name": "db", "extensions": [{"name": "e", "bogus": 1}]})") == "extensions[0].bogus");
  CHECK(field_of(R"({"name": "db", "settings": {"a b": "1"}})") == "settings");
  CHECK(field_of(R"({"name": "db", "settings": {"work_mem": []}})") == "settings.work_mem");
  CHECK(field_of(R"({"name": "db", "unknown": 1})") == "unknown");
  CHECK(field_of(R"({"name": "db", "state": "absent"})") == "state");
  CHECK(field_of(R"({"name": "db", "state": "present"})") == "(none)");
  try {
    DatabaseSpec::from_json(R"({"name": "db", "owner": "secretvalue" )");
    FAIL("no error");
  } catch (const InvalidSpec& e) {
    CHECK(std::string(e.what()).find("secretvalue") == std::string::npos);
    CHECK(std::string(e.what()).find("invalid database document") != std::string::npos);
  }
}

TEST_CASE("JSON faces of the results: get, list, privileges, run") {
  Database d;
  d.name = "db";
  d.owner = "bob";
  d.schemas = {{"public", "bob"}};
  d.extensions = {{"hstore", "public", "1.8"}};
  CHECK(d.to_json() ==
        R"({"name":"db","owner":"bob","settings":null,"schemas":[{"name":"public","owner":"bob"}],)"
        R"("extensions":[{"name":"hstore","schema":"public","version":"1.8"}],"tablespace":null})");
  SqlResults r;
  r["db"] = SqlResult{{"a", "b"}, {{std::string("1"), std::nullopt}}, "SELECT 1"};
  r["postgres"] = SqlResult{{}, {}, "CREATE TABLE"};
  CHECK(to_json(r) == R"({"db":[{"a":"1","b":null}],"postgres":[]})");
  Privileges p;
  p.privileges = {{"db", "public", "t", "TABLE", "bob", {"SELECT"}, {{"c", {"UPDATE"}}}}};
  CHECK(p.to_json() ==
        R"([{"database":"db","schema":"public","object_name":"t","object_type":"TABLE","role":"bob","privileges":["SELECT"],"column_privileges":{"c":["UPDATE"]}}])");
  p.defaults = true;
  CHECK(p.to_json() == "[]");
  DatabaseListItem item;
  item.name = "db";
  item.acls = {"=Tc/bob"};
  item.tablespace = {"pg_default", "", 10};
  CHECK(to_json(std::vector<DatabaseListItem>{item}).find(R"("acls":["=Tc/bob"])") != std::string::npos);
}
