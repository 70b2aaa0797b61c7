// stream: instance logs and the cluster watch as DATA events; DATA events are never dropped, their
// producer waits for room (EventQueue::push_data, pglift::StreamGate).
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

/// Streaming ops have no result: their items are DATA events.
template <class Start>
void launch(pglift_ctx* ctx, std::uint64_t tag, pglift_op** out, Start start) {
  capi::launch<>(ctx, tag, out, std::move(start), [] { return std::string(); });
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
    pglift::StreamGate gate;
    launch(ctx, tag, out, [&](auto done, auto op) {
      auto chunk = [queue = ctx->queue, tag, gate](std::string_view piece) {
        queue->push_data(data_event(tag, "log", piece), gate);
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
    pglift::StreamGate gate;
    launch(ctx, tag, out, [&](auto done, auto op) {
      auto on_event = [queue = ctx->queue, tag, gate](const pglift::ClusterEvent& e) {
        queue->push_data(data_event(tag, "cluster", pglift::to_json(e)), gate);
      };
      return pglift::start_watch_cluster(*ctx->context, std::move(ref), std::move(on_event), std::move(done), op, gate);
    });
  });
}

}  // extern "C"
