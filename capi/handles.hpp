// The C ABI's handles and its one exception guard. Private to capi/: built on the public C++ API only.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "pglift.h"
#include "pglift/context.hpp"
#include "pglift/errors.hpp"
#include "pglift/instance.hpp"
#include "pglift/operations.hpp"
#include "pglift/settings.hpp"
#include "pglift/streams.hpp"  // stream

struct pglift_error {
  int code = PGLIFT_E_INTERNAL;
  std::string message;
  std::string field;   // InvalidSpec
  std::string detail;  // CommandError output tail
  int exit_status = -1;
};

struct pglift_settings {
  pglift::Settings settings;
};

namespace capi {
class StreamFlow;  // stream
}

struct pglift_event {
  pglift_event() = default;
  pglift_event(const pglift_event&) = delete;  // a DATA event counts once in its stream's window
  pglift_event& operator=(const pglift_event&) = delete;
  ~pglift_event();  // stream: a DATA event freed gives its stream room

  int kind = 0;
  std::uint64_t tag = 0;
  int op_state = -1;
  int status = 0;
  int level = 0;
  int phase = -1;
  std::string target;
  std::string message;
  std::shared_ptr<capi::StreamFlow> flow;  // stream: DATA events only
};

namespace capi {

/// Misuse of the C API (a NULL handle or output): PGLIFT_E_INVALID_ARGUMENT.
struct InvalidArgument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// The error object for an exception; never throws, never NULL (falls back to a static out-of-memory
/// error that pglift_error_free knows not to free).
pglift_error* to_error(std::exception_ptr e) noexcept;

/// Reports the exception being handled: returns its status and hands the error to `err` (or frees it).
int fail(pglift_error** err) noexcept;

/// The one guard: every fallible entry point runs its body through it, so no exception crosses.
template <class Body>
int guard(pglift_error** err, Body&& body) noexcept {
  try {
    body();
    return PGLIFT_OK;
  } catch (...) {
    return fail(err);
  }
}

template <class T>
T& require(T* p, const char* what) {
  if (!p) throw InvalidArgument(std::string(what) + " must not be NULL");
  return *p;
}

/// A malloc'ed NUL-terminated copy, released by pglift_free.
char* dup(std::string_view s);
/// Sets *out to dup(s) (out was checked by the caller).
void put(char** out, std::string_view s);

std::string json_string(std::string_view s);

// --- stream ---
/// The flow control of one streaming op: its gate is held while the context's queue holds its capacity
/// (EventQueue) or while `window` of its DATA events are alive (queued, or taken and not yet freed), so
/// that a stream nobody reads stops by itself, without holding back the other ops' events. Lock order:
/// the queue's mutex, then this one.
class StreamFlow {
 public:
  StreamFlow(pglift::StreamGate gate, std::size_t window) : gate_(std::move(gate)), window_(window) {}
  /// A DATA event is made (before it is queued).
  void born();
  /// A DATA event is freed (by the program, or with its queue).
  void freed() noexcept;
  void queue_full(bool full) noexcept;
  /// The op ended: the gate is not touched again (its Context may go away).
  void end() noexcept;

 private:
  void apply() noexcept;  // with mutex_ held: holds or releases the gate as the counts say

  std::mutex mutex_;
  pglift::StreamGate gate_;
  const std::size_t window_;
  std::size_t alive_ = 0;
  bool queue_full_ = false, held_ = false, ended_ = false;
};
// --- end stream ---

/// The per-context event queue: bounded for log and progress events (oldest dropped), unbounded for
/// completions; an eventfd mirrors "something to take" for event loops.
class EventQueue {
 public:
  EventQueue();
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  /// From library threads (the core's sink) and completions; never throws.
  void push(std::unique_ptr<pglift_event> ev) noexcept;
  /// stream: a DATA event, never dropped, counted in `flow`'s window until freed; when the queue then
  /// holds its capacity, `flow` is told so until next() has taken enough for the queue to be below it
  /// again (the streaming op waits meanwhile). Throws only out of memory: the streaming op then fails
  /// rather than lose an item.
  void push_data(std::unique_ptr<pglift_event> ev, const std::shared_ptr<StreamFlow>& flow);
  /// stream: the window of the streams started from now on (pglift_ctx_set_stream_window).
  void set_stream_window(std::size_t window);
  std::size_t stream_window() const noexcept { return stream_window_; }
  /// The core's EventSink: filters by level, converts, pushes.
  void sink(const pglift::Event& event) noexcept;
  int next(int timeout_ms, pglift_event** out);
  void wakeup() noexcept;
  int fd() const noexcept { return fd_; }
  void set_log_level(int level) noexcept { log_level_ = level; }
  void set_capacity(std::size_t capacity);
  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  void sync_fd();  // with mutex_ held: the eventfd readable iff something to take
  void release_flows();  // stream: with mutex_ held, when below capacity

