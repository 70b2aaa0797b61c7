// Role operations, blocking and asynchronous, over pglift/roles.hpp.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "handles.hpp"
#include "pglift/errors.hpp"
#include "pglift/roles.hpp"

namespace {

using capi::context;
using capi::guard;
using capi::ref_of;
using capi::require;

std::string name_of(const char* name) { return require(name, "name"), std::string(name); }

pglift::RoleSpec spec_of(const char* json, size_t len) {
  require(json, "spec_json");
  return pglift::role_spec_from_json(std::string(json, len));
}
pglift::RoleChanges changes_of(const char* json, size_t len) {
  require(json, "changes_json");
  return pglift::role_changes_from_json(std::string(json, len));
}
pglift::RoleDropOptions drop_options_of(const char* json, size_t len) {
  return json ? pglift::role_drop_options_from_json(std::string(json, len)) : pglift::RoleDropOptions{};
}

std::string json_of(const pglift::Role& r) { return pglift::to_json(r); }
std::string json_of(const std::vector<pglift::Role>& r) { return pglift::to_json(r); }

/// capi::launch, the result as JSON by this file's json_of.
template <class... R, class Tag, class Start>
void launch(pglift_ctx* ctx, Tag tag, pglift_op** out, Start start) {  // Tag: a tag, or capi::op_options
  capi::launch<R...>(ctx, tag, out, std::move(start), [](const auto&... r) { return json_of(r...); });
}

}  // namespace

extern "C" {

int pglift_role_create(pglift_ctx* ctx, const char* instance, const char* spec_json, size_t spec_len,
                       pglift_error** err) noexcept {
  return pglift_role_create_with(ctx, instance, spec_json, spec_len, PGLIFT_OP_DEFAULT, err);
}

int pglift_role_create_with(pglift_ctx* ctx, const char* instance, const char* spec_json, size_t spec_len, uint32_t flags,
                            pglift_error** err) noexcept {
  return guard(err, [&] {
    auto options = capi::op_options(flags);
    auto spec = spec_of(spec_json, spec_len);
    pglift::create_role(context(ctx), ref_of(instance), spec, options);
  });
}

int pglift_role_alter(pglift_ctx* ctx, const char* instance, const char* name, const char* changes_json,
                      size_t changes_len, pglift_error** err) noexcept {
  return pglift_role_alter_with(ctx, instance, name, changes_json, changes_len, PGLIFT_OP_DEFAULT, err);
}

int pglift_role_alter_with(pglift_ctx* ctx, const char* instance, const char* name, const char* changes_json,
                           size_t changes_len, uint32_t flags, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto options = capi::op_options(flags);
    auto changes = changes_of(changes_json, changes_len);
    pglift::alter_role(context(ctx), ref_of(instance), name_of(name), changes, options);
  });
}

int pglift_role_get(pglift_ctx* ctx, const char* instance, const char* name, char** out_json,
                    pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    capi::put(out_json, json_of(pglift::get_role(context(ctx), ref_of(instance), name_of(name))));
  });
}

int pglift_role_list(pglift_ctx* ctx, const char* instance, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    capi::put(out_json, json_of(pglift::list_roles(context(ctx), ref_of(instance))));
  });
}

int pglift_role_drop(pglift_ctx* ctx, const char* instance, const char* name, const char* options_json,
                     size_t options_len, pglift_error** err) noexcept {
  return pglift_role_drop_with(ctx, instance, name, options_json, options_len, PGLIFT_OP_DEFAULT, err);
}

int pglift_role_drop_with(pglift_ctx* ctx, const char* instance, const char* name, const char* options_json,
                          size_t options_len, uint32_t flags, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto op_options = capi::op_options(flags);
    auto options = drop_options_of(options_json, options_len);
    pglift::drop_role(context(ctx), ref_of(instance), name_of(name), options, op_options);
  });
}

int pglift_role_create_async(pglift_ctx* ctx, const char* instance, const char* spec_json, size_t spec_len,
                             uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return pglift_role_create_with_async(ctx, instance, spec_json, spec_len, PGLIFT_OP_DEFAULT, tag, out, err);
}

int pglift_role_create_with_async(pglift_ctx* ctx, const char* instance, const char* spec_json, size_t spec_len,
                                  uint32_t flags, uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto options = capi::op_options(flags, tag);
    auto ref = ref_of(instance);
    auto spec = spec_of(spec_json, spec_len);
    launch<>(ctx, options, out, [&](auto done, auto op) {
      return pglift::start_create_role(*ctx->context, std::move(ref), std::move(spec), std::move(done), op);
    });
  });
}

int pglift_role_alter_async(pglift_ctx* ctx, const char* instance, const char* name, const char* changes_json,
                            size_t changes_len, uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return pglift_role_alter_with_async(ctx, instance, name, changes_json, changes_len, PGLIFT_OP_DEFAULT, tag, out, err);
}

int pglift_role_alter_with_async(pglift_ctx* ctx, const char* instance, const char* name, const char* changes_json,
                                 size_t changes_len, uint32_t flags, uint64_t tag, pglift_op** out,
                                 pglift_error** err) noexcept {
  return guard(err, [&] {
    auto options = capi::op_options(flags, tag);
    auto ref = ref_of(instance);
    auto role = name_of(name);
    auto changes = changes_of(changes_json, changes_len);
    launch<>(ctx, options, out, [&](auto done, auto op) {
      return pglift::start_alter_role(*ctx->context, std::move(ref), std::move(role), std::move(changes), std::move(done), op);
    });
  });
}

int pglift_role_get_async(pglift_ctx* ctx, const char* instance, const char* name, uint64_t tag, pglift_op** out,
                          pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    auto role = name_of(name);
    launch<pglift::Role>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_get_role(*ctx->context, std::move(ref), std::move(role), std::move(done), op);
    });
  });
}

int pglift_role_list_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                           pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    launch<std::vector<pglift::Role>>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_list_roles(*ctx->context, std::move(ref), std::move(done), op);
    });
  });
}

int pglift_role_drop_async(pglift_ctx* ctx, const char* instance, const char* name, const char* options_json,
                           size_t options_len, uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return pglift_role_drop_with_async(ctx, instance, name, options_json, options_len, PGLIFT_OP_DEFAULT, tag, out, err);
}

int pglift_role_drop_with_async(pglift_ctx* ctx, const char* instance, const char* name, const char* options_json,
                                size_t options_len, uint32_t flags, uint64_t tag, pglift_op** out,
                                pglift_error** err) noexcept {
  return guard(err, [&] {
    auto op_options = capi::op_options(flags, tag);
    auto ref = ref_of(instance);
    auto role = name_of(name);
    auto options = drop_options_of(options_json, options_len);
    launch<>(ctx, op_options, out, [&](auto done, auto op) {
      return pglift::start_drop_role(*ctx->context, std::move(ref), std::move(role), std::move(options), std::move(done), op);
    });
  });
}

}  // extern "C"
