#include <doctest/doctest.h>

#include "core/psqlrc.hpp"
#include "core/text.hpp"
#include "core/value.hpp"
#include "pglift/errors.hpp"
#include "pglift/instance.hpp"
#include "pglift/operations.hpp"

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
  // One parameter a line: a newline in a value is escaped (PostgreSQL's lexer reads \n), never a new line.
  CHECK(core::quote_conf("a\nfsync = off") == "'a\\nfsync = off'");
  CHECK(core::quote_conf("a\rb") == "'a\\rb'");
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

TEST_CASE("instance JSON: patroni.discarded_on_rejoin (Patroni's own rewind) round-trips; absent without a record") {
  Instance i{.name = "m", .version = "15", .port = 5455};
  PatroniInfo p;
  p.cluster = "c";
  p.node = "n1";
  i.patroni = p;
  CHECK(i.to_json().find("discarded_on_rejoin") == std::string::npos);
  i.patroni->discarded_on_rejoin = PatroniRejoin{"2026-12-05T12:00:00Z", "rejoined", "WAL 0/3000148..0/30A1B20 (73 committed transactions)", 73};
  auto doc = core::parse_json(i.to_json());
  const auto* r = doc.find("patroni")->find("discarded_on_rejoin");
  REQUIRE(r);
  CHECK(r->find("at")->as_string() == "2026-12-05T12:00:00Z");
  CHECK(r->find("outcome")->as_string() == "rejoined");
  CHECK(r->find("commits")->as_int() == 73);
  CHECK(Instance::from_json(i.to_json()).to_json() == i.to_json());
  i.patroni->discarded_on_rejoin->commits.reset();  // unknown: null, not 0
  CHECK(core::parse_json(i.to_json()).find("patroni")->find("discarded_on_rejoin")->find("commits")->is_null());
  CHECK(Instance::from_json(i.to_json()).to_json() == i.to_json());
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

namespace {
/// The field and message of the ParseError that parsing `text` raises.
std::pair<std::string, std::string> parse_failure(std::string_view text) {
  try {
    core::parse_json(text);
  } catch (const core::ParseError& e) {
    return {e.field, e.what()};
  }
  return {"(parsed)", ""};
}
}  // namespace

TEST_CASE("JSON: a NUL byte, \\u0000 or invalid UTF-8 is refused naming the field, never showing the bytes") {
  using namespace std::string_literals;
  auto [field, msg] = parse_failure(R"({"name": "caf)"s + "\xe9" + R"(", "port": 1})");
  CHECK(field == "name");
  CHECK(msg.find("in field 'name'") != std::string::npos);
  CHECK(msg.find("invalid UTF-8") != std::string::npos);
  CHECK(msg.find('\xe9') == std::string::npos);

  std::tie(field, msg) = parse_failure(R"({"patroni": {"etcd": {"hosts": ["a:1", "b)"s + "\xc0\xaf" + R"(:2"]}}})");
  CHECK(field == "patroni.etcd.hosts[1]");
  std::tie(field, msg) = parse_failure("{\"name\": \"x\", \"settings\": {\"work_mem\": \"a\0b\"}}"s);
  CHECK(field == "settings.work_mem");
  CHECK(msg.find("NUL byte") != std::string::npos);
  std::tie(field, msg) = parse_failure(R"({"a": [1, {"b": "x\u0000y"}]})");
  CHECK(field == "a[1].b");
  CHECK(msg.find("\\u0000") != std::string::npos);
  std::tie(field, msg) = parse_failure("{\"name\": \"x\"}\0{\"bogus\":"s);  // bytes after a NUL count
  CHECK(msg.find("NUL byte") != std::string::npos);
  std::tie(field, msg) = parse_failure(R"({"patroni": {"cl)"s + "\xed\xa0\x80" + R"(": 1}})");  // a surrogate, in a key
  CHECK(field.empty());
  CHECK(msg.find("in a key of 'patroni'") != std::string::npos);
  std::tie(field, msg) = parse_failure("{\"a\": \"\xf4\x90\x80\x80\"}");  // over U+10FFFF
  CHECK(field == "a");
  // Valid UTF-8 of every length, escapes (a quote, a backslash before the closing quote) are fine.
  CHECK(core::parse_json(R"({"k\"ey\\": "é€😀", "b": ["\\", "\"x"]})").find("b")->as_array().size() == 2);
  CHECK(core::parse_json(R"({"k\"ey\\": "é€😀"})").find("k\"ey\\")->as_string() == "é€😀");
  // The C++ API names the field too.
  try {
    InstanceSpec::from_json(R"({"name": "ok", "patroni": {"cluster": "c)"s + "\xff" + R"("}})");
    FAIL("accepted");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "patroni.cluster");
    CHECK(std::string(e.what()).find('\xff') == std::string::npos);
  }
}

