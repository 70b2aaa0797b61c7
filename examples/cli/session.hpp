// What every command runs with: the global options, the console and, created on first use, the library
// Context (so that --help, --version and --schema need no settings and work as root).
#pragma once
#include <memory>
#include <optional>
#include <string>

#include <pglift/context.hpp>

#include "console.hpp"
#include "interrupts.hpp"

namespace cli {

/// Passwords given in the environment, for `instance create`. Not PGLIFT_* names: those are settings.
struct EnvironmentPasswords {
  static constexpr const char* surole_variable = "SUROLE_PASSWORD";
  static constexpr const char* replrole_variable = "REPLROLE_PASSWORD";
  std::optional<std::string> surole, replrole;
};

/// Reads SUROLE_PASSWORD and REPLROLE_PASSWORD and removes them from the environment, before anything
/// runs: the processes the library starts (postgres, Patroni) inherit our environment, and would keep
/// them in /proc/PID/environ for their lifetime.
EnvironmentPasswords take_environment_passwords();

struct GlobalOptions {
  ConsoleOptions console;
  bool interactive = true;  ///< --non-interactive: take every confirmation's default, never prompt
  EnvironmentPasswords environment_passwords;
};

class Session {
 public:
  explicit Session(const GlobalOptions& options);
  ~Session();

  Console& console() noexcept { return console_; }
  bool interactive() const noexcept { return interactive_; }
  const EnvironmentPasswords& environment_passwords() const noexcept { return environment_passwords_; }
  /// Loads the site settings on first call; throws pglift::Error (e.g. Unsupported when run as root).
  pglift::Context& context();
  /// Installs the signal handlers on first call (see interrupts.hpp).
  Interrupts& interrupts();

 private:
  Console console_;
  bool interactive_;
  EnvironmentPasswords environment_passwords_;
  std::unique_ptr<Interrupts> interrupts_;
  std::unique_ptr<pglift::Context> context_;  ///< last: destroyed first, its sink uses the console
};

}  // namespace cli
