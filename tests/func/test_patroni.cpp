#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <poll.h>
#include <sys/file.h>
#include <sys/syscall.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include <fstream>
#include <future>
#include <random>
#include <set>

#include "etcd_fixture.hpp"

using namespace pglift;
using namespace std::chrono_literals;

namespace {



/// The Patroni process of a member: the process of its pid file when that is Patroni itself (as before
/// pglift-supervisor), else the supervisor's child running Patroni (the postmaster is its child too,
/// re-parented to it; its command line does not name Patroni).
pid_t patroni_process_of(const fs::path& pid_file) {
  std::ifstream in(pid_file);
  pid_t supervisor = 0;
  in >> supervisor;
  std::ifstream own_cmd_in("/proc/" + std::to_string(supervisor) + "/cmdline");
  std::string own_cmd((std::istreambuf_iterator<char>(own_cmd_in)), {});
  if (own_cmd.find("pglift-supervisor") == std::string::npos) return supervisor;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream stat_in(e.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(stat_in)), {});
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    char state;
    pid_t ppid = 0;
    fields >> state >> ppid;
    if (ppid != supervisor) continue;
    std::ifstream cmd_in(e.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(cmd_in)), {});
    if (cmd.find("/usr/bin/patroni") != std::string::npos) return std::stoi(name);
  }
  return -1;
}

std::string leader_of(const Instance& i) {
  for (const auto& m : i.patroni->cluster_members)
    if (m.role == "leader") return m.name;
  return {};
}

}  // namespace

TEST_CASE("the seed scenario: a leader and a replica, data flows, switchover and back, kill -9 failover, drop with cluster removal") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  const std::string cluster = unique("pgdemo");

  // The leader creates its manifest's roles and databases; a replica skips its own (the leader's replicate).
  InstanceSpec leader_spec = member("pg1", cluster, "127.0.1.1", free_port());
  leader_spec.roles.push_back(RoleSpec{.name = "app_owner"});
  leader_spec.databases.push_back(DatabaseSpec{.name = "appdb", .owner = std::string("app_owner")});
  Instance pg1 = create_instance(*env, leader_spec);
  CHECK(env.logged("bootstrapping PostgreSQL with Patroni"));
  CHECK(env.logged("instance 15/pg1 successfully created by Patroni"));
  CHECK(get_database(*env, InstanceRef::parse("pg1"), "appdb").owner == "app_owner");
  const auto t0 = std::chrono::steady_clock::now();
  InstanceSpec replica_spec = member("pg2", cluster, "127.0.1.2", free_port());
  replica_spec.roles.push_back(RoleSpec{.name = "replica_only"});
  Instance pg2 = create_instance(*env, replica_spec);
  CHECK(env.logged("instance 15/pg2 is a replica: the roles and databases of its manifest are not created on it"));
  CHECK(get_role(*env, InstanceRef::parse("pg2"), "app_owner").name == "app_owner");
  CHECK_THROWS_AS(get_role(*env, InstanceRef::parse("pg2"), "replica_only"), NotFound);
  MESSAGE("replica created (streaming) in " << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count() << " ms");

  Instance got = get_instance(*env, InstanceRef::parse("pg1"));
  REQUIRE(got.patroni);
  CHECK(got.patroni->cluster == cluster);
  CHECK(got.patroni->node == "pg1");
  REQUIRE(got.patroni->cluster_members.size() == 2);
  CHECK(leader_of(got) == "pg1");
  for (const auto& m : got.patroni->cluster_members)
    if (m.name == "pg2") CHECK(m.role == "replica");
  CHECK(got.to_json().find("\"cluster_members\"") != std::string::npos);
  CHECK(fs::is_symlink(got.data_directory / "pg_wal"));  // initdb --waldir, through Patroni

  auto vars = instance_env(*env, InstanceRef::parse("pg2"));
  CHECK(vars.at("PATRONI_SCOPE") == cluster);
  CHECK(vars.at("PATRONI_NAME") == "pg2");
  CHECK(fs::exists(vars.at("PATRONICTL_CONFIG_FILE")));
  CHECK((fs::status(vars.at("PATRONICTL_CONFIG_FILE")).permissions() & fs::perms::group_all) == fs::perms::none);
  CHECK(fs::exists(patroni_log_file(*env, InstanceRef::parse("pg1"))));
  auto st = instance_status(*env, InstanceRef::parse("pg2"));
  CHECK(st.postgresql == RunStatus::running);
  CHECK(st.patroni_api == std::optional(RunStatus::running));

  CHECK(sql(*env, "pg1", "CREATE TABLE t (x text); INSERT INTO t VALUES ('written on pg1')") == "");
  std::string read_back;
  CHECK_MESSAGE(eventually(20s, [&] { return (read_back = sql(*env, "pg2", "SELECT x FROM t")) == "written on pg1"; }), read_back);

  // A parameter change goes to the YAML, is reloaded through the REST API, and is confirmed.
  auto conf = configure_instance(*env, InstanceRef::parse("pg1"), {{"work_mem", ConfValue(std::string("8MB"))}});
  CHECK(conf.changes.count("work_mem"));
  CHECK(sql(*env, "pg1", "SHOW work_mem") == "8MB");
  CHECK(std::get<std::string>(instance_parameters(*env, InstanceRef::parse("pg1")).at("work_mem")) == "8MB");
  CHECK(env.logged("instance 15/pg1 needs reload due to parameter changes: work_mem"));
  {  // a bad value is refused before the YAML is touched (pgconf)
    const fs::path yaml = instance_env(*env, InstanceRef::parse("pg1")).at("PATRONICTL_CONFIG_FILE");
    std::ifstream in(yaml, std::ios::binary);
    const std::string before((std::istreambuf_iterator<char>(in)), {});
    CHECK_THROWS_AS(configure_instance(*env, InstanceRef::parse("pg1"), {{"work_mem", ConfValue(std::string("10s"))}}), InvalidSpec);
    CHECK_THROWS_AS(configure_instance(*env, InstanceRef::parse("pg1"), {{"no_such_parameter", ConfValue(true)}}), InvalidSpec);
    std::ifstream again(yaml, std::ios::binary);
    CHECK(std::string((std::istreambuf_iterator<char>(again)), {}) == before);
  }
  {  // pg_hba records go to the YAML's postgresql.pg_hba, and Patroni applies them on reload (pgconf)
    HbaRecord r;
    r.connection = HbaConnection{"host", std::string("10.9.0.0/16"), std::nullopt};
    r.method = "scram-sha-256";
    auto added = add_hba_records(*env, InstanceRef::parse("pg1"), {r});
    CHECK(added.changed);
    CHECK(added.reloaded);
    const fs::path yaml = instance_env(*env, InstanceRef::parse("pg1")).at("PATRONICTL_CONFIG_FILE");
    std::ifstream in(yaml, std::ios::binary);
    CHECK(std::string((std::istreambuf_iterator<char>(in)), {}).find("10.9.0.0/16") != std::string::npos);
    std::string rules;
    CHECK_MESSAGE(eventually(20s, [&] {
                    return (rules = sql(*env, "pg1", "SELECT count(*) FROM pg_hba_file_rules WHERE address = '10.9.0.0'")) == "1";
                  }),
                  rules);
    CHECK(remove_hba_records(*env, InstanceRef::parse("pg1"), {r}).removed.size() == 1);
    CHECK_THROWS_AS(remove_hba_records(*env, InstanceRef::parse("pg1"), {r}), NotFound);
  }

  const std::string loaded = sql(*env, "pg2", "SELECT pg_conf_load_time()");
  reload_instance(*env, InstanceRef::parse("pg2"));  // confirmed: PostgreSQL re-read its files
  CHECK(sql(*env, "pg2", "SELECT pg_conf_load_time()") != loaded);

  auto sw = patroni_switchover(*env, InstanceRef::parse("pg1"), {.candidate = "pg2"});
  CHECK(sw.previous_leader == "pg1");
  CHECK(sw.new_leader == "pg2");
  CHECK(leader_of(get_instance(*env, InstanceRef::parse("pg1"))) == "pg2");
  auto back = patroni_switchover(*env, InstanceRef::parse("pg2"), {.candidate = "pg1"});
  CHECK(back.new_leader == "pg1");

  // Hard crash of the leader: its Patroni (and the supervisor of the pid file), and its postmaster, kill -9.
  auto pm = instance_status(*env, InstanceRef::parse("pg1")).pid;
  REQUIRE(pm);
  std::ifstream pidfile(env.prefix / "run/patroni/15-pg1.pid");
  pid_t patroni_pid = 0;
  pidfile >> patroni_pid;
  REQUIRE(patroni_pid > 0);
  const pid_t patroni_itself = patroni_process_of(env.prefix / "run/patroni/15-pg1.pid");
  REQUIRE(patroni_itself > 0);
  ::kill(patroni_pid, SIGKILL);
  ::kill(patroni_itself, SIGKILL);
  ::kill(*pm, SIGKILL);
  CHECK(eventually(45s, [&] {
    try {
      return leader_of(get_instance(*env, InstanceRef::parse("pg2"))) == "pg2";
    } catch (const Error&) {
      return false;
    }
  }));
  // The old leader comes back as a replica (rewound).
  start_instance(*env, InstanceRef::parse("pg1"));
  CHECK(eventually(60s, [&] {
    auto members = get_instance(*env, InstanceRef::parse("pg2")).patroni->cluster_members;
    return members.size() == 2 && leader_of(get_instance(*env, InstanceRef::parse("pg2"))) == "pg2";
  }));

  CHECK_THROWS_AS(drop_instance(*env, InstanceRef::parse("pg2"), {.remove_cluster = true}), StateError);  // pg1 alive
  drop_instance(*env, InstanceRef::parse("pg2"));
  drop_instance(*env, InstanceRef::parse("pg1"), {.remove_cluster = true});
  CHECK(env.logged("appears to be the last member of cluster '" + cluster + "'"));
  CHECK(etcd.keys("/service/" + cluster + "/").empty());
  CHECK(env.nothing_in_srv());
  // Patroni and PostgreSQL are gone when drop returns.
  auto left = processes_mentioning(env.prefix.string());
  CHECK_MESSAGE(left.empty(), command_lines(left));
}

