// The per-context event queue and the event accessors.
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <variant>

#include "handles.hpp"
#include "pglift/errors.hpp"
#include "pglift/events.hpp"

pglift_event::~pglift_event() {
  if (flow) flow->freed();  // stream
}

namespace capi {

EventQueue::EventQueue() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) throw pglift::SystemError(std::string("eventfd: ") + std::strerror(errno));
}

EventQueue::~EventQueue() { ::close(fd_); }

void EventQueue::sync_fd() {
  bool ready = wakeup_pending_ || !events_.empty();
  if (ready == fd_ready_) return;
  std::uint64_t n = 1;
  ssize_t r = ready ? ::write(fd_, &n, sizeof n) : ::read(fd_, &n, sizeof n);
  (void)r;  // a counter at 0 (read) or not at its maximum (write): cannot fail in a way we can act on
  fd_ready_ = ready;
}

void EventQueue::push(std::unique_ptr<pglift_event> ev) noexcept {
  try {
    std::lock_guard lock(mutex_);
    // Only log and progress events are ever dropped: completions and (stream) DATA events are kept.
    auto droppable = [](const auto& e) { return e->kind == PGLIFT_EVENT_LOG || e->kind == PGLIFT_EVENT_PROGRESS; };
    if (droppable(ev) && events_.size() >= capacity_) {
      ++dropped_;
      auto oldest = std::find_if(events_.begin(), events_.end(), droppable);
      if (oldest == events_.end()) return;  // only completions and data queued: the newcomer goes
      events_.erase(oldest);
    }
    events_.push_back(std::move(ev));
    sync_fd();
  } catch (...) {  // out of memory: a log line is lost, not the process
    ++dropped_;
    return;
  }
  cond_.notify_one();
}

// --- stream ---
void StreamFlow::born() {
  std::lock_guard lock(mutex_);
  ++alive_;
  apply();
}

void StreamFlow::freed() noexcept {
  std::lock_guard lock(mutex_);
  if (alive_ > 0) --alive_;
  apply();
}

void StreamFlow::queue_full(bool full) noexcept {
  std::lock_guard lock(mutex_);
  queue_full_ = full;
  apply();
}

void StreamFlow::end() noexcept {
  std::lock_guard lock(mutex_);
  ended_ = true;
}

void StreamFlow::apply() noexcept {
  if (ended_) return;
  const bool hold = queue_full_ || alive_ >= window_;
  if (hold == held_) return;
  held_ = hold;
  // Under mutex_, so that end() cannot slip in between: a release wakes the producer on its executor,
  // which exists until the op has ended.
  if (hold) gate_.hold();
  else gate_.release();
}

void EventQueue::push_data(std::unique_ptr<pglift_event> ev, const std::shared_ptr<StreamFlow>& flow) {
  ev->flow = flow;
  flow->born();
  {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(ev));
    if (events_.size() >= capacity_) {
      // Under the queue's mutex, as next() releases: no release can slip between the check and the hold.
      held_flows_.push_back(flow);
      flow->queue_full(true);
    }
    sync_fd();
  }
  cond_.notify_one();
}

void EventQueue::release_flows() {
  if (held_flows_.empty() || events_.size() >= capacity_) return;
  for (const auto& flow : held_flows_) flow->queue_full(false);
  held_flows_.clear();
}

void EventQueue::set_stream_window(std::size_t window) {
  if (window < 1) throw pglift::InvalidSpec("window", "0", "must be at least 1");
  stream_window_ = window;
}
// --- end stream ---

void EventQueue::sink(const pglift::Event& event) noexcept {
  try {
    auto ev = std::make_unique<pglift_event>();
    if (const auto* log = std::get_if<pglift::LogRecord>(&event)) {
      if (static_cast<int>(log->level) < log_level_) return;
      ev->kind = PGLIFT_EVENT_LOG;
      ev->tag = log->op_tag;
      ev->level = static_cast<int>(log->level);
      ev->target = log->target;
      ev->message = log->message;  // redacted at its source (core::Op::log)
    } else if (const auto* progress = std::get_if<pglift::ProgressRecord>(&event)) {
      ev->kind = PGLIFT_EVENT_PROGRESS;
      ev->tag = progress->op_tag;
      ev->phase = static_cast<int>(progress->phase);
      ev->message = progress->title;
    } else {
      return;  // a kind this version does not know
    }
    push(std::move(ev));
  } catch (...) {
    ++dropped_;
  }
}

