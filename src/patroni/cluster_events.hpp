// A Patroni cluster's state as its DCS keys tell it, and the ClusterEvents that each change of a key
// makes. Pure: fed with etcd's snapshot and watch events, tested with fixtures.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dcs/etcd.hpp"
#include "pglift/cluster_watch.hpp"

namespace pglift::patroni {

class ClusterState {
 public:
  /// `prefix`: "/service/<scope>/".
  explicit ClusterState(std::string prefix) : prefix_(std::move(prefix)) {}

  /// The events describing `snapshot` to someone who knew nothing: member_added for each member (in
  /// name order), leader_changed from none, paused when paused.
  std::vector<ClusterEvent> load(const dcs::Snapshot& snapshot);
  /// The events one watched change makes (none for keys we do not follow, or when the fields we follow
  /// did not change: Patroni rewrites its member key every loop).
  std::vector<ClusterEvent> apply(const dcs::WatchEvent& change);

 private:
  struct MemberState {
    std::optional<std::string> role, state;
  };
  std::vector<ClusterEvent> set(const std::string& key, const std::optional<std::string>& value, std::int64_t revision);

  std::string prefix_;
  std::optional<std::string> leader_;
  std::map<std::string, MemberState> members_;
  bool paused_ = false;
};

/// The DCS prefix of a member's cluster from its Patroni YAML: "<namespace>/<scope>/" (namespace
/// default "/service"). InvalidSpec naming "namespace" or "scope" for a value outside [A-Za-z0-9_.-/].
std::string cluster_prefix(const core::Value& config);

}  // namespace pglift::patroni
