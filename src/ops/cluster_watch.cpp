// watch_cluster: a Patroni cluster's changes from etcd's watch API, as ClusterEvents.
#include "pglift/cluster_watch.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>

#include "core/value.hpp"
#include "ops/context_impl.hpp"
#include "ops/lookup.hpp"
#include "ops/stream_gate.hpp"
#include "patroni/cluster_events.hpp"
#include "patroni/config.hpp"
#include "patroni/member.hpp"
#include "postgres/layout.hpp"

namespace pglift {
namespace {

core::Value optional_string(const std::optional<std::string>& s) { return s ? core::Value(*s) : core::Value(nullptr); }

awaitable<void> watch_body(const core::Op& op, InstanceRef ref, std::function<void(const ClusterEvent&)> on_event,
                           StreamGate gate) {
  postgres::Layout l = ops::lookup(op.settings, ref);
  if (!patroni::is_member(op.settings, l)) throw StateError("instance " + l.display() + " is not managed by Patroni");
  const PatroniSettings& ps = *op.settings.patroni;
  const std::string prefix = patroni::cluster_prefix(patroni::read(patroni::Files::of(ps, l).config));
  dcs::Etcd etcd = patroni::etcd(ps);
  patroni::ClusterState state(prefix);
  dcs::Snapshot snapshot = co_await etcd.snapshot(prefix);
  for (const ClusterEvent& e : state.load(snapshot)) {
    co_await ops::pass(gate);
    on_event(e);
  }
  dcs::WatchHandler handler = [&](std::vector<dcs::WatchEvent> changes) -> awaitable<bool> {
    for (const auto& change : changes)
      for (const ClusterEvent& e : state.apply(change)) {
        co_await ops::pass(gate);
        on_event(e);
      }
    co_return true;
  };
  co_await etcd.watch_prefix(prefix, snapshot.revision + 1, handler);
}

}  // namespace

std::string to_json(const ClusterEvent& event) {
  core::Value v = core::Object{{"kind", event.kind},
                               {"member", event.member},
                               {"before", optional_string(event.before)},
                               {"after", optional_string(event.after)},
                               {"revision", event.revision}};
  return core::to_json(v);
}

Operation start_watch_cluster(Context& ctx, InstanceRef member, std::function<void(const ClusterEvent&)> on_event,
                              Callback<> done, OpOptions op, StreamGate gate) {
  auto body = [ref = std::move(member), on_event = std::move(on_event), gate = std::move(gate)](const core::Op& o) {
    return watch_body(o, ref, on_event, gate);
  };
  return ctx.impl().launch<void>(op, std::move(body), std::move(done));
}

void watch_cluster(Context& ctx, const InstanceRef& member, const std::function<bool(const ClusterEvent&)>& on_event) {
  if (ctx.impl().on_io_thread()) throw Error(ErrorCode::internal, "blocking libpglift call made from a library thread");
  // The watch runs on the library's thread; its events come to this thread (ops::relay_stream).
  ops::relay_stream<ClusterEvent>(
      [&](auto push, Callback<> done, StreamGate gate) {
        return start_watch_cluster(ctx, member, std::move(push), std::move(done), {}, std::move(gate));
      },
      [&](ClusterEvent& e) { return on_event(e); });
}

}  // namespace pglift
