// pglift::Cluster on a real two-member Patroni cluster (etcd and Patroni on loopback): what each promise
// of pglift/cluster.hpp looks like when kept.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>
#include <random>
#include <set>

#include "etcd_fixture.hpp"
#include "pglift/async.hpp"
#include "pglift/cluster.hpp"

using namespace pglift;
using namespace std::chrono_literals;

namespace {



std::set<std::string> names(const Cluster& c) {
  std::set<std::string> out;
  for (const auto& m : c.members()) out.insert(m.name);
  return out;
}

/// The postmaster's start, seconds since the epoch (µs precision), from the instance itself.
double started(Env& env, const std::string& instance) {
  const std::string t = sql(*env, instance, "SELECT extract(epoch FROM pg_postmaster_start_time())");
  REQUIRE_MESSAGE(!t.starts_with("ERROR"), t);
  return std::stod(t);
}

const ClusterMember* find(const Cluster& c, const std::string& name) {
  for (const auto& m : c.members())
    if (m.name == name) return &m;
  return nullptr;
}

std::string etcdctl(const EtcdServer& etcd, const std::string& args) {
  return command_output("env -i ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=http://" + etcd.endpoint() + " " + args + " 2>&1");
}

}  // namespace

TEST_CASE("Cluster: of and from_dcs agree; history, pause, rolling restart (leader last), reinit, remove; async and callback forms") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  const std::string name = unique("pgclu");
  create_instance(*env, member("pg1", name, "127.0.1.1"));
  create_instance(*env, member("pg2", name, "127.0.1.2"));

  // Through a member (its REST API) and from the DCS alone: the same cluster.
  Cluster c = Cluster::of(*env, InstanceRef::parse("pg1"));
  CHECK(c.name() == name);
  CHECK(c.source() == "rest");
  CHECK(c.leader() == std::optional<std::string>("pg1"));
  CHECK(names(c) == std::set<std::string>{"pg1", "pg2"});
  REQUIRE(c.local_member());
  CHECK(c.local_member()->str() == "15/pg1");
  CHECK(!c.paused());
  CHECK(!c.dcs_error());
  REQUIRE(find(c, "pg2"));
  CHECK(find(c, "pg2")->health);  // each member assessed as a candidate; streaming once it caught up:
  CHECK_MESSAGE(eventually(30s, [&] {
                  c.refresh(*env);
                  return find(c, "pg2") && find(c, "pg2")->health == std::optional<std::string>("streaming");
                }),
                c.to_json());
  CHECK(c.dynamic_configuration().find("\"ttl\"") != std::string::npos);
  Cluster d = Cluster::from_dcs(*env, name);
  CHECK(d.source() == "dcs");
  CHECK(d.name() == name);
  CHECK(d.leader() == c.leader());
  CHECK(names(d) == names(c));
  CHECK(d.local_member());  // a member of this host, for actions
  CHECK(d.dynamic_configuration() == c.dynamic_configuration());
  const std::string json = c.to_json();
  CHECK(json.find("\"name\":\"" + name + "\"") != std::string::npos);
  CHECK(json.find("\"leader\":\"pg1\"") != std::string::npos);
  CHECK(json.find("\"members\":[") != std::string::npos);
  CHECK(json.find("\"history\":[") != std::string::npos);
  CHECK(json.find("\"dynamic_configuration\":{") != std::string::npos);
  // Bad names never reach the DCS; an unknown cluster is NotFound.
  try {
    Cluster::from_dcs(*env, "../x");
    FAIL("a bad name was accepted");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "cluster");
  }
  CHECK_THROWS_AS(Cluster::from_dcs(*env, unique("nosuch")), NotFound);
  CHECK_THROWS_AS(Cluster::named("a b"), InvalidSpec);

  // A switchover: returns with the snapshot refreshed, the timeline change in the history.
  const auto history_before = c.history().size();
  auto sw = c.switchover(*env, {.candidate = "pg2"});
  CHECK(sw.previous_leader == "pg1");
  CHECK(sw.new_leader == "pg2");
  CHECK(c.leader() == std::optional<std::string>("pg2"));
  REQUIRE(c.history().size() == history_before + 1);
  CHECK(c.history().back().new_leader == std::optional<std::string>("pg2"));
  CHECK(c.history().back().lsn > 0);
  CHECK(c.history().back().timestamp);
  d.refresh(*env);
  CHECK(d.leader() == std::optional<std::string>("pg2"));
  CHECK(d.history().size() == c.history().size());

  // Pause and resume: seen through the member and in the DCS.
  c.pause(*env);
  CHECK(c.paused());
  d.refresh(*env);
  CHECK(d.paused());
  c.resume(*env);
  CHECK(!c.paused());

  // Actions take the lock of the instance they act on: while another operation holds it, Busy.
  for (const std::string member : {"pg1", "pg2"}) {
    const fs::path lock_file = env.prefix / ("run/locks/15-" + member + ".lock");
    int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
    const double pg1_before = started(env, "pg1");
    CHECK_THROWS_AS(c.restart(*env, member), Busy);
    CHECK_THROWS_AS(c.restart_all(*env), Busy);
    CHECK(started(env, "pg1") == pg1_before);  // the replica, first in line: not restarted either
    if (member == "pg1") {  // the member c acts through, and the replica
      CHECK_THROWS_AS(c.pause(*env), Busy);
      CHECK_THROWS_AS(c.switchover(*env), Busy);
      CHECK_THROWS_AS(c.reinit(*env, member), Busy);
    }
    ::close(fd);
  }

  // Restart of the replica (pg1 now): a new postmaster there, none on the leader.
  const double pg1_0 = started(env, "pg1"), pg2_0 = started(env, "pg2");
  c.restart(*env, "pg1");
  const double pg1_1 = started(env, "pg1");
  CHECK(pg1_1 > pg1_0);
  CHECK(started(env, "pg2") == pg2_0);
  CHECK_THROWS_AS(c.restart(*env, "nosuch"), InvalidSpec);
  // A rolling restart: both restarted, the leader last.
  c.restart_all(*env);
  const double pg1_2 = started(env, "pg1"), pg2_2 = started(env, "pg2");
  CHECK(pg1_2 > pg1_1);
  CHECK(pg2_2 > pg2_0);
  CHECK(pg1_2 < pg2_2);
  CHECK(c.leader() == std::optional<std::string>("pg2"));

  // Reinit: the leader is refused; the replica is cloned anew and streams again.
  CHECK_THROWS_AS(c.reinit(*env, "pg2"), StateError);
  CHECK(sql(*env, "pg2", "CREATE TABLE before_reinit (x int); INSERT INTO before_reinit VALUES (7)") == "");
  c.reinit(*env, "pg1");
  CHECK(started(env, "pg1") > pg1_2);
  REQUIRE(find(c, "pg1"));
  CHECK(find(c, "pg1")->health == std::optional<std::string>("streaming"));
  CHECK(eventually(20s, [&] { return sql(*env, "pg1", "SELECT x FROM before_reinit") == "7"; }));
  CHECK(env.logged("member 'pg1' reinitialized: it streams from the leader"));

  // An action through use_awaitable: a resume-pause pair, the snapshot updated by each.
  {
    boost::asio::io_context io;
    std::promise<void> result;
    auto body = [&]() -> boost::asio::awaitable<void> {
      co_await async_cluster_pause(*env, c, boost::asio::use_awaitable);
      CHECK(c.paused());
      co_await async_cluster_resume(*env, c, boost::asio::use_awaitable);
      CHECK(!c.paused());
      Cluster again = co_await async_cluster_of(*env, InstanceRef::parse("pg2"), boost::asio::use_awaitable);
      CHECK(again.leader() == std::optional<std::string>("pg2"));
    };
    boost::asio::co_spawn(io, body, [&](std::exception_ptr e) {
      if (e) result.set_exception(e);
      else result.set_value();
    });
    io.run();
    CHECK_NOTHROW(result.get_future().get());
  }

  // The callback form, cancelled at once: Cancelled, and the snapshot left as it was.
  {
    const std::string snapshot = c.to_json();
    std::promise<std::exception_ptr> outcome;
    Operation op = c.start_restart_all(*env, [&](std::exception_ptr e) { outcome.set_value(e); });
    op.cancel();
    auto f = outcome.get_future();
    REQUIRE(f.wait_for(120s) == std::future_status::ready);
    std::exception_ptr e = f.get();
    REQUIRE(e);
    CHECK_THROWS_AS(std::rethrow_exception(e), Cancelled);
    CHECK(c.to_json() == snapshot);
  }

  // A member on another host (a key of its own in the DCS): named, never sent our credentials.
  const std::string ghost_key = "/service/" + name + "/members/ghost";
  const std::string ghost = R"({"api_url": "http://127.0.0.1:)" + std::to_string(etcd.client_port) +
                            R"(/patroni", "conn_url": "postgres://127.0.0.3:5432/postgres", "state": "running", "role": "replica"})";
  CHECK(etcdctl(etcd, "put " + ghost_key + " '" + ghost + "'").find("OK") != std::string::npos);
  try {
    c.restart(*env, "ghost");
    FAIL("a member on another host was restarted");
  } catch (const StateError& e) {
    CHECK(std::string(e.what()).find("member 'ghost'") != std::string::npos);
    CHECK(std::string(e.what()).find("not on this host") != std::string::npos);
  }
  try {
    c.reinit(*env, "ghost");
    FAIL("a member on another host was reinitialized");
  } catch (const StateError& e) {
    CHECK(std::string(e.what()).find("member 'ghost'") != std::string::npos);
  }
  const double pg1_3 = started(env, "pg1"), pg2_3 = started(env, "pg2");
  try {
    c.restart_all(*env);
    FAIL("a rolling restart went on with a member on another host");
  } catch (const StateError& e) {
    CHECK(std::string(e.what()).find("ghost") != std::string::npos);
  }
  CHECK(started(env, "pg1") == pg1_3);  // nothing restarted
  CHECK(started(env, "pg2") == pg2_3);
  etcdctl(etcd, "del " + ghost_key);

  // The DCS lost: through a member, what is still known and the DCS's error; from the DCS, an error.
  etcd.stop();
  Cluster blind = Cluster::of(*env, InstanceRef::parse("pg1"));
  CHECK(blind.dcs_error());
  CHECK(names(blind).count("pg1"));
  try {
    Cluster::from_dcs(*env, name);
    FAIL("from_dcs without a DCS");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::dcs);
  }
  etcd.start();
  CHECK(eventually(60s, [&] {
    Cluster now = Cluster::of(*env, InstanceRef::parse("pg1"));
    const auto* replica = find(now, "pg1");
    return !now.dcs_error() && now.leader() && replica && replica->health == std::optional<std::string>("streaming");
  }));

  // From the DCS, actions go through a member of this host whose Patroni runs.
  stop_instance(*env, InstanceRef::parse("pg1"));
  Cluster via_running = Cluster::from_dcs(*env, name);
  REQUIRE(via_running.local_member());
  CHECK(via_running.local_member()->str() == "15/pg2");

  // Remove: refused while members live or are configured here; accepted once they are dropped.
  CHECK_THROWS_AS(c.remove(*env), StateError);
  CHECK_THROWS_AS(Cluster::named(name).remove(*env), StateError);
  drop_instance(*env, InstanceRef::parse("pg1"));
  drop_instance(*env, InstanceRef::parse("pg2"));
  Cluster gone = Cluster::named(name);
  CHECK_THROWS_AS(gone.pause(*env), StateError);  // no member on this host left
  // A member alive elsewhere (its API answers: here etcd's port answers any GET) holds the keys.
  CHECK(etcdctl(etcd, "put " + ghost_key + " '" + ghost + "'").find("OK") != std::string::npos);
  try {
    gone.remove(*env);
    FAIL("a cluster with a live member was removed");
  } catch (const StateError& e) {
    CHECK(std::string(e.what()).find("ghost") != std::string::npos);
  }
  etcdctl(etcd, "del " + ghost_key);
  // Password values of the dynamic configuration never show.
  CHECK(etcdctl(etcd, "put /service/" + name + R"(/config '{"ttl": 10, "standby_cluster": {"password": "s3cret-canary"}}')")
            .find("OK") != std::string::npos);
  Cluster keys_only = Cluster::from_dcs(*env, name);
  CHECK(keys_only.dynamic_configuration().find("s3cret-canary") == std::string::npos);
  CHECK(keys_only.to_json().find("s3cret-canary") == std::string::npos);
  CHECK(keys_only.dynamic_configuration().find("**********") != std::string::npos);
  CHECK(!keys_only.local_member());
  gone.remove(*env);
  CHECK(etcd.keys("/service/" + name + "/").empty());
  CHECK(gone.members().empty());
  CHECK_THROWS_AS(Cluster::from_dcs(*env, name), NotFound);
}
