#include "database_commands.hpp"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pglift/databases.hpp>

#include "cli_errors.hpp"
#include "interrupts.hpp"
#include "json_text.hpp"
#include "table.hpp"
#include "targets.hpp"
#include "terminal.hpp"

namespace cli {
namespace {

void add_output_format(CLI::App& command, bool& json) {
  command
      .add_option_function<std::string>(
          "-o,--output-format", [&json](const std::string& format) { json = format == "json"; },
          "Specify the output format.")
      ->transform(CLI::IsMember({"json"}, CLI::ignore_case));
}

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

/// Bytes in human form, as pglift prints sizes ("7.3 MB").
std::string human_size(std::int64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

struct DatabaseArgs {
  std::string name;
  std::optional<std::string> owner, tablespace, locale;
  std::vector<std::string> schemas, extensions, add_schemas, remove_schemas, add_extensions, remove_extensions;
  std::vector<std::string> databases, exclude, roles;
  std::string sql;
  bool force = false, json = false, defaults = false, yes = false, dry_run = false;
};

using DatabaseAction = int (*)(Session&, const Target&, const DatabaseArgs&);

template <class T>
T interruptible(Session& session, const std::function<pglift::Operation(pglift::Callback<T>)>& launch) {
  return run_interruptible<T>(session.interrupts(), launch);
}

int create(Session& session, const Target& target, const DatabaseArgs& a) {
  pglift::DatabaseSpec spec;
  spec.name = a.name;
  spec.owner = a.owner;
  spec.tablespace = a.tablespace;
  spec.locale = a.locale;
  for (const auto& s : a.schemas) spec.schemas.push_back({s, std::nullopt, pglift::DatabaseObjectState::present});
  for (const auto& e : a.extensions)
    spec.extensions.push_back({e, std::nullopt, std::nullopt, pglift::DatabaseObjectState::present});
  auto ref = resolve(session, target);
  auto& ctx = session.context();
  interruptible<pglift::Database>(session, [&](pglift::Callback<pglift::Database> done) {
    return pglift::start_create_database(ctx, ref, spec, std::move(done), {.dry_run = a.dry_run});
  });
  return 0;
}

/// pglift's alter: the current database with the changes asked on the command line.
int alter(Session& session, const Target& target, const DatabaseArgs& a) {
  auto ref = resolve(session, target);
  auto& ctx = session.context();
  auto current = pglift::get_database(ctx, ref, a.name);
  pglift::DatabaseSpec spec;
  spec.name = a.name;
  spec.owner = a.owner ? a.owner : std::optional<std::string>(current.owner);
  spec.tablespace = a.tablespace;
  for (const auto& s : a.add_schemas) spec.schemas.push_back({s, std::nullopt, pglift::DatabaseObjectState::present});
  for (const auto& s : a.remove_schemas) spec.schemas.push_back({s, std::nullopt, pglift::DatabaseObjectState::absent});
  for (const auto& e : a.add_extensions)
    spec.extensions.push_back({e, std::nullopt, std::nullopt, pglift::DatabaseObjectState::present});
  for (const auto& e : a.remove_extensions)
    spec.extensions.push_back({e, std::nullopt, std::nullopt, pglift::DatabaseObjectState::absent});
  interruptible<pglift::Database>(session, [&](pglift::Callback<pglift::Database> done) {
    return pglift::start_alter_database(ctx, ref, spec, std::move(done), {.dry_run = a.dry_run});
  });
  return 0;
}

int get(Session& session, const Target& target, const DatabaseArgs& a) {
  auto d = pglift::get_database(session.context(), resolve(session, target), a.name);
  if (a.json) {
    print(indent_json(d.to_json()));
    return 0;
  }
  std::string settings;
  for (const auto& [k, v] : d.settings) settings += (settings.empty() ? "" : "\n") + k + ": " + v;
  std::vector<std::string> schemas, extensions;
  for (const auto& s : d.schemas) schemas.push_back(s.name);
  for (const auto& e : d.extensions) extensions.push_back(e.name + " " + e.version + " (" + e.schema + ")");
  print(render_table({"name", "owner", "settings", "schemas", "extensions", "tablespace"},
                     {{d.name, d.owner, settings, join(schemas), join(extensions), d.tablespace.value_or("")}}) +
        "\n");
  return 0;
}

int list(Session& session, const Target& target, const DatabaseArgs& a) {
  auto items = pglift::list_databases(session.context(), resolve(session, target), {a.databases, a.exclude});
  if (a.json) {
    print(indent_json(pglift::to_json(items)));
    return 0;
  }
  std::vector<Row> rows;
  for (const auto& d : items)
    rows.push_back({d.name, d.owner, d.encoding, d.collation, d.ctype, join(d.acls), human_size(d.size),
                    d.description.value_or(""),
                    "name: " + d.tablespace.name + ", location: " + d.tablespace.location +
                        ", size: " + human_size(d.tablespace.size)});
  print(render_table({"name", "owner", "encoding", "collation", "ctype", "acls", "size", "description", "tablespace"}, rows) +
        "\n");
  return 0;
}

int drop(Session& session, const Target& target, const DatabaseArgs& a) {
  auto ref = resolve(session, target);
  auto& ctx = session.context();
  run_interruptible(session.interrupts(), [&](pglift::Callback<> done) {
    return pglift::start_drop_database(ctx, ref, a.name, a.force, std::move(done), {.dry_run = a.dry_run});
  });
  return 0;
}

int run(Session& session, const Target& target, const DatabaseArgs& a) {
  auto ref = resolve(session, target);
  auto& ctx = session.context();
  pglift::DatabaseSelection selection{a.databases, a.exclude};
  if (session.interactive() && !a.yes) {
    std::vector<std::string> names;
    for (const auto& d : pglift::list_databases(ctx, ref, selection)) names.push_back(d.name);
    if (!Terminal().confirm("Confirm execution of the SQL command on database(s) " + join(names) + "?", true)) {
      session.console().log(pglift::LogLevel::warning, "pglift.cli", "SQL command execution cancelled");
      throw Aborted();
    }
  }
  auto results = interruptible<pglift::SqlResults>(session, [&](pglift::Callback<pglift::SqlResults> done) {
    return pglift::start_run_sql(ctx, ref, a.sql, selection, std::move(done));
  });
  if (a.json) {
    print(indent_json(pglift::to_json(results)));
    return 0;
  }
  std::string out;
  for (const auto& [db, r] : results) {
    if (r.columns.empty()) continue;
    std::vector<Row> rows;
    for (const auto& row : r.rows) {
      Row cells;
      for (const auto& v : row) cells.push_back(v.value_or("None"));
      rows.push_back(std::move(cells));
    }
    out += db + "\n" + render_table(r.columns, rows) + "\n";
  }
  print(out);
  return 0;
}

int show_privileges(Session& session, const pglift::Privileges& p, bool json) {
  if (json) {
    print(indent_json(p.to_json()));
    return 0;
  }
  std::vector<Row> rows;
  if (p.defaults) {
    for (const auto& x : p.default_privileges) rows.push_back({x.database, x.schema, x.object_type, x.role, join(x.privileges)});
    print(render_table({"database", "schema", "object_type", "role", "privileges"}, rows) + "\n");
    return 0;
  }
  for (const auto& x : p.privileges) {
    std::string cols;
    for (const auto& [c, privs] : x.column_privileges) cols += (cols.empty() ? "" : "\n") + c + ": " + join(privs);
    rows.push_back({x.database, x.schema, x.object_name, x.object_type, x.role, join(x.privileges), cols});
  }
  print(render_table({"database", "schema", "object_name", "object_type", "role", "privileges", "column_privileges"}, rows) +
        "\n");
  (void)session;
  return 0;
}

int privileges(Session& session, const Target& target, const DatabaseArgs& a) {
  auto ref = resolve(session, target);
  auto& ctx = session.context();
  std::vector<std::string> dbs = a.name.empty() ? a.databases : std::vector<std::string>{a.name};
  auto p = interruptible<pglift::Privileges>(session, [&](pglift::Callback<pglift::Privileges> done) {
    return pglift::start_database_privileges(ctx, ref, dbs, a.roles, a.defaults, std::move(done));
  });
  return show_privileges(session, p, a.json);
}

/// A subcommand with its own arguments, acting on `target`.
std::shared_ptr<DatabaseArgs> add_command(CLI::App& group, Commands& commands, const std::shared_ptr<Target>& target,
                                          const std::string& name, const std::string& help, DatabaseAction action,
                                          CLI::App** out) {
  auto* command = group.add_subcommand(name, help);
  auto args = std::make_shared<DatabaseArgs>();
  commands.add(*command, [target, args, action](Session& s) { return action(s, *target, *args); });
  *out = command;
  return args;
}

[[noreturn]] void print_schema() {
  std::cout << indent_json(pglift::DatabaseSpec::json_schema()) << std::flush;
  throw CLI::Success();  // eager, like click's: nothing else runs, no settings are loaded
}

}  // namespace

void add_database_commands(CLI::App& root, Commands& commands) {
  auto* group = root.add_subcommand("database", "Manage databases.");
  group->require_subcommand(1);
  group->add_flag_callback("--schema", print_schema, "Print the JSON schema of database model and exit.");
  auto target = std::make_shared<Target>();
  add_instance_option(*group, *target);
  CLI::App* c = nullptr;

  auto a = add_command(*group, commands, target, "create", "Create a database in a PostgreSQL instance", create, &c);
  c->add_option("NAME", a->name, "Database name.")->required();
  c->add_option("--owner", a->owner, "The role name of the user who will own the database.");
  c->add_option("--schema", a->schemas, "Schemas in database.");
  c->add_option("--extension", a->extensions, "Extensions in database.");
  c->add_option("--locale", a->locale, "Locale for this database (created from template0).");
  c->add_option("--tablespace", a->tablespace, "The name of the tablespace that will be associated with the database.");
  c->add_flag("--dry-run", a->dry_run, "Simulate change operations.");

  a = add_command(*group, commands, target, "alter", "Alter a database in a PostgreSQL instance", alter, &c);
  c->add_option("DBNAME", a->name, "Database name.")->required();
  c->add_option("--owner", a->owner, "The role name of the user who will own the database.");
  c->add_option("--add-schema", a->add_schemas, "Schemas to add.");
  c->add_option("--remove-schema", a->remove_schemas, "Schemas to remove.");
  c->add_option("--add-extension", a->add_extensions, "Extensions to add.");
  c->add_option("--remove-extension", a->remove_extensions, "Extensions to remove.");
  c->add_option("--tablespace", a->tablespace, "The name of the tablespace that will be associated with the database.");
  c->add_flag("--dry-run", a->dry_run, "Simulate change operations.");

  a = add_command(*group, commands, target, "get", "Get the description of a database", get, &c);
  c->add_option("NAME", a->name, "Database name.")->required();
  add_output_format(*c, a->json);

  a = add_command(*group, commands, target, "list", "List databases (all or specified ones)", list, &c);
  c->add_option("DBNAME", a->databases, "Databases to list (all when none is given).");
  c->add_option("-x,--exclude-database", a->exclude, "Database to exclude from listing.");
  add_output_format(*c, a->json);

  a = add_command(*group, commands, target, "drop", "Drop a database", drop, &c);
  c->add_option("NAME", a->name, "Database name.")->required();
  c->add_flag("--force", a->force, "Force the drop (terminate the sessions connected to it).");
  c->add_flag("--dry-run", a->dry_run, "Simulate change operations.");

  a = add_command(*group, commands, target, "run", "Run given command on databases of a PostgreSQL instance", run, &c);
  c->add_option("SQL_COMMAND", a->sql, "The SQL command.")->required();
  c->add_option("-d,--database", a->databases, "Database to run command on (all when none is given).");
  c->add_option("-x,--exclude-database", a->exclude, "Database to not run command on.");
  c->add_flag("-y,--yes", a->yes, "Do not ask for confirmation.");
  add_output_format(*c, a->json);

  a = add_command(*group, commands, target, "privileges", "List privileges on a database.", privileges, &c);
  c->add_option("NAME", a->name, "Database name.")->required();
  c->add_option("-r,--role", a->roles, "Role to inspect.");
  c->add_flag("--default", a->defaults, "Display default privileges.");
  add_output_format(*c, a->json);
}

void add_instance_privileges(CLI::App& instance, Commands& commands) {
  // `pglift instance privileges [INSTANCE] [-d DB]... [-r ROLE]... [--default]`
  auto target = std::make_shared<Target>();
  CLI::App* c = nullptr;
  auto a = add_command(instance, commands, target, "privileges", "List privileges on instance's databases.", privileges, &c);
  add_instance_argument(*c, *target);
  c->add_option("-d,--database", a->databases, "Database to inspect (all when none is given).");
  c->add_option("-r,--role", a->roles, "Role to inspect.");
  c->add_flag("--default", a->defaults, "Display default privileges.");
  add_output_format(*c, a->json);
}

}  // namespace cli
