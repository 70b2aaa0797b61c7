// What a stopped data directory's WAL holds, read with the server's own tools (pg_controldata,
// pg_waldump): its timeline, and the commits past a given LSN. The parsers are pure (unit-tested on
// recorded outputs); the runners add the argv, a deadline and the Layout.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/asio.hpp"
#include "core/op.hpp"
#include "postgres/layout.hpp"

namespace pglift::postgres {

using Lsn = std::uint64_t;

/// "0/1516868" -> 0x1516868; nullopt when it is no LSN.
std::optional<Lsn> parse_lsn(std::string_view text);
/// 0x1516868 -> "0/1516868", as PostgreSQL prints it.
std::string format_lsn(Lsn lsn);

/// The part of pg_controldata's report we use.
struct ControlData {
  Lsn checkpoint = 0, redo = 0;  ///< latest checkpoint location and its REDO location
  int timeline = 0;              ///< the latest checkpoint's TimeLineID
};
/// Throws SystemError naming the line that is missing.
ControlData parse_controldata(std::string_view output);
awaitable<ControlData> controldata(const core::Op& op, const Layout& layout);

/// The highest timeline of the data directory: the checkpoint's, or a later one that pg_wal holds a
/// history file of (a promotion not yet followed by a checkpoint, a replica that followed a switch).
int latest_timeline(const Layout& layout, const ControlData& control);

/// What `pg_waldump -r Transaction -s FROM` showed: the transaction records from FROM to the end of
/// valid WAL.
struct WalScan {
  bool any_record = false;        ///< a valid record starts at or after FROM
  std::optional<Lsn> end{};       ///< where valid WAL ends (else the last transaction record shown)
  long commits = 0;               ///< COMMIT and COMMIT_PREPARED records
  std::string first_commit_at{}, last_commit_at{};  ///< their timestamps, as pg_waldump prints them
  bool segment_missing = false;   ///< the segment holding FROM is gone (recycled)
  bool truncated = false;         ///< the output was cut at its start: `commits` is a lower bound
  bool understood = false;        ///< some line said how reading went: else pg_waldump failed otherwise
};
WalScan parse_waldump(std::string_view output, bool truncated = false);
/// Runs pg_waldump on the stopped data directory's pg_wal, bounded by `timeout`.
awaitable<WalScan> scan_wal(const core::Op& op, const Layout& layout, int timeline, Lsn from,
                            std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// Where `pg_rewind` (here its --dry-run) says the servers diverged: "servers diverged at WAL location
/// 0/3000148 on timeline 1". nullopt when it does not say it ("no rewind required", or it failed).
struct Divergence {
  int timeline = 0;
  Lsn at = 0;
};
std::optional<Divergence> parse_rewind_divergence(std::string_view output);

}  // namespace pglift::postgres
