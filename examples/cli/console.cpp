#include "console.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "spinner.hpp"

namespace cli {
namespace {

constexpr std::string_view continuation_indent = "         ";  // under the 9-column level name

std::string padded_level(pglift::LogLevel level) {
  std::string name = pglift::to_string(level);
  if (name.size() < 8) name.append(8 - name.size(), ' ');
  return name + ' ';
}

std::string timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

std::string indent_continuations(std::string_view message) {
  std::string out;
  for (char c : message) {
    out += c;
    if (c == '\n') out += continuation_indent;
  }
  return out;
}

std::string terminal_line(pglift::LogLevel level, std::string_view message) {
  return padded_level(level) + indent_continuations(message) + '\n';
}

// Python logging's "%(asctime)s %(levelname)-8s %(name)s - %(message)s".
std::string plain_line(pglift::LogLevel level, std::string_view target, std::string_view message) {
  return timestamp() + ' ' + padded_level(level) + std::string(target) + " - " + std::string(message) + '\n';
}

}  // namespace

Threshold parse_threshold(const std::string& name) {
  if (name == "DEBUG") return Threshold::debug;
  if (name == "INFO") return Threshold::info;
  if (name == "WARNING") return Threshold::warning;
  if (name == "ERROR") return Threshold::error;
  if (name == "CRITICAL") return Threshold::critical;
  throw std::invalid_argument("unknown log level " + name);
}

Console::Console(const ConsoleOptions& options) {
  bool to_terminal = !options.log_file && isatty(STDERR_FILENO) == 1;
  threshold_ = options.threshold.value_or(to_terminal ? Threshold::info : Threshold::warning);
  terminal_form_ = to_terminal;
  if (options.log_file) {
    log_file_.reset(std::fopen(options.log_file->c_str(), "ae"));
    if (!log_file_)
      throw std::runtime_error("cannot open log file " + options.log_file->string() + ": " + std::strerror(errno));
  }
  if (to_terminal) spinner_ = std::make_unique<Spinner>(lock_);
}

Console::~Console() = default;

pglift::EventSink Console::sink() {
  return [this](const pglift::Event& event) { on_event(event); };
}

void Console::on_event(const pglift::Event& event) {
  if (const auto* record = std::get_if<pglift::LogRecord>(&event)) {
    log(record->level, record->target, record->message);  // the library redacts its records at their source
  } else {
    on_progress(std::get<pglift::ProgressRecord>(event));
  }
}

void Console::on_progress(const pglift::ProgressRecord& record) {
  if (!spinner_) return;
  std::lock_guard lock(lock_);
  if (record.phase == pglift::ProgressRecord::Phase::begin) {
    spinner_->begin(record.op_tag, record.title);
  } else {
    spinner_->end(record.op_tag, record.title);
  }
}

void Console::log(pglift::LogLevel level, std::string_view target, std::string_view message) {
  if (static_cast<int>(level) < static_cast<int>(threshold_)) return;
  write_log_line(terminal_form_ ? terminal_line(level, message) : plain_line(level, target, message));
}

void Console::write_log_line(const std::string& text) {
  std::lock_guard lock(lock_);
  std::FILE* out = log_file_ ? log_file_.get() : stderr;
  if (spinner_) spinner_->clear();
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

void Console::print_error(std::string_view line) {
  std::lock_guard lock(lock_);
  if (spinner_) spinner_->clear();
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace cli
