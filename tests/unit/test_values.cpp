#include <doctest/doctest.h>

#include "core/text.hpp"
#include "core/value.hpp"
#include "pglift/errors.hpp"
#include "pglift/instance.hpp"

using namespace pglift;

TEST_CASE("templates: render and list variables, escapes, unknown variables") {
  CHECK(core::render("{prefix}/pgsql/{version}/{name}", {{"prefix", "/p"}, {"version", "15"}, {"name", "main"}}) ==
        "/p/pgsql/15/main");
  CHECK(core::render("{{literal}} {x}", {{"x", "1"}}) == "{literal} 1");
  CHECK(core::template_variables("a/{version}/{name}/{name}") == std::set<std::string>{"name", "version"});
  CHECK_THROWS_WITH(core::render("{nope}", {}), doctest::Contains("'nope'"));
}

TEST_CASE("quoting for postgresql.conf (SQL is quoted by libpq: see the func suite)") {
  CHECK(core::quote_conf("a'b\\c") == "'a''b\\\\c'");
}

TEST_CASE("instance spec validation names the field and the value") {
  auto field_of = [](InstanceSpec spec) -> std::string {
    try {
      spec.validate();
    } catch (const InvalidSpec& e) {
      return e.field() + "=" + e.value();
    }
    return "ok";
  };
  CHECK(field_of({.name = "main"}) == "ok");
  CHECK(field_of({.name = ""}) == "name=");
  CHECK(field_of({.name = "bad/name"}) == "name=bad/name");
  CHECK(field_of({.name = "bad-name"}) == "name=bad-name");
  CHECK(field_of({.name = "a b"}) == "name=a b");
  CHECK(field_of({.name = "m", .port = 0}) == "port=0");
  CHECK(field_of({.name = "m", .port = 70000}) == "port=70000");
  CHECK(field_of({.name = "m", .version = "fifteen"}) == "version=fifteen");
  CHECK(field_of({.name = "m", .auth = {.local = "nope"}}) == "auth.local=nope");
  CHECK(field_of({.name = "m", .auth = {.hostssl = "cert"}}) == "ok");
  CHECK_THROWS_WITH(InstanceSpec{.name = "bad/name"}.validate(),
                    "invalid value 'bad/name' for field 'name': instance name must not contain slashes");
}

TEST_CASE("instance spec from JSON: types, unknown fields, round trip without passwords") {
  auto spec = InstanceSpec::from_json(
      R"({"name": "main", "version": 15, "port": "5433", "settings": {"work_mem": "8MB", "jit": false, "max_connections": 50},
          "surole_password": "s3cret", "state": "stopped", "auth": {"local": "md5"}})");
  CHECK(spec.version == std::optional<std::string>("15"));
  CHECK(spec.port == 5433);
  CHECK(std::get<std::string>(spec.settings.at("work_mem")) == "8MB");
  CHECK(std::get<bool>(spec.settings.at("jit")) == false);
  CHECK(std::get<std::int64_t>(spec.settings.at("max_connections")) == 50);
  CHECK(spec.state == InstanceState::stopped);
  CHECK(spec.auth.local == std::optional<std::string>("md5"));
  std::string json = spec.to_json();
  CHECK(json.find("s3cret") == std::string::npos);
  auto again = InstanceSpec::from_json(json);
  CHECK(again.settings == spec.settings);
  CHECK(again.port == spec.port);

  CHECK_THROWS_WITH_AS(InstanceSpec::from_json(R"({"name": "m", "colour": "blue"})"), doctest::Contains("'colour'"), InvalidSpec);
  CHECK_THROWS_WITH_AS(InstanceSpec::from_json(R"({"name": "m", "port": true})"), doctest::Contains("'port'"), InvalidSpec);
  CHECK_THROWS_WITH_AS(InstanceSpec::from_json(R"({"name": "m", "state": "absent"})"), doctest::Contains("'state'"), InvalidSpec);
  CHECK_THROWS_AS(InstanceSpec::from_json("{"), InvalidSpec);
  CHECK_THROWS_WITH_AS(InstanceSpec::from_json(R"({"name": "m", "port": 5433, "settings": {"port": 5434}})"),
                       doctest::Contains("mismatch"), InvalidSpec);
}

TEST_CASE("instance JSON has pglift's shape and round-trips") {
  Instance i{.name = "main", .version = "15", .port = 5455, .settings = {{"shared_buffers", std::string("1 GB")}, {"logging_collector", true}},
             .data_checksums = true, .locale = "C", .encoding = "UTF8", .state = InstanceState::started,
             .pending_restart = false, .data_directory = "/p/data", .wal_directory = "/p/wal"};
  auto doc = core::parse_json(i.to_json());
  for (const char* key : {"name", "version", "port", "settings", "data_checksums", "locale", "encoding", "standby", "state",
                          "pending_restart", "data_directory", "wal_directory"})
    CHECK_MESSAGE(doc.find(key) != nullptr, key);
  CHECK(doc.find("state")->as_string() == "started");
  CHECK(doc.find("version")->as_string() == "15");
  CHECK(doc.find("standby")->is_null());
  auto back = Instance::from_json(i.to_json());
  CHECK(back.to_json() == i.to_json());

  std::vector<InstanceListItem> items{{"main", "15", 5455, "/p/data", RunStatus::running}};
  CHECK(to_json(items) == R"([{"name":"main","version":"15","port":5455,"datadir":"/p/data","status":"running"}])");
}

TEST_CASE("the manifest JSON Schema is valid JSON describing the fields") {
  auto schema = core::parse_json(InstanceSpec::json_schema());
  const auto* props = schema.find("properties");
  REQUIRE(props);
  for (const char* key : {"name", "version", "port", "settings", "data_checksums", "locale", "encoding", "state"})
    CHECK_MESSAGE(props->find(key) != nullptr, key);
}

TEST_CASE("instance references") {
  CHECK(InstanceRef::parse("main").name == "main");
  CHECK_FALSE(InstanceRef::parse("main").version);
  auto r = InstanceRef::parse("15/main");
  CHECK(r.version == std::optional<std::string>("15"));
  CHECK(r.str() == "15/main");
  CHECK_THROWS_AS(InstanceRef::parse("x/main"), InvalidSpec);
  CHECK_THROWS_AS(InstanceRef::parse("15/"), InvalidSpec);
}

TEST_CASE("value documents: JSON and YAML parse to the same thing; merge is recursive") {
  auto j = core::parse_json(R"({"a": {"b": 1, "c": [true, null, "x"]}, "d": 1.5})");
  auto y = core::parse_yaml("a:\n  b: 1\n  c: [true, ~, x]\nd: 1.5\n");
  CHECK(j == y);
  core::merge(j, core::parse_json(R"({"a": {"b": 2, "e": "new"}})"));
  CHECK(j.find("a")->find("b")->as_int() == 2);
  CHECK(j.find("a")->find("e")->as_string() == "new");
  CHECK(j.find("a")->find("c")->as_array().size() == 3);
  CHECK(core::parse_yaml("x: '5432'").find("x")->is_string());
}
