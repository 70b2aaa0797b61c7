// The `pglift database -i INSTANCE` command group (create, alter, get, list, drop, run, privileges)
// and `pglift instance privileges`.
#pragma once
#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace cli {

void add_database_commands(CLI::App& root, Commands& commands);
/// `pglift instance privileges`, added to the `instance` group (last, as in pglift's help).
void add_instance_privileges(CLI::App& instance, Commands& commands);

}  // namespace cli
