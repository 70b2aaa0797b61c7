// The instance operations as coroutines, for the operations composed of them (alter, apply). The caller
// has looked the instance up and holds its lock (ops/lock.hpp); each dispatches to the Patroni member's
// way when the instance is one.
#pragma once
#include "core/asio.hpp"
#include "core/op.hpp"
#include "pglift/operations.hpp"
#include "postgres/layout.hpp"

namespace pglift::ops {

/// The instance as found on disk and, when running, as PostgreSQL (and Patroni) report it.
awaitable<Instance> observe(const core::Op& op, const postgres::Layout& l, bool warn_when_stopped = true);
/// Creation of a new instance (a transaction: a failure reverts what it created).
awaitable<Instance> create(const core::Op& op, InstanceSpec spec, CreateOptions options);
awaitable<void> start(const core::Op& op, const postgres::Layout& l, const StartOptions& options);
awaitable<void> stop(const core::Op& op, const postgres::Layout& l, StopMode mode);
awaitable<void> restart(const core::Op& op, const postgres::Layout& l, StopMode mode);
awaitable<void> drop(const core::Op& op, const postgres::Layout& l, const DropOptions& options);
/// Managed parameters: set or removed, then reloaded (restart-only ones reported, not applied).
awaitable<ConfigurationResult> configure(const core::Op& op, const postgres::Layout& l, const ParameterChanges& changes);
ConfParameters managed_parameters(const Settings& settings, const postgres::Layout& l);
/// InvalidSpec("port") when `port` is taken (a listener, or a socket lock in our socket directory).
void check_free(const postgres::Layout& l, int port);

}  // namespace pglift::ops
