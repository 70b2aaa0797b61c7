// PostgreSQL process control: initdb, start (daemon + postmaster.pid readiness), stop (signal + pidfd wait),
// reload (SIGHUP). No pg_ctl: we hold the pidfd, so waits are events, not polls of a pid file.
#pragma once
#include <chrono>
#include <optional>
#include <string>

#include "core/asio.hpp"
#include "core/op.hpp"
#include "pglift/instance.hpp"
#include "postgres/layout.hpp"

namespace pglift::postgres {

using namespace std::chrono_literals;

struct InitdbOptions {
  std::string locale, encoding;
  bool data_checksums = false;
  std::optional<std::string> surole_password;
};

awaitable<void> initdb(const core::Op& op, const Layout& layout, const InitdbOptions& options);

/// Starts postgres as a daemon and waits until its postmaster.pid says it accepts connections (or,
/// a standby without hot_standby, that it never will: pg_ctl's reading). Fails fast, with the tail of
/// its log, when the postmaster exits.
awaitable<void> start(const core::Op& op, const Layout& layout, std::chrono::milliseconds timeout = 60s);

/// Stops the postmaster; false when it was not running.
awaitable<bool> stop(const core::Op& op, const Layout& layout, StopMode mode, std::chrono::milliseconds timeout = 60s);

/// SIGHUP to the postmaster; throws StateError when not running.
void reload(const core::Op& op, const Layout& layout);

/// The port an instance is configured with: postgresql.conf (managed, then base), else 5432.
int configured_port(const Layout& layout);

/// The database system identifier of the data directory (the first field of global/pg_control), as
/// Patroni writes it in the DCS `initialize` key; none when there is no readable control file.
std::optional<std::string> system_identifier(const Layout& layout);

}  // namespace pglift::postgres
