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
