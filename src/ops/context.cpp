#include <unistd.h>

#include "ops/context_impl.hpp"

namespace pglift {

Context::Impl::Impl(Settings s, EventSink k)
    : settings(std::move(s)), sink(std::move(k)), work_(asio::make_work_guard(io)), io_thread_([this] { io.run(); }) {}

Context::Impl::~Impl() {
  std::unique_lock lock(mutex_);
  for (const auto& s : pending_) {
    s->cancel_requested = true;
    asio::post(io, [s] { s->signal.emit(asio::cancellation_type::terminal); });
  }
  // Cancelled mutations run their reverts before completing: wait for them.
  idle_.wait(lock, [this] { return pending_.empty(); });
  lock.unlock();
  work_.reset();
  io.stop();
  if (io_thread_.joinable()) io_thread_.join();
  pool.join();
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
