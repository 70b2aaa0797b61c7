// What plain and Patroni configuration changes share: applying a change set, and asking PostgreSQL
// which changed parameters wait for a restart.
#pragma once
#include <string>
#include <vector>

#include "core/asio.hpp"
#include "core/op.hpp"
#include "pglift/operations.hpp"
#include "postgres/layout.hpp"

namespace pglift::ops {

/// Applies `changes` to `params`, returning the effective (old, new) differences.
std::map<std::string, std::pair<std::optional<ConfValue>, std::optional<ConfValue>>> apply_changes(
    ConfParameters& params, const ParameterChanges& changes);

/// Of `names`, those PostgreSQL applies only at restart (context 'postmaster'). libpq, on the pool.
awaitable<std::vector<std::string>> restart_only(const core::Op& op, const postgres::Layout& layout, int port,
                                                 const std::vector<std::string>& names);
/// pg_conf_load_time() as text, and bool_or(pending_restart). libpq on the pool, bounded by
/// connect_timeout, and abandoned at once on cancellation: made to be polled by core::wait_until.
awaitable<std::pair<std::string, bool>> reload_state(const core::Op& op, const postgres::Layout& layout, int port);

/// SIGHUP to the postmaster, confirmed: waits (30 s) until pg_conf_load_time() differs from `before`
/// (reload_state's first value, read before the reload), failing fast when the postmaster exits. Returns
/// bool_or(pending_restart) as PostgreSQL reports it then.
awaitable<bool> reload_confirmed(const core::Op& op, const postgres::Layout& layout, int port, const std::string& before);

/// A dry run's end (op.dry_run): nothing is written or reloaded; when the instance runs, the changes that
/// would need a restart are named (as PostgreSQL's pg_settings says), and the notices say "would".
awaitable<void> simulated(const core::Op& op, const postgres::Layout& layout, ConfigurationResult& result);

}  // namespace pglift::ops
