#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "core/files.hpp"
#include "pglift/errors.hpp"
#include "pglift/settings.hpp"
#include "postgres/layout.hpp"

using namespace pglift;
namespace fs = std::filesystem;

namespace {
/// Sets environment variables for one test and restores them after.
struct EnvGuard {
  std::vector<std::pair<std::string, std::optional<std::string>>> saved;
  void set(const std::string& k, const std::optional<std::string>& v) {
    const char* old = std::getenv(k.c_str());
    saved.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
    if (v) ::setenv(k.c_str(), v->c_str(), 1);
    else ::unsetenv(k.c_str());
  }
  ~EnvGuard() {
    for (auto it = saved.rbegin(); it != saved.rend(); ++it)
      if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else ::unsetenv(it->first.c_str());
  }
};

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "pglift-unit-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()));
    path = t;
  }
  ~TempDir() { fs::remove_all(path); }
};

const std::string base = R"({"prefix": "/srv/p", "run_prefix": "/run/p"})";
}  // namespace

TEST_CASE("settings: braces in the prefix are text, not template variables (found by fuzzing)") {
  auto s = Settings::from_documents({R"({"prefix": "/srv/{x}", "run_prefix": "/run/p}"})"});
  CHECK(s.postgresql.datadir == "/srv/{{x}}/srv/pgsql/{version}/{name}/data");
  CHECK(postgres::Layout::of(s, "main", s.default_version()).datadir == "/srv/{x}/srv/pgsql/" + s.default_version() + "/main/data");
  CHECK(Settings::from_documents({s.to_json()}).to_json() == s.to_json());
}

TEST_CASE("settings: defaults resolve relative paths under prefix and run_prefix") {
  auto s = Settings::from_documents({base});
  CHECK(s.prefix == "/srv/p");
  CHECK(s.postgresql.datadir == "/srv/p/srv/pgsql/{version}/{name}/data");
  CHECK(s.postgresql.waldir == "/srv/p/srv/pgsql/{version}/{name}/wal");
  CHECK(s.postgresql.logpath == "/srv/p/log/postgresql");
  CHECK(s.postgresql.socket_directory == "/run/p/postgresql");
  CHECK(s.postgresql.auth.local == "peer");
  CHECK(s.postgresql.auth.host == "scram-sha-256");
  CHECK(s.postgresql.surole.name == "postgres");
  CHECK(s.postgresql.replrole == std::optional<std::string>("replication"));
  CHECK(s.postgresql.initdb.locale == "C");
  CHECK_FALSE(s.postgresql.versions.empty());
  CHECK(s.default_version() == s.postgresql.versions.back().version);
}

TEST_CASE("settings: later documents win, recursively") {
  auto s = Settings::from_documents({base, R"({"postgresql": {"auth": {"local": "md5"}}})",
                                     "postgresql:\n  auth:\n    host: reject\n  surole:\n    name: admin\n"});
  CHECK(s.postgresql.auth.local == "md5");
  CHECK(s.postgresql.auth.host == "reject");
  CHECK(s.postgresql.surole.name == "admin");
}

TEST_CASE("settings: patroni.rejoin_discarding_commits refuses by default, accepts rejoin, nothing else") {
  auto defaults = Settings::from_documents({base, R"({"patroni": {}})"});
  REQUIRE(defaults.patroni);
  CHECK(defaults.patroni->rejoin_discarding_commits == "refuse");
  auto rejoin = Settings::from_documents({base, "patroni:\n  rejoin_discarding_commits: rejoin\n"});
  CHECK(rejoin.patroni->rejoin_discarding_commits == "rejoin");
  CHECK(rejoin.to_json().find(R"("rejoin_discarding_commits": "rejoin")") != std::string::npos);
  CHECK_THROWS_WITH_AS(Settings::from_documents({base, R"({"patroni": {"rejoin_discarding_commits": "yes"}})"}),
                       doctest::Contains("'patroni.rejoin_discarding_commits': 'yes' is not one of"), SettingsError);
}

