// Database operations, blocking and asynchronous, over pglift/databases.hpp.
#include <string>
#include <vector>

#include "handles.hpp"
#include "pglift/databases.hpp"
#include "pglift/errors.hpp"

namespace {

using capi::context;
using capi::guard;
using capi::ref_of;
using capi::require;
using pglift::InstanceRef;

std::string name_of(const char* name) {
  require(name, "name");
  return name;
}

pglift::DatabaseSpec spec_of(const char* json, size_t len) {
  require(json, "spec_json");
  return pglift::DatabaseSpec::from_json(std::string(json, len));
}

pglift::DatabaseSelection selection_of(const char* json) {
  return json ? pglift::DatabaseSelection::from_json(json) : pglift::DatabaseSelection{};
}

pglift::PrivilegesQuery query_of(const char* json) {
  return json ? pglift::PrivilegesQuery::from_json(json) : pglift::PrivilegesQuery{};
}

// --- results as JSON: the CLI's `-o json` ------------------------------------------------------------

std::string json_of(const pglift::Database& d) { return d.to_json(); }
std::string json_of(const std::vector<pglift::DatabaseListItem>& items) { return pglift::to_json(items); }
std::string json_of(const pglift::SqlResults& r) { return pglift::to_json(r); }
std::string json_of(const pglift::Privileges& p) { return p.to_json(); }

/// capi::launch, the result as JSON by this file's json_of.
template <class... R, class Tag, class Start>
void launch(pglift_ctx* ctx, Tag tag, pglift_op** out, Start start) {  // Tag: a tag, or capi::op_options
  capi::launch<R...>(ctx, tag, out, std::move(start), [](const auto&... r) { return json_of(r...); });
}

}  // namespace

extern "C" {

int pglift_database_create(pglift_ctx* ctx, const char* instance, const char* spec_json, size_t spec_len,
                           char** out_json, pglift_error** err) noexcept {
  return pglift_database_create_with(ctx, instance, spec_json, spec_len, PGLIFT_OP_DEFAULT, out_json, err);
}

int pglift_database_create_with(pglift_ctx* ctx, const char* instance, const char* spec_json, size_t spec_len,
                                uint32_t flags, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    auto options = capi::op_options(flags);
    auto spec = spec_of(spec_json, spec_len);
    capi::put(out_json, json_of(pglift::create_database(context(ctx), ref_of(instance), spec, options)));
  });
}

int pglift_database_alter(pglift_ctx* ctx, const char* instance, const char* spec_json, size_t spec_len,
                          char** out_json, pglift_error** err) noexcept {
  return pglift_database_alter_with(ctx, instance, spec_json, spec_len, PGLIFT_OP_DEFAULT, out_json, err);
}

int pglift_database_alter_with(pglift_ctx* ctx, const char* instance, const char* spec_json, size_t spec_len,
                               uint32_t flags, char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    auto options = capi::op_options(flags);
    auto spec = spec_of(spec_json, spec_len);
    capi::put(out_json, json_of(pglift::alter_database(context(ctx), ref_of(instance), spec, options)));
  });
}

int pglift_database_get(pglift_ctx* ctx, const char* instance, const char* name, char** out_json,
                        pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    capi::put(out_json, json_of(pglift::get_database(context(ctx), ref_of(instance), name_of(name))));
  });
}

int pglift_database_list(pglift_ctx* ctx, const char* instance, const char* selection_json, char** out_json,
                         pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    auto selection = selection_of(selection_json);
    capi::put(out_json, json_of(pglift::list_databases(context(ctx), ref_of(instance), selection)));
  });
}

int pglift_database_drop(pglift_ctx* ctx, const char* instance, const char* name, int force,
                         pglift_error** err) noexcept {
  return pglift_database_drop_with(ctx, instance, name, force, PGLIFT_OP_DEFAULT, err);
}

int pglift_database_drop_with(pglift_ctx* ctx, const char* instance, const char* name, int force, uint32_t flags,
                              pglift_error** err) noexcept {
  return guard(err, [&] {
    auto options = capi::op_options(flags);
    pglift::drop_database(context(ctx), ref_of(instance), name_of(name), force != 0, options);
  });
}

int pglift_database_run(pglift_ctx* ctx, const char* instance, const char* sql, const char* selection_json,
                        char** out_json, pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    require(sql, "sql");
    auto selection = selection_of(selection_json);
    capi::put(out_json, json_of(pglift::run_sql(context(ctx), ref_of(instance), sql, selection)));
  });
}

