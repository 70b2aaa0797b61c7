// The `pglift pgconf -i INSTANCE` command group, bound to the actions of pgconf_actions.hpp.
#pragma once
#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace cli {

void add_pgconf_commands(CLI::App& root, Commands& commands);

}  // namespace cli
