// The operations on Patroni members, composed from the patroni layer's building blocks. ops/instances.cpp
// dispatches here when an instance has a Patroni configuration.
#pragma once
#include "core/asio.hpp"
#include "core/op.hpp"
#include "pglift/operations.hpp"
#include "postgres/layout.hpp"

namespace pglift::ops::patroni_member {

/// Creates a member (bootstrapping a new cluster, or cloning a replica of an existing one) with a
/// single Patroni start; a transaction: a failure reverts everything, the DCS included.
awaitable<void> create(const core::Op& op, const InstanceSpec& spec, const CreateOptions& options,
                       const postgres::Layout& layout, int port, const ConfParameters& parameters);
/// Adds what Patroni knows (cluster members, pause) to an observed instance.
awaitable<void> observe(const core::Op& op, const postgres::Layout& layout, Instance& instance);
awaitable<void> status(const core::Op& op, const postgres::Layout& layout, InstanceStatus& status);
/// Starts Patroni; a former leader whose rejoin would discard committed transactions is refused
/// (WouldLoseData, left stopped) unless options or settings accept it (see patroni_rejoin.hpp).
awaitable<void> start(const core::Op& op, const postgres::Layout& layout, const StartOptions& options);
awaitable<void> stop(const core::Op& op, const postgres::Layout& layout);
awaitable<void> restart(const core::Op& op, const postgres::Layout& layout);
awaitable<void> reload(const core::Op& op, const postgres::Layout& layout);
awaitable<void> drop(const core::Op& op, const postgres::Layout& layout, const DropOptions& options);
awaitable<TopologyResult> switchover(const core::Op& op, const postgres::Layout& layout, const SwitchoverOptions& options);
awaitable<TopologyResult> failover(const core::Op& op, const postgres::Layout& layout, const std::string& candidate);
awaitable<void> pause(const core::Op& op, const postgres::Layout& layout, bool pause);
awaitable<void> promote(const core::Op& op, const postgres::Layout& layout);
ConfParameters parameters(const Settings& settings, const postgres::Layout& layout);
awaitable<ConfigurationResult> configure(const core::Op& op, const postgres::Layout& layout, const ParameterChanges& changes);

// --- cluster ---
/// The members of `cluster` (but `except`) whose REST API answers GET /liveness, at the addresses their
/// DCS keys give (a GET: no credentials). Throws the DCS's error (Error dcs) when it cannot be reached.
awaitable<std::vector<std::string>> alive_members(const PatroniSettings& settings, const std::string& cluster,
                                                  const std::string& except = {});
// --- end cluster ---

}  // namespace pglift::ops::patroni_member
