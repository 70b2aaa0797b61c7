// watch_cluster on a real two-member Patroni cluster: the current state first, then a switchover as
// leader_changed and role_changed in order, pause and resume; an etcd restart mid-watch is resumed
// (the resume after it is seen); cancelling ends the watch; the blocking and Asio-token faces.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>

#include "etcd_fixture.hpp"
#include "pglift/async.hpp"
#include "pglift/cluster.hpp"
#include "pglift/cluster_watch.hpp"

using namespace pglift;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {



/// What a watch delivered, for the test thread.
struct Recorder {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<ClusterEvent> events;
  bool ended = false;
  std::exception_ptr error;

  void add(const ClusterEvent& e) {
    std::lock_guard lock(mutex);
    MESSAGE("event: " << to_json(e));
    events.push_back(e);
    changed.notify_all();
  }
  void end(std::exception_ptr e) {
    std::lock_guard lock(mutex);
    ended = true;
    error = e;
    changed.notify_all();
  }
  /// The index of the first event from `from` on matching kind/member/after; -1 after `timeout`.
  long wait_for(std::size_t from, const std::string& kind, const std::string& who,
                const std::optional<std::string>& after, std::chrono::milliseconds timeout = 60s) {
    return wait_for(from, kind, who, std::vector{after}, timeout);
  }
  /// The same, `after` being any of `afters`.
  long wait_for(std::size_t from, const std::string& kind, const std::string& who,
                const std::vector<std::optional<std::string>>& afters, std::chrono::milliseconds timeout = 60s) {
    std::unique_lock lock(mutex);
    long found = -1;
    changed.wait_for(lock, timeout, [&] {
      for (std::size_t i = from; i < events.size(); ++i)
        if (events[i].kind == kind && events[i].member == who &&
            std::find(afters.begin(), afters.end(), events[i].after) != afters.end()) {
          found = static_cast<long>(i);
          return true;
        }
      return ended;
    });
    return found;
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return events.size();
  }
};

}  // namespace

