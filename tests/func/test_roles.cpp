// Roles on a real PostgreSQL 15 instance: one instance for the whole file (created on first use).
#define DOCTEST_CONFIG_IMPLEMENT
#include <boost/asio/use_future.hpp>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <future>

#include "fixture.hpp"
#include "pglift/async.hpp"

using namespace pglift;
using namespace std::chrono_literals;

namespace {

const char* const secret = "s3cret-Pa55";

fs::path passfile_of(const fs::path& prefix) { return prefix / "home/pgpass"; }

/// The file's instance, with a passfile configured; dropped by main() once the tests ran (then Env removes
/// the prefix). Not a function-static: its thread pool must end before OpenSSL's atexit cleanup, or the
/// per-thread DRBGs that PQencryptPasswordConn created in the pool threads are never freed (LeakSanitizer).
struct SharedInstance {
  std::unique_ptr<Env> env;
  SharedInstance() {
    fs::path prefix = Env::make_prefix();
    env = std::make_unique<Env>(prefix, R"({"postgresql": {"auth": {"passfile": ")" + passfile_of(prefix).string() + R"("}}})");
    create_instance(**env, spec("main", free_port()));
  }
  ~SharedInstance() {
    try {
      drop_instance(**env, InstanceRef::parse("main"));
    } catch (...) {
    }
  }
};
std::unique_ptr<SharedInstance> shared;
Env& shared_env() {
  if (!shared) shared = std::make_unique<SharedInstance>();
  return *shared->env;
}

const InstanceRef main_ref = InstanceRef::parse("main");

std::string passfile_text(Env& env) {
  std::ifstream in(passfile_of(env.prefix));
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

bool secret_never_shown(Env& env) { return !env.shown(secret); }

}  // namespace

TEST_CASE("dry runs: checked by PostgreSQL in a rolled-back transaction, nothing changes, no passfile entry") {
  Env& env = shared_env();
  OpOptions dry;
  dry.dry_run = true;
  RoleSpec s;
  s.name = "dryrole";
  s.password = secret;
  s.login = true;
  s.pgpass = true;
  create_role(*env, main_ref, s, dry);
  CHECK(env.logged("creating role 'dryrole' on instance 15/main (dry run: rolled back, nothing changed)"));
  CHECK_THROWS_AS(get_role(*env, main_ref, "dryrole"), NotFound);
  CHECK(passfile_text(env).find("dryrole") == std::string::npos);
  RoleSpec bad = s;
  bad.in_roles = {"no_such_role"};
  CHECK_THROWS_AS(create_role(*env, main_ref, bad, dry), NotFound);

  RoleSpec real;
  real.name = "dryrole";
  create_role(*env, main_ref, real);
  RoleChanges c;
  c.login = true;
  c.grant = {"pg_monitor"};
  alter_role(*env, main_ref, "dryrole", c, dry);
  CHECK_FALSE(get_role(*env, main_ref, "dryrole").login);
  CHECK(get_role(*env, main_ref, "dryrole").in_roles.empty());
  sql(*env, "main", "CREATE TABLE dry_owned (i int); ALTER TABLE dry_owned OWNER TO dryrole");
  // Without drop_owned the trial DROP ROLE meets the dependency; with it, the dry run passes.
  CHECK_THROWS_WITH_AS(drop_role(*env, main_ref, "dryrole", {}, dry), doctest::Contains("objects depend on it"), StateError);
  RoleDropOptions owned;
  owned.drop_owned = true;
  drop_role(*env, main_ref, "dryrole", owned, dry);
  CHECK(get_role(*env, main_ref, "dryrole").name == "dryrole");
  CHECK(sql(*env, "main", "SELECT count(*) FROM dry_owned") == "0");
  drop_role(*env, main_ref, "dryrole", owned);
  CHECK(secret_never_shown(env));
}

TEST_CASE("create, get, list, alter, drop: attributes, memberships, password and passfile entry") {
  Env& env = shared_env();
  RoleSpec s;
  s.name = "bob";
  s.password = secret;
  s.login = true;
  s.connection_limit = 5;
  s.valid_until = "2030-01-02T03:04:05+00:00";
  s.in_roles = {"pg_monitor"};
  s.pgpass = true;
  create_role(*env, main_ref, s);
  CHECK(env.logged("creating role 'bob' on instance 15/main"));

  Role r = get_role(*env, main_ref, "bob");
  CHECK(r.name == "bob");
  CHECK(r.has_password);
  CHECK(r.login);
  CHECK(r.inherit);
  CHECK_FALSE(r.superuser);
  CHECK(r.connection_limit == std::optional<int>(5));
  CHECK(r.valid_until == std::optional<std::string>("2030-01-02T03:04:05+00:00"));
  CHECK(r.in_roles == std::vector<std::string>{"pg_monitor"});
  CHECK(r.pgpass);
  // The password is stored encrypted (SCRAM), never in clear.
  CHECK(sql(*env, "main", "SELECT rolpassword FROM pg_authid WHERE rolname = 'bob'").starts_with("SCRAM-SHA-256$"));
  const std::string port = sql(*env, "main", "SHOW port");
  CHECK(passfile_text(env).find("*:" + port + ":*:bob:" + secret + "\n") != std::string::npos);
  struct stat st {};
  REQUIRE(::stat(passfile_of(env.prefix).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto roles = list_roles(*env, main_ref);
  CHECK(std::any_of(roles.begin(), roles.end(), [](const Role& x) { return x.name == "bob"; }));
  CHECK(std::none_of(roles.begin(), roles.end(), [](const Role& x) { return x.name.starts_with("pg_"); }));
  CHECK(std::is_sorted(roles.begin(), roles.end(), [](const Role& a, const Role& b) { return a.name < b.name; }));

  RoleChanges c;
  c.login = false;
  c.connection_limit = -1;
  c.valid_until = "infinity";
  c.grant = {"pg_read_all_stats"};
  c.revoke = {"pg_monitor"};
  c.password = std::string(secret) + "2";
  alter_role(*env, main_ref, "bob", c);
  r = get_role(*env, main_ref, "bob");
  CHECK_FALSE(r.login);
  CHECK_FALSE(r.connection_limit);
  CHECK(r.valid_until == std::optional<std::string>("infinity"));
  CHECK(r.in_roles == std::vector<std::string>{"pg_read_all_stats"});
  CHECK(passfile_text(env).find(":bob:" + std::string(secret) + "2\n") != std::string::npos);  // the entry follows

  RoleChanges nopass;
  nopass.pgpass = false;
  alter_role(*env, main_ref, "bob", nopass);
  CHECK(passfile_text(env).find(":bob:") == std::string::npos);
  CHECK_FALSE(get_role(*env, main_ref, "bob").pgpass);

  drop_role(*env, main_ref, "bob");
  CHECK_THROWS_AS(get_role(*env, main_ref, "bob"), NotFound);
  CHECK(secret_never_shown(env));
}

TEST_CASE("errors: exists, not found, unknown member role, bad date; nothing half-made") {
  Env& env = shared_env();
  RoleSpec s;
  s.name = "carol";
  create_role(*env, main_ref, s);
  CHECK_THROWS_WITH_AS(create_role(*env, main_ref, s), "role 'carol' already exists", AlreadyExists);
  drop_role(*env, main_ref, "carol");

  CHECK_THROWS_WITH_AS(get_role(*env, main_ref, "nobody"), "role 'nobody' not found", NotFound);
  CHECK_THROWS_AS(drop_role(*env, main_ref, "nobody"), NotFound);
  CHECK_THROWS_AS(alter_role(*env, main_ref, "nobody", RoleChanges{.login = true}), NotFound);

  RoleSpec bad;
  bad.name = "dave";
  bad.password = secret;
  bad.in_roles = {"no_such_group"};
  CHECK_THROWS_WITH_AS(create_role(*env, main_ref, bad), "role 'no_such_group' not found", NotFound);
  CHECK_THROWS_AS(get_role(*env, main_ref, "dave"), NotFound);
  bad.in_roles.clear();
  bad.valid_until = "someday";
  try {
    create_role(*env, main_ref, bad);
    FAIL("no error");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "valid_until");
  }
  CHECK_THROWS_AS(get_role(*env, main_ref, "dave"), NotFound);
  CHECK(secret_never_shown(env));

  // pgpass needs a configured passfile.
  Env bare;
  RoleSpec p;
  p.name = "erin";
  p.password = secret;
  p.pgpass = true;
  try {
    create_role(*bare, main_ref, p);
    FAIL("no error");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "pgpass");
  }
  // And a running instance.
  CHECK_THROWS_AS(list_roles(*bare, InstanceRef::parse("main")), NotFound);
}

TEST_CASE("names are quoted by libpq: a name with quotes, spaces and SQL survives as given") {
  Env& env = shared_env();
  RoleSpec s;
  s.name = "we\"ird' name; DROP ROLE postgres --";
  s.in_roles = {"pg_monitor"};
  create_role(*env, main_ref, s);
  CHECK(get_role(*env, main_ref, s.name).name == s.name);
  drop_role(*env, main_ref, s.name);
  CHECK_THROWS_AS(get_role(*env, main_ref, s.name), NotFound);
}

TEST_CASE("drop: objects depending on the role are refused clearly; reassign_owned and drop_owned handle them") {
  Env& env = shared_env();
  for (const char* name : {"owner1", "owner2"}) {
    RoleSpec s;
    s.name = name;
    create_role(*env, main_ref, s);
    CHECK(sql(*env, "main", std::string("CREATE TABLE t_") + name + " (); ALTER TABLE t_" + name + " OWNER TO " + name) == "");
  }
  try {
    drop_role(*env, main_ref, "owner1");
    FAIL("no error");
  } catch (const StateError& e) {
    std::string msg = e.what();
    CHECK(msg.find("role 'owner1' cannot be dropped") != std::string::npos);
    CHECK(msg.find("t_owner1") != std::string::npos);
    CHECK(msg.find("drop_owned") != std::string::npos);
  }
  CHECK_THROWS_AS(drop_role(*env, main_ref, "owner1", {.reassign_owned = "nobody"}), NotFound);
  drop_role(*env, main_ref, "owner1", {.reassign_owned = "postgres"});
  CHECK(sql(*env, "main", "SELECT tableowner FROM pg_tables WHERE tablename = 't_owner1'") == "postgres");
  drop_role(*env, main_ref, "owner2", {.drop_owned = true});
  CHECK(sql(*env, "main", "SELECT count(*) FROM pg_tables WHERE tablename = 't_owner2'") == "0");
  CHECK_THROWS_AS(get_role(*env, main_ref, "owner2"), NotFound);
}

TEST_CASE("cancelling a create reverts it: no role, no passfile entry") {
  Env& env = shared_env();
  // Hold pg_authid in SHARE mode: the checks read it, CREATE ROLE waits, so the cancellation lands
  // while the statement runs.
  auto vars = instance_env(*env, main_ref);
  std::string ci = "host=" + vars["PGHOST"] + " port=" + vars["PGPORT"] + " user=" + vars["PGUSER"] + " dbname=postgres";
  PGconn* blocker = PQconnectdb(ci.c_str());
  REQUIRE(PQstatus(blocker) == CONNECTION_OK);
  PQclear(PQexec(blocker, "BEGIN"));
  PGresult* locked = PQexec(blocker, "LOCK TABLE pg_authid IN SHARE MODE");
  REQUIRE_MESSAGE(PQresultStatus(locked) == PGRES_COMMAND_OK, PQresultErrorMessage(locked));
  PQclear(locked);

  std::promise<void> creating;
  std::atomic<bool> once{false};
  env.on_event = [&](const Event& e) {
    if (auto* p = std::get_if<ProgressRecord>(&e); p && p->title.starts_with("creating role 'frank'") && !once.exchange(true))
      creating.set_value();
  };
  RoleSpec s;
  s.name = "frank";
  s.password = secret;
  s.pgpass = true;
  std::promise<void> done;
  Operation op = start_create_role(*env, main_ref, s, [&](std::exception_ptr e) { e ? done.set_exception(e) : done.set_value(); });
  creating.get_future().get();
  op.cancel();
  std::this_thread::sleep_for(200ms);  // the cancellation reaches the op while CREATE ROLE waits
  PQclear(PQexec(blocker, "COMMIT"));
  PQfinish(blocker);
  CHECK_THROWS_AS(done.get_future().get(), Cancelled);
  env.on_event = nullptr;
  CHECK(env.logged("reverting 'creating role 'frank' on instance 15/main'"));
  CHECK_THROWS_AS(get_role(*env, main_ref, "frank"), NotFound);
  CHECK(passfile_text(env).find(":frank:") == std::string::npos);
}

TEST_CASE("Asio completion tokens: use_future; a role op runs beside another, a stopped instance is refused") {
  Env& env = shared_env();
  RoleSpec s;
  s.name = "gina";
  async_create_role(*env, main_ref, s, boost::asio::use_future).get();
  auto a = async_get_role(*env, main_ref, "gina", boost::asio::use_future);
  auto b = async_list_roles(*env, main_ref, boost::asio::use_future);
  CHECK(a.get().name == "gina");
  CHECK(b.get().size() >= 2);
  async_alter_role(*env, main_ref, "gina", RoleChanges{.createdb = true}, boost::asio::use_future).get();
  CHECK(get_role(*env, main_ref, "gina").createdb);
  async_drop_role(*env, main_ref, "gina", RoleDropOptions{}, boost::asio::use_future).get();
  CHECK_THROWS_AS(get_role(*env, main_ref, "gina"), NotFound);

  // A stopped instance is started for the operation and stopped after it, even when it fails; a dry run
  // does not start it.
  stop_instance(*env, main_ref);
  CHECK(list_roles(*env, main_ref).size() >= 1);
  CHECK(env.shown("is not running: starting it for this operation"));
  CHECK(get_instance(*env, main_ref).state == InstanceState::stopped);
  create_role(*env, main_ref, RoleSpec{.name = "stopped_create"});
  CHECK(get_instance(*env, main_ref).state == InstanceState::stopped);
  CHECK_THROWS_AS(get_role(*env, main_ref, "nobody_here"), NotFound);
  CHECK(get_instance(*env, main_ref).state == InstanceState::stopped);
  OpOptions dry;
  dry.dry_run = true;
  CHECK_THROWS_WITH_AS(drop_role(*env, main_ref, "stopped_create", {}, dry), doctest::Contains("a dry run does not start it"),
                       StateError);
  CHECK(get_instance(*env, main_ref).state == InstanceState::stopped);
  drop_role(*env, main_ref, "stopped_create");
  start_instance(*env, main_ref);
  CHECK_THROWS_AS(get_role(*env, main_ref, "stopped_create"), NotFound);
}

TEST_CASE("the instance lock is held shared: beside another holder of it, never during an exclusive one (Busy)") {
  Env& env = shared_env();
  const fs::path lock_path = env.prefix / "run/locks/15-main.lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_SH | LOCK_NB) == 0);  // as another role operation holds it
  RoleSpec s;
  s.name = "hank";
  create_role(*env, main_ref, s);
  CHECK(get_role(*env, main_ref, "hank").name == "hank");
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);  // as a start, stop, configure or drop of the instance
  CHECK_THROWS_AS(get_role(*env, main_ref, "hank"), Busy);
  CHECK_THROWS_AS(drop_role(*env, main_ref, "hank"), Busy);
  ::close(fd);
  drop_role(*env, main_ref, "hank");
  CHECK_THROWS_AS(get_role(*env, main_ref, "hank"), NotFound);
}

