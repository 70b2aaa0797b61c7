// Databases on a real PostgreSQL 15 instance: one instance for the whole file (CI budget), each test
// case on databases of its own.
#define DOCTEST_CONFIG_IMPLEMENT
#include <boost/asio/use_future.hpp>

#include <future>

#include "fixture.hpp"
#include "pglift/async.hpp"

using namespace pglift;
using namespace std::chrono_literals;

namespace {

Env* shared_env = nullptr;
const InstanceRef ref = InstanceRef::parse("15/dbs");

/// The file's instance, created on first use; dropped by main().
Env& env() {
  if (!shared_env) {
    shared_env = new Env();
    create_instance(**shared_env, spec("dbs", free_port()));
    sql(**shared_env, "dbs", "CREATE ROLE bob");
    sql(**shared_env, "dbs", "CREATE ROLE alice");
  }
  return *shared_env;
}

/// SQL in database `db` of the instance: the first value, or "ERROR: ...".
std::string sql_in(const std::string& db, const std::string& query) {
  auto vars = instance_env(*env(), ref);
  std::string ci = "host=" + vars["PGHOST"] + " port=" + vars["PGPORT"] + " user=" + vars["PGUSER"] + " dbname=" + db;
  PGconn* c = PQconnectdb(ci.c_str());
  std::string out;
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c, query.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetisnull(r, 0, 0) ? "(null)" : PQgetvalue(r, 0, 0);
    else if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
      out = std::string("ERROR: ") + PQresultErrorMessage(r);
    PQclear(r);
  } else {
    out = std::string("ERROR: ") + PQerrorMessage(c);
  }
  PQfinish(c);
  return out;
}

