// pglift::Cluster: a Patroni cluster observed through a member of this host (patroni_view) or from the
// DCS alone, and the cluster-wide operations. Switchover, failover and pause are the member operations
// of patroni_ops; restart goes through patroni_ops' restart of the member concerned; reinit and remove
// are here. Unsafe REST calls only ever go to a member configured on this host (patroni::Rest's rule).
#include "pglift/cluster.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include "core/coro.hpp"
#include "core/patroni_json.hpp"
#include "core/text.hpp"
#include "core/value.hpp"
#include "ops/context_impl.hpp"
#include "ops/lock.hpp"
#include "ops/lookup.hpp"
#include "ops/patroni_config.hpp"
#include "ops/patroni_ops.hpp"
#include "ops/patroni_view.hpp"
#include "patroni/config.hpp"
#include "patroni/member.hpp"
#include "patroni/rest.hpp"
#include "postgres/layout.hpp"

namespace pglift {
using namespace std::chrono_literals;
using postgres::Layout;

namespace {

const PatroniSettings& patroni_settings(const Settings& settings) {
  if (!settings.patroni) throw Unsupported("Patroni is not enabled in site settings ('patroni' key)");
  return *settings.patroni;
}

/// A member of a cluster configured on this host, as its Patroni configuration tells.
struct LocalMember {
  Layout layout;
  patroni::Files files;
  patroni::Member member;
};

/// The members of `cluster` on this host (unreadable configurations skipped).
std::vector<LocalMember> local_members(const Settings& settings, const std::string& cluster) {
  std::vector<LocalMember> out;
  if (!settings.patroni) return out;
  for (const auto& l : postgres::find_instances(settings)) {
    if (!patroni::is_member(settings, l)) continue;
    try {
      auto files = patroni::Files::of(*settings.patroni, l);
      auto member = patroni::member_of(patroni::read(files.config));
      if (member.cluster == cluster) out.push_back({l, std::move(files), std::move(member)});
    } catch (const std::exception&) {
    }
  }
  return out;
}

/// The dynamic configuration as JSON, its secrets redacted as a member's configuration's are (a standby
/// cluster's or parameters' secrets may be there).
std::string redacted_json(core::Value v) {
  ops::redact_patroni_secrets(v);
  return core::to_json(v);
}

/// [[timeline, lsn, reason, timestamp, new_leader], ...]; lines that are not [int, int >= 0, ...] skipped.
std::vector<ClusterHistoryEntry> history_of(const core::Value& doc) {
  std::vector<ClusterHistoryEntry> out;
  if (!doc.is_array()) return out;
  for (const auto& line : doc.as_array()) {
    if (!line.is_array()) continue;
    const auto& f = line.as_array();
    if (f.size() < 2 || !f[0].is_int() || !f[1].is_int() || f[1].as_int() < 0) continue;
    ClusterHistoryEntry e;
    e.timeline = f[0].as_int();
    e.lsn = f[1].as_int();
    if (f.size() > 2 && f[2].is_string()) e.reason = f[2].as_string();
    if (f.size() > 3 && f[3].is_string()) e.timestamp = f[3].as_string();
    if (f.size() > 4 && f[4].is_string()) e.new_leader = f[4].as_string();
    out.push_back(std::move(e));
  }
  return out;
}

bool pause_of(const std::optional<core::Value>& doc) {
  const core::Value* p = doc && doc->is_object() ? doc->find("pause") : nullptr;
  return p && p->is_bool() && p->as_bool();
}

std::string string_field(const std::optional<core::Value>& doc, const char* key) {
  const core::Value* v = doc && doc->is_object() ? doc->find(key) : nullptr;
  return v && v->is_string() ? v->as_string() : std::string();
}

/// What an operation started on a Cluster needs of it: copied when it starts (the object itself is
/// only written once the operation has succeeded).
struct Target {
  std::string name;
  std::optional<InstanceRef> local;
  bool via_member = false;
};

}  // namespace

struct Cluster::Access {
  static Target target(const Cluster& c) { return {c.name_, c.local_member_, c.via_member_}; }

