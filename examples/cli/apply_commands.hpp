// `pglift instance alter` and `pglift instance apply -f MANIFEST`: declarative changes, with --dry-run,
// --diff and -o json.
#pragma once
#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace cli {

void add_alter_and_apply(CLI::App& instance_group, Commands& commands);

}  // namespace cli
