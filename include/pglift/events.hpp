// Events the library emits: log records and progress steps. The library never prints; a sink presents them.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <variant>

namespace pglift {

/// Ordered like Python's logging levels; values are stable (the C ABI exposes them).
enum class LogLevel : int { debug = 10, info = 20, warning = 30, error = 40 };

const char* to_string(LogLevel level) noexcept;  // "DEBUG", "INFO", "WARNING", "ERROR"

struct LogRecord {
  LogLevel level{};
  std::string target{};   ///< e.g. "pglift.instances", "pglift.initdb"
  std::string message{};  ///< never contains secrets
  std::uint64_t op_tag{};  ///< tag of the operation that emitted it (0: none)
};

/// A long step started (begin) or finished (end). Titles are the INFO task titles.
struct ProgressRecord {
  enum class Phase : int { begin = 0, end = 1 };
  Phase phase{};
  std::string title{};
  std::uint64_t op_tag{};
};

using Event = std::variant<LogRecord, ProgressRecord>;

/// Called from library threads, possibly concurrently for concurrent operations: it must be thread-safe
/// and fast (queue the event, do not block on I/O of unbounded duration).
using EventSink = std::function<void(const Event&)>;

}  // namespace pglift