int EventQueue::next(int timeout_ms, pglift_event** out) {
  std::unique_lock lock(mutex_);
  auto ready = [this] { return wakeup_pending_ || !events_.empty(); };
  if (timeout_ms < 0) cond_.wait(lock, ready);
  else cond_.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready);
  if (wakeup_pending_) {
    wakeup_pending_ = false;
    sync_fd();
    return 0;
  }
  if (events_.empty()) return 0;
  *out = events_.front().release();
  events_.pop_front();
  release_flows();  // stream
  sync_fd();
  return 1;
}

void EventQueue::wakeup() noexcept {
  {
    std::lock_guard lock(mutex_);
    wakeup_pending_ = true;
    sync_fd();
  }
  cond_.notify_all();
}

void EventQueue::set_capacity(std::size_t capacity) {
  if (capacity < 1) throw pglift::InvalidSpec("capacity", "0", "must be at least 1");
  std::lock_guard lock(mutex_);
  capacity_ = capacity;
  release_flows();  // stream
}

}  // namespace capi

using capi::guard;
using capi::require;

extern "C" {

int pglift_ctx_next_event(pglift_ctx* ctx, int timeout_ms, pglift_event** out) noexcept {
  if (!ctx || !out) return PGLIFT_E_INVALID_ARGUMENT;
  try {
    return ctx->queue->next(timeout_ms, out);
  } catch (...) {  // std::system_error from the mutex: nothing sensible is left to do
    return capi::fail(nullptr);
  }
}

void pglift_ctx_wakeup(pglift_ctx* ctx) noexcept {
  if (ctx) ctx->queue->wakeup();
}

int pglift_ctx_event_fd(pglift_ctx* ctx) noexcept { return ctx ? ctx->queue->fd() : -1; }

int pglift_ctx_set_log_level(pglift_ctx* ctx, int level, pglift_error** err) noexcept {
  return guard(err, [&] { require(ctx, "ctx").queue->set_log_level(level); });
}

int pglift_ctx_set_event_capacity(pglift_ctx* ctx, size_t capacity, pglift_error** err) noexcept {
  return guard(err, [&] { require(ctx, "ctx").queue->set_capacity(capacity); });
}

int pglift_ctx_set_stream_window(pglift_ctx* ctx, size_t window, pglift_error** err) noexcept {
  return guard(err, [&] { require(ctx, "ctx").queue->set_stream_window(window); });
}

uint64_t pglift_ctx_dropped_events(const pglift_ctx* ctx) noexcept { return ctx ? ctx->queue->dropped() : 0; }

int pglift_event_kind_of(const pglift_event* ev) noexcept { return ev ? ev->kind : PGLIFT_E_INVALID_ARGUMENT; }
uint64_t pglift_event_tag(const pglift_event* ev) noexcept { return ev ? ev->tag : 0; }
int pglift_event_op_state(const pglift_event* ev) noexcept { return ev ? ev->op_state : -1; }
int pglift_event_status(const pglift_event* ev) noexcept { return ev ? ev->status : 0; }
int pglift_event_log_level(const pglift_event* ev) noexcept { return ev ? ev->level : 0; }
const char* pglift_event_target(const pglift_event* ev) noexcept { return ev ? ev->target.c_str() : ""; }
const char* pglift_event_message(const pglift_event* ev) noexcept { return ev ? ev->message.c_str() : ""; }
int pglift_event_progress_phase(const pglift_event* ev) noexcept { return ev ? ev->phase : -1; }
void pglift_event_free(pglift_event* ev) noexcept { delete ev; }

const char* pglift_log_level_name(int level) noexcept {
  switch (level) {
    case PGLIFT_LOG_DEBUG: return "DEBUG";
    case PGLIFT_LOG_INFO: return "INFO";
    case PGLIFT_LOG_WARNING: return "WARNING";
    case PGLIFT_LOG_ERROR: return "ERROR";
    case PGLIFT_LOG_OFF: return "OFF";
    default: return "UNKNOWN";
  }
}

}  // extern "C"
