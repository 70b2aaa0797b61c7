// SQL on a running instance, for the operations that live inside PostgreSQL (roles, databases,
// privileges, `database run`): a libpq session as the superuser over the Unix socket, on the
// context's pool, and the one check every write makes first (a standby is read-only, and the error
// names the leader).
#pragma once
#include <string>
#include <utility>

#include "core/asio.hpp"
#include "core/coro.hpp"
#include "core/op.hpp"
#include "ops/lock.hpp"
#include "pglift/instance.hpp"
#include "postgres/layout.hpp"
#include "postgres/session.hpp"

namespace pglift::ops::sql {

/// A running instance: where to connect.
struct Target {
  postgres::Layout layout;
  int port = 0;
  std::string conninfo(const Settings& settings, const std::string& dbname = "postgres") const {
    return postgres::conninfo(settings, layout, port, dbname);
  }
};

/// The instance as a SQL target: StateError ("instance 15/main is not running: start it first")
/// unless its postmaster runs.
Target running(const Settings& settings, const postgres::Layout& layout);

/// An instance for SQL work (roles, databases): found, its lock held shared, and running. SQL operations
/// run side by side (PostgreSQL orders them); the instance's creation, drop, start, stop and configuration
/// hold the lock exclusively: each waits for nothing and gets Busy while the other runs.
struct Locked {
  postgres::Layout layout;
  InstanceLock lock;
  Target target;
  Locked(const core::Op& op, const InstanceRef& ref);
};

/// Runs fn(postgres::Session&) on the pool, in a session on `dbname` opened for the call. Blocking
/// libpq calls (bounded by connect_timeout); a cancellation takes effect once fn has returned, so fn
/// may refer to the caller's locals.
template <class F>
auto with_session(const core::Op& op, const Target& target, F fn, std::string dbname = "postgres")
    -> awaitable<decltype(fn(std::declval<postgres::Session&>()))> {
  auto call = [&] {
    postgres::Session s(target.conninfo(op.settings, dbname));
    return fn(s);
  };
  co_return co_await core::blocking(op, call);
}

/// For a write: ReadOnly when the instance is in recovery, naming the leader: a Patroni member's (from
/// its REST API), or a plain standby's primary_conninfo host and port.
awaitable<void> require_primary(const core::Op& op, const Target& target);

}  // namespace pglift::ops::sql