TEST_CASE("etcd down at create: a clear error and nothing left behind") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  etcd.stop();
  try {
    create_instance(*env, member("pg1", unique("down"), "127.0.1.1", free_port()));
    FAIL("expected a DCS error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::dcs);
    CHECK(std::string(e.what()).find("etcd") != std::string::npos);
  }
  CHECK(env.nothing_in_srv());
  CHECK_FALSE(fs::exists(env.prefix / "etc/patroni/15-pg1.yaml"));
}

TEST_CASE("a Patroni failure after the configuration is written reverts everything") {
  EtcdServer etcd;
  SUBCASE("a wrong bin_dir") {
    Env env(patroni_settings(etcd, R"("postgresql": {"versions": [{"version": "15", "bindir": "/nonexistent/15/bin"}]})"));
    CHECK_THROWS_AS(create_instance(*env, member("pg1", unique("bad"), "127.0.1.1", free_port())), Error);
    CHECK(env.nothing_in_srv());
    CHECK_FALSE(fs::exists(env.prefix / "etc/patroni/15-pg1.yaml"));
  }
  SUBCASE("127.0.0.1 as connect address: Patroni's validator, turned into a clear error") {
    // The validator runs beside Patroni's start: Patroni may be bootstrapping when it reports. The
    // create still fails with the validator's words, and its undo leaves no process, file or key.
    Env env(patroni_settings(etcd));
    const std::string cluster = unique("lo");
    try {
      create_instance(*env, member("pg1", cluster, "127.0.0.1", free_port()));
      FAIL("expected invalid configuration");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::invalid_spec);
      CHECK(std::string(e.what()).find("invalid Patroni configuration") != std::string::npos);
      CHECK(std::string(e.what()).find("127.0.1.1") != std::string::npos);  // the hint
    }
    CHECK(env.nothing_in_srv());
    CHECK_FALSE(fs::exists(env.prefix / "etc/patroni/15-pg1.yaml"));
    CHECK(processes_mentioning(env.prefix.string() + "/").empty());
    CHECK(etcd.keys("/service/" + cluster + "/") == "");
  }
}

TEST_CASE("a taken REST API port is refused before anything is done") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  PortHolder taken;
  auto spec = member("pg1", unique("port"), "127.0.0.1", free_port());
  spec.patroni->restapi_connect_address = "127.0.0.1:" + std::to_string(taken.port);
  try {
    create_instance(*env, spec);
    FAIL("expected InvalidSpec");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "patroni.restapi.listen");
  }
  CHECK(env.nothing_in_srv());
}

