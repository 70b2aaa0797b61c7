// The rejoin analysis on recorded texts: Patroni's timeline history, pg_controldata, pg_waldump.
#include <doctest/doctest.h>

#include <filesystem>

#include "core/files.hpp"
#include "patroni/rejoin.hpp"
#include "pglift/errors.hpp"
#include "postgres/wal.hpp"

using namespace pglift;
namespace fs = std::filesystem;

namespace {
std::string fixture_text(const std::string& name) { return core::read_file(fs::path(PGLIFT_UNIT_SOURCE_DIR) / "fixtures" / name); }
}  // namespace

TEST_CASE("LSNs read and print as PostgreSQL does") {
  CHECK(postgres::parse_lsn("0/1516868") == std::optional<postgres::Lsn>(0x1516868));
  CHECK(postgres::parse_lsn("1A/0") == std::optional<postgres::Lsn>(0x1Aull << 32));
  CHECK_FALSE(postgres::parse_lsn("01516868"));
  CHECK_FALSE(postgres::parse_lsn("0/xyz"));
  CHECK(postgres::format_lsn(0x1516868) == "0/1516868");
  CHECK(postgres::format_lsn((0x2ull << 32) | 0xA0) == "2/A0");
}

TEST_CASE("Patroni's history says where each timeline ended") {
  auto history = patroni::parse_history_json(fixture_text("history-after-switchovers.json"));
  REQUIRE(history.size() == 7);
  CHECK(patroni::timeline_end(history, 1) == std::optional<postgres::Lsn>(117441312));
  CHECK(patroni::timeline_end(history, 7) == std::optional<postgres::Lsn>(117444432));
  CHECK(history[0].new_leader == "pg2");
  CHECK_FALSE(patroni::timeline_end(history, 8));  // the leader's current timeline has not ended
  // Older Patroni wrote 3-field lines; anything else is skipped, not fatal.
  auto short_lines = patroni::parse_history_json(R"([[1, 100, "no recovery target specified"], ["x"], 3, [2, -1]])");
  REQUIRE(short_lines.size() == 1);
  CHECK(short_lines[0].end == 100);
  CHECK(patroni::parse_history_json("[]").empty());
  CHECK_THROWS(patroni::parse_history_json("[1,"));
}

TEST_CASE("pg_controldata: the last checkpoint and its timeline") {
  auto c = postgres::parse_controldata(fixture_text("controldata-crashed-leader.txt"));
  CHECK(c.checkpoint == 0x1500718);
  CHECK(c.redo == 0x1500718);
  CHECK(c.timeline == 1);
  CHECK_THROWS_WITH_AS(postgres::parse_controldata("pg_control version number: 1300\n"),
                       doctest::Contains("Latest checkpoint location"), SystemError);
}

TEST_CASE("pg_waldump past the fork: commits, their time window and the end of valid WAL") {
  auto scan = postgres::parse_waldump(fixture_text("waldump-past-fork.txt"));
  CHECK(scan.any_record);
  CHECK(scan.commits == 3);  // the ABORT does not count
  CHECK(scan.first_commit_at == "2026-11-28 03:24:25.547121 UTC");
  CHECK(scan.last_commit_at == "2026-11-28 03:24:25.560474 UTC");
  CHECK(scan.end == std::optional<postgres::Lsn>(0x1516868));
  CHECK_FALSE(scan.segment_missing);

  auto lost = patroni::discarded(1, 0x1500790, scan);
  REQUIRE(lost);
  CHECK(patroni::describe(*lost) ==
        "WAL 0/1500790..0/1516868 of timeline 1 (3 committed transactions, committed from 2026-11-28 03:24:25.547121 UTC "
        "to 2026-11-28 03:24:25.560474 UTC)");
}

TEST_CASE("pg_waldump past the fork: WAL without a commit, no WAL at all, a recycled segment") {
  // A crashed leader's usual tail: a checkpoint or a running-xacts record past what the replica got.
  auto quiet = postgres::parse_waldump(
      "pg_waldump: error: error in WAL record at 0/3000148: invalid record length at 0/3000180: wanted 24, got 0\n");
  CHECK(quiet.any_record);
  CHECK(quiet.commits == 0);
  CHECK(quiet.end == std::optional<postgres::Lsn>(0x3000180));
  auto lost = patroni::discarded(1, 0x3000100, quiet);
  REQUIRE(lost);
  CHECK(patroni::describe(*lost) == "WAL 0/3000100..0/3000180 of timeline 1 (no committed transaction)");

  auto nothing = postgres::parse_waldump("pg_waldump: error: could not find a valid record after 0/1516868\n");
  CHECK(nothing.understood);
  CHECK_FALSE(nothing.any_record);
  CHECK_FALSE(patroni::discarded(1, 0x1516868, nothing));

  auto recycled = postgres::parse_waldump("pg_waldump: error: could not find file \"000000010000000000000001\": No such file or directory\n");
  CHECK(recycled.segment_missing);
  CHECK(recycled.understood);

  // Anything else (a crash, a missing program) is not "no WAL": the caller cannot tell.
  auto failed = postgres::parse_waldump("pg_waldump: error: could not open directory \"x\": Permission denied\n");
  CHECK_FALSE(failed.understood);
  CHECK_FALSE(failed.any_record);
  CHECK_FALSE(recycled.any_record);

  // Only the tail was kept: a lower bound, and only the last commit's time is known.
  auto tail = postgres::parse_waldump(
      "rmgr: Transaction len (rec/tot):     34/    34, tx:        727, lsn: 0/01516840, prev 0/01516800, desc: COMMIT "
      "2026-11-28 03:24:25.560474 UTC\n",
      true);
  auto partial = patroni::discarded(1, 0x1500000, tail);
  REQUIRE(partial);
  CHECK(partial->at_least);
  CHECK(tail.end == std::optional<postgres::Lsn>(0x1516840));
  CHECK(patroni::describe(*partial) ==
        "WAL 0/1500000..0/1516840 of timeline 1 (at least 1 committed transaction, the last committed at 2026-11-28 "
        "03:24:25.560474 UTC)");
}