  static awaitable<Cluster> observe_member(const core::Op& op, const Layout& l) {
    // A plain instance is a state (not a member), whether or not the site enables Patroni.
    if (!patroni::is_member(op.settings, l)) throw StateError("instance " + l.display() + " is not managed by Patroni");
    const auto& ps = patroni_settings(op.settings);
    const auto files = patroni::Files::of(ps, l);
    const core::Value config = patroni::read(files.config);
    const patroni::Member member = patroni::member_of(config);
    const patroni::Rest rest(ps, member);
    const ops::patroni_member::ViewSource source{ps, files, config, member, rest};
    ops::patroni_member::ClusterView view = co_await ops::patroni_member::view_cluster(op, source);
    Cluster c;
    c.name_ = member.cluster;
    c.local_member_ = InstanceRef{l.name, l.version};
    c.via_member_ = true;
    c.dcs_error_ = view.dcs_error;
    const bool api = view.state == "running";
    c.source_ = api ? "rest" : "dcs";
    c.members_ = std::move(view.members);
    std::optional<core::Value> dynamic = view.dynamic_config;
    std::optional<core::Value> history;
    if (api) {  // GETs to our own member's API
      if (!dynamic) dynamic = co_await rest.get_json("/config", 2s);
      history = co_await rest.get_json("/history", 2s);
    }
    if (!history && !c.dcs_error_) {  // its Patroni is down: the DCS's copy
      auto etcd = patroni::etcd(ps);
      const std::string key = patroni::dcs_prefix(member.cluster) + "history";
      try {
        auto keys = co_await etcd.get_prefix(key);
        if (auto text = patroni::key_value(keys, key)) history = core::parse_json(*text);
      } catch (const core::ParseError&) {
      } catch (const Error& e) {
        if (e.code() == ErrorCode::cancelled) throw;
        c.dcs_error_ = e.what();  // lost since view_cluster asked it: said, not fatal
      }
    }
    c.paused_ = view.own_status ? pause_of(view.own_status) : pause_of(dynamic);
    if (dynamic) c.dynamic_configuration_ = redacted_json(*dynamic);
    if (history) c.history_ = history_of(*history);
    co_return c;
  }

  static awaitable<Cluster> observe_dcs(const core::Op& op, const std::string& name) {
    core::validate_patroni_name("cluster", name);
    const auto& ps = patroni_settings(op.settings);
    auto etcd = patroni::etcd(ps);
    const std::string prefix = patroni::dcs_prefix(name);
    const dcs::KeyValues keys = co_await etcd.get_prefix(prefix);
    if (keys.empty()) throw NotFound("cluster", name, "the DCS holds no key under " + prefix);
    Cluster c;
    c.name_ = name;
    c.source_ = "dcs";
    const auto leader = patroni::key_value(keys, prefix + "leader");
    for (const auto& [k, value] : keys)
      if (k.starts_with(prefix + "members/")) {
        const std::string node = k.substr((prefix + "members/").size());
        c.members_.push_back(ops::patroni_member::member_from_dcs(node, value, leader && *leader == node));
      }
    auto parsed = [&](const char* key) -> std::optional<core::Value> {
      auto text = patroni::key_value(keys, prefix + key);
      if (!text) return std::nullopt;
      try {
        return core::parse_json(*text);
      } catch (const core::ParseError&) {
        return std::nullopt;
      }
    };
    const auto dynamic = parsed("config");
    if (dynamic) c.dynamic_configuration_ = redacted_json(*dynamic);
    c.paused_ = pause_of(dynamic);
    if (const auto history = parsed("history")) c.history_ = history_of(*history);
    // The member actions go through: one whose Patroni runs, else any.
    auto locals = local_members(op.settings, name);
    std::stable_partition(locals.begin(), locals.end(), [](const LocalMember& m) { return patroni::running(m.files).has_value(); });
    if (!locals.empty()) c.local_member_ = InstanceRef{locals.front().layout.name, locals.front().layout.version};
    co_return c;
  }

