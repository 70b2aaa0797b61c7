// Every C ABI entry point taking a JSON document (and the postgresql.conf text of configure_text), blocking
// and _async: the first line of the input names the entry point (another first line picks one by its
// hash), the rest is the document. The context's settings have an empty, read-only prefix and a bindir
// that does not exist: nothing can be created, no program run, and the instance "16/fuzz" never exists.
// Properties: every call returns a status (never PGLIFT_E_INTERNAL, the code of an unexpected exception:
// a bug), an error object goes with every failure, and the prefix stays empty.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fuzz.hpp"
#include <pglift/pglift.h>

namespace fs = std::filesystem;

namespace {

constexpr const char* instance = "16/fuzz";

struct Fixture {
  fs::path dir, prefix, run;
  pglift_ctx* ctx = nullptr;

  Fixture() {
    std::string tmpl = (fs::temp_directory_path() / "pglift-fuzz-capi-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) pglift::fuzz::fail("mkdtemp");
    dir = tmpl;
    prefix = dir / "prefix";
    run = dir / "run";
    fs::create_directories(prefix);
    fs::create_directories(run);
    fs::permissions(prefix, fs::perms::owner_read | fs::perms::owner_exec);  // 0500: nothing is created there
    const std::string settings = R"({"prefix": ")" + prefix.string() + R"(", "run_prefix": ")" + run.string() +
                                 R"(", "postgresql": {"versions": [{"version": "16", "bindir": ")" +
                                 (dir / "nonexistent/bin").string() + R"("}]}})";
    pglift_settings* s = nullptr;
    pglift_error* err = nullptr;
    if (pglift_settings_from_json(settings.data(), settings.size(), &s, &err) != 0)
      pglift::fuzz::fail("the fixture's settings", pglift_error_message(err));
    if (pglift_ctx_new(s, &ctx, &err) != 0) pglift::fuzz::fail("pglift_ctx_new", pglift_error_message(err));
    pglift_settings_free(s);
    pglift_ctx_set_log_level(ctx, PGLIFT_LOG_OFF, nullptr);
  }
  ~Fixture() {
    pglift_ctx_free(ctx);
    std::error_code ec;
    fs::permissions(prefix, fs::perms::owner_all, ec);
    fs::remove_all(dir, ec);
  }

  /// After each call: the prefix is empty; the lock files of the run prefix are removed (one per name).
  void check_and_clean() const {
    DIR* d = ::opendir(prefix.c_str());
    if (!d) pglift::fuzz::fail("the prefix is gone");
    for (dirent* e; (e = ::readdir(d));)
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        ::closedir(d);
        pglift::fuzz::fail("something was created in the read-only prefix", e->d_name);
      }
    ::closedir(d);
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(run, ec)) fs::remove_all(entry.path(), ec);
    // Completions of the _async calls (log events are off).
    for (pglift_event* ev = nullptr; pglift_ctx_next_event(ctx, 0, &ev) == 1; ev = nullptr) pglift_event_free(ev);
  }
};

/// A blocking call's outcome: 0, or a failure with its error object; never PGLIFT_E_INTERNAL.
void blocking(int rc, pglift_error* err, char* out) {
  if (rc == 0) {
    pglift_free(out);
    return;
  }
  if (!err) pglift::fuzz::fail("a failure without its error object");
  if (rc == PGLIFT_E_INTERNAL) pglift::fuzz::fail("PGLIFT_E_INTERNAL (an unexpected exception)", pglift_error_message(err));
  pglift_error_free(err);
}

/// An _async call's outcome: refused at once (as a blocking call), or an op that ends.
void async(int rc, pglift_error* err, pglift_op* op) {
  if (rc != 0) return blocking(rc, err, nullptr);
  if (!op) pglift::fuzz::fail("an _async call succeeded without its op");
  if (pglift_op_wait(op, 60000) != 1) pglift::fuzz::fail("an op on an instance that does not exist did not end in 60 s");
  if (pglift_op_state_of(op) == PGLIFT_OP_FAILED) {
    const pglift_error* e = pglift_op_error(op);
    if (!e) pglift::fuzz::fail("a failed op without its error");
    if (pglift_error_code(e) == PGLIFT_E_INTERNAL)
      pglift::fuzz::fail("an op failed with PGLIFT_E_INTERNAL (an unexpected exception)", pglift_error_message(e));
  }
  pglift_op_free(op);
}

