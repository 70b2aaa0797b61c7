// What every command runs with: the global options, the console and, created on first use, the library
// Context (so that --help, --version and --schema need no settings and work as root).
#pragma once
#include <memory>

#include <pglift/context.hpp>

#include "console.hpp"
#include "interrupts.hpp"

namespace cli {

struct GlobalOptions {
  ConsoleOptions console;
  bool interactive = true;  ///< --non-interactive: take every confirmation's default, never prompt
};

class Session {
 public:
  explicit Session(const GlobalOptions& options);
  ~Session();

  Console& console() noexcept { return console_; }
  bool interactive() const noexcept { return interactive_; }
  /// Loads the site settings on first call; throws pglift::Error (e.g. Unsupported when run as root).
  pglift::Context& context();
  /// Installs the signal handlers on first call (see interrupts.hpp).
  Interrupts& interrupts();

 private:
  Console console_;
  bool interactive_;
  std::unique_ptr<Interrupts> interrupts_;
  std::unique_ptr<pglift::Context> context_;  ///< last: destroyed first, its sink uses the console
};

}  // namespace cli
