// Patroni values: the site settings (PatroniSettings), what the user asks for an instance (PatroniSpec),
// and what is observed (PatroniInfo, ClusterMember). JSON in the shape of the seed's `instance get -o json`.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pglift {

struct EtcdSettings {
  std::vector<std::string> hosts{"127.0.0.1:2379"};  ///< HOST:PORT, IPv6 as [::1]:2379
  std::string protocol = "http";                     ///< "https" required with cacert/cert
  std::optional<std::filesystem::path> cacert{}, cert{}, key{};
  std::optional<std::string> username{}, password{};
};

struct RestApiSettings {
  std::optional<std::filesystem::path> cafile{}, certfile{}, keyfile{};
  std::optional<std::string> verify_client{};  ///< "optional" | "required"
  std::optional<std::string> username{}, password{};  ///< basic authentication of the REST API
};

struct PatroniSettings {
  std::filesystem::path execpath = "/usr/bin/patroni";
  std::filesystem::path ctlpath = "/usr/bin/patronictl";
  std::string configpath;   ///< absolute template with {name} (the qualname): {prefix}/etc/patroni/{name}.yaml
  std::filesystem::path logpath;   ///< {prefix}/log/patroni; per instance <logpath>/<qualname>/patroni.log
  std::string pid_file;     ///< absolute template with {name}: {run_prefix}/patroni/{name}.pid
  std::string passfile;     ///< absolute template with {name}: {prefix}/etc/patroni/{name}.pgpass
  EtcdSettings etcd{};
  RestApiSettings restapi{};
  std::string watchdog_mode = "off";  ///< off | automatic | required
  std::optional<std::filesystem::path> watchdog_device{};
  bool use_pg_rewind = true;
  /// Patroni's synchronous replication, for the clusters bootstrapped here (a spec's patroni part may
  /// say otherwise): a commit on the leader returns once a synchronous standby has it, and only such a
  /// standby may be promoted automatically, so that no confirmed commit is lost in a failover.
  bool synchronous_mode = false;
  /// With synchronous_mode: the leader stops confirming commits when no synchronous standby is left,
  /// rather than going on alone (no write is ever confirmed by one member only).
  bool synchronous_mode_strict = false;
  int loop_wait = 10, ttl = 30, retry_timeout = 10;  ///< seconds; loop_wait + 2*retry_timeout <= ttl
  int create_timeout = 300;                          ///< seconds allowed for a member to become ready
  /// When `start` of a former leader would discard committed transactions (pg_rewind to the new
  /// leader's timeline) and nobody can be asked: "refuse" (the member stays stopped, WouldLoseData) or
  /// "rejoin" (a warning names what is lost). StartOptions::accept_data_loss overrides it per call.
  std::string rejoin_discarding_commits = "refuse";
  /// When Patroni itself rewinds a running former leader it demoted (a partition healed) and that
  /// discards committed transactions: "rejoin" (default: the member rejoins as a replica, as HA users
  /// expect of Patroni; the loss is recorded, PatroniInfo::discarded_on_rejoin, and logged) or "refuse"
  /// (the rewind fails, the member's PostgreSQL stays stopped with its WAL, recorded; `instance stop` then
  /// `instance start` with the loss accepted is the way on). Not `rejoin_discarding_commits`: there a
  /// person runs the start and can be asked; here nobody is, and a member kept out costs the cluster a
  /// replica for commits that async replication never promised to keep (synchronous_mode does).
  std::string automatic_rejoin_discarding_commits = "rejoin";
};

struct PatroniSpec {
  std::string cluster{};                     ///< Patroni scope; required
  std::optional<std::string> node{};         ///< default: the host name
  std::optional<std::string> restapi_connect_address{};  ///< HOST:PORT, default <host address>:8008
  std::optional<std::string> restapi_listen{};           ///< default: the connect address
  std::optional<std::string> postgresql_connect_host{};  ///< default: the host address
  std::optional<std::filesystem::path> replication_ssl_cert{}, replication_ssl_key{};
  /// For a new cluster (written into its dynamic configuration at bootstrap; a member joining an existing
  /// cluster takes the cluster's): default, the site's patroni.synchronous_mode(_strict).
  std::optional<bool> synchronous_mode{}, synchronous_mode_strict{};
};

