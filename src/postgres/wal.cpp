#include "postgres/wal.hpp"

#include <charconv>
#include <filesystem>
#include <regex>

#include "core/text.hpp"
#include "pglift/errors.hpp"
#include "proc/process.hpp"

namespace pglift::postgres {

namespace {

std::optional<std::string_view> field(std::string_view output, std::string_view name) {
  for (std::size_t start = 0; start < output.size();) {
    std::size_t end = output.find('\n', start);
    if (end == std::string_view::npos) end = output.size();
    std::string_view line = output.substr(start, end - start);
    if (line.starts_with(name) && line.size() > name.size() && line[name.size()] == ':') {
      line.remove_prefix(name.size() + 1);
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      return line;
    }
    start = end + 1;
  }
  return std::nullopt;
}

template <class T>
std::optional<T> hex_or_dec(std::string_view s, int base) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<Lsn> parse_lsn(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto hi = hex_or_dec<std::uint32_t>(text.substr(0, slash), 16);
  auto lo = hex_or_dec<std::uint32_t>(text.substr(slash + 1), 16);
  if (!hi || !lo) return std::nullopt;
  return (Lsn{*hi} << 32) | *lo;
}

std::string format_lsn(Lsn lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32), static_cast<unsigned>(lsn & 0xffffffffu));
  return buf;
}

ControlData parse_controldata(std::string_view output) {
  auto required = [&](std::string_view name) {
    auto v = field(output, name);
    if (!v) throw SystemError("pg_controldata did not report '" + std::string(name) + "'");
    return *v;
  };
  auto lsn = [&](std::string_view name) {
    auto v = required(name);
    auto l = parse_lsn(v);
    if (!l) throw SystemError("pg_controldata: unexpected '" + std::string(name) + "': " + std::string(v));
    return *l;
  };
  ControlData c;
  c.checkpoint = lsn("Latest checkpoint location");
  c.redo = lsn("Latest checkpoint's REDO location");
  auto tli = hex_or_dec<int>(required("Latest checkpoint's TimeLineID"), 10);
  if (!tli) throw SystemError("pg_controldata: unexpected 'Latest checkpoint's TimeLineID'");
  c.timeline = *tli;
  return c;
}

awaitable<ControlData> controldata(const core::Op& op, const Layout& layout) {
  // LC_ALL=C: the field names we look for are the untranslated ones.
  // A named command: no braced temporary inside the co_await expression (g++ 12).
  proc::Command cmd{.argv = {layout.program("pg_controldata").string(), "-D", layout.datadir.string()},
                    .env = {{"LC_ALL", "C"}},
                    .timeout = std::chrono::seconds(30),
                    .log_target = "pglift.pg_controldata"};
  auto r = co_await proc::run(op, std::move(cmd));
  co_return parse_controldata(r.output);
}

int latest_timeline(const Layout& layout, const ControlData& control) {
  int latest = control.timeline;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(layout.datadir / "pg_wal", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();  // 00000002.history
    if (name.size() == 16 && name.ends_with(".history"))
      if (auto tli = hex_or_dec<int>(std::string_view(name).substr(0, 8), 16)) latest = std::max(latest, *tli);
  }
  return latest;
}

WalScan parse_waldump(std::string_view output, bool truncated) {
  // rmgr: Transaction len (rec/tot): 34/ 34, tx: 725, lsn: 0/01516770, prev 0/01516730, desc: COMMIT 2026-11-28 03:24:25.556655 UTC
  // pg_waldump: error: error in WAL record at 0/1516840: invalid record length at 0/1516868: wanted 24, got 0
  static const std::regex commit(R"(desc: COMMIT(?:_PREPARED)? (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [A-Za-z+\-0-9:]+)?))");
  static const std::regex record_error(R"(error in WAL record at ([0-9A-Fa-f]+/[0-9A-Fa-f]+): (.*))");
  static const std::regex end_at(R"( at ([0-9A-Fa-f]+/[0-9A-Fa-f]+))");
  static const std::regex record_lsn(R"(, lsn: ([0-9A-Fa-f]+/[0-9A-Fa-f]+),)");
  std::optional<Lsn> last_shown;
  WalScan scan;
  scan.truncated = truncated;
  for (const auto& line : core::split(output, '\n')) {
    std::smatch m;
    if (line.starts_with("rmgr: ")) {
      scan.understood = scan.any_record = true;
      if (std::regex_search(line, m, record_lsn)) last_shown = parse_lsn(std::string(m[1]));
      if (std::regex_search(line, m, commit)) {
        if (scan.commits++ == 0) scan.first_commit_at = m[1];
        scan.last_commit_at = m[1];
      }
    } else if (std::regex_search(line, m, record_error)) {
      // The last valid record started at the first LSN; the reason names where reading failed
      // ("invalid record length at X"), when it says.
      scan.understood = scan.any_record = true;
      const std::string reason = m[2];
      std::smatch at;
      auto last = parse_lsn(std::string(m[1]));
      if (std::regex_search(reason, at, end_at)) scan.end = parse_lsn(std::string(at[1]));
      if (!scan.end || (last && *scan.end < *last)) scan.end = last;
    } else if (line.find("could not find file") != std::string::npos) {
      scan.understood = true;
      scan.segment_missing = !scan.any_record;
    } else if (line.find("could not find a valid record after") != std::string::npos) {
      scan.understood = true;
    }
  }
  if (!scan.end) scan.end = last_shown;
  return scan;
}

awaitable<WalScan> scan_wal(const core::Op& op, const Layout& layout, int timeline, Lsn from, std::chrono::milliseconds timeout) {
  // Only transaction records: one line per commit or abort, and pg_waldump still reads every record
  // to the end of valid WAL. It exits 1 there (or when nothing follows FROM): check = false.
  proc::Command cmd{.argv = {layout.program("pg_waldump").string(), "-p", (layout.datadir / "pg_wal").string(), "-t",
                             std::to_string(timeline), "-s", format_lsn(from), "-r", "Transaction"},
                    .env = {{"LC_ALL", "C"}},
                    .timeout = timeout,
                    .log_target = "pglift.pg_waldump",
                    .check = false};
  auto r = co_await proc::run(op, std::move(cmd));
  // proc::run keeps the last 256 KiB: beyond that the first lines are gone.
  const bool truncated = r.output.size() >= 256 * 1024;
  co_return parse_waldump(r.output, truncated);
}

std::optional<Divergence> parse_rewind_divergence(std::string_view output) {
  static const std::regex diverged(R"(servers diverged at WAL location ([0-9A-Fa-f]+/[0-9A-Fa-f]+) on timeline (\d+))");
  for (const auto& line : core::split(output, '\n')) {
    std::smatch m;
    if (!std::regex_search(line, m, diverged)) continue;
    auto at = parse_lsn(std::string(m[1]));
    auto tli = hex_or_dec<int>(std::string(m[2]), 10);
    if (at && tli && *tli > 0) return Divergence{*tli, *at};
  }
  return std::nullopt;
}

}  // namespace pglift::postgres
