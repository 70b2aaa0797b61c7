// The `pglift pghba -i INSTANCE add|remove` command group (pg_hba records).
#pragma once
#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace cli {

void add_pghba_commands(CLI::App& root, Commands& commands);

}  // namespace cli
