// What `pglift pgconf -i INSTANCE <command>` does, given its parsed arguments (see pgconf_commands.cpp).
#pragma once
#include <string>
#include <vector>

#include "session.hpp"
#include "targets.hpp"

namespace cli {

/// The PARAMETER... or PARAMETER=VALUE... arguments of a pgconf command.
struct PgconfArgs {
  const CLI::App* command = nullptr;
  std::vector<std::string> parameters;
  bool dry_run = false;  ///< set and remove: --dry-run
};

/// `name = value` lines, values as in postgresql.conf; only the named parameters when some are given.
int show_parameters(Session& session, const Target& target, const PgconfArgs& args);
/// Sets the parameters; reports the changes on stderr and offers a restart when one is needed.
int set_parameters(Session& session, const Target& target, const PgconfArgs& args);
/// Removes managed parameters; an unknown name is an error, and then nothing is changed.
int remove_parameters(Session& session, const Target& target, const PgconfArgs& args);
/// Opens the managed parameters as postgresql.conf text in the user's editor, then applies what changed
/// as `set` and `remove` would; "no change" when the text is the same or the editor failed.
int edit_parameters(Session& session, const Target& target, const PgconfArgs& args);

}  // namespace cli
