// Coroutine helpers shared by the layers: blocking calls off the I/O thread, deadline-driven polling.
// Include only from .cpp files (pulls Asio).
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "core/asio.hpp"
#include "core/op.hpp"
#include "pglift/errors.hpp"

namespace pglift::core {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// Runs a blocking function (libpq) on the context's pool and resumes on the caller's executor.
template <class F>
auto blocking(const Op& op, F fn) -> awaitable<decltype(fn())> {
  using R = decltype(fn());
  co_return co_await asio::co_spawn(
      op.blocking_pool, [fn = std::move(fn)]() mutable -> awaitable<R> { co_return fn(); }, asio::use_awaitable);
}

inline awaitable<void> sleep_for(Clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

/// Polls `ready` finely (from 2 ms, doubling up to `max_interval`) until it returns true or the
/// deadline passes. `fail_fast` is checked before each probe and throws when waiting is pointless
/// (the supervised process died). On deadline: Timeout with "<reason> not reached after Ns" and
/// `details()` (typically the tail of a log).
inline awaitable<void> wait_until(Clock::time_point deadline, const std::string& reason, std::function<bool()> ready,
                                  std::function<void()> fail_fast = {}, std::function<std::string()> details = {},
                                  Clock::duration max_interval = 50ms) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  Clock::duration interval = 2ms;
  const auto start = Clock::now();
  for (;;) {
    if (fail_fast) fail_fast();
    if (ready()) co_return;
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
