// pglift_op: the future of an asynchronous operation.
#include <chrono>

#include "handles.hpp"
#include "pglift/errors.hpp"

namespace capi {

void OpState::complete(std::exception_ptr e, std::optional<std::string> json, EventQueue& queue) noexcept {
  std::unique_ptr<pglift_event> ev;
  {
    std::lock_guard lock(mutex);
    if (e) {
      error.reset(to_error(e));
      state = error->code == PGLIFT_E_CANCELLED ? PGLIFT_OP_CANCELLED : PGLIFT_OP_FAILED;
    } else {
      result = std::move(json);
      state = PGLIFT_OP_SUCCEEDED;
    }
    operation = pglift::Operation();
    ev = std::move(done_event);
    ev->op_state = state;
    ev->status = error ? error->code : PGLIFT_OK;
    if (error) {
      try {
        ev->message = error->message;
      } catch (...) {  // out of memory: the event still comes, without its message
      }
    }
    // Queued before the final state can be observed (state_of, wait): whoever saw the op end finds
    // its OP_DONE event already there. Never dropped: completions are not subject to the bound.
    queue.push(std::move(ev));
  }
  done.notify_all();
}

}  // namespace capi

extern "C" {

int pglift_op_state_of(const pglift_op* op) noexcept {
  if (!op) return PGLIFT_E_INVALID_ARGUMENT;
  std::lock_guard lock(op->state->mutex);
  return op->state->state;
}

int pglift_op_wait(pglift_op* op, int timeout_ms) noexcept {
  if (!op) return PGLIFT_E_INVALID_ARGUMENT;
  auto& s = *op->state;
  std::unique_lock lock(s.mutex);
  auto ended = [&s] { return s.state != PGLIFT_OP_PENDING; };
  if (timeout_ms < 0) s.done.wait(lock, ended);
  else s.done.wait_for(lock, std::chrono::milliseconds(timeout_ms), ended);
  return ended() ? 1 : 0;
}

void pglift_op_cancel(pglift_op* op) noexcept {
  if (!op) return;
  // Under the op's mutex: while the op is pending, its context cannot finish destruction (it waits for
  // this completion, which needs the mutex), so the core operation is alive when cancelled.
  std::lock_guard lock(op->state->mutex);
  if (op->state->state == PGLIFT_OP_PENDING && op->state->operation) op->state->operation.cancel();
}

uint64_t pglift_op_tag(const pglift_op* op) noexcept { return op ? op->state->tag : 0; }

const char* pglift_op_result(const pglift_op* op) noexcept {
  if (!op) return nullptr;
  std::lock_guard lock(op->state->mutex);  // once ended, the result never changes: the pointer stays valid
  const auto& s = *op->state;
  return s.state == PGLIFT_OP_SUCCEEDED && s.result ? s.result->c_str() : nullptr;
}

const pglift_error* pglift_op_error(const pglift_op* op) noexcept {
  if (!op) return nullptr;
  std::lock_guard lock(op->state->mutex);
  return op->state->error.get();
}

void pglift_op_free(pglift_op* op) noexcept {
  if (!op) return;
  pglift_op_cancel(op);  // the completion still runs (it shares the state) and queues OP_DONE
  delete op;
}

}  // extern "C"
