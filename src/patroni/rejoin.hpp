// Before a former leader rejoins: what pg_rewind would discard. Patroni's timeline history (GET /history,
// the DCS `history` key: [[timeline, lsn, reason, timestamp, new_leader], ...]) says where each timeline
// ended; WAL of ours on that timeline past that point is rewound away. Pure: the values come from the
// DCS and from postgres/wal.hpp's scans.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "patroni/history.hpp"
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

}  // namespace pglift::patroni