TEST_CASE("two members bootstrapping one new cluster at once: the loser reverts only its own keys, the winner stays healthy") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  const std::string cluster = unique("race");
  const std::string prefix = "/service/" + cluster + "/";
  struct Outcome {
    std::promise<void> done;
    std::string error;
  } outcomes[2];
  const char* names[2] = {"pg1", "pg2"};
  const char* addresses[2] = {"127.0.1.1", "127.0.1.2"};
  for (int i = 0; i < 2; ++i)
    start_create_instance(*env, member(names[i], cluster, addresses[i], free_port()), {}, [&, i](std::exception_ptr e, Instance) {
      try {
        if (e) std::rethrow_exception(e);
      } catch (const std::exception& x) {
        outcomes[i].error = x.what();
      }
      outcomes[i].done.set_value();
    });
  for (auto& o : outcomes) o.done.get_future().get();
  MESSAGE("pg1: " << (outcomes[0].error.empty() ? "created" : outcomes[0].error));
  MESSAGE("pg2: " << (outcomes[1].error.empty() ? "created" : outcomes[1].error));
  REQUIRE(outcomes[0].error.empty() != outcomes[1].error.empty());  // exactly one winner
  const int winner = outcomes[0].error.empty() ? 0 : 1, loser = 1 - winner;
  CHECK(outcomes[loser].error.find("bootstrapped concurrently by member '" + std::string(names[winner]) + "'") != std::string::npos);
  CHECK_FALSE(fs::exists(env.datadir(names[loser])));
  CHECK_FALSE(fs::exists(env.prefix / ("etc/patroni/15-" + std::string(names[loser]) + ".yaml")));

  // The winner's keys are all there, its own member key included; the loser's is gone.
  const std::string keys = etcd.keys(prefix);
  for (const std::string& key : std::vector<std::string>{"initialize", "leader", "config", "members/" + std::string(names[winner])})
    CHECK_MESSAGE(keys.find(prefix + key + "\n") != std::string::npos, key << " missing from:\n" << keys);
  CHECK(keys.find(prefix + "members/" + names[loser]) == std::string::npos);
  // And it stays the healthy, writable leader over more than one HA loop.
  std::this_thread::sleep_for(5s);  // loop_wait is 2 s: two loops after the loser's revert
  Instance got = get_instance(*env, InstanceRef::parse(names[winner]));
  CHECK(leader_of(got) == names[winner]);
  CHECK(sql(*env, names[winner], "CREATE TABLE still_writable AS SELECT 1") == "");
  drop_instance(*env, InstanceRef::parse(names[winner]), DropOptions{.remove_cluster = true});
  CHECK(env.nothing_in_srv());
}

namespace {
/// The values of every "password:" line of a YAML file (our Patroni YAML is block style).
std::set<std::string> passwords_in(const fs::path& yaml) {
  std::ifstream in(yaml);
  std::set<std::string> found;
  for (std::string line; std::getline(in, line);)
    if (auto at = line.find("password:"); at != std::string::npos) found.insert(line.substr(at + 9));
  return found;
}
}  // namespace

TEST_CASE("the backup a drop leaves is never reused as credentials for a new cluster of the same name; cluster operations take the lock") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  const std::string cluster = unique("reborn");
  create_instance(*env, member("pg1", cluster, "127.0.1.1", free_port()));
  drop_instance(*env, InstanceRef::parse("pg1"), DropOptions{.remove_cluster = true});
  std::vector<fs::path> backups;
  for (const auto& e : fs::directory_iterator(env.prefix / "etc/patroni"))
    if (e.path().filename().string().starts_with(cluster + "-pg1-") && e.path().extension() == ".yaml") backups.push_back(e.path());
  REQUIRE(backups.size() == 1);
  const auto old_passwords = passwords_in(backups.front());
  REQUIRE_FALSE(old_passwords.empty());

  create_instance(*env, member("pg1", cluster, "127.0.1.1", free_port()));
  const auto new_passwords = passwords_in(env.prefix / "etc/patroni/15-pg1.yaml");
  REQUIRE_FALSE(new_passwords.empty());
  for (const auto& p : new_passwords) CHECK_MESSAGE(old_passwords.count(p) == 0, "a password of the dropped cluster was reused");

  // Cluster operations take the instance lock: while another operation holds it, they are refused.
  {
    const fs::path lock_file = env.prefix / "run/locks/15-pg1.lock";
    int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
    CHECK_THROWS_AS(patroni_switchover(*env, InstanceRef::parse("pg1")), Busy);
    CHECK_THROWS_AS(patroni_failover(*env, InstanceRef::parse("pg1"), "pg2"), Busy);
    CHECK_THROWS_AS(patroni_pause(*env, InstanceRef::parse("pg1")), Busy);
    CHECK_THROWS_AS(patroni_resume(*env, InstanceRef::parse("pg1")), Busy);
    ::close(fd);
  }
  drop_instance(*env, InstanceRef::parse("pg1"), DropOptions{.remove_cluster = true});
}

namespace {
/// HOST and PORT of a member's REST API, as the spec gives them.
std::pair<std::string, int> api_of(const InstanceSpec& spec) {
  const std::string& a = *spec.patroni->restapi_connect_address;
  return {a.substr(0, a.rfind(':')), std::stoi(a.substr(a.rfind(':') + 1))};
}

/// "username:password" of restapi.authentication in a member's YAML ("" when absent), read with PyYAML
/// (Patroni's own reader).
std::string restapi_auth_in(const fs::path& yaml) {
  return command_output("/usr/bin/python3 -c 'import sys, yaml; a = (yaml.safe_load(open(sys.argv[1])).get(\"restapi\") or {})"
                        ".get(\"authentication\") or {}; print(\"%s:%s\" % (a[\"username\"], a[\"password\"]) if a else \"\", end=\"\")' " +
                        yaml.string() + " 2>&1");
}

/// A command run with exactly the environment `instance_env` gives (as `pglift instance exec` does), plus
/// a PATH for the shell: its stdout and stderr.
std::string run_with_env(const std::map<std::string, std::string>& vars, const std::string& command) {
  auto quote = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  };
  std::string line = "env -i";
  for (const auto& [k, v] : vars) line += " " + k + "=" + quote(v);
  return command_output(line + " " + command + " 2>&1");
}
}  // namespace

