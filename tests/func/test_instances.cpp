#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <boost/asio/use_future.hpp>
#include <sys/wait.h>

#include <atomic>
#include <future>

#include "fixture.hpp"
#include "pglift/async.hpp"
#include "pglift/cluster.hpp"
#include "pglift/patroni_config.hpp"

using namespace pglift;
using namespace std::chrono_literals;

TEST_CASE("the whole lifecycle of a plain instance: create, get, list, env, stop, start, restart, reload, drop") {
  Env env;
  const int port = free_port();
  Instance created = create_instance(*env, spec("main", port));
  CHECK(created.state == InstanceState::started);
  CHECK(env.logged("initializing PostgreSQL instance"));
  CHECK(env.logged("creating role 'replication' on instance 15/main"));

  Instance i = get_instance(*env, InstanceRef::parse("main"));
  CHECK(i.name == "main");
  CHECK(i.version == "15");
  CHECK(i.port == port);
  CHECK(i.state == InstanceState::started);
  CHECK(i.locale == std::optional<std::string>("C"));
  CHECK(i.encoding == std::optional<std::string>("UTF8"));
  CHECK(i.data_checksums == std::optional<bool>(false));
  CHECK_FALSE(i.pending_restart);
  CHECK(i.data_directory == env.datadir("main"));
  CHECK(i.wal_directory == env.srv() / "pgsql/15/main/wal");
  CHECK(i.settings.count("port") == 0);
  CHECK(std::get<std::string>(i.settings.at("cluster_name")) == "main");
  CHECK(fs::is_symlink(i.data_directory / "pg_wal"));

  auto list = list_instances(*env);
  REQUIRE(list.size() == 1);
  CHECK(list[0].status == RunStatus::running);
  CHECK(list[0].port == port);
  {
    // A blocking call made while nothing else runs is run on the caller's thread, and list and status
    // block on nothing: a context that only lists starts no thread at all (no I/O thread, no pool).
    const auto before = thread_count();
    Context lister(env.ctx->settings());
    CHECK(list_instances(lister).size() == 1);
    CHECK(instance_status(lister, InstanceRef::parse("main")).postgresql == RunStatus::running);
    CHECK(thread_count() == before);
    // A get keeps its connection, whose idle timer needs a runner once the call is over: the I/O thread.
    CHECK(get_instance(lister, InstanceRef::parse("main")).state == InstanceState::started);
    CHECK(thread_count() > before);
  }

  // Not a Patroni member, in a site without Patroni: a state of the instance, as with Patroni enabled.
  CHECK_THROWS_AS(Cluster::of(*env, InstanceRef::parse("main")), StateError);
  CHECK_THROWS_AS(Cluster::through(InstanceRef::parse("main")).refresh(*env), StateError);
  CHECK_THROWS_AS(PatroniConfig::load(*env, InstanceRef::parse("main")), StateError);

  auto vars = instance_env(*env, InstanceRef::parse("15/main"));
  CHECK(vars.at("PGPORT") == std::to_string(port));
  CHECK(vars.at("PGDATA") == i.data_directory.string());
  CHECK(vars.at("PATH").starts_with("/usr/lib/postgresql/15/bin:"));

  auto hba = std::ifstream(i.data_directory / "pg_hba.conf");
  std::string hba_text((std::istreambuf_iterator<char>(hba)), {});
  CHECK(hba_text.find("trust") == std::string::npos);
  CHECK((fs::status(i.data_directory / "pg_hba.conf").permissions() & fs::perms::others_all) == fs::perms::none);

  auto pid = instance_status(*env, InstanceRef::parse("main")).pid;
  REQUIRE(pid);
  stop_instance(*env, InstanceRef::parse("main"));
  CHECK_FALSE(process_alive(*pid));
  CHECK(instance_status(*env, InstanceRef::parse("main")).postgresql == RunStatus::not_running);
  Instance stopped = get_instance(*env, InstanceRef::parse("main"));
  CHECK(stopped.state == InstanceState::stopped);
  CHECK(stopped.port == port);
  CHECK(stopped.data_checksums == std::optional<bool>(false));  // from pg_controldata
  CHECK(env.logged("is not running, information about locale"));
  stop_instance(*env, InstanceRef::parse("main"));  // already stopped: a warning, not an error
  CHECK(env.logged("instance 15/main is already stopped"));

  start_instance(*env, InstanceRef::parse("main"));
  auto first = instance_status(*env, InstanceRef::parse("main")).pid;
  restart_instance(*env, InstanceRef::parse("main"));
  auto second = instance_status(*env, InstanceRef::parse("main")).pid;
  REQUIRE(first);
  REQUIRE(second);
  CHECK(*first != *second);
  CHECK_FALSE(process_alive(*first));
  reload_instance(*env, InstanceRef::parse("main"));
  CHECK(fs::exists(instance_log_file(*env, InstanceRef::parse("main"))));
  // PostgreSQL handles SIGHUP asynchronously: follow the log until the line shows up (bounded).
  std::string logs;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  read_instance_logs(*env, InstanceRef::parse("main"), true, [&](std::string_view c) {
    logs += c;
    return logs.find("received SIGHUP, reloading configuration files") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline;
  });
  CHECK(logs.find("received SIGHUP, reloading configuration files") != std::string::npos);

  drop_instance(*env, InstanceRef::parse("main"));
  CHECK_FALSE(process_alive(*second));
  CHECK_FALSE(fs::exists(i.data_directory));
  CHECK(env.nothing_in_srv());
  CHECK(processes_mentioning(i.data_directory.string()).empty());
  CHECK_THROWS_AS(get_instance(*env, InstanceRef::parse("main")), NotFound);
}