TEST_CASE("pg_rewind --dry-run says where the servers diverged") {
  auto d = postgres::parse_rewind_divergence(
      "pg_rewind: servers diverged at WAL location 0/3000148 on timeline 1\n"
      "pg_rewind: rewinding from last common checkpoint at 0/2000060 on timeline 1\n"
      "pg_rewind: Done!\n");
  REQUIRE(d);
  CHECK(d->timeline == 1);
  CHECK(d->at == 0x3000148);
  auto later = postgres::parse_rewind_divergence("pg_rewind: servers diverged at WAL location 1A/B0 on timeline 12\n");
  REQUIRE(later);
  CHECK(later->timeline == 12);
  CHECK(later->at == ((0x1Aull << 32) | 0xB0));
  CHECK_FALSE(postgres::parse_rewind_divergence("pg_rewind: no rewind required\n"));
  CHECK_FALSE(postgres::parse_rewind_divergence("pg_rewind: error: could not connect to server: connection refused\n"));
  CHECK_FALSE(postgres::parse_rewind_divergence("servers diverged at WAL location 0/xyz on timeline 1\n"));
}

TEST_CASE("Patroni's own rewind: judged by what it discards and the site's automatic policy") {
  patroni::Discarded commits{1, 0x3000148, 0x30A1B20, 73, false, "2026-11-28 03:24:25 UTC", "2026-11-28 03:24:27 UTC"};
  patroni::Discarded no_commit{1, 0x3000148, 0x3000180, 0, false};

  // Nothing of ours past the fork: nothing to say, nothing recorded.
  auto nothing = patroni::judge_rewind(std::nullopt, "", "refuse", std::nullopt);
  CHECK(nothing.proceed);
  CHECK(nothing.level.empty());
  CHECK(nothing.outcome.empty());

  // WAL without a commit (a checkpoint): an INFO line, no record, even under refuse.
  auto checkpoint = patroni::judge_rewind(no_commit, "", "refuse", std::nullopt);
  CHECK(checkpoint.proceed);
  CHECK(checkpoint.level == "info");
  CHECK(checkpoint.outcome.empty());

  // Commits, rejoin (the default): it goes on, recorded, a warning naming the range and the count.
  auto rejoin = patroni::judge_rewind(commits, "", "rejoin", std::nullopt);
  CHECK(rejoin.proceed);
  CHECK(rejoin.level == "warning");
  CHECK(rejoin.outcome == "rejoined");
  CHECK(rejoin.message.find("WAL 0/3000148..0/30A1B20 of timeline 1 (73 committed transactions") != std::string::npos);

  // Commits, refuse: stopped, recorded, the way on said.
  auto refuse = patroni::judge_rewind(commits, "", "refuse", std::nullopt);
  CHECK_FALSE(refuse.proceed);
  CHECK(refuse.outcome == "refused");
  CHECK(refuse.message.find("73 committed transactions") != std::string::npos);
  CHECK(refuse.message.find("--accept-data-loss") != std::string::npos);

  // The range an instance start accepted goes on under refuse; another range does not.
  auto accepted = patroni::judge_rewind(commits, "", "refuse", postgres::Divergence{1, 0x3000148});
  CHECK(accepted.proceed);
  CHECK(accepted.outcome == "rejoined");
  CHECK(accepted.message.find("accepted by instance start") != std::string::npos);
  CHECK_FALSE(patroni::judge_rewind(commits, "", "refuse", postgres::Divergence{2, 0x3000148}).proceed);
  CHECK_FALSE(patroni::judge_rewind(commits, "", "refuse", postgres::Divergence{1, 0x3000150}).proceed);

  // Cannot tell: the policy decides, and it is recorded either way (commits may have been lost).
  auto unknown_refused = patroni::judge_rewind(std::nullopt, "pg_rewind failed", "refuse", std::nullopt);
  CHECK_FALSE(unknown_refused.proceed);
  CHECK(unknown_refused.outcome == "refused");
  CHECK(unknown_refused.message.find("cannot tell") != std::string::npos);
  auto unknown_rejoined = patroni::judge_rewind(std::nullopt, "pg_rewind failed", "rejoin", std::nullopt);
  CHECK(unknown_rejoined.proceed);
  CHECK(unknown_rejoined.outcome == "rejoined");
  // Anything but "rejoin" refuses.
  CHECK_FALSE(patroni::judge_rewind(commits, "", "", std::nullopt).proceed);
}
