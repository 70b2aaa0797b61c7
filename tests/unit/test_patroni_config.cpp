// PatroniConfig's pure logic: a member file's document as a value (secrets redacted, unknown keys kept),
// the document save writes (the file's secrets back, scope and name fixed), setter checks, and the
// reading of `patroni --validate-config`'s output (recorded in ../shared/reference/patroni/payloads).
#include <doctest/doctest.h>

#include <string>
#include <tuple>

#include "core/value.hpp"
#include "ops/patroni_config.hpp"
#include "pglift/errors.hpp"
#include "pglift/patroni_config.hpp"

using namespace pglift;

namespace {

// A member's YAML as the library writes it, plus keys it does not manage and secrets in every place
// Patroni has them.
const char* member_yaml = R"(scope: "pgdemo"
name: "pg1"
namespace: "/service/"
x_site_tag: "kept-unmanaged"
log:
  dir: "/srv/log/patroni/15-pg1"
  level: "INFO"
restapi:
  listen: "127.0.1.1:8008"
  connect_address: "127.0.1.1:8008"
  keyfile_password: "S3cr-restkey"
  authentication:
    username: "pglift"
    password: "S3cr-rest"
etcd3:
  hosts:
    - "127.0.0.1:2379"
  protocol: "http"
  username: "etcduser"
  password: "S3cr-etcd"
ctl:
  certfile: "/etc/ssl/ctl.pem"
  keyfile_password: "S3cr-ctl"
bootstrap:
  dcs:
    ttl: 30
    loop_wait: 10
    postgresql:
      parameters:
        wal_level: "replica"
postgresql:
  listen: "127.0.1.1:5433"
  connect_address: "127.0.1.1:5433"
  data_dir: "/srv/pgsql/15/pg1/data"
  bin_dir: "/usr/lib/postgresql/15/bin"
  authentication:
    superuser:
      username: "postgres"
      password: "S3cr-super"
    replication:
      username: "replication"
      password: "S3cr-repl"
    rewind:
      username: "rewind"
      password: "S3cr-rewind"
  parameters:
    work_mem: "8MB"
    password_encryption: "scram-sha-256"
    max_connections: 100
  pg_hba:
    - "local all postgres peer map=pglift"
    - "host all all 127.0.0.0/8 scram-sha-256"
  custom_unmanaged:
    - "x"
watchdog:
  mode: "off"
)";

const char* secrets[] = {"S3cr-restkey", "S3cr-rest", "S3cr-etcd", "S3cr-ctl", "S3cr-super", "S3cr-repl", "S3cr-rewind"};

core::Value file_doc() { return core::parse_yaml(member_yaml); }

std::string field_of(auto&& f) {
  try {
    f();
  } catch (const InvalidSpec& e) {
    return e.field();
  }
  return "ok";
}

}  // namespace

TEST_CASE("patroni config: a file's document as a value keeps every key, and no secret in any textual form") {
  auto c = ops::patroni_config_of(file_doc());
  CHECK(c.scope() == "pgdemo");
  CHECK(c.name() == "pg1");
  CHECK(c.restapi().listen == "127.0.1.1:8008");
  CHECK(c.restapi().username == std::optional<std::string>("pglift"));
  CHECK(c.etcd().hosts == std::vector<std::string>{"127.0.0.1:2379"});
  CHECK(c.etcd().username == std::optional<std::string>("etcduser"));
  CHECK(c.postgresql().data_dir == "/srv/pgsql/15/pg1/data");
  CHECK(c.postgresql().authentication.at("replication") == "replication");
  CHECK(std::get<std::string>(c.parameters().at("work_mem")) == "8MB");
  // A parameter named after passwords is a setting, not a secret.
  CHECK(std::get<std::string>(c.parameters().at("password_encryption")) == "scram-sha-256");
  CHECK(c.pg_hba().size() == 2);
  CHECK(c.watchdog().mode == "off");
  CHECK(c.bootstrap_dcs().find("\"ttl\":30") != std::string::npos);
  for (const std::string& text : {c.to_yaml(), c.to_json(), c.ctl()}) {
    for (const char* s : secrets) CHECK_MESSAGE(text.find(s) == std::string::npos, s);
  }
  CHECK(c.to_json().find("kept-unmanaged") != std::string::npos);
  CHECK(c.to_json().find("custom_unmanaged") != std::string::npos);
  CHECK(c.to_yaml().find("**********") != std::string::npos);
  CHECK(c.ctl().find("\"keyfile_password\":\"**********\"") != std::string::npos);

  // to_json -> from_json -> the document save writes: the file's, byte for byte.
  auto back = PatroniConfig::from_json(c.to_json());
  CHECK(back.to_json() == c.to_json());
  CHECK(ops::patroni_document_for(back, file_doc()) == file_doc());
}

