#include "patroni_commands.hpp"

#include <memory>
#include <optional>

#include "patroni_actions.hpp"

namespace cli {
namespace {

using TargetPtr = std::shared_ptr<Target>;

void add_logs(CLI::App& group, Commands& commands, const TargetPtr& target) {
  auto* command = group.add_subcommand("logs", "Output Patroni logs.");
  auto follow = std::make_shared<bool>(false);
  command->add_flag("-f,--follow,!--no-follow", *follow, "Follow log output.");
  commands.add(*command, [target, follow](Session& s) { return patroni_logs(s, *target, *follow); });
}

void add_switchover(CLI::App& group, Commands& commands, const TargetPtr& target) {
  auto* command = group.add_subcommand("switchover", "Switch the cluster's leadership over to a replica.");
  auto options = std::make_shared<pglift::SwitchoverOptions>();
  command->add_option("--candidate", options->candidate, "Name of the member to switch over to (default: any healthy replica).")
      ->type_name("NODE");
  command
      ->add_option("--scheduled-at", options->scheduled_at,
                   "Schedule the switchover at this time instead of now (ISO 8601 with a time zone, "
                   "e.g. 2030-01-01T02:00:00+00:00).")
      ->type_name("ISO");
  commands.add(*command, [target, options](Session& s) { return patroni_switchover(s, *target, *options); });
}

void add_failover(CLI::App& group, Commands& commands, const TargetPtr& target) {
  auto* command = group.add_subcommand("failover", "Fail over to a member, healthy leader or not.");
  auto candidate = std::make_shared<std::string>();
  command->add_option("--candidate", *candidate, "Name of the member to fail over to.")->type_name("NODE")->required();
  commands.add(*command, [target, candidate](Session& s) { return patroni_failover(s, *target, *candidate); });
}

void add_pause(CLI::App& group, Commands& commands, const TargetPtr& target, const std::string& name,
               const std::string& help, bool pause) {
  auto* command = group.add_subcommand(name, help);
  commands.add(*command, [target, pause](Session& s) { return patroni_pause(s, *target, pause); });
}

void add_credentials(CLI::App& group, Commands& commands, const TargetPtr& target) {
  auto* command = group.add_subcommand(
      "credentials",
      "Write the cluster's superuser, replication and rewind credentials to a file (mode 0600), for a "
      "member to join from another host (instance create --patroni-credentials FILE).");
  auto output = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  command->add_option("-o,--output", *output, "The file to write (created mode 0600).")->type_name("FILE")->required();
  command->add_flag("--force", *force, "Replace the file if it exists.");
  commands.add(*command, [target, output, force](Session& s) { return patroni_credentials(s, *target, *output, *force); });
}

// --- cluster ---
void add_topology(CLI::App& group, Commands& commands, const TargetPtr& target) {
  auto* command = group.add_subcommand("topology", "Show the cluster's members, leader and pause.");
  auto json = std::make_shared<bool>(false);
  command
      ->add_option_function<std::string>(
          "-o,--output-format", [json](const std::string& format) { *json = format == "json"; }, "Specify the output format.")
      ->transform(CLI::IsMember({"json"}, CLI::ignore_case));
  commands.add(*command, [target, json](Session& s) { return patroni_topology(s, *target, *json); });
}

void add_restart(CLI::App& group, Commands& commands, const TargetPtr& target) {
  auto* command = group.add_subcommand(
      "restart", "Restart a member's PostgreSQL through Patroni; without --member, every member, the leader last.");
  auto member = std::make_shared<std::optional<std::string>>();
  command->add_option("--member", *member, "Name of the member to restart (default: every member, replicas first).")
      ->type_name("NODE");
  commands.add(*command, [target, member](Session& s) { return patroni_restart(s, *target, *member); });
}

void add_reinit(CLI::App& group, Commands& commands, const TargetPtr& target) {
  auto* command = group.add_subcommand("reinit", "Reinitialize a replica: clone its data anew from the leader.");
  auto member = std::make_shared<std::string>();
  command->add_option("NODE", *member, "Name of the replica to reinitialize.")->required();
  commands.add(*command, [target, member](Session& s) { return patroni_reinit(s, *target, *member); });
}
// --- end cluster ---

}  // namespace

void add_patroni_commands(CLI::App& root, Commands& commands) {
  auto* group = root.add_subcommand("patroni", "Handle Patroni service for an instance.");
  group->require_subcommand(1);
  auto target = std::make_shared<Target>();  // -i, shared by the group's commands
  add_instance_option(*group, *target);
  add_logs(*group, commands, target);
  add_switchover(*group, commands, target);
  add_failover(*group, commands, target);
  add_pause(*group, commands, target, "pause", "Pause automatic failover of the cluster.", true);
  add_credentials(*group, commands, target);
  add_pause(*group, commands, target, "resume", "Resume automatic failover of the cluster.", false);
  // --- cluster ---
  add_topology(*group, commands, target);
  add_restart(*group, commands, target);
  add_reinit(*group, commands, target);
  // --- end cluster ---
}

}  // namespace cli
