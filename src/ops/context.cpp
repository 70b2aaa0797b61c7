#include <unistd.h>

#include "ops/context_impl.hpp"

namespace pglift {

Context::Impl::Impl(Settings s, EventSink k)
    : settings(std::move(s)), sink(std::move(k)), work_(asio::make_work_guard(io)) {}

Context::Impl::~Impl() {
  std::unique_lock lock(mutex_);
  for (const auto& s : pending_) {
    s->cancel_requested = true;
    asio::post(io, [s] { s->signal.emit(asio::cancellation_type::terminal); });
  }
  // Cancelled mutations run their reverts before completing: wait for them. (Pending operations
  // always have a runner: a launch starts io_thread_ or hands over from a borrower.)
  idle_.wait(lock, [this] { return pending_.empty(); });
  lock.unlock();
  work_.reset();
  io.stop();
  if (io_thread_.joinable()) io_thread_.join();
  pool.join();
}

void Context::Impl::start_io_thread(std::unique_lock<std::mutex>& lock) {
  runner_ = Runner::thread;
  {
    core::ScopedSignalMask scoped(mask_);  // the context's, not this thread's
    io_thread_ = std::thread([this] { io.run(); });
  }
  for (auto& spawn : deferred_) spawn();  // posts: they run on io_thread_
  deferred_.clear();
  (void)lock;
}

void Context::Impl::submit(std::function<void()> spawn, bool own) {
  std::unique_lock lock(mutex_);
  if (runner_ == Runner::none) start_io_thread(lock);
  if (runner_ == Runner::borrowed && !own) {
    // Not on the borrower's thread: it hands over at its next handler, woken by this post.
    deferred_.push_back(std::move(spawn));
    asio::post(io, [] {});
    return;
  }
  lock.unlock();
  spawn();
}

void Context::Impl::run_borrowed(const std::atomic<bool>& finished) {
  try {
    for (;;) {
      // run_one returns 0 only once io is stopped (by the destructor: a misuse): hand over, not spin.
      const bool stopped = !finished && io.run_one() == 0;
      std::unique_lock lock(mutex_);
      if (!deferred_.empty() || stopped) {
        start_io_thread(lock);  // our operation, if not finished, goes on there
        return;
      }
      if (finished) {
        // What is left to run (others' operations, kept connections' idle timers) needs a runner.
        if (!pending_.empty() || sessions.size() > 0) start_io_thread(lock);
        else runner_ = Runner::none;
        return;
      }
    }
  } catch (...) {
    // A handler threw out of io (on io_thread_, the same would end the process): our operation is
    // still in flight and refers to this frame.
    std::terminate();
  }
}

void Context::Impl::add(const std::shared_ptr<Operation::State>& s) {
  std::lock_guard lock(mutex_);
  pending_.insert(s);
}

void Context::Impl::remove(const std::shared_ptr<Operation::State>& s) {
  std::lock_guard lock(mutex_);
  pending_.erase(s);
  if (pending_.empty()) idle_.notify_all();
}

void Operation::cancel() const noexcept {
  if (!state_ || state_->cancel_requested.exchange(true)) return;
  try {
    asio::post(state_->io, [s = state_] { s->signal.emit(asio::cancellation_type::terminal); });
  } catch (...) {
  }
}

namespace {
void refuse_root() {
  if (::geteuid() == 0) throw Unsupported("pglift cannot be used as root");
}
Settings refuse_root(Settings s) {
  refuse_root();
  return s;
}
Settings load_settings() {
  refuse_root();  // before reading anything
  return Settings::load();
}
}  // namespace

Context::Context(EventSink sink) : Context(load_settings(), std::move(sink)) {}

Context::Context(Settings settings, EventSink sink)
    : impl_(std::make_unique<Impl>(refuse_root(std::move(settings)), std::move(sink))) {}

Context::~Context() = default;

const Settings& Context::settings() const noexcept { return impl_->settings; }

}  // namespace pglift
