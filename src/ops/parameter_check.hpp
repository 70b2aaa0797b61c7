// Checking a change set against the server's own description of its parameters, before any file is
// touched (see postgres/parameter_check.hpp for the rules).
#pragma once
#include "core/asio.hpp"
#include "core/op.hpp"
#include "pglift/operations.hpp"
#include "postgres/layout.hpp"

namespace pglift::ops {

/// Throws InvalidSpec naming the first parameter (and its value) PostgreSQL would refuse. The running
/// server's pg_settings when its postmaster runs; else `postgres --describe-config` of the instance's
/// bindir (read once per bindir in this process). Removals are not checked.
awaitable<void> check_parameters(const core::Op& op, const postgres::Layout& layout, const ParameterChanges& changes);

}  // namespace pglift::ops
