// Patroni's timeline history (GET /history, the DCS `history` key): [[timeline, lsn, reason, timestamp,
// new_leader], ...], where each timeline ended. Read by the candidate check (patroni/health.hpp) and the
// rejoin check (patroni/rejoin.hpp). Pure.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/value.hpp"
#include "postgres/wal.hpp"

namespace pglift::patroni {

struct HistoryEntry {
  int timeline = 0;
  postgres::Lsn end = 0;  ///< where `timeline` ended: the next one starts there
  std::string at{}, new_leader{};
};

/// Entries that are not [int, int >= 0, ...] are skipped (older Patroni wrote 3-field lines).
std::vector<HistoryEntry> parse_history(const core::Value& doc);
/// The same from JSON text; throws core::ParseError.
std::vector<HistoryEntry> parse_history_json(const std::string& json);
/// Where `timeline` ended, when the history says.
std::optional<postgres::Lsn> timeline_end(const std::vector<HistoryEntry>& history, int timeline);

}  // namespace pglift::patroni