TEST_CASE("settings: patroni.automatic_rejoin_discarding_commits rejoins by default, accepts refuse, nothing else") {
  auto defaults = Settings::from_documents({base, R"({"patroni": {}})"});
  REQUIRE(defaults.patroni);
  CHECK(defaults.patroni->automatic_rejoin_discarding_commits == "rejoin");
  CHECK(defaults.patroni->rejoin_discarding_commits == "refuse");  // the start's own policy is unchanged
  auto refuse = Settings::from_documents({base, "patroni:\n  automatic_rejoin_discarding_commits: refuse\n"});
  CHECK(refuse.patroni->automatic_rejoin_discarding_commits == "refuse");
  CHECK(refuse.to_json().find(R"("automatic_rejoin_discarding_commits": "refuse")") != std::string::npos);
  CHECK_THROWS_WITH_AS(Settings::from_documents({base, R"({"patroni": {"automatic_rejoin_discarding_commits": "no"}})"}),
                       doctest::Contains("'patroni.automatic_rejoin_discarding_commits': 'no' is not one of"), SettingsError);
}

TEST_CASE("settings: unknown keys are rejected with their path") {
  CHECK_THROWS_WITH_AS(Settings::from_documents({base, R"({"postgresql": {"bogus": 1}})"}),
                       "unknown setting 'postgresql.bogus'", SettingsError);
  CHECK_THROWS_WITH_AS(Settings::from_documents({base, R"({"nope": true})"}), "unknown setting 'nope'", SettingsError);
  CHECK_THROWS_WITH_AS(Settings::from_documents({base, R"({"postgresql": {"initdb": {"x": 1}}})"}),
                       "unknown setting 'postgresql.initdb.x'", SettingsError);
}

TEST_CASE("settings: invalid values name the key and value") {
  CHECK_THROWS_WITH_AS(Settings::from_documents({base, R"({"postgresql": {"auth": {"local": "bogus"}}})"}),
                       doctest::Contains("'postgresql.auth.local': 'bogus' is not one of"), SettingsError);
  CHECK_THROWS_WITH_AS(Settings::from_documents({base, R"({"postgresql": {"datadir": "pgsql/{name}"}})"}),
                       doctest::Contains("expecting: name, version"), SettingsError);
  CHECK_THROWS_WITH_AS(Settings::from_documents({R"({"prefix": "relative"})"}),
                       doctest::Contains("'prefix' = relative: must be an absolute path"), SettingsError);
  CHECK_THROWS_WITH_AS(Settings::from_documents({base, R"({"postgresql": {"default_version": "9"}})"}),
                       doctest::Contains("default_version"), SettingsError);
  CHECK_THROWS_AS(Settings::from_documents({"[1, 2"}), SettingsError);
}

TEST_CASE("settings: layering of files, SETTINGS and PGLIFT_ environment variables") {
  TempDir etc, xdg, cfg;
  fs::create_directories(xdg.path / "pglift");
  EnvGuard env;
  env.set("PGLIFT_CONFIG_DIR", std::nullopt);
  env.set("SETTINGS", std::nullopt);
  env.set("XDG_CONFIG_HOME", xdg.path.string());
  core::write_file_atomic(xdg.path / "pglift/settings.yaml", "prefix: /from/xdg\nrun_prefix: /run/xdg\n");

  SUBCASE("the user's settings.yaml") {
    auto s = Settings::load();
    CHECK(s.prefix == "/from/xdg");
  }
  SUBCASE("SETTINGS overrides the file, PGLIFT_ overrides SETTINGS") {
    env.set("SETTINGS", R"({"prefix": "/from/env", "postgresql": {"auth": {"host": "md5"}}})");
    env.set("PGLIFT_POSTGRESQL__AUTH__HOST", "reject");
    env.set("PGLIFT_RUN_PREFIX", "/run/var");
    auto s = Settings::load();
    CHECK(s.prefix == "/from/env");
    CHECK(s.run_prefix == "/run/var");
    CHECK(s.postgresql.auth.host == "reject");
  }
  SUBCASE("SETTINGS=@file") {
    core::write_file_atomic(cfg.path / "s.json", R"({"prefix": "/from/file"})");
    env.set("SETTINGS", "@" + (cfg.path / "s.json").string());
    CHECK(Settings::load().prefix == "/from/file");
  }
  SUBCASE("PGLIFT_CONFIG_DIR is exclusive") {
    env.set("PGLIFT_CONFIG_DIR", cfg.path.string());
    core::write_file_atomic(cfg.path / "settings.yaml", "run_prefix: /run/cfg\n");
    auto s = Settings::load();
    CHECK(s.run_prefix == "/run/cfg");
    CHECK(s.prefix != "/from/xdg");
    REQUIRE(s.config_dirs.size() == 1);
    CHECK(s.config_dirs[0] == cfg.path);
  }
  SUBCASE("an unknown PGLIFT_ variable is an unknown setting") {
    env.set("PGLIFT_POSTGRESQL__NOPE", "1");
    CHECK_THROWS_WITH_AS(Settings::load(), "unknown setting 'postgresql.nope'", SettingsError);
  }
  SUBCASE("invalid SETTINGS JSON") {
    env.set("SETTINGS", "{oops");
    CHECK_THROWS_WITH_AS(Settings::load(), doctest::Contains("SETTINGS environment variable"), SettingsError);
  }
}

