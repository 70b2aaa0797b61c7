// instance alter and instance apply on real PostgreSQL 15 instances: each change made (and only it),
// dry runs that change nothing, the differences reported, create/change/drop from a manifest.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <boost/asio/use_future.hpp>

#include <fstream>

#include "fixture.hpp"
#include "pglift/async.hpp"

using namespace pglift;

namespace {

std::string file_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

const FieldChange* find_change(const ApplyResult& r, const std::string& field) {
  for (const auto& c : r.diff)
    if (c.field == field) return &c;
  return nullptr;
}

}  // namespace

TEST_CASE("instance alter: settings, port, state, restart; dry runs change nothing") {
  Env env;
  const int port = free_port();
  create_instance(*env, spec("main", port));
  const fs::path conf = env.datadir("main") / "postgresql.conf";
  const InstanceRef ref = InstanceRef::parse("main");

  {  // a dry run reports and changes nothing
    const std::string before = file_text(conf);
    InstanceChanges c = InstanceChanges::from_json(R"({"settings": {"work_mem": "8MB"}, "state": "stopped"})");
    ApplyOptions dry;
    dry.dry_run = true;
    ApplyResult r = alter_instance(*env, ref, c, dry);
    CHECK(r.change_state == ChangeState::changed);
    CHECK(r.dry_run);
    REQUIRE(find_change(r, "settings.work_mem"));
    CHECK(find_change(r, "settings.work_mem")->after == "\"8MB\"");
    REQUIRE(find_change(r, "state"));
    CHECK(find_change(r, "state")->after == "\"stopped\"");
    CHECK(file_text(conf) == before);
    CHECK(get_instance(*env, ref).state == InstanceState::started);
  }

  {  // settings are set and removed, reloaded; an unchanged alter is null
    ApplyResult r = alter_instance(*env, ref, InstanceChanges::from_json(R"({"settings": {"work_mem": "8MB"}})"));
    CHECK(r.change_state == ChangeState::changed);
    CHECK(sql(*env, "main", "SHOW work_mem") == "8MB");
    CHECK(r.to_json().find(R"("change_state":"changed")") != std::string::npos);
    ApplyResult again = alter_instance(*env, ref, InstanceChanges::from_json(R"({"settings": {"work_mem": "8MB"}})"));
    CHECK(again.change_state == ChangeState::unchanged);
    CHECK(again.to_json().find(R"("change_state":null)") != std::string::npos);
    ApplyResult removed = alter_instance(*env, ref, InstanceChanges::from_json(R"({"settings": {"work_mem": null}})"));
    REQUIRE(find_change(removed, "settings.work_mem"));
    CHECK(find_change(removed, "settings.work_mem")->after == "null");
    CHECK(sql(*env, "main", "SHOW work_mem") == "4MB");
  }

  {  // a new port needs a restart; restart_on_changes restarts on it
    const int new_port = free_port();
    ApplyResult r = alter_instance(*env, ref, InstanceChanges::from_json(R"({"port": )" + std::to_string(new_port) + "}"));
    REQUIRE(find_change(r, "port"));
    CHECK(find_change(r, "port")->before == std::to_string(port));
    CHECK(r.needs_restart == std::vector<std::string>{"port"});
    CHECK_FALSE(r.restarted);
    CHECK(sql(*env, "main", "SHOW port") == std::to_string(port));  // still on the old port
    ApplyResult again = alter_instance(
        *env, ref, InstanceChanges::from_json(R"({"state": "restarted"})"));
    CHECK(again.restarted);
    CHECK(get_instance(*env, ref).port == new_port);
    CHECK(sql(*env, "main", "SHOW port") == std::to_string(new_port));

    const int third = free_port();
    ApplyResult on_changes = alter_instance(
        *env, ref, InstanceChanges::from_json(R"({"port": )" + std::to_string(third) + R"(, "restart_on_changes": true})"));
    CHECK(on_changes.restarted);
    CHECK(on_changes.needs_restart.empty());
    CHECK(sql(*env, "main", "SHOW port") == std::to_string(third));
  }

  {  // a port in use is refused before anything changes
    PortHolder taken;
    const std::string before = file_text(conf);
    CHECK_THROWS_WITH_AS(alter_instance(*env, ref, InstanceChanges::from_json(R"({"port": )" + std::to_string(taken.port) +
                                                                              R"(, "settings": {"work_mem": "9MB"}})")),
                         doctest::Contains("already in use"), InvalidSpec);
    CHECK(file_text(conf) == before);
  }

  {  // data_checksums: refused while running, changed by pg_checksums once stopped
    CHECK_THROWS_WITH_AS(alter_instance(*env, ref, InstanceChanges::from_json(R"({"data_checksums": true})")),
                         doctest::Contains("cannot alter data_checksums on a running instance"), StateError);
    alter_instance(*env, ref, InstanceChanges::from_json(R"({"state": "stopped"})"));
    CHECK(get_instance(*env, ref).state == InstanceState::stopped);
    ApplyResult r = alter_instance(*env, ref, InstanceChanges::from_json(R"({"data_checksums": true, "state": "started"})"));
    REQUIRE(find_change(r, "data_checksums"));
    CHECK(find_change(r, "data_checksums")->after == "true");
    CHECK(sql(*env, "main", "SHOW data_checksums") == "on");
  }

  {  // bad documents name the field
    CHECK_THROWS_WITH_AS(InstanceChanges::from_json(R"({"port": 70000})"), doctest::Contains("field 'port'"), InvalidSpec);
    CHECK_THROWS_WITH_AS(InstanceChanges::from_json(R"({"state": "absent"})"), doctest::Contains("field 'state'"), InvalidSpec);
    CHECK_THROWS_WITH_AS(InstanceChanges::from_json(R"({"colour": 1})"), doctest::Contains("colour"), InvalidSpec);
    CHECK_THROWS_WITH_AS(InstanceChanges::from_json(R"({"settings": {"work_mem": [1]}})"),
                         doctest::Contains("settings.work_mem"), InvalidSpec);
    CHECK_THROWS_WITH_AS(alter_instance(*env, ref, InstanceChanges::from_json(R"({"settings": {"port": 1234}})")),
                         doctest::Contains("settings.port"), InvalidSpec);
  }
  drop_instance(*env, ref);
}