  static awaitable<Cluster> observe(const core::Op& op, const Target& t) {
    if (t.via_member && t.local) {
      const Layout l = ops::lookup(op.settings, *t.local);
      co_return co_await observe_member(op, l);
    }
    co_return co_await observe_dcs(op, t.name);
  }

  /// After a successful action: the new snapshot into `self`. An observation that fails then is a
  /// warning, not the action's failure (it was done and observed); the snapshot stays as it was.
  static awaitable<void> refreshed(const core::Op& op, const Target& t, Cluster* self) {
    try {
      Cluster now = co_await observe(op, t);
      *self = std::move(now);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::cancelled) throw;
      op.warning("cluster '" + t.name + "' could not be observed after the operation: " + e.what(), "pglift.patroni");
    }
  }

  static Cluster removed(const Target& t) {
    Cluster c;
    c.name_ = t.name;
    return c;
  }
};

namespace {

using Access = Cluster::Access;

/// What a designated or stale snapshot leaves to find when the operation runs: the name of the cluster
/// of a member (through()), a member of this host of a cluster known by name (named(), from_dcs()).
Target resolved(const core::Op& op, Target t) {
  if (t.via_member && t.local && t.name.empty()) {
    const Layout l = ops::lookup(op.settings, *t.local);
    if (!patroni::is_member(op.settings, l)) throw StateError("instance " + l.display() + " is not managed by Patroni");
    t.name = patroni::member_of(patroni::read(patroni::Files::of(patroni_settings(op.settings), l).config)).cluster;
  }
  if (!t.via_member) {
    core::validate_patroni_name("cluster", t.name);
    auto locals = local_members(op.settings, t.name);
    std::stable_partition(locals.begin(), locals.end(), [](const LocalMember& m) { return patroni::running(m.files).has_value(); });
    t.local = locals.empty() ? std::nullopt : std::optional(InstanceRef{locals.front().layout.name, locals.front().layout.version});
  }
  return t;
}

/// The member of this host actions go through.
Layout through_member(const core::Op& op, const Target& t, const std::string& action) {
  if (!t.local)
    throw StateError("cluster '" + t.name + "' has no member on this host: " + action +
                     " needs one (its Patroni configuration holds the REST API's credentials, which are never sent to an "
                     "address read from the DCS)");
  Layout l = ops::lookup(op.settings, *t.local);
  if (!patroni::is_member(op.settings, l)) throw StateError("instance " + l.display() + " is not managed by Patroni");
  return l;
}

/// The instance of this host that is member `member` of the cluster `now`: InvalidSpec("member") when it
/// is no member, StateError naming it when it is on another host.
Layout member_here(const core::Op& op, const Cluster& now, const std::string& member, const std::string& action) {
  core::validate_patroni_name("member", member);
  for (auto& m : local_members(op.settings, now.name()))
    if (m.member.node == member) return m.layout;
  const auto it = std::find_if(now.members().begin(), now.members().end(), [&](const ClusterMember& m) { return m.name == member; });
  if (it == now.members().end()) throw InvalidSpec("member", member, "not a member of cluster '" + now.name() + "'");
  throw StateError("member '" + member + "' of cluster '" + now.name() + "' is not on this host" +
                   (it->api_url ? " (its REST API: " + *it->api_url + ")" : std::string()) + ": " + action +
                   " it from its own host (credentials are never sent to an address read from the DCS)");
}

/// Until the member's Patroni reports its PostgreSQL running (after a restart: POST /restart answers
/// when PostgreSQL is back, the state follows within a HA loop).
awaitable<void> wait_running(const core::Op& op, const Layout& l) {
  const auto& ps = patroni_settings(op.settings);
  const auto files = patroni::Files::of(ps, l);
  const patroni::Rest rest(ps, patroni::member_of(patroni::read(files.config)));
  std::string last = "no answer";
  auto running = [&]() -> awaitable<bool> {
    auto s = co_await rest.status(1s);
    last = s ? "state " + string_field(s, "state") : "no answer from " + rest.url();
    co_return s && string_field(s, "state") == "running";
  };
  auto alive = [&l, &files] {
    if (!patroni::running(files)) throw StateError("Patroni " + l.qualname() + " exited while waiting\n" + patroni::log_tails(l, files));
  };
  // Named: g++ 12 mishandles class-type temporaries inside a co_await expression.
  std::function<void()> fail_fast = alive;
  std::function<std::string()> why = [&last] { return "last seen: " + last; };
  std::string reason = "PostgreSQL " + l.display() + " running under Patroni";
  const auto deadline = core::Clock::now() + 60s;
  co_await core::wait_until(deadline, std::move(reason), running, std::move(fail_fast), std::move(why));
}

/// The caller holds the member's lock.
awaitable<void> restart_locked(const core::Op& op, const Layout& l) {
  co_await ops::patroni_member::restart(op, l);
  co_await wait_running(op, l);
}

awaitable<void> restart_member(const core::Op& op, const Layout& l) {
  ops::InstanceLock lock(op.settings, l.qualname());
  co_await restart_locked(op, l);
}

awaitable<void> restart_one(const core::Op& op, const Target& t, const std::string& member) {
  Cluster now = co_await Access::observe(op, t);
  const Layout l = member_here(op, now, member, "restart");
  co_await restart_member(op, l);
}

awaitable<void> restart_all(const core::Op& op, const Target& t) {
  through_member(op, t, "a rolling restart");
  Cluster now = co_await Access::observe(op, t);
  const auto leader = now.leader();
  std::vector<std::string> order;
  for (const auto& m : now.members())
    if (!leader || m.name != *leader) order.push_back(m.name);
  if (leader) order.push_back(*leader);
  std::vector<LocalMember> here = local_members(op.settings, now.name());
  std::vector<Layout> layouts;
  std::vector<std::string> elsewhere;
  for (const auto& name : order) {
    auto it = std::find_if(here.begin(), here.end(), [&](const LocalMember& m) { return m.member.node == name; });
    if (it == here.end()) elsewhere.push_back(name);
    else layouts.push_back(it->layout);
  }
  if (!elsewhere.empty())
    throw StateError("cannot restart every member of cluster '" + now.name() + "': member(s) " + core::join(elsewhere, ", ") +
                     " not on this host (credentials are never sent to an address read from the DCS); nothing was restarted");
  // Every member's lock first: Busy before anything is restarted, and nobody else acts in between.
  std::vector<std::unique_ptr<ops::InstanceLock>> locks;
  for (const auto& l : layouts) locks.push_back(std::make_unique<ops::InstanceLock>(op.settings, l.qualname()));
  for (size_t i = 0; i < layouts.size(); ++i) {
    op.info("restarting member '" + order[i] + "' of cluster '" + now.name() + "' (" + std::to_string(i + 1) + "/" +
                std::to_string(layouts.size()) + (leader && order[i] == *leader ? ", the leader" : "") + ")",
            "pglift.patroni");
    co_await restart_locked(op, layouts[i]);
  }
}

awaitable<void> reinit(const core::Op& op, const Target& t, const std::string& member) {
  const auto& ps = patroni_settings(op.settings);
  Cluster now = co_await Access::observe(op, t);
  const Layout l = member_here(op, now, member, "reinitialize");
  if (now.leader() == member)
    throw StateError("member '" + member + "' is the leader of cluster '" + now.name() +
                     "': only a replica can be reinitialized (switch over first)");
  ops::InstanceLock lock(op.settings, l.qualname());
  const auto files = patroni::Files::of(ps, l);
  const core::Value config = patroni::read(files.config);
  const patroni::Member me = patroni::member_of(config);
  const patroni::Rest rest(ps, me);
  const auto before = co_await rest.status();
  if (!before) throw StateError("REST API of Patroni " + l.qualname() + " is unreachable at " + rest.url() + "; is the instance running?");
  const std::string old_start = string_field(before, "postmaster_start_time");
  op.info("reinitializing member '" + member + "' of cluster '" + now.name() + "'", "pglift.patroni");
  const core::Value body = core::Object{};
  auto r = co_await rest.call("POST", "/reinitialize", body, 30s);
  if (r.status != 200)
    throw StateError("reinitialize of member '" + member + "' failed: HTTP " + std::to_string(r.status) + ": " + core::trim(r.body));
  // Done when its PostgreSQL, started anew on the cloned data, streams from the leader again.
  const ops::patroni_member::ViewSource source{ps, files, config, me, rest};
  std::string last = "not restarted yet";
  auto streaming = [&]() -> awaitable<bool> {
    auto s = co_await rest.status(1s);
    const std::string start = string_field(s, "postmaster_start_time");
    if (!s || start.empty() || start == old_start || string_field(s, "state") != "running") {
      last = s ? "state " + string_field(s, "state") : "no answer from " + rest.url();
      co_return false;
    }
    auto view = co_await ops::patroni_member::view_cluster(op, source);
    const int i = view.index_of(member);
    if (i < 0) {
      last = "not in the cluster";
      co_return false;
    }
    last = view.assessments[static_cast<size_t>(i)].reason;
    co_return view.assessments[static_cast<size_t>(i)].health == patroni::Health::streaming;
  };
  auto alive = [&l, &files] {
    if (!patroni::running(files)) throw StateError("Patroni " + l.qualname() + " exited while waiting\n" + patroni::log_tails(l, files));
  };
  std::function<void()> fail_fast = alive;
  std::function<std::string()> why = [&last] { return "last seen: " + last; };
  std::string reason = "member '" + member + "' reinitialized and streaming from the leader";
  const auto deadline = core::Clock::now() + std::chrono::seconds(ps.create_timeout);
  const core::Clock::duration max_interval = 250ms;
  co_await core::wait_until(deadline, std::move(reason), streaming, std::move(fail_fast), std::move(why), max_interval);
  op.info("member '" + member + "' reinitialized: it streams from the leader", "pglift.patroni");
}

awaitable<void> remove(const core::Op& op, const Target& t) {
  const auto& ps = patroni_settings(op.settings);
  core::validate_patroni_name("cluster", t.name);
  std::vector<std::string> here;
  for (const auto& m : local_members(op.settings, t.name)) here.push_back(m.member.node + " (" + m.layout.display() + ")");
  if (!here.empty())
    throw StateError("cannot remove cluster '" + t.name + "': member(s) " + core::join(here, ", ") +
                     " still configured on this host (drop them first)");
  auto alive = co_await ops::patroni_member::alive_members(ps, t.name);
  if (!alive.empty())
    throw StateError("cannot remove cluster '" + t.name + "': member(s) " + core::join(alive, ", ") + " still alive");
  auto etcd = patroni::etcd(ps);
  const auto n = co_await etcd.delete_prefix(patroni::dcs_prefix(t.name));
  op.info("removed cluster '" + t.name + "' from the DCS (" + std::to_string(n) + " keys)", "pglift.patroni");
}

/// The body of an action on `self`: run, then the snapshot refreshed.
template <class T, class Action>
auto action_body(Cluster* self, Action action) {
  return [self, target = Access::target(*self), action = std::move(action)](const core::Op& op) mutable -> awaitable<T> {
    const Target t = resolved(op, target);
    if constexpr (std::is_void_v<T>) {
      co_await action(op, t);
      co_await Access::refreshed(op, t, self);
    } else {
      T result = co_await action(op, t);
      co_await Access::refreshed(op, t, self);
      co_return result;
    }
  };
}

auto switchover_body(Cluster* self, SwitchoverOptions options) {
  return action_body<TopologyResult>(self, [options = std::move(options)](const core::Op& op, const Target& t) -> awaitable<TopologyResult> {
    const Layout l = through_member(op, t, "a switchover");
    ops::InstanceLock lock(op.settings, l.qualname());
    co_return co_await ops::patroni_member::switchover(op, l, options);
  });
}
auto failover_body(Cluster* self, std::string candidate) {
  return action_body<TopologyResult>(self, [candidate = std::move(candidate)](const core::Op& op, const Target& t) -> awaitable<TopologyResult> {
    core::validate_patroni_name("candidate", candidate);
    const Layout l = through_member(op, t, "a failover");
    ops::InstanceLock lock(op.settings, l.qualname());
    co_return co_await ops::patroni_member::failover(op, l, candidate);
  });
}
auto pause_body(Cluster* self, bool pause) {
  return action_body<void>(self, [pause](const core::Op& op, const Target& t) -> awaitable<void> {
    const Layout l = through_member(op, t, pause ? "pause" : "resume");
    ops::InstanceLock lock(op.settings, l.qualname());
    co_await ops::patroni_member::pause(op, l, pause);
  });
}
auto restart_body(Cluster* self, std::string member) {
  return action_body<void>(self, [member = std::move(member)](const core::Op& op, const Target& t) -> awaitable<void> {
    through_member(op, t, "a restart");
    co_await restart_one(op, t, member);
  });
}
auto restart_all_body(Cluster* self) {
  return action_body<void>(self, [](const core::Op& op, const Target& t) { return restart_all(op, t); });
}
auto reinit_body(Cluster* self, std::string member) {
  return action_body<void>(self, [member = std::move(member)](const core::Op& op, const Target& t) -> awaitable<void> {
    through_member(op, t, "a reinitialization");
    co_await reinit(op, t, member);
  });
}
auto remove_body(Cluster* self) {
  return [self, target = Access::target(*self)](const core::Op& op) -> awaitable<void> {
    const Target t = resolved(op, target);
    co_await remove(op, t);
    *self = Access::removed(t);
  };
}
auto refresh_body(Cluster* self) {
  return [self, target = Access::target(*self)](const core::Op& op) -> awaitable<void> {
    const Target t = resolved(op, target);
    Cluster now = co_await Access::observe(op, t);
    *self = std::move(now);
  };
}
auto of_body(InstanceRef member) {
  return [member = std::move(member)](const core::Op& op) -> awaitable<Cluster> {
    const Layout l = ops::lookup(op.settings, member);
    co_return co_await Access::observe_member(op, l);
  };
}
auto from_dcs_body(std::string name) {
  return [name = std::move(name)](const core::Op& op) -> awaitable<Cluster> { co_return co_await Access::observe_dcs(op, name); };
}

}  // namespace

