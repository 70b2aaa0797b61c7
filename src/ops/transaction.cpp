#include "ops/transaction.hpp"

#include "core/coro.hpp"
#include "core/test_hooks.hpp"

namespace pglift::ops {

awaitable<void> Transaction::step(std::string title, Action action, std::string undo_title, Action undo) {
  op_.info(title, "pglift.instances");
  op_.progress(ProgressRecord::Phase::begin, title);
  // Registered before the action runs: a step that fails half-way (initdb leaving a partial data
  // directory) is reverted too. Undos must therefore cope with partial work.
  if (undo) undo_.push_back({title, std::move(undo_title), std::move(undo)});
  try {
    co_await action();
  } catch (...) {
    op_.progress(ProgressRecord::Phase::end, title);
    throw;
  }
  op_.progress(ProgressRecord::Phase::end, title);
  core::crash_point(op_, "after '" + title + "'");
}

awaitable<void> Transaction::revert() {
  co_await asio::this_coro::reset_cancellation_state(core::no_cancellation);
  co_await asio::this_coro::throw_if_cancelled(false);
  while (!undo_.empty()) {
    auto [title, undo_title, undo] = std::move(undo_.back());
    undo_.pop_back();
    op_.warning("reverting '" + title + "'", "pglift.instances");
    if (!undo_title.empty()) op_.info(undo_title, "pglift.instances");
    std::string failure;
    try {
      co_await undo();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) op_.warning("failed to revert '" + title + "': " + failure);
  }
}

}  // namespace pglift::ops
