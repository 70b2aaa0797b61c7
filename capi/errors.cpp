// Errors, status names, strings and the version: the one place where C++ exceptions become status codes.
#include <cstdlib>
#include <new>

#include "handles.hpp"
#include "pglift/errors.hpp"
#include "pglift/events.hpp"
#include "pglift/version.hpp"

namespace {

using pglift::ErrorCode;
constexpr int status_of(ErrorCode c) { return -static_cast<int>(c); }
static_assert(PGLIFT_E_INTERNAL == status_of(ErrorCode::internal));
static_assert(PGLIFT_E_INVALID_SPEC == status_of(ErrorCode::invalid_spec));
static_assert(PGLIFT_E_NOT_FOUND == status_of(ErrorCode::not_found));
static_assert(PGLIFT_E_ALREADY_EXISTS == status_of(ErrorCode::already_exists));
static_assert(PGLIFT_E_COMMAND_FAILED == status_of(ErrorCode::command_failed));
static_assert(PGLIFT_E_UNSUPPORTED == status_of(ErrorCode::unsupported));
static_assert(PGLIFT_E_STATE == status_of(ErrorCode::state));
static_assert(PGLIFT_E_TIMEOUT == status_of(ErrorCode::timeout));
static_assert(PGLIFT_E_CANCELLED == status_of(ErrorCode::cancelled));
static_assert(PGLIFT_E_DCS == status_of(ErrorCode::dcs));
static_assert(PGLIFT_E_HTTP == status_of(ErrorCode::http));
static_assert(PGLIFT_E_SETTINGS == status_of(ErrorCode::settings));
static_assert(PGLIFT_E_BUSY == status_of(ErrorCode::busy));
static_assert(PGLIFT_E_SYSTEM == status_of(ErrorCode::system));
static_assert(PGLIFT_E_WOULD_LOSE_DATA == status_of(ErrorCode::would_lose_data));
static_assert(PGLIFT_E_READ_ONLY == status_of(ErrorCode::read_only));
static_assert(PGLIFT_LOG_DEBUG == static_cast<int>(pglift::LogLevel::debug));
static_assert(PGLIFT_LOG_INFO == static_cast<int>(pglift::LogLevel::info));
static_assert(PGLIFT_LOG_WARNING == static_cast<int>(pglift::LogLevel::warning));
static_assert(PGLIFT_LOG_ERROR == static_cast<int>(pglift::LogLevel::error));
static_assert(PGLIFT_VERSION_MAJOR == 0 || PGLIFT_VERSION_MAJOR > 0);  // the header's macros are checked by meson

// When even the error object cannot be allocated. Small enough for the short-string buffer: no heap.
pglift_error out_of_memory{PGLIFT_E_NO_MEMORY, "out of memory", {}, {}, -1};

// The library's messages and command tails are redacted where they are made (pglift::Error,
// CommandError); only foreign exceptions' texts are redacted here.
pglift_error* make_error() {
  try {
    throw;
  } catch (const pglift::InvalidSpec& e) {
    return new pglift_error{status_of(e.code()), e.what(), e.field(), {}, -1};
  } catch (const pglift::CommandError& e) {
    return new pglift_error{status_of(e.code()), e.what(), {}, e.output_tail(), e.exit_status()};
  } catch (const pglift::Error& e) {
    return new pglift_error{status_of(e.code()), e.what(), {}, {}, -1};
  } catch (const capi::InvalidArgument& e) {
    return new pglift_error{PGLIFT_E_INVALID_ARGUMENT, e.what(), {}, {}, -1};
  } catch (const std::bad_alloc&) {
    return &out_of_memory;
  } catch (const std::exception& e) {
    return new pglift_error{PGLIFT_E_INTERNAL, pglift::redact_secrets(e.what()), {}, {}, -1};
  } catch (...) {
    return new pglift_error{PGLIFT_E_INTERNAL, "unknown error", {}, {}, -1};
  }
}

}  // namespace

namespace capi {

pglift_error* to_error(std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (...) {
    try {
      return make_error();
    } catch (...) {  // allocating the error (or its strings) failed
      return &out_of_memory;
    }
  }
}

int fail(pglift_error** err) noexcept {
  pglift_error* e = to_error(std::current_exception());
  int code = e->code;
  if (err) *err = e;
  else pglift_error_free(e);
  return code;
}

char* dup(std::string_view s) {
  auto* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  s.copy(p, s.size());
  p[s.size()] = '\0';
  return p;
}

void put(char** out, std::string_view s) { *out = dup(s); }

std::string json_string(std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  std::string r = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': r += "\\\""; break;
      case '\\': r += "\\\\"; break;
      case '\n': r += "\\n"; break;
      case '\r': r += "\\r"; break;
      case '\t': r += "\\t"; break;
      default:
        if (c < 0x20) {
          r += "\\u00";
          r += hex[c >> 4];
          r += hex[c & 15];
        } else {
          r += static_cast<char>(c);
        }
    }
  }
  return r + "\"";
}

}  // namespace capi

extern "C" {

const char* pglift_version(void) noexcept { return pglift::version(); }

const char* pglift_status_name(int status) noexcept {
  switch (status) {
    case PGLIFT_OK: return "ok";
    case PGLIFT_E_INVALID_ARGUMENT: return "invalid_argument";
    case PGLIFT_E_NO_MEMORY: return "no_memory";
    default:
      if (status < 0 && status > -100) {
        const char* name = pglift::to_string(static_cast<ErrorCode>(-status));
        return name;  // "unknown" for codes this build does not know
      }
      return "unknown";
  }
}

void pglift_free(void* ptr) noexcept { std::free(ptr); }

int pglift_error_code(const pglift_error* err) noexcept { return err ? err->code : PGLIFT_E_INVALID_ARGUMENT; }
const char* pglift_error_message(const pglift_error* err) noexcept { return err ? err->message.c_str() : ""; }
const char* pglift_error_field(const pglift_error* err) noexcept { return err ? err->field.c_str() : ""; }
const char* pglift_error_detail(const pglift_error* err) noexcept { return err ? err->detail.c_str() : ""; }
int pglift_error_exit_status(const pglift_error* err) noexcept { return err ? err->exit_status : -1; }
int pglift_error_is_retriable(const pglift_error* err) noexcept {
  return err && (err->code == PGLIFT_E_BUSY || err->code == PGLIFT_E_TIMEOUT) ? 1 : 0;
}
void pglift_error_free(pglift_error* err) noexcept {
  if (err != &out_of_memory) delete err;
}

}  // extern "C"