bool db_exists(const std::string& name) {
  return sql_in("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + name + "'") == "1";
}

bool any_event_mentions(Env& e, const std::string& text) {
  std::lock_guard l(e.mutex);
  for (const auto& ev : e.events) {
    if (auto* r = std::get_if<LogRecord>(&ev); r && r->message.find(text) != std::string::npos) return true;
    if (auto* p = std::get_if<ProgressRecord>(&ev); p && p->title.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("create with owner, settings, schemas and extensions; get shows them; list has it") {
  auto spec = DatabaseSpec::from_json(
      R"({"name": "app", "owner": "bob", "settings": {"work_mem": "8MB", "jit": false},
          "schemas": ["s1", {"name": "s2", "owner": "alice"}], "extensions": ["hstore", {"name": "citext", "schema": "s1"}]})");
  Database d = create_database(*env(), ref, spec);
  CHECK(env().logged("creating 'app' database on instance 15/dbs"));
  CHECK(d.name == "app");
  CHECK(d.owner == "bob");
  CHECK(d.settings == std::map<std::string, std::string>{{"jit", "off"}, {"work_mem", "8MB"}});
  auto has_schema = [&](const std::string& n, const std::string& owner) {
    return std::any_of(d.schemas.begin(), d.schemas.end(), [&](const Schema& s) { return s.name == n && s.owner == owner; });
  };
  CHECK(has_schema("s1", "postgres"));
  CHECK(has_schema("s2", "alice"));
  CHECK(has_schema("public", "pg_database_owner"));
  REQUIRE(d.extensions.size() == 2);
  CHECK(d.extensions[0].name == "citext");
  CHECK(d.extensions[0].schema == "s1");
  CHECK(d.extensions[1].name == "hstore");
  CHECK_FALSE(d.tablespace.has_value());
  CHECK(get_database(*env(), ref, "app").to_json() == d.to_json());

  auto items = list_databases(*env(), ref);
  auto it = std::find_if(items.begin(), items.end(), [](const DatabaseListItem& i) { return i.name == "app"; });
  REQUIRE(it != items.end());
  CHECK(it->owner == "bob");
  CHECK(it->encoding == "UTF8");
  CHECK(it->size > 0);
  CHECK(it->tablespace.name == "pg_default");
  CHECK(std::none_of(items.begin(), items.end(), [](const DatabaseListItem& i) { return i.name == "template0"; }));
  auto only = list_databases(*env(), ref, {{"app", "postgres"}, {"postgres"}});
  REQUIRE(only.size() == 1);
  CHECK(only[0].name == "app");
  CHECK_THROWS_AS(list_databases(*env(), ref, {{"nope"}, {}}), NotFound);

  CHECK_THROWS_WITH_AS(create_database(*env(), ref, spec), "database already exists", AlreadyExists);
  CHECK_THROWS_WITH_AS(get_database(*env(), ref, "nope"), "database 'nope' not found", NotFound);
  drop_database(*env(), ref, "app");
  CHECK_FALSE(db_exists("app"));
  CHECK(env().logged("dropping 'app' database"));
  CHECK_THROWS_WITH_AS(drop_database(*env(), ref, "app"), "database 'app' not found", NotFound);
}

TEST_CASE("a create failing after CREATE DATABASE (unknown extension) drops the database it created") {
  auto spec = DatabaseSpec::from_json(R"({"name": "broken", "schemas": ["s"], "extensions": ["no_such_extension"]})");
  CHECK_THROWS_WITH_AS(create_database(*env(), ref, spec), doctest::Contains("no_such_extension"), StateError);
  CHECK_FALSE(db_exists("broken"));
  CHECK(env().logged("reverting 'creating 'broken' database on instance 15/dbs'"));
}

TEST_CASE("a create that finds the database existing leaves it alone") {
  sql_in("postgres", "CREATE DATABASE theirs");
  auto spec = DatabaseSpec::from_json(R"({"name": "theirs"})");
  CHECK_THROWS_AS(create_database(*env(), ref, spec), AlreadyExists);
  CHECK(db_exists("theirs"));
  drop_database(*env(), ref, "theirs");
}

TEST_CASE("bad names are refused before anything is done, naming the field") {
  auto bad = [](const std::string& json) {
    try {
      create_database(*env(), ref, DatabaseSpec::from_json(json));
    } catch (const InvalidSpec& e) {
      return e.field();
    }
    return std::string("(none)");
  };
  CHECK(bad(R"({"name": ""})") == "name");
  CHECK(bad(R"({"name": "x", "owner": "a\nb"})") == "owner");
  CHECK(bad(R"({"name": "x", "tablespace": "default"})") == "tablespace");
  CHECK_FALSE(db_exists("x"));
  // Quoted by libpq: a name needing quotes is created as named.
  DatabaseSpec odd;
  odd.name = "we\"ird; DROP DATABASE postgres";
  create_database(*env(), ref, odd);
  CHECK(db_exists(odd.name));
  CHECK(db_exists("postgres"));
  drop_database(*env(), ref, odd.name);
}

TEST_CASE("alter is a declarative diff: owner, settings set/reset/reset all, schemas and extensions") {
  auto spec = DatabaseSpec::from_json(
      R"({"name": "alt", "owner": "bob", "settings": {"work_mem": "8MB", "jit": false}, "schemas": ["s1", "s2"],
          "extensions": ["hstore"]})");
  create_database(*env(), ref, spec);
  auto change = DatabaseSpec::from_json(
      R"({"name": "alt", "owner": "alice", "settings": {"work_mem": "16MB", "jit": null},
          "schemas": [{"name": "s1", "state": "absent"}, {"name": "s3", "owner": "bob"}, {"name": "s2", "owner": "alice"}],
          "extensions": [{"name": "hstore", "state": "absent"}, "citext"]})");
  Database d = alter_database(*env(), ref, change);
  CHECK(env().logged("altering 'alt' database on instance 15/dbs"));
  CHECK(d.owner == "alice");
  CHECK(d.settings == std::map<std::string, std::string>{{"work_mem", "16MB"}});
  auto schema = [&](const std::string& n) -> std::string {
    for (const auto& s : d.schemas)
      if (s.name == n) return s.owner;
    return "(absent)";
  };
  CHECK(schema("s1") == "(absent)");
  CHECK(schema("s2") == "alice");
  CHECK(schema("s3") == "bob");
  REQUIRE(d.extensions.size() == 1);
  CHECK(d.extensions[0].name == "citext");

  DatabaseSpec reset;
  reset.name = "alt";
  reset.settings = DatabaseSettings{};
  d = alter_database(*env(), ref, reset);
  CHECK(d.settings.empty());
  CHECK(d.owner == "postgres");  // no owner: CURRENT_USER, as pglift does
  CHECK(schema("s3") == "bob");  // schemas not listed: left alone

  DatabaseSpec missing;
  missing.name = "nope";
  CHECK_THROWS_AS(alter_database(*env(), ref, missing), NotFound);
  drop_database(*env(), ref, "alt");
}

TEST_CASE("drop: refused while a session is connected, done with force") {
  DatabaseSpec s;
  s.name = "busy";
  create_database(*env(), ref, s);
  auto vars = instance_env(*env(), ref);
  std::string ci = "host=" + vars["PGHOST"] + " port=" + vars["PGPORT"] + " user=" + vars["PGUSER"] + " dbname=busy";
  PGconn* c = PQconnectdb(ci.c_str());
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  CHECK_THROWS_WITH_AS(drop_database(*env(), ref, "busy"), doctest::Contains("is being accessed by other users"), StateError);
  CHECK(db_exists("busy"));
  drop_database(*env(), ref, "busy", true);
  CHECK_FALSE(db_exists("busy"));
  PQfinish(c);
}

TEST_CASE("run on every database allowing connections, minus exclusions; the log masks passwords") {
  DatabaseSpec s;
  s.name = "r1";
  create_database(*env(), ref, s);
  SqlResults all = run_sql(*env(), ref, "SELECT current_database() AS db, NULL AS nothing");
  CHECK(all.count("postgres") == 1);
  CHECK(all.count("template1") == 1);
  CHECK(all.count("template0") == 0);
  REQUIRE(all.count("r1") == 1);
  CHECK(all["r1"].columns == std::vector<std::string>{"db", "nothing"});
  REQUIRE(all["r1"].rows.size() == 1);
  CHECK(all["r1"].rows[0][0] == std::optional<std::string>("r1"));
  CHECK_FALSE(all["r1"].rows[0][1].has_value());
  CHECK(all["r1"].status == "SELECT 1");
  CHECK(env().logged("running \"SELECT current_database() AS db, NULL AS nothing\" on r1 database of 15/dbs"));
  CHECK(to_json(all).find(R"("r1":[{"db":"r1","nothing":null}])") != std::string::npos);

  SqlResults some = run_sql(*env(), ref, "CREATE TABLE t (i int)", {{}, {"postgres", "template1"}});
  CHECK(some.count("postgres") == 0);
  CHECK(some.at("r1").status == "CREATE TABLE");
  CHECK(some.at("r1").rows.empty());
  CHECK(sql_in("r1", "SELECT count(*) FROM t") == "0");
  CHECK(sql_in("postgres", "SELECT count(*) FROM t").starts_with("ERROR"));

  run_sql(*env(), ref, "ALTER ROLE bob PASSWORD 'TopSecret42'", {{"postgres"}, {}});
  CHECK_FALSE(any_event_mentions(env(), "TopSecret42"));
  CHECK(env().logged("ALTER ROLE bob PASSWORD '**********'"));

  CHECK_THROWS_WITH_AS(run_sql(*env(), ref, "SELECT * FROM no_such_table", {{"r1"}, {}}),
                       doctest::Contains("no_such_table"), StateError);
  // A failing statement: the server's message and position, never the statement (its password).
  CHECK_THROWS_WITH_AS(run_sql(*env(), ref, "ALTER ROLE bob PASSWORD 'TopSecret43' oops", {{"postgres"}, {}}),
                       "ERROR:  unrecognized role option \"oops\" (at character 39)", StateError);
  CHECK_FALSE(any_event_mentions(env(), "TopSecret43"));
  CHECK_THROWS_AS(run_sql(*env(), ref, "SELECT 1", {{"nope"}, {}}), NotFound);
  drop_database(*env(), ref, "r1");
}

TEST_CASE("privileges after GRANTs: relations, columns, defaults; filters by database and role") {
  DatabaseSpec s;
  s.name = "p1";
  create_database(*env(), ref, s);
  sql_in("p1", "CREATE TABLE t (a int, b int)");
  sql_in("p1", "GRANT SELECT, INSERT ON t TO bob");
  sql_in("p1", "GRANT UPDATE (b) ON t TO alice");
  sql_in("p1", "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO bob");

  Privileges p = database_privileges(*env(), ref, {"p1"});
  auto find = [&](const std::string& role) -> const Privilege* {
    for (const auto& x : p.privileges)
      if (x.role == role && x.object_name == "t") return &x;
    return nullptr;
  };
  const Privilege* bob = find("bob");
  REQUIRE(bob);
  CHECK(bob->database == "p1");
  CHECK(bob->schema == "public");
  CHECK(bob->object_type == "TABLE");
  CHECK(bob->privileges == std::vector<std::string>{"INSERT", "SELECT"});
  const Privilege* alice = find("alice");
  REQUIRE(alice);
  CHECK(alice->privileges.empty());
  CHECK(alice->column_privileges == std::map<std::string, std::vector<std::string>>{{"b", {"UPDATE"}}});

  Privileges only_bob = database_privileges(*env(), ref, {"p1"}, {"bob"});
  CHECK(std::all_of(only_bob.privileges.begin(), only_bob.privileges.end(), [](const Privilege& x) { return x.role == "bob"; }));
  CHECK_FALSE(only_bob.privileges.empty());

  Privileges defaults = database_privileges(*env(), ref, {"p1"}, {}, true);
  REQUIRE(defaults.default_privileges.size() == 1);
  CHECK(defaults.default_privileges[0].schema == "public");
  CHECK(defaults.default_privileges[0].object_type == "TABLE");
  CHECK(defaults.default_privileges[0].role == "bob");
  CHECK(defaults.default_privileges[0].privileges == std::vector<std::string>{"SELECT"});

  Privileges everywhere = instance_privileges(*env(), ref, {"bob"});
  CHECK(std::any_of(everywhere.privileges.begin(), everywhere.privileges.end(), [](const Privilege& x) { return x.database == "p1"; }));
  CHECK_THROWS_WITH_AS(database_privileges(*env(), ref, {"p1"}, {"nobody"}), "role 'nobody' not found", NotFound);
  CHECK_THROWS_AS(database_privileges(*env(), ref, {"nope"}), NotFound);
  drop_database(*env(), ref, "p1");
}

TEST_CASE("Asio tokens: create and drop with use_future; a cancelled create leaves no database") {
  DatabaseSpec s;
  s.name = "fut";
  auto f = async_create_database(*env(), ref, s, boost::asio::use_future);
  CHECK(f.get().name == "fut");
  async_drop_database(*env(), ref, "fut", false, boost::asio::use_future).get();
  CHECK_FALSE(db_exists("fut"));

  // Paused after CREATE DATABASE: the cancellation comes while the database exists.
  ::setenv("LIBPGLIFT_TEST_HOOKS", "database.created=sleep:2000", 1);
  std::promise<std::exception_ptr> done;
  DatabaseSpec c;
  c.name = "cancelled";
  Operation op = start_create_database(*env(), ref, c, [&](std::exception_ptr e, Database) { done.set_value(e); });
  CHECK(eventually(5s, [] { return db_exists("cancelled"); }));
  op.cancel();
  auto e = done.get_future().get();
  ::unsetenv("LIBPGLIFT_TEST_HOOKS");
  REQUIRE(e);
  CHECK_THROWS_AS(std::rethrow_exception(e), Cancelled);
  CHECK_FALSE(db_exists("cancelled"));
}

TEST_CASE("a standby: writes are refused with ReadOnly naming its primary, nothing is created; reads run") {
  // A plain standby of a primary that is not there: recovery from standby.signal, read-only at once.
  const InstanceRef standby = InstanceRef::parse("15/stby");
  create_instance(*env(), spec("stby", free_port()));
  stop_instance(*env(), standby);
  ParameterChanges follow{{"primary_conninfo", ConfValue(std::string("host=127.0.0.1 port=1"))}};
  configure_instance(*env(), standby, follow);
  std::ofstream(env().datadir("stby") / "standby.signal").close();
  start_instance(*env(), standby);
  DatabaseSpec s;
  s.name = "nowhere";
  CHECK_THROWS_WITH_AS(create_database(*env(), standby, s),
                       "instance 15/stby is a read-only standby: write on its primary, 127.0.0.1:1", ReadOnly);
  CHECK_THROWS_AS(drop_database(*env(), standby, "postgres"), ReadOnly);
  s.name = "postgres";
  CHECK_THROWS_AS(alter_database(*env(), standby, s), ReadOnly);
  CHECK_FALSE(env().logged("creating 'nowhere' database on instance 15/stby"));
  SqlResults r = run_sql(*env(), standby, "SELECT pg_is_in_recovery() AS standby", {{"postgres"}, {}});
  CHECK(r.at("postgres").rows.at(0).at(0) == std::optional<std::string>("t"));
  CHECK(get_database(*env(), standby, "postgres").name == "postgres");
  drop_instance(*env(), standby);
}

TEST_CASE("dry runs: create checks its references, alter rolls back, drop checks; nothing changes") {
  OpOptions dry;
  dry.dry_run = true;
  DatabaseSpec s;
  s.name = "drydb";
  s.owner = "bob";
  s.schemas = {{"s1", std::nullopt, DatabaseObjectState::present}};
  auto would = create_database(*env(), ref, s, dry);
  CHECK(would.owner == "bob");
  CHECK(would.schemas.size() == 1);
  CHECK_THROWS_AS(get_database(*env(), ref, "drydb"), NotFound);
  DatabaseSpec bad = s;
  bad.owner = "nobody_here";
  CHECK_THROWS_AS(create_database(*env(), ref, bad, dry), NotFound);
  bad = s;
  bad.extensions = {{"no_such_extension", std::nullopt, std::nullopt, DatabaseObjectState::present}};
  CHECK_THROWS_AS(create_database(*env(), ref, bad, dry), NotFound);

  DatabaseSpec plain;
  plain.name = "drydb";
  create_database(*env(), ref, plain);
  DatabaseSpec change;
  change.name = "drydb";
  change.owner = "alice";
  change.schemas = {{"s2", std::nullopt, DatabaseObjectState::present}};
  alter_database(*env(), ref, change, dry);
  auto now = get_database(*env(), ref, "drydb");
  CHECK(now.owner != "alice");
  CHECK(std::none_of(now.schemas.begin(), now.schemas.end(), [](const Schema& x) { return x.name == "s2"; }));
  drop_database(*env(), ref, "drydb", false, dry);
  CHECK(get_database(*env(), ref, "drydb").name == "drydb");
  CHECK_THROWS_AS(drop_database(*env(), ref, "no_such_db", false, dry), NotFound);
  drop_database(*env(), ref, "drydb");
}

TEST_CASE("a stopped instance: started for the operation, stopped after it (also after a failure); not for a dry run") {
  stop_instance(*env(), ref);
  CHECK_FALSE(list_databases(*env(), ref).empty());
  CHECK(get_instance(*env(), ref).state == InstanceState::stopped);
  DatabaseSpec spec;
  spec.name = "while_stopped";
  CHECK(create_database(*env(), ref, spec).name == "while_stopped");
  CHECK(get_instance(*env(), ref).state == InstanceState::stopped);
  CHECK_THROWS_AS(create_database(*env(), ref, spec), AlreadyExists);
  CHECK(get_instance(*env(), ref).state == InstanceState::stopped);
  OpOptions dry;
  dry.dry_run = true;
  CHECK_THROWS_WITH_AS(drop_database(*env(), ref, "while_stopped", false, dry), doctest::Contains("is not running"), StateError);
  drop_database(*env(), ref, "while_stopped");
  CHECK(get_instance(*env(), ref).state == InstanceState::stopped);
  start_instance(*env(), ref);
  CHECK_THROWS_AS(get_database(*env(), ref, "while_stopped"), NotFound);
}

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  int rc = context.run();
  if (shared_env) {
    try {
      drop_instance(**shared_env, ref);
    } catch (...) {
    }
    delete shared_env;
  }
  return rc;
}
