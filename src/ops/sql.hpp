// SQL on a running instance, for the operations that live inside PostgreSQL (roles, databases,
// privileges, `database run`): a libpq session as the superuser over the Unix socket, on the
// context's pool, and the one check every write makes first (a standby is read-only, and the error
// names the leader).
#pragma once
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
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


/// An instance for an SQL operation (roles, databases), as pglift has it: a running one with its lock
/// held shared (SQL operations run side by side, PostgreSQL orders them; the instance's creation, drop,
/// start, stop and configuration hold it exclusively, and each gets Busy while the other runs); a
/// stopped plain instance is started for the operation under its lock held exclusively, and
/// `started_here` says it must be stopped after (stop_after; on_running does both). A stopped Patroni member is refused
/// (StateError: starting it could make it lead), and so is any stopped instance in a dry run.
struct Running {
  postgres::Layout layout;
  std::unique_ptr<InstanceLock> lock;
  Target target;
  bool started_here = false;
};
awaitable<Running> hold_running(const core::Op& op, const InstanceRef& ref);

/// Starts the stopped plain instance `l` for `purpose` (its lock held exclusively by the caller), saying
/// so; stop_after stops it again, cancellation masked, whatever happened meanwhile.
awaitable<void> start_for(const core::Op& op, const postgres::Layout& l, const std::string& purpose);
awaitable<void> stop_after(const core::Op& op, const postgres::Layout& l);

/// fn() -> awaitable<T>, then stop_after(l) when `started_here`, also when fn fails.
template <class Fn>
auto then_stop_if(const core::Op& op, const postgres::Layout& l, bool started_here, Fn fn) -> decltype(fn()) {
  using T = typename decltype(fn())::value_type;
  std::exception_ptr failure;
  std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> result;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await fn();
      result = true;
    } else {
      result = co_await fn();
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (started_here) co_await stop_after(op, l);
  if (failure) std::rethrow_exception(failure);
  if constexpr (!std::is_void_v<T>) co_return std::move(*result);
}

/// fn(const Target&) -> awaitable<T> on the instance held by hold_running, then the stop of what it
/// started, also when fn fails. fn gets the layout through the target.
template <class Fn>
auto on_running(const core::Op& op, const InstanceRef& ref, Fn fn) -> decltype(fn(std::declval<const Target&>())) {
  const Running held = co_await hold_running(op, ref);
  auto body = [&] { return fn(held.target); };
  co_return co_await then_stop_if(op, held.layout, held.started_here, body);
}

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
