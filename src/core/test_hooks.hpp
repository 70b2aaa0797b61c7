// Test-only fault injection at named points of an operation; not part of any public API (issue 14's
// crash-safety tests build on it). LIBPGLIFT_TEST_HOOKS="point=action[,point=action...]", where action
// is `fail` (the operation fails there) or `sleep:MS` (it pauses there, e.g. to open a race window).
// The variable is read at each hook, so that one test process can set it for one case.
#pragma once
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/coro.hpp"

namespace pglift::core {

inline std::optional<std::string> test_hook_action(const std::string& point) {
  const char* hooks = std::getenv("LIBPGLIFT_TEST_HOOKS");
  if (!hooks) return std::nullopt;
  const std::string all(hooks), key = point + "=";
  for (std::size_t start = 0; start < all.size();) {
    std::size_t end = all.find(',', start);
    if (end == std::string::npos) end = all.size();
    if (all.compare(start, key.size(), key) == 0) return all.substr(start + key.size(), end - start - key.size());
    start = end + 1;
  }
  return std::nullopt;
}

inline awaitable<void> test_hook(const Op& op, std::string point) {
  auto action = test_hook_action(point);
  if (!action) co_return;
  op.debug("test hook " + point + ": " + *action, "pglift.test");
  if (*action == "fail") throw Error(ErrorCode::internal, "test hook " + point + ": fail");
  if (action->starts_with("sleep:")) co_await sleep_for(std::chrono::milliseconds(std::atoi(action->c_str() + 6)));
}

/// Crash safety (issue 14): LIBPGLIFT_TEST_CRASH_AT=N kills this process with SIGKILL, as a power cut
/// or an OOM kill would stop it, at the Nth crash point it reaches (after each step of a transaction,
/// between the stages of a drop or of a configuration change). With the variable set (0: never), each
/// point reached is logged at DEBUG, numbered, so that a test can count them first.
inline void crash_point(const Op& op, const std::string& name) {
  const char* at = std::getenv("LIBPGLIFT_TEST_CRASH_AT");
  if (!at) return;
  static std::atomic<int> reached{0};
  const int n = ++reached;
  op.debug("crash point " + std::to_string(n) + ": " + name, "pglift.test");
  if (std::atoi(at) == n) std::raise(SIGKILL);
}

}  // namespace pglift::core
