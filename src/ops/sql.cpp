#include "ops/sql.hpp"

#include "core/text.hpp"
#include "ops/instance_ops.hpp"
#include "ops/lookup.hpp"
#include "patroni/config.hpp"
#include "patroni/member.hpp"
#include "patroni/rest.hpp"

namespace pglift::ops::sql {

Target running(const Settings&, const postgres::Layout& layout) {
  auto pm = postgres::running_postmaster(layout);
  if (!pm || pm->port <= 0) throw StateError("instance " + layout.display() + " is not running: start it first");
  return Target{layout, pm->port};
}


awaitable<Running> hold_running(const core::Op& op, const InstanceRef& ref) {
  Running r{lookup(op.settings, ref), nullptr, {}, false};
  const postgres::Layout& l = r.layout;
  auto port = [&]() -> int {
    auto pm = postgres::running_postmaster(l);
    return pm && pm->port > 0 ? pm->port : 0;
  };
  r.lock = std::make_unique<InstanceLock>(op.settings, l.qualname(), InstanceLock::Shared{});
  if (int p = port()) {
    r.target = Target{l, p};
    co_return r;
  }
  r.lock.reset();  // exclusive from here: a start and a stop are made under it
  r.lock = std::make_unique<InstanceLock>(op.settings, l.qualname());
  if (int p = port()) {  // started meanwhile
    r.target = Target{l, p};
    co_return r;
  }
  const std::string stopped = "instance " + l.display() + " is not running";
  if (op.settings.patroni && patroni::is_member(op.settings, l))
    throw StateError(stopped + ": start it first (a Patroni member is not started for one operation: it could become the leader)");
  if (op.dry_run) throw StateError(stopped + ": start it first (a dry run does not start it)");
  co_await start_for(op, l, "this operation");
  r.started_here = true;
  r.target = running(op.settings, l);
  co_return r;
}

awaitable<void> start_for(const core::Op& op, const postgres::Layout& l, const std::string& purpose) {
  op.info("instance " + l.display() + " is not running: starting it for " + purpose + " (it is stopped again after it)",
          "pglift.postgresql");
  StartOptions options;
  co_await start(op, l, options);
}

awaitable<void> stop_after(const core::Op& op, const postgres::Layout& l) {
  co_await asio::this_coro::reset_cancellation_state(core::no_cancellation);
  co_await stop(op, l, StopMode::fast);
}

namespace {

/// "host=a port=5433 user=..." -> "a:5433" (what a standby follows); empty when it says nothing.
std::string primary_of(const std::string& conninfo) {
  std::string host, port;
  for (const auto& word : core::split(conninfo, ' ')) {
    auto eq = word.find('=');
    if (eq == std::string::npos) continue;
    std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') value = value.substr(1, value.size() - 2);
    if (key == "host" || key == "hostaddr") host = value;
    else if (key == "port") port = value;
  }
  if (host.empty()) return {};
  return port.empty() ? host : host + ":" + port;
}

}  // namespace

awaitable<void> require_primary(const core::Op& op, const Target& target) {
  auto ask = [](postgres::Session& s) {
    auto rows = s.query("SELECT pg_is_in_recovery(), current_setting('primary_conninfo')");
    return std::pair<bool, std::string>{rows.at(0)[0] == "t", rows.at(0)[1].value_or("")};
  };
  auto [standby, primary_conninfo] = co_await with_session(op, target, ask);
  if (!standby) co_return;
  const std::string what = "instance " + target.layout.display() + " is a read-only standby";
  if (op.settings.patroni && patroni::is_member(op.settings, target.layout)) {
    const auto& ps = *op.settings.patroni;
    patroni::Member member = patroni::member_of(patroni::read(patroni::Files::of(ps, target.layout).config));
    patroni::Rest rest(ps, member);
    auto members = co_await rest.cluster();
    for (const auto& m : members)
      if (m.role == "leader")
        throw ReadOnly(what + ": write on the leader of cluster '" + member.cluster + "', " + m.name + " (" + m.host + ":" +
                       std::to_string(m.port) + ")");
    throw ReadOnly(what + ": cluster '" + member.cluster + "' has no leader at the moment");
  }
  std::string primary = primary_of(primary_conninfo);
  throw ReadOnly(what + (primary.empty() ? std::string(": write on its primary") : ": write on its primary, " + primary));
}

}  // namespace pglift::ops::sql