TEST_CASE("every write is refused on a standby (ReadOnly), reads work; nothing changed") {
  Env& env = shared_env();
  // A standby without a primary: a fresh instance restarted with standby.signal stays in recovery.
  create_instance(*env, spec("stby", free_port()));
  const InstanceRef stby = InstanceRef::parse("stby");
  RoleSpec s;
  s.name = "ivy";
  create_role(*env, stby, s);
  stop_instance(*env, stby);
  std::ofstream(env.datadir("stby") / "standby.signal").close();
  start_instance(*env, stby);
  REQUIRE(sql(*env, "stby", "SELECT pg_is_in_recovery()") == "t");

  RoleSpec other;
  other.name = "jack";
  CHECK_THROWS_WITH_AS(create_role(*env, stby, other), doctest::Contains("is a read-only standby"), ReadOnly);
  CHECK_THROWS_AS(alter_role(*env, stby, "ivy", RoleChanges{.login = true}), ReadOnly);
  CHECK_THROWS_AS(drop_role(*env, stby, "ivy"), ReadOnly);
  CHECK_FALSE(get_role(*env, stby, "ivy").login);
  CHECK(list_roles(*env, stby).size() >= 2);
  CHECK_THROWS_AS(get_role(*env, stby, "jack"), NotFound);
  drop_instance(*env, stby);
}