TEST_CASE("a create on a port in use fails naming the port and leaves nothing behind") {
  Env env;
  PortHolder taken;
  try {
    create_instance(*env, spec("main", taken.port));
    FAIL("expected InvalidSpec");
  } catch (const InvalidSpec& e) {
    CHECK(e.field() == "port");
    CHECK(std::string(e.what()).find(std::to_string(taken.port)) != std::string::npos);
  }
  CHECK(env.nothing_in_srv());
}

TEST_CASE("a bad name is refused before anything is done") {
  Env env;
  CHECK_THROWS_WITH_AS(create_instance(*env, spec("bad/name", free_port())),
                       "invalid value 'bad/name' for field 'name': instance name must not contain slashes", InvalidSpec);
  CHECK_THROWS_AS(create_instance(*env, spec("bad-name", free_port())), InvalidSpec);
  auto s = spec("main", free_port());
  s.version = "9";
  CHECK_THROWS_WITH_AS(create_instance(*env, s), doctest::Contains("field 'version'"), InvalidSpec);
  CHECK(env.nothing_in_srv());
}

TEST_CASE("an initdb failure reverts everything") {
  Env env;
  auto s = spec("main", free_port());
  s.locale = "xx_XX.bogus";
  CHECK_THROWS_AS(create_instance(*env, s), CommandError);
  CHECK(env.logged("reverting 'initializing PostgreSQL instance'"));
  CHECK(env.nothing_in_srv());
}

TEST_CASE("a start failure reverts everything: no data directory, no process, and the error shows the log") {
  Env env;
  auto s = spec("main", free_port());
  s.settings["shared_buffers"] = std::string("not a size");
  try {
    create_instance(*env, s);
    FAIL("expected a start failure");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("shared_buffers") != std::string::npos);
  }
  CHECK(env.nothing_in_srv());
  CHECK(processes_mentioning(env.datadir("main").string()).empty());
}

TEST_CASE("without drop_on_error a failed create keeps what it made") {
  Env env;
  auto s = spec("main", free_port());
  s.settings["shared_buffers"] = std::string("not a size");
  CHECK_THROWS(create_instance(*env, s, CreateOptions{.drop_on_error = false}));
  CHECK(fs::exists(env.datadir("main") / "PG_VERSION"));
}

TEST_CASE("an existing instance is not created again; an unknown one is not found") {
  Env env;
  auto s = spec("main", free_port());
  s.state = InstanceState::stopped;
  Instance i = create_instance(*env, s);
  CHECK(i.state == InstanceState::stopped);
  CHECK(list_instances(*env).at(0).status == RunStatus::not_running);
  CHECK_THROWS_WITH_AS(create_instance(*env, s), "instance 15/main already exists", AlreadyExists);
  CHECK_THROWS_WITH_AS(get_instance(*env, InstanceRef::parse("other")), "instance 'other' not found", NotFound);
  CHECK_THROWS_AS(start_instance(*env, InstanceRef::parse("15/other")), NotFound);
  drop_instance(*env, InstanceRef::parse("main"));  // a stopped instance
  CHECK(env.nothing_in_srv());
}

