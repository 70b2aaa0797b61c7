#include "patroni/rejoin.hpp"

#include "core/value.hpp"

namespace pglift::patroni {

std::vector<HistoryEntry> parse_history(const std::string& json) {
  std::vector<HistoryEntry> out;
  const core::Value doc = core::parse_json(json);
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

std::optional<postgres::Lsn> timeline_end(const std::vector<HistoryEntry>& history, int timeline) {
  for (const auto& e : history)
    if (e.timeline == timeline) return e.end;
  return std::nullopt;
}

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

}  // namespace pglift::patroni
