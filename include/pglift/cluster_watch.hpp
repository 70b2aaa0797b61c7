// Watching a Patroni cluster's state in its DCS: one event per change, from etcd's watch API (no polling).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "pglift/streams.hpp"

namespace pglift {

/// A change of the cluster, as its keys under /<namespace>/<scope>/ in etcd show it.
///   kind             member           before / after
///   leader_changed   the new leader   the leader before / after (absent: none)
///                    (the old one when the leader key went away)
///   member_added     the member       - / its role ("primary", "replica"...)
///   member_removed   the member       its role / -
///   role_changed     the member       the role before / after
///   state_changed    the member       the state ("running", "stopped"...) before / after
///   paused, resumed  ""               -
/// `revision`: the etcd revision of the change (of the snapshot for the first events).
struct ClusterEvent {
  std::string kind;
  std::string member;
  std::optional<std::string> before, after;
  std::int64_t revision = 0;
  friend bool operator==(const ClusterEvent&, const ClusterEvent&) = default;
};

/// {"kind": "leader_changed", "member": "pg2", "before": "pg1", "after": "pg2", "revision": 42}
/// (absent before/after are null).
std::string to_json(const ClusterEvent& event);

/// Watches the cluster of Patroni member `member` (its YAML gives scope and namespace; the site's etcd
/// settings the DCS) and calls `on_event` until it returns false. The first events describe the current
/// state (member_added for each member, leader_changed from none, paused when paused) as of a snapshot;
/// the watch then starts at the snapshot's revision + 1, so no change between the two is missed. A
/// broken etcd connection is resumed from the last revision seen, on any etcd host, within 30 s (a
/// connection silent for 10 s whose host does not answer a read counts as broken); after
/// that, Error(dcs) (as at once when no host answers the first snapshot). StateError when the instance
/// is not a Patroni member. Keys followed: leader, members/<name> (role, state), config (pause); others
/// (history, sync, status...) make no event. `on_event` runs on the
/// calling thread (blocking libpglift calls allowed in it).
void watch_cluster(Context& ctx, const InstanceRef& member, const std::function<bool(const ClusterEvent&)>& on_event);

/// The same, until the operation is cancelled (then `done` gets Cancelled) or fails. `on_event` runs on
/// a library thread: it must not block nor make blocking libpglift calls; `gate` holds the watch back.
Operation start_watch_cluster(Context& ctx, InstanceRef member, std::function<void(const ClusterEvent&)> on_event,
                              Callback<> done, OpOptions op = {}, StreamGate gate = {});

}  // namespace pglift
