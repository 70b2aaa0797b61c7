// pg_hba records through the C ABI: JSON records in, the HbaResult as JSON out (blocking and async).
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "handles.hpp"
#include "pglift/errors.hpp"
#include "pglift/hba.hpp"

namespace {

using capi::context;
using capi::guard;
using capi::ref_of;
using capi::require;

std::vector<pglift::HbaRecord> records_of(const char* json, size_t len) {
  require(json, "records_json");
  auto records = pglift::HbaRecord::list_from_json(std::string(json, len));
  for (const auto& r : records) r.validate();
  return records;
}

pglift::HbaOptions options_of(uint32_t flags) {
  if (flags & ~static_cast<uint32_t>(PGLIFT_HBA_DRY_RUN)) throw pglift::InvalidSpec("flags", std::to_string(flags), "unknown flags");
  return pglift::HbaOptions{.dry_run = (flags & PGLIFT_HBA_DRY_RUN) != 0};
}

/// capi::launch, the result as JSON.
template <class Start>
void launch(pglift_ctx* ctx, uint64_t tag, pglift_op** out, Start start) {
  capi::launch<pglift::HbaResult>(ctx, tag, out, std::move(start), [](const pglift::HbaResult& r) { return pglift::to_json(r); });
}

}  // namespace

extern "C" {

int pglift_hba_add(pglift_ctx* ctx, const char* instance, const char* records_json, size_t records_len, uint32_t flags,
                   char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    auto records = records_of(records_json, records_len);
    capi::put(out_json, pglift::to_json(pglift::add_hba_records(context(ctx), ref_of(instance), records, options_of(flags))));
  });
}

int pglift_hba_remove(pglift_ctx* ctx, const char* instance, const char* records_json, size_t records_len, uint32_t flags,
                      char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    auto records = records_of(records_json, records_len);
    capi::put(out_json, pglift::to_json(pglift::remove_hba_records(context(ctx), ref_of(instance), records, options_of(flags))));
  });
}

int pglift_hba_add_async(pglift_ctx* ctx, const char* instance, const char* records_json, size_t records_len,
                         uint32_t flags, uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    auto records = records_of(records_json, records_len);
    auto options = options_of(flags);
    launch(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_add_hba_records(*ctx->context, std::move(ref), std::move(records), options, std::move(done), op);
    });
  });
}

int pglift_hba_remove_async(pglift_ctx* ctx, const char* instance, const char* records_json, size_t records_len,
                            uint32_t flags, uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    auto records = records_of(records_json, records_len);
    auto options = options_of(flags);
    launch(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_remove_hba_records(*ctx->context, std::move(ref), std::move(records), options, std::move(done), op);
    });
  });
}

}  // extern "C"
