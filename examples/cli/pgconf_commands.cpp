#include "pgconf_commands.hpp"

#include <memory>

#include "pgconf_actions.hpp"

namespace cli {
namespace {

using PgconfAction = int (*)(Session&, const Target&, const PgconfArgs&);

CLI::Option* add_command(CLI::App& group, Commands& commands, const std::shared_ptr<Target>& target, const std::string& name,
                 const std::string& help, const std::string& argument, const std::string& argument_help,
                 bool required, PgconfAction action) {
  auto* command = group.add_subcommand(name, help);
  auto args = std::make_shared<PgconfArgs>();
  args->command = command;
  auto* option = command->add_option(argument, args->parameters, argument_help);
  if (name != "show") command->add_flag("--dry-run", args->dry_run, "Simulate change operations.");
  if (required) option->required();
  commands.add(*command, [target, args, action](Session& s) { return action(s, *target, *args); });
  return option;
}

}  // namespace

void add_pgconf_commands(CLI::App& root, Commands& commands) {
  auto* group = root.add_subcommand("pgconf", "Manage configuration of a PostgreSQL instance.");
  group->require_subcommand(1);
  auto target = std::make_shared<Target>();  // -i, shared by the group's commands
  add_instance_option(*group, *target);
  add_command(*group, commands, target, "show", "Show configuration (all parameters or specified ones).",
              "PARAMETER", "Parameters to show; all managed ones when none is given.", false, show_parameters);
  // CLI11 allows no '=' in an argument name: the usage names it PARAMETER=VALUE through its type name.
  add_command(*group, commands, target, "set", "Set configuration items.", "PARAMETER",
              "Parameters to set, as PARAMETER=VALUE; VALUE is read as in postgresql.conf.", true, set_parameters)
      ->type_name("PARAMETER=VALUE");
  add_command(*group, commands, target, "remove", "Remove configuration items.", "PARAMETER",
              "Managed parameters to remove.", true, remove_parameters);
  auto* edit = group->add_subcommand("edit", "Edit managed configuration.");
  auto edit_args = std::make_shared<PgconfArgs>();
  edit_args->command = edit;
  commands.add(*edit, [target, edit_args](Session& s) { return edit_parameters(s, *target, *edit_args); });
}

}  // namespace cli
