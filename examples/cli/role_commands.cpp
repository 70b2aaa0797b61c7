#include "role_commands.hpp"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include <pglift/roles.hpp>

#include "cli_errors.hpp"
#include "interrupts.hpp"
#include "json_text.hpp"
#include "table.hpp"
#include "targets.hpp"
#include "terminal.hpp"

namespace cli {
namespace {

/// The password variable for `role create|alter` (not PGLIFT_*: those are settings).
constexpr const char* password_variable = "ROLE_PASSWORD";

/// Passwords never come from argv: --password asks on the terminal (twice), --password-file reads
/// the first line of a file, ROLE_PASSWORD is the fallback.
struct PasswordArgs {
  bool ask = false;
  std::optional<std::string> file, encrypted_file;
};

/// The role attributes, as flags; unset ones are not given.
struct AttributeArgs {
  std::optional<bool> inherit, login, superuser, createdb, createrole, replication, pgpass;
  std::optional<int> connection_limit;
  std::optional<std::string> valid_until;
};

struct RoleArgs {
  const CLI::App* command = nullptr;
  std::string name;
  PasswordArgs password;
  AttributeArgs attributes;
  std::vector<std::string> in_roles, grant, revoke;
  bool json = false;
  bool drop_owned = false;
  std::optional<std::string> reassign_owned;
  bool dry_run = false;
};

void add_bool(CLI::App& command, const std::string& name, std::optional<bool>& value, const std::string& help) {
  command.add_flag_function("--" + name + ",!--no-" + name, [&value](std::int64_t n) { value = n > 0; }, help);
}

void add_attribute_options(CLI::App& command, RoleArgs& args) {
  auto& a = args.attributes;
  add_bool(command, "inherit", a.inherit, "Let the role inherit the privileges of the roles it is a member of.");
  add_bool(command, "login", a.login, "Allow the role to log in.");
  add_bool(command, "superuser", a.superuser, "Whether the role is a superuser.");
  add_bool(command, "createdb", a.createdb, "Whether the role can create databases.");
  add_bool(command, "createrole", a.createrole, "Whether the role can create, alter or drop roles.");
  add_bool(command, "replication", a.replication, "Whether the role is a replication role.");
  command.add_option("--connection-limit", a.connection_limit, "How many concurrent connections the role can make (-1: no limit).")
      ->type_name("CONNECTION_LIMIT");
  command.add_option("--valid-until", a.valid_until, "Date and time after which the role's password is no longer valid.")
      ->type_name("VALID_UNTIL");
  add_bool(command, "pgpass", a.pgpass, "Add (or remove) the role's password in the password file.");
  command.add_flag("--password", args.password.ask, "Ask for the role's password (twice, without echo).");
  command.add_option("--password-file", args.password.file, "The role's password: the first line of this file.")
      ->type_name("PATH");
  command.add_option("--encrypted-password-file", args.password.encrypted_file,
                     "The role's already encrypted password: the first line of this file.")
      ->type_name("PATH");
}

std::string first_line(const RoleArgs& args, const std::string& option, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(*args.command, "cannot read " + option + " " + path + ": " + std::strerror(errno));
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw UsageError(*args.command, option + " " + path + " holds no password on its first line");
  return line;
}

std::optional<std::string> password_of(Session& session, const RoleArgs& args) {
  const auto& p = args.password;
  if (p.ask && p.file) throw UsageError(*args.command, "--password and --password-file are mutually exclusive");
  if (p.ask) {
    if (!session.interactive()) throw UsageError(*args.command, "--password asks on the terminal: not in non-interactive mode");
    return Terminal().new_secret("Role password");
  }
  if (p.file) return first_line(args, "--password-file", *p.file);
  if (const char* v = std::getenv(password_variable); v && *v) {
    std::string value = v;
    ::unsetenv(password_variable);
    session.console().log(pglift::LogLevel::info, "pglift.cli", std::string("role password from the ") + password_variable +
                                                                    " environment variable");
    return value;
  }
  return std::nullopt;
}

std::optional<std::string> encrypted_password_of(const RoleArgs& args) {
  if (!args.password.encrypted_file) return std::nullopt;
  return first_line(args, "--encrypted-password-file", *args.password.encrypted_file);
}

/// Ctrl-C cancels the operation (a create then reverts).
void run_op(Session& session, const std::function<pglift::Operation(pglift::Callback<> done)>& launch) {
  run_interruptible(session.interrupts(), launch);
}

int create_role(Session& session, const Target& target, const RoleArgs& args) {
  const auto& a = args.attributes;
  pglift::RoleSpec spec;
  spec.name = args.name;
  spec.inherit = a.inherit.value_or(true);
  spec.login = a.login.value_or(false);
  spec.superuser = a.superuser.value_or(false);
  spec.createdb = a.createdb.value_or(false);
  spec.createrole = a.createrole.value_or(false);
  spec.replication = a.replication.value_or(false);
  if (a.connection_limit != -1) spec.connection_limit = a.connection_limit;
  spec.valid_until = a.valid_until;
  spec.in_roles = args.in_roles;
  spec.pgpass = a.pgpass.value_or(false);
  spec.encrypted_password = encrypted_password_of(args);
  spec.password = password_of(session, args);
  auto ref = resolve(session, target);
  auto& ctx = session.context();
  run_op(session, [&](pglift::Callback<> done) { return pglift::start_create_role(ctx, ref, spec, std::move(done), {.dry_run = args.dry_run}); });
  return 0;
}

int alter_role(Session& session, const Target& target, const RoleArgs& args) {
  const auto& a = args.attributes;
  pglift::RoleChanges changes;
  changes.inherit = a.inherit;
  changes.login = a.login;
  changes.superuser = a.superuser;
  changes.createdb = a.createdb;
  changes.createrole = a.createrole;
  changes.replication = a.replication;
  changes.connection_limit = a.connection_limit;
  changes.valid_until = a.valid_until;
  changes.pgpass = a.pgpass;
  changes.grant = args.grant;
  changes.revoke = args.revoke;
  changes.encrypted_password = encrypted_password_of(args);
  changes.password = password_of(session, args);
  auto ref = resolve(session, target);
  auto& ctx = session.context();
  run_op(session, [&](pglift::Callback<> done) { return pglift::start_alter_role(ctx, ref, args.name, changes, std::move(done), {.dry_run = args.dry_run}); });
  return 0;
}

std::string yes_no(bool b) { return b ? "True" : "False"; }

std::vector<std::pair<std::string, std::string>> role_fields(const pglift::Role& r) {
  std::string members;
  for (const auto& m : r.in_roles) members += (members.empty() ? "" : ", ") + m;
  return {{"name", r.name},
          {"has_password", yes_no(r.has_password)},
          {"inherit", yes_no(r.inherit)},
          {"login", yes_no(r.login)},
          {"superuser", yes_no(r.superuser)},
          {"createdb", yes_no(r.createdb)},
          {"createrole", yes_no(r.createrole)},
          {"replication", yes_no(r.replication)},
          {"connection_limit", r.connection_limit ? std::to_string(*r.connection_limit) : ""},
          {"valid_until", r.valid_until.value_or("")},
          {"in_roles", members},
          {"pgpass", yes_no(r.pgpass)}};
}

int get_role(Session& session, const Target& target, const RoleArgs& args) {
  auto role = pglift::get_role(session.context(), resolve(session, target), args.name);
  print(args.json ? indent_json(pglift::to_json(role)) : render_key_values(role_fields(role)));
  return 0;
}

int list_roles(Session& session, const Target& target, const RoleArgs& args) {
  auto roles = pglift::list_roles(session.context(), resolve(session, target));
  if (args.json) {
    print(indent_json(pglift::to_json(roles)));
    return 0;
  }
  Row header;
  std::vector<Row> rows;
  for (const auto& r : roles) {
    Row row;
    for (const auto& [k, v] : role_fields(r)) {
      if (rows.empty()) header.push_back(k);
      row.push_back(v);
    }
    rows.push_back(std::move(row));
  }
  print(render_table(header, rows));
  return 0;
}

int drop_role(Session& session, const Target& target, const RoleArgs& args) {
  pglift::RoleDropOptions options{.drop_owned = args.drop_owned, .reassign_owned = args.reassign_owned};
  auto ref = resolve(session, target);
  auto& ctx = session.context();
  run_op(session, [&](pglift::Callback<> done) { return pglift::start_drop_role(ctx, ref, args.name, options, std::move(done), {.dry_run = args.dry_run}); });
  return 0;
}

using RoleAction = int (*)(Session&, const Target&, const RoleArgs&);

struct Command {
  CLI::App* app;
  std::shared_ptr<RoleArgs> args;
};

Command add_command(CLI::App& group, Commands& commands, const std::shared_ptr<Target>& target, const std::string& name,
                    const std::string& help, const char* argument, RoleAction action) {
  auto* command = group.add_subcommand(name, help);
  auto args = std::make_shared<RoleArgs>();
  args->command = command;
  if (argument) command->add_option(argument, args->name, "The role's name.")->required();
  commands.add(*command, [target, args, action](Session& s) { return action(s, *target, *args); });
  return {command, args};
}

void add_output_format(CLI::App& command, bool& json) {
  command.add_option_function<std::string>(
             "-o,--output-format", [&json](const std::string& format) { json = format == "json"; },
             "Specify the output format.")
      ->transform(CLI::IsMember({"json"}, CLI::ignore_case));
}

[[noreturn]] void print_schema() {
  std::cout << indent_json(pglift::RoleSpec::json_schema()) << std::flush;
  throw CLI::Success();  // eager, like click's: nothing else runs, no settings are loaded
}

}  // namespace

void add_role_commands(CLI::App& root, Commands& commands) {
  auto* group = root.add_subcommand("role", "Manage roles.");
  group->require_subcommand(1);
  group->add_flag_callback("--schema", print_schema, "Print the JSON schema of role model and exit.");
  auto target = std::make_shared<Target>();
  add_instance_option(*group, *target);

  auto create = add_command(*group, commands, target, "create", "Create a role in a PostgreSQL instance.", "NAME", create_role);
  add_attribute_options(*create.app, *create.args);
  create.app->add_option("--in-role", create.args->in_roles, "Role this role is a member of (repeatable).")->type_name("IN_ROLE");

  auto alter = add_command(*group, commands, target, "alter", "Alter a role in a PostgreSQL instance.", "ROLNAME", alter_role);
  add_attribute_options(*alter.app, *alter.args);
  alter.app->add_option("--grant", alter.args->grant, "Role to grant membership of (repeatable).")->type_name("ROLE");
  alter.app->add_option("--revoke", alter.args->revoke, "Role to revoke membership of (repeatable).")->type_name("ROLE");

  auto get = add_command(*group, commands, target, "get", "Get the description of a role.", "NAME", get_role);
  add_output_format(*get.app, get.args->json);
  auto list = add_command(*group, commands, target, "list", "List roles in instance.", nullptr, list_roles);
  add_output_format(*list.app, list.args->json);

  auto drop = add_command(*group, commands, target, "drop", "Drop a role.", "NAME", drop_role);
  auto* drop_owned = drop.app->add_flag("--drop-owned,!--no-drop-owned", drop.args->drop_owned,
                                        "Drop all PostgreSQL objects owned by the role being dropped.");
  drop.app->add_option("--reassign-owned", drop.args->reassign_owned,
                       "Reassign all PostgreSQL objects owned by the role being dropped to the specified role name.")
      ->type_name("ROLE")
      ->excludes(drop_owned);
  for (const auto& c : {create, alter, drop}) c.app->add_flag("--dry-run", c.args->dry_run, "Simulate change operations.");
}

}  // namespace cli