Cluster Cluster::through(InstanceRef member) {
  Cluster c;
  c.local_member_ = std::move(member);
  c.via_member_ = true;
  return c;
}
Cluster Cluster::named(std::string name) {
  core::validate_patroni_name("cluster", name);
  Cluster c;
  c.name_ = std::move(name);
  return c;
}

std::optional<std::string> Cluster::leader() const {
  for (const auto& m : members_)
    if (m.role == "leader" || m.role == "standby_leader") return m.name;
  return std::nullopt;
}

std::string Cluster::to_json() const {
  core::Array members, history;
  for (const auto& m : members_) members.push_back(core::cluster_member_value(m));
  for (const auto& h : history_) {
    core::Object e{{"timeline", h.timeline}, {"lsn", h.lsn}, {"reason", h.reason}};
    e.emplace_back("timestamp", h.timestamp ? core::Value(*h.timestamp) : core::Value(nullptr));
    e.emplace_back("new_leader", h.new_leader ? core::Value(*h.new_leader) : core::Value(nullptr));
    history.push_back(std::move(e));
  }
  const auto lead = leader();
  core::Object o{{"name", name_}, {"leader", lead ? core::Value(*lead) : core::Value(nullptr)}, {"paused", paused_}, {"source", source_}};
  o.emplace_back("local_member", local_member_ ? core::Value(local_member_->str()) : core::Value(nullptr));
  o.emplace_back("members", std::move(members));
  o.emplace_back("history", std::move(history));
  core::Value dynamic = core::Object{};
  try {
    dynamic = core::parse_json(dynamic_configuration_);
  } catch (const core::ParseError&) {
  }
  o.emplace_back("dynamic_configuration", std::move(dynamic));
  if (dcs_error_) o.emplace_back("dcs_error", *dcs_error_);
  return core::to_json(core::Value(std::move(o)));
}

