// Runs one coroutine to completion on a private io_context, for unit tests of coroutine code.
#pragma once
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <future>

#include "core/asio.hpp"

namespace pglift::testing {

/// `during`, when given, runs after `after` of running, with the signal that cancels the coroutine.
template <class T>
T run_coroutine(asio::io_context& io, awaitable<T> a, std::function<void(asio::cancellation_signal&)> during = {},
                std::chrono::milliseconds after = std::chrono::milliseconds(100)) {
  asio::cancellation_signal signal;
  std::promise<T> p;
  auto fut = p.get_future();
  asio::co_spawn(io, std::move(a), asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, auto... v) {
                   if (e) p.set_exception(e);
                   else if constexpr (sizeof...(v) == 0) p.set_value();
                   else p.set_value(std::move(v)...);
                 }));
  if (during) {
    io.run_for(after);
    during(signal);
  }
  io.run();
  io.restart();
  return fut.get();
}

}  // namespace pglift::testing
