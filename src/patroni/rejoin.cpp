#include "patroni/rejoin.hpp"

#include "core/value.hpp"

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

}  // namespace pglift::patroni
