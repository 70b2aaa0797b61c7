// The CLI's own failures, besides pglift::Error: each maps to an exit status in main.cpp.
#pragma once
#include <stdexcept>
#include <string>

namespace CLI {
class App;
}

namespace cli {

/// A bad command line (exit 2): printed with the usage of `command`, like click's UsageError.
class UsageError : public std::runtime_error {
 public:
  UsageError(const CLI::App& command, const std::string& message) : std::runtime_error(message), command_(&command) {}
  const CLI::App& command() const noexcept { return *command_; }

 private:
  const CLI::App* command_;
};

/// A failure shown as "Error: <message>" with its own exit status (click's ClickException.exit_code).
class ExitError : public std::runtime_error {
 public:
  explicit ExitError(const std::string& message, int status = 1) : std::runtime_error(message), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

/// The user declined or interrupted a prompt (exit 1, "Aborted!").
class Aborted : public std::runtime_error {
 public:
  Aborted() : std::runtime_error("Aborted!") {}
};

}  // namespace cli