TEST_CASE("the REST API is secure by default: unsafe calls need the cluster's credentials, which pglift and patronictl have") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));  // no patroni.restapi.authentication in the site settings
  const std::string cluster = unique("auth");
  auto spec1 = member("pg1", cluster, "127.0.1.1", free_port());
  auto spec2 = member("pg2", cluster, "127.0.1.2", free_port());
  create_instance(*env, spec1);
  const auto [host1, port1] = api_of(spec1);

  // Generated credentials, in the 0600 YAML only (never in the library's messages).
  const fs::path yaml1 = env.prefix / "etc/patroni/15-pg1.yaml";
  CHECK((fs::status(yaml1).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  const std::string auth = restapi_auth_in(yaml1);
  REQUIRE_MESSAGE(auth.size() > 24, auth);
  const std::string password = auth.substr(auth.find(':') + 1);
  CHECK_FALSE(env.logged(password));

  // Without them, the unsafe endpoints refuse; reads stay open (probes, monitoring).
  std::string body;
  CHECK(http_request(host1, port1, "POST", "/switchover", R"({"leader": "pg1", "candidate": "pg2"})", &body) == 401);
  MESSAGE("unauthenticated POST /switchover: " << body);
  CHECK(http_request(host1, port1, "POST", "/restart", "{}", &body) == 401);
  MESSAGE("unauthenticated POST /restart: " << body);
  CHECK(http_request(host1, port1, "PATCH", "/config", R"({"pause": true})") == 401);
  CHECK(http_request(host1, port1, "POST", "/reload", "{}") == 401);
  CHECK(http_request(host1, port1, "GET", "/patroni") == 200);

  // A member joining the cluster on this host gets the same ones (per cluster, like the passwords).
  create_instance(*env, spec2);
  CHECK(restapi_auth_in(env.prefix / "etc/patroni/15-pg2.yaml") == auth);
  const auto [host2, port2] = api_of(spec2);
  CHECK(http_request(host2, port2, "POST", "/restart", "{}") == 401);

  // The library's own unsafe calls carry them.
  const std::string started = sql(*env, "pg1", "SELECT pg_postmaster_start_time()");
  restart_instance(*env, InstanceRef::parse("pg1"));  // POST /restart
  CHECK(sql(*env, "pg1", "SELECT pg_postmaster_start_time()") != started);
  reload_instance(*env, InstanceRef::parse("pg2"));  // POST /reload
  patroni_pause(*env, InstanceRef::parse("pg1"));    // PATCH /config
  CHECK(get_instance(*env, InstanceRef::parse("pg1")).patroni->is_paused == std::optional(true));
  patroni_resume(*env, InstanceRef::parse("pg1"));
  auto sw = patroni_switchover(*env, InstanceRef::parse("pg1"), {.candidate = "pg2"});  // POST /switchover
  CHECK(sw.new_leader == "pg2");

  // patronictl, with the instance's environment (PATRONICTL_CONFIG_FILE: the member's YAML, whose
  // restapi.authentication patronictl sends).
  auto vars = instance_env(*env, InstanceRef::parse("pg2"));
  std::string out = run_with_env(vars, "/usr/bin/patronictl list");
  MESSAGE("patronictl list:\n" << out);
  CHECK(out.find(cluster) != std::string::npos);
  CHECK(out.find("pg1") != std::string::npos);
  CHECK(out.find("| pg2") != std::string::npos);
  CHECK(out.find("Leader") != std::string::npos);
  out = run_with_env(vars, "/usr/bin/patronictl reload " + cluster + " pg1 pg2 --force");  // POST /reload to each member
  MESSAGE("patronictl reload:\n" << out);
  CHECK(out.find("member pg1") != std::string::npos);
  CHECK(out.find("member pg2") != std::string::npos);
  CHECK(out.find("Failed") == std::string::npos);

  drop_instance(*env, InstanceRef::parse("pg1"));
  drop_instance(*env, InstanceRef::parse("pg2"), {.remove_cluster = true});
  CHECK(env.nothing_in_srv());
}

TEST_CASE("a bootstrap cancelled half-way removes the initialize key it took: the cluster can be created again") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  const std::string cluster = unique("halfway");
  const std::string prefix = "/service/" + cluster + "/";
  std::promise<void> done;
  Operation op = start_create_instance(*env, member("pg1", cluster, "127.0.1.1", free_port()), {},
                                       [&](std::exception_ptr e, Instance) { e ? done.set_exception(e) : done.set_value(); });
  // Our Patroni has taken `initialize` (empty while it bootstraps): cancel now, mid-bootstrap.
  REQUIRE_MESSAGE(eventually(60s, [&] { return etcd.keys(prefix).find(prefix + "initialize\n") != std::string::npos; }),
                  etcd.keys(prefix));
  op.cancel();
  CHECK_THROWS_AS(done.get_future().get(), Cancelled);
  const std::string left = etcd.keys(prefix);
  CHECK_MESSAGE(left.find(prefix + "initialize") == std::string::npos, left);
  CHECK_MESSAGE(left.find(prefix + "leader") == std::string::npos, left);
  CHECK_MESSAGE(left.find(prefix + "members/pg1") == std::string::npos, left);
  CHECK(env.nothing_in_srv());

  // Not locked: the same cluster bootstraps anew.
  Instance again = create_instance(*env, member("pg1", cluster, "127.0.1.1", free_port()));
  CHECK(leader_of(again) == "pg1");
  drop_instance(*env, InstanceRef::parse("pg1"), DropOptions{.remove_cluster = true});
}

namespace {
const std::string pg_bin = "/usr/lib/postgresql/15/bin/";

/// pg_ctl on a member's data directory, by hand (as an operator would, or as a killed Patroni leaves it).
std::string pg_ctl(Env& env, const std::string& name, const std::string& args) {
  return command_output(pg_bin + "pg_ctl -D " + env.datadir(name).string() + " -w -t 60 " + args + " 2>&1");
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

const ClusterMember* member_named(const Instance& i, const std::string& name) {
  for (const auto& m : i.patroni->cluster_members)
    if (m.name == name) return &m;
  return nullptr;
}
}  // namespace

TEST_CASE("get and status tell the truth: an orphan postmaster, a lost DCS; a drop without the DCS never claims the last member") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  const std::string cluster = unique("truth");
  const auto pg1 = InstanceRef::parse("pg1");
  create_instance(*env, member("pg1", cluster, "127.0.1.1", free_port()));
  Instance got = get_instance(*env, pg1);
  CHECK(got.patroni->state == std::optional<std::string>("running"));
  CHECK_FALSE(got.patroni->orphan_postmaster);
  CHECK_FALSE(got.patroni->dcs_error);
  REQUIRE(member_named(got, "pg1"));
  CHECK(member_named(got, "pg1")->health == std::optional<std::string>("leader"));
  CHECK(member_named(got, "pg1")->patroni_api == std::optional<std::string>("running"));
  CHECK(instance_status(*env, pg1).dcs_reachable == std::optional(true));

  // An orphan: the postmaster runs, its Patroni does not (started by hand after a stop: whatever
  // stops the orphan of a killed Patroni, this one is still there).
  stop_instance(*env, pg1);
  const std::string out1 = pg_ctl(env, "pg1", "-l " + (env.prefix / "orphan.log").string() + " start");
  INFO(out1);
  got = get_instance(*env, pg1);
  CHECK(got.patroni->state == std::optional<std::string>("not_running"));
  CHECK(got.patroni->orphan_postmaster);
  CHECK(got.to_json().find("\"orphan_postmaster\":true") != std::string::npos);
  CHECK_FALSE(got.patroni->cluster_members.empty());  // from the DCS
  CHECK(env.logged("runs without its Patroni (orphan postmaster)"));
  auto st = instance_status(*env, pg1);
  CHECK(st.postgresql == RunStatus::running);
  CHECK(st.patroni == std::optional<std::string>("not_running"));
  CHECK(st.orphan_postmaster);
  const std::string out2 = pg_ctl(env, "pg1", "-m fast stop");
  INFO(out2);
  start_instance(*env, pg1);

