// A Patroni member's configuration through the C ABI: its document as JSON (secrets redacted) out, a
// whole document in (set, validate), blocking and async.
#include <string>
#include <vector>

#include "handles.hpp"
#include "pglift/errors.hpp"
#include "pglift/patroni_config.hpp"

namespace {

using capi::context;
using capi::guard;
using capi::ref_of;
using capi::require;

pglift::PatroniConfig config_of(const char* json, size_t len) {
  require(json, "config_json");
  return pglift::PatroniConfig::from_json(std::string_view(json, len));
}

std::string config_json(const pglift::PatroniConfig& c) { return c.to_json(); }
std::string issues_json(const std::vector<pglift::PatroniConfigIssue>& issues) { return pglift::to_json(issues); }
std::string no_json() { return {}; }

}  // namespace

extern "C" {

int pglift_patroni_config_get(pglift_ctx* ctx, const char* instance, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    capi::put(out_json, pglift::PatroniConfig::load(context(ctx), ref_of(instance)).to_json());
  });
}

int pglift_patroni_config_set(pglift_ctx* ctx, const char* instance, const char* config_json, size_t config_len,
                              pglift_error** err) noexcept {
  return guard(err, [&] {
    auto& c = context(ctx);
    auto ref = ref_of(instance);
    config_of(config_json, config_len).save(c, ref);
  });
}

int pglift_patroni_config_validate(pglift_ctx* ctx, const char* instance, const char* config_json, size_t config_len,
                                   char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    auto& c = context(ctx);
    auto ref = ref_of(instance);
    capi::put(out_json, pglift::to_json(config_of(config_json, config_len).validate(c, ref)));
  });
}

int pglift_patroni_config_get_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                                    pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    capi::launch<pglift::PatroniConfig>(
        ctx, tag, out,
        [&](auto done, auto op) { return pglift::start_load_patroni_config(*ctx->context, std::move(ref), std::move(done), op); },
        config_json);
  });
}

int pglift_patroni_config_set_async(pglift_ctx* ctx, const char* instance, const char* config_json, size_t config_len,
                                    uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    auto config = config_of(config_json, config_len);
    capi::launch<>(
        ctx, tag, out,
        [&](auto done, auto op) {
          return pglift::start_save_patroni_config(*ctx->context, std::move(ref), std::move(config), std::move(done), op);
        },
        no_json);
  });
}

int pglift_patroni_config_validate_async(pglift_ctx* ctx, const char* instance, const char* config_json,
                                         size_t config_len, uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    auto config = config_of(config_json, config_len);
    capi::launch<std::vector<pglift::PatroniConfigIssue>>(
        ctx, tag, out,
        [&](auto done, auto op) {
          return pglift::start_validate_patroni_config(*ctx->context, std::move(ref), std::move(config), std::move(done), op);
        },
        issues_json);
  });
}

}  // extern "C"
