// What `pglift patroni -i INSTANCE <command>` does, given its parsed arguments (see patroni_commands.cpp).
#pragma once
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

}  // namespace cli
