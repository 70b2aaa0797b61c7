// Every multi-step mutation is a transaction: each completed step may register its undo; on failure or
// cancellation the undos run in reverse order, each logged "reverting '<step title>'", then its undo title.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/asio.hpp"
#include "core/coro.hpp"
#include "core/op.hpp"

namespace pglift::ops {

class Transaction {
 public:
  using Action = std::function<awaitable<void>()>;
  explicit Transaction(const core::Op& op) : op_(op) {}

  /// Logs `title` (INFO + progress), registers `undo` (titled `undo_title`), then runs `action`: a step
  /// that fails half-way is reverted too.
  awaitable<void> step(std::string title, Action action, std::string undo_title = {}, Action undo = {});
  /// Registers the undo of work done outside a step (by a nested operation that committed its own
  /// transaction), reverted in order with the steps.
  void on_revert(std::string title, std::string undo_title, Action undo) {
    undo_.push_back({std::move(title), std::move(undo_title), std::move(undo)});
  }
  /// Reverts completed steps, newest first. Cancellation is masked: a revert always runs to its end.
  /// Failures of an undo are logged and do not stop the others.
  awaitable<void> revert();
  void commit() { undo_.clear(); }

 private:
  const core::Op& op_;
  struct Undo {
    std::string title, undo_title;
    Action action;
  };
  std::vector<Undo> undo_;
};

/// Runs `body(tx)`; on an exception, reverts (when `revert_on_error`) and rethrows it.
template <class T, class Body>
awaitable<T> transactional(const core::Op& op, bool revert_on_error, Body body) {
  Transaction tx(op);
  std::exception_ptr failure;
  std::optional<T> result;
  try {
    result.emplace(co_await body(tx));
    tx.commit();
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    if (revert_on_error) {
      // Cancellation is ignored from here: the revert runs to its end (and a cancelled coroutine would
      // throw at its next co_await, before revert() even starts).
      co_await asio::this_coro::reset_cancellation_state(core::no_cancellation);
      co_await asio::this_coro::throw_if_cancelled(false);
      co_await tx.revert();
    }
    std::rethrow_exception(failure);
  }
  co_return std::move(*result);
}

}  // namespace pglift::ops