Cluster Cluster::of(Context& ctx, const InstanceRef& member) { return ctx.impl().run<Cluster>(of_body(member)); }
Cluster Cluster::from_dcs(Context& ctx, const std::string& name) { return ctx.impl().run<Cluster>(from_dcs_body(name)); }
TopologyResult Cluster::switchover(Context& ctx, const SwitchoverOptions& options) {
  return ctx.impl().run<TopologyResult>(switchover_body(this, options));
}
TopologyResult Cluster::failover(Context& ctx, const std::string& candidate) {
  return ctx.impl().run<TopologyResult>(failover_body(this, candidate));
}
void Cluster::pause(Context& ctx) { ctx.impl().run<void>(pause_body(this, true)); }
void Cluster::resume(Context& ctx) { ctx.impl().run<void>(pause_body(this, false)); }
void Cluster::restart(Context& ctx, const std::string& member) { ctx.impl().run<void>(restart_body(this, member)); }
void Cluster::restart_all(Context& ctx) { ctx.impl().run<void>(restart_all_body(this)); }
void Cluster::reinit(Context& ctx, const std::string& member) { ctx.impl().run<void>(reinit_body(this, member)); }
void Cluster::remove(Context& ctx) { ctx.impl().run<void>(remove_body(this)); }
void Cluster::refresh(Context& ctx) { ctx.impl().run<void>(refresh_body(this)); }