/// A role's user name and password.
struct RoleCredentials {
  std::string username{}, password{};
};

/// The credentials every member of a Patroni cluster shares: its superuser, replication and rewind roles.
/// What a member on another host needs to join the cluster (InstanceSpec's surole_password,
/// replrole_password and rewind_password). Holds secrets: never log, print or pass them on a command line.
struct PatroniCredentials {
  RoleCredentials superuser{}, replication{}, rewind{};
  /// {"superuser": {"username": "postgres", "password": "..."}, "replication": {...}, "rewind": {...}}:
  /// the passwords in clear, for a 0600 file.
  std::string to_json() const;
  /// Parses that document. A missing or empty user name or password, or an unknown field, is an
  /// InvalidSpec naming the field ("credentials.rewind.password"); the text is never quoted.
  static PatroniCredentials from_json(const std::string& json);
};

/// One member of GET /cluster. Extra keys are kept as raw JSON, in order.
struct ClusterMember {
  std::string name{}, host{}, role{}, state{};
  int port = 0;
  std::optional<std::string> api_url{};
  std::optional<std::int64_t> timeline{};
  std::optional<std::variant<std::int64_t, std::string>> lag{};  ///< bytes, or "unknown"
  std::vector<std::pair<std::string, std::string>> extra{};    ///< other keys: name -> JSON text
  // Observed by pglift, not by Patroni (absent when not observed):
  std::optional<std::string> patroni_api{};  ///< "running" | "unreachable": its own REST API answered
  /// As a candidate to lead: "leader" | "streaming" (from the leader, on its timeline, within the lag
  /// limit) | "not_streaming" | "lagging" | "diverged" | "stopped" | "unreachable" | "unknown".
  std::optional<std::string> health{};
  std::optional<std::string> health_reason{};  ///< why it cannot take over (absent when it can)
};

/// What pglift-supervisor recorded when Patroni died without a requested stop and it stopped the member's
/// PostgreSQL (fenced it): reported by get and status until the next start.
struct PatroniFence {
  std::string at{};      ///< UTC, ISO 8601
  std::string reason{};  ///< "Patroni (PID 123) was killed by signal 9 (SIGKILL) without a requested stop"
};

/// What Patroni's own pg_rewind of this former leader discarded (or would have: refused), recorded by
/// the hook in pglift-patroni-launch.py (<logdir>/rejoin.json): reported by get and status until the
/// next start acknowledges it (a start of a running member acknowledges a "rejoined" one).
struct PatroniRejoin {
  std::string at{};           ///< UTC, ISO 8601
  std::string outcome{};      ///< "rejoined" (rewound: the commits are gone) | "refused" (kept, member stopped)
  std::string description{};  ///< range, commit count and time window, what was done, the way on
  std::optional<std::int64_t> commits{};  ///< committed transactions discarded (at least); absent: unknown
};

struct PatroniInfo {
  std::string cluster{}, node{};
  std::string restapi_connect_address{}, restapi_listen{};
  std::optional<std::string> postgresql_connect_host{};
  /// From this member's REST API, else from the DCS; with the DCS unreachable, what is still known,
  /// each with state "unknown" (this member at least): never empty for a member.
  std::vector<ClusterMember> cluster_members{};
  std::optional<bool> is_paused{};
  std::optional<std::string> state{};  ///< this member's Patroni: "running" | "not_running" | "unreachable"
  /// Its postmaster runs while its Patroni does not: nothing fences it, nobody manages it.
  bool orphan_postmaster = false;
  std::optional<std::string> dcs_error{};  ///< the DCS could not be reached: the error (absent when it could)
  /// The cluster's synchronous replication, from its dynamic configuration in the DCS (absent when unknown).
  std::optional<bool> synchronous_mode{}, synchronous_mode_strict{};
  std::optional<PatroniFence> fenced{};  ///< the supervisor's fence record, until the next start
  std::optional<PatroniRejoin> discarded_on_rejoin{};  ///< Patroni's own rewind discarded commits: until acknowledged
};

}  // namespace pglift