TEST_CASE("instance apply: created, changed, null, dropped, and dry runs") {
  Env env;
  const int port = free_port();
  const std::string manifest = R"({"name": "app", "port": )" + std::to_string(port) + R"(, "settings": {"work_mem": "5MB"}})";
  ApplyOptions dry;
  dry.dry_run = true;

  ApplyResult planned = apply_instance(*env, InstanceManifest::from_json(manifest), dry);
  CHECK(planned.change_state == ChangeState::created);
  CHECK(env.nothing_in_srv());

  ApplyResult created = apply_instance(*env, InstanceManifest::from_json(manifest));
  CHECK(created.change_state == ChangeState::created);
  CHECK(sql(*env, "app", "SHOW work_mem") == "5MB");

  ApplyResult same = apply_instance(*env, InstanceManifest::from_json(manifest));
  CHECK(same.change_state == ChangeState::unchanged);

  CHECK_THROWS_WITH_AS(apply_instance(*env, InstanceManifest::from_json(R"({"name": "app", "encoding": "LATIN1", "state": "started"})")),
                       doctest::Contains("field 'encoding'"), InvalidSpec);

  ApplyResult changed = apply_instance(
      *env, InstanceManifest::from_json(R"({"name": "app", "settings": {"work_mem": "6MB", "jit": null}, "state": "stopped"})"));
  CHECK(changed.change_state == ChangeState::changed);
  CHECK(find_change(changed, "settings.work_mem"));
  CHECK_FALSE(find_change(changed, "settings.jit"));  // not set: removing it is no change
  CHECK(get_instance(*env, InstanceRef::parse("app")).state == InstanceState::stopped);


  ApplyResult drop_planned = apply_instance(*env, InstanceManifest::from_json(R"({"name": "app", "state": "absent"})"), dry);
  CHECK(drop_planned.change_state == ChangeState::dropped);
  CHECK_FALSE(env.nothing_in_srv());
  ApplyResult dropped = apply_instance(*env, InstanceManifest::from_json(R"({"name": "app", "state": "absent"})"));
  CHECK(dropped.change_state == ChangeState::dropped);
  CHECK(env.nothing_in_srv());
  // The Asio faces: a future, and the callback form's Operation.
  ApplyResult dry_async = async_apply_instance(*env, InstanceManifest::from_json(R"({"name": "app"})"), dry,
                                               boost::asio::use_future).get();
  CHECK(dry_async.change_state == ChangeState::created);
  CHECK(dry_async.dry_run);
  std::promise<ApplyResult> alter_done;
  start_alter_instance(*env, InstanceRef::parse("app"), InstanceChanges{}, ApplyOptions{},
                       [&](std::exception_ptr e, ApplyResult r) {
                         if (e) alter_done.set_exception(e);
                         else alter_done.set_value(std::move(r));
                       });
  CHECK_THROWS_AS(alter_done.get_future().get(), NotFound);
  ApplyResult gone = apply_instance(*env, InstanceManifest::from_json(R"({"name": "app", "state": "absent"})"));
  CHECK(gone.change_state == ChangeState::unchanged);
}