int pglift_database_privileges(pglift_ctx* ctx, const char* instance, const char* query_json, char** out_json,
                               pglift_error** err) noexcept {
  return guard(err, [&] {
    require(out_json, "out_json");
    auto q = query_of(query_json);
    capi::put(out_json,
              json_of(pglift::database_privileges(context(ctx), ref_of(instance), q.databases, q.roles, q.defaults)));
  });
}

int pglift_database_create_async(pglift_ctx* ctx, const char* instance, const char* spec_json, size_t spec_len,
                                 uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return pglift_database_create_with_async(ctx, instance, spec_json, spec_len, PGLIFT_OP_DEFAULT, tag, out, err);
}

int pglift_database_create_with_async(pglift_ctx* ctx, const char* instance, const char* spec_json, size_t spec_len,
                                      uint32_t flags, uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto options = capi::op_options(flags, tag);
    auto ref = ref_of(instance);
    auto spec = spec_of(spec_json, spec_len);
    launch<pglift::Database>(ctx, options, out, [&](auto done, auto op) {
      return pglift::start_create_database(*ctx->context, std::move(ref), std::move(spec), std::move(done), op);
    });
  });
}

int pglift_database_alter_async(pglift_ctx* ctx, const char* instance, const char* spec_json, size_t spec_len,
                                uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return pglift_database_alter_with_async(ctx, instance, spec_json, spec_len, PGLIFT_OP_DEFAULT, tag, out, err);
}

int pglift_database_alter_with_async(pglift_ctx* ctx, const char* instance, const char* spec_json, size_t spec_len,
                                     uint32_t flags, uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto options = capi::op_options(flags, tag);
    auto ref = ref_of(instance);
    auto spec = spec_of(spec_json, spec_len);
    launch<pglift::Database>(ctx, options, out, [&](auto done, auto op) {
      return pglift::start_alter_database(*ctx->context, std::move(ref), std::move(spec), std::move(done), op);
    });
  });
}

int pglift_database_get_async(pglift_ctx* ctx, const char* instance, const char* name, uint64_t tag, pglift_op** out,
                              pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    auto n = name_of(name);
    launch<pglift::Database>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_get_database(*ctx->context, std::move(ref), std::move(n), std::move(done), op);
    });
  });
}

int pglift_database_list_async(pglift_ctx* ctx, const char* instance, const char* selection_json, uint64_t tag,
                               pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    auto selection = selection_of(selection_json);
    launch<std::vector<pglift::DatabaseListItem>>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_list_databases(*ctx->context, std::move(ref), std::move(selection), std::move(done), op);
    });
  });
}

int pglift_database_drop_async(pglift_ctx* ctx, const char* instance, const char* name, int force, uint64_t tag,
                               pglift_op** out, pglift_error** err) noexcept {
  return pglift_database_drop_with_async(ctx, instance, name, force, PGLIFT_OP_DEFAULT, tag, out, err);
}

int pglift_database_drop_with_async(pglift_ctx* ctx, const char* instance, const char* name, int force, uint32_t flags,
                                    uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto options = capi::op_options(flags, tag);
    auto ref = ref_of(instance);
    auto n = name_of(name);
    launch<>(ctx, options, out, [&](auto done, auto op) {
      return pglift::start_drop_database(*ctx->context, std::move(ref), std::move(n), force != 0, std::move(done), op);
    });
  });
}

int pglift_database_run_async(pglift_ctx* ctx, const char* instance, const char* sql, const char* selection_json,
                              uint64_t tag, pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    require(sql, "sql");
    std::string text = sql;
    auto selection = selection_of(selection_json);
    launch<pglift::SqlResults>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_run_sql(*ctx->context, std::move(ref), std::move(text), std::move(selection), std::move(done),
                                   op);
    });
  });
}

int pglift_database_privileges_async(pglift_ctx* ctx, const char* instance, const char* query_json, uint64_t tag,
                                     pglift_op** out, pglift_error** err) noexcept {
  return guard(err, [&] {
    auto ref = ref_of(instance);
    auto q = query_of(query_json);
    launch<pglift::Privileges>(ctx, tag, out, [&](auto done, auto op) {
      return pglift::start_database_privileges(*ctx->context, std::move(ref), std::move(q.databases),
                                               std::move(q.roles), q.defaults, std::move(done), op);
    });
  });
}

}  // extern "C"
