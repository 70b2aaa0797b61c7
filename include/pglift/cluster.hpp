// A Patroni cluster as a value: a snapshot of its members, leader, pause, timeline history and dynamic
// configuration, seen through one of its members on this host (its REST API, else the DCS) or from the
// DCS alone; and the cluster-wide operations, each of which returns once the new state is observed and
// then refreshes the snapshot.
//
// Credentials: unsafe REST calls (POST, PATCH) only ever go to the API of a member configured on this
// host, with the credentials of its own configuration; never to an address read from the DCS. So every
// action but remove() needs a member of the cluster on this host, and restart()/reinit() of a member
// on another host are refused (StateError naming it).
//
// Each operation exists blocking (`c.restart(ctx, "pg2")`) and asynchronous with a callback
// (`c.start_restart(ctx, "pg2", done)`, returning a cancellable Operation); <pglift/async.hpp> adds Asio
// completion tokens (`async_cluster_restart(ctx, c, "pg2", token)`). An asynchronous action updates the
// Cluster it was started on when it succeeds, just before `done` is called: that object must outlive
// the operation and must not be used until `done` runs. A failed or cancelled action leaves it as it was.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pglift/cluster_watch.hpp"
#include "pglift/context.hpp"
#include "pglift/instance.hpp"
#include "pglift/operations.hpp"
#include "pglift/patroni.hpp"

namespace pglift {

/// One line of Patroni's timeline history (GET /history, the DCS `history` key): a timeline that ended.
struct ClusterHistoryEntry {
  std::int64_t timeline = 0;  ///< the timeline that ended
  std::int64_t lsn = 0;       ///< where it ended (a WAL position in bytes): the next timeline starts there
  std::string reason{};       ///< PostgreSQL's reason ("no recovery target specified"), may be empty
  std::optional<std::string> timestamp{};   ///< when (ISO 8601), when Patroni recorded it
  std::optional<std::string> new_leader{};  ///< who led next, when Patroni recorded it
};

class Cluster {
 public:
  /// An empty snapshot (no name, no members): what an asynchronous of() hands over with an error.
  Cluster() = default;

  /// The cluster of `member`, an instance of this host managed by Patroni (StateError otherwise): members
  /// from its REST API (with each member's health as a candidate), else from the DCS (its Patroni is
  /// down); with the DCS unreachable, what is still known, dcs_error() saying why. Actions go through
  /// `member`.
  static Cluster of(Context& ctx, const InstanceRef& member);
  /// The cluster named `name` (Patroni's scope) as the DCS of the site settings holds it: members as
  /// their keys tell (no health or lag: nobody is asked), leader, pause, history, dynamic configuration.
  /// The name is checked first (InvalidSpec "cluster": letters, digits, '_', '.', '-'); NotFound when the
  /// DCS has no key of it; Error(dcs) when the DCS cannot be reached. Actions go through a member of it
  /// on this host (one whose Patroni runs when there are several), when there is one.
  static Cluster from_dcs(Context& ctx, const std::string& name);

  /// A cluster designated but not observed yet: through `member` (an instance of this host), or by its
  /// `name` in the DCS. Only the name's syntax is checked here (InvalidSpec "cluster"); the snapshot is
  /// empty (name() too, through a member) until refresh() or an action observes it, and the errors of
  /// of() / from_dcs() come from that first operation. Actions observe what they need first: one call acts, e.g.
  /// `Cluster::through(ref).restart(ctx, "pg2")` (the C ABI's pglift_cluster_* are made so).
  static Cluster through(InstanceRef member);
  static Cluster named(std::string name);

  const std::string& name() const noexcept { return name_; }
  const std::vector<ClusterMember>& members() const noexcept { return members_; }
  /// The member holding the leader lock (role leader or standby_leader); nullopt when nobody leads.
  std::optional<std::string> leader() const;
  /// Automatic failover paused (Patroni's maintenance mode).
  bool paused() const noexcept { return paused_; }
  /// Oldest first; empty for a cluster that never changed timeline.
  const std::vector<ClusterHistoryEntry>& history() const noexcept { return history_; }
  /// The cluster's dynamic configuration (the DCS `config` key, else the member's GET /config) as JSON
  /// text, "{}" when unknown; values of password keys are redacted.
  std::string dynamic_configuration() const { return dynamic_configuration_; }
  /// "rest" (a member's API answered) or "dcs" (the keys in the DCS).
  const std::string& source() const noexcept { return source_; }
  /// The DCS could not be reached (of() only: from_dcs() fails instead): its error.
  const std::optional<std::string>& dcs_error() const noexcept { return dcs_error_; }
  /// The member on this host that actions go through; nullopt when there is none.
  const std::optional<InstanceRef>& local_member() const noexcept { return local_member_; }