TEST_CASE("a cluster watch: current state, a switchover in order, pause/resume, an etcd restart resumed, cancel ends it") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  const std::string cluster = unique("watched");
  create_instance(*env, member("pg1", cluster, "127.0.1.1"));
  create_instance(*env, member("pg2", cluster, "127.0.1.2"));

  // Blocking: the current state, then on_event's false ends it. on_event runs on this thread: a
  // blocking call in it works (on a library thread it would be refused).
  std::vector<ClusterEvent> initial;
  watch_cluster(*env, InstanceRef::parse("pg2"), [&](const ClusterEvent& e) {
    if (initial.empty()) CHECK(instance_status(*env, InstanceRef::parse("pg1")).postgresql == RunStatus::running);
    initial.push_back(e);
    return e.kind != "leader_changed";
  });
  REQUIRE(initial.size() == 3);
  CHECK(initial[0].kind == "member_added");
  CHECK(initial[0].member == "pg1");
  CHECK(initial[1].member == "pg2");
  CHECK(initial[1].after.has_value());  // "replica", or "uninitialized" until its Patroni reports it
  CHECK(initial[2] == ClusterEvent{"leader_changed", "pg1", std::nullopt, "pg1", initial[2].revision});

  Recorder rec;
  Operation op = start_watch_cluster(
      *env, InstanceRef::parse("pg1"), [&](const ClusterEvent& e) { rec.add(e); }, [&](std::exception_ptr e) { rec.end(e); });
  REQUIRE(rec.wait_for(0, "leader_changed", "pg1", "pg1") >= 0);
  const std::size_t before_switchover = rec.size();

  auto sw = patroni_switchover(*env, InstanceRef::parse("pg1"), {.candidate = "pg2"});
  CHECK(sw.new_leader == "pg2");
  const long leader = rec.wait_for(before_switchover, "leader_changed", "pg2", "pg2");
  // Patroni 3.0 writes "master", later versions "primary".
  const std::vector<std::optional<std::string>> primary{"master", "primary"};
  const long promoted = rec.wait_for(before_switchover, "role_changed", "pg2", primary);
  const long demoted = rec.wait_for(before_switchover, "role_changed", "pg1", "replica");
  REQUIRE(leader >= 0);
  REQUIRE(promoted >= 0);
  REQUIRE(demoted >= 0);
  CHECK(leader < promoted);  // Patroni takes the leader key, then reports its promotion
  {
    std::lock_guard lock(rec.mutex);
    for (std::size_t i = before_switchover + 1; i < rec.events.size(); ++i)
      CHECK(rec.events[i].revision >= rec.events[i - 1].revision);  // in etcd's order
  }

  patroni_pause(*env, InstanceRef::parse("pg1"));
  REQUIRE(rec.wait_for(before_switchover, "paused", "", std::nullopt) >= 0);

  // etcd restarted mid-watch (paused: Patroni demotes nobody meanwhile); the watch resumes from its last
  // revision, so the resume that follows is seen.
  const std::size_t before_restart = rec.size();
  etcd.stop();
  etcd.start();
  CHECK(eventually(30s, [&] {
    try {
      patroni_resume(*env, InstanceRef::parse("pg1"));
      return true;
    } catch (const Error& e) {
      MESSAGE("resume while etcd comes back: " << e.what());
      return false;
    }
  }));
  REQUIRE(rec.wait_for(before_restart, "resumed", "", std::nullopt) >= 0);
  {
    std::lock_guard lock(rec.mutex);
    CHECK_FALSE(rec.ended);
  }

  op.cancel();
  {
    std::unique_lock lock(rec.mutex);
    REQUIRE(rec.changed.wait_for(lock, 10s, [&] { return rec.ended; }));
    CHECK_THROWS_AS(std::rethrow_exception(rec.error), Cancelled);
  }

  // The Asio face: use_future, cancelled through the token's cancellation slot.
  {
    asio::cancellation_signal cancel;
    Recorder tokened;
    auto done = async_watch_cluster(*env, InstanceRef::parse("pg2"), [&](const ClusterEvent& e) { tokened.add(e); },
                                    asio::bind_cancellation_slot(cancel.slot(), asio::use_future));
    REQUIRE(tokened.wait_for(0, "leader_changed", "pg2", "pg2") >= 0);
    cancel.emit(asio::cancellation_type::terminal);
    REQUIRE(done.wait_for(10s) == std::future_status::ready);
    CHECK_THROWS_AS(done.get(), Cancelled);
  }

  // The same through pglift::Cluster (its member on this host): blocking, callback, token.
  {
    const Cluster c = Cluster::of(*env, InstanceRef::parse("pg1"));
    std::vector<ClusterEvent> seen;
    c.watch(*env, [&](const ClusterEvent& e) {
      seen.push_back(e);
      return e.kind != "leader_changed";
    });
    REQUIRE_FALSE(seen.empty());
    CHECK(seen.back() == ClusterEvent{"leader_changed", "pg2", std::nullopt, "pg2", seen.back().revision});

    Recorder member_rec;
    Operation watching = c.start_watch(*env, [&](const ClusterEvent& e) { member_rec.add(e); },
                                       [&](std::exception_ptr e) { member_rec.end(e); });
    REQUIRE(member_rec.wait_for(0, "leader_changed", "pg2", "pg2") >= 0);
    watching.cancel();
    {
      std::unique_lock lock(member_rec.mutex);
      REQUIRE(member_rec.changed.wait_for(lock, 10s, [&] { return member_rec.ended; }));
    }

    asio::cancellation_signal cancel;
    Recorder tokened;
    auto done = async_cluster_watch(*env, c, [&](const ClusterEvent& e) { tokened.add(e); },
                                    asio::bind_cancellation_slot(cancel.slot(), asio::use_future));
    REQUIRE(tokened.wait_for(0, "leader_changed", "pg2", "pg2") >= 0);
    cancel.emit(asio::cancellation_type::terminal);
    REQUIRE(done.wait_for(10s) == std::future_status::ready);
    CHECK_THROWS_AS(done.get(), Cancelled);

    // A cluster designated by name and not observed knows no member to watch through.
    CHECK_THROWS_AS(Cluster::named(cluster).watch(*env, [](const ClusterEvent&) { return false; }), StateError);
  }

  CHECK_THROWS_AS(watch_cluster(*env, InstanceRef::parse("nosuch"), [](const ClusterEvent&) { return false; }), NotFound);
  drop_instance(*env, InstanceRef::parse("pg1"));
  drop_instance(*env, InstanceRef::parse("pg2"), DropOptions{.remove_cluster = true});
}