TEST_CASE("a second concurrent mutation of one instance is refused; different instances run in parallel") {
  Env env;
  std::promise<void> a_done, b_done;
  start_create_instance(*env, spec("a", free_port()), {}, [&](std::exception_ptr e, Instance) {
    e ? a_done.set_exception(e) : a_done.set_value();
  });
  start_create_instance(*env, spec("b", free_port()), {}, [&](std::exception_ptr e, Instance) {
    e ? b_done.set_exception(e) : b_done.set_value();
  });
  // While "a" is being created, its lock is held: another mutation of it is refused at once.
  CHECK_THROWS_WITH_AS(create_instance(*env, spec("a", free_port())), "another operation is in progress", Busy);
  a_done.get_future().get();
  b_done.get_future().get();
  CHECK(list_instances(*env).size() == 2);

  std::promise<void> restarted;
  start_restart_instance(*env, InstanceRef::parse("a"), StopMode::fast,
                         [&](std::exception_ptr e) { e ? restarted.set_exception(e) : restarted.set_value(); });
  CHECK_THROWS_AS(stop_instance(*env, InstanceRef::parse("a")), Busy);
  stop_instance(*env, InstanceRef::parse("b"));  // another instance: not blocked
  restarted.get_future().get();
  drop_instance(*env, InstanceRef::parse("a"));
  drop_instance(*env, InstanceRef::parse("b"));
  CHECK(env.nothing_in_srv());
}

TEST_CASE("cancelling a create reverts it") {
  Env env;
  std::promise<void> initializing;
  bool once = false;
  env.on_event = [&](const Event& e) {
    if (auto* p = std::get_if<ProgressRecord>(&e); p && p->title == "initializing PostgreSQL instance" && !once) {
      once = true;
      initializing.set_value();
    }
  };
  std::promise<void> done;
  Operation op = start_create_instance(
      *env, spec("main", free_port()), {}, [&](std::exception_ptr e, Instance) { e ? done.set_exception(e) : done.set_value(); },
      OpOptions{.tag = 42});
  initializing.get_future().get();
  std::this_thread::sleep_for(100ms);  // let initdb get going: the point is to cancel mid-way
  op.cancel();
  CHECK_THROWS_AS(done.get_future().get(), Cancelled);
  CHECK(env.logged("reverting 'initializing PostgreSQL instance'"));
  CHECK(env.nothing_in_srv());
  std::lock_guard l(env.mutex);
  for (const auto& e : env.events)
    if (auto* r = std::get_if<LogRecord>(&e); r && r->message.find("initializing") != std::string::npos) CHECK(r->op_tag == 42);
}

TEST_CASE("cancelling a create while PostgreSQL starts reverts it: no data directory, no process") {
  Env env;
  std::promise<void> starting;
  bool once = false;
  env.on_event = [&](const Event& e) {
    if (auto* p = std::get_if<ProgressRecord>(&e); p && p->title.starts_with("starting PostgreSQL") && !once) {
      once = true;
      starting.set_value();
    }
  };
  std::promise<void> done;
  Operation op = start_create_instance(*env, spec("main", free_port()), {},
                                       [&](std::exception_ptr e, Instance) { e ? done.set_exception(e) : done.set_value(); });
  starting.get_future().get();
  op.cancel();  // during the readiness wait: an Asio wait, not a subprocess
  CHECK_THROWS_AS(done.get_future().get(), Cancelled);
  CHECK(env.logged("reverting 'starting PostgreSQL 15/main'"));
  CHECK(env.nothing_in_srv());
  CHECK(processes_mentioning(env.datadir("main").string()).empty());
}

