#include "ops/patroni_rejoin.hpp"

#include "core/coro.hpp"
#include "core/value.hpp"
#include "patroni/member.hpp"
#include "patroni/rejoin.hpp"
#include "patroni/rest.hpp"
#include "pglift/errors.hpp"
#include "postgres/control.hpp"
#include "postgres/wal.hpp"

namespace pglift::ops::patroni_member {

using namespace std::chrono_literals;
using postgres::Layout;
using postgres::Lsn;

namespace {

/// The leader as it sees itself: its timeline (live, from its GET /patroni) and its timeline history
/// (GET /history); the DCS's copies (member key, `history` key) when its API does not answer.
struct LeaderView {
  std::optional<int> timeline;  ///< only once it runs as a primary: a promotion under way still reports the old one
  std::vector<patroni::HistoryEntry> history;
};

std::optional<int> primary_timeline_in(const core::Value& v) {
  const auto* t = v.find("timeline");
  const auto* role = v.find("role");
  const auto* state = v.find("state");
  const bool primary = role && role->is_string() && (patroni::is_leader_role(role->as_string()) || role->as_string() == "standby_leader") &&
                       state && state->is_string() && state->as_string() == "running";
  if (primary && t && t->is_int() && t->as_int() > 0) return static_cast<int>(t->as_int());
  return std::nullopt;
}

awaitable<LeaderView> leader_view(const PatroniSettings& ps, const dcs::KeyValues& keys, const std::string& prefix,
                                  const std::string& leader) {
  LeaderView view;
  const std::optional<core::Value> data = patroni::member_data(keys, prefix, leader);
  std::optional<core::Value> status, history;
  const core::Value* api = data ? data->find("api_url") : nullptr;
  if (api && api->is_string()) {
    // Both questions at once; each bounded.
    const patroni::Rest rest = patroni::Rest::from_api_url(ps, api->as_string());
    auto ask_status = [&]() -> awaitable<void> { status = co_await rest.status(2s); };
    auto ask_history = [&]() -> awaitable<void> { history = co_await rest.get_json("/history", 2s); };
    co_await (ask_status() && ask_history());
  }
  if (status) view.timeline = primary_timeline_in(*status);
  if (!view.timeline && data) view.timeline = primary_timeline_in(*data);
  if (history) view.history = patroni::parse_history(*history);
  else if (auto dcs_history = patroni::key_value(keys, prefix + "history")) try {
      view.history = patroni::parse_history_json(*dcs_history);
    } catch (const core::ParseError&) {
    }
  co_return view;
}

}  // namespace

awaitable<std::optional<std::string>> check_rejoin(const core::Op& op, const Layout& l, const patroni::Member& member,
                                                   bool accept_data_loss) {
  const auto& ps = *op.settings.patroni;
  auto etcd = patroni::etcd(ps);
  const std::string prefix = patroni::dcs_prefix(member.cluster);
  dcs::KeyValues keys;
  try {
    keys = co_await etcd.get_prefix(prefix);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::cancelled) throw;
    op.warning("cannot tell whether " + l.display() + " would lose WAL when it rejoins: " + e.what(), "pglift.patroni");
    co_return std::nullopt;
  }
  const auto leader = patroni::key_value(keys, prefix + "leader");
  if (!leader || *leader == member.node) co_return std::nullopt;

  // No control file: Patroni clones the member anew, there is nothing of ours to lose.
  if (!postgres::system_identifier(l)) co_return std::nullopt;
  const auto control = co_await postgres::controldata(op, l);
  int ours = postgres::latest_timeline(l, control);
  // Known when the leader runs as a primary (a promotion under way reports the timeline it leaves) and,
  // when it is on a later timeline than ours, once its history says where ours ended (the leader writes
  // it at its next HA loop after a promotion). Waited for, bounded.
  LeaderView view;
  std::optional<Lsn> fork;
  auto known = [&]() -> awaitable<bool> {
    auto now = co_await etcd.get_prefix(prefix);
    view = co_await leader_view(ps, now, prefix, *leader);
    if (!view.timeline) co_return false;
    co_return ours >= *view.timeline || (fork = patroni::timeline_end(view.history, ours)).has_value();
  };
  if (!co_await known()) {
    // Named: no class temporaries inside the co_await expression (g++ 12).
    const auto deadline = core::Clock::now() + std::chrono::seconds(2 * ps.loop_wait + 10);
    std::string reason = "leader '" + *leader + "' running as a primary, with timeline " + std::to_string(ours) + " in its history";
    std::function<void()> no_fail_fast;
    std::function<std::string()> no_details;
    try {
      co_await core::wait_until(deadline, std::move(reason), known, std::move(no_fail_fast), std::move(no_details), 500ms);
    } catch (const Timeout& t) {
      const std::string what = "cannot tell what rejoining would discard of " + l.display() + " (timeline " +
                               std::to_string(ours) + "): " + t.what();
      if (!accept_data_loss && ps.rejoin_discarding_commits != "rejoin") throw StateError(what);
      op.warning(what, "pglift.patroni");
      co_return std::nullopt;
    }
  }
  // A history file of a later timeline in our pg_wal does not say we followed it: a demoted leader that
  // ran as a standby fetches the new leader's one, then cannot follow ("new timeline N forked off current
  // database system timeline M before current recovery point"; seen by the hosts suite, 5b). WAL of ours
  // on the checkpoint's timeline past where the leader's history ends that timeline: not followed, that
  // is the fork (pg_rewind goes by the control file's timeline too).
  if (ours > control.timeline && control.timeline < *view.timeline)
    if (auto end = patroni::timeline_end(view.history, control.timeline)) {
      const auto past = co_await postgres::scan_wal(op, l, control.timeline, *end);
      if (past.understood && past.any_record) {
        ours = control.timeline;
        fork = end;
      }
    }
  if (ours >= *view.timeline) co_return std::nullopt;  // the leader's timeline: a replica catching up loses nothing

  std::optional<patroni::Discarded> lost;
  try {
    lost = co_await patroni::scan_discarded(op, l, control, ours, *fork);
  } catch (const SystemError& e) {
    const std::string what = "cannot tell what rejoining leader '" + *leader + "' would discard of " + l.display() +
                             " past " + postgres::format_lsn(*fork) + " on timeline " + std::to_string(ours) + ": " + e.what();
    if (!accept_data_loss && ps.rejoin_discarding_commits != "rejoin") throw StateError(what);
    op.warning(what, "pglift.patroni");
    co_return std::nullopt;
  }
  if (!lost) co_return std::nullopt;  // our WAL ends at the fork: nothing is discarded
  const std::string range = patroni::describe(*lost);
  if (lost->commits == 0 && !lost->at_least) {
    op.info("rejoining leader '" + *leader + "' discards " + range + " of " + l.display(), "pglift.patroni");
    co_return std::nullopt;
  }
  const std::string what = "rejoining leader '" + *leader + "' (timeline " + std::to_string(*view.timeline) +
                           ") through pg_rewind discards " + range + " of former leader " + l.display();
  if (accept_data_loss || ps.rejoin_discarding_commits == "rejoin") {
    op.warning(what + ": rejoining as asked", "pglift.patroni");
    co_return std::to_string(lost->timeline) + ":" + postgres::format_lsn(lost->from);
  }
  throw WouldLoseData(what + "; " + l.display() +
                      " was left stopped: copy what it holds first (e.g. start it alone with pg_ctl), then start it with "
                      "the data loss accepted (CLI: answer yes, or --accept-data-loss; settings: "
                      "patroni.rejoin_discarding_commits: rejoin)");
}

}  // namespace pglift::ops::patroni_member