  // The DCS lost: named by get and status, within 5 s; the members are unknown, not gone.
  etcd.stop();
  auto t0 = std::chrono::steady_clock::now();
  got = get_instance(*env, pg1);
  CHECK(seconds_since(t0) < 5);
  REQUIRE(got.patroni->dcs_error);
  MESSAGE("dcs_error: " << *got.patroni->dcs_error);
  CHECK(got.patroni->dcs_error->find("etcd") != std::string::npos);
  REQUIRE(member_named(got, "pg1"));
  CHECK(member_named(got, "pg1")->state == "unknown");
  CHECK(env.logged("the DCS of cluster '" + cluster + "' cannot be reached"));
  t0 = std::chrono::steady_clock::now();
  st = instance_status(*env, pg1);
  CHECK(seconds_since(t0) < 5);
  CHECK(st.dcs_reachable == std::optional(false));
  CHECK(st.dcs_error);

  // A drop cannot know whether this is the last member: refused unless confirmed, never "the last".
  try {
    drop_instance(*env, pg1);
    FAIL("expected a DCS error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::dcs);
    CHECK(std::string(e.what()).find("cannot tell whether 'pg1' is the last member") != std::string::npos);
  }
  CHECK(fs::exists(env.datadir("pg1")));
  drop_instance(*env, pg1, DropOptions{.dcs_unreachable_ok = true});
  CHECK_FALSE(env.logged("appears to be the last member"));
  CHECK(env.logged("nobody can tell whether 'pg1' is the last member"));
  CHECK(env.nothing_in_srv());
}

TEST_CASE("candidates: a stopped member is refused at once, a member on a forked timeline is refused as diverged") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  const std::string cluster = unique("cand");
  const auto pg1 = InstanceRef::parse("pg1"), pg2 = InstanceRef::parse("pg2");
  create_instance(*env, member("pg1", cluster, "127.0.1.1", free_port()));
  create_instance(*env, member("pg2", cluster, "127.0.1.2", free_port()));
  std::string health;
  CHECK_MESSAGE(eventually(20s, [&] {  // the DCS's lag is "unknown" until the next HA loop
                  const Instance now = get_instance(*env, pg1);
                  const auto* m = member_named(now, "pg2");
                  health = m && m->health ? *m->health + ": " + m->health_reason.value_or("") : "";
                  return health.starts_with("streaming");
                }),
                health);

  // Stopped: said at once, not "not a member" after the key's TTL.
  stop_instance(*env, pg2);
  auto t0 = std::chrono::steady_clock::now();
  std::string error = error_of([&] { patroni_switchover(*env, pg1, {.candidate = "pg2"}); });
  MESSAGE("switchover to a stopped member: " << error << " (" << seconds_since(t0) << " s)");
  CHECK(seconds_since(t0) < 2);
  CHECK(error.find("'pg2' is stopped") != std::string::npos);

  // A fork: pg2 promoted by hand (timeline 2, its own writes), then back under Patroni without
  // pg_rewind: it runs as a "replica" that can never stream from pg1.
  {
    std::ofstream(env.datadir("pg2") / "standby.signal");
  }
  const std::string out3 = pg_ctl(env, "pg2", "-l " + (env.prefix / "fork.log").string() + " start");
  INFO(out3);
  const std::string out4 = pg_ctl(env, "pg2", "promote");
  INFO(out4);
  CHECK(sql(*env, "pg2", "CREATE TABLE forked AS SELECT 1") == "");
  const std::string out5 = pg_ctl(env, "pg2", "-m fast stop");
  INFO(out5);
  {
    const fs::path yaml = env.prefix / "etc/patroni/15-pg2.yaml";
    std::ifstream in(yaml);
    std::string text, line;
    while (std::getline(in, line)) text += line + "\n" + (line == "postgresql:" ? "  use_pg_rewind: false\n" : "");
    in.close();
    std::ofstream(yaml) << text;
  }
  start_instance(*env, pg2);
  CHECK_MESSAGE(eventually(20s, [&] {
                  const Instance now = get_instance(*env, pg1);
                  const auto* m = member_named(now, "pg2");
                  health = m && m->health ? *m->health + ": " + m->health_reason.value_or("") : "";
                  return health.starts_with("diverged");
                }),
                health);
  t0 = std::chrono::steady_clock::now();
  error = error_of([&] { patroni_switchover(*env, pg1, {.candidate = "pg2"}); });
  MESSAGE("switchover to a diverged member: " << error << " (" << seconds_since(t0) << " s)");
  CHECK(error.find("timeline 2 while leader 'pg1' is on timeline 1") != std::string::npos);
  CHECK(error.find("diverged") != std::string::npos);
  error = error_of([&] { promote_instance(*env, pg2); });
  CHECK(error.find("diverged") != std::string::npos);
  CHECK(leader_of(get_instance(*env, pg1)) == "pg1");

  drop_instance(*env, pg2);
  drop_instance(*env, pg1, {.remove_cluster = true});
  CHECK(env.nothing_in_srv());
}

namespace {
/// A process we stopped (SIGSTOP) for the test: killed when the test ends, whatever happens.
struct StoppedProcess {
  pid_t pid = -1;
  ~StoppedProcess() {
    if (pid > 0 && process_alive(pid)) {
      ::kill(pid, SIGKILL);
      ::kill(pid, SIGCONT);
    }
  }
};

pid_t patroni_pid(const Env& env, const std::string& qualname) {
  std::ifstream in(env.prefix / "run/patroni" / (qualname + ".pid"));
  pid_t pid = 0;
  in >> pid;
  return pid;
}
}  // namespace