using Call = std::function<void(pglift_ctx*, const char*, size_t, const char*)>;
struct EntryPoint {
  const char* name;
  Call call;
};

// The document as (pointer, length), and as a C string for the entry points that take one.
#define B(expr)                   \
  [](pglift_ctx* ctx, const char* j, size_t n, const char* c) { \
    (void)ctx, (void)j, (void)n, (void)c;  \
    pglift_error* err = nullptr;  \
    char* out = nullptr;          \
    int rc = expr;                \
    blocking(rc, err, out);       \
  }
#define A(expr)                   \
  [](pglift_ctx* ctx, const char* j, size_t n, const char* c) { \
    (void)ctx, (void)j, (void)n, (void)c;  \
    pglift_error* err = nullptr;  \
    pglift_op* op = nullptr;      \
    int rc = expr;                \
    async(rc, err, op);           \
  }

const std::vector<EntryPoint> entry_points = {
    {"settings_from_json",
     [](pglift_ctx*, const char* j, size_t n, const char*) {
       pglift_settings* s = nullptr;
       pglift_error* err = nullptr;
       int rc = pglift_settings_from_json(j, n, &s, &err);
       char* out = nullptr;
       if (rc == 0) rc = pglift_settings_to_json(s, &out, &err);
       pglift_settings_free(s);
       blocking(rc, err, out);
     }},
    {"instance_create", B(pglift_instance_create(ctx, j, n, 0, &out, &err))},
    {"instance_create_async", A(pglift_instance_create_async(ctx, j, n, 0, 1, &op, &err))},
    {"instance_configure", B(pglift_instance_configure(ctx, instance, j, n, &out, &err))},
    {"instance_configure_with", B(pglift_instance_configure_with(ctx, instance, j, n, PGLIFT_OP_DRY_RUN, &out, &err))},
    {"instance_configure_async", A(pglift_instance_configure_async(ctx, instance, j, n, 1, &op, &err))},
    {"instance_configure_with_async", A(pglift_instance_configure_with_async(ctx, instance, j, n, 0, 1, &op, &err))},
    {"instance_configure_text", B(pglift_instance_configure_text(ctx, instance, j, n, &out, &err))},
    {"instance_configure_text_with", B(pglift_instance_configure_text_with(ctx, instance, j, n, 0, &out, &err))},
    {"instance_configure_text_async", A(pglift_instance_configure_text_async(ctx, instance, j, n, 1, &op, &err))},
    {"instance_configure_text_with_async",
     A(pglift_instance_configure_text_with_async(ctx, instance, j, n, PGLIFT_OP_DRY_RUN, 1, &op, &err))},
    {"instance_alter", B(pglift_instance_alter(ctx, instance, j, n, 0, &out, &err))},
    {"instance_alter_async", A(pglift_instance_alter_async(ctx, instance, j, n, PGLIFT_APPLY_DRY_RUN, 1, &op, &err))},
    {"instance_apply", B(pglift_instance_apply(ctx, j, n, 0, &out, &err))},
    {"instance_apply_dry_run", B(pglift_instance_apply(ctx, j, n, PGLIFT_APPLY_DRY_RUN, &out, &err))},
    {"instance_apply_async", A(pglift_instance_apply_async(ctx, j, n, 0, 1, &op, &err))},
    {"database_create", B(pglift_database_create(ctx, instance, j, n, &out, &err))},
    {"database_create_with", B(pglift_database_create_with(ctx, instance, j, n, PGLIFT_OP_DRY_RUN, &out, &err))},
    {"database_create_async", A(pglift_database_create_async(ctx, instance, j, n, 1, &op, &err))},
    {"database_create_with_async", A(pglift_database_create_with_async(ctx, instance, j, n, 0, 1, &op, &err))},
    {"database_alter", B(pglift_database_alter(ctx, instance, j, n, &out, &err))},
    {"database_alter_with", B(pglift_database_alter_with(ctx, instance, j, n, 0, &out, &err))},
    {"database_alter_async", A(pglift_database_alter_async(ctx, instance, j, n, 1, &op, &err))},
    {"database_alter_with_async", A(pglift_database_alter_with_async(ctx, instance, j, n, PGLIFT_OP_DRY_RUN, 1, &op, &err))},
    {"database_list", B(pglift_database_list(ctx, instance, c, &out, &err))},
    {"database_list_async", A(pglift_database_list_async(ctx, instance, c, 1, &op, &err))},
    {"database_run", B(pglift_database_run(ctx, instance, "SELECT 1", c, &out, &err))},
    {"database_run_async", A(pglift_database_run_async(ctx, instance, "SELECT 1", c, 1, &op, &err))},
    {"database_privileges", B(pglift_database_privileges(ctx, instance, c, &out, &err))},
    {"database_privileges_async", A(pglift_database_privileges_async(ctx, instance, c, 1, &op, &err))},
    {"role_create", B(pglift_role_create(ctx, instance, j, n, &err))},
    {"role_create_with", B(pglift_role_create_with(ctx, instance, j, n, PGLIFT_OP_DRY_RUN, &err))},
    {"role_create_async", A(pglift_role_create_async(ctx, instance, j, n, 1, &op, &err))},
    {"role_create_with_async", A(pglift_role_create_with_async(ctx, instance, j, n, 0, 1, &op, &err))},
    {"role_alter", B(pglift_role_alter(ctx, instance, "bob", j, n, &err))},
    {"role_alter_with", B(pglift_role_alter_with(ctx, instance, "bob", j, n, 0, &err))},
    {"role_alter_async", A(pglift_role_alter_async(ctx, instance, "bob", j, n, 1, &op, &err))},
    {"role_alter_with_async", A(pglift_role_alter_with_async(ctx, instance, "bob", j, n, PGLIFT_OP_DRY_RUN, 1, &op, &err))},
    {"role_drop", B(pglift_role_drop(ctx, instance, "bob", j, n, &err))},
    {"role_drop_with", B(pglift_role_drop_with(ctx, instance, "bob", j, n, PGLIFT_OP_DRY_RUN, &err))},
    {"role_drop_async", A(pglift_role_drop_async(ctx, instance, "bob", j, n, 1, &op, &err))},
    {"role_drop_with_async", A(pglift_role_drop_with_async(ctx, instance, "bob", j, n, 0, 1, &op, &err))},
    {"hba_add", B(pglift_hba_add(ctx, instance, j, n, 0, &out, &err))},
    {"hba_add_async", A(pglift_hba_add_async(ctx, instance, j, n, PGLIFT_HBA_DRY_RUN, 1, &op, &err))},
    {"hba_remove", B(pglift_hba_remove(ctx, instance, j, n, PGLIFT_HBA_DRY_RUN, &out, &err))},
    {"hba_remove_async", A(pglift_hba_remove_async(ctx, instance, j, n, 0, 1, &op, &err))},
    {"patroni_config_set", B(pglift_patroni_config_set(ctx, instance, j, n, &err))},
    {"patroni_config_set_async", A(pglift_patroni_config_set_async(ctx, instance, j, n, 1, &op, &err))},
    {"patroni_config_validate", B(pglift_patroni_config_validate(ctx, instance, j, n, &out, &err))},
    {"patroni_config_validate_async", A(pglift_patroni_config_validate_async(ctx, instance, j, n, 1, &op, &err))},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  // "entry_point\n{document}"
  const std::string text = pglift::fuzz::text_of(data, size);
  const auto nl = text.find('\n');
  const std::string first = text.substr(0, nl);
    const std::string doc = nl == std::string::npos ? std::string() : text.substr(nl + 1);
  const EntryPoint* ep = nullptr;
  for (const auto& e : entry_points)
    if (first == e.name) ep = &e;
  if (!ep) ep = &entry_points[std::hash<std::string>{}(first) % entry_points.size()];
  // (pointer, length): a copy of exactly its length, a read past it is ASan's to see.
  auto exact = std::make_unique<char[]>(doc.size() + (doc.empty() ? 1 : 0));
  std::memcpy(exact.get(), doc.data(), doc.size());
  ep->call(fixture.ctx, exact.get(), doc.size(), doc.c_str());
  fixture.check_and_clean();
  return 0;
}
