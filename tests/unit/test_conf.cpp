#include <doctest/doctest.h>

#include <filesystem>

#include "core/files.hpp"
#include "core/system.hpp"
#include "pglift/errors.hpp"
#include "postgres/auth.hpp"
#include "postgres/conf.hpp"

using namespace pglift;
namespace fs = std::filesystem;

namespace {
const Settings& settings() {
  static const Settings s = Settings::from_documents({R"({"prefix": "/p", "run_prefix": "/r"})"});
  return s;
}
postgres::Layout layout() { return postgres::Layout::of(settings(), "main", settings().default_version()); }
}  // namespace

TEST_CASE("postgresql.conf parsing: values, quotes, comments, includes, later wins") {
  auto conf = postgres::parse_conf(R"(
# comment
port = 5433  # trailing comment
Shared_Buffers = '6 GB'
logging_collector = on
jit off
log_line_prefix = '%m [%p] it''s # not a comment'
random_page_cost = 1.5
include 'other.conf'
#work_mem = 4MB
port = 5434
)");
  CHECK(std::get<std::int64_t>(conf.at("port")) == 5434);
  CHECK(std::get<std::string>(conf.at("shared_buffers")) == "6 GB");
  CHECK(std::get<bool>(conf.at("logging_collector")) == true);
  CHECK(std::get<bool>(conf.at("jit")) == false);
  CHECK(std::get<std::string>(conf.at("log_line_prefix")) == "%m [%p] it's # not a comment");
  CHECK(std::get<double>(conf.at("random_page_cost")) == 1.5);
  CHECK(conf.count("include") == 0);
  CHECK(conf.count("work_mem") == 0);
}

TEST_CASE("postgresql.conf rendering round-trips through parsing") {
  ConfParameters params{{"port", std::int64_t{5433}}, {"jit", false}, {"log_line_prefix", std::string("it's \\ here")},
                        {"random_page_cost", 1.25}};
  std::string text = postgres::render_managed_conf(layout(), params);
  CHECK(text.find("include_if_exists = 'postgresql.base.conf'") != std::string::npos);
  CHECK(postgres::parse_conf(text) == params);
}

TEST_CASE("postgresql.conf rendering: a value with a newline stays on its line (found by fuzzing)") {
  const ConfParameters params{{"application_name", std::string("a\nb\r\tc\b\f'\\")}};
  const std::string text = postgres::render_managed_conf(layout(), params);
  CHECK(text.find("application_name = 'a\\nb\\r\\tc\\b\\f''\\\\'\n") != std::string::npos);
  CHECK(postgres::parse_conf(text) == params);
  CHECK(postgres::render_conf_value(-0.0) == "0");
}

TEST_CASE("computed configuration: template, locale, port, manifest, memory percentages, placeholders") {
  auto conf = postgres::compute_config(settings(), layout(),
                                       {"fr_FR.UTF-8", 5499, {{"work_mem", std::string("8MB")}, {"lc_time", std::string("C")}}});
  CHECK(std::get<std::string>(conf.at("cluster_name")) == "main");
  CHECK(std::get<std::int64_t>(conf.at("port")) == 5499);
  CHECK(std::get<std::string>(conf.at("lc_messages")) == "fr_FR.UTF-8");
  CHECK(std::get<std::string>(conf.at("lc_time")) == "C");  // the manifest wins
  CHECK(std::get<std::string>(conf.at("work_mem")) == "8MB");
  CHECK(std::get<std::string>(conf.at("unix_socket_directories")) == "/r/postgresql");
  CHECK(std::get<std::string>(conf.at("log_directory")) == "/p/log/postgresql");
  CHECK(std::get<std::string>(conf.at("log_filename")) == layout().version + "-main-%Y-%m-%d_%H%M%S.log");
  auto sb = std::get<std::string>(conf.at("shared_buffers"));
  CHECK((sb.ends_with(" MB") || sb.ends_with(" GB")));
  CHECK_THROWS_AS(postgres::compute_config(settings(), layout(), {"C", 5432, {{"shared_buffers", std::string("250%")}}}),
                  InvalidSpec);
}

TEST_CASE("memory sizes are whole GB when exact, else MB") {
  CHECK(core::pg_memory_size(6ull << 30) == "6 GB");
  CHECK(core::pg_memory_size((15ull << 30) + (512ull << 20)) == "15872 MB");
}

TEST_CASE("site templates override the built-in ones, version-specific first") {
  std::string t = (fs::temp_directory_path() / "pglift-tmpl-XXXXXX").string();
  REQUIRE(::mkdtemp(t.data()));
  fs::path dir = t;
  Settings s = settings();
  s.config_dirs = {dir};
  auto v = layout().version;
  core::make_dirs(dir / "postgresql" / v);
  core::write_file_atomic(dir / "postgresql/postgresql.conf", "cluster_name = 'generic'\n");
  CHECK(std::get<std::string>(postgres::compute_config(s, layout(), {"C", 5432, {}}).at("cluster_name")) == "generic");
  core::write_file_atomic(dir / "postgresql" / v / "postgresql.conf", "cluster_name = 'v-{name}'\n");
  CHECK(std::get<std::string>(postgres::compute_config(s, layout(), {"C", 5432, {}}).at("cluster_name")) == "v-main");
  core::write_file_atomic(dir / "postgresql/pg_hba.conf", "local all {surole} {auth.local}\n");
  CHECK(postgres::render_hba(s, layout(), {"md5", "md5", "md5"}) == "local all postgres md5\n");
  fs::remove_all(dir);
}

TEST_CASE("pg_hba.conf: peer with the ident map locally, scram on loopback, never trust by default") {
  auto auth = postgres::AuthMethods::of(settings(), {});
  std::string hba = postgres::render_hba(settings(), layout(), auth);
  CHECK(hba.find("trust") == std::string::npos);
  CHECK(hba.find("peer map=pglift") != std::string::npos);
  CHECK(hba.find("127.0.0.1/32            scram-sha-256") != std::string::npos);
  CHECK(hba.find("replication     replication") != std::string::npos);
  std::string ident = postgres::render_ident(settings(), layout());
  CHECK(ident.find("pglift          " + core::current_user().name) != std::string::npos);
  CHECK(ident.find(" postgres") != std::string::npos);
  auto md5 = postgres::AuthMethods::of(settings(), {.local = "md5"});
  CHECK(postgres::render_hba(settings(), layout(), md5).find("local   all             postgres                                md5") !=
        std::string::npos);
}
