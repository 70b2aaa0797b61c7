// Before a former leader rejoins: what pg_rewind would discard. Patroni's timeline history (GET /history,
// the DCS `history` key: [[timeline, lsn, reason, timestamp, new_leader], ...]) says where each timeline
// ended; WAL of ours on that timeline past that point is rewound away. The values come from the DCS
// (or pg_rewind --dry-run) and from postgres/wal.hpp's scans; scan_discarded runs those scans.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/asio.hpp"
#include "core/op.hpp"
#include "patroni/history.hpp"
#include "postgres/layout.hpp"
#include "postgres/wal.hpp"

namespace pglift::patroni {

/// WAL of ours past the fork: [from, to) on `timeline`.
struct Discarded {
  int timeline = 0;
  postgres::Lsn from = 0;
  std::optional<postgres::Lsn> to{};
  long commits = 0;
  bool at_least = false;  ///< only part of the range could be read: `commits` is a lower bound
  std::string first_commit_at{}, last_commit_at{};
};

/// What the scan of our WAL from the fork point means; nullopt when no record follows it (nothing lost).
std::optional<Discarded> discarded(int timeline, postgres::Lsn fork, const postgres::WalScan& scan);

/// "WAL 0/3000148..0/30A1B20 of timeline 1 (3 committed transactions, 2026-11-28 03:24:25 UTC ..
/// 2026-11-28 03:24:27 UTC)": the range and what it holds.
std::string describe(const Discarded& d);

/// Scans the stopped data directory's WAL on `timeline` from `fork` on (pg_waldump). When the segment
/// holding `fork` was recycled (a leader that ran on long after the fork), from the last checkpoint's
/// REDO point: a part of the range, `at_least` set. Throws SystemError when pg_waldump said nothing
/// understandable. Used by `instance start` (ops/patroni_rejoin) and by pglift-rejoin-scan (the hook
/// on Patroni's own pg_rewind).
awaitable<std::optional<Discarded>> scan_discarded(const core::Op& op, const postgres::Layout& layout,
                                                   const postgres::ControlData& control, int timeline, postgres::Lsn fork);

/// What the hook on Patroni's own pg_rewind (pglift-patroni-launch.py, through pglift-rejoin-scan) does
/// with a rewind: proceed or not, what to log, and what to record (rejoin.json) for get/status.
struct RewindVerdict {
  bool proceed = true;
  std::string level{};    ///< "" (nothing to say), "info" or "warning": for Patroni's log
  std::string message{};  ///< the log line
  std::string outcome{};  ///< "" (no record), "rejoined" or "refused": the record's outcome
};
/// `lost`: the scan's answer (nullopt: nothing of ours past the fork); `cannot_tell`: why there is no
/// answer (empty when there is one). `policy`: "rejoin" or "refuse" (anything else refuses).
/// `accepted`: the range an `instance start` already accepted (--accept-data-loss or its site setting):
/// a rewind of exactly that range proceeds whatever the policy. Commits lost (or maybe lost): recorded;
/// refused under "refuse". WAL without a commit: an INFO line, no record.
RewindVerdict judge_rewind(const std::optional<Discarded>& lost, const std::string& cannot_tell, const std::string& policy,
                           const std::optional<postgres::Divergence>& accepted);

}  // namespace pglift::patroni
