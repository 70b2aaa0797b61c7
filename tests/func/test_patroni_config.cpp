// PatroniConfig on a real Patroni member (etcd, Patroni 3.0.2, PostgreSQL 15): load, change, Patroni's
// own validation (valid; an invalid document naming the field), save (0600, secrets and unknown keys
// kept, scope/name and bad values refused leaving the file as it was), reload: SHOW gives the new value.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <fstream>
#include <future>
#include <random>

#include "etcd_fixture.hpp"
#include "pglift/async.hpp"
#include "pglift/patroni_config.hpp"

using namespace pglift;
using namespace std::chrono_literals;

namespace {

std::string file_text(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

bool has_field(const std::vector<PatroniConfigIssue>& issues, const std::string& field) {
  for (const auto& i : issues)
    if (i.field == field) return true;
  return false;
}

std::string shown(const std::vector<PatroniConfigIssue>& issues) { return to_json(issues); }

/// The private directories validate() makes for its copy (removed afterwards).
int validate_dirs() {
  int n = 0;
  for (const auto& e : fs::directory_iterator(fs::temp_directory_path()))
    n += e.path().filename().string().starts_with("pglift-patroni-validate-");
  return n;
}

}  // namespace

TEST_CASE("a member's Patroni configuration: load, change, validate, save (0600, secrets and unknown keys kept), reload") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  static std::mt19937 rng{std::random_device{}()};
  const std::string cluster = "cfg" + std::to_string(rng() % 100000);
  InstanceSpec s;
  s.name = "pg1";
  s.port = free_port();
  PatroniSpec p;
  p.cluster = cluster;
  p.node = "pg1";
  p.restapi_connect_address = "127.0.1.1:" + std::to_string(free_port());
  p.postgresql_connect_host = "127.0.1.1";
  s.patroni = p;
  create_instance(*env, s);
  const InstanceRef ref = InstanceRef::parse("pg1");
  const fs::path yaml = env.prefix / "etc/patroni/15-pg1.yaml";

  // A key of the site's that the library does not manage.
  {
    std::ofstream out(yaml, std::ios::app);
    out << "x_site_tag: \"kept-unmanaged\"\n";
  }
  const PatroniCredentials creds = patroni_credentials(*env, ref);
  REQUIRE(creds.superuser.password.size() > 10);

  PatroniConfig c = PatroniConfig::load(*env, ref);
  CHECK(c.scope() == cluster);
  CHECK(c.name() == "pg1");
  CHECK(c.restapi().connect_address == *p.restapi_connect_address);
  CHECK(c.postgresql().listen == "127.0.1.1:" + std::to_string(*s.port));
  CHECK(c.to_json().find("kept-unmanaged") != std::string::npos);
  for (const std::string& text : {c.to_json(), c.to_yaml()})
    for (const auto* role : {&creds.superuser, &creds.replication, &creds.rewind})
      CHECK(text.find(role->password) == std::string::npos);

  // Patroni's validation: this member's own document is valid (its own ports in use are not issues).
  c.set_parameter("work_mem", ConfValue{std::string("12MB")});
  const int dirs_before = validate_dirs();
  auto issues = c.validate(*env, ref);
  CHECK_MESSAGE(issues.empty(), shown(issues));
  CHECK(validate_dirs() == dirs_before);  // the private copy is gone
  // An invalid one names Patroni's field.
  PatroniConfig bad = c;
  bad.set_restapi_connect_address("127.0.0.1:" + std::to_string(free_port()));
  issues = bad.validate(*env, ref);
  CHECK_MESSAGE(has_field(issues, "restapi.connect_address"), shown(issues));
  CHECK(shown(issues).find(creds.superuser.password) == std::string::npos);