TEST_CASE("patroni config: save keeps the file's secrets (redacted or absent), refuses new ones, scope and name") {
  auto c = ops::patroni_config_of(file_doc());
  c.set_parameter("work_mem", ConfValue{std::string("16MB")});
  c.set_parameter("max_connections", std::nullopt);
  auto doc = ops::patroni_document_for(c, file_doc());
  const auto* params = doc.find("postgresql")->find("parameters");
  CHECK(params->find("work_mem")->as_string() == "16MB");
  CHECK(params->find("max_connections") == nullptr);
  CHECK(doc.find("postgresql")->find("authentication")->find("rewind")->find("password")->as_string() == "S3cr-rewind");
  CHECK(doc.find("x_site_tag")->as_string() == "kept-unmanaged");

  // An absent secret is the file's.
  std::string json = c.to_json();
  const std::string etcd_pw = R"(,"password":"**********")";
  auto at = json.find(etcd_pw, json.find("\"etcd3\""));
  REQUIRE(at != std::string::npos);
  json.erase(at, etcd_pw.size());
  auto without = PatroniConfig::from_json(json);
  CHECK(ops::patroni_document_for(without, file_doc()).find("etcd3")->find("password")->as_string() == "S3cr-etcd");

  // A new secret is refused, naming the field, never showing it.
  std::string with_new = c.to_json();
  with_new.replace(with_new.find("**********", with_new.find("\"etcd3\"")), 10, "NewSecret1");
  try {
    PatroniConfig::from_json(with_new);
    FAIL("a new secret was taken");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "etcd3.password");
    CHECK(std::string(e.what()).find("NewSecret1") == std::string::npos);
  }

  // scope and name are read-only.
  std::string renamed = c.to_json();
  renamed.replace(renamed.find("\"pg1\""), 5, "\"pg9\"");
  CHECK(field_of([&] { ops::patroni_document_for(PatroniConfig::from_json(renamed), file_doc()); }) == "name");
  std::string rescoped = c.to_json();
  rescoped.replace(rescoped.find("\"pgdemo\""), 8, "\"other\"");
  CHECK(field_of([&] { ops::patroni_document_for(PatroniConfig::from_json(rescoped), file_doc()); }) == "scope");
  CHECK(field_of([&] { ops::patroni_document_for(PatroniConfig::from_json(R"({"name": "pg1"})"), file_doc()); }) == "scope");
  // So are the instance's directories and role names.
  for (const auto& [from, to, field] : {std::tuple{"/srv/pgsql/15/pg1/data", "/elsewhere", "postgresql.data_dir"},
                                        std::tuple{"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "postgresql.bin_dir"},
                                        std::tuple{R"("username":"rewind")", R"("username":"other")",
                                                   "postgresql.authentication.rewind.username"}}) {
    std::string changed = c.to_json();
    const std::string f = from;
    REQUIRE(changed.find(f) != std::string::npos);
    changed.replace(changed.find(f), f.size(), to);
    CHECK(field_of([&] { ops::patroni_document_for(PatroniConfig::from_json(changed), file_doc()); }) == field);
  }
}

