// What the fuzz targets share: the input as text, and the check of a property that must hold whatever
// the input (a failed one aborts: the driver saves the input).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace pglift::fuzz {

inline std::string text_of(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz: property failed: %s\n", what);
  if (!detail.empty()) std::fprintf(stderr, "fuzz: %.*s\n", static_cast<int>(std::min<size_t>(detail.size(), 4000)), detail.data());
  std::abort();
}

inline void check(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

}  // namespace pglift::fuzz
