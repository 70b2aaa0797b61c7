// The `pglift role -i INSTANCE` command group (create, alter, get, list, drop) and what each does.
#pragma once
#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace cli {

void add_role_commands(CLI::App& root, Commands& commands);

}  // namespace cli
