// The `pglift instance` command group: its options and arguments, bound to the actions of
// instance_actions.hpp.
#pragma once
#include <string_view>

#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace cli {

/// The group, with only the subcommand named `only` when it names one (a command line's: building
/// the others is most of a short command's time), or all of them.
void add_instance_commands(CLI::App& root, Commands& commands, std::string_view only = {});

}  // namespace cli
