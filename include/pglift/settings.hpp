// Site settings: built-in defaults <- /etc/pglift/settings.yaml <- $XDG_CONFIG_HOME/pglift/settings.yaml
// <- $PGLIFT_CONFIG_DIR/settings.yaml (exclusive when set) <- SETTINGS (JSON or @file) <- PGLIFT_<KEY>__<SUB>.
// Loaded once, validated, then immutable. Paths here are resolved and absolute; templates keep {version}/{name}.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pglift/patroni.hpp"

namespace pglift {

struct PostgreSQLVersion {
  std::string version{};           ///< major, e.g. "15"
  std::filesystem::path bindir{};  ///< e.g. /usr/lib/postgresql/15/bin
};

struct InitdbSettings {
  std::string locale = "C";
  std::string encoding = "UTF8";
  std::optional<bool> data_checksums{};
};

struct AuthSettings {
  std::string local = "peer";           ///< never "trust" by default
  std::string host = "scram-sha-256";
  std::string hostssl = "scram-sha-256";
  std::optional<std::filesystem::path> passfile{};  ///< exported as PGPASSFILE when set
};

struct SuRoleSettings {
  std::string name = "postgres";
};

struct PostgreSQLSettings {
  std::string bindir = "/usr/lib/postgresql/{version}/bin";  ///< template, must contain {version}
  std::vector<PostgreSQLVersion> versions{};                     ///< auto-detected from bindir when not set
  std::optional<std::string> default_version{};                  ///< null: highest of versions
  InitdbSettings initdb{};
  AuthSettings auth{};
  SuRoleSettings surole{};
  std::optional<std::string> replrole = "replication";
  std::string datadir;           ///< absolute template with {version} and {name}
  std::string waldir;            ///< absolute template with {version} and {name}
  std::filesystem::path logpath{};           ///< PostgreSQL log_directory
  std::filesystem::path socket_directory{};  ///< unix_socket_directories
};

struct Settings {
  std::filesystem::path prefix{};
  std::filesystem::path run_prefix{};
  PostgreSQLSettings postgresql{};
  /// Non-null enables Patroni (`patroni: {}` with defaults).
  std::optional<PatroniSettings> patroni{};
  /// Site configuration directories searched for templates (postgresql/postgresql.conf, ...), most
  /// specific first; empty entries are skipped. Filled by load().
  std::vector<std::filesystem::path> config_dirs{};

  /// Loads from the environment and files as described at the top of this header. Throws SettingsError
  /// naming the key path ("unknown setting 'postgresql.foo'") or the file.
  static Settings load();
  /// Loads from explicit layers (lowest precedence first), each a JSON or YAML document; for tests and
  /// embedders who do not want the environment to count.
  static Settings from_documents(const std::vector<std::string>& documents);

  /// The bindir of an installed major version; throws InvalidSpec("version", ...) when not installed.
  const PostgreSQLVersion& version(const std::string& major) const;
  /// default_version or the highest installed.
  const std::string& default_version() const;

  /// The effective settings as a JSON document (what `site-settings -o json` shows).
  std::string to_json() const;
};

}  // namespace pglift
