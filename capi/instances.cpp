// Instance operations, blocking and asynchronous, over pglift/operations.hpp.
#include <map>
#include <vector>

#include "handles.hpp"
#include "pglift/database_spec.hpp"
#include "pglift/role_spec.hpp"
#include "pglift/apply.hpp"
#include "pglift/errors.hpp"
#include "pglift/instance.hpp"

namespace {

using capi::context;
using capi::guard;
using capi::ref_of;
using capi::require;
using pglift::Instance;
using pglift::InstanceListItem;
using pglift::InstanceRef;
using pglift::InstanceStatus;

static_assert(PGLIFT_STOP_SMART == static_cast<int>(pglift::StopMode::smart));
static_assert(PGLIFT_STOP_FAST == static_cast<int>(pglift::StopMode::fast));
static_assert(PGLIFT_STOP_IMMEDIATE == static_cast<int>(pglift::StopMode::immediate));

std::optional<std::string> version_of(const char* version) {
  return version ? std::optional<std::string>(version) : std::nullopt;
}

pglift::StopMode mode_of(int mode) {
  if (mode < PGLIFT_STOP_SMART || mode > PGLIFT_STOP_IMMEDIATE)
    throw pglift::InvalidSpec("mode", std::to_string(mode), "expecting PGLIFT_STOP_SMART, _FAST or _IMMEDIATE");
  return static_cast<pglift::StopMode>(mode);
}

pglift::InstanceSpec spec_of(const char* json, size_t len) {
  require(json, "spec_json");
  return pglift::InstanceSpec::from_json(std::string(json, len));
}

pglift::CreateOptions options_of(uint32_t flags) {
  if (flags & ~static_cast<uint32_t>(PGLIFT_CREATE_KEEP_ON_ERROR))
    throw pglift::InvalidSpec("flags", std::to_string(flags), "unknown flags");
  return pglift::CreateOptions{.drop_on_error = !(flags & PGLIFT_CREATE_KEEP_ON_ERROR)};
}

// --- results as JSON: the CLI's `-o json` ------------------------------------------------------------

std::string json_of(const Instance& i) { return i.to_json(); }
std::string json_of(const std::vector<InstanceListItem>& items) { return pglift::to_json(items); }
std::string json_of(const InstanceStatus& s) {
  std::string out = "{\"postgresql\":" + capi::json_string(pglift::to_string(s.postgresql)) +
                    ",\"pid\":" + (s.pid ? std::to_string(*s.pid) : "null");
  // A Patroni member: its Patroni, an orphan postmaster, the DCS (keys as in get's "patroni" object).
  if (s.patroni) {
    out += ",\"patroni\":{\"state\":" + capi::json_string(*s.patroni) +
           ",\"orphan_postmaster\":" + (s.orphan_postmaster ? "true" : "false");
    if (s.dcs_error) out += ",\"dcs_error\":" + capi::json_string(*s.dcs_error);
    out += "}";
  }
  return out + "}";
}
std::string json_of(const pglift::ConfigurationResult& r) { return pglift::to_json(r); }
std::string json_of(const pglift::TopologyResult& r) { return pglift::to_json(r); }
std::string json_of(const pglift::ApplyResult& r) { return r.to_json(); }

pglift::ApplyOptions apply_options_of(uint32_t flags) {
  if (flags & ~static_cast<uint32_t>(PGLIFT_APPLY_DRY_RUN))
    throw pglift::InvalidSpec("flags", std::to_string(flags), "unknown flags");
  return pglift::ApplyOptions{.dry_run = (flags & PGLIFT_APPLY_DRY_RUN) != 0};
}

pglift::InstanceChanges instance_changes_of(const char* json, size_t len) {
  require(json, "changes_json");
  return pglift::InstanceChanges::from_json(std::string(json, len));
}

pglift::InstanceManifest manifest_of(const char* json, size_t len) {
  require(json, "manifest_json");
  return pglift::InstanceManifest::from_json(std::string(json, len));
}

pglift::DropOptions drop_options_of(uint32_t flags) {
  if (flags & ~static_cast<uint32_t>(PGLIFT_DROP_REMOVE_CLUSTER | PGLIFT_DROP_DCS_UNREACHABLE_OK))
    throw pglift::InvalidSpec("flags", std::to_string(flags), "unknown flags");
  return pglift::DropOptions{.remove_cluster = (flags & PGLIFT_DROP_REMOVE_CLUSTER) != 0,
                             .dcs_unreachable_ok = (flags & PGLIFT_DROP_DCS_UNREACHABLE_OK) != 0};
}

pglift::StartOptions start_options_of(uint32_t flags) {
  if (flags & ~static_cast<uint32_t>(PGLIFT_START_ACCEPT_DATA_LOSS))
    throw pglift::InvalidSpec("flags", std::to_string(flags), "unknown flags");
  return pglift::StartOptions{.accept_data_loss = (flags & PGLIFT_START_ACCEPT_DATA_LOSS) != 0};
}

pglift::ParameterChanges changes_of(const char* json, size_t len) {
  require(json, "changes_json");
  return pglift::parameter_changes_from_json(std::string(json, len));
}

pglift::SwitchoverOptions switchover_of(const char* candidate, const char* scheduled_at) {
  pglift::SwitchoverOptions o;
  if (candidate) o.candidate = candidate;
  if (scheduled_at) o.scheduled_at = scheduled_at;
  return o;
}

std::string json_of(const std::map<std::string, std::string>& env) {
  std::string r = "{";
  for (const auto& [k, v] : env) r += (r.size() > 1 ? "," : "") + capi::json_string(k) + ":" + capi::json_string(v);
  return r + "}";
}

// --- async -------------------------------------------------------------------------------------------

/// capi::launch, the result as JSON by this file's json_of.
template <class... R, class Tag, class Start>
void launch(pglift_ctx* ctx, Tag tag, pglift_op** out, Start start) {  // Tag: a tag, or capi::op_options
  capi::launch<R...>(ctx, tag, out, std::move(start), [](const auto&... r) { return json_of(r...); });
}

}  // namespace

