// What `pglift patroni -i INSTANCE <command>` does, given its parsed arguments (see patroni_commands.cpp).
#pragma once
#include <optional>
#include <string>

#include <pglift/operations.hpp>

#include "session.hpp"
#include "targets.hpp"

namespace cli {

/// Prints the member's patroni.log; with `follow`, goes on printing what is appended (across rotations)
/// until interrupted.
int patroni_logs(Session& session, const Target& target, bool follow);
int patroni_switchover(Session& session, const Target& target, const pglift::SwitchoverOptions& options);
int patroni_failover(Session& session, const Target& target, const std::string& candidate);
/// Pauses (or resumes) automatic failover of the member's cluster.
int patroni_pause(Session& session, const Target& target, bool pause);
/// Writes the cluster's credentials (superuser, replication, rewind) to `output`, created mode 0600; an
/// existing file is refused unless `force`. Prints nothing: the secrets go to the file only.
int patroni_credentials(Session& session, const Target& target, const std::string& output, bool force);

// --- cluster ---
/// The member's cluster: a table of its members (name, host, role, state, timeline, lag, health) under
/// a line naming the leader and saying whether it is paused; with `json`, pglift::Cluster::to_json.
int patroni_topology(Session& session, const Target& target, bool json);
/// Restarts `member` through Patroni; without one, every member, replicas first, the leader last.
int patroni_restart(Session& session, const Target& target, const std::optional<std::string>& member);
/// Reinitializes replica `member`, until it streams again.
int patroni_reinit(Session& session, const Target& target, const std::string& member);
// --- end cluster ---

}  // namespace cli
