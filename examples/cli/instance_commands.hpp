// The `pglift instance` command group: its options and arguments, bound to the actions of
// instance_actions.hpp.
#pragma once
#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace cli {

void add_instance_commands(CLI::App& root, Commands& commands);

}  // namespace cli
