#include "instance_commands.hpp"

#include <algorithm>
#include <iostream>
#include <memory>

#include "apply_commands.hpp"
#include "database_commands.hpp"
#include "instance_actions.hpp"
#include "json_text.hpp"

namespace cli {
namespace {

// Choices as pglift lists them (PostgreSQL's pg_hba methods valid for each connection type).
const std::vector<std::string> local_auth_methods = {"trust", "reject", "md5",  "password", "scram-sha-256", "sspi",
                                                     "ident", "peer",   "pam", "ldap",     "radius"};
const std::vector<std::string> host_auth_methods = {"trust", "reject", "md5", "password", "scram-sha-256", "gss",
                                                    "sspi",  "ident",  "pam", "ldap",     "radius"};

std::vector<std::string> hostssl_auth_methods() {
  auto methods = host_auth_methods;
  methods.push_back("cert");
  return methods;
}

void add_instances_arguments(CLI::App& command, Targets& targets) {
  targets.command = &command;
  auto* names = command.add_option("INSTANCE", targets.instances, instance_help);
  command.add_flag("--all", targets.all, "Apply to all instances.")->excludes(names);
}

void add_output_format(CLI::App& command, bool& json) {
  command.add_option_function<std::string>(
             "-o,--output-format", [&json](const std::string& format) { json = format == "json"; },
             "Specify the output format.")
      ->transform(CLI::IsMember({"json"}, CLI::ignore_case));
}

void add_stop_mode(CLI::App& command, pglift::StopMode& mode) {
  command
      .add_option_function<std::string>(
          "-m,--mode",
          [&mode](const std::string& name) {
            mode = name == "smart" ? pglift::StopMode::smart
                   : name == "immediate" ? pglift::StopMode::immediate
                                         : pglift::StopMode::fast;
          },
          "Shutdown mode (default: fast).")
      ->check(CLI::IsMember({"smart", "fast", "immediate"}));
}

// --- create -----------------------------------------------------------------------------------------

/// --surole-password[=VALUE] (without a value the password is asked on the terminal) and
/// --surole-password-file=PATH; the environment variable is the fallback (see PasswordOptions).
void add_password_options(CLI::App& command, const std::string& name, PasswordOptions& password,
                          const std::string& what, const std::string& variable) {
  auto* inline_value =
      command
          .add_option_function<std::vector<std::string>>(
              name,
              [&password](const std::vector<std::string>& given) {
                password.ask = given.empty() || given.front().empty();
                if (!password.ask) password.value = given.front();
              },
              what + " password, asked when given without a value. A value on the command line is visible to "
                     "other users: prefer " + name + "-file or the " + variable + " environment variable.")
          ->expected(0, 1);
  command.add_option(name + "-file", password.file, what + " password: the first line of this file.")
      ->type_name("PATH")
      ->excludes(inline_value);
}

/// The seed's --patroni-* options (pglift's patroni plugin); --patroni-cluster makes the instance a member.
void add_patroni_options(CLI::App& command, PatroniOptions& patroni) {
  command.add_option("--patroni-cluster", patroni.cluster, "Name (scope) of the Patroni cluster.")
      ->type_name("CLUSTER");
  command.add_option("--patroni-node", patroni.node, "Name of the node (usually the host name).")->type_name("NODE");
  command
      .add_option("--patroni-restapi-connect-address", patroni.restapi_connect_address,
                  "IP address (or hostname) and port, to access the Patroni's REST API.")
      ->type_name("CONNECT_ADDRESS");
  command
      .add_option("--patroni-restapi-listen", patroni.restapi_listen,
                  "IP address (or hostname) and port that Patroni will listen to for the REST API.")
      ->type_name("LISTEN");
  command
      .add_option("--patroni-postgresql-connect-host", patroni.postgresql_connect_host,
                  "Host or IP address through which PostgreSQL is externally accessible.")
      ->type_name("CONNECT_HOST");
  command.add_flag_function(
      "--patroni-synchronous-mode,!--no-patroni-synchronous-mode",
      [&patroni](std::int64_t count) { patroni.synchronous_mode = count > 0; },
      "New cluster: synchronous replication (a commit returns once a synchronous standby has it). "
      "Default: the site's patroni.synchronous_mode.");
  command.add_flag_function(
      "--patroni-synchronous-mode-strict,!--no-patroni-synchronous-mode-strict",
      [&patroni](std::int64_t count) { patroni.synchronous_mode_strict = count > 0; },
      "New cluster, with synchronous mode: no commit is confirmed while no synchronous standby is left. "
      "Default: the site's patroni.synchronous_mode_strict.");
  command
      .add_option("--patroni-credentials", patroni.credentials,
                  "The cluster's credentials (superuser, replication and rewind), as `patroni credentials "
                  "--output FILE` wrote them on a member's host: needed to join an existing cluster from another "
                  "host. Default: the file named by the CLUSTER_CREDENTIALS_FILE environment variable.")
      ->type_name("FILE");
  command.add_option("--patroni-postgresql-replication-ssl-cert", patroni.replication_ssl_cert, "Client certificate.")
      ->type_name("CERT");
  command.add_option("--patroni-postgresql-replication-ssl-key", patroni.replication_ssl_key, "Private key.")
      ->type_name("KEY");
}

void add_create_options(CLI::App& command, CreateArgs& args) {
  auto& spec = args.spec;
  command.add_option("NAME", spec.name, "Instance name.")->required();
  command.add_option("--version", spec.version, "PostgreSQL version.");
  command.add_option("--port", spec.port, "TCP port the PostgreSQL instance will be listening to.");
  command.add_flag_function(
      "--data-checksums,!--no-data-checksums", [&spec](std::int64_t count) { spec.data_checksums = count > 0; },
      "Enable or disable data checksums. If unspecified, fall back to site settings choice.");
  command.add_option("--locale", spec.locale, "Default locale.");
  command.add_option("--encoding", spec.encoding, "Character encoding of the PostgreSQL instance.");
  command.add_option("--auth-local", spec.auth.local, "Authentication method for local-socket connections.")
      ->check(CLI::IsMember(local_auth_methods));
  command.add_option("--auth-host", spec.auth.host, "Authentication method for local TCP/IP connections.")
      ->check(CLI::IsMember(host_auth_methods));
  command.add_option("--auth-hostssl", spec.auth.hostssl, "Authentication method for SSL-encrypted TCP/IP connections.")
      ->check(CLI::IsMember(hostssl_auth_methods()));
  add_password_options(command, "--surole-password", args.surole_password, "Super-user role",
                       EnvironmentPasswords::surole_variable);
  add_password_options(command, "--replrole-password", args.replrole_password, "Replication role",
                       EnvironmentPasswords::replrole_variable);
  command
      .add_option_function<std::string>(
          "--state",
          [&spec](const std::string& state) {
            spec.state = state == "stopped" ? pglift::InstanceState::stopped : pglift::InstanceState::started;
          },
          "Runtime state (default: started).")
      ->check(CLI::IsMember({"started", "stopped"}));
  add_patroni_options(command, args.patroni);
  command.add_flag("--drop-on-error,!--no-drop-on-error", args.options.drop_on_error,
                   "On error, drop partially initialized instance by possibly rolling back operations (default).");
}

void add_create(CLI::App& group, Commands& commands) {
  auto* command = group.add_subcommand("create", "Initialize a PostgreSQL instance");
  auto args = std::make_shared<CreateArgs>();  // lives until the action runs
  args->command = command;
  add_create_options(*command, *args);
  commands.add(*command, [args](Session& s) { return create_instance(s, *args); });
}

// --- reading ----------------------------------------------------------------------------------------

void add_get(CLI::App& group, Commands& commands) {
  auto* command = group.add_subcommand("get", "Get the description of PostgreSQL instance.");
  auto args = std::make_shared<GetArgs>();
  add_instance_argument(*command, args->target);
  add_output_format(*command, args->json);
  commands.add(*command, [args](Session& s) { return get_instance(s, *args); });
}

void add_list(CLI::App& group, Commands& commands) {
  auto* command = group.add_subcommand("list", "List the available instances.");
  auto args = std::make_shared<ListArgs>();
  command->add_option("--version", args->version, "Only list instances of specified version.");
  add_output_format(*command, args->json);
  commands.add(*command, [args](Session& s) { return list_instances(s, *args); });
}

void add_status(CLI::App& group, Commands& commands) {
  auto* command = group.add_subcommand("status", "Check the status of instance and all satellite components.");
  auto target = std::make_shared<Target>();
  add_instance_argument(*command, *target);
  commands.add(*command, [target](Session& s) { return instance_status(s, *target); });
}

void add_env(CLI::App& group, Commands& commands) {
  auto* command = group.add_subcommand("env", "Output environment variables suitable to handle to PostgreSQL instance.");
  auto args = std::make_shared<GetArgs>();
  add_instance_argument(*command, args->target);
  add_output_format(*command, args->json);
  commands.add(*command, [args](Session& s) { return instance_env(s, *args); });
}

void add_logs(CLI::App& group, Commands& commands) {
  auto* command = group.add_subcommand("logs", "Output PostgreSQL logs of INSTANCE.");
  auto args = std::make_shared<LogsArgs>();
  add_instance_argument(*command, args->target);
  command->add_flag("-f,--follow,!--no-follow", args->follow, "Follow log output.");
  commands.add(*command, [args](Session& s) { return instance_logs(s, *args); });
}

// --- controlling ------------------------------------------------------------------------------------

using ControlAction = int (*)(Session&, const ControlArgs&);

struct ControlCommand {
  CLI::App& command;
  ControlArgs& args;
};

ControlCommand add_control(CLI::App& group, Commands& commands, const std::string& name, const std::string& help,
                           ControlAction action) {
  auto* command = group.add_subcommand(name, help);
  auto args = std::make_shared<ControlArgs>();
  add_instances_arguments(*command, args->targets);
  commands.add(*command, [args, action](Session& s) { return action(s, *args); });
  return {*command, *args};
}

void add_controls(CLI::App& group, Commands& commands) {
  auto start = add_control(group, commands, "start", "Start PostgreSQL instance.", start_instances);
  start.command.add_flag("--foreground", start.args.foreground, "Start the program in foreground.");
  start.command.add_flag("--accept-data-loss", start.args.start.accept_data_loss,
                         "Patroni: rejoin a former leader even when pg_rewind discards transactions it committed "
                         "(otherwise asked, or refused with --non-interactive).");
  auto stop = add_control(group, commands, "stop", "Stop PostgreSQL instance.", stop_instances);
  add_stop_mode(stop.command, stop.args.mode);
  auto restart = add_control(group, commands, "restart", "Restart PostgreSQL instance.", restart_instances);
  add_stop_mode(restart.command, restart.args.mode);
  add_control(group, commands, "reload", "Reload PostgreSQL instance.", reload_instances);
}

void add_drop(CLI::App& group, Commands& commands) {
  auto* command = group.add_subcommand("drop", "Drop PostgreSQL instance.");
  auto args = std::make_shared<DropArgs>();
  args->targets.command = command;
  command->add_option("INSTANCE", args->targets.instances, instance_help);
  command->add_flag("--remove-cluster", args->options.remove_cluster,
                    "Also remove the Patroni cluster's keys from the DCS when dropping its last member");
  command->add_flag("--dcs-unreachable-ok", args->options.dcs_unreachable_ok,
                    "Drop a Patroni member even though the DCS cannot be reached (nobody can tell whether it is the "
                    "last member of its cluster); asked interactively otherwise");
  commands.add(*command, [args](Session& s) { return drop_instances(s, *args); });
}

void add_promote(CLI::App& group, Commands& commands) {
  auto* command = group.add_subcommand("promote", "Promote standby PostgreSQL instance.");
  auto target = std::make_shared<Target>();
  add_instance_argument(*command, *target);
  commands.add(*command, [target](Session& s) { return promote_instance(s, *target); });
}

void add_exec(CLI::App& group, Commands& commands) {
  auto* command = group.add_subcommand("exec", "Execute command in the libpq environment for PostgreSQL instance.");
  auto args = std::make_shared<ExecArgs>();
  args->target.command = command;
  command->add_option("INSTANCE", args->target.instance, instance_help)->required();
  command->add_option("COMMAND", args->command, "The command and its arguments (after '--' if they have options).")
      ->required();
  commands.add(*command, [args](Session& s) { return exec_in_instance(s, *args); });
}

[[noreturn]] void print_schema() {
  std::cout << indent_json(pglift::InstanceSpec::json_schema()) << std::flush;
  throw CLI::Success();  // eager, like click's: nothing else runs, no settings are loaded
}

}  // namespace

void add_instance_commands(CLI::App& root, Commands& commands, std::string_view only) {
  auto* group = root.add_subcommand("instance", "Manage instances.");
  group->require_subcommand(1);
  group->add_flag_callback("--schema", print_schema, "Print the JSON schema of instance model and exit.");
  struct Leaves {
    std::initializer_list<std::string_view> names;
    void (*add)(CLI::App&, Commands&);
  };
  // In the order of `pglift instance --help`.
  const Leaves leaves[] = {
      {{"create"}, add_create},
      {{"get"}, add_get},
      {{"list"}, add_list},
      {{"status"}, add_status},
      {{"start", "stop", "restart", "reload"}, add_controls},
      {{"drop"}, add_drop},
      {{"promote"}, add_promote},
      {{"env"}, add_env},
      {{"exec"}, add_exec},
      {{"logs"}, add_logs},
      {{"alter", "apply"}, add_alter_and_apply},
      {{"privileges"}, add_instance_privileges},
  };
  auto names = [only](const Leaves& l) { return std::find(l.names.begin(), l.names.end(), only) != l.names.end(); };
  const bool named = std::any_of(std::begin(leaves), std::end(leaves), names);
  for (const auto& l : leaves)
    if (!named || names(l)) l.add(*group, commands);
}

}  // namespace cli
