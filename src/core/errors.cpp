#include "pglift/errors.hpp"

#include "core/files.hpp"
#include "core/text.hpp"
#include "pglift/events.hpp"
#include "pglift/version.hpp"

namespace pglift {

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::internal: return "internal";
    case ErrorCode::invalid_spec: return "invalid_spec";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::already_exists: return "already_exists";
    case ErrorCode::command_failed: return "command_failed";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::state: return "state";
    case ErrorCode::timeout: return "timeout";
    case ErrorCode::cancelled: return "cancelled";
    case ErrorCode::dcs: return "dcs";
    case ErrorCode::http: return "http";
    case ErrorCode::settings: return "settings";
    case ErrorCode::busy: return "busy";
    case ErrorCode::system: return "system";
  }
  return "unknown";
}

const char* to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "DEBUG";
    case LogLevel::info: return "INFO";
    case LogLevel::warning: return "WARNING";
    case LogLevel::error: return "ERROR";
  }
  return "INFO";
}

InvalidSpec::InvalidSpec(std::string field, std::string value, const std::string& reason)
    : Error(ErrorCode::invalid_spec, "invalid value '" + value + "' for field '" + field + "': " + reason),
      field_(std::move(field)),
      value_(std::move(value)) {}

NotFound::NotFound(const std::string& kind, const std::string& name, const std::string& hint)
    : Error(ErrorCode::not_found, kind + " '" + name + "' not found" + (hint.empty() ? "" : ": " + hint)) {}

namespace {
std::string command_message(const std::vector<std::string>& argv, int status, const std::string& tail) {
  std::string msg = "command '" + core::join(argv, " ") + "' failed (" +
                    (status > 128 ? "killed by signal " + std::to_string(status - 128)
                                  : "exit status " + std::to_string(status)) +
                    ")";
  if (!tail.empty()) msg += "\n" + tail;
  return msg;
}
}  // namespace

CommandError::CommandError(std::vector<std::string> argv, int exit_status, std::string output_tail)
    : Error(ErrorCode::command_failed, command_message(argv, exit_status, output_tail)),
      argv_(std::move(argv)),
      exit_status_(exit_status),
      tail_(std::move(output_tail)) {}

const char* version() noexcept { return PGLIFT_VERSION_STRING; }

}  // namespace pglift
