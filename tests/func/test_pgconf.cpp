// Configuration changes checked before they are written, the reload/restart lines, the text round trip
// and pg_hba records, on one plain instance.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <boost/asio/use_future.hpp>

#include <future>

#include "fixture.hpp"
#include "pglift/async.hpp"
#include "pglift/hba.hpp"

using namespace pglift;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

/// The InvalidSpec a configuration change raises, as "field=value" ("ok" when it is accepted).
std::string refusal(Context& ctx, const InstanceRef& ref, const ParameterChanges& changes) {
  try {
    configure_instance(ctx, ref, changes);
  } catch (const InvalidSpec& e) {
    return e.field() + "=" + e.value();
  }
  return "ok";
}

}  // namespace

TEST_CASE("bad values are refused before postgresql.conf is touched: running (pg_settings), then stopped (--describe-config)") {
  Env env;
  create_instance(*env, spec("main", free_port()));
  auto ref = InstanceRef::parse("main");
  const fs::path conf = env.datadir("main") / "postgresql.conf";
  const std::string before = read_text(conf);

  CHECK(refusal(*env, ref, {{"work_mem", ConfValue(std::string("lots"))}}) == "work_mem=lots");
  CHECK(refusal(*env, ref, {{"work_mem", ConfValue(std::string("10s"))}}) == "work_mem=10s");
  CHECK(refusal(*env, ref, {{"checkpoint_timeout", ConfValue(std::string("10s"))}}) == "checkpoint_timeout=10s");
  CHECK(refusal(*env, ref, {{"wal_level", ConfValue(std::string("archive"))}}) == "wal_level=archive");
  CHECK(refusal(*env, ref, {{"jit", ConfValue(std::string("maybe"))}}) == "jit=maybe");
  CHECK(refusal(*env, ref, {{"no_such_parameter", ConfValue(std::int64_t{1})}}) == "parameter=no_such_parameter");
  // One bad value among good ones: nothing is written.
  CHECK(refusal(*env, ref, {{"work_mem", ConfValue(std::string("8MB"))}, {"max_connections", ConfValue(std::int64_t{0})}}) ==
        "max_connections=0");
  CHECK(read_text(conf) == before);

  // A dry run: the changes and the one needing a restart are named, nothing is written or reloaded.
  OpOptions dry;
  dry.dry_run = true;
  auto d = configure_instance(*env, ref, {{"work_mem", ConfValue(std::string("8MB"))}, {"max_connections", ConfValue(std::int64_t{50})}},
                              dry);
  CHECK(d.changes.size() == 2);
  CHECK(d.needs_restart == std::vector<std::string>{"max_connections"});
  CHECK_FALSE(d.reloaded);
  CHECK(read_text(conf) == before);
  CHECK(sql(*env, "main", "SHOW work_mem") == "4MB");
  CHECK(env.logged("instance 15/main would need restart due to parameter changes: max_connections (dry run: nothing changed)"));
  // A dry run is refused by an operation that cannot simulate, rather than run for real.
  std::promise<std::exception_ptr> stopped_dry;
  start_stop_instance(*env, ref, StopMode::fast, [&](std::exception_ptr e) { stopped_dry.set_value(e); }, dry);
  CHECK_THROWS_WITH_AS(std::rethrow_exception(stopped_dry.get_future().get()), doctest::Contains("dry_run"), InvalidSpec);
  CHECK(sql(*env, "main", "SELECT 1") == "1");  // still running

  // Reload and restart lines, as pglift prints them.
  auto r = configure_instance(*env, ref, {{"work_mem", ConfValue(std::string("8MB"))}, {"jit", ConfValue(false)},
                                          {"max_connections", ConfValue(std::int64_t{50})}});
  CHECK(r.changes.size() == 3);
  CHECK(env.logged("instance 15/main needs reload due to parameter changes: jit, work_mem"));
  CHECK(env.logged("instance 15/main needs restart due to parameter changes: max_connections"));

  stop_instance(*env, ref);
  const std::string stopped = read_text(conf);
  CHECK(refusal(*env, ref, {{"jit", ConfValue(std::string("maybe"))}}) == "jit=maybe");
  CHECK(refusal(*env, ref, {{"max_connections", ConfValue(std::int64_t{0})}}) == "max_connections=0");
  CHECK(refusal(*env, ref, {{"work_mem", ConfValue(std::string("8 parsecs"))}}) == "work_mem=8 parsecs");
  CHECK(refusal(*env, ref, {{"no_such_parameter", ConfValue(std::int64_t{1})}}) == "parameter=no_such_parameter");
  CHECK(read_text(conf) == stopped);
  CHECK(refusal(*env, ref, {{"work_mem", ConfValue(std::string("16MB"))}, {"myapp.flag", ConfValue(std::string("x"))}}) == "ok");
  start_instance(*env, ref);
  CHECK(sql(*env, "main", "SHOW work_mem") == "16MB");
  drop_instance(*env, ref);
}

TEST_CASE("pg_hba records on a running plain instance: added after the other lines and reloaded, removed back to the same bytes") {
  Env env;
  create_instance(*env, spec("main", free_port()));
  auto ref = InstanceRef::parse("main");
  const fs::path hba = env.datadir("main") / "pg_hba.conf";
  const std::string original = read_text(hba);

  HbaRecord r;
  r.connection = HbaConnection{"host", std::string("10.0.0.0/8"), std::nullopt};
  r.database = {"app"};
  r.user = {"alice", "bob"};
  r.method = "scram-sha-256";
  auto dry = add_hba_records(*env, ref, {r}, {.dry_run = true});
  CHECK(dry.changed);
  CHECK_FALSE(dry.reloaded);
  CHECK(dry.diff.find("\n+host    app             alice,bob       10.0.0.0/8") != std::string::npos);
  CHECK(read_text(hba) == original);

  auto added = add_hba_records(*env, ref, {r});
  CHECK(added.changed);
  CHECK(added.reloaded);
  CHECK(added.added == std::vector<std::string>{r.line()});
  const std::string with = read_text(hba);
  CHECK(with == original + r.line() + "\n");
  CHECK((fs::status(hba).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  CHECK(sql(*env, "main", "SELECT count(*) FROM pg_hba_file_rules WHERE address = '10.0.0.0' AND error IS NULL") == "1");

  CHECK_FALSE(add_hba_records(*env, ref, {r}).changed);  // already there
  CHECK(read_text(hba) == with);

  HbaRecord bad = r;
  bad.method = "nope";
  try {
    add_hba_records(*env, ref, {bad});
    FAIL("accepted");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "method");
  }
  CHECK(read_text(hba) == with);

  // The token face, and the removal back to the original bytes.
  auto removed = async_remove_hba_records(*env, ref, {r}, HbaOptions{}, boost::asio::use_future).get();
  CHECK(removed.removed == std::vector<std::string>{r.line()});
  CHECK(removed.reloaded);
  CHECK(read_text(hba) == original);
  CHECK(sql(*env, "main", "SELECT count(*) FROM pg_hba_file_rules WHERE address = '10.0.0.0'") == "0");
  CHECK_THROWS_AS(remove_hba_records(*env, ref, {r}), NotFound);
  CHECK(read_text(hba) == original);

  stop_instance(*env, ref);  // stopped: written, not reloaded
  auto stopped = add_hba_records(*env, ref, {r});
  CHECK(stopped.changed);
  CHECK_FALSE(stopped.reloaded);
  drop_instance(*env, ref);
}
