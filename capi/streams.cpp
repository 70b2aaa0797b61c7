// stream: instance logs and the cluster watch as DATA events; DATA events are never dropped, their
// producer waits for room in the queue and in its window (EventQueue::push_data, capi::StreamFlow).
#include <future>
#include <memory>
#include <string>
#include <string_view>

#include "handles.hpp"
#include "pglift/cluster_watch.hpp"
#include "pglift/errors.hpp"
#include "pglift/streams.hpp"

using capi::context;
using capi::guard;
using capi::ref_of;
using capi::require;

namespace {

std::unique_ptr<pglift_event> data_event(std::uint64_t tag, const char* target, std::string_view message) {
  auto ev = std::make_unique<pglift_event>();
  ev->kind = PGLIFT_EVENT_DATA;
  ev->tag = tag;
  ev->target = target;
  ev->message = message;
  return ev;
}

/// Streaming ops have no result: their items are DATA events. `start(done, op, gate, flow)`; the flow
/// ends with the op, before its OP_DONE is queued.
template <class Start>
void launch(pglift_ctx* ctx, std::uint64_t tag, pglift_op** out, Start start) {
  pglift::StreamGate gate;
  auto flow = std::make_shared<capi::StreamFlow>(gate, ctx->queue->stream_window());
  capi::launch<>(
      ctx, tag, out,
      [&](pglift::Callback<> done, pglift::OpOptions op) {
        pglift::Callback<> ended = [flow, done = std::move(done)](std::exception_ptr e) mutable {
          flow->end();
          done(e);
        };
        return start(std::move(ended), op, gate, flow);
      },
      [] { return std::string(); });
}

}  // namespace

extern "C" {

int pglift_instance_logs(pglift_ctx* ctx, const char* instance, char** out_text, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_text, "out_text");
    auto ref = ref_of(instance);
    // The stream's reading (not followed): the same masking as its DATA events.
    std::string text;
    std::promise<void> ended;
    pglift::start_read_instance_logs(
        context(ctx), std::move(ref), false,
        [&text](std::string_view chunk) {
          text += chunk;
          return true;
        },
        [&ended](std::exception_ptr e) {
          if (e) ended.set_exception(e);
          else ended.set_value();
        });
    ended.get_future().get();
    capi::put(out_text, text);
  });
}

int pglift_instance_logs_async(pglift_ctx* ctx, const char* instance, int follow, uint64_t tag, pglift_op** out,
                               pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    if (follow != 0 && follow != 1) throw pglift::InvalidSpec("follow", std::to_string(follow), "expected 0 or 1");
    require(ctx, "ctx");
    launch(ctx, tag, out, [&](auto done, auto op, const pglift::StreamGate& gate, const auto& flow) {
      auto chunk = [queue = ctx->queue, tag, flow](std::string_view piece) {
        queue->push_data(data_event(tag, "log", piece), flow);
        return true;
      };
      return pglift::start_read_instance_logs(*ctx->context, std::move(ref), follow == 1, std::move(chunk),
                                              std::move(done), op, gate);
    });
  });
}

int pglift_cluster_watch_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                               pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    require(ctx, "ctx");
    launch(ctx, tag, out, [&](auto done, auto op, const pglift::StreamGate& gate, const auto& flow) {
      auto on_event = [queue = ctx->queue, tag, flow](const pglift::ClusterEvent& e) {
        queue->push_data(data_event(tag, "cluster", pglift::to_json(e)), flow);
      };
      return pglift::start_watch_cluster(*ctx->context, std::move(ref), std::move(on_event), std::move(done), op, gate);
    });
  });
}

}  // extern "C"