TEST_CASE("a former leader whose rejoin would discard commits is refused and left stopped; accepted, it rejoins with a warning") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  const std::string cluster = unique("rejoin");
  create_instance(*env, member("pg1", cluster, "127.0.1.1", free_port()));
  create_instance(*env, member("pg2", cluster, "127.0.1.2", free_port()));
  REQUIRE(sql(*env, "pg1", "CREATE TABLE t (x int)") == "");
  REQUIRE(eventually(20s, [&] { return sql(*env, "pg2", "SELECT count(*) FROM t") == "0"; }));

  // pg2 stops receiving: pg1's walsender is frozen, so nothing committed from now on leaves pg1.
  StoppedProcess walsender;
  const std::string sender = sql(*env, "pg1", "SELECT pid FROM pg_stat_replication WHERE state = 'streaming'");
  REQUIRE_MESSAGE(!sender.empty(), sender);
  walsender.pid = std::stoi(sender);
  REQUIRE(::kill(walsender.pid, SIGSTOP) == 0);
  for (int i = 1; i <= 3; ++i) REQUIRE(sql(*env, "pg1", "INSERT INTO t VALUES (" + std::to_string(i) + ")") == "");

  // pg1 dies hard: its Patroni, its postmaster, the frozen walsender (its unsent WAL with it).
  auto pm = instance_status(*env, InstanceRef::parse("pg1")).pid;
  REQUIRE(pm);
  const pid_t pg1_supervisor = patroni_pid(env, "15-pg1"), pg1_patroni = patroni_process_of(env.prefix / "run/patroni/15-pg1.pid");
  REQUIRE(pg1_supervisor > 0);
  REQUIRE(pg1_patroni > 0);
  ::kill(pg1_supervisor, SIGKILL);
  ::kill(pg1_patroni, SIGKILL);
  ::kill(*pm, SIGKILL);
  ::kill(walsender.pid, SIGKILL);
  ::kill(walsender.pid, SIGCONT);
  REQUIRE(eventually(5s, [&] {
    return !process_alive(*pm) && !process_alive(pg1_supervisor) && !process_alive(pg1_patroni) && !process_alive(walsender.pid);
  }));
  REQUIRE(eventually(45s, [&] {
    try {
      return leader_of(get_instance(*env, InstanceRef::parse("pg2"))) == "pg2";
    } catch (const Error&) {
      return false;
    }
  }));
  CHECK(sql(*env, "pg2", "SELECT count(*) FROM t") == "0");  // the three rows exist on pg1 only

  // By default: refused, with the range and the commits; pg1 stays stopped, no Patroni started.
  try {
    start_instance(*env, InstanceRef::parse("pg1"));
    FAIL("start of the diverged former leader was not refused");
  } catch (const WouldLoseData& e) {
    const std::string what = e.what();
    CHECK(e.code() == ErrorCode::would_lose_data);
    CHECK_MESSAGE(what.find("of timeline 1") != std::string::npos, what);
    CHECK_MESSAGE(what.find("3 committed transactions") != std::string::npos, what);
    CHECK_MESSAGE(what.find("WAL 0/") != std::string::npos, what);
    CHECK_MESSAGE(what.find("left stopped") != std::string::npos, what);
  }
  CHECK(instance_status(*env, InstanceRef::parse("pg1")).postgresql == RunStatus::not_running);
  CHECK_FALSE(process_alive(patroni_pid(env, "15-pg1")));

  // Accepted for this call: it rejoins (rewound), with a warning naming what is lost.
  start_instance(*env, InstanceRef::parse("pg1"), StartOptions{.accept_data_loss = true});
  CHECK(env.logged("3 committed transactions"));
  CHECK(env.logged("rejoining as asked"));
  CHECK(eventually(60s, [&] { return sql(*env, "pg1", "SELECT count(*) FROM t") == "0"; }));  // the rows are gone, as said
}

namespace {
using SteadyTime = std::chrono::steady_clock::time_point;

/// One write of a WriterProbe: when it was sent, when its answer came, whether it committed.
struct WriteAttempt {
  SteadyTime sent, answered;
  bool committed = false;
};

/// Writes to one member every 50 ms, on its own libpq connection (a new one after any error), until
/// destroyed: what a client would see of the member through a failover.
class WriterProbe {
 public:
  WriterProbe(std::string conninfo, std::string member) : conninfo_(std::move(conninfo)), member_(std::move(member)) {
    thread_ = std::thread([this] { run(); });
  }
  ~WriterProbe() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<WriteAttempt> attempts() {
    std::lock_guard l(mutex_);
    return attempts_;
  }
  bool committed_since(SteadyTime t) {
    std::lock_guard l(mutex_);
    return std::any_of(attempts_.begin(), attempts_.end(), [t](const WriteAttempt& a) { return a.committed && a.sent >= t; });
  }

 private:
  void run() {
    PGconn* conn = nullptr;
    const std::string insert = "INSERT INTO probe (member) VALUES ('" + member_ + "')";
    for (auto tick = std::chrono::steady_clock::now(); !stopping_; tick += 50ms) {
      WriteAttempt a;
      a.sent = std::chrono::steady_clock::now();
      if (!conn || PQstatus(conn) != CONNECTION_OK) {
        if (conn) PQfinish(conn);
        conn = PQconnectdb(conninfo_.c_str());
        PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);  // "terminating connection": expected here
      }
      if (PQstatus(conn) == CONNECTION_OK) {
        PGresult* r = PQexec(conn, insert.c_str());
        a.committed = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
      }
      a.answered = std::chrono::steady_clock::now();
      if (!a.committed) {  // read-only, shut down, refused: reconnect for the next write
        PQfinish(conn);
        conn = nullptr;
      }
      {
        std::lock_guard l(mutex_);
        attempts_.push_back(a);
      }
      std::this_thread::sleep_until(tick + 50ms);  // the probe's cadence
    }
    if (conn) PQfinish(conn);
  }
  std::string conninfo_, member_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<WriteAttempt> attempts_;
  std::thread thread_;
};

std::string socket_conninfo(Context& ctx, const std::string& name) {
  auto env = instance_env(ctx, InstanceRef::parse(name));
  return "host=" + env["PGHOST"] + " port=" + env["PGPORT"] + " user=" + env["PGUSER"] + " dbname=postgres connect_timeout=2";
}

std::vector<fs::path> files_starting_with(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().starts_with(prefix)) out.push_back(e.path());
  return out;
}
}  // namespace