TEST_CASE("Asio completion tokens: use_future") {
  Env env;
  auto created = async_create_instance(*env, spec("main", free_port()), CreateOptions{}, boost::asio::use_future);
  Instance i = created.get();
  auto got = async_get_instance(*env, InstanceRef::parse("main"), boost::asio::use_future).get();
  CHECK(got.port == i.port);
  auto listed = async_list_instances(*env, std::nullopt, boost::asio::use_future).get();
  CHECK(listed.size() == 1);
  async_drop_instance(*env, InstanceRef::parse("main"), boost::asio::use_future).get();
  CHECK(env.nothing_in_srv());
}

TEST_CASE("configuration changes of a running plain instance: reloaded and confirmed; restart-only ones reported") {
  Env env;
  create_instance(*env, spec("main", free_port()));
  auto ref = InstanceRef::parse("main");
  auto r = configure_instance(*env, ref, {{"work_mem", ConfValue(std::string("8MB"))}});
  REQUIRE(r.changes.count("work_mem"));
  CHECK_FALSE(r.changes.at("work_mem").first);
  CHECK(r.reloaded);
  CHECK(r.needs_restart.empty());
  CHECK(std::get<std::string>(instance_parameters(*env, ref).at("work_mem")) == "8MB");
  CHECK(env.logged("needs reload due to parameter changes: work_mem"));

  auto again = configure_instance(*env, ref, {{"work_mem", ConfValue(std::string("8MB"))}});
  CHECK(again.changes.empty());  // nothing to do, nothing done

  auto restart = configure_instance(*env, ref, {{"max_connections", ConfValue(std::int64_t{50})}});
  CHECK(restart.needs_restart == std::vector<std::string>{"max_connections"});
  CHECK(restart.pending_restart);
  CHECK(env.logged("needs restart due to parameter changes: max_connections"));
  restart_instance(*env, ref);
  CHECK_FALSE(get_instance(*env, ref).pending_restart);

  auto removed = configure_instance(*env, ref, {{"work_mem", std::nullopt}});
  CHECK(removed.changes.count("work_mem"));
  CHECK(instance_parameters(*env, ref).count("work_mem") == 0);
  CHECK_THROWS_AS(configure_instance(*env, ref, {{"bad name", ConfValue(true)}}), InvalidSpec);
  CHECK_THROWS_AS(promote_instance(*env, ref), StateError);  // not a standby
  CHECK_THROWS_AS(patroni_switchover(*env, ref), StateError);  // not a Patroni member
  drop_instance(*env, ref);
}

namespace {

/// A create's outcome as a word, for counting winners and losers.
std::string outcome(const std::function<void()>& create) {
  try {
    create();
    return "created";
  } catch (const Busy&) {
    return "busy";
  } catch (const AlreadyExists&) {
    return "exists";
  } catch (const std::exception& e) {
    return std::string("error: ") + e.what();
  }
}

/// The winner of a create race is intact: it has the table written after its creation, restarts, and
/// still has it.
void check_intact(Context& ctx, const std::string& name) {
  CHECK(sql(ctx, name, "CREATE TABLE winner AS SELECT 'kept' AS v") == "");
  restart_instance(ctx, InstanceRef::parse(name));
  CHECK(sql(ctx, name, "SELECT v FROM winner") == "kept");
}

}  // namespace

TEST_CASE("a blocking call runs its operation on the caller's thread; another thread's call meanwhile is not held up") {
  Env env;
  create_instance(*env, spec("b", free_port()));
  const auto before = thread_count();
  Context ctx(env.ctx->settings());  // nothing runs on it: the first blocking call borrows the I/O role
  std::atomic<bool> created{false};
  std::string failure;
  std::thread creator([&] {
    failure = outcome([&] { create_instance(ctx, spec("a", free_port())); });  // initdb, start: seconds
    created = true;
  });
  // Once the create is under way, a call from this thread: the creator hands the role over to an I/O
  // thread at its next handler, and both go on there; the get does not wait for the create.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!fs::exists(env.datadir("a")) && !created && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  REQUIRE(fs::exists(env.datadir("a")));
  CHECK(get_instance(ctx, InstanceRef::parse("b")).state == InstanceState::started);
  CHECK_FALSE(created.load());
  CHECK(thread_count() > before + 1);  // the creator and the I/O thread
  creator.join();
  CHECK(failure == "created");  // initdb and the postmaster, forked on the creator's thread, were not killed
  CHECK(get_instance(ctx, InstanceRef::parse("a")).state == InstanceState::started);
  drop_instance(ctx, InstanceRef::parse("a"));
  drop_instance(*env, InstanceRef::parse("b"));
  CHECK(env.nothing_in_srv());
}

