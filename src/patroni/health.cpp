#include "patroni/health.hpp"


namespace pglift::patroni {

namespace {
std::optional<std::int64_t> int_at(const core::Value& v, const char* key) {
  const auto* x = v.find(key);
  if (x && x->is_int()) return x->as_int();
  return std::nullopt;
}

bool is_leader_role(const std::string& role) {
  return role == "leader" || role == "standby_leader" || role == "master" || role == "primary";
}

std::string quoted(const std::string& name) { return "'" + name + "'"; }

const char* const rewind_hint = "diverged; it needs a rewind or a reinit";
}  // namespace

std::int64_t max_lag_of(const std::optional<core::Value>& config) {
  if (config && config->is_object())
    if (auto lag = int_at(*config, "maximum_lag_on_failover")) return *lag;
  return 1048576;
}

std::optional<std::int64_t> wal_position(const core::Value& status) {
  const auto* xlog = status.find("xlog");
  if (!xlog || !xlog->is_object()) return std::nullopt;
  if (auto location = int_at(*xlog, "location")) return location;
  auto received = int_at(*xlog, "received_location"), replayed = int_at(*xlog, "replayed_location");
  if (received && replayed) return std::max(*received, *replayed);
  return received ? received : replayed;
}


const char* to_string(Health h) noexcept {
  switch (h) {
    case Health::leader: return "leader";
    case Health::streaming: return "streaming";
    case Health::not_streaming: return "not_streaming";
    case Health::lagging: return "lagging";
    case Health::diverged: return "diverged";
    case Health::stopped: return "stopped";
    case Health::unreachable: return "unreachable";
    case Health::unknown: return "unknown";
  }
  return "unknown";
}

namespace {
/// Timelines: a member ahead of the leader has forked; one behind has forked too when its WAL goes
/// past the point where its timeline ended in the leader's history (pg_rewind's own test).
std::optional<Assessment> timeline_check(const ClusterMember& m, const ClusterMember& leader, const MemberObservation& seen,
                                         const std::vector<HistoryEntry>& history) {
  std::optional<std::int64_t> mine = m.timeline;
  if (seen.status)
    if (auto t = int_at(*seen.status, "timeline")) mine = t;
  if (!mine || !leader.timeline || *mine == *leader.timeline) return std::nullopt;
  const std::string where = "member " + quoted(m.name) + " is on timeline " + std::to_string(*mine) + " while leader " +
                            quoted(leader.name) + " is on timeline " + std::to_string(*leader.timeline);
  if (*mine > *leader.timeline) return Assessment{Health::diverged, where + " (" + rewind_hint + ")"};
  std::optional<std::int64_t> position;
  if (seen.status) position = wal_position(*seen.status);
  for (const auto& h : history)
    if (h.timeline == *mine && position && static_cast<postgres::Lsn>(*position) > h.end)
      return Assessment{Health::diverged, where + ", and its WAL goes on to " + postgres::format_lsn(static_cast<postgres::Lsn>(*position)) + " past the fork at " +
                                              postgres::format_lsn(h.end) + " (" + rewind_hint + ")"};
  return Assessment{Health::not_streaming, where + " (not caught up yet)"};
}

std::optional<Assessment> walreceiver_check(const ClusterMember& m, const ClusterMember& leader, const MemberObservation& seen) {
  if (seen.walreceiver_error)
    return Assessment{Health::unreachable, "PostgreSQL of member " + quoted(m.name) + " cannot be asked for its walreceiver: " +
                                               *seen.walreceiver_error};
  if (!seen.walreceiver) return std::nullopt;
  const WalReceiver& w = *seen.walreceiver;
  if (w.status != "streaming")
    return Assessment{Health::not_streaming, "member " + quoted(m.name) + " does not stream from leader " + quoted(leader.name) +
                                                 " (walreceiver: " + (w.status.empty() ? std::string("none") : w.status) + ")"};
  if (w.received_tli && leader.timeline && *w.received_tli != *leader.timeline)
    return Assessment{*w.received_tli > *leader.timeline ? Health::diverged : Health::not_streaming,
                      "member " + quoted(m.name) + " streams timeline " + std::to_string(*w.received_tli) + " while leader " +
                          quoted(leader.name) + " is on timeline " + std::to_string(*leader.timeline)};
  if (!w.sender_host.empty() && !leader.host.empty() && w.sender_port && leader.port &&
      (w.sender_host != leader.host || *w.sender_port != leader.port))
    return Assessment{Health::not_streaming, "member " + quoted(m.name) + " streams from " + w.sender_host + ":" +
                                                 std::to_string(*w.sender_port) + ", not from leader " + quoted(leader.name) +
                                                 " (" + leader.host + ":" + std::to_string(leader.port) + ")"};
  return std::nullopt;
}
}  // namespace

Assessment assess(const ClusterMember& m, const ClusterMember* leader, const MemberObservation& seen,
                  const std::vector<HistoryEntry>& history, std::int64_t max_lag) {
  if (is_leader_role(m.role)) return {Health::leader, ""};
  const std::string name = quoted(m.name);
  if (m.state == "stopped") return {Health::stopped, "member " + name + " is stopped"};
  if (!seen.api_answers)
    return {Health::unreachable, "the REST API of member " + name + " does not answer" + (m.api_url ? " (" + *m.api_url + ")" : "")};
  if (m.state != "running" && m.state != "streaming")
    return {Health::not_streaming, "member " + name + " is " + (m.state.empty() ? std::string("in an unknown state") : m.state)};
  if (!leader) return {Health::unknown, "the cluster has no leader to compare member " + name + " with"};
  if (auto t = timeline_check(m, *leader, seen, history)) return *t;
  if (auto w = walreceiver_check(m, *leader, seen)) return *w;
  if (!m.lag || !std::holds_alternative<std::int64_t>(*m.lag))
    return {Health::lagging, "the lag of member " + name + " is unknown"};
  if (const auto lag = std::get<std::int64_t>(*m.lag); lag > max_lag)
    return {Health::lagging, "member " + name + " lags " + std::to_string(lag) + " bytes behind leader " + quoted(leader->name) +
                                 " (maximum_lag_on_failover: " + std::to_string(max_lag) + ")"};
  return {Health::streaming, ""};
}

}  // namespace pglift::patroni
