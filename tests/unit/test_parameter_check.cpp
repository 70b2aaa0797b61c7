#include <doctest/doctest.h>

#include "pglift/errors.hpp"
#include "pglift/operations.hpp"
#include "postgres/parameter_check.hpp"

using namespace pglift;
using postgres::ParameterCatalog;

namespace {

// Rows as pg_settings gives them (PostgreSQL 15).
ParameterCatalog running() {
  ParameterCatalog c;
  auto row = [&](const char* name, const char* type, std::optional<std::string> unit, std::optional<std::string> min,
                 std::optional<std::string> max, std::optional<std::string> enums) {
    postgres::add_pg_settings_row(c, {std::string(name), std::string(type), unit, min, max, enums});
  };
  row("jit", "bool", {}, {}, {}, {});
  row("work_mem", "integer", "kB", "64", "2147483647", {});
  row("shared_buffers", "integer", "8kB", "16", "1073741823", {});
  row("statement_timeout", "integer", "ms", "0", "2147483647", {});
  row("checkpoint_timeout", "integer", "s", "30", "86400", {});
  row("max_connections", "integer", {}, "1", "262143", {});
  row("random_page_cost", "real", {}, "0", "1.79769e+308", {});
  row("vacuum_cost_delay", "real", "ms", "0", "100", {});
  row("wal_level", "enum", {}, {}, {}, "minimal,replica,logical");
  row("synchronous_commit", "enum", {}, {}, {}, "local,remote_write,remote_apply,on,off");
  row("application_name", "string", {}, {}, {}, {});
  row("pg_stat_statements.max", "integer", {}, "100", "1073741823", {});
  return c;
}

// Lines of `postgres --describe-config` (PostgreSQL 15): no unit, no enum values.
const char* describe_output =
    "jit\tuser\tQuery Tuning / Other Planner Options\tBOOLEAN\tFALSE\t\t\tAllow JIT compilation.\t\n"
    "max_connections\tpostmaster\tConnections and Authentication\tINTEGER\t0\t1\t262143\tSets the maximum.\t\n"
    "work_mem\tuser\tResource Usage / Memory\tINTEGER\t0\t64\t2147483647\tSets the maximum memory.\tThis much.\n"
    "random_page_cost\tuser\tQuery Tuning\tREAL\t0\t0\t1.79769e+308\tSets the planner's estimate.\t\n"
    "wal_level\tpostmaster\tWrite-Ahead Log / Settings\tENUM\treplica\t\t\tSets the level.\t\n"
    "application_name\tuser\tReporting and Logging / What to Log\tSTRING\t\t\t\tSets the application name.\t\n"
    "garbage line\n";

std::string field_of(const ParameterCatalog& c, const std::string& name, const ConfValue& v) {
  try {
    postgres::check_parameter(c, name, v);
  } catch (const InvalidSpec& e) {
    return e.field() + "=" + e.value();
  }
  return "ok";
}

}  // namespace

TEST_CASE("parameter check: good values pass, whatever their spelling") {
  auto c = running();
  for (auto [name, value] : std::vector<std::pair<std::string, ConfValue>>{
           {"jit", true}, {"jit", std::string("yes")}, {"jit", std::string("OFF")}, {"jit", std::int64_t{0}},
           {"jit", std::string("t")}, {"work_mem", std::string("8MB")}, {"work_mem", std::int64_t{4096}},
           {"work_mem", std::string("1 GB")}, {"shared_buffers", std::string("128MB")},
           {"statement_timeout", std::string("30s")}, {"statement_timeout", std::string("1.5min")},
           {"checkpoint_timeout", std::string("5min")}, {"max_connections", std::int64_t{100}},
           {"max_connections", std::string("0x10")}, {"random_page_cost", 1.5}, {"random_page_cost", std::int64_t{4}},
           {"vacuum_cost_delay", std::string("2ms")}, {"vacuum_cost_delay", std::string("500us")},
           {"wal_level", std::string("Logical")}, {"synchronous_commit", false},
           {"synchronous_commit", std::string("true")}, {"application_name", std::string("anything at all")},
           {"Work_Mem", std::string("8MB")}, {"myapp.setting", std::string("x")}, {"pg_stat_statements.max", std::int64_t{500}}}) {
    CAPTURE(name);
    CHECK(field_of(c, name, value) == "ok");
  }
}