TEST_CASE("patroni config: setters and from_json check the fields, naming them") {
  auto c = ops::patroni_config_of(file_doc());
  CHECK(field_of([&] { c.set_parameter("work mem", ConfValue{std::string("1MB")}); }) == "parameter");
  CHECK(field_of([&] { c.set_parameter("port", ConfValue{std::int64_t{5}}); }) == "parameter");
  CHECK(field_of([&] { c.set_parameter("work_mem", ConfValue{std::string("1MB\nssl = off")}); }) ==
        "postgresql.parameters.work_mem");
  CHECK(field_of([&] { c.set_pg_hba({"local all all peer", "host all all 10.0.0.0/8 nosuchmethod"}); }) == "postgresql.pg_hba[1]");
  CHECK(field_of([&] { c.set_pg_hba({"host all all 10.0.0.0/8 trust\nhost all all 0.0.0.0/0 trust"}); }) == "postgresql.pg_hba[0]");
  CHECK(field_of([&] { c.set_pg_hba({"host all all 10.0.0.0/8 trust # comment"}); }) == "postgresql.pg_hba[0]");
  CHECK(field_of([&] { c.set_pg_hba({"host all all"}); }) == "postgresql.pg_hba[0]");
  CHECK(field_of([&] { c.set_pg_hba({"local all all peer map=pglift", "host all all 10.0.0.1 255.255.255.255 scram-sha-256",
                                     "hostssl db1,db2 u1 samenet cert"}); }) == "ok");
  CHECK(c.pg_hba().size() == 3);
  CHECK(field_of([&] { c.set_restapi_listen("nohost"); }) == "restapi.listen");
  CHECK(field_of([&] { c.set_restapi_connect_address("127.0.1.1:99999"); }) == "restapi.connect_address");
  CHECK(field_of([&] { c.set_restapi_connect_address("[::1]:8008"); }) == "ok");
  CHECK(field_of([&] { c.set_etcd_hosts({}); }) == "etcd3.hosts");
  CHECK(field_of([&] { c.set_etcd_hosts({"127.0.0.1:2379", "bad host:1"}); }) == "etcd3.hosts[1]");
  CHECK(field_of([&] { c.set_watchdog({.mode = "sometimes"}); }) == "watchdog.mode");
  CHECK(field_of([&] { c.set_watchdog({.mode = "automatic", .device = "dev/watchdog"}); }) == "watchdog.device");
  CHECK(field_of([&] { c.set_watchdog({.mode = "automatic", .device = "/dev/watchdog"}); }) == "ok");
  CHECK(c.watchdog().device == std::optional<std::string>("/dev/watchdog"));
  CHECK(field_of([&] { c.set_bootstrap_dcs("[1]"); }) == "bootstrap.dcs");
  CHECK(field_of([&] { c.set_bootstrap_dcs(R"({"postgresql": {"parameters": {"password_encryption": "md5"}}})"); }) == "ok");
  CHECK(field_of([&] { c.set_bootstrap_dcs(R"({"users": {"admin": {"password": "x"}}})"); }) == "bootstrap.dcs.users.admin.password");

  CHECK(field_of([] { PatroniConfig::from_json("[]"); }) == "patroni configuration");
  CHECK(field_of([] { PatroniConfig::from_json("{"); }) == "patroni configuration");
  CHECK(field_of([] { PatroniConfig::from_json(R"({"postgresql": {"listen": "x"}})"); }) == "postgresql.listen");
  CHECK(field_of([] { PatroniConfig::from_json(R"({"postgresql": {"listen": "127.0.1.1,::1:5432"}})"); }) == "ok");
  CHECK(field_of([] { PatroniConfig::from_json(R"({"postgresql": {"parameters": {"a b": 1}}})"); }) == "postgresql.parameters");
  CHECK(field_of([] { PatroniConfig::from_json(R"({"postgresql": {"parameters": {"work_mem": [1]}}})"); }) ==
        "postgresql.parameters.work_mem");
  CHECK(field_of([] { PatroniConfig::from_json(R"({"postgresql": {"pg_hba": "local all all peer"}})"); }) == "postgresql.pg_hba");
  CHECK(field_of([] { PatroniConfig::from_json(R"({"etcd3": {"protocol": "ftp"}})"); }) == "etcd3.protocol");
  CHECK(field_of([] { PatroniConfig::from_json(R"({"scope": 3})"); }) == "scope");
  CHECK(field_of([] { PatroniConfig::from_json(R"({"postgresql": {"pgpass": "a\nb"}})"); }) == "postgresql.pgpass");
  CHECK(field_of([] { PatroniConfig::from_json(R"({"bad\tkey": 1})"); }) == "bad\tkey");
  CHECK(field_of([] { PatroniConfig::from_json(R"({"tags": {"note": "a\nb"}})"); }) == "ok");  // the site's, kept
  CHECK(field_of([] { PatroniConfig::from_json(R"({"tags": {"nofailover": false}, "x": [1, {"y": null}]})"); }) == "ok");
}

