// What every layer receives from a running operation: settings, the event sink, the op tag, and the
// pool for blocking calls (libpq; core/blocking_pool.hpp). Light: no Asio here.
#pragma once
#include <cstdint>
#include <string>

#include "pglift/errors.hpp"
#include "pglift/events.hpp"
#include "pglift/settings.hpp"

namespace pglift::postgres {
class SessionCache;
}

namespace pglift::core {

class BlockingPool;

struct Op {
  const Settings& settings;
  const EventSink& sink;
  BlockingPool& blocking_pool;
  std::uint64_t tag = 0;
  bool dry_run = false;  ///< OpOptions::dry_run, for the bodies that honour it (ops::dry_runnable)
  /// The context's kept connections (postgres/session_cache.hpp); none outside a Context.
  postgres::SessionCache* sessions = nullptr;

  /// Every log record goes through redact_secrets: a command's output or argv logged at DEBUG is not
  /// ours, and no sink (C++ embedder, C ABI queue, CLI) may ever see a password in it.
  void log(LogLevel level, std::string target, std::string message) const {
    if (sink) sink(LogRecord{level, std::move(target), redact_secrets(message), tag});
  }
  void debug(std::string message, std::string target = "pglift") const { log(LogLevel::debug, std::move(target), std::move(message)); }
  void info(std::string message, std::string target = "pglift") const { log(LogLevel::info, std::move(target), std::move(message)); }
  void warning(std::string message, std::string target = "pglift") const { log(LogLevel::warning, std::move(target), std::move(message)); }
  void progress(ProgressRecord::Phase phase, std::string title) const {
    if (sink) sink(ProgressRecord{phase, std::move(title), tag});
  }
};

}  // namespace pglift::core