TEST_CASE("parameter check: unknown names, wrong types, units and ranges name the parameter and the value") {
  auto c = running();
  CHECK(field_of(c, "no_such_parameter", std::int64_t{1}) == "parameter=no_such_parameter");
  CHECK(field_of(c, "pg_stat_statements.maxx", std::int64_t{1}) == "parameter=pg_stat_statements.maxx");  // reserved prefix
  CHECK(field_of(c, "jit", std::string("maybe")) == "jit=maybe");
  CHECK(field_of(c, "jit", std::int64_t{2}) == "jit=2");
  CHECK(field_of(c, "work_mem", std::string("lots")) == "work_mem=lots");
  CHECK(field_of(c, "work_mem", std::string("8 parsecs")) == "work_mem=8 parsecs");
  CHECK(field_of(c, "work_mem", std::string("10s")) == "work_mem=10s");          // a time unit for memory
  CHECK(field_of(c, "work_mem", std::string("8mb")) == "work_mem=8mb");          // units are case-sensitive
  CHECK(field_of(c, "work_mem", std::string("32kB")) == "work_mem=32kB");        // below 64 kB
  CHECK(field_of(c, "work_mem", std::string("4TB")) == "work_mem=4TB");          // above 2147483647 kB
  CHECK(field_of(c, "work_mem", true) == "work_mem=on");
  CHECK(field_of(c, "shared_buffers", std::string("64kB")) == "shared_buffers=64kB");  // 8 buffers < 16
  CHECK(field_of(c, "checkpoint_timeout", std::string("10s")) == "checkpoint_timeout=10s");  // < 30 s
  CHECK(field_of(c, "checkpoint_timeout", std::string("2d")) == "checkpoint_timeout=2d");    // > 1 day
  CHECK(field_of(c, "statement_timeout", std::string("5MB")) == "statement_timeout=5MB");
  CHECK(field_of(c, "max_connections", std::int64_t{0}) == "max_connections=0");
  CHECK(field_of(c, "max_connections", std::string("100kB")) == "max_connections=100kB");  // no unit
  CHECK(field_of(c, "max_connections", std::string("12abc")) == "max_connections=12abc");
  CHECK(field_of(c, "random_page_cost", std::string("-1")) == "random_page_cost=-1");
  CHECK(field_of(c, "vacuum_cost_delay", std::string("1s")) == "vacuum_cost_delay=1s");  // 1000 ms > 100
  CHECK(field_of(c, "wal_level", std::string("archive")) == "wal_level=archive");
  CHECK(field_of(c, "wal_level", true) == "wal_level=on");
}

TEST_CASE("parameter check: a control character in a value is refused (postgresql.conf has one parameter a line)") {
  auto c = running();
  CHECK(field_of(c, "application_name", std::string("a\nfsync = off")) == "application_name=a\nfsync = off");
  CHECK(field_of(c, "my.custom", std::string("x\ty")).starts_with("my.custom="));
  CHECK(field_of(c, "application_name", std::string("plain")) == "ok");
}

TEST_CASE("parameter check: the message says what is expected") {
  auto c = running();
  auto message = [&](const std::string& name, const ConfValue& v) {
    try {
      postgres::check_parameter(c, name, v);
    } catch (const InvalidSpec& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(message("wal_level", std::string("archive")).find("minimal, replica, logical") != std::string::npos);
  CHECK(message("work_mem", std::string("10s")).find("B, kB, MB, GB, TB") != std::string::npos);
  CHECK(message("checkpoint_timeout", std::string("10s")).find("30 .. 86400 (s)") != std::string::npos);
  CHECK(message("nope", std::int64_t{1}).find("unrecognized configuration parameter") != std::string::npos);
}

TEST_CASE("parameter check from --describe-config: names, types and plain ranges; units accepted unchecked") {
  auto c = postgres::parse_describe_config(describe_output);
  CHECK(c.size() == 6);
  CHECK(field_of(c, "jit", std::string("on")) == "ok");
  CHECK(field_of(c, "jit", std::string("maybe")) == "jit=maybe");
  CHECK(field_of(c, "max_connections", std::int64_t{100}) == "ok");
  CHECK(field_of(c, "max_connections", std::int64_t{300000}) == "max_connections=300000");
  CHECK(field_of(c, "work_mem", std::string("8MB")) == "ok");  // unit not known: any memory/time unit
  CHECK(field_of(c, "work_mem", std::int64_t{10}) == "work_mem=10");  // 10 < 64 (kB, the same unit as min)
  CHECK(field_of(c, "work_mem", std::string("8 parsecs")) == "work_mem=8 parsecs");
  CHECK(field_of(c, "wal_level", std::string("logical")) == "ok");  // enum values not listed
  CHECK(field_of(c, "random_page_cost", std::string("x")) == "random_page_cost=x");
  CHECK(field_of(c, "application_name", std::string("x")) == "ok");
  CHECK(field_of(c, "no_such_parameter", std::int64_t{1}) == "parameter=no_such_parameter");
}

TEST_CASE("pgconf edit's text round trip: unchanged text, sets, removals, comments, malformed lines") {
  ConfParameters current{{"work_mem", std::string("8MB")}, {"jit", false}, {"port", std::int64_t{5433}},
                         {"log_line_prefix", std::string("%m [%p] it's ")}, {"random_page_cost", 1.5}};
  const std::string text = parameters_text(current);
  CHECK(text.find("log_line_prefix = '%m [%p] it''s '\n") != std::string::npos);
  CHECK(parameter_changes_from_text(current, text).empty());
  CHECK(parameter_changes_from_text(current, "# a comment\n\n" + text + "  # trailing\n").empty());

  auto changes = parameter_changes_from_text(current, "work_mem = '16MB'\njit = on\nport = 5433\n"
                                                      "log_line_prefix = '%m [%p] it''s '\nshared_buffers = 128MB\n");
  CHECK(changes.size() == 4);
  CHECK(std::get<std::string>(*changes.at("work_mem")) == "16MB");
  CHECK(std::get<bool>(*changes.at("jit")) == true);
  CHECK(std::get<std::string>(*changes.at("shared_buffers")) == "128MB");
  CHECK_FALSE(changes.at("random_page_cost").has_value());  // removed

  CHECK(parameter_changes_from_text({{"port", std::string("5433")}}, "port = 5433\n").empty());  // same setting
  CHECK(parameter_changes_from_text({}, "WORK_MEM = 8MB\nwork_mem = 4MB\n").at("work_mem") == ConfValue(std::string("4MB")));
  try {
    parameter_changes_from_text(current, "work_mem = 8MB\ninclude 'other.conf'\n");
    FAIL("an include directive was accepted");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "line 2");
  }
  CHECK_THROWS_AS(parameter_changes_from_text(current, "= 5\n"), InvalidSpec);
}
