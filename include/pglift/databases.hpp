// Databases of an instance: create, alter (a declarative diff), get, list, drop; privileges; SQL run
// on several databases. Each operation exists blocking (`create_database`), with a callback
// (`start_create_database`) and, in <pglift/async.hpp>, with an Asio token (`async_create_database`).
// Every write checks first that the instance is not a read-only standby (ReadOnly names the leader).
// A stopped plain instance is started for the operation and stopped after it, as for roles (see
// <pglift/roles.hpp>: never a Patroni member, nor in a dry run: StateError).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pglift/context.hpp"
#include "pglift/database_spec.hpp"
#include "pglift/instance.hpp"
#include "pglift/operations.hpp"

namespace pglift {

struct Schema {
  std::string name{}, owner{};
};
struct Extension {
  std::string name{}, schema{}, version{};
};

/// What `database get` shows.
struct Database {
  std::string name{}, owner{};
  std::map<std::string, std::string> settings{};  ///< the database's own session defaults
  std::vector<Schema> schemas{};                  ///< without pg_* and information_schema
  std::vector<Extension> extensions{};            ///< without plpgsql
  std::optional<std::string> tablespace{};        ///< nullopt for pg_default
  std::string to_json() const;
};

struct Tablespace {
  std::string name{}, location{};
  std::int64_t size = 0;  ///< bytes
};

/// A row of `database list`.
struct DatabaseListItem {
  std::string name{}, owner{}, encoding{}, collation{}, ctype{};
  std::vector<std::string> acls{};
  std::int64_t size = 0;  ///< bytes
  std::optional<std::string> description{};
  Tablespace tablespace{};
};
std::string to_json(const std::vector<DatabaseListItem>& items);

/// Which databases (allowing connections) an operation covers: `databases` (all when empty), minus
/// `exclude`. A name in `databases` that does not exist is NotFound.
struct DatabaseSelection {
  std::vector<std::string> databases{};
  std::vector<std::string> exclude{};
  /// {"databases": ["a"], "exclude": ["b"]} (both optional).
  static DatabaseSelection from_json(const std::string& json);
};

/// A relation's privileges for a role (TABLE, VIEW, MATERIALIZED VIEW, SEQUENCE, FOREIGN TABLE,
/// PARTITIONED TABLE), in schemas other than pg_* and information_schema.
struct Privilege {
  std::string database{}, schema{}, object_name{}, object_type{}, role{};
  std::vector<std::string> privileges{};  ///< sorted
  std::map<std::string, std::vector<std::string>> column_privileges{};
};
/// ALTER DEFAULT PRIVILEGES entries (object types FUNCTION, TABLE, SEQUENCE, TYPE, SCHEMA); schema is
/// empty for the global ones.
struct DefaultPrivilege {
  std::string database{}, schema{}, object_type{}, role{};
  std::vector<std::string> privileges{};
};
/// One of the two lists is filled, as asked by `defaults`.
struct Privileges {
  std::vector<Privilege> privileges{};
  std::vector<DefaultPrivilege> default_privileges{};
  bool defaults = false;
  /// A JSON array of the asked kind (pglift's `privileges -o json`).
  std::string to_json() const;
};

/// What `privileges` asks (the C ABI's JSON face): {"databases": [...], "roles": [...], "defaults": false},
/// every member optional; no databases means all.
struct PrivilegesQuery {
  std::vector<std::string> databases{}, roles{};
  bool defaults = false;
  static PrivilegesQuery from_json(const std::string& json);
};

/// The outcome of a statement on one database.
struct SqlResult {
  std::vector<std::string> columns{};
  std::vector<std::vector<std::optional<std::string>>> rows{};  ///< text values, nullopt for NULL
  std::string status{};                                          ///< "INSERT 0 1", "SELECT 2"...
};
/// database -> result.
using SqlResults = std::map<std::string, SqlResult>;
/// {"db": [{"col": "value", "other": null}, ...], ...}: the rows per database (pglift's `run -o json`).
std::string to_json(const SqlResults& results);

// --- blocking -------------------------------------------------------------------------------------
/// AlreadyExists ("database already exists"). A failure after CREATE DATABASE (settings, schemas,
/// extensions), or a cancellation, drops the database this call created.
/// Create, alter and drop are dry-runnable (OpOptions::dry_run, also in the start_* forms). A dry create
/// checks the name is free and that the owner, schema owners, tablespace and extensions exist, and
/// returns the database it would make; a dry alter runs the owner, settings, schema and extension
/// statements in transactions it rolls back (a tablespace move is only checked) and returns the
/// database as it is; a dry drop checks it exists.
Database create_database(Context& ctx, const InstanceRef& ref, const DatabaseSpec& spec, const OpOptions& options = {});
/// The declarative diff of pglift's alter; NotFound ("database 'x' not found").
Database alter_database(Context& ctx, const InstanceRef& ref, const DatabaseSpec& spec, const OpOptions& options = {});
Database get_database(Context& ctx, const InstanceRef& ref, const std::string& name);
std::vector<DatabaseListItem> list_databases(Context& ctx, const InstanceRef& ref, const DatabaseSelection& selection = {});
/// With force: the sessions connected to it are terminated first (WITH (FORCE)).
void drop_database(Context& ctx, const InstanceRef& ref, const std::string& name, bool force = false,
                   const OpOptions& options = {});
/// Runs `sql` on each selected database (autocommit), logging `running "<sql>" on <db> database of
/// <instance>` (passwords masked) and the status. Stops at the first failure.
SqlResults run_sql(Context& ctx, const InstanceRef& ref, const std::string& sql, const DatabaseSelection& selection = {});
/// Privileges in `databases` (all when empty), for `roles` (all when empty; an unknown one is NotFound).
Privileges database_privileges(Context& ctx, const InstanceRef& ref, const std::vector<std::string>& databases,
                               const std::vector<std::string>& roles = {}, bool defaults = false);
/// The same on every database allowing connections.
Privileges instance_privileges(Context& ctx, const InstanceRef& ref, const std::vector<std::string>& roles = {},
                               bool defaults = false);

// --- asynchronous, with a callback ----------------------------------------------------------------
Operation start_create_database(Context& ctx, InstanceRef ref, DatabaseSpec spec, Callback<Database> done,
                                OpOptions op = {});
Operation start_alter_database(Context& ctx, InstanceRef ref, DatabaseSpec spec, Callback<Database> done,
                               OpOptions op = {});
Operation start_get_database(Context& ctx, InstanceRef ref, std::string name, Callback<Database> done,
                             OpOptions op = {});
Operation start_list_databases(Context& ctx, InstanceRef ref, DatabaseSelection selection,
                               Callback<std::vector<DatabaseListItem>> done, OpOptions op = {});
Operation start_drop_database(Context& ctx, InstanceRef ref, std::string name, bool force, Callback<> done,
                              OpOptions op = {});
Operation start_run_sql(Context& ctx, InstanceRef ref, std::string sql, DatabaseSelection selection,
                        Callback<SqlResults> done, OpOptions op = {});
Operation start_database_privileges(Context& ctx, InstanceRef ref, std::vector<std::string> databases,
                                    std::vector<std::string> roles, bool defaults, Callback<Privileges> done,
                                    OpOptions op = {});

// --- forms (wt-forms) ---
/// instance_privileges with a callback: database_privileges of every database.
Operation start_instance_privileges(Context& ctx, InstanceRef ref, std::vector<std::string> roles, bool defaults,
                                    Callback<Privileges> done, OpOptions op = {});
// --- end forms ---

}  // namespace pglift