TEST_CASE("concurrent creates of one name from several threads: exactly one succeeds, the winner keeps its data") {
  Env env;
  std::vector<std::unique_ptr<Context>> contexts;  // one each: several I/O threads, real parallelism
  for (int i = 0; i < 4; ++i) contexts.push_back(std::make_unique<Context>(env.ctx->settings()));
  std::vector<std::string> outcomes(contexts.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < contexts.size(); ++i)
    threads.emplace_back([&, i] { outcomes[i] = outcome([&] { create_instance(*contexts[i], spec("race", free_port())); }); });
  for (auto& t : threads) t.join();
  contexts.clear();
  CHECK_MESSAGE(std::count(outcomes.begin(), outcomes.end(), "created") == 1, outcomes[0] << " " << outcomes[1] << " "
                                                                                           << outcomes[2] << " " << outcomes[3]);
  for (const auto& o : outcomes) CHECK((o == "created" || o == "busy" || o == "exists"));
  check_intact(*env, "race");
  drop_instance(*env, InstanceRef::parse("race"));
  CHECK(env.nothing_in_srv());
}

TEST_CASE("concurrent creates of one name from two processes: the one past its checks holds the lock; the winner keeps its data") {
  // Forked before this process has any library thread.
  const fs::path prefix = Env::make_prefix();
  const fs::path marker = prefix / "child-checked";
  const int child_port = free_port();
  const std::string settings = Env::prefix_settings(prefix);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child pauses for 10 s between its existence checks and its first step: the window in which
    // the other process creates the same instance.
    ::setenv("LIBPGLIFT_TEST_HOOKS", "create.checked=sleep:10000", 1);
    int code = 3;
    try {
      Context ctx(Settings::from_documents({settings}), [&](const Event& e) {
        if (auto* r = std::get_if<LogRecord>(&e); r && r->message.starts_with("test hook create.checked")) std::ofstream(marker.string()) << "";
      });
      std::string o = outcome([&] { create_instance(ctx, spec("race", child_port)); });
      code = o == "created" ? 0 : o == "busy" || o == "exists" ? 1 : 2;
      if (code == 2) std::fprintf(stderr, "child: %s\n", o.c_str());
    } catch (...) {
    }
    std::fflush(nullptr);
    ::_exit(code);
  }
  Env env(prefix, "{}");
  REQUIRE(eventually(60s, [&] { return fs::exists(marker); }));
  const auto t0 = std::chrono::steady_clock::now();
  std::string mine = outcome([&] { create_instance(*env, spec("race", free_port())); });
  MESSAGE("this process's create took " << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count() << " ms");
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  const int theirs = WEXITSTATUS(status);
  MESSAGE("this process: " << mine << "; the paused child: exit " << theirs);
  CHECK(theirs != 2);
  CHECK((mine == "created") + (theirs == 0) == 1);
  check_intact(*env, "race");
  drop_instance(*env, InstanceRef::parse("race"));
  CHECK(env.nothing_in_srv());
}

TEST_CASE("create commits before it reads the instance back: a failed read-back keeps the created instance") {
  Env env;
  ::setenv("LIBPGLIFT_TEST_HOOKS", "observe=fail", 1);
  std::string o = outcome([&] { create_instance(*env, spec("main", free_port())); });
  ::unsetenv("LIBPGLIFT_TEST_HOOKS");
  CHECK(o == "created");
  CHECK(env.logged("could not read instance 15/main back after its creation"));
  CHECK_FALSE(env.logged("reverting"));
  Instance i = get_instance(*env, InstanceRef::parse("main"));
  CHECK(i.state == InstanceState::started);
  drop_instance(*env, InstanceRef::parse("main"));
}

