// No silent loss when a former leader rejoins: before Patroni starts a member whose PostgreSQL is
// stopped while another member leads, what pg_rewind would discard of our WAL is found and said.
#pragma once
#include "core/asio.hpp"
#include "core/op.hpp"
#include "patroni/config.hpp"
#include "postgres/layout.hpp"

namespace pglift::ops::patroni_member {

/// Compares this stopped data directory's timeline and WAL with the leader's timeline history. WAL past
/// the fork point holding commits: refused with WouldLoseData (range, commit count, time window) unless
/// `accept_data_loss` or the site's patroni.rejoin_discarding_commits = "rejoin", which warn instead.
/// WAL past it without a commit: an INFO line. Nothing to compare (no other leader, same timeline):
/// silent. The DCS unreachable: a warning (Patroni cannot rejoin without it either).
/// Returns the range accepted to be lost ("TLI:LSN" of the fork) when commits were: Patroni's own rewind
/// of it, right after, is then let through by the launcher's hook whatever the automatic policy.
awaitable<std::optional<std::string>> check_rejoin(const core::Op& op, const postgres::Layout& layout,
                                                   const patroni::Member& member, bool accept_data_loss);

}  // namespace pglift::ops::patroni_member