// --- names: a safe character set, checked where specs are validated and where instances are looked up ---

namespace {
/// "field" of the InvalidSpec that validating `spec` raises, or "ok".
std::string refused_field(const InstanceSpec& spec) {
  try {
    spec.validate();
  } catch (const InvalidSpec& e) {
    return e.field();
  }
  return "ok";
}
InstanceSpec patroni_member(const std::string& cluster, const std::optional<std::string>& node = std::nullopt) {
  return {.name = "pg1", .patroni = PatroniSpec{.cluster = cluster, .node = node}};
}
}  // namespace

TEST_CASE("YAML: invalid UTF-8 or a NUL in a string or a key is refused, as in JSON (found by fuzzing)") {
  using namespace std::string_literals;
  for (const std::string& text : {"bindir: /usr/\xff/bin\n"s, "\xc3\x28: 1\n"s, "a: \"x\\0y\"\n"s, "a: [\"\\0\"]\n"s})
    CHECK_THROWS_WITH_AS(core::parse_yaml(text), "invalid YAML: a string with invalid UTF-8 or a NUL character (not shown)",
                         core::ParseError);
  CHECK(core::parse_yaml("a: \"\\u00e9t\xc3\xa9\"\n").find("a")->as_string() == "\xc3\xa9t\xc3\xa9");
}

TEST_CASE("YAML: an alias inside its own anchor, deep nesting and alias bombs are refused (found by fuzzing)") {
  CHECK_THROWS_WITH_AS(core::parse_yaml("base: &base\n  name: x\n  again: *base\n"),
                       doctest::Contains("an alias inside its own anchor"), core::ParseError);
  CHECK_THROWS_AS(core::parse_yaml(std::string(65, '[') + std::string(65, ']')), core::ParseError);
  CHECK(core::parse_yaml(std::string(64, '[') + std::string(64, ']')).is_array());
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'g'; ++c)  // 10^7 values
    bomb += std::string(1, c) + ": &" + c + " [" + core::join(std::vector<std::string>(10, std::string("*") + char(c - 1)), ", ") + "]\n";
  CHECK_THROWS_WITH_AS(core::parse_yaml(bomb), doctest::Contains("values (aliases expanded)"), core::ParseError);
  CHECK(core::parse_yaml("a: &a {k: v}\nb: *a\nc: *a\n").find("c")->find("k")->as_string() == "v");
}

TEST_CASE("YAML: numbers keep their type through to_yaml, long keys too; no NaN nor infinity (found by fuzzing)") {
  const core::Value doc = core::parse_yaml("a: 127.0\nb: 1e+20\nc: -0.5\nd: 12\ne: nan\nf: .inf\ng: inf\n");
  CHECK(doc.find("a")->is_double());
  CHECK(doc.find("e")->as_string() == "nan");
  CHECK(doc.find("f")->as_string() == ".inf");
  CHECK(doc.find("g")->as_string() == "inf");
  CHECK(core::parse_yaml(core::to_yaml(doc)) == doc);
  const core::Value long_key = core::Object{{std::string(2000, 'k'), 1}, {"short", core::Object{{std::string(200, '\x01'), 2}}}};
  CHECK(core::parse_yaml(core::to_yaml(long_key)) == long_key);
}