  /// {"name", "leader" (null when none), "paused", "source", "local_member" (null when none),
  ///  "members": [as in `instance get -o json`'s cluster_members], "history": [{"timeline", "lsn",
  ///  "reason", "timestamp", "new_leader"}], "dynamic_configuration": {...}, "dcs_error" (when any)}.
  std::string to_json() const;

  // --- actions: each needs local_member() (StateError saying why otherwise), except remove(). Each takes
  // the lock of the instance(s) it acts on (Busy when another operation holds it), is bounded by a
  // deadline (Timeout naming what was awaited) and refreshes the snapshot once done. ---

  /// Switchover (see patroni_switchover): returns once the new leader is observed, or scheduled.
  TopologyResult switchover(Context& ctx, const SwitchoverOptions& options = {});
  /// Manual failover to `candidate` (see patroni_failover): returns once it leads.
  TopologyResult failover(Context& ctx, const std::string& candidate);
  /// Pauses / resumes automatic failover; returns once every running member reports it.
  void pause(Context& ctx);
  void resume(Context& ctx);
  /// Restarts the PostgreSQL of `member` through its Patroni (POST /restart); returns once Patroni
  /// reports a new postmaster start time, no pending restart, and the state running. InvalidSpec
  /// ("member") when it is not a member; StateError naming it when it is not on this host.
  void restart(Context& ctx, const std::string& member);
  /// Rolling restart: every replica first (one at a time, each observed as restart()), the leader last.
  /// Every member must be on this host: otherwise StateError naming those that are not, nothing done.
  /// Every member's lock is taken first (Busy before anything is restarted) and held to the end.
  void restart_all(Context& ctx);
  /// Reinitializes replica `member` (POST /reinitialize: its data is cloned anew from the leader);
  /// returns once it has restarted and streams from the leader again (within patroni.create_timeout).
  /// StateError for the leader, or a member on another host; InvalidSpec ("member") for a non-member.
  void reinit(Context& ctx, const std::string& member);
  /// Deletes the cluster's keys from the DCS. Refused (StateError naming them) while a member is alive
  /// (its REST API answers) or while a member of it is still configured on this host (drop it first);
  /// Error(dcs) when the DCS cannot be reached. Afterwards the snapshot has no member and no leader.
  void remove(Context& ctx);
  /// Observes the cluster again, the way it was first observed (through the same member, or the DCS).
  void refresh(Context& ctx);
  /// The cluster's changes as they happen: watch_cluster() through local_member() (its Patroni
  /// configuration names the cluster's keys), until `on_event` returns false. The snapshot is not
  /// updated by the events (refresh() does). StateError when the snapshot knows no member of the cluster
  /// on this host (observe it first: of(), from_dcs(), refresh()).
  void watch(Context& ctx, const std::function<bool(const ClusterEvent&)>& on_event) const;

  // --- the same, with a callback (see the top of this header for the lifetime of *this) ---
  Operation start_switchover(Context& ctx, SwitchoverOptions options, Callback<TopologyResult> done, OpOptions op = {});
  Operation start_failover(Context& ctx, std::string candidate, Callback<TopologyResult> done, OpOptions op = {});
  /// pause true: pause(); false: resume().
  Operation start_pause(Context& ctx, bool pause, Callback<> done, OpOptions op = {});
  Operation start_restart(Context& ctx, std::string member, Callback<> done, OpOptions op = {});
  Operation start_restart_all(Context& ctx, Callback<> done, OpOptions op = {});
  Operation start_reinit(Context& ctx, std::string member, Callback<> done, OpOptions op = {});
  Operation start_remove(Context& ctx, Callback<> done, OpOptions op = {});
  Operation start_refresh(Context& ctx, Callback<> done, OpOptions op = {});
  /// Until cancelled (then `done` gets Cancelled) or failed; `on_event` runs on a library thread (see
  /// start_watch_cluster). This object is not needed once the operation has started.
  Operation start_watch(Context& ctx, std::function<void(const ClusterEvent&)> on_event, Callback<> done,
                        OpOptions op = {}) const;

  struct Access;  ///< the library's way in (defined in the library only)

 private:
  std::string name_{}, source_{"dcs"}, dynamic_configuration_{"{}"};
  std::vector<ClusterMember> members_{};
  bool paused_ = false;
  std::vector<ClusterHistoryEntry> history_{};
  std::optional<std::string> dcs_error_{};
  std::optional<InstanceRef> local_member_{};
  bool via_member_ = false;  ///< observed through local_member_ (of), not from the DCS (from_dcs)
};

/// Cluster::of and Cluster::from_dcs with a callback: `done` gets the snapshot (an empty Cluster with an
/// error).
Operation start_cluster_of(Context& ctx, InstanceRef member, Callback<Cluster> done, OpOptions op = {});
Operation start_cluster_from_dcs(Context& ctx, std::string name, Callback<Cluster> done, OpOptions op = {});

}  // namespace pglift