TEST_CASE("kill -9 of the leader's Patroni: its PostgreSQL is fenced at once, never two writable primaries; start rejoins") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  const std::string cluster = unique("fence");
  create_instance(*env, member("pg1", cluster, "127.0.1.1", free_port()));
  create_instance(*env, member("pg2", cluster, "127.0.1.2", free_port()));
  REQUIRE(sql(*env, "pg1", "CREATE TABLE probe (at timestamptz DEFAULT clock_timestamp(), member text)") == "");
  REQUIRE(eventually(20s, [&] { return sql(*env, "pg2", "SELECT count(*) FROM probe") == "0"; }));

  const fs::path logdir = patroni_log_file(*env, InstanceRef::parse("pg1")).parent_path();
  const auto postmaster = instance_status(*env, InstanceRef::parse("pg1")).pid;
  REQUIRE(postmaster);
  const pid_t patroni = patroni_process_of(env.prefix / "run/patroni/15-pg1.pid");
  REQUIRE(patroni > 0);
  const int postmaster_fd = static_cast<int>(::syscall(SYS_pidfd_open, *postmaster, 0));
  REQUIRE(postmaster_fd >= 0);

  WriterProbe on_pg1(socket_conninfo(*env, "pg1"), "pg1"), on_pg2(socket_conninfo(*env, "pg2"), "pg2");
  REQUIRE(eventually(5s, [&] { return on_pg1.committed_since(std::chrono::steady_clock::now() - 1s); }));

  const auto killed = std::chrono::steady_clock::now();
  REQUIRE(::kill(patroni, SIGKILL) == 0);
  pollfd gone{postmaster_fd, POLLIN, 0};
  CHECK_MESSAGE(::poll(&gone, 1, 2500) == 1, "pg1's postmaster still runs 2.5 s after its Patroni was killed");
  const auto fenced_after = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed);
  MESSAGE("pg1's postmaster gone " << fenced_after.count() << " ms after the kill of its Patroni");
  CHECK(fenced_after < 2500ms);
  ::close(postmaster_fd);

  // The failover (after the leader key's ttl), until pg2 takes writes; a little more to see pg1 stay down.
  CHECK(eventually(45s, [&] { return on_pg2.committed_since(killed); }));
  const auto pg2_writable = std::chrono::steady_clock::now();
  eventually(1s, [&] { return std::chrono::steady_clock::now() - pg2_writable > 500ms; });
  on_pg1.stop();
  on_pg2.stop();

  // Never two writable primaries: pg1's last commit was answered before pg2's first one was sent.
  std::optional<SteadyTime> last_on_pg1, first_on_pg2;
  for (const auto& a : on_pg1.attempts())
    if (a.committed) last_on_pg1 = a.answered;
  for (const auto& a : on_pg2.attempts())
    if (a.committed && !first_on_pg2) first_on_pg2 = a.sent;
  REQUIRE(last_on_pg1);
  REQUIRE(first_on_pg2);
  auto ms = [&](SteadyTime t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t - killed).count(); };
  MESSAGE("last commit on pg1 at " << ms(*last_on_pg1) << " ms, first commit on pg2 at " << ms(*first_on_pg2) << " ms (from the kill)");
  CHECK(*last_on_pg1 < *first_on_pg2);

  // The supervisor's record, reported by get (and a warning), and its log line.
  CHECK(fs::exists(logdir / "fence.json"));
  CHECK((fs::status(logdir / "fence.json").permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  Instance got = get_instance(*env, InstanceRef::parse("pg1"));
  REQUIRE(got.patroni->fenced);
  CHECK(got.patroni->fenced->reason.find("SIGKILL") != std::string::npos);
  CHECK(got.to_json().find("\"fenced\"") != std::string::npos);
  auto fence_warnings = [&env] {
    std::lock_guard lock(env.mutex);
    return std::count_if(env.events.begin(), env.events.end(), [](const Event& e) {
      auto* r = std::get_if<LogRecord>(&e);
      return r && r->level == LogLevel::warning && r->message.find("was stopped (fenced) by pglift-supervisor") != std::string::npos;
    });
  };
  CHECK(fence_warnings() == 1);  // get's
  instance_status(*env, InstanceRef::parse("pg1"));
  CHECK(fence_warnings() == 2);  // status's
  CHECK(command_output("cat " + (logdir / "supervisor.log").string()).find("fencing its postmaster") != std::string::npos);

  // start: pg1 rejoins as a replica; the record is archived, no longer reported. Its last commits may
  // not have reached pg2 before the fence (asynchronous replication): a rejoin discarding them is the
  // rejoin check's to refuse (its own test case); here the loss is accepted.
  start_instance(*env, InstanceRef::parse("pg1"), StartOptions{.accept_data_loss = true});
  CHECK(fence_warnings() == 3);  // start's
  CHECK(env.logged("fence record archived as " + logdir.string() + "/fence-"));
  CHECK_FALSE(fs::exists(logdir / "fence.json"));
  CHECK(files_starting_with(logdir, "fence-").size() == 1);
  CHECK_FALSE(get_instance(*env, InstanceRef::parse("pg1")).patroni->fenced);
  CHECK(eventually(60s, [&] {
    const Instance seen = get_instance(*env, InstanceRef::parse("pg2"));
    for (const auto& m : seen.patroni->cluster_members)
      if (m.name == "pg1") return m.role == "replica" && (m.state == "running" || m.state == "streaming");  // 3.0.2 says running
    return false;
  }));

  // Requested stops and restarts are no fence.
  restart_instance(*env, InstanceRef::parse("pg1"));
  stop_instance(*env, InstanceRef::parse("pg1"));
  CHECK_FALSE(fs::exists(logdir / "fence.json"));
  CHECK(command_output("cat " + (logdir / "supervisor.log").string()).find("after a requested stop") != std::string::npos);
  drop_instance(*env, InstanceRef::parse("pg1"));
  drop_instance(*env, InstanceRef::parse("pg2"), {.remove_cluster = true});
  CHECK(env.nothing_in_srv());
}

namespace {
/// "username:password" of one role of postgresql.authentication in a member's YAML, read with PyYAML.
std::string role_auth_in(const fs::path& yaml, const std::string& role) {
  return command_output("/usr/bin/python3 -c 'import sys, yaml; a = yaml.safe_load(open(sys.argv[1]))[\"postgresql\"]"
                        "[\"authentication\"][sys.argv[2]]; print(\"%s:%s\" % (a[\"username\"], a[\"password\"]), end=\"\")' " +
                        yaml.string() + " " + role + " 2>&1");
}
}  // namespace

TEST_CASE("a member joins from another host with the cluster's credentials: the same three roles' passwords; without them the error names them") {
  EtcdServer etcd;
  Env host1(patroni_settings(etcd));
  Env host2(patroni_settings(etcd));  // another prefix: no local member of the cluster to take them from
  const std::string cluster = unique("join");
  const InstanceSpec first = member("pg1", cluster, "127.0.1.1", free_port());
  create_instance(*host1, first);

  const InstanceSpec bare = member("pg2", cluster, "127.0.1.2", free_port());
  const std::string refused = error_of([&] { create_instance(*host2, bare); });
  CHECK_MESSAGE(refused.find("joining cluster '" + cluster + "' needs its credentials") != std::string::npos, refused);
  CHECK_MESSAGE(refused.find("pglift patroni -i <member> credentials --output FILE") != std::string::npos, refused);
  CHECK_MESSAGE(refused.find("--patroni-credentials FILE") != std::string::npos, refused);
  CHECK_MESSAGE(refused.find("rewind_password") != std::string::npos, refused);
  CHECK_MESSAGE(refused.find("invalid value") == std::string::npos, refused);
  CHECK(host2.nothing_in_srv());
  CHECK_FALSE(fs::exists(host2.prefix / "etc/patroni/15-pg2.yaml"));

  const PatroniCredentials creds = patroni_credentials(*host1, InstanceRef::parse("pg1"));
  CHECK(PatroniCredentials::from_json(creds.to_json()).rewind.password == creds.rewind.password);
  InstanceSpec joining = bare;
  joining.surole_password = creds.superuser.password;
  joining.replrole_password = creds.replication.password;
  joining.rewind_password = creds.rewind.password;
  create_instance(*host2, joining);

  const fs::path yaml1 = host1.prefix / "etc/patroni/15-pg1.yaml", yaml2 = host2.prefix / "etc/patroni/15-pg2.yaml";
  for (const char* role : {"superuser", "replication", "rewind"})
    CHECK_MESSAGE(role_auth_in(yaml2, role) == role_auth_in(yaml1, role), role);
  CHECK(role_auth_in(yaml2, "rewind") == "rewind:" + creds.rewind.password);
  CHECK((fs::status(yaml2).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  // get shows none of them.
  const Instance got = get_instance(*host2, InstanceRef::parse("pg2"));
  for (const auto* role : {&creds.superuser, &creds.replication, &creds.rewind})
    CHECK(got.to_json().find(role->password) == std::string::npos);
  CHECK(eventually(30s, [&] {
    const Instance seen = get_instance(*host1, InstanceRef::parse("pg1"));  // member_named points into it
    const ClusterMember* m = member_named(seen, "pg2");
    return m && m->role == "replica" && (m->state == "streaming" || m->state == "running");
  }));
  // An isolated leader's shutdown does not wait PostgreSQL's default minute on unreachable standbys.
  CHECK(sql(*host1, "pg1", "SHOW wal_sender_timeout") == "2s");
  CHECK(sql(*host2, "pg2", "SHOW wal_sender_timeout") == "2s");
  // The rewind role logs in to the leader with the password the joining member was given (libpq: no argv).
  const std::string ci = "host=127.0.1.1 port=" + std::to_string(*first.port) +
                         " user=rewind dbname=postgres connect_timeout=10 password=" + creds.rewind.password;
  PGconn* c = PQconnectdb(ci.c_str());
  CHECK_MESSAGE(PQstatus(c) == CONNECTION_OK, PQerrorMessage(c));
  PQfinish(c);

  drop_instance(*host2, InstanceRef::parse("pg2"));
  drop_instance(*host1, InstanceRef::parse("pg1"), {.remove_cluster = true});
  CHECK(host1.nothing_in_srv());
  CHECK(host2.nothing_in_srv());
}

TEST_CASE("synchronous_mode: commits wait for the sync standby; kill -9 of the leader after N confirmed commits loses none, and its rejoin discards nothing") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  const std::string cluster = unique("sync");
  InstanceSpec first = member("pg1", cluster, "127.0.1.1", free_port());
  first.patroni->synchronous_mode = true;  // the site's default is off
  create_instance(*env, first);
  InstanceSpec second = member("pg2", cluster, "127.0.1.2", free_port());
  second.patroni->synchronous_mode_strict = true;  // too late: the cluster's own setting applies, with a warning
  create_instance(*env, second);
  CHECK(env.logged("cluster '" + cluster + "' exists: its own synchronous_mode applies, not the spec's"));

  const Instance got = get_instance(*env, InstanceRef::parse("pg2"));
  CHECK(got.patroni->synchronous_mode == std::optional<bool>(true));
  CHECK(got.patroni->synchronous_mode_strict == std::optional<bool>(false));
  CHECK(got.to_json().find("\"synchronous_mode\":true") != std::string::npos);
  // Patroni names the replica as synchronous standby at its next HA loops.
  std::string sync_state;
  CHECK_MESSAGE(eventually(30s, [&] { return (sync_state = sql(*env, "pg1", "SELECT string_agg(sync_state, ',') FROM pg_stat_replication")) == "sync"; }),
                sync_state);
  REQUIRE(sql(*env, "pg1", "CREATE TABLE confirmed (n int PRIMARY KEY)") == "");

  // A commit waits for the standby: with its walreceiver stopped, an INSERT does not return.
  const std::string receiver = sql(*env, "pg2", "SELECT pid FROM pg_stat_wal_receiver");
  REQUIRE_FALSE(receiver.empty());
  PGconn* conn = PQconnectdb(socket_conninfo(*env, "pg1").c_str());
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  REQUIRE(::kill(std::stoi(receiver), SIGSTOP) == 0);
  REQUIRE(PQsendQuery(conn, "INSERT INTO confirmed VALUES (-1)") == 1);
  pollfd waiting{PQsocket(conn), POLLIN, 0};
  const int answered_while_stopped = ::poll(&waiting, 1, 800);
  ::kill(std::stoi(receiver), SIGCONT);
  CHECK_MESSAGE(answered_while_stopped == 0, "the commit returned while the sync standby could not confirm it");
  while (PGresult* r = PQgetResult(conn)) {
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
  }

  // N commits, each confirmed to the client, then the leader host's hard crash: Patroni, its supervisor
  // and the postmaster, kill -9.
  constexpr int n = 100;
  int confirmed = 0;
  for (int i = 0; i < n; ++i) {
    const std::string insert = "INSERT INTO confirmed VALUES (" + std::to_string(i) + ")";
    PGresult* r = PQexec(conn, insert.c_str());
    if (PQresultStatus(r) == PGRES_COMMAND_OK) ++confirmed;
    PQclear(r);
  }
  PQfinish(conn);
  REQUIRE(confirmed == n);
  const auto postmaster = instance_status(*env, InstanceRef::parse("pg1")).pid;
  REQUIRE(postmaster);
  std::ifstream pidfile(env.prefix / "run/patroni/15-pg1.pid");
  pid_t supervisor = 0;
  pidfile >> supervisor;
  const pid_t patroni = patroni_process_of(env.prefix / "run/patroni/15-pg1.pid");
  REQUIRE(supervisor > 0);
  REQUIRE(patroni > 0);
  ::kill(supervisor, SIGKILL);
  ::kill(patroni, SIGKILL);
  ::kill(*postmaster, SIGKILL);
  REQUIRE(eventually(45s, [&] {
    try {
      return leader_of(get_instance(*env, InstanceRef::parse("pg2"))) == "pg2" &&
             sql(*env, "pg2", "SELECT pg_is_in_recovery()") == "f";
    } catch (const Error&) {
      return false;
    }
  }));
  CHECK(sql(*env, "pg2", "SELECT count(*) FROM confirmed WHERE n >= 0") == std::to_string(n));

  // The former leader rejoins without being told to accept a loss: the rejoin check finds nothing discarded.
  start_instance(*env, InstanceRef::parse("pg1"));
  CHECK_FALSE(env.logged("through pg_rewind discards"));
  CHECK(eventually(60s, [&] {
    const Instance seen = get_instance(*env, InstanceRef::parse("pg2"));  // member_named points into it
    const ClusterMember* m = member_named(seen, "pg1");
    return m && (m->role == "replica" || m->role == "sync_standby") && (m->state == "running" || m->state == "streaming");
  }));
  CHECK(eventually(20s, [&] { return sql(*env, "pg1", "SELECT count(*) FROM confirmed WHERE n >= 0") == std::to_string(n); }));

  drop_instance(*env, InstanceRef::parse("pg1"));
  drop_instance(*env, InstanceRef::parse("pg2"), {.remove_cluster = true});
  CHECK(env.nothing_in_srv());
}
