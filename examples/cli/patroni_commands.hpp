// The `pglift patroni -i INSTANCE` command group, bound to the actions of patroni_actions.hpp.
#pragma once
#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace cli {

void add_patroni_commands(CLI::App& root, Commands& commands);

}  // namespace cli