TEST_CASE("two creates of one role at once: one wins, the other gets AlreadyExists and reverts nothing of the winner's") {
  Env& env = shared_env();
  auto vars = instance_env(*env, main_ref);
  std::string ci = "host=" + vars["PGHOST"] + " port=" + vars["PGPORT"] + " user=" + vars["PGUSER"] + " dbname=postgres";
  PGconn* blocker = PQconnectdb(ci.c_str());
  REQUIRE(PQstatus(blocker) == CONNECTION_OK);
  PQclear(PQexec(blocker, "BEGIN"));
  PQclear(PQexec(blocker, "LOCK TABLE pg_authid IN SHARE MODE"));  // both pass their checks, then wait
  std::atomic<int> creating{0};
  env.on_event = [&](const Event& e) {
    if (auto* p = std::get_if<ProgressRecord>(&e); p && p->phase == ProgressRecord::Phase::begin &&
                                                   p->title.starts_with("creating role 'kate'"))
      ++creating;
  };
  RoleSpec s;
  s.name = "kate";
  std::promise<void> first, second;
  auto done = [](std::promise<void>& p) {
    return [&p](std::exception_ptr e) { e ? p.set_exception(e) : p.set_value(); };
  };
  start_create_role(*env, main_ref, s, done(first));
  start_create_role(*env, main_ref, s, done(second));
  REQUIRE(eventually(30s, [&] { return creating == 2; }));
  std::this_thread::sleep_for(100ms);  // both CREATE ROLE statements wait on the lock
  PQclear(PQexec(blocker, "COMMIT"));
  PQfinish(blocker);
  int won = 0, lost = 0;
  for (auto* p : {&first, &second}) {
    try {
      p->get_future().get();
      ++won;
    } catch (const AlreadyExists& e) {
      CHECK(std::string(e.what()) == "role 'kate' already exists");
      ++lost;
    }
  }
  env.on_event = nullptr;
  CHECK(won == 1);
  CHECK(lost == 1);
  CHECK(get_role(*env, main_ref, "kate").name == "kate");  // the winner's role stays
  drop_role(*env, main_ref, "kate");
}

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  int rc = context.run();
  shared.reset();
  return rc;
}