Operation Cluster::start_switchover(Context& ctx, SwitchoverOptions options, Callback<TopologyResult> done, OpOptions op) {
  return ctx.impl().launch<TopologyResult>(op, switchover_body(this, std::move(options)), std::move(done));
}
Operation Cluster::start_failover(Context& ctx, std::string candidate, Callback<TopologyResult> done, OpOptions op) {
  return ctx.impl().launch<TopologyResult>(op, failover_body(this, std::move(candidate)), std::move(done));
}
Operation Cluster::start_pause(Context& ctx, bool pause, Callback<> done, OpOptions op) {
  return ctx.impl().launch<void>(op, pause_body(this, pause), std::move(done));
}
Operation Cluster::start_restart(Context& ctx, std::string member, Callback<> done, OpOptions op) {
  return ctx.impl().launch<void>(op, restart_body(this, std::move(member)), std::move(done));
}
Operation Cluster::start_restart_all(Context& ctx, Callback<> done, OpOptions op) {
  return ctx.impl().launch<void>(op, restart_all_body(this), std::move(done));
}
Operation Cluster::start_reinit(Context& ctx, std::string member, Callback<> done, OpOptions op) {
  return ctx.impl().launch<void>(op, reinit_body(this, std::move(member)), std::move(done));
}
Operation Cluster::start_remove(Context& ctx, Callback<> done, OpOptions op) {
  return ctx.impl().launch<void>(op, remove_body(this), std::move(done));
}
Operation Cluster::start_refresh(Context& ctx, Callback<> done, OpOptions op) {
  return ctx.impl().launch<void>(op, refresh_body(this), std::move(done));
}
namespace {
const InstanceRef& watched_member(const std::optional<InstanceRef>& local, const std::string& name) {
  if (!local)
    throw StateError("cluster '" + name + "' has no member on this host known to this snapshot: watching needs one "
                     "(its Patroni configuration names the cluster's keys); observe it first (of, from_dcs, refresh)");
  return *local;
}
}  // namespace
void Cluster::watch(Context& ctx, const std::function<bool(const ClusterEvent&)>& on_event) const {
  watch_cluster(ctx, watched_member(local_member_, name_), on_event);
}
Operation Cluster::start_watch(Context& ctx, std::function<void(const ClusterEvent&)> on_event, Callback<> done,
                               OpOptions op) const {
  return start_watch_cluster(ctx, watched_member(local_member_, name_), std::move(on_event), std::move(done), op);
}

Operation start_cluster_of(Context& ctx, InstanceRef member, Callback<Cluster> done, OpOptions op) {
  return ctx.impl().launch<Cluster>(op, of_body(std::move(member)), std::move(done));
}
Operation start_cluster_from_dcs(Context& ctx, std::string name, Callback<Cluster> done, OpOptions op) {
  return ctx.impl().launch<Cluster>(op, from_dcs_body(std::move(name)), std::move(done));
}

}  // namespace pglift