extern "C" {

// --- blocking ----------------------------------------------------------------------------------------

int pglift_instance_create(pglift_ctx* ctx, const char* spec_json, size_t spec_len, uint32_t flags,
                           char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    auto instance = pglift::create_instance(context(ctx), spec_of(spec_json, spec_len), options_of(flags));
    capi::put(out_json, json_of(instance));
  });
}

int pglift_instance_get(pglift_ctx* ctx, const char* instance, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    capi::put(out_json, json_of(pglift::get_instance(context(ctx), ref_of(instance))));
  });
}

int pglift_instance_list(pglift_ctx* ctx, const char* version, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    capi::put(out_json, json_of(pglift::list_instances(context(ctx), version_of(version))));
  });
}

int pglift_instance_status(pglift_ctx* ctx, const char* instance, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    capi::put(out_json, json_of(pglift::instance_status(context(ctx), ref_of(instance))));
  });
}

int pglift_instance_start(pglift_ctx* ctx, const char* instance, pglift_error** err) noexcept {
  return guard(err, [&] { pglift::start_instance(context(ctx), ref_of(instance)); });
}

int pglift_instance_stop(pglift_ctx* ctx, const char* instance, int mode, pglift_error** err) noexcept {
  return guard(err, [&] { pglift::stop_instance(context(ctx), ref_of(instance), mode_of(mode)); });
}

int pglift_instance_restart(pglift_ctx* ctx, const char* instance, int mode, pglift_error** err) noexcept {
  return guard(err, [&] { pglift::restart_instance(context(ctx), ref_of(instance), mode_of(mode)); });
}

int pglift_instance_reload(pglift_ctx* ctx, const char* instance, pglift_error** err) noexcept {
  return guard(err, [&] { pglift::reload_instance(context(ctx), ref_of(instance)); });
}

int pglift_instance_drop(pglift_ctx* ctx, const char* instance, pglift_error** err) noexcept {
  return guard(err, [&] { pglift::drop_instance(context(ctx), ref_of(instance)); });
}

int pglift_instance_env(pglift_ctx* ctx, const char* instance, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    capi::put(out_json, json_of(pglift::instance_env(context(ctx), ref_of(instance))));
  });
}

int pglift_instance_schema(char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] { capi::put(&require(out_json, "out_json"), pglift::InstanceSpec::json_schema()); });
}

int pglift_role_schema(char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] { capi::put(&require(out_json, "out_json"), pglift::RoleSpec::json_schema()); });
}

int pglift_database_schema(char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] { capi::put(&require(out_json, "out_json"), pglift::DatabaseSpec::json_schema()); });
}

int pglift_instance_log_file(pglift_ctx* ctx, const char* instance, char** out_path, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_path, "out_path");
    capi::put(out_path, pglift::instance_log_file(context(ctx), ref_of(instance)).string());
  });
}

// --- asynchronous ------------------------------------------------------------------------------------

int pglift_instance_create_async(pglift_ctx* ctx, const char* spec_json, size_t spec_len, uint32_t flags,
                                 uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto spec = spec_of(spec_json, spec_len);
    auto options = options_of(flags);
    launch<Instance>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_create_instance(*ctx->context, std::move(spec), options, std::move(done), op);
    });
  });
}

int pglift_instance_get_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                              pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    launch<Instance>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_get_instance(*ctx->context, std::move(ref), std::move(done), op);
    });
  });
}

