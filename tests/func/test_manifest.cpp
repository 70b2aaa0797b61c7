#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
// The roles and databases of an instance manifest, on real PostgreSQL 15 instances: created once the
// instance runs, reverted with it.
#include "fixture.hpp"

using namespace pglift;

namespace {

const char* const secret = "Manifest-s3cret-77";

fs::path passfile_of(const fs::path& prefix) { return prefix / "home/pgpass"; }

std::string passfile_env_settings(const fs::path& prefix) {
  return R"({"postgresql": {"auth": {"passfile": ")" + passfile_of(prefix).string() + R"("}}})";
}

std::string passfile_text(Env& env) {
  std::ifstream in(passfile_of(env.prefix));
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

bool secret_never_shown(Env& env) { return !env.shown(secret); }

/// roles [alice (login, password, pgpass), bob], databases [app owned by alice with schema s1], and
/// `more` databases after it.
InstanceSpec manifest(int port, std::vector<DatabaseSpec> more = {}) {
  std::string json = R"({"name": "main", "port": )" + std::to_string(port) + R"(, "roles": [
      {"name": "alice", "login": true, "password": ")" + secret + R"(", "pgpass": true}, {"name": "bob"}],
    "databases": [{"name": "app", "owner": "alice", "schemas": ["s1"]}]})";
  InstanceSpec s = InstanceSpec::from_json(json);
  for (auto& d : more) s.databases.push_back(std::move(d));
  return s;
}

}  // namespace

TEST_CASE("create with roles and databases: all exist once it returns; the password is in no event") {
  fs::path prefix = Env::make_prefix();
  Env env(prefix, passfile_env_settings(prefix));
  const int port = free_port();
  create_instance(*env, manifest(port));
  const auto ref = InstanceRef::parse("main");
  Role alice = get_role(*env, ref, "alice");
  CHECK(alice.login);
  CHECK(alice.has_password);
  CHECK(alice.pgpass);
  CHECK_FALSE(get_role(*env, ref, "bob").login);
  Database app = get_database(*env, ref, "app");
  CHECK(app.owner == "alice");
  REQUIRE(app.schemas.size() >= 1);
  CHECK(std::any_of(app.schemas.begin(), app.schemas.end(), [](const Schema& s) { return s.name == "s1"; }));
  CHECK(env.logged("creating role 'alice' on instance 15/main"));
  CHECK(env.logged("creating 'app' database on instance 15/main"));
  CHECK(passfile_text(env).find(":" + std::to_string(port) + ":*:alice:") != std::string::npos);
  CHECK(secret_never_shown(env));
  drop_instance(*env, ref);
}

TEST_CASE("a create whose second database names an unknown owner fails and leaves nothing: no instance, no passfile entry") {
  fs::path prefix = Env::make_prefix();
  Env env(prefix, passfile_env_settings(prefix));
  DatabaseSpec orphan;
  orphan.name = "other";
  orphan.owner = "nobody";
  CHECK_THROWS_AS(create_instance(*env, manifest(free_port(), {orphan})), Error);
  CHECK(env.logged("reverting 'initializing PostgreSQL instance'"));
  CHECK(env.nothing_in_srv());
  CHECK(list_instances(*env).empty());
  CHECK(passfile_text(env).find("alice") == std::string::npos);
  CHECK(secret_never_shown(env));
}

TEST_CASE("with state stopped, the roles are created while it runs, then it stops") {
  Env env;
  auto s = InstanceSpec::from_json(R"({"name": "main", "port": )" + std::to_string(free_port()) +
                                   R"(, "state": "stopped", "roles": [{"name": "carol"}], "databases": [{"name": "d1"}]})");
  create_instance(*env, s);
  const auto ref = InstanceRef::parse("main");
  CHECK(instance_status(*env, ref).postgresql == RunStatus::not_running);
  start_instance(*env, ref);
  CHECK(get_role(*env, ref, "carol").name == "carol");
  CHECK(get_database(*env, ref, "d1").name == "d1");
  drop_instance(*env, ref);
}

TEST_CASE("bad roles and databases are refused before anything is done, named by their path") {
  Env env;  // no passfile configured
  auto field_of = [&](const InstanceSpec& s) -> std::string {
    try {
      create_instance(*env, s);
    } catch (const InvalidSpec& e) {
      return e.field();
    }
    return "(no error)";
  };
  InstanceSpec s = spec("main", free_port());
  s.roles.push_back(RoleSpec{.name = "ok"});
  s.roles.push_back(RoleSpec{.name = ""});
  CHECK(field_of(s) == "roles[1].name");
  s.roles.back().name = "dave";
  s.roles.back().password = secret;
  s.roles.back().pgpass = true;
  CHECK(field_of(s) == "roles[1].pgpass");  // no passfile in these settings
  s.roles.pop_back();
  s.databases.push_back(DatabaseSpec{.name = "d", .tablespace = std::string("default")});
  CHECK(field_of(s) == "databases[0].tablespace");
  CHECK(env.nothing_in_srv());
  CHECK(list_instances(*env).empty());
  CHECK(secret_never_shown(env));
}
