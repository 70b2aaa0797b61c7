// Instance values: what the user asks for (InstanceSpec) apart from what is observed (Instance).
// Both round-trip through JSON in the shape of pglift's `instance get -o json`.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "pglift/database_spec.hpp"
#include "pglift/patroni.hpp"
#include "pglift/role_spec.hpp"

namespace pglift {

/// A postgresql.conf value as written in the file: on/off become booleans, plain numbers integers or
/// doubles, everything else a string ("6 GB", "iso, mdy").
using ConfValue = std::variant<bool, std::int64_t, double, std::string>;
using ConfParameters = std::map<std::string, ConfValue>;

enum class InstanceState : int { stopped = 0, started = 1 };
enum class StopMode : int { smart = 0, fast = 1, immediate = 2 };
enum class RunStatus : int { running = 0, not_running = 3 };  ///< values are `instance status` exit codes

const char* to_string(InstanceState) noexcept;  // "stopped" / "started"
const char* to_string(StopMode) noexcept;       // "smart" / "fast" / "immediate"
const char* to_string(RunStatus) noexcept;      // "running" / "not_running"

struct AuthSpec {
  std::optional<std::string> local{}, host{}, hostssl{};
};

/// The manifest of an instance. Passwords are write-only: never returned, logged or serialised.
struct InstanceSpec {
  std::string name{};
  std::optional<std::string> version{};  ///< default: settings' default version
  std::optional<int> port{};             ///< default: 5432
  ConfParameters settings{};             ///< extra postgresql.conf parameters
  std::optional<bool> data_checksums{};  ///< default: settings' initdb.data_checksums
  std::optional<std::string> locale{};
  std::optional<std::string> encoding{};
  AuthSpec auth{};
  std::optional<std::string> surole_password{};
  std::optional<std::string> replrole_password{};
  /// Patroni member: the password of the `rewind` role pg_rewind connects as (every member of a cluster
  /// needs the same one; default: a local member's, else new for a new cluster).
  std::optional<std::string> rewind_password{};
  InstanceState state = InstanceState::started;
  /// Managed by Patroni, as a member of this cluster (needs the `patroni` settings).
  std::optional<PatroniSpec> patroni{};
  /// Write-only: created once the instance runs, roles first, then databases; a failure reverts the
  /// whole creation. A Patroni replica skips them (the leader's replicate to it), with a log line.
  std::vector<RoleSpec> roles{};
  std::vector<DatabaseSpec> databases{};

  /// Parses the JSON manifest; unknown fields and wrong types raise InvalidSpec naming the field (nested
  /// ones by their path, "patroni.restapi.listen") and the expected type. Errors never quote the document:
  /// a syntax error gives the offset, line, column and reason; a sub-document is shown as {...} or [...],
  /// a password as "**********".
  static InstanceSpec from_json(const std::string& json);
  std::string to_json() const;  ///< without passwords, roles and databases (write-only)
  /// Checks what can be checked without the host; throws InvalidSpec naming the field:
  ///  - name: letters, digits and underscores (ASCII); it goes into paths, the qualname "15-main" (hence
  ///    no '-'), unit names, Patroni's YAML and psql's prompt;
  ///  - patroni.cluster, patroni.node: letters, digits, '_', '.', '-', not starting with '-' or '.';
  ///  - port range, version, auth methods, patroni addresses;
  ///  - each role and database as RoleSpec/DatabaseSpec::validate does, named by its path ("roles[1].name").
  void validate() const;
  /// The JSON Schema of the manifest (`instance --schema`): every field from_json reads, "patroni",
  /// "roles" and "databases" included (their items: RoleSpec's and DatabaseSpec's schemas).
  static std::string json_schema();
};

/// An instance as found on disk (and, when running, as PostgreSQL reports it).
struct Instance {
  std::string name{};
  std::string version{};
  int port = 5432;
  ConfParameters settings{};               ///< managed postgresql.conf parameters (port excluded)
  std::optional<bool> data_checksums{};
  std::optional<std::string> locale{};     ///< null when not running or when lc_collate != lc_ctype
  std::optional<std::string> encoding{};     ///< null when not running
  InstanceState state = InstanceState::stopped;
  bool pending_restart = false;
  std::filesystem::path data_directory{};
  std::filesystem::path wal_directory{};
  std::optional<PatroniInfo> patroni{};  ///< for a Patroni member

  std::string qualname() const { return version + "-" + name; }  ///< "15-main"
  std::string display() const { return version + "/" + name; }   ///< "15/main"
  std::string to_json() const;
  static Instance from_json(const std::string& json);
};

/// One row of `instance list`.
struct InstanceListItem {
  std::string name{};
  std::string version{};
  int port = 5432;
  std::filesystem::path datadir{};
  RunStatus status = RunStatus::not_running;

  std::string qualname() const { return version + "-" + name; }
};

std::string to_json(const std::vector<InstanceListItem>& items);

/// How the user names an instance: "15/main" or "main" (the version is then looked up).
struct InstanceRef {
  std::string name{};
  std::optional<std::string> version{};
  /// Throws InvalidSpec (field "instance") for a malformed reference or a name no instance can have
  /// (see InstanceSpec::validate): such a name is never looked up.
  static InstanceRef parse(const std::string& text);
  std::string str() const { return version ? *version + "/" + name : name; }
};

struct InstanceStatus {
  RunStatus postgresql = RunStatus::not_running;
  std::optional<int> pid{};  ///< postmaster PID when running
  /// For a Patroni member: its REST API answers (nullopt for a plain instance).
  std::optional<RunStatus> patroni_api{};
  std::optional<std::string> patroni_role{}, patroni_state{};  ///< from GET /patroni
  /// For a Patroni member: "running" | "not_running" | "unreachable" (its process runs, its API does not answer).
  std::optional<std::string> patroni{};
  bool orphan_postmaster = false;  ///< a Patroni member's postmaster runs without its Patroni
  /// For a Patroni member: whether the DCS answered, and its error when it did not.
  std::optional<bool> dcs_reachable{};
  std::optional<std::string> dcs_error{};
};

}  // namespace pglift
