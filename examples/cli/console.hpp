// Presentation of the library's events on stderr (or a log file), in pglift's forms:
//   terminal:  "INFO     initializing PostgreSQL instance"
//   otherwise: "2026-11-25 21:00:00 INFO     pglift.instances - initializing PostgreSQL instance"
#pragma once
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <pglift/events.hpp>

namespace cli {

class Spinner;

/// Python logging levels, so that CRITICAL (above anything the library emits) can be a threshold.
enum class Threshold : int { debug = 10, info = 20, warning = 30, error = 40, critical = 50 };

/// Parses DEBUG|INFO|WARNING|ERROR|CRITICAL (already upper-case).
Threshold parse_threshold(const std::string& name);

struct ConsoleOptions {
  std::optional<Threshold> threshold;          ///< default: INFO on a terminal, WARNING otherwise
  std::optional<std::filesystem::path> log_file;  ///< logs go there instead of stderr
};

class Console {
 public:
  /// Throws std::runtime_error when the log file cannot be opened.
  explicit Console(const ConsoleOptions& options);
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  /// The sink to give to pglift::Context; it refers to this Console, which must outlive the Context.
  pglift::EventSink sink();
  /// A record of the CLI itself, rendered like the library's.
  void log(pglift::LogLevel level, std::string_view target, std::string_view message);
  /// Writes a line for the user on stderr ("Error: ..."), whatever the log destination.
  void print_error(std::string_view line);

 private:
  void on_event(const pglift::Event& event);
  void on_progress(const pglift::ProgressRecord& record);
  void write_log_line(const std::string& text);

  std::mutex lock_;  ///< serialises stderr and the log file: events arrive from several library threads
  Threshold threshold_;
  bool terminal_form_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> log_file_{nullptr, &std::fclose};
  std::unique_ptr<Spinner> spinner_;  ///< only on a terminal, when logs are not redirected to a file
};

}  // namespace cli
