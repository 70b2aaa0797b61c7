// Patroni clusters (pglift/cluster.hpp), blocking and asynchronous: each call is one operation that
// observes the cluster, acts, and hands the refreshed cluster back as JSON (Cluster::to_json).
#include <memory>
#include <optional>
#include <string>

#include "handles.hpp"
#include "pglift/cluster.hpp"
#include "pglift/errors.hpp"

namespace {

using capi::context;
using capi::guard;
using capi::ref_of;
using capi::require;

/// "15/pg1" (with the slash): the cluster of that member of this host; otherwise a cluster name.
pglift::Cluster designated(const char* instance_or_name) {
  require(instance_or_name, "instance_or_name");
  const std::string text = instance_or_name;
  if (text.find('/') != std::string::npos) return pglift::Cluster::through(pglift::InstanceRef::parse(text));
  return pglift::Cluster::named(text);
}

std::string member_of(const char* member) { return require(member, "member"), std::string(member); }

std::string json_of(const pglift::Cluster& c) { return c.to_json(); }
std::string json_of(const std::string& s) { return s; }

/// An action started on a cluster of its own (kept alive by the completion), whose result is the
/// refreshed cluster as JSON.
template <class Start>
void launch_action(pglift_ctx* ctx, uint64_t tag, pglift_op** out, pglift::Cluster cluster, Start start) {
  auto c = std::make_shared<pglift::Cluster>(std::move(cluster));
  capi::launch<std::string>(
      ctx, tag, out,
      [&](auto done, auto op) {
        pglift::Callback<> then = [c, done = std::move(done)](std::exception_ptr e) mutable {
          std::string json;
          if (!e) try {
              json = c->to_json();
            } catch (...) {
              e = std::current_exception();
            }
          done(e, std::move(json));
        };
        return start(*c, std::move(then), op);
      },
      [](const std::string& s) { return json_of(s); });
}

}  // namespace

extern "C" {

int pglift_cluster_get(pglift_ctx* ctx, const char* instance, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    capi::put(out_json, pglift::Cluster::of(context(ctx), ref_of(instance)).to_json());
  });
}

int pglift_cluster_get_dcs(pglift_ctx* ctx, const char* name, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(name, "name");
    require(out_json, "out_json");
    capi::put(out_json, pglift::Cluster::from_dcs(context(ctx), name).to_json());
  });
}

int pglift_cluster_restart(pglift_ctx* ctx, const char* instance, const char* member, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto c = pglift::Cluster::through(ref_of(instance));
    if (member) c.restart(context(ctx), member);
    else c.restart_all(context(ctx));
  });
}

int pglift_cluster_reinit(pglift_ctx* ctx, const char* instance, const char* member, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto c = pglift::Cluster::through(ref_of(instance));
    c.reinit(context(ctx), member_of(member));
  });
}

int pglift_cluster_remove(pglift_ctx* ctx, const char* instance_or_name, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto c = designated(instance_or_name);
    c.remove(context(ctx));
  });
}

int pglift_cluster_get_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    capi::launch<pglift::Cluster>(
        ctx, tag, out,
        [&](auto done, auto op) { return pglift::start_cluster_of(*ctx->context, std::move(ref), std::move(done), op); },
        [](const pglift::Cluster& c) { return json_of(c); });
  });
}

int pglift_cluster_get_dcs_async(pglift_ctx* ctx, const char* name, uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(name, "name");
    std::string n = pglift::Cluster::named(name).name();  // the name's syntax, checked now
    capi::launch<pglift::Cluster>(
        ctx, tag, out,
        [&](auto done, auto op) { return pglift::start_cluster_from_dcs(*ctx->context, std::move(n), std::move(done), op); },
        [](const pglift::Cluster& c) { return json_of(c); });
  });
}

int pglift_cluster_restart_async(pglift_ctx* ctx, const char* instance, const char* member, uint64_t tag, pglift_op** out,
                                 pglift_error** err) noexcept {
  return guard(err, [&] {
    auto c = pglift::Cluster::through(ref_of(instance));
    std::optional<std::string> m;
    if (member) m = member;
    launch_action(ctx, tag, out, std::move(c), [&](pglift::Cluster& cl, pglift::Callback<> then, pglift::OpOptions op) {
      return m ? cl.start_restart(*ctx->context, std::move(*m), std::move(then), op)
               : cl.start_restart_all(*ctx->context, std::move(then), op);
    });
  });
}

int pglift_cluster_reinit_async(pglift_ctx* ctx, const char* instance, const char* member, uint64_t tag, pglift_op** out,
                                pglift_error** err) noexcept {
  return guard(err, [&] {
    auto c = pglift::Cluster::through(ref_of(instance));
    std::string m = member_of(member);
    launch_action(ctx, tag, out, std::move(c), [&](pglift::Cluster& cl, pglift::Callback<> then, pglift::OpOptions op) {
      return cl.start_reinit(*ctx->context, std::move(m), std::move(then), op);
    });
  });
}

int pglift_cluster_remove_async(pglift_ctx* ctx, const char* instance_or_name, uint64_t tag, pglift_op** out,
                                pglift_error** err) noexcept {
  return guard(err, [&] {
    auto c = designated(instance_or_name);
    launch_action(ctx, tag, out, std::move(c), [&](pglift::Cluster& cl, pglift::Callback<> then, pglift::OpOptions op) {
      return cl.start_remove(*ctx->context, std::move(then), op);
    });
  });
}

}  // extern "C"
