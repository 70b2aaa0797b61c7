#include "patroni/rejoin.hpp"

#include "core/value.hpp"
#include "pglift/errors.hpp"

namespace pglift::patroni {

std::optional<Discarded> discarded(int timeline, postgres::Lsn fork, const postgres::WalScan& scan) {
  if (!scan.any_record) return std::nullopt;
  Discarded d{timeline, fork, scan.end, scan.commits, scan.truncated};
  d.first_commit_at = scan.first_commit_at;
  d.last_commit_at = scan.last_commit_at;
  return d;
}

std::string describe(const Discarded& d) {
  std::string text = "WAL " + postgres::format_lsn(d.from) + ".." + (d.to ? postgres::format_lsn(*d.to) : std::string("end")) +
                     " of timeline " + std::to_string(d.timeline);
  if (d.commits == 0 && !d.at_least) return text + " (no committed transaction)";
  text += " (" + std::string(d.at_least ? "at least " : "") + std::to_string(d.commits) + " committed transaction" +
          (d.commits == 1 ? "" : "s");
  if (d.at_least && !d.last_commit_at.empty()) text += ", the last committed at " + d.last_commit_at;
  else if (!d.first_commit_at.empty())
    text += ", committed " + (d.first_commit_at == d.last_commit_at ? "at " + d.first_commit_at
                                                                     : "from " + d.first_commit_at + " to " + d.last_commit_at);
  return text + ")";
}

awaitable<std::optional<Discarded>> scan_discarded(const core::Op& op, const postgres::Layout& l,
                                                   const postgres::ControlData& control, int timeline, postgres::Lsn fork) {
  auto scan = co_await postgres::scan_wal(op, l, timeline, fork);
  if (!scan.understood) throw SystemError("pg_waldump did not say how reading the WAL went");
  if (scan.segment_missing && control.timeline == timeline && control.redo > fork) {
    auto rest = co_await postgres::scan_wal(op, l, timeline, control.redo);
    rest.truncated = true;
    rest.any_record = true;  // the checkpoint itself is past the fork
    auto d = discarded(timeline, fork, rest);
    co_return d;
  }
  co_return discarded(timeline, fork, scan);
}

RewindVerdict judge_rewind(const std::optional<Discarded>& lost, const std::string& cannot_tell, const std::string& policy,
                           const std::optional<postgres::Divergence>& accepted) {
  const bool refuse = policy != "rejoin";
  const std::string way_on =
      ": the member was left stopped, its WAL untouched; copy what it holds first (e.g. start it alone with "
      "pg_ctl), then stop the instance and start it with the data loss accepted (CLI: --accept-data-loss)";
  if (!cannot_tell.empty()) {
    const std::string what = "cannot tell what Patroni's pg_rewind discards: " + cannot_tell;
    if (refuse) return {false, "warning", what + way_on, "refused"};
    return {true, "warning", what + ": rewinding as the site's policy says (rejoin)", "rejoined"};
  }
  if (!lost) return {};
  const std::string range = describe(*lost);
  if (lost->commits == 0 && !lost->at_least) return {true, "info", "Patroni's pg_rewind discards " + range, ""};
  const std::string what = "Patroni's pg_rewind discards " + range;
  if (accepted && accepted->timeline == lost->timeline && accepted->at == lost->from)
    return {true, "warning", what + ": accepted by instance start", "rejoined"};
  if (refuse) return {false, "warning", what + ": refused (patroni.automatic_rejoin_discarding_commits: refuse)" + way_on, "refused"};
  return {true, "warning", what + ": rejoining (patroni.automatic_rejoin_discarding_commits: rejoin)", "rejoined"};
}

}  // namespace pglift::patroni
