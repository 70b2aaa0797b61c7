#include <doctest/doctest.h>

#include <filesystem>

#include "core/files.hpp"
#include "patroni/config.hpp"
#include "patroni/rest.hpp"
#include "pglift/errors.hpp"

using namespace pglift;
namespace fs = std::filesystem;

#ifndef PGLIFT_UNIT_SOURCE_DIR
#error "PGLIFT_UNIT_SOURCE_DIR must name tests/unit (set by meson)"
#endif

namespace {
core::Value fixture(const std::string& name) {
  return core::parse_json(core::read_file(fs::path(PGLIFT_UNIT_SOURCE_DIR) / "fixtures" / name));
}

Settings settings_with_patroni(const std::string& extra = "") {
  return Settings::from_documents({R"({"prefix": "/p", "run_prefix": "/r", "patroni": {"etcd": {"hosts": ["127.0.0.1:2379"]}}})",
                                   extra.empty() ? "{}" : extra});
}
}  // namespace

TEST_CASE("patroni settings: defaults, paths, and the DCS timing rule") {
  auto s = settings_with_patroni();
  REQUIRE(s.patroni);
  CHECK(s.patroni->execpath == "/usr/bin/patroni");
  CHECK(s.patroni->configpath == "/p/etc/patroni/{name}.yaml");
  CHECK(s.patroni->pid_file == "/r/patroni/{name}.pid");
  CHECK(s.patroni->logpath == "/p/log/patroni");
  CHECK(s.patroni->loop_wait == 10);
  CHECK(s.patroni->ttl == 30);
  CHECK_THROWS_WITH_AS(settings_with_patroni(R"({"patroni": {"loop_wait": 10, "ttl": 20, "retry_timeout": 10}})"),
                       doctest::Contains("loop_wait + 2*retry_timeout must not exceed ttl"), SettingsError);
  CHECK_THROWS_WITH_AS(settings_with_patroni(R"({"patroni": {"etcd": {"cacert": "/etc/hostname"}}})"),
                       doctest::Contains("'https' protocol is required"), SettingsError);
  CHECK_THROWS_WITH_AS(settings_with_patroni(R"({"postgresql": {"replrole": null}})"),
                       doctest::Contains("'postgresql.replrole' must be provided"), SettingsError);
  CHECK_THROWS_WITH_AS(settings_with_patroni(R"({"patroni": {"restapi": {"verify_client": "required"}}})"),
                       doctest::Contains("requires 'certfile'"), SettingsError);
  CHECK_THROWS_WITH_AS(settings_with_patroni(R"({"patroni": {"bogus": 1}})"), "unknown setting 'patroni.bogus'", SettingsError);
  CHECK_FALSE(Settings::from_documents({R"({"prefix": "/p", "run_prefix": "/r"})"}).patroni);
}

TEST_CASE("patroni spec: validation and JSON") {
  auto spec = InstanceSpec::from_json(
      R"({"name": "pg1", "patroni": {"cluster": "pgdemo", "node": "pg1", "restapi": {"connect_address": "127.0.1.1:8008"},
          "postgresql": {"connect_host": "127.0.1.1"}}})");
  REQUIRE(spec.patroni);
  CHECK(spec.patroni->cluster == "pgdemo");
  CHECK(spec.patroni->restapi_connect_address == std::optional<std::string>("127.0.1.1:8008"));
  CHECK(InstanceSpec::from_json(spec.to_json()).patroni->postgresql_connect_host == std::optional<std::string>("127.0.1.1"));
  auto bad = [](const char* json) {
    try {
      InstanceSpec::from_json(json);
    } catch (const InvalidSpec& e) {
      return e.field();
    }
    return std::string("ok");
  };
  CHECK(bad(R"({"name": "pg1", "patroni": {"cluster": ""}})") == "patroni.cluster");
  CHECK(bad(R"({"name": "pg1", "patroni": {"cluster": "a/b"}})") == "patroni.cluster");
  CHECK(bad(R"({"name": "pg1", "patroni": {"cluster": "c", "restapi": {"listen": "nohost"}}})") == "patroni.restapi.listen");
  CHECK(bad(R"({"name": "pg1", "patroni": {"cluster": "c", "restapi": {"connect_address": "::1:8008"}}})") ==
        "patroni.restapi.connect_address");
  CHECK(bad(R"({"name": "pg1", "patroni": {"cluster": "c", "restapi": {"connect_address": "[::1]:8008"}}})") == "ok");
}

