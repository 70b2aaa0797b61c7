// The pool for blocking calls (libpq, the wire probes), started on first use: most operations (list,
// status, a get answered without blocking) never need it, and its threads are a large part of a short
// command's cost. Include only from .cpp files (pulls Asio).
#pragma once
#include <pthread.h>
#include <signal.h>

#include <cstddef>
#include <mutex>
#include <optional>

#include <boost/asio/thread_pool.hpp>

namespace pglift::core {

/// Sets the calling thread's signal mask for the scope: threads created meanwhile inherit it.
class ScopedSignalMask {
 public:
  explicit ScopedSignalMask(const sigset_t& mask) { ::pthread_sigmask(SIG_SETMASK, &mask, &saved_); }
  ~ScopedSignalMask() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  ScopedSignalMask(const ScopedSignalMask&) = delete;
  ScopedSignalMask& operator=(const ScopedSignalMask&) = delete;

 private:
  sigset_t saved_;
};

/// The calling thread's signal mask.
inline sigset_t current_signal_mask() {
  sigset_t mask;
  ::pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return mask;
}

class BlockingPool {
 public:
  /// Its threads get `mask` (the signal mask of the thread that made the pool's owner), whichever
  /// thread happens to start them.
  explicit BlockingPool(std::size_t threads, sigset_t mask = current_signal_mask()) : threads_(threads), mask_(mask) {}
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;
  ~BlockingPool() { join(); }

  /// The pool, started by the first call (thread-safe).
  boost::asio::thread_pool& get() {
    std::call_once(started_, [this] {
      ScopedSignalMask scoped(mask_);
      pool_.emplace(threads_);
    });
    return *pool_;
  }
  /// Whether get() ever started it.
  bool started() const { return pool_.has_value(); }
  /// Waits for the work posted so far; no get() may run concurrently (the owner calls it last).
  void join() {
    if (pool_) pool_->join();
  }

 private:
  std::size_t threads_;
  sigset_t mask_;
  std::once_flag started_;
  std::optional<boost::asio::thread_pool> pool_;
};

}  // namespace pglift::core
