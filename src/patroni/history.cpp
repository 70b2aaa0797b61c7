#include "patroni/history.hpp"

namespace pglift::patroni {

std::vector<HistoryEntry> parse_history(const core::Value& doc) {
  std::vector<HistoryEntry> out;
  if (!doc.is_array()) return out;
  for (const auto& line : doc.as_array()) {
    if (!line.is_array()) continue;
    const auto& fields = line.as_array();
    if (fields.size() < 2 || !fields[0].is_int() || !fields[1].is_int() || fields[1].as_int() < 0) continue;
    HistoryEntry e{static_cast<int>(fields[0].as_int()), static_cast<postgres::Lsn>(fields[1].as_int())};
    if (fields.size() > 3 && fields[3].is_string()) e.at = fields[3].as_string();
    if (fields.size() > 4 && fields[4].is_string()) e.new_leader = fields[4].as_string();
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<HistoryEntry> parse_history_json(const std::string& json) { return parse_history(core::parse_json(json)); }

std::optional<postgres::Lsn> timeline_end(const std::vector<HistoryEntry>& history, int timeline) {
  for (const auto& e : history)
    if (e.timeline == timeline) return e.end;
  return std::nullopt;
}

}  // namespace pglift::patroni
