// What pglift sees of a member's Patroni cluster, told as it is: this member's Patroni (running, not
// running, unreachable), the DCS (its error when it cannot be reached), each member's own API and its
// health as a candidate (patroni/health.hpp). Used by get, status and the topology changes.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/asio.hpp"
#include "core/op.hpp"
#include "patroni/config.hpp"
#include "patroni/health.hpp"
#include "patroni/member.hpp"
#include "patroni/rest.hpp"

namespace pglift::ops::patroni_member {

/// A member's configuration, as read from its YAML.
struct ViewSource {
  const PatroniSettings& settings;
  const patroni::Files& files;
  const core::Value& config;
  const patroni::Member& member;
  const patroni::Rest& rest;
};

struct ClusterView {
  std::string state;                     ///< this member's Patroni: running | not_running | unreachable
  std::optional<core::Value> own_status;  ///< its GET /patroni
  std::vector<ClusterMember> members;    ///< with patroni_api and health filled in
  std::vector<patroni::Assessment> assessments;  ///< one per member
  std::optional<std::string> dcs_error;
  std::optional<core::Value> dynamic_config;  ///< the cluster's, from the DCS (its `config` key)

  const ClusterMember* leader() const;
  /// The index of `name` in members, or -1.
  int index_of(const std::string& name) const;
};

/// Asks this member's API and the DCS at once (bounded: the etcd client's timeout, 2 s for the API),
/// then every member's API and, for replicas, their pg_stat_wal_receiver, concurrently (1 s, libpq's
/// connect_timeout 2 s). `probe_members` false: no probes, no health.
awaitable<ClusterView> view_cluster(const core::Op& op, const ViewSource& source, bool probe_members = true);

/// A member as its DCS key (`members/<name>`, JSON text) tells it: when nobody serves GET /cluster (this
/// member's Patroni is down, or Cluster::from_dcs). Malformed JSON gives the name and role only.
ClusterMember member_from_dcs(const std::string& name, const std::string& json, bool leads);

/// The DCS's error for this cluster, nullopt when it answers.
awaitable<std::optional<std::string>> dcs_error(const PatroniSettings& settings, const std::string& cluster);

}  // namespace pglift::ops::patroni_member