TEST_CASE("the I/O thread never blocks: while an op waits on a SIGSTOPped postmaster, a get of another instance and a cancellation complete at once") {
  Env env;
  create_instance(*env, spec("a", free_port()));
  create_instance(*env, spec("b", free_port()));
  const pid_t a_pid = *instance_status(*env, InstanceRef::parse("a")).pid;
  // The postmaster of "a" is stopped right after the reload signal: the confirmation of the reload
  // then waits on a server that cannot fork a backend (libpq connect_timeout is 10 s).
  std::promise<void> stopped;
  bool once = false;
  env.on_event = [&](const Event& e) {
    if (auto* r = std::get_if<LogRecord>(&e); r && !once && r->message.find("15/a needs reload") != std::string::npos) {
      once = true;
      ::kill(a_pid, SIGSTOP);
      stopped.set_value();
    }
  };
  std::promise<void> done;
  Operation waiting = start_configure_instance(*env, InstanceRef::parse("a"), {{"work_mem", ConfValue(std::string("8MB"))}},
                                               [&](std::exception_ptr e, ConfigurationResult) {
                                                 e ? done.set_exception(e) : done.set_value();
                                               });
  stopped.get_future().get();
  std::this_thread::sleep_for(200ms);  // into the confirmation wait, on the stopped server
  auto t0 = std::chrono::steady_clock::now();
  Instance b = get_instance(*env, InstanceRef::parse("b"));
  auto get_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  CHECK(b.state == InstanceState::started);
  t0 = std::chrono::steady_clock::now();
  waiting.cancel();
  auto result = done.get_future();
  const bool cancelled_in_time = result.wait_for(3s) == std::future_status::ready;
  auto cancel_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  ::kill(a_pid, SIGCONT);
  MESSAGE("get of b: " << get_ms << " ms; cancellation: " << cancel_ms << " ms");
  CHECK_MESSAGE(get_ms < 3000, "a get of another instance waited " << get_ms << " ms");
  CHECK(cancelled_in_time);
  if (cancelled_in_time) CHECK_THROWS_AS(result.get(), Cancelled);
  else result.wait();
  drop_instance(*env, InstanceRef::parse("a"));
  drop_instance(*env, InstanceRef::parse("b"));
}

TEST_CASE("SQL quoting is libpq's: a replication role whose name needs quoting is created as named") {
  Env env(R"({"postgresql": {"replrole": "Repl_Role"}})");
  create_instance(*env, spec("main", free_port()));
  CHECK(sql(*env, "main", "SELECT rolreplication FROM pg_roles WHERE rolname = 'Repl_Role'") == "t");
  drop_instance(*env, InstanceRef::parse("main"));
}