TEST_CASE("patroni config: the generated YAML, unmanaged keys kept, parameters the single source of truth") {
  auto s = settings_with_patroni();
  auto l = postgres::Layout::of(s, "pg1", s.default_version());
  PatroniSpec ps{.cluster = "pgdemo", .node = "pg1", .restapi_connect_address = "127.0.1.1:8008",
                 .postgresql_connect_host = "127.0.1.1"};
  auto member = patroni::resolve_member(ps, 5433, {});
  CHECK(member.restapi_listen == "127.0.1.1:8008");  // defaults to the connect address
  CHECK(member.listen_host == "127.0.1.1");           // never '*' by default
  auto creds = patroni::Credentials::generate();
  CHECK(creds.superuser.size() == 24);
  CHECK(creds.superuser != creds.replication);
  auto doc = patroni::build(s, l, member, {{"work_mem", std::string("8MB")}, {"port", std::int64_t{5433}}}, creds,
                            {"C", "UTF8", true});
  std::string t = (fs::temp_directory_path() / "pglift-patroni-XXXXXX").string();
  REQUIRE(::mkdtemp(t.data()));
  fs::path file = fs::path(t) / "15-pg1.yaml";
  patroni::write(file, doc);
  CHECK((fs::status(file).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  auto back = patroni::read(file);
  CHECK(back.find("scope")->as_string() == "pgdemo");
  CHECK(back.find("etcd3")->find("hosts")->as_array().at(0).as_string() == "127.0.0.1:2379");
  CHECK(back.find("postgresql")->find("listen")->as_string() == "127.0.1.1:5433");
  CHECK(back.find("postgresql")->find("parameters")->find("port") == nullptr);  // Patroni's own
  CHECK(back.find("bootstrap")->find("dcs")->find("loop_wait")->as_int() == 10);
  auto m = patroni::member_of(back);
  CHECK(m.node == "pg1");
  CHECK(m.port == 5433);
  CHECK(m.connect_host == "127.0.1.1");
  CHECK(patroni::credentials_of(back).replication == creds.replication);
  std::string yaml = core::read_file(file);
  CHECK(yaml.find("trust") == std::string::npos);
  CHECK(yaml.find("hot_standby: \"on\"") != std::string::npos);  // a string for PyYAML, not a boolean

  // A user's own key and a changed timing survive a rewrite; parameters are replaced whole.
  auto edited = back;
  edited.set("tags", core::Object{{"nofailover", true}});
  core::write_file_atomic(file, core::to_yaml(edited), 0600);
  patroni::write(file, doc);
  CHECK(patroni::read(file).find("tags") != nullptr);
  patroni::write_parameters(file, {{"shared_buffers", std::string("1GB")}});
  auto params = patroni::parameters_of(patroni::read(file));
  CHECK(params.size() == 1);
  CHECK(std::get<std::string>(params.at("shared_buffers")) == "1GB");
  CHECK(patroni::read(file).find("tags") != nullptr);
  fs::remove_all(t);
}

TEST_CASE("REST payloads recorded from Patroni 3.0.2 parse into cluster members") {
  auto two = fixture("cluster-two-members.json");
  std::vector<ClusterMember> members;
  for (const auto& m : two.find("members")->as_array()) members.push_back(patroni::parse_member(m));
  REQUIRE(members.size() == 2);
  CHECK(members[0].role == "leader");
  CHECK(members[1].role == "replica");
  REQUIRE(members[1].lag);
  CHECK(std::holds_alternative<std::int64_t>(*members[1].lag));
  auto after = fixture("cluster-after-switchover-lag-unknown.json");
  bool unknown = false;
  for (const auto& m : after.find("members")->as_array()) {
    auto member = patroni::parse_member(m);
    if (member.lag && std::holds_alternative<std::string>(*member.lag)) unknown = std::get<std::string>(*member.lag) == "unknown";
  }
  CHECK(unknown);
  CHECK(patroni::is_leader_role(fixture("patroni-leader-alone.json").find("role")->as_string()));  // "master"
  CHECK(patroni::is_leader_role("primary"));
  CHECK_FALSE(patroni::is_leader_role(fixture("patroni-replica.json").find("role")->as_string()));
  // And the instance JSON keeps the members' extra keys.
  Instance i{.name = "pg1", .version = "15"};
  i.patroni = PatroniInfo{.cluster = "pgdemo", .node = "pg1", .cluster_members = members};
  auto doc = core::parse_json(i.to_json());
  CHECK(doc.find("patroni")->find("cluster_members")->as_array().size() == 2);
  CHECK(Instance::from_json(i.to_json()).patroni->cluster_members.at(1).lag == members[1].lag);
}