  std::mutex mutex_;
  std::condition_variable cond_;
  std::deque<std::unique_ptr<pglift_event>> events_;
  std::size_t capacity_ = 1024;
  bool wakeup_pending_ = false;
  bool fd_ready_ = false;
  int fd_ = -1;
  std::atomic<int> log_level_{PGLIFT_LOG_INFO};
  std::atomic<std::uint64_t> dropped_{0};
  std::vector<std::shared_ptr<StreamFlow>> held_flows_;  // stream: producers waiting for room
  std::atomic<std::size_t> stream_window_{256};           // stream
};

/// The state of an async op, shared by the pglift_op handle and the core's completion callback.
struct OpState {
  explicit OpState(std::uint64_t t) : tag(t), done_event(std::make_unique<pglift_event>()) {
    done_event->kind = PGLIFT_EVENT_OP_DONE;
    done_event->tag = t;
  }
  const std::uint64_t tag;
  std::unique_ptr<pglift_event> done_event;  // allocated up front: a completion must not fail to queue
  std::mutex mutex;
  std::condition_variable done;
  int state = PGLIFT_OP_PENDING;
  std::optional<std::string> result;
  std::unique_ptr<pglift_error, void (*)(pglift_error*)> error{nullptr, pglift_error_free};
  pglift::Operation operation;  // reset when the op ends: the core's state must not outlive the context

  /// Records the outcome, wakes the waiters, then queues OP_DONE (after the op's other events).
  void complete(std::exception_ptr e, std::optional<std::string> json, EventQueue& queue) noexcept;
};

}  // namespace capi

struct pglift_ctx {
  std::shared_ptr<capi::EventQueue> queue;    // shared with the sink and completions
  std::unique_ptr<pglift::Context> context;   // destroyed first: its pending ops end into the queue
};

struct pglift_op {
  std::shared_ptr<capi::OpState> state;
};

namespace capi {

/// The context of a handle (InvalidArgument when NULL).
inline pglift::Context& context(pglift_ctx* ctx) { return *require(ctx, "ctx").context; }

/// An instance argument: "15/main" or "main" (InvalidArgument when NULL, InvalidSpec when malformed).
inline pglift::InstanceRef ref_of(const char* instance) {
  require(instance, "instance");
  return pglift::InstanceRef::parse(instance);
}

/// Starts an operation whose completion fills the op and queues OP_DONE, its result (if any) as JSON
/// through `to_json`. Everything that may fail is done before `start` runs: once the core has the
/// callback, the call succeeds.
template <class... R, class Start, class ToJson>
void launch(pglift_ctx* ctx, pglift::OpOptions options, pglift_op** out, Start start, ToJson to_json) {
  require(ctx, "ctx");
  require(out, "out");
  auto state = std::make_shared<OpState>(options.tag);
  auto op = std::make_unique<pglift_op>(pglift_op{state});
  pglift::Callback<R...> done = [state, queue = ctx->queue, to_json](std::exception_ptr e, R... r) {
    std::optional<std::string> json;
    if (!e) {
      if constexpr (sizeof...(R) == 1) {
        try {
          json = to_json(r...);
        } catch (...) {
          e = std::current_exception();
        }
      }
    }
    state->complete(e, std::move(json), *queue);
  };
  pglift::Operation operation = start(std::move(done), options);
  {
    std::lock_guard lock(state->mutex);
    if (state->state == PGLIFT_OP_PENDING) state->operation = operation;
  }
  *out = op.release();
}
template <class... R, class Start, class ToJson>
void launch(pglift_ctx* ctx, uint64_t tag, pglift_op** out, Start start, ToJson to_json) {
  launch<R...>(ctx, pglift::OpOptions{tag}, out, std::move(start), std::move(to_json));
}

/// The options of a `_with` call: its tag, and PGLIFT_OP_* flags (InvalidSpec "flags" for an unknown bit).
inline pglift::OpOptions op_options(uint32_t flags, uint64_t tag = 0) {
  if (flags & ~static_cast<uint32_t>(PGLIFT_OP_DRY_RUN)) throw pglift::InvalidSpec("flags", std::to_string(flags), "unknown flags");
  return pglift::OpOptions{.tag = tag, .dry_run = (flags & PGLIFT_OP_DRY_RUN) != 0};
}

}  // namespace capi
