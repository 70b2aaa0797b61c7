// Streaming operations: flow control between a producer operation and its consumer, and the instance
// log stream in its callback form (<pglift/async.hpp> adds the Asio-token form).
#pragma once
#include <functional>
#include <memory>
#include <string_view>

#include "pglift/operations.hpp"

namespace pglift {

/// Flow control for a streaming operation: while the gate is held, the operation waits before handing
/// out its next item (a log chunk, a cluster event) instead of dropping anything; release() lets it go
/// on. The wait is cancellable (cancelling the operation ends it). Copies share one gate; hold() and
/// release() may be called from any thread, including from the item callback itself, but not while
/// the Context of the operation is being destroyed. A default gate is open and stays open unless
/// someone holds it.
class StreamGate {
 public:
  StreamGate();
  void hold() const noexcept;
  void release() const noexcept;
  bool held() const noexcept;

  struct State;
  const std::shared_ptr<State>& state() const noexcept { return state_; }

 private:
  std::shared_ptr<State> state_;
};

/// The instance's current log file, chunk by chunk; with `follow`, goes on (woken by inotify, across
/// rotations) until `chunk` returns false (then `done` gets success) or the operation is cancelled
/// (Cancelled). Without follow, ends after the current content. Chunks hold whole lines (but a line
/// longer than 64 KiB, or the unfinished last line at the end of a read without follow), passwords
/// masked as in every event (`password=...`, and a logged statement's `PASSWORD '...'`). `chunk` runs on
/// a library thread: it must not block nor make blocking libpglift calls; `gate` holds it back.
Operation start_read_instance_logs(Context& ctx, InstanceRef ref, bool follow,
                                   std::function<bool(std::string_view chunk)> chunk, Callback<> done,
                                   OpOptions op = {}, StreamGate gate = {});

}  // namespace pglift