int pglift_instance_list_async(pglift_ctx* ctx, const char* version, uint64_t tag, pglift_op** out,
                               pglift_error** err) noexcept {
  return guard(err, [&] {
    auto v = version_of(version);
    launch<std::vector<InstanceListItem>>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_list_instances(*ctx->context, std::move(v), std::move(done), op);
    });
  });
}

int pglift_instance_status_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                                 pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    launch<InstanceStatus>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_instance_status(*ctx->context, std::move(ref), std::move(done), op);
    });
  });
}

int pglift_instance_start_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                                pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    launch<>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_start_instance(*ctx->context, std::move(ref), std::move(done), op);
    });
  });
}

int pglift_instance_stop_async(pglift_ctx* ctx, const char* instance, int mode, uint64_t tag, pglift_op** out,
                               pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    auto m = mode_of(mode);
    launch<>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_stop_instance(*ctx->context, std::move(ref), m, std::move(done), op);
    });
  });
}

int pglift_instance_restart_async(pglift_ctx* ctx, const char* instance, int mode, uint64_t tag, pglift_op** out,
                                  pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    auto m = mode_of(mode);
    launch<>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_restart_instance(*ctx->context, std::move(ref), m, std::move(done), op);
    });
  });
}

int pglift_instance_reload_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                                 pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    launch<>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_reload_instance(*ctx->context, std::move(ref), std::move(done), op);
    });
  });
}

int pglift_instance_drop_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                               pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    launch<>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_drop_instance(*ctx->context, std::move(ref), std::move(done), op);
    });
  });
}

int pglift_instance_env_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                              pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    require(ctx, "ctx");
    require(out, "out");
    // No I/O thread needed: it only reads files. It completes here, yet ends like any other op.
    auto state = std::make_shared<capi::OpState>(tag);
    auto op = std::make_unique<pglift_op>(pglift_op{state});
    std::exception_ptr e;
    std::optional<std::string> json;
    try {
      json = json_of(pglift::instance_env(*ctx->context, ref));
    } catch (...) {
      e = std::current_exception();
    }
    state->complete(e, std::move(json), *ctx->queue);
    *out = op.release();
  });
}

// --- configuration and Patroni ------------------------------------------------------------------------

int pglift_instance_start_with(pglift_ctx* ctx, const char* instance, uint32_t flags, pglift_error** err) noexcept {
  return guard(err, [&] { pglift::start_instance(context(ctx), ref_of(instance), start_options_of(flags)); });
}

int pglift_instance_drop_with(pglift_ctx* ctx, const char* instance, uint32_t flags, pglift_error** err) noexcept {
  return guard(err, [&] { pglift::drop_instance(context(ctx), ref_of(instance), drop_options_of(flags)); });
}

int pglift_instance_configure(pglift_ctx* ctx, const char* instance, const char* changes_json, size_t changes_len,
                              char** out_json, pglift_error** err) noexcept {
  return pglift_instance_configure_with(ctx, instance, changes_json, changes_len, PGLIFT_OP_DEFAULT, out_json, err);
}

int pglift_instance_configure_with(pglift_ctx* ctx, const char* instance, const char* changes_json, size_t changes_len,
                                   uint32_t flags, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    auto options = capi::op_options(flags);
    auto changes = changes_of(changes_json, changes_len);
    capi::put(out_json, json_of(pglift::configure_instance(context(ctx), ref_of(instance), changes, options)));
  });
}

int pglift_instance_alter(pglift_ctx* ctx, const char* instance, const char* changes_json, size_t changes_len, uint32_t flags,
                          char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    auto options = apply_options_of(flags);
    auto changes = instance_changes_of(changes_json, changes_len);
    capi::put(out_json, json_of(pglift::alter_instance(context(ctx), ref_of(instance), changes, options)));
  });
}

int pglift_instance_apply(pglift_ctx* ctx, const char* manifest_json, size_t manifest_len, uint32_t flags, char** out_json,
                          pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    auto options = apply_options_of(flags);
    auto manifest = manifest_of(manifest_json, manifest_len);
    capi::put(out_json, json_of(pglift::apply_instance(context(ctx), manifest, options)));
  });
}

int pglift_instance_parameters(pglift_ctx* ctx, const char* instance, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    capi::put(out_json, pglift::to_json(pglift::instance_parameters(context(ctx), ref_of(instance))));
  });
}

int pglift_instance_promote(pglift_ctx* ctx, const char* instance, pglift_error** err) noexcept {
  return guard(err, [&] { pglift::promote_instance(context(ctx), ref_of(instance)); });
}