TEST_CASE("instance apply on an existing instance: the manifest's roles and databases, created, changed, kept, dropped") {
  Env env;
  const InstanceRef ref = InstanceRef::parse("objs");
  const std::string base = R"({"name": "objs", "port": )" + std::to_string(free_port());
  auto with = [&](const std::string& more) { return InstanceManifest::from_json(base + ", " + more + "}"); };
  auto count = [&](const std::string& query) { return sql(*env, "objs", query); };
  using Changes = std::vector<ObjectChange>;
  ApplyOptions dry;
  dry.dry_run = true;
  REQUIRE(apply_instance(*env, InstanceManifest::from_json(base + "}")).change_state == ChangeState::created);

  const std::string objects = R"("roles": [{"name": "alice", "login": true, "password": "Apply-Canary-7e1"}],
      "databases": [{"name": "app", "owner": "alice", "schemas": ["s"]}])";
  ApplyResult planned = apply_instance(*env, with(objects), dry);
  CHECK(planned.change_state == ChangeState::changed);
  CHECK(planned.roles == Changes{{"alice", ChangeState::created}});
  CHECK(planned.databases == Changes{{"app", ChangeState::created}});
  CHECK(count("SELECT count(*) FROM pg_roles WHERE rolname = 'alice'") == "0");

  ApplyResult created = apply_instance(*env, with(objects));
  CHECK(created.change_state == ChangeState::changed);
  CHECK(created.diff.empty());
  CHECK(created.roles == Changes{{"alice", ChangeState::created}});
  CHECK(created.databases == Changes{{"app", ChangeState::created}});
  CHECK(get_role(*env, ref, "alice").login);
  CHECK(get_role(*env, ref, "alice").has_password);
  CHECK(get_database(*env, ref, "app").owner == "alice");
  CHECK(created.to_json().find(R"("roles":[{"name":"alice","change_state":"created"}])") != std::string::npos);

  ApplyResult same = apply_instance(*env, with(objects));
  CHECK(same.change_state == ChangeState::unchanged);
  CHECK(same.roles == Changes{{"alice", ChangeState::unchanged}});
  CHECK(same.databases == Changes{{"app", ChangeState::unchanged}});

  const std::string changed_objects = R"("roles": [{"name": "alice", "login": false, "createdb": true}],
      "databases": [{"name": "app", "owner": "alice", "settings": {"work_mem": "3MB"}}])";
  ApplyResult would = apply_instance(*env, with(changed_objects), dry);
  CHECK(would.change_state == ChangeState::changed);
  CHECK(would.roles == Changes{{"alice", ChangeState::changed}});
  CHECK(would.databases == Changes{{"app", ChangeState::changed}});
  CHECK(get_role(*env, ref, "alice").login);
  CHECK(get_database(*env, ref, "app").settings.empty());
  ApplyResult changed = apply_instance(*env, with(changed_objects));
  CHECK(changed.roles == Changes{{"alice", ChangeState::changed}});
  CHECK(changed.databases == Changes{{"app", ChangeState::changed}});
  CHECK_FALSE(get_role(*env, ref, "alice").login);
  CHECK(get_role(*env, ref, "alice").createdb);
  CHECK(get_database(*env, ref, "app").settings.at("work_mem") == "3MB");

  // On a stopped instance: a dry run does not start it (nothing checked, a warning); the real one
  // starts it for them and stops it again. The database alice owns goes before alice.
  stop_instance(*env, ref);
  const std::string absent = R"("state": "stopped", "roles": [{"name": "alice", "state": "absent"}],
      "databases": [{"name": "app", "state": "absent"}])";
  ApplyResult unchecked = apply_instance(*env, with(absent), dry);
  CHECK(unchecked.roles.empty());
  CHECK(env.shown("are not checked in a dry run"));
  CHECK(get_instance(*env, ref).state == InstanceState::stopped);
  ApplyResult dropped = apply_instance(*env, with(absent));
  CHECK(dropped.change_state == ChangeState::changed);
  CHECK(dropped.roles == Changes{{"alice", ChangeState::dropped}});
  CHECK(dropped.databases == Changes{{"app", ChangeState::dropped}});
  CHECK(get_instance(*env, ref).state == InstanceState::stopped);
  start_instance(*env, ref);
  CHECK(count("SELECT count(*) FROM pg_roles WHERE rolname = 'alice'") == "0");
  CHECK(count("SELECT count(*) FROM pg_database WHERE datname = 'app'") == "0");
  ApplyResult again = apply_instance(*env, with(absent));
  CHECK(again.change_state == ChangeState::changed);  // stopped: the instance's own change
  CHECK(again.roles == Changes{{"alice", ChangeState::unchanged}});

  // A failure on the way still stops an instance started for it.
  CHECK_THROWS(apply_instance(*env, with(R"("state": "stopped", "databases": [{"name": "x", "owner": "nobody"}])")));
  CHECK(get_instance(*env, ref).state == InstanceState::stopped);

  // The items' state: a manifest's word, named by its path; indices stay right past an absent item.
  CHECK_THROWS_WITH_AS(with(R"("roles": [{"name": "x", "state": "gone"}])"), doctest::Contains("'roles[0].state'"), InvalidSpec);
  CHECK_THROWS_WITH_AS(with(R"("roles": [{"name": "x", "state": "absent"}, {"name": ""}])"), doctest::Contains("'roles[1].name'"),
                       InvalidSpec);
  CHECK_THROWS_WITH_AS(with(R"("databases": [{"state": "absent"}])"), doctest::Contains("'databases[0].name'"), InvalidSpec);
  CHECK_FALSE(env.shown("Apply-Canary-7e1"));
  drop_instance(*env, ref);
}
