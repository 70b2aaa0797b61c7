// Database operations (create, alter, get, list, drop, run, privileges): the coroutines on ops::sql,
// and their blocking and callback faces.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "core/coro.hpp"
#include "core/sql_names.hpp"
#include "core/test_hooks.hpp"
#include "core/value.hpp"
#include "ops/context_impl.hpp"
#include "ops/lock.hpp"
#include "ops/lookup.hpp"
#include "ops/sql.hpp"
#include "ops/sql_objects.hpp"
#include "ops/transaction.hpp"
#include "pglift/databases.hpp"
#include "postgres/databases.hpp"
#include "postgres/layout.hpp"
#include "postgres/session.hpp"

namespace pglift {
namespace ops::databases {
namespace {

using postgres::Layout;
using postgres::Session;
namespace dbsql = postgres::dbsql;

const char* const log_target = "pglift.databases";

dbsql::Quote quote(Session& s) {
  return {[&s](std::string_view n) { return s.identifier(n); }, [&s](std::string_view v) { return s.literal(v); }};
}

bool exists(Session& s, const std::string& name) {
  return !s.query("SELECT 1 FROM pg_database WHERE datname = $1", {name}).empty();
}

dbsql::Contents contents(Session& s) {
  dbsql::Contents c;
  for (auto& r : s.query("SELECT n.nspname, pg_get_userbyid(n.nspowner) FROM pg_namespace n "
                         "WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' ORDER BY 1"))
    c.schemas.push_back({r[0].value_or(""), r[1].value_or("")});
  for (auto& r : s.query("SELECT e.extname, n.nspname, e.extversion FROM pg_extension e "
                         "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY 1"))
    c.extensions.push_back({r[0].value_or(""), r[1].value_or(""), r[2].value_or("")});
  return c;
}

/// The databases allowing connections, by name.
std::vector<std::string> connectable(Session& s) {
  std::vector<std::string> names;
  for (auto& r : s.query("SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname")) names.push_back(r[0].value_or(""));
  return names;
}

/// `all` narrowed to the selection; NotFound for a selected name that is not there.
std::vector<std::string> select(const std::vector<std::string>& all, const DatabaseSelection& sel) {
  for (const auto& n : sel.databases)
    if (std::find(all.begin(), all.end(), n) == all.end()) throw NotFound("database", n);
  std::vector<std::string> out;
  for (const auto& n : all) {
    if (!sel.databases.empty() && std::find(sel.databases.begin(), sel.databases.end(), n) == sel.databases.end()) continue;
    if (std::find(sel.exclude.begin(), sel.exclude.end(), n) != sel.exclude.end()) continue;
    out.push_back(n);
  }
  return out;
}

awaitable<Database> inspect(const core::Op& op, const sql::Target& t, const std::string& name) {
  auto top = [&](Session& s) {
    auto rows = s.query("SELECT pg_get_userbyid(d.datdba), t.spcname FROM pg_database d "
                        "JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = $1",
                        {name});
    if (rows.empty()) throw NotFound("database", name);
    Database db;
    db.name = name;
    db.owner = rows[0][0].value_or("");
    if (rows[0][1] && *rows[0][1] != "pg_default") db.tablespace = rows[0][1];
    for (auto& r : s.query("SELECT unnest(s.setconfig) FROM pg_db_role_setting s JOIN pg_database d "
                           "ON d.oid = s.setdatabase WHERE d.datname = $1 AND s.setrole = 0",
                           {name})) {
      const std::string kv = r[0].value_or("");
      auto eq = kv.find('=');
      if (eq != std::string::npos) db.settings[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return db;
  };
  Database db = co_await sql::with_session(op, t, top);
  auto inside = [](Session& s) { return contents(s); };
  const std::string dbname = name;
  dbsql::Contents c = co_await sql::with_session(op, t, inside, dbname);
  db.schemas = std::move(c.schemas);
  db.extensions = std::move(c.extensions);
  co_return db;
}

const char* const dry_run_note = " (dry run: nothing changed)";

/// What CREATE DATABASE and the steps after it would need, checked without them (a dry run): the owner,
/// the owners of its schemas and the tablespace exist, the extensions are available.
void check_references(Session& s, const DatabaseSpec& spec) {
  auto require_role = [&](const std::optional<std::string>& role) {
    if (role && s.query("SELECT 1 FROM pg_roles WHERE rolname = $1", {*role}).empty()) throw NotFound("role", *role);
  };
  require_role(spec.owner);
  for (const auto& schema : spec.schemas) require_role(schema.owner);
  if (spec.tablespace && s.query("SELECT 1 FROM pg_tablespace WHERE spcname = $1", {*spec.tablespace}).empty())
    throw NotFound("tablespace", *spec.tablespace);
  for (const auto& e : spec.extensions)
    if (e.state == DatabaseObjectState::present &&
        s.query("SELECT 1 FROM pg_available_extensions WHERE name = $1", {e.name}).empty())
      throw NotFound("extension", e.name);
}

/// Schemas then extensions, inside the database, as a diff of what it holds. A dry run executes them in a
/// transaction it rolls back.
awaitable<void> apply_contents(const core::Op& op, const sql::Target& t, const DatabaseSpec& spec) {
  if (spec.schemas.empty() && spec.extensions.empty()) co_return;
  auto fn = [&](Session& s) {
    auto q = quote(s);
    if (op.dry_run) s.execute("BEGIN");
    auto current = contents(s);
    for (const auto& stmt : dbsql::schema_changes(q, spec.schemas, current)) {
      op.debug(stmt, log_target);
      s.execute(stmt);
    }
    current = contents(s);
    for (const auto& stmt : dbsql::extension_changes(q, spec.extensions, current)) {
      op.debug(stmt, log_target);
      s.execute(stmt);
    }
    if (op.dry_run) s.execute("ROLLBACK");
  };
  const std::string dbname = spec.name;
  co_await sql::with_session(op, t, fn, dbname);
}

awaitable<Database> create(const core::Op& op, const sql::Target& t, const DatabaseSpec& spec) {
  co_await sql::require_primary(op, t);
  auto check = [&](Session& s) {
    if (exists(s, spec.name)) throw AlreadyExists("database already exists");
    if (op.dry_run) check_references(s, spec);
  };
  co_await sql::with_session(op, t, check);
  if (op.dry_run) {  // CREATE DATABASE cannot run in a transaction: checked, not tried
    op.info("creating '" + spec.name + "' database on instance " + t.layout.display() + dry_run_note, log_target);
    Database would;
    would.name = spec.name;
    would.owner = spec.owner.value_or(op.settings.postgresql.surole.name);
    if (spec.settings)
      for (const auto& [k, v] : *spec.settings)
        if (v) would.settings[k] = *v;
    for (const auto& sc : spec.schemas)
      if (sc.state == DatabaseObjectState::present) would.schemas.push_back({sc.name, sc.owner.value_or(would.owner)});
    for (const auto& e : spec.extensions)
      if (e.state == DatabaseObjectState::present) would.extensions.push_back({e.name, e.schema.value_or(""), e.version.value_or("")});
    would.tablespace = spec.tablespace;
    co_return would;
  }
  bool created = false;  // the undo drops only what this call created
  co_await transactional<bool>(op, true, [&](Transaction& tx) -> awaitable<bool> {
    Transaction::Action create_db = [&]() -> awaitable<void> {
      auto fn = [&](Session& s) {
        auto q = quote(s);
        s.execute(dbsql::create_database(q, spec));
        created = true;
        if (spec.settings && !spec.settings->empty())
          for (const auto& stmt : dbsql::settings(q, spec.name, *spec.settings)) s.execute(stmt);
      };
      co_await sql::with_session(op, t, fn);
    };
    Transaction::Action drop_db = [&]() -> awaitable<void> {
      if (!created) co_return;
      auto fn = [&](Session& s) {
        auto q = quote(s);
        s.execute(dbsql::drop_database(q, spec.name, true));
      };
      co_await sql::with_session(op, t, fn);
    };
    const std::string title = "creating '" + spec.name + "' database on instance " + t.layout.display();
    const std::string undo_title = "dropping '" + spec.name + "' database";
    co_await tx.step(title, create_db, undo_title, drop_db);
    co_await core::test_hook(op, "database.created");
    co_await apply_contents(op, t, spec);
    co_return true;
  });
  co_return co_await inspect(op, t, spec.name);
}

awaitable<Database> alter(const core::Op& op, const sql::Target& t, const DatabaseSpec& spec) {
  // SET TABLESPACE of `postgres` would find the context's kept connection in it.
  if (op.sessions) op.sessions->forget(t.layout.socket_directory);
  co_await sql::require_primary(op, t);
  auto fn = [&](Session& s) {
    if (!exists(s, spec.name)) throw NotFound("database", spec.name);
    op.info("altering '" + spec.name + "' database on instance " + t.layout.display() + (op.dry_run ? dry_run_note : ""),
            log_target);
    auto q = quote(s);
    if (op.dry_run) {  // owner and settings tried in a rolled-back transaction; SET TABLESPACE cannot be
      check_references(s, spec);
      s.execute("BEGIN");
      s.execute(dbsql::alter_owner(q, spec.name, spec.owner));
      if (spec.settings)
        for (const auto& stmt : dbsql::settings(q, spec.name, *spec.settings)) s.execute(stmt);
      s.execute("ROLLBACK");
      return;
    }
    s.execute(dbsql::alter_owner(q, spec.name, spec.owner));
    if (spec.settings)
      for (const auto& stmt : dbsql::settings(q, spec.name, *spec.settings)) s.execute(stmt);
    if (spec.tablespace) {
      auto rows = s.query("SELECT t.spcname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace "
                          "WHERE d.datname = $1",
                          {spec.name});
      if (rows.empty() || rows[0][0] != spec.tablespace) s.execute(dbsql::alter_tablespace(q, spec.name, *spec.tablespace));
    }
  };
  co_await sql::with_session(op, t, fn);
  co_await apply_contents(op, t, spec);
  co_return co_await inspect(op, t, spec.name);
}

awaitable<void> drop(const core::Op& op, const sql::Target& t, const std::string& name, bool force) {
  // The context's kept connection (to `postgres`) would hold a drop of that database back.
  if (op.sessions) op.sessions->forget(t.layout.socket_directory);
  co_await sql::require_primary(op, t);
  auto fn = [&](Session& s) {
    if (!exists(s, name)) throw NotFound("database", name);
    op.info("dropping '" + name + "' database" + (op.dry_run ? dry_run_note : ""), log_target);
    if (op.dry_run) return;
    auto q = quote(s);
    s.execute(dbsql::drop_database(q, name, force));
  };
  co_await sql::with_session(op, t, fn);
}

awaitable<std::vector<DatabaseListItem>> list(const core::Op& op, const sql::Target& t, const DatabaseSelection& selection) {
  auto fn = [&](Session& s) {
    auto rows = s.query(
        "SELECT d.datname, pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, "
        "COALESCE(array_to_json(d.datacl::text[])::text, '[]'), pg_database_size(d.oid), "
        "shobj_description(d.oid, 'pg_database'), t.spcname, pg_tablespace_location(t.oid), pg_tablespace_size(t.oid) "
        "FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datallowconn ORDER BY d.datname");
    std::vector<std::string> names;
    for (const auto& r : rows) names.push_back(r[0].value_or(""));
    auto selected = select(names, selection);
    std::vector<DatabaseListItem> items;
    for (const auto& r : rows) {
      if (std::find(selected.begin(), selected.end(), r[0].value_or("")) == selected.end()) continue;
      DatabaseListItem d;
      d.name = r[0].value_or("");
      d.owner = r[1].value_or("");
      d.encoding = r[2].value_or("");
      d.collation = r[3].value_or("");
      d.ctype = r[4].value_or("");
      const core::Value acls = core::parse_json(r[5].value_or("[]"));  // named: as_array() refers into it
      for (const auto& acl : acls.as_array())
        if (acl.is_string()) d.acls.push_back(acl.as_string());
      d.size = std::stoll(r[6].value_or("0"));
      d.description = r[7];
      d.tablespace = Tablespace{r[8].value_or(""), r[9].value_or(""), std::stoll(r[10].value_or("0"))};
      items.push_back(std::move(d));
    }
    return items;
  };
  co_return co_await sql::with_session(op, t, fn);
}

awaitable<SqlResults> run(const core::Op& op, const sql::Target& t, const std::string& sql_text, const DatabaseSelection& selection) {
  auto targets = [&](Session& s) { return select(connectable(s), selection); };
  const std::vector<std::string> dbs = co_await sql::with_session(op, t, targets);
  const std::string shown = dbsql::redact_sql(sql_text);
  SqlResults results;
  for (const auto& db : dbs) {
    op.info("running \"" + shown + "\" on " + db + " database of " + t.layout.display(), log_target);
    auto fn = [&](Session& s) { return s.run(sql_text); };
    const std::string dbname = db;
    postgres::Session::Result r = co_await sql::with_session(op, t, fn, dbname);
    op.info(r.status, log_target);
    results[db] = SqlResult{std::move(r.columns), std::move(r.rows), std::move(r.status)};
  }
  co_return results;
}

Privileges privileges_in(Session& s, const std::string& db, const std::set<std::string>& roles, bool defaults) {
  Privileges out;
  out.defaults = defaults;
  auto wanted = [&](const std::string& role) { return roles.empty() || roles.count(role) > 0; };
  if (defaults) {
    auto rows = s.query(
        "SELECT COALESCE(n.nspname, ''), CASE d.defaclobjtype WHEN 'r' THEN 'TABLE' WHEN 'S' THEN 'SEQUENCE' "
        "WHEN 'f' THEN 'FUNCTION' WHEN 'T' THEN 'TYPE' WHEN 'n' THEN 'SCHEMA' END, pg_get_userbyid(a.grantee), "
        "a.privilege_type FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace "
        "CROSS JOIN LATERAL aclexplode(d.defaclacl) a WHERE a.grantee <> 0 ORDER BY 1, 2, 3, 4");
    for (const auto& r : rows) {
      const std::string schema = r[0].value_or(""), type = r[1].value_or(""), role = r[2].value_or("");
      if (!wanted(role)) continue;
      auto& list = out.default_privileges;
      if (list.empty() || list.back().schema != schema || list.back().object_type != type || list.back().role != role)
        list.push_back(DefaultPrivilege{db, schema, type, role, {}});
      list.back().privileges.push_back(r[3].value_or(""));
    }
    return out;
  }
  static const std::string relation =
      "CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' "
      "WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' END";
  static const std::string where =
      " WHERE c.relkind IN ('r', 'v', 'm', 'S', 'f', 'p') AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' "
      "AND pg_table_is_visible(c.oid) AND a.grantee <> 0";
  auto rows = s.query(
      "SELECT n.nspname, c.relname, " + relation + ", pg_get_userbyid(a.grantee), a.privilege_type, NULL::name "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(c.relacl) a" + where +
      " UNION ALL SELECT n.nspname, c.relname, " + relation + ", pg_get_userbyid(a.grantee), a.privilege_type, att.attname "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute att ON att.attrelid = c.oid "
      "AND att.attacl IS NOT NULL AND NOT att.attisdropped CROSS JOIN LATERAL aclexplode(att.attacl) a" + where +
      " ORDER BY 1, 2, 4, 6 NULLS FIRST, 5");
  std::map<std::tuple<std::string, std::string, std::string>, Privilege> by_key;
  for (const auto& r : rows) {
    const std::string schema = r[0].value_or(""), name = r[1].value_or(""), role = r[3].value_or("");
    if (!wanted(role)) continue;
    Privilege& p = by_key[{schema, name, role}];
    if (p.object_name.empty()) p = Privilege{db, schema, name, r[2].value_or(""), role, {}, {}};
    if (r[5]) p.column_privileges[*r[5]].push_back(r[4].value_or(""));
    else p.privileges.push_back(r[4].value_or(""));
  }
  for (auto& [_, p] : by_key) {
    std::sort(p.privileges.begin(), p.privileges.end());
    for (auto& [c, privs] : p.column_privileges) std::sort(privs.begin(), privs.end());
    out.privileges.push_back(std::move(p));
  }
  return out;
}

awaitable<Privileges> privileges(const core::Op& op, const sql::Target& t, const std::vector<std::string>& databases,
                                 const std::vector<std::string>& roles, bool defaults) {
  auto targets = [&](Session& s) {
    for (const auto& r : roles)
      if (s.query("SELECT 1 FROM pg_roles WHERE rolname = $1", {r}).empty()) throw NotFound("role", r);
    DatabaseSelection sel{databases, {}};
    return select(connectable(s), sel);
  };
  const std::vector<std::string> dbs = co_await sql::with_session(op, t, targets);
  const std::set<std::string> role_set(roles.begin(), roles.end());
  Privileges all;
  all.defaults = defaults;
  for (const auto& db : dbs) {
    auto fn = [&](Session& s) { return privileges_in(s, db, role_set, defaults); };
    const std::string dbname = db;
    Privileges p = co_await sql::with_session(op, t, fn, dbname);
    for (auto& x : p.privileges) all.privileges.push_back(std::move(x));
    for (auto& x : p.default_privileges) all.default_privileges.push_back(std::move(x));
  }
  co_return all;
}

}  // namespace
}  // namespace ops::databases

awaitable<Database> ops::create_database(const core::Op& op, const sql::Target& t, const DatabaseSpec& spec) {
  return databases::create(op, t, spec);
}

namespace {

/// Schemas and extensions by name: how two Databases compare whatever order they were listed in.
Database canonical(Database d) {
  std::sort(d.schemas.begin(), d.schemas.end(), [](const Schema& a, const Schema& b) { return a.name < b.name; });
  std::sort(d.extensions.begin(), d.extensions.end(), [](const Extension& a, const Extension& b) { return a.name < b.name; });
  return d;
}

/// What get would show once alter applied `spec` to `d`, connected as `user` (a dry run's answer).
Database applied(Database d, const DatabaseSpec& spec, const std::string& user) {
  d.owner = spec.owner.value_or(user);
  if (spec.settings && spec.settings->empty()) d.settings.clear();
  if (spec.settings)
    for (const auto& [k, v] : *spec.settings) {
      if (v) d.settings[k] = *v;
      else d.settings.erase(k);
    }
  for (const auto& sc : spec.schemas) {
    auto at = std::find_if(d.schemas.begin(), d.schemas.end(), [&](const Schema& x) { return x.name == sc.name; });
    if (sc.state == DatabaseObjectState::absent && at != d.schemas.end()) d.schemas.erase(at);
    else if (sc.state == DatabaseObjectState::present && at == d.schemas.end()) d.schemas.push_back({sc.name, sc.owner.value_or(user)});
    else if (sc.state == DatabaseObjectState::present && sc.owner) at->owner = *sc.owner;
  }
  for (const auto& e : spec.extensions) {
    auto at = std::find_if(d.extensions.begin(), d.extensions.end(), [&](const Extension& x) { return x.name == e.name; });
    if (e.state == DatabaseObjectState::absent && at != d.extensions.end()) d.extensions.erase(at);
    else if (e.state == DatabaseObjectState::present && at == d.extensions.end())
      d.extensions.push_back({e.name, e.schema.value_or(""), e.version.value_or("")});
    else if (e.state == DatabaseObjectState::present) {
      if (e.schema) at->schema = *e.schema;
      if (e.version) at->version = *e.version;
    }
  }
  if (spec.tablespace) d.tablespace = *spec.tablespace == "pg_default" ? std::nullopt : spec.tablespace;
  return d;
}

}  // namespace

awaitable<ChangeState> ops::apply_database(const core::Op& op, const sql::Target& t, const DatabaseSpec& spec,
                                            const std::vector<std::string>& simulated_roles) {
  spec.validate();
  // A dry run's roles were never created: what it checks leaves them out of the owners.
  DatabaseSpec checked = spec;
  auto simulated = [&](const std::optional<std::string>& role) {
    return role && std::find(simulated_roles.begin(), simulated_roles.end(), *role) != simulated_roles.end();
  };
  if (op.dry_run && simulated(checked.owner)) checked.owner.reset();
  if (op.dry_run)
    for (auto& sc : checked.schemas)
      if (simulated(sc.owner)) sc.owner.reset();
  auto there = [&](postgres::Session& s) { return databases::exists(s, spec.name); };
  const bool exists = co_await sql::with_session(op, t, there);
  if (!exists) {
    co_await databases::create(op, t, checked);
    co_return ChangeState::created;
  }
  const Database before = co_await databases::inspect(op, t, spec.name);
  Database after = co_await databases::alter(op, t, checked);
  if (op.dry_run) after = applied(before, spec, op.settings.postgresql.surole.name);
  co_return canonical(after).to_json() == canonical(before).to_json() ? ChangeState::unchanged : ChangeState::changed;
}

awaitable<ChangeState> ops::apply_absent_database(const core::Op& op, const sql::Target& t, const std::string& name) {
  core::check_sql_name("name", name);
  auto there = [&](postgres::Session& s) { return databases::exists(s, name); };
  const bool exists = co_await sql::with_session(op, t, there);
  if (!exists) co_return ChangeState::unchanged;
  co_await databases::drop(op, t, name, false);
  co_return ChangeState::dropped;
}

// --- faces ---------------------------------------------------------------------------------------

namespace {

Context::Impl& impl(Context& ctx) { return ctx.impl(); }

/// Every database operation as a role one: its arguments checked (`check`) before anything, then `fn` on
/// the instance held by ops::sql::on_running (its lock shared, or a stopped plain instance started for the
/// operation and stopped after), which makes the existence checks.
template <class T, class Check, class Fn>
auto on_running(InstanceRef ref, Check check, Fn fn) {
  return [ref = std::move(ref), check = std::move(check), fn = std::move(fn)](const core::Op& op) mutable -> awaitable<T> {
    check();
    auto body = [&](const ops::sql::Target& t) -> awaitable<T> { co_return co_await fn(op, t); };
    co_return co_await ops::sql::on_running(op, ref, body);
  };
}
using Target = ops::sql::Target;
constexpr auto nothing_to_check = [] {};

auto create_body(InstanceRef ref, DatabaseSpec spec) {
  auto check = [spec] { spec.validate(); };
  return ops::dry_runnable(on_running<Database>(std::move(ref), check, [spec = std::move(spec)](const core::Op& op, const Target& t) {
    return ops::databases::create(op, t, spec);
  }));
}
auto alter_body(InstanceRef ref, DatabaseSpec spec) {
  auto check = [spec] { spec.validate(); };
  return ops::dry_runnable(on_running<Database>(std::move(ref), check, [spec = std::move(spec)](const core::Op& op, const Target& t) {
    return ops::databases::alter(op, t, spec);
  }));
}
auto get_body(InstanceRef ref, std::string name) {
  auto check = [name] { core::check_sql_name("name", name); };
  return on_running<Database>(std::move(ref), check, [name = std::move(name)](const core::Op& op, const Target& t) {
    return ops::databases::inspect(op, t, name);
  });
}
auto list_body(InstanceRef ref, DatabaseSelection selection) {
  return on_running<std::vector<DatabaseListItem>>(std::move(ref), nothing_to_check,
                                                   [selection = std::move(selection)](const core::Op& op, const Target& t) {
                                                     return ops::databases::list(op, t, selection);
                                                   });
}
auto drop_body(InstanceRef ref, std::string name, bool force) {
  auto check = [name] { core::check_sql_name("name", name); };
  return ops::dry_runnable(on_running<void>(std::move(ref), check, [name = std::move(name), force](const core::Op& op, const Target& t) {
    return ops::databases::drop(op, t, name, force);
  }));
}
auto run_body(InstanceRef ref, std::string sql, DatabaseSelection selection) {
  return on_running<SqlResults>(std::move(ref), nothing_to_check,
                                [sql = std::move(sql), selection = std::move(selection)](const core::Op& op, const Target& t) {
                                  return ops::databases::run(op, t, sql, selection);
                                });
}
auto privileges_body(InstanceRef ref, std::vector<std::string> databases, std::vector<std::string> roles, bool defaults) {
  auto check = [databases, roles] {
    for (const auto& d : databases) core::check_sql_name("databases", d);
    for (const auto& r : roles) core::check_sql_name("roles", r);
  };
  return on_running<Privileges>(std::move(ref), check,
                                [databases = std::move(databases), roles = std::move(roles), defaults](const core::Op& op,
                                                                                                        const Target& t) {
                                  return ops::databases::privileges(op, t, databases, roles, defaults);
                                });
}

}  // namespace

Database create_database(Context& ctx, const InstanceRef& ref, const DatabaseSpec& spec, const OpOptions& options) {
  return impl(ctx).run<Database>(create_body(ref, spec), options);
}
Database alter_database(Context& ctx, const InstanceRef& ref, const DatabaseSpec& spec, const OpOptions& options) {
  return impl(ctx).run<Database>(alter_body(ref, spec), options);
}
Database get_database(Context& ctx, const InstanceRef& ref, const std::string& name) {
  return impl(ctx).run<Database>(get_body(ref, name));
}
std::vector<DatabaseListItem> list_databases(Context& ctx, const InstanceRef& ref, const DatabaseSelection& selection) {
  return impl(ctx).run<std::vector<DatabaseListItem>>(list_body(ref, selection));
}
void drop_database(Context& ctx, const InstanceRef& ref, const std::string& name, bool force, const OpOptions& options) {
  impl(ctx).run<void>(drop_body(ref, name, force), options);
}
SqlResults run_sql(Context& ctx, const InstanceRef& ref, const std::string& sql, const DatabaseSelection& selection) {
  return impl(ctx).run<SqlResults>(run_body(ref, sql, selection));
}
Privileges database_privileges(Context& ctx, const InstanceRef& ref, const std::vector<std::string>& databases,
                               const std::vector<std::string>& roles, bool defaults) {
  return impl(ctx).run<Privileges>(privileges_body(ref, databases, roles, defaults));
}
Privileges instance_privileges(Context& ctx, const InstanceRef& ref, const std::vector<std::string>& roles, bool defaults) {
  return impl(ctx).run<Privileges>(privileges_body(ref, {}, roles, defaults));
}

Operation start_create_database(Context& ctx, InstanceRef ref, DatabaseSpec spec, Callback<Database> done, OpOptions op) {
  return impl(ctx).launch<Database>(op, create_body(std::move(ref), std::move(spec)), std::move(done));
}
Operation start_alter_database(Context& ctx, InstanceRef ref, DatabaseSpec spec, Callback<Database> done, OpOptions op) {
  return impl(ctx).launch<Database>(op, alter_body(std::move(ref), std::move(spec)), std::move(done));
}
Operation start_get_database(Context& ctx, InstanceRef ref, std::string name, Callback<Database> done, OpOptions op) {
  return impl(ctx).launch<Database>(op, get_body(std::move(ref), std::move(name)), std::move(done));
}
Operation start_list_databases(Context& ctx, InstanceRef ref, DatabaseSelection selection,
                               Callback<std::vector<DatabaseListItem>> done, OpOptions op) {
  return impl(ctx).launch<std::vector<DatabaseListItem>>(op, list_body(std::move(ref), std::move(selection)), std::move(done));
}
Operation start_drop_database(Context& ctx, InstanceRef ref, std::string name, bool force, Callback<> done, OpOptions op) {
  return impl(ctx).launch<void>(op, drop_body(std::move(ref), std::move(name), force), std::move(done));
}
Operation start_run_sql(Context& ctx, InstanceRef ref, std::string sql, DatabaseSelection selection,
                        Callback<SqlResults> done, OpOptions op) {
  return impl(ctx).launch<SqlResults>(op, run_body(std::move(ref), std::move(sql), std::move(selection)), std::move(done));
}
Operation start_database_privileges(Context& ctx, InstanceRef ref, std::vector<std::string> databases,
                                    std::vector<std::string> roles, bool defaults, Callback<Privileges> done,
                                    OpOptions op) {
  return impl(ctx).launch<Privileges>(op, privileges_body(std::move(ref), std::move(databases), std::move(roles), defaults),
                                      std::move(done));
}
// --- forms (wt-forms) ---
Operation start_instance_privileges(Context& ctx, InstanceRef ref, std::vector<std::string> roles, bool defaults,
                                    Callback<Privileges> done, OpOptions op) {
  return impl(ctx).launch<Privileges>(op, privileges_body(std::move(ref), {}, std::move(roles), defaults), std::move(done));
}
// --- end forms ---

}  // namespace pglift
