// Coroutine helpers shared by the layers: blocking calls off the I/O thread, deadline-driven polling.
// Include only from .cpp files (pulls Asio).
#pragma once
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "core/asio.hpp"
#include "core/blocking_pool.hpp"
#include "core/op.hpp"
#include "pglift/errors.hpp"

namespace pglift::core {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace detail {

/// What a pool thread hands back to the I/O thread. The pool thread only writes `result`/`error` and
/// posts the wake-up; `done` and the timer are touched on the awaiting coroutine's executor only.
template <class R>
struct Offloaded {
  explicit Offloaded(const asio::any_io_executor& ex) : wake(ex, Clock::time_point::max()) {}
  asio::steady_timer wake;
  bool done = false;
  std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> result;
  std::exception_ptr error;
};

template <class R, class F>
std::shared_ptr<Offloaded<R>> post_to_pool(const Op& op, const asio::any_io_executor& ex, F fn) {
  auto state = std::make_shared<Offloaded<R>>(ex);
  asio::post(op.blocking_pool.get(), [state, fn = std::move(fn)]() mutable {
    try {
      if constexpr (std::is_void_v<R>) {
        fn();
        state->result.emplace(true);
      } else {
        state->result.emplace(fn());
      }
    } catch (...) {
      state->error = std::current_exception();
    }
    // Back on the awaiting side's executor: no data race on `done` or the timer.
    asio::post(state->wake.get_executor(), [state] {
      state->done = true;
      state->wake.cancel();
    });
  });
  return state;
}

template <class R>
R take(Offloaded<R>& state) {
  if (state.error) std::rethrow_exception(state.error);
  if constexpr (!std::is_void_v<R>) return std::move(*state.result);
}

}  // namespace detail

/// Runs a blocking function (libpq) on the context's pool; the I/O thread keeps serving other
/// operations meanwhile. A cancellation takes effect once `fn` has returned, so `fn` may refer to the
/// caller's locals.
template <class F>
auto blocking(const Op& op, F fn) -> awaitable<decltype(fn())> {
  using R = decltype(fn());
  auto state = detail::post_to_pool<R>(op, co_await asio::this_coro::executor, std::move(fn));
  bool cancelled = false;
  while (!state->done) {
    auto [ec] = co_await state->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!state->done && ec == asio::error::operation_aborted) {
      // Cancelled while `fn` runs: it uses our frame, so wait for it, then report the cancellation.
      cancelled = true;
      co_await asio::this_coro::reset_cancellation_state();
    }
  }
  if (cancelled) throw Cancelled();
  co_return detail::take<R>(*state);
}

/// Like blocking(), but a cancellation completes at once: the call is abandoned and finishes on the
/// pool by itself. `fn` must therefore own everything it uses (capture by value; the settings and the
/// sink of the context are fine: the pool is joined before they go). Every libpq call it makes must
/// be bounded (connect_timeout), so that an abandoned call ends and the context can be freed.
template <class F>
auto cancellable(const Op& op, F fn) -> awaitable<decltype(fn())> {
  using R = decltype(fn());
  auto state = detail::post_to_pool<R>(op, co_await asio::this_coro::executor, std::move(fn));
  // Woken by the pool (the timer is cancelled) or by our own cancellation: `done` tells which.
  co_await state->wake.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!state->done) throw Cancelled();
  co_return detail::take<R>(*state);
}

/// The cancellation filter that lets nothing through. After
///   co_await asio::this_coro::reset_cancellation_state(core::no_cancellation);
/// the operation ignores cancellation to its end: what must finish (a revert, the kill-and-wait of a
/// child) is not interrupted by a second request (op.cancel(), then the context's destruction, each emit
/// one). It also clears a cancellation already received. It cannot be a coroutine of its own: co_await
/// of an awaitable throws at once in a cancelled operation.
inline asio::cancellation_type no_cancellation(asio::cancellation_type) { return asio::cancellation_type::none; }

inline awaitable<void> sleep_for(Clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

/// The one wait helper. Polls `ready` finely (from 2 ms, doubling up to `max_interval`) until it
/// returns true or the deadline passes. `ready` returns bool (cheap, non-blocking checks: files,
/// /proc) or awaitable<bool> (REST calls; libpq through cancellable()). `fail_fast` is checked before
/// each probe and throws when waiting is pointless (the supervised process died). On deadline:
/// Timeout with "<reason> not reached after Ns" and `details()` (typically the tail of a log).
template <class Ready>
awaitable<void> wait_until(Clock::time_point deadline, std::string reason, Ready ready, std::function<void()> fail_fast = {},
                           std::function<std::string()> details = {}, Clock::duration max_interval = 50ms) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  Clock::duration interval = 2ms;
  const auto start = Clock::now();
  for (;;) {
    if (fail_fast) fail_fast();
    bool ok = false;
    if constexpr (std::is_same_v<decltype(ready()), bool>) ok = ready();
    else ok = co_await ready();
    if (ok) co_return;
    if (Clock::now() >= deadline) {
      auto secs = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count() / 1000.0;
      std::string msg = reason + " not reached after " + std::to_string(secs).substr(0, 5) + "s";
      if (details) {
        std::string d = details();
        if (!d.empty()) msg += "\n" + d;
      }
      throw Timeout(msg);
    }
    timer.expires_after(std::min(interval, std::chrono::duration_cast<Clock::duration>(deadline - Clock::now())));
    co_await timer.async_wait(asio::use_awaitable);
    interval = std::min(interval * 2, max_interval);
  }
}

}  // namespace pglift::core
