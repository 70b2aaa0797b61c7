// Whether a member can take over: pure logic over what was observed (GET /cluster, each member's own
// GET /patroni, its pg_stat_wal_receiver, the leader's GET /history and the cluster's configuration).
// Patroni 3.0.2's own candidate check ignores timelines, and its lag is a difference of positions that
// says nothing of a fork: a member on another timeline may look like a healthy replica there.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/value.hpp"
#include "patroni/history.hpp"
#include "pglift/patroni.hpp"

namespace pglift::patroni {

/// The row of pg_stat_wal_receiver on a replica; `status` empty when there is no row (no walreceiver).
struct WalReceiver {
  std::string status{};
  std::optional<std::int64_t> received_tli{};
  std::string sender_host{};
  std::optional<int> sender_port{};
};

/// maximum_lag_on_failover of the cluster's dynamic configuration (GET /config), 1048576 by default.
std::int64_t max_lag_of(const std::optional<core::Value>& config);

/// The WAL position a member's own GET /patroni reports: a primary's location, else the furthest of
/// what a replica received and replayed.
std::optional<std::int64_t> wal_position(const core::Value& status);

/// What pglift saw of one member beyond GET /cluster.
struct MemberObservation {
  bool api_answers = false;                 ///< its own REST API answered GET /patroni
  std::optional<core::Value> status{};      ///< that answer
  std::optional<WalReceiver> walreceiver{};  ///< asked through libpq (absent: not asked)
  std::optional<std::string> walreceiver_error{};  ///< libpq's error when the question failed
};

enum class Health { leader, streaming, not_streaming, lagging, diverged, stopped, unreachable, unknown };
const char* to_string(Health) noexcept;  // "leader", "streaming", "not_streaming", ...

struct Assessment {
  Health health = Health::unknown;
  std::string reason{};  ///< why it cannot take over; empty when it can
  /// Whether waiting may cure it (a just-demoted member catching up), or never without an operator.
  bool lasting() const noexcept {
    return health == Health::diverged || health == Health::stopped || health == Health::unreachable;
  }
};

/// How `member` stands as a candidate to replace `leader` (nullptr: nobody leads).
Assessment assess(const ClusterMember& member, const ClusterMember* leader, const MemberObservation& seen,
                  const std::vector<HistoryEntry>& history, std::int64_t max_lag);

}  // namespace pglift::patroni
