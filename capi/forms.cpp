// The asynchronous twins of the C ABI's remaining blocking reads and of configure_text (wt-forms): every
// entry point doing I/O has an `_async` form. Each runs as a core operation on the context's threads.
#include <filesystem>
#include <string>

#include "handles.hpp"
#include "pglift/errors.hpp"
#include "pglift/operations.hpp"

namespace {

using capi::guard;
using capi::ref_of;
using capi::require;

std::string json_of(const pglift::ConfParameters& p) { return pglift::to_json(p); }
std::string json_of(const std::string& text) { return capi::json_string(text); }
std::string json_of(const std::filesystem::path& path) { return capi::json_string(path.string()); }
std::string json_of(const pglift::ConfigurationResult& r) { return pglift::to_json(r); }
std::string json_of(const pglift::PatroniCredentials& c) { return c.to_json(); }  // secrets: documented

/// capi::launch, the result as JSON by this file's json_of.
template <class R, class Tag, class Start>
void launch(pglift_ctx* ctx, Tag tag, pglift_op** out, Start start) {
  capi::launch<R>(ctx, tag, out, std::move(start), [](const R& r) { return json_of(r); });
}

}  // namespace

extern "C" {

int pglift_instance_parameters_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                                     pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    launch<pglift::ConfParameters>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_instance_parameters(*ctx->context, std::move(ref), std::move(done), op);
    });
  });
}

int pglift_instance_parameters_text_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                                          pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    launch<std::string>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_instance_parameters_text(*ctx->context, std::move(ref), std::move(done), op);
    });
  });
}

int pglift_instance_configure_text_async(pglift_ctx* ctx, const char* instance, const char* text, size_t text_len,
                                         uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return pglift_instance_configure_text_with_async(ctx, instance, text, text_len, PGLIFT_OP_DEFAULT, tag, out, err);
}

int pglift_instance_configure_text_with_async(pglift_ctx* ctx, const char* instance, const char* text, size_t text_len,
                                              uint32_t flags, uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto options = capi::op_options(flags, tag);
    auto ref = ref_of(instance);
    require(text, "text");
    std::string t(text, text_len);
    // The syntax is checked now (an `_async` call refuses its bad arguments at once); the changes are
    // computed by the op, against the parameters it reads under the instance lock.
    (void)pglift::parameter_changes_from_text({}, t);
    launch<pglift::ConfigurationResult>(ctx, options, out, [&](auto done, auto op) {
      return pglift::start_configure_instance_text(*ctx->context, std::move(ref), std::move(t), std::move(done), op);
    });
  });
}

int pglift_instance_log_file_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                                   pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    launch<std::filesystem::path>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_instance_log_file(*ctx->context, std::move(ref), std::move(done), op);
    });
  });
}

int pglift_patroni_credentials_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                                     pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    launch<pglift::PatroniCredentials>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_patroni_credentials(*ctx->context, std::move(ref), std::move(done), op);
    });
  });
}

int pglift_patroni_log_file_async(pglift_ctx* ctx, const char* instance, uint64_t tag, pglift_op** out,
                                  pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    launch<std::filesystem::path>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_patroni_log_file(*ctx->context, std::move(ref), std::move(done), op);
    });
  });
}

}  // extern "C"