TEST_CASE("patroni config: Patroni's validator output as issues, secrets never quoted") {
  using ops::parse_validation_output;
  CHECK(parse_validation_output("", 0, {}).empty());
  auto issues = parse_validation_output(
      "restapi.connect_address 127.0.0.1:8008 didn't pass validation: 'must not contain \"127.0.0.1\"'\n"
      "postgresql.bin_dir  Directory '/usr/lib/postgresql/99/bin' does not exist.\n"
      "name  is not defined.\n"
      "bootstrap.dcs.ttl thirty is not and integer\n",
      1, {});
  REQUIRE(issues.size() == 4);
  CHECK(issues[0] == PatroniConfigIssue{"restapi.connect_address", "127.0.0.1:8008 didn't pass validation: 'must not contain \"127.0.0.1\"'"});
  CHECK(issues[1] == PatroniConfigIssue{"postgresql.bin_dir", "Directory '/usr/lib/postgresql/99/bin' does not exist."});
  CHECK(issues[2] == PatroniConfigIssue{"name", "is not defined."});
  CHECK(issues[3].field == "bootstrap.dcs.ttl");

  auto secret = parse_validation_output("postgresql.authentication.superuser.password S3cr-super is not a string\n"
                                        "etcd3.hosts h:1 is not reachable (tried with S3cr-etcd)\n",
                                        1, {"S3cr-super", "S3cr-etcd"});
  REQUIRE(secret.size() == 2);
  CHECK(secret[0].field == "postgresql.authentication.superuser.password");
  for (const auto& i : secret) {
    CHECK(i.message.find("S3cr-super") == std::string::npos);
    CHECK(i.message.find("S3cr-etcd") == std::string::npos);
  }
  auto traceback = parse_validation_output("Traceback (most recent call last):\n  File \"x\", line 1\nyaml.parser.ParserError: bad\n", 1, {});
  REQUIRE(traceback.size() == 1);
  CHECK(traceback[0] == PatroniConfigIssue{"", "yaml.parser.ParserError: bad"});
  auto silent = parse_validation_output("", 1, {});
  REQUIRE(silent.size() == 1);
  CHECK(silent[0].field.empty());

  CHECK(to_json(issues).starts_with(R"({"valid":false,"issues":[{"field":"restapi.connect_address","message":)"));
  CHECK(to_json(std::vector<PatroniConfigIssue>{}) == R"({"valid":true,"issues":[]})");
}

TEST_CASE("patroni config: no YAML injection: every string and key comes back from to_yaml as itself") {
  auto c = PatroniConfig::from_json(
      R"({"scope": "s", "name": "n: m", "tags": {"note": "a: b\n- c\n#d ' \" {x} [y] &z *w !t %p @q `r` |\n>"},)"
      R"( "x: y": "- z", "on": "off", "n": "5432", "e": ""})");
  c.set_parameter("search_path", ConfValue{std::string("\"$user\", public # not a comment")});
  const core::Value back = core::parse_yaml(c.to_yaml());
  CHECK(core::to_json(back) == c.to_json());
  CHECK(back.find("on")->as_string() == "off");  // no YAML 1.1 boolean
  CHECK(back.find("n")->is_string());
}

TEST_CASE("patroni config: copies are independent; a moved-from value is an empty document") {
  auto a = ops::patroni_config_of(file_doc());
  PatroniConfig b = a;
  b.set_parameter("work_mem", ConfValue{std::string("1MB")});
  CHECK(std::get<std::string>(a.parameters().at("work_mem")) == "8MB");
  PatroniConfig c = std::move(b);
  CHECK(std::get<std::string>(c.parameters().at("work_mem")) == "1MB");
  CHECK(b.to_json() == "{}");  // NOLINT(bugprone-use-after-move): the documented state
  b.set_parameter("jit", ConfValue{false});
  CHECK(b.to_json() == R"({"postgresql":{"parameters":{"jit":false}}})");
}
