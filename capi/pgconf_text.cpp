// The managed parameters as postgresql.conf text through the C ABI (`pgconf edit` for bindings).
#include <string>

#include "handles.hpp"
#include "pglift/errors.hpp"
#include "pglift/operations.hpp"

namespace {

using capi::context;
using capi::guard;
using capi::ref_of;
using capi::require;

}  // namespace

extern "C" {

int pglift_instance_parameters_text(pglift_ctx* ctx, const char* instance, char** out_text, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_text, "out_text");
    capi::put(out_text, pglift::instance_parameters_text(context(ctx), ref_of(instance)));
  });
}

int pglift_instance_configure_text(pglift_ctx* ctx, const char* instance, const char* text, size_t text_len,
                                   char** out_json, pglift_error** err) noexcept {
  return pglift_instance_configure_text_with(ctx, instance, text, text_len, PGLIFT_OP_DEFAULT, out_json, err);
}

int pglift_instance_configure_text_with(pglift_ctx* ctx, const char* instance, const char* text, size_t text_len,
                                        uint32_t flags, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(text, "text");
    auto options = capi::op_options(flags);
    auto ref = ref_of(instance);
    // One operation (wt-forms): the parameters read and the changes written under the instance lock, as
    // its _async twin does.
    capi::put(out_json, pglift::to_json(pglift::configure_instance_text(context(ctx), ref, std::string_view(text, text_len), options)));
  });
}

}  // extern "C"