TEST_CASE("get when local connections need a password: through libpq and the passfile, the same answers") {
  // get speaks the protocol itself when the server lets the superuser in without a password (peer, as
  // here by default), and goes through libpq when it asks for one: both must tell the same.
  fs::path prefix = Env::make_prefix();
  Env env(prefix, R"({"postgresql": {"auth": {"passfile": ")" + (prefix / "pgpass").string() + R"("}}})");
  create_instance(*env, spec("main", free_port()));
  const Instance peer = get_instance(*env, InstanceRef::parse("main"));
  REQUIRE(peer.locale);

  REQUIRE(sql(*env, "main", "ALTER ROLE postgres PASSWORD 'wire-test-pw'") == "");
  {
    std::ofstream(prefix / "pgpass") << "*:*:*:postgres:wire-test-pw\n";
    fs::permissions(prefix / "pgpass", fs::perms::owner_read | fs::perms::owner_write);
  }
  const fs::path hba = env.datadir("main") / "pg_hba.conf";
  std::string text;
  {
    std::ifstream in(hba);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Every local line asks for SCRAM now.
  for (std::size_t at; (at = text.find("peer map=pglift")) != std::string::npos;)
    text.replace(at, std::string("peer map=pglift").size(), "scram-sha-256");
  std::ofstream(hba) << text;
  reload_instance(*env, InstanceRef::parse("main"));
  REQUIRE(sql(*env, "main", "SELECT 1").find("password") != std::string::npos);  // peer no longer lets us in

  // In contexts of their own: env's keeps the connection of its first get, authenticated before pg_hba
  // changed (as any open session stays).
  std::vector<std::string> logged;
  auto get_fresh = [&] {
    Context fresh(env.ctx->settings(), [&logged](const Event& e) {
      if (auto* r = std::get_if<LogRecord>(&e)) logged.push_back(r->message);
    });
    return get_instance(fresh, InstanceRef::parse("main"));
  };
  auto was_logged = [&](const std::string& text) {
    return std::any_of(logged.begin(), logged.end(), [&](const std::string& m) { return m.find(text) != std::string::npos; });
  };
  const Instance scram = get_fresh();
  CHECK(scram.state == InstanceState::started);
  CHECK(scram.locale == peer.locale);
  CHECK(scram.encoding == peer.encoding);
  CHECK(scram.data_checksums == peer.data_checksums);
  CHECK(scram.pending_restart == peer.pending_restart);
  CHECK_FALSE(was_logged("did not answer"));

  // A wrong password: get still tells what the files say, and warns with libpq's reason.
  std::ofstream(prefix / "pgpass") << "*:*:*:postgres:not-the-password\n";
  const Instance refused = get_fresh();
  CHECK(refused.state == InstanceState::started);
  CHECK_FALSE(refused.locale);
  CHECK(was_logged("password authentication failed"));
  CHECK_FALSE(was_logged("not-the-password"));
  drop_instance(*env, InstanceRef::parse("main"));
}

TEST_CASE("a context keeps get's connection for the next get: one backend, reused, closed when idle, on stop and with the context") {
  Env env;
  create_instance(*env, spec("main", free_port()));
  const std::string ours = "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE application_name = 'pglift'";
  auto sessions = [&] { return sql(*env, "main", ours); };
  // The create's own read-back left its connection in env's context: closed after 2 s idle.
  CHECK(eventually(6s, [&] { return sessions().empty(); }));
  {
    Context polling(env.ctx->settings());
    Instance first = get_instance(polling, InstanceRef::parse("main"));
    REQUIRE(first.locale);
    const std::string backend = sessions();
    CHECK(backend.find(',') == std::string::npos);
    CHECK_FALSE(backend.empty());
    for (int i = 0; i < 5; ++i) CHECK(get_instance(polling, InstanceRef::parse("main")).locale == first.locale);
    CHECK(sessions() == backend);  // the same backend, five times over

    // Killed under it (as a restart would): the next get reconnects, and answers all the same.
    CHECK(sql(*env, "main", "SELECT pg_terminate_backend(" + backend + ")") == "t");
    CHECK(eventually(5s, [&] { return sessions() != backend; }));
    CHECK(get_instance(polling, InstanceRef::parse("main")).locale == first.locale);
    const std::string second = sessions();
    CHECK_FALSE(second.empty());
    CHECK(second != backend);

    // Idle for longer than the context keeps it: closed.
    CHECK(eventually(6s, [&] { return sessions().empty(); }));

    // A smart stop by the same context does not wait for it.
    get_instance(polling, InstanceRef::parse("main"));
    REQUIRE_FALSE(sessions().empty());
    const auto t0 = std::chrono::steady_clock::now();
    stop_instance(polling, InstanceRef::parse("main"), StopMode::smart);
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
    start_instance(polling, InstanceRef::parse("main"));
    get_instance(polling, InstanceRef::parse("main"));
    REQUIRE_FALSE(sessions().empty());
  }
  // The context is gone: so is its connection, said goodbye to (no "unexpected EOF" in the log).
  CHECK(eventually(5s, [&] { return sessions().empty(); }));
  drop_instance(*env, InstanceRef::parse("main"));
}

TEST_CASE("get of a running instance whose server refuses connections (smart shutdown) tells what its files say, with a warning") {
  Env env;
  create_instance(*env, spec("main", free_port()));
  auto vars = instance_env(*env, InstanceRef::parse("main"));
  std::string ci = "host=" + vars["PGHOST"] + " port=" + vars["PGPORT"] + " user=" + vars["PGUSER"] + " dbname=postgres";
  PGconn* held = PQconnectdb(ci.c_str());  // keeps a smart shutdown waiting, the postmaster refusing newcomers
  REQUIRE(PQstatus(held) == CONNECTION_OK);
  // The create's read-back connection, kept by the context (which would still answer: a smart shutdown
  // lets open sessions work), closes after 2 s idle: the get below must be a newcomer.
  CHECK(eventually(6s, [&] {
    return sql(*env, "main", "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pglift'") == "0";
  }));
  auto pid = instance_status(*env, InstanceRef::parse("main")).pid;
  REQUIRE(pid);
  REQUIRE(::kill(*pid, SIGTERM) == 0);  // smart shutdown
  CHECK(eventually(10s, [&] { return sql(*env, "main", "SELECT 1").find("shutting down") != std::string::npos; }));

  Instance i = get_instance(*env, InstanceRef::parse("main"));
  CHECK(i.state == InstanceState::started);
  CHECK_FALSE(i.locale);
  CHECK(std::get<std::string>(i.settings.at("cluster_name")) == "main");
  CHECK(env.logged("is running but its server did not answer"));

  PQfinish(held);
  CHECK(eventually(30s, [&] { return !process_alive(*pid); }));
  drop_instance(*env, InstanceRef::parse("main"));
  CHECK(env.nothing_in_srv());
}
// --- stream: the log stream as an operation -----------------------------------------------------------
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <condition_variable>
#include <mutex>

#include "pglift/streams.hpp"

TEST_CASE("the log stream: followed chunks of whole lines, held back by its gate, masked passwords, a cancel ends it") {
  Env env;
  InstanceSpec s = spec("main", free_port());
  s.settings["log_statement"] = ConfValue(std::string("all"));
  create_instance(*env, s);
  const auto ref = InstanceRef::parse("main");

  std::mutex mutex;
  std::condition_variable changed;
  std::string text;
  bool whole_lines = true;
  auto wait_for = [&](const std::string& needle) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 15s, [&] { return text.find(needle) != std::string::npos; });
  };
  StreamGate gate;
  boost::asio::cancellation_signal cancel;
  auto done = async_read_instance_logs(
      *env, ref, true,
      [&](std::string_view chunk) {
        std::lock_guard lock(mutex);
        if (!chunk.ends_with('\n')) whole_lines = false;
        text += chunk;
        changed.notify_all();
        return true;
      },
      gate, boost::asio::bind_cancellation_slot(cancel.slot(), boost::asio::use_future));

  sql(*env, "main", "SELECT 'first-marker'");
  REQUIRE(wait_for("statement: SELECT 'first-marker'"));
  sql(*env, "main", "CREATE ROLE canary_role PASSWORD 'canary-secret-4711'");
  REQUIRE(wait_for("canary_role"));

  // Held: what is logged meanwhile waits, then comes whole on release.
  gate.hold();
  CHECK(gate.held());
  sql(*env, "main", "SELECT 'held-marker'");
  const auto log = instance_log_file(*env, ref);
  CHECK(eventually(10s, [&] {
    std::ifstream in(log);
    return std::string((std::istreambuf_iterator<char>(in)), {}).find("held-marker") != std::string::npos;
  }));
  {
    std::unique_lock lock(mutex);
    // The file has the line; the stream must not hand it out while held (it had 200 ms to).
    CHECK_FALSE(changed.wait_for(lock, 200ms, [&] { return text.find("held-marker") != std::string::npos; }));
  }
  gate.release();
  CHECK_FALSE(gate.held());
  REQUIRE(wait_for("statement: SELECT 'held-marker'"));
  {
    std::lock_guard lock(mutex);
    CHECK(text.find("canary-secret-4711") == std::string::npos);
    CHECK(whole_lines);
  }

  cancel.emit(boost::asio::cancellation_type::terminal);
  REQUIRE(done.wait_for(10s) == std::future_status::ready);
  CHECK_THROWS_AS(done.get(), Cancelled);

  // Following until the chunk callback says no more: success.
  {
    std::promise<void> stopped;
    start_read_instance_logs(
        *env, ref, true, [](std::string_view) { return false; },
        [&](std::exception_ptr e) { e ? stopped.set_exception(e) : stopped.set_value(); });
    auto f = stopped.get_future();
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    f.get();
  }

  // Not following: the current content, then success.
  std::string all;
  std::promise<void> ended;
  start_read_instance_logs(
      *env, ref, false, [&](std::string_view c) { all += c; return true; },
      [&](std::exception_ptr e) { e ? ended.set_exception(e) : ended.set_value(); });
  auto finished = ended.get_future();
  REQUIRE(finished.wait_for(10s) == std::future_status::ready);
  finished.get();
  CHECK(all.find("statement: SELECT 'held-marker'") != std::string::npos);
  drop_instance(*env, ref);
}
// --- end stream ---