TEST_CASE("instance names: letters, digits and underscores only, the field named") {
  for (const char* name : {"main", "pg1", "Main_2", "_x", "15"}) CHECK_MESSAGE(refused_field({.name = name}) == "ok", name);
  for (const char* name : {"x'\\!id;#", "a.b", "a b", "a\tb", "bad-name", "bad/name", "..", "a%n", "a:b", "é", "a\nb", "x'"})
    CHECK_MESSAGE(refused_field({.name = name}) == "name", name);
  CHECK(refused_field({.name = std::string(63, 'a')}) == "ok");
  CHECK(refused_field({.name = std::string(64, 'a')}) == "name");
  CHECK(refused_field({.name = std::string(1024, 'a')}) == "name");
  CHECK_THROWS_WITH(InstanceSpec{.name = "x'\\!id;#"}.validate(),
                    doctest::Contains("for field 'name': instance name must contain only letters, digits and underscores"));
  // Control characters are shown escaped: an error message cannot drive the terminal it is printed on.
  CHECK_THROWS_WITH(InstanceSpec{.name = "a\x1b[2Jb"}.validate(), doctest::Contains("'a\\x1b[2Jb'"));
  CHECK_THROWS_AS(InstanceSpec::from_json(R"({"name": "x'\\!id;#"})"), InvalidSpec);
}

TEST_CASE("instance references: an unsafe name is refused before any lookup") {
  for (std::string text : {"x'\\!id;#", "15/x'\\!id;#", "a b", "15/a.b", "../x", "a\nb"}) {
    CAPTURE(text);
    try {
      InstanceRef::parse(text);
      FAIL("accepted");
    } catch (const InvalidSpec& e) {
      CHECK(e.field() == "instance");
    }
  }
  CHECK(InstanceRef::parse("15/Main_2").name == "Main_2");
}

TEST_CASE("Patroni cluster and node names: letters, digits, '_', '.', '-', not starting with '-' or '.'") {
  for (const char* name : {"pgdemo", "pg-demo", "pg.demo_1", "Demo", "1st"}) {
    CHECK_MESSAGE(refused_field(patroni_member(name)) == "ok", name);
    CHECK_MESSAGE(refused_field(patroni_member("c", std::string(name))) == "ok", name);
  }
  for (const char* name : {"", "-x", ".x", "a/b", "a b", "a;b", "a'b", "a$b", "a\nb", "é", "a:b"}) {
    CHECK_MESSAGE(refused_field(patroni_member(name)) == "patroni.cluster", name);
    CHECK_MESSAGE(refused_field(patroni_member("c", std::string(name))) == "patroni.node", name);
  }
  // At most 63 characters: a node's replication slot is named after it (slot names stop there).
  CHECK(refused_field(patroni_member(std::string(63, 'a'))) == "ok");
  CHECK(refused_field(patroni_member("c", std::string(63, 'a'))) == "ok");
  CHECK(refused_field(patroni_member(std::string(64, 'a'))) == "patroni.cluster");
  CHECK(refused_field(patroni_member("c", std::string(1024, 'a'))) == "patroni.node");
}

// --- secrets: never echoed in errors, never in JSON output ---------------------------------------------

namespace {
constexpr const char* canary = "Canary-9f3b2c";
/// The message of the InvalidSpec that parsing `json` raises ("" when it parses).
std::string parse_error_of(const std::string& json) {
  try {
    InstanceSpec::from_json(json);
  } catch (const InvalidSpec& e) {
    return e.what() + std::string(" | ") + e.field() + " | " + e.value();
  }
  return "";
}
}  // namespace

TEST_CASE("manifest errors never echo a secret: non-string passwords name the field and the type only") {
  struct Case {
    std::string json, field;
  };
  const std::string c = canary;
  for (const auto& [json, field] : std::vector<Case>{
           {R"({"name": "m", "surole_password": 424242424242})", "surole_password"},
           {R"({"name": "m", "surole_password": {"x": ")" + c + R"("}})", "surole_password"},
           {R"({"name": "m", "replrole_password": [")" + c + R"("]})", "replrole_password"},
           {R"({"name": "m", "replrole_password": true})", "replrole_password"},
       }) {
    CAPTURE(json);
    std::string message = parse_error_of(json);
    CHECK(message.find(field) != std::string::npos);
    CHECK(message.find(canary) == std::string::npos);
    CHECK(message.find("424242424242") == std::string::npos);
  }
  CHECK(parse_error_of(R"({"name": "m", "surole_password": 12})").find("expecting a string") != std::string::npos);
}

TEST_CASE("manifest syntax errors give the offset and the reason, never the document's text") {
  const std::string c = canary;
  std::string message = parse_error_of(R"({"name": "m", "surole_password": ")" + c + R"(" "port": 5432})");
  CAPTURE(message);
  CHECK(message.find(canary) == std::string::npos);
  CHECK(message.find("offset 49 (line 1, column 50)") != std::string::npos);
  CHECK(message.find("Missing a comma") != std::string::npos);
  message = parse_error_of("{\"surole_password\":\n  \"" + c + "\",\n  oops}");
  CHECK(message.find(canary) == std::string::npos);
  CHECK(message.find("line 3, column 3") != std::string::npos);
  // A document that is no object at all: its type, not its text.
  message = parse_error_of(R"([")" + c + R"("])");
  CHECK(message.find(canary) == std::string::npos);
  CHECK(message.find("expecting an object") != std::string::npos);
}

TEST_CASE("type errors of any field name the field and the expected type, not a whole sub-document") {
  std::string message = parse_error_of(R"({"name": "m", "auth": [")" + std::string(canary) + R"("]})");
  CAPTURE(message);
  CHECK(message.find("'auth'") != std::string::npos);
  CHECK(message.find(canary) == std::string::npos);
  message = parse_error_of(R"({"name": "m", "patroni": {"cluster": {"k": ")" + std::string(canary) + R"("}}})");
  CHECK(message.find("'patroni.cluster'") != std::string::npos);
  CHECK(message.find(canary) == std::string::npos);
  message = parse_error_of(R"({"name": "m", "settings": {"work_mem": [")" + std::string(canary) + R"("]}})");
  CHECK(message.find("'settings.work_mem'") != std::string::npos);
  CHECK(message.find(canary) == std::string::npos);
  // Scalars of ordinary fields are still shown: they help, and they are no secret.
  CHECK(parse_error_of(R"({"name": "m", "port": true})").find("'true'") != std::string::npos);
}

TEST_CASE("configuration changes: errors never echo the document") {
  auto error_of = [](const std::string& json) -> std::string {
    try {
      parameter_changes_from_json(json);
    } catch (const InvalidSpec& e) {
      return e.what();
    }
    return "";
  };
  std::string c = canary;
  CHECK(error_of(R"([")" + c + R"("])").find(canary) == std::string::npos);
  CHECK(error_of(R"({"primary_conninfo": ")" + c + R"(" "x": 1})").find(canary) == std::string::npos);
  CHECK(error_of(R"({"work_mem": {"a": ")" + c + R"("}})").find(canary) == std::string::npos);
  CHECK(error_of(R"({"work_mem": {"a": ")" + c + R"("}})").find("'work_mem'") != std::string::npos);
}

TEST_CASE("InvalidSpec never shows the value of a password field, whoever raises it") {
  InvalidSpec e("patroni.etcd.password", canary, "too short");
  CHECK(std::string(e.what()).find(canary) == std::string::npos);
  CHECK(e.value().find(canary) == std::string::npos);
  CHECK(std::string(e.what()).find("'patroni.etcd.password'") != std::string::npos);
  InvalidSpec upper("SUROLE_PASSWORD", canary, "x");
  CHECK(std::string(upper.what()).find(canary) == std::string::npos);
  InvalidSpec plain("name", "bad/name", "x");
  CHECK(std::string(plain.what()).find("'bad/name'") != std::string::npos);
}

TEST_CASE("JSON output never holds a password") {
  InstanceSpec spec{.name = "m", .surole_password = canary, .replrole_password = canary,
                    .patroni = PatroniSpec{.cluster = "c"}};
  CHECK(spec.to_json().find(canary) == std::string::npos);
  CHECK(spec.to_json().find("password") == std::string::npos);
}

TEST_CASE("secret fields: any field path naming a password") {
  for (const char* field : {"surole_password", "replrole_password", "patroni.etcd.password", "SUROLE_PASSWORD", "PGPASSWORD",
                            "postgresql.replication.ssl.password"})
    CHECK_MESSAGE(is_secret_field(field), field);
  for (const char* field : {"name", "auth.local", "surole", "pass", ""}) CHECK_MESSAGE(!is_secret_field(field), field);
}

TEST_CASE("redact_secrets masks the values of password keys, and nothing else") {
  CHECK(redact_secrets("host=h port=5432 user=u password=s3cret dbname=x") ==
        "host=h port=5432 user=u password=********** dbname=x");
  CHECK(redact_secrets("host='h' password='s3 \\'cret' dbname=x") == "host='h' password='**********' dbname=x");
  CHECK(redact_secrets("PGPASSWORD=s3cret psql") == "PGPASSWORD=********** psql");
  CHECK(redact_secrets("  password: s3cret\n  username: u") == "  password: **********\n  username: u");
  CHECK(redact_secrets(R"({"sslpassword": "s3cret", "user": "u"})") == R"({"sslpassword": "**********", "user": "u"})");
  CHECK(redact_secrets("--surole-password=s3cret") == "--surole-password=**********");
  // Words about passwords, keys that only start with "password", and our own field messages stay.
  for (const char* kept : {"password authentication failed for user \"u\"", "password_encryption = scram-sha-256",
                           "invalid value '**********' for field 'surole_password': expecting a string, got integer",
                           "needs its superuser and replication passwords (--surole-password, --replrole-password)",
                           "password=", "Password for user postgres: "})
    CHECK(redact_secrets(kept) == kept);
}

TEST_CASE("InvalidSpec::malformed names the document, not its text") {
  auto e = InvalidSpec::malformed("instance", "invalid JSON at offset 3 (line 1, column 4): Invalid value.");
  CHECK(std::string(e.what()) == "invalid instance document: invalid JSON at offset 3 (line 1, column 4): Invalid value.");
  CHECK(e.field() == "instance");
  CHECK(e.code() == ErrorCode::invalid_spec);
}

TEST_CASE(".psqlrc: the prompt is escaped for psql whatever the instance name") {
  CHECK(core::psqlrc_text("15/main") == "\\set PROMPT1 '[15/main] %n@%~%R%x%# '\n\\set PROMPT2 ' %R%x%# '\n");
  // A quote would end the argument and let psql run the rest as a meta-command; '%`cmd`' would run cmd.
  CHECK(core::psqlrc_text("15/x'\\!id;#") == "\\set PROMPT1 '[15/x''\\\\!id;#] %n@%~%R%x%# '\n\\set PROMPT2 ' %R%x%# '\n");
  CHECK(core::escape_psql_prompt("a%`id`\nb") == "a%%`id`?b");
}

TEST_CASE("the rewind password is a write-only credential like the others: parsed, never serialised, in the schema") {
  auto spec = InstanceSpec::from_json(R"({"name": "m", "rewind_password": "Canary-9f3b2c", "patroni": {"cluster": "c"}})");
  CHECK(spec.rewind_password == std::optional<std::string>(canary));
  CHECK(spec.to_json().find(canary) == std::string::npos);
  CHECK(spec.to_json().find("rewind_password") == std::string::npos);
  auto schema = core::parse_json(InstanceSpec::json_schema());
  const auto* rewind = schema.find("properties")->find("rewind_password");
  REQUIRE(rewind);
  CHECK(rewind->find("writeOnly")->as_bool());
  CHECK_THROWS_WITH_AS(InstanceSpec::from_json(R"({"name": "m", "rewind_password": 42})"),
                       doctest::Contains("'rewind_password': expecting a string"), InvalidSpec);
  CHECK(is_secret_field("rewind_password"));
  // Only a Patroni member has a rewind role; the refusal never shows the value.
  CHECK_THROWS_WITH_AS(InstanceSpec::from_json(R"({"name": "m", "rewind_password": "Canary-9f3b2c"})"),
                       "invalid value '**********' for field 'rewind_password': only for a Patroni member (the rewind role "
                       "is Patroni's)",
                       InvalidSpec);
}

TEST_CASE("cluster credentials: the document round-trips; a missing or wrong part is named, never quoted") {
  PatroniCredentials creds{{"postgres", canary}, {"replication", "r-" + std::string(canary)}, {"rewind", "w-" + std::string(canary)}};
  auto doc = core::parse_json(creds.to_json());
  CHECK(doc.find("rewind")->find("username")->as_string() == "rewind");
  CHECK(doc.find("superuser")->find("password")->as_string() == canary);
  auto back = PatroniCredentials::from_json(creds.to_json());
  CHECK(back.replication.password == creds.replication.password);
  CHECK(back.rewind.username == "rewind");

  auto error_of = [](const std::string& json) -> std::pair<std::string, std::string> {
    try {
      PatroniCredentials::from_json(json);
    } catch (const InvalidSpec& e) {
      return {e.field(), e.what()};
    }
    return {"", "(no error)"};
  };
  const std::string su = R"("superuser": {"username": "postgres", "password": "Canary-9f3b2c"})";
  const std::string repl = R"("replication": {"username": "replication", "password": "Canary-9f3b2c"})";
  auto [field, message] = error_of("{" + su + ", " + repl + "}");
  CHECK(field == "credentials.rewind");
  CHECK(message.find("rewind role") != std::string::npos);
  std::tie(field, message) = error_of("{" + su + ", " + repl + R"(, "rewind": {"username": "rewind"}})");
  CHECK(field == "credentials.rewind.password");
  std::tie(field, message) = error_of("{" + su + ", " + repl + R"(, "rewind": {"username": "rewind", "password": 7}})");
  CHECK(field == "credentials.rewind.password");
  std::tie(field, message) = error_of("{" + su + ", " + repl + R"(, "rewind": {"username": "rewind", "password": "x"}, "extra": 1})");
  CHECK(field == "credentials.extra");  // unknown fields are named by their path
  std::tie(field, message) = error_of(R"({"superuser": "Canary-9f3b2c")");  // truncated
  CHECK(field == "credentials");
  for (const auto& json : {"{" + su + "}", std::string(R"({"superuser": "Canary-9f3b2c"})"), "{" + su + ", " + repl + R"(, "rewind": {"username": "rewind", "password": ["Canary-9f3b2c"]}})"})
    CHECK(error_of(json).second.find(canary) == std::string::npos);
}

TEST_CASE("InvalidSpec::missing says what is missing in its own words, naming the field") {
  auto e = InvalidSpec::missing("rewind_password", "joining cluster 'c' needs its credentials");
  CHECK(std::string(e.what()) == "joining cluster 'c' needs its credentials");
  CHECK(e.field() == "rewind_password");
  CHECK(e.code() == ErrorCode::invalid_spec);
}
