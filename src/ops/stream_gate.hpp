// The producer's side of a StreamGate, and the relay of a stream to a blocking caller.
#pragma once
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>

#include "core/asio.hpp"
#include "pglift/operations.hpp"
#include "pglift/streams.hpp"

namespace pglift::ops {

/// Returns at once when the gate is open; else when it is released. Cancelled with the awaiting
/// coroutine (Cancelled).
awaitable<void> pass(const StreamGate& gate);

/// The blocking form of a stream: starts it with `start(push, done, gate)` (push(T) queues an item; the
/// operation runs on the library's threads) and hands each item to `consume(T&)` on the calling thread,
/// in order, through a short queue whose fullness holds the producer back (the gate: nothing dropped).
/// When `consume` returns false or throws, the operation is cancelled and awaited: nothing of it
/// outlives the call. Rethrows consume's exception, else the operation's error (but Cancelled after a
/// stop asked by consume).
template <class T, class Start, class Consume>
void relay_stream(Start start, Consume consume) {
  constexpr std::size_t high_water = 64;
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<T> items;
    bool ended = false;
    std::exception_ptr error;
  };
  auto shared = std::make_shared<Shared>();
  StreamGate gate;
  auto push = [shared, gate](T item) {
    std::lock_guard lock(shared->mutex);
    shared->items.push_back(std::move(item));
    if (shared->items.size() >= high_water) gate.hold();
    shared->changed.notify_one();
  };
  Callback<> done = [shared](std::exception_ptr e) {
    std::lock_guard lock(shared->mutex);
    shared->ended = true;
    shared->error = e;
    shared->changed.notify_one();
  };
  Operation op = start(std::move(push), std::move(done), gate);
  bool stopped = false;
  std::exception_ptr failure;
  std::unique_lock lock(shared->mutex);
  for (;;) {
    shared->changed.wait(lock, [&] { return !shared->items.empty() || shared->ended; });
    if (shared->items.empty()) break;
    T item = std::move(shared->items.front());
    shared->items.pop_front();
    if (shared->items.size() < high_water / 2) gate.release();
    if (stopped) continue;
    lock.unlock();
    try {
      if (!consume(item)) stopped = true;
    } catch (...) {
      failure = std::current_exception();
      stopped = true;
    }
    if (stopped) op.cancel();  // then wait for its end: nothing of it outlives this call
    lock.lock();
  }
  if (failure) std::rethrow_exception(failure);
  if (!stopped && shared->error) std::rethrow_exception(shared->error);
}

}  // namespace pglift::ops