  // Refused before anything is written: name, scope, a value PostgreSQL would refuse.
  const std::string before = file_text(yaml);
  std::string renamed = c.to_json();
  renamed.replace(renamed.find("\"name\":\"pg1\""), 12, "\"name\":\"pg9\"");
  try {
    PatroniConfig::from_json(renamed).save(*env, ref);
    FAIL("a new name was saved");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "name");
  }
  PatroniConfig wrong = c;
  wrong.set_parameter("work_mem", ConfValue{std::string("lots")});
  issues = wrong.validate(*env, ref);  // what save refuses, validate says
  CHECK_MESSAGE(has_field(issues, "postgresql.parameters.work_mem"), shown(issues));
  try {
    wrong.save(*env, ref);
    FAIL("work_mem = lots was saved");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "work_mem");
  }
  CHECK(file_text(yaml) == before);

  // Saved: 0600, the secrets and the unknown key still there; the member applies it on reload.
  c.save(*env, ref);
  CHECK((fs::status(yaml).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  const std::string after = file_text(yaml);
  CHECK(after.find(creds.superuser.password) != std::string::npos);
  CHECK(after.find(creds.rewind.password) != std::string::npos);
  CHECK(after.find("kept-unmanaged") != std::string::npos);
  CHECK(after.find("**********") == std::string::npos);
  CHECK(patroni_credentials(*env, ref).replication.password == creds.replication.password);
  CHECK_FALSE(env.logged(creds.superuser.password));
  reload_instance(*env, ref);
  CHECK(eventually(30s, [&] { return sql(*env, "pg1", "SHOW work_mem") == "12MB"; }));

  // Reloaded from the file; the Asio and callback faces.
  PatroniConfig again = async_load_patroni_config(*env, ref, boost::asio::use_future).get();
  CHECK(std::get<std::string>(again.parameters().at("work_mem")) == "12MB");
  CHECK(again.to_json() == c.to_json());
  again.set_parameter("work_mem", ConfValue{std::string("13MB")});
  async_save_patroni_config(*env, ref, again, boost::asio::use_future).get();
  CHECK(std::get<std::string>(PatroniConfig::load(*env, ref).parameters().at("work_mem")) == "13MB");
  std::promise<std::vector<PatroniConfigIssue>> validated;
  start_validate_patroni_config(*env, ref, again, [&](std::exception_ptr e, std::vector<PatroniConfigIssue> r) {
    if (e) validated.set_exception(e);
    else validated.set_value(std::move(r));
  });
  auto async_issues = validated.get_future().get();
  CHECK_MESSAGE(async_issues.empty(), shown(async_issues));
  // The other forms of each: load and save with a callback, validate through use_awaitable.
  std::promise<PatroniConfig> loaded;
  start_load_patroni_config(*env, ref, [&](std::exception_ptr e, PatroniConfig r) {
    if (e) loaded.set_exception(e);
    else loaded.set_value(std::move(r));
  });
  PatroniConfig third = loaded.get_future().get();
  CHECK(third.to_json() == again.to_json());
  third.set_parameter("work_mem", ConfValue{std::string("14MB")});
  std::promise<void> saved;
  start_save_patroni_config(*env, ref, third, [&](std::exception_ptr e) {
    if (e) saved.set_exception(e);
    else saved.set_value();
  });
  saved.get_future().get();
  CHECK(std::get<std::string>(PatroniConfig::load(*env, ref).parameters().at("work_mem")) == "14MB");
  {
    boost::asio::io_context io;
    std::vector<PatroniConfigIssue> awaited{{"unset", "unset"}};
    boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
      awaited = co_await async_validate_patroni_config(*env, ref, third, boost::asio::use_awaitable);
    }, boost::asio::detached);
    io.run();
    CHECK_MESSAGE(awaited.empty(), shown(awaited));
  }

  CHECK_THROWS_AS(PatroniConfig::load(*env, InstanceRef::parse("nosuch")), NotFound);
  // A plain instance has no Patroni configuration.
  create_instance(*env, spec("plain", free_port()));
  CHECK_THROWS_AS(PatroniConfig::load(*env, InstanceRef::parse("plain")), StateError);
  CHECK_THROWS_AS(c.save(*env, InstanceRef::parse("plain")), StateError);
  CHECK_THROWS_AS(c.validate(*env, InstanceRef::parse("plain")), StateError);
  drop_instance(*env, InstanceRef::parse("plain"));

  drop_instance(*env, ref, {.remove_cluster = true});
  CHECK(env.nothing_in_srv());
}
