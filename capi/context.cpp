// Settings and contexts.
#include <unistd.h>

#include "handles.hpp"
#include "pglift/errors.hpp"

namespace {

void refuse_root() {
  if (::geteuid() == 0) throw pglift::Unsupported("pglift cannot be used as root");
}

}  // namespace

using capi::guard;
using capi::require;

extern "C" {

int pglift_settings_load(pglift_settings** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out, "out");
    refuse_root();  // before reading anything
    *out = new pglift_settings{pglift::Settings::load()};
  });
}

int pglift_settings_from_json(const char* json, size_t json_len, pglift_settings** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(json, "json");
    require(out, "out");
    *out = new pglift_settings{pglift::Settings::from_documents({std::string(json, json_len)})};
  });
}

int pglift_settings_to_json(const pglift_settings* settings, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] { capi::put(&require(out_json, "out_json"), require(settings, "settings").settings.to_json()); });
}

void pglift_settings_free(pglift_settings* settings) noexcept { delete settings; }

int pglift_ctx_new(const pglift_settings* settings, pglift_ctx** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out, "out");
    auto ctx = std::make_unique<pglift_ctx>();
    ctx->queue = std::make_shared<capi::EventQueue>();
    pglift::EventSink sink = [queue = ctx->queue](const pglift::Event& e) { queue->sink(e); };
    ctx->context = settings ? std::make_unique<pglift::Context>(settings->settings, std::move(sink))
                            : std::make_unique<pglift::Context>(std::move(sink));  // refuses root
    *out = ctx.release();
  });
}

void pglift_ctx_free(pglift_ctx* ctx) noexcept {
  // ~Context cancels pending operations and waits for their reverts; it must not throw, and if it
  // did, terminate (noexcept) is better than unwinding into C.
  delete ctx;
}

int pglift_ctx_settings_json(pglift_ctx* ctx, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] { capi::put(&require(out_json, "out_json"), require(ctx, "ctx").context->settings().to_json()); });
}

}  // extern "C"
