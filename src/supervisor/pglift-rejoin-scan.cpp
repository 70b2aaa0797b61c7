// pglift-rejoin-scan: what Patroni's own pg_rewind is about to discard of a stopped former leader, and
// whether it may. pglift-patroni-launch.py runs it from its hook on Patroni's Rewind.pg_rewind (a running
// former leader demoted and rewound by Patroni itself, e.g. after a partition healed), with the output of
// `pg_rewind --dry-run` on stdin:
//
//   pglift-rejoin-scan --bindir DIR --data-dir DIR --policy rejoin|refuse --record FILE [--accepted TLI:LSN]
//
// The fork point is where pg_rewind says the servers diverged; our WAL past it is read with the library's
// own code (postgres/wal: pg_waldump) and judged by patroni/rejoin (judge_rewind). When commits are (or
// may be) discarded, FILE (<logdir>/rejoin.json, 0600, written atomically) records it for get/status.
// Prints one JSON object on stdout: {"proceed": bool, "level": "", "message": "", "outcome": "",
// "commits": n|null, ...}. Exit 0 whenever it printed a verdict; 2 on bad arguments.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <future>
#include <iostream>
#include <iterator>
#include <map>
#include <string>

#include "core/blocking_pool.hpp"
#include "core/files.hpp"
#include "core/system.hpp"
#include "core/text.hpp"
#include "core/value.hpp"
#include "patroni/rejoin.hpp"
#include "pglift/errors.hpp"
#include "postgres/control.hpp"
#include "postgres/wal.hpp"

using namespace pglift;

namespace {

/// The last non-empty line of pg_rewind's output, for a message (libpq never prints a password).
std::string last_line(const std::string& text) {
  auto lines = core::split(core::trim(text), '\n');
  return lines.empty() ? std::string("(no output)") : redact_secrets(core::trim(lines.back()));
}

int usage() {
  std::cerr << "usage: pglift-rejoin-scan --bindir DIR --data-dir DIR --policy rejoin|refuse --record FILE "
               "[--accepted TLI:LSN] < pg_rewind-dry-run-output\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (argc % 2 == 0 || !args.contains("--bindir") || !args.contains("--data-dir") || !args.contains("--policy") ||
      !args.contains("--record"))
    return usage();
  std::optional<postgres::Divergence> accepted;
  if (auto it = args.find("--accepted"); it != args.end()) {
    auto colon = it->second.find(':');
    auto lsn = colon == std::string::npos ? std::nullopt : postgres::parse_lsn(it->second.substr(colon + 1));
    if (!lsn) return usage();
    accepted = postgres::Divergence{std::atoi(it->second.substr(0, colon).c_str()), *lsn};
  }
  const std::string rewind_output{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};

  postgres::Layout layout;
  layout.bindir = args["--bindir"];
  layout.datadir = args["--data-dir"];
  layout.name = layout.datadir.filename().string();
  Settings settings;
  EventSink sink;  // pg_waldump's and pg_controldata's lines stay out of Patroni's log
  core::BlockingPool pool(1);
  const core::Op op{settings, sink, pool};

  std::optional<patroni::Discarded> lost;
  std::string cannot_tell;
  const auto divergence = postgres::parse_rewind_divergence(rewind_output);
  if (!divergence) {
    if (rewind_output.find("no rewind required") == std::string::npos)
      cannot_tell = "pg_rewind --dry-run did not say where the servers diverged: " + last_line(rewind_output);
  } else {
    try {
      asio::io_context io;
      auto scan = [&]() -> awaitable<std::optional<patroni::Discarded>> {
        auto control = co_await postgres::controldata(op, layout);
        co_return co_await patroni::scan_discarded(op, layout, control, divergence->timeline, divergence->at);
      };
      auto fut = asio::co_spawn(io, scan(), asio::use_future);
      io.run();
      lost = fut.get();
    } catch (const std::exception& e) {
      cannot_tell = "reading the WAL past " + postgres::format_lsn(divergence->at) + " on timeline " +
                    std::to_string(divergence->timeline) + " failed: " + e.what();
    }
  }
  const patroni::RewindVerdict verdict = patroni::judge_rewind(lost, cannot_tell, args["--policy"], accepted);

  core::Object out{{"proceed", verdict.proceed}, {"level", verdict.level}, {"message", verdict.message},
                   {"outcome", verdict.outcome}};
  core::Object record{{"at", core::utc_now("%Y-%m-%dT%H:%M:%SZ")}, {"outcome", verdict.outcome}, {"description", verdict.message}};
  core::Value commits = lost && cannot_tell.empty() ? core::Value(static_cast<std::int64_t>(lost->commits)) : core::Value();
  record.emplace_back("commits", commits);
  out.emplace_back("commits", commits);
  if (lost) {
    core::Object range{{"timeline", lost->timeline},
                       {"from", postgres::format_lsn(lost->from)},
                       {"to", lost->to ? core::Value(postgres::format_lsn(*lost->to)) : core::Value()},
                       {"at_least", lost->at_least},
                       {"first_commit_at", lost->first_commit_at},
                       {"last_commit_at", lost->last_commit_at}};
    for (auto& kv : range) {
      record.push_back(kv);
      out.push_back(kv);
    }
  }
  if (!verdict.outcome.empty()) {
    try {
      core::write_file_atomic(args["--record"], core::to_json(core::Value(std::move(record)), true) + "\n", 0600);
      out.emplace_back("record", args["--record"]);
    } catch (const std::exception& e) {
      out.emplace_back("record_error", std::string(e.what()));
    }
  }
  std::cout << core::to_json(core::Value(std::move(out))) << std::endl;
  return 0;
}