TEST_CASE("settings: an uninstalled version is an InvalidSpec naming 'version'") {
  auto s = Settings::from_documents({base});
  try {
    s.version("9");
    FAIL("expected InvalidSpec");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "version");
    CHECK(e.value() == "9");
  }
}

TEST_CASE("settings: role names are limited to a safe character set, the setting named") {
  for (std::string name : {"postgres", "admin_1", "pg.admin", "pg-admin", "dba@corp"}) {
    CAPTURE(name);
    CHECK(Settings::from_documents({base, R"({"postgresql": {"surole": {"name": ")" + std::string(name) + R"("}}})"})
              .postgresql.surole.name == name);
    CHECK(Settings::from_documents({base, R"({"postgresql": {"replrole": ")" + std::string(name) + R"("}})"})
              .postgresql.replrole == std::optional<std::string>(name));
  }
  for (std::string name : {"", "a'b", "a b", "a:b", "a\\\\b", "-x", "a;b", "a\\\"b", "a\\nb"}) {
    CAPTURE(name);
    CHECK_THROWS_WITH_AS(
        Settings::from_documents({base, R"({"postgresql": {"surole": {"name": ")" + std::string(name) + R"("}}})"}),
        doctest::Contains("'postgresql.surole.name'"), SettingsError);
    CHECK_THROWS_WITH_AS(Settings::from_documents({base, R"({"postgresql": {"replrole": ")" + std::string(name) + R"("}})"}),
                         doctest::Contains("'postgresql.replrole'"), SettingsError);
  }
  CHECK_THROWS_WITH_AS(Settings::from_documents({base, R"({"postgresql": {"surole": {"name": "x'y"}}})"}),
                       doctest::Contains("letters, digits"), SettingsError);
}

TEST_CASE("settings: errors never show a password, nor a document's text") {
  const std::string canary = "Canary-5e1d7a";
  auto error_of = [](const std::vector<std::string>& documents) -> std::string {
    try {
      Settings::from_documents(documents);
    } catch (const SettingsError& e) {
      return e.what();
    }
    return "";
  };
  const std::string patroni = R"({"patroni": {"etcd": {"hosts": ["127.0.0.1:2379"], "password": [")" + canary + R"("]}}})";
  std::string message = error_of({base, patroni});
  CHECK(message.find("'patroni.etcd.password'") != std::string::npos);
  CHECK(message.find(canary) == std::string::npos);
  message = error_of({base, R"({"patroni": {"restapi": {"authentication": {"password": {"k": ")" + canary + R"("}}}}})"});
  CHECK(message.find("password") != std::string::npos);
  CHECK(message.find(canary) == std::string::npos);
  message = error_of({base, R"({"patroni": {"etcd": {"password": ")" + canary + R"(" "x": 1}}})"});
  CHECK(message.find("offset") != std::string::npos);
  CHECK(message.find(canary) == std::string::npos);
  message = error_of({base, "patroni:\n  etcd:\n    password: [\"" + canary + "\"\n"});
  CHECK(message.find(canary) == std::string::npos);
}

TEST_CASE("settings: JSON output never holds a password") {
  auto s = Settings::from_documents({base, R"({"patroni": {"etcd": {"hosts": ["127.0.0.1:2379"], "username": "u", "password": "Canary-0a1b"},
      "restapi": {"authentication": {"username": "u", "password": "Canary-0a1b"}}}})"});
  CHECK(s.to_json().find("Canary-0a1b") == std::string::npos);
}
