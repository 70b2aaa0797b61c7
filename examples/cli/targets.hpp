// How commands name instances: an [INSTANCE] argument, [INSTANCE]... [--all], or a group's -i/--instance
// option; and their resolution (an unknown or ambiguous INSTANCE is a usage error, exit 2).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pglift/instance.hpp>

#include "session.hpp"

namespace CLI {
class App;
}

namespace cli {

/// An optional [INSTANCE] argument or -i/--instance option, with its command for usage errors.
struct Target {
  const CLI::App* command = nullptr;
  std::optional<std::string> instance;
  bool is_option = false;  ///< -i/--instance (a group's), not a positional argument
};

/// [INSTANCE]... [--all]
struct Targets {
  const CLI::App* command = nullptr;
  std::vector<std::string> instances;
  bool all = false;
};

/// The help text of INSTANCE and -i/--instance, as pglift's.
extern const char* const instance_help;

/// Adds the optional [INSTANCE] argument to `command`.
void add_instance_argument(CLI::App& command, Target& target);
/// Adds `-i, --instance <version>/<name>` to a group such as `pgconf`: its subcommands act on it.
void add_instance_option(CLI::App& group, Target& target);

pglift::InstanceRef resolve(Session& session, const Target& target);
/// All named instances are resolved before acting on any, so that a typo changes nothing.
std::vector<pglift::InstanceRef> resolve(Session& session, const Targets& targets);

/// Writes to stdout and flushes.
void print(std::string_view text);

}  // namespace cli