int pglift_patroni_switchover(pglift_ctx* ctx, const char* instance, const char* candidate, const char* scheduled_at,
                              char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    capi::put(out_json, json_of(pglift::patroni_switchover(context(ctx), ref_of(instance),
                                                           switchover_of(candidate, scheduled_at))));
  });
}

int pglift_patroni_failover(pglift_ctx* ctx, const char* instance, const char* candidate, char** out_json,
                            pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(candidate, "candidate");
    capi::put(out_json, json_of(pglift::patroni_failover(context(ctx), ref_of(instance), candidate)));
  });
}

int pglift_patroni_credentials(pglift_ctx* ctx, const char* instance, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    capi::put(out_json, pglift::patroni_credentials(context(ctx), ref_of(instance)).to_json());
  });
}

int pglift_patroni_pause(pglift_ctx* ctx, const char* instance, int pause, pglift_error** err) noexcept {
  return guard(err, [&] {
    if (pause) pglift::patroni_pause(context(ctx), ref_of(instance));
    else pglift::patroni_resume(context(ctx), ref_of(instance));
  });
}

int pglift_patroni_log_file(pglift_ctx* ctx, const char* instance, char** out_path, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_path, "out_path");
    capi::put(out_path, pglift::patroni_log_file(context(ctx), ref_of(instance)).string());
  });
}

int pglift_instance_start_with_async(pglift_ctx* ctx, const char* instance, uint32_t flags, uint64_t tag,
                                     pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    auto options = start_options_of(flags);
    launch<>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_start_instance(*ctx->context, std::move(ref), options, std::move(done), op);
    });
  });
}

int pglift_instance_drop_with_async(pglift_ctx* ctx, const char* instance, uint32_t flags, uint64_t tag,
                                    pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    auto options = drop_options_of(flags);
    launch<>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_drop_instance(*ctx->context, std::move(ref), options, std::move(done), op);
    });
  });
}

int pglift_instance_configure_async(pglift_ctx* ctx, const char* instance, const char* changes_json, size_t changes_len,
                                    uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return pglift_instance_configure_with_async(ctx, instance, changes_json, changes_len, PGLIFT_OP_DEFAULT, tag, out, err);
}

int pglift_instance_configure_with_async(pglift_ctx* ctx, const char* instance, const char* changes_json,
                                         size_t changes_len, uint32_t flags, uint64_t tag, pglift_op** out,
                                         pglift_error** err) noexcept {
  return guard(err, [&] {
    auto options = capi::op_options(flags, tag);
    auto ref = ref_of(instance);
    auto changes = changes_of(changes_json, changes_len);
    launch<pglift::ConfigurationResult>(ctx, options, out, [&](auto done, auto op) {
      return pglift::start_configure_instance(*ctx->context, std::move(ref), std::move(changes), std::move(done), op);
    });
  });
}

int pglift_instance_alter_async(pglift_ctx* ctx, const char* instance, const char* changes_json, size_t changes_len,
                                uint32_t flags, uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    auto options = apply_options_of(flags);
    auto changes = instance_changes_of(changes_json, changes_len);
    launch<pglift::ApplyResult>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_alter_instance(*ctx->context, std::move(ref), std::move(changes), options, std::move(done), op);
    });
  });
}

int pglift_instance_apply_async(pglift_ctx* ctx, const char* manifest_json, size_t manifest_len, uint32_t flags,
                                uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto options = apply_options_of(flags);
    auto manifest = manifest_of(manifest_json, manifest_len);
    launch<pglift::ApplyResult>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_apply_instance(*ctx->context, std::move(manifest), options, std::move(done), op);
    });
  });
}

int pglift_instance_promote_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                                  pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    launch<>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_promote_instance(*ctx->context, std::move(ref), std::move(done), op);
    });
  });
}

int pglift_patroni_switchover_async(pglift_ctx* ctx, const char* instance, const char* candidate,
                                    const char* scheduled_at, uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    auto options = switchover_of(candidate, scheduled_at);
    launch<pglift::TopologyResult>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_patroni_switchover(*ctx->context, std::move(ref), std::move(options), std::move(done), op);
    });
  });
}

int pglift_patroni_failover_async(pglift_ctx* ctx, const char* instance, const char* candidate, uint64_t tag,
                                  pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    require(candidate, "candidate");
    std::string c = candidate;
    launch<pglift::TopologyResult>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_patroni_failover(*ctx->context, std::move(ref), std::move(c), std::move(done), op);
    });
  });
}

int pglift_patroni_pause_async(pglift_ctx* ctx, const char* instance, int pause, uint64_t tag, pglift_op** out,
                               pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    launch<>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_patroni_pause(*ctx->context, std::move(ref), pause != 0, std::move(done), op);
    });
  });
}

}  // extern "C"
