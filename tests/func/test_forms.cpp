// Every public operation in every form (issue 12, item 3): blocking, start_… with a callback, and async_…
// with use_future, with use_awaitable (co_spawn on an io_context of the test) and with asio::deferred, on
// real instances; the five outcomes must agree. tests/unit/check_forms.sh checks that each form of each
// operation declared in include/pglift is called by a test of tests/func (all of them here, today).
// Plain instances: suite 'func'; the Patroni operations on a real cluster: the test cases named
// "Patroni", suite 'patroni'.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <future>
#include <type_traits>

#include "etcd_fixture.hpp"
#include "pglift/async.hpp"
#include "pglift/cluster.hpp"

namespace asio = boost::asio;
using namespace pglift;
using namespace std::chrono_literals;

namespace {

struct Unit {
  bool operator==(const Unit&) const = default;
};
template <class R>
using Value = std::conditional_t<std::is_void_v<R>, Unit, R>;
template <class R>
struct CallbackFor {
  using type = Callback<R>;
};
template <>
struct CallbackFor<void> {
  using type = Callback<>;
};
template <class R>
using CallbackOf = typename CallbackFor<R>::type;

constexpr int forms = 5;
const char* const form_names[forms] = {"blocking", "callback", "use_future", "use_awaitable", "deferred"};
/// Bounds every wait: an operation that never completes fails the test instead of hanging it.
constexpr auto completion_deadline = 600s;

template <class R>
struct Outcome {
  std::optional<Value<R>> value{};
  std::exception_ptr error{};
};

/// A completion handler for void(std::exception_ptr[, R]) fulfilling a promise.
template <class R>
auto fulfil(std::promise<Value<R>>& promise) {
  return [&promise](std::exception_ptr e, auto... r) {
    if (e) {
      promise.set_exception(e);
    } else {
      if constexpr (sizeof...(r) == 0) promise.set_value(Unit{});
      else promise.set_value(std::move(r)...);
    }
  };
}

/// Runs one operation in each form i = 0..4 (`before(i)`, the form, `after(i)`): `blocking(i)`,
/// `start(i, callback)` and `async(i, token)`; i lets a mutation take other arguments in each form.
template <class R, class B, class S, class A>
std::vector<Outcome<R>> in_every_form(B blocking, S start, A async, const std::function<void(int)>& before = {},
                                      const std::function<void(int)>& after = {}) {
  std::vector<Outcome<R>> outcomes(forms);
  for (int i = 0; i < forms; ++i) {
    INFO("form: " << form_names[i]);
    if (before) before(i);
    std::promise<Value<R>> promise;
    auto result = promise.get_future();
    try {
      switch (i) {
        case 0:
          if constexpr (std::is_void_v<R>) {
            blocking(i);
            promise.set_value(Unit{});
          } else {
            promise.set_value(blocking(i));
          }
          break;
        case 1: {
          Operation op = start(i, CallbackOf<R>(fulfil<R>(promise)));
          CHECK(static_cast<bool>(op));
          break;
        }
        case 2: {
          auto f = async(i, asio::use_future);
          REQUIRE(f.wait_for(completion_deadline) == std::future_status::ready);
          if constexpr (std::is_void_v<R>) {
            f.get();
            promise.set_value(Unit{});
          } else {
            promise.set_value(f.get());
          }
          break;
        }
        case 3: {
          asio::io_context io;
          asio::co_spawn(
              io,
              [&async, i]() -> asio::awaitable<R> {
                auto op = async(i, asio::use_awaitable);  // named: no temporary in the co_await (g++ 12)
                co_return co_await std::move(op);
              },
              fulfil<R>(promise));
          io.run();  // returns once the coroutine ended: the operation's work guard holds it till then
          break;
        }
        case 4: {
          auto deferred = async(i, asio::deferred);
          std::move(deferred)(fulfil<R>(promise));
          break;
        }
      }
    } catch (...) {
      promise.set_exception(std::current_exception());
    }
    REQUIRE(result.wait_for(completion_deadline) == std::future_status::ready);
    try {
      outcomes[i].value.emplace(result.get());
    } catch (...) {
      outcomes[i].error = std::current_exception();
    }
    if (after) after(i);
  }
  return outcomes;
}

std::string what(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown exception";
  }
}

/// The values of five successful outcomes (a failure fails the test, naming the form).
template <class R>
std::vector<Value<R>> values(const std::vector<Outcome<R>>& outcomes) {
  std::vector<Value<R>> v;
  for (int i = 0; i < forms; ++i) {
    if (outcomes[i].error) FAIL(form_names[i] << " failed: " << what(outcomes[i].error));
    v.push_back(*outcomes[i].value);
  }
  return v;
}

/// The error codes of five failed outcomes (a success, or an exception not a pglift::Error: "none").
template <class R>
std::vector<std::string> codes(const std::vector<Outcome<R>>& outcomes) {
  std::vector<std::string> v;
  for (const auto& o : outcomes) {
    std::string code = "none";
    if (o.error) try {
        std::rethrow_exception(o.error);
      } catch (const Error& e) {
        code = to_string(e.code());
      } catch (...) {
      }
    v.push_back(code);
  }
  return v;
}

/// Every form gave what the blocking form gave, as `key` sees it.
template <class V, class Key>
void agree(const std::vector<V>& v, Key key) {
  REQUIRE(v.size() == forms);
  for (int i = 1; i < forms; ++i) {
    INFO("form: " << form_names[i]);
    CHECK(key(v[i]) == key(v[0]));
  }
}
/// Every form failed with `code`.
void failed_with(const std::vector<std::string>& v, ErrorCode code) {
  for (int i = 0; i < forms; ++i) {
    INFO("form: " << form_names[i]);
    CHECK(v[i] == to_string(code));
  }
}

InstanceRef named(const std::string& text) { return InstanceRef::parse(text); }
bool running(Context& ctx, const std::string& name) {
  return instance_status(ctx, named(name)).postgresql == RunStatus::running;
}
ConfValue text(const std::string& s) { return ConfValue(s); }

}  // namespace

TEST_CASE("every instance operation in every form agrees: create, drop, reads, state changes, configuration, apply") {
  Env env;
  Context& ctx = *env;

  // create and drop: five instances, one per form (created stopped: quicker).
  auto created = values(in_every_form<Instance>(
      [&](int i) {
        auto s = spec("c" + std::to_string(i), free_port());
        s.state = InstanceState::stopped;
        return create_instance(ctx, s);
      },
      [&](int i, auto done) {
        auto s = spec("c" + std::to_string(i), free_port());
        s.state = InstanceState::stopped;
        return start_create_instance(ctx, s, CreateOptions{}, std::move(done));
      },
      [&](int i, auto token) {
        auto s = spec("c" + std::to_string(i), free_port());
        s.state = InstanceState::stopped;
        return async_create_instance(ctx, s, CreateOptions{}, token);
      }));
  for (int i = 0; i < forms; ++i) {
    CHECK(created[i].name == "c" + std::to_string(i));
    CHECK(fs::exists(env.datadir("c" + std::to_string(i)) / "PG_VERSION"));
  }
  agree(created, [](const Instance& i) { return std::make_tuple(i.version, i.state, i.data_checksums.value_or(false)); });
  values(in_every_form<void>(
      [&](int i) { drop_instance(ctx, named("c" + std::to_string(i)), DropOptions{}); },
      [&](int i, auto done) { return start_drop_instance(ctx, named("c" + std::to_string(i)), DropOptions{}, std::move(done)); },
      [&](int i, auto token) { return async_drop_instance(ctx, named("c" + std::to_string(i)), DropOptions{}, token); },
      {}, [&](int i) { CHECK_FALSE(fs::exists(env.datadir("c" + std::to_string(i)))); }));
  // The overloads without options, once each.
  create_instance(ctx, spec("c9", free_port()));
  async_drop_instance(ctx, named("c9"), asio::use_future).get();
  CHECK(env.nothing_in_srv());

  const int port = free_port();
  create_instance(ctx, spec("main", port));
  const InstanceRef main_ref = named("main");

  // --- reads --------------------------------------------------------------------------------------
  agree(values(in_every_form<Instance>([&](int) { return get_instance(ctx, main_ref); },
                                       [&](int, auto done) { return start_get_instance(ctx, main_ref, std::move(done)); },
                                       [&](int, auto token) { return async_get_instance(ctx, main_ref, token); })),
        [](const Instance& i) { return i.to_json(); });
  failed_with(codes(in_every_form<Instance>([&](int) { return get_instance(ctx, named("missing")); },
                                            [&](int, auto done) { return start_get_instance(ctx, named("missing"), std::move(done)); },
                                            [&](int, auto token) { return async_get_instance(ctx, named("missing"), token); })),
              ErrorCode::not_found);
  using List = std::vector<InstanceListItem>;
  auto lists = values(in_every_form<List>([&](int) { return list_instances(ctx); },
                                          [&](int, auto done) { return start_list_instances(ctx, std::nullopt, std::move(done)); },
                                          [&](int, auto token) { return async_list_instances(ctx, std::nullopt, token); }));
  agree(lists, [](const List& l) { return pglift::to_json(l); });
  REQUIRE(lists[0].size() == 1);
  CHECK(lists[0][0].name == "main");
  agree(values(in_every_form<InstanceStatus>([&](int) { return instance_status(ctx, main_ref); },
                                             [&](int, auto done) { return start_instance_status(ctx, main_ref, std::move(done)); },
                                             [&](int, auto token) { return async_instance_status(ctx, main_ref, token); })),
        [](const InstanceStatus& s) { return std::make_pair(s.postgresql, s.pid); });
  using EnvVars = std::map<std::string, std::string>;
  auto envs = values(in_every_form<EnvVars>([&](int) { return instance_env(ctx, main_ref); },
                                            [&](int, auto done) { return start_instance_env(ctx, main_ref, std::move(done)); },
                                            [&](int, auto token) { return async_instance_env(ctx, main_ref, token); }));
  agree(envs, [](const EnvVars& e) { return e; });
  CHECK(envs[0].at("PGPORT") == std::to_string(port));
  auto parameters =
      values(in_every_form<ConfParameters>([&](int) { return instance_parameters(ctx, main_ref); },
                                           [&](int, auto done) { return start_instance_parameters(ctx, main_ref, std::move(done)); },
                                           [&](int, auto token) { return async_instance_parameters(ctx, main_ref, token); }));
  agree(parameters, [](const ConfParameters& p) { return p; });
  CHECK(parameters[0].count("shared_buffers"));
  auto texts = values(in_every_form<std::string>(
      [&](int) { return instance_parameters_text(ctx, main_ref); },
      [&](int, auto done) { return start_instance_parameters_text(ctx, main_ref, std::move(done)); },
      [&](int, auto token) { return async_instance_parameters_text(ctx, main_ref, token); }));
  agree(texts, [](const std::string& t) { return t; });
  CHECK(texts[0] == parameters_text(parameters[0]));
  auto logs = values(in_every_form<fs::path>([&](int) { return instance_log_file(ctx, main_ref); },
                                             [&](int, auto done) { return start_instance_log_file(ctx, main_ref, std::move(done)); },
                                             [&](int, auto token) { return async_instance_log_file(ctx, main_ref, token); }));
  agree(logs, [](const fs::path& p) { return p; });
  CHECK(fs::exists(logs[0]));
  auto resolved = values(in_every_form<InstanceRef>(
      [&](int i) { return resolve_instance(ctx, i % 2 ? std::optional<std::string>("main") : std::nullopt); },
      [&](int i, auto done) {
        return start_resolve_instance(ctx, i % 2 ? std::optional<std::string>("main") : std::nullopt, std::move(done));
      },
      [&](int i, auto token) { return async_resolve_instance(ctx, i % 2 ? std::optional<std::string>("main") : std::nullopt, token); }));
  agree(resolved, [](const InstanceRef& r) { return r.str(); });
  CHECK(resolved[0].str() == "15/main");

  {  // The file reads' blocking forms run on the calling thread, also a library thread (a callback), where
     // the other blocking forms are refused (they would wait for the thread they block).
    std::promise<std::string> from_callback;
    auto seen = from_callback.get_future();
    start_instance_status(ctx, main_ref, [&](std::exception_ptr e, InstanceStatus) {
      try {
        if (e) std::rethrow_exception(e);
        std::string r = instance_env(ctx, main_ref).at("PGPORT") + " " + resolve_instance(ctx, "main").str();
        r += " " + std::to_string(instance_parameters(ctx, main_ref).size()) + " " + instance_log_file(ctx, main_ref).string();
        try {
          get_instance(ctx, main_ref);
          r += " get ran";
        } catch (const Error& x) {
          r += std::string(" get: ") + to_string(x.code());
        }
        from_callback.set_value(r);
      } catch (...) {
        from_callback.set_exception(std::current_exception());
      }
    });
    REQUIRE(seen.wait_for(completion_deadline) == std::future_status::ready);
    CHECK(seen.get() == std::to_string(port) + " 15/main " + std::to_string(parameters[0].size()) + " " + logs[0].string() +
                            " get: internal");
  }

  // Patroni operations on a plain instance: refused alike in every form (their successes: the Patroni case).
  failed_with(codes(in_every_form<void>([&](int) { promote_instance(ctx, main_ref); },
                                        [&](int, auto done) { return start_promote_instance(ctx, main_ref, std::move(done)); },
                                        [&](int, auto token) { return async_promote_instance(ctx, main_ref, token); })),
              ErrorCode::state);
  failed_with(codes(in_every_form<PatroniCredentials>(
                  [&](int) { return patroni_credentials(ctx, main_ref); },
                  [&](int, auto done) { return start_patroni_credentials(ctx, main_ref, std::move(done)); },
                  [&](int, auto token) { return async_patroni_credentials(ctx, main_ref, token); })),
              ErrorCode::state);
  failed_with(codes(in_every_form<fs::path>([&](int) { return patroni_log_file(ctx, main_ref); },
                                            [&](int, auto done) { return start_patroni_log_file(ctx, main_ref, std::move(done)); },
                                            [&](int, auto token) { return async_patroni_log_file(ctx, main_ref, token); })),
              ErrorCode::state);

  // --- state changes ------------------------------------------------------------------------------
  auto ensure = [&](bool want_running) {
    if (running(ctx, "main") != want_running) {
      if (want_running) start_instance(ctx, main_ref);
      else stop_instance(ctx, main_ref);
    }
  };
  values(in_every_form<void>([&](int) { stop_instance(ctx, main_ref, StopMode::fast); },
                             [&](int, auto done) { return start_stop_instance(ctx, main_ref, StopMode::fast, std::move(done)); },
                             [&](int, auto token) { return async_stop_instance(ctx, main_ref, StopMode::fast, token); },
                             [&](int) { ensure(true); }, [&](int) { CHECK_FALSE(running(ctx, "main")); }));
  values(in_every_form<void>([&](int) { start_instance(ctx, main_ref); },
                             [&](int, auto done) { return start_start_instance(ctx, main_ref, std::move(done)); },
                             [&](int, auto token) { return async_start_instance(ctx, main_ref, token); },
                             [&](int) { ensure(false); }, [&](int) { CHECK(running(ctx, "main")); }));
  values(in_every_form<void>([&](int) { start_instance(ctx, main_ref, StartOptions{}); },
                             [&](int, auto done) { return start_start_instance(ctx, main_ref, StartOptions{}, std::move(done)); },
                             [&](int, auto token) { return async_start_instance(ctx, main_ref, StartOptions{}, token); },
                             [&](int) { ensure(false); }, [&](int) { CHECK(running(ctx, "main")); }));
  std::optional<int> pid;
  values(in_every_form<void>([&](int) { restart_instance(ctx, main_ref, StopMode::fast); },
                             [&](int, auto done) { return start_restart_instance(ctx, main_ref, StopMode::fast, std::move(done)); },
                             [&](int, auto token) { return async_restart_instance(ctx, main_ref, StopMode::fast, token); },
                             [&](int) { pid = instance_status(ctx, main_ref).pid; },
                             [&](int) {
                               auto now = instance_status(ctx, main_ref).pid;
                               CHECK(now.has_value());
                               CHECK(now != pid);
                             }));
  std::string loaded;
  values(in_every_form<void>([&](int) { reload_instance(ctx, main_ref); },
                             [&](int, auto done) { return start_reload_instance(ctx, main_ref, std::move(done)); },
                             [&](int, auto token) { return async_reload_instance(ctx, main_ref, token); },
                             [&](int) { loaded = sql(ctx, "main", "SELECT pg_conf_load_time()"); },
                             [&](int) { CHECK(sql(ctx, "main", "SELECT pg_conf_load_time()") != loaded); }));

  // --- configuration ------------------------------------------------------------------------------
  auto mb = [](int n) { return std::to_string(n) + "MB"; };
  auto configured = values(in_every_form<ConfigurationResult>(
      [&](int i) { return configure_instance(ctx, main_ref, {{"work_mem", text(mb(i + 1))}}); },
      [&](int i, auto done) {
        return start_configure_instance(ctx, main_ref, {{"work_mem", text(mb(i + 1))}}, std::move(done));
      },
      [&](int i, auto token) { return async_configure_instance(ctx, main_ref, {{"work_mem", text(mb(i + 1))}}, token); }, {},
      [&](int i) { CHECK(sql(ctx, "main", "SHOW work_mem") == mb(i + 1)); }));
  for (int i = 0; i < forms; ++i) {
    INFO("form: " << form_names[i]);
    CHECK(configured[i].changes.at("work_mem").second == std::optional<ConfValue>(text(mb(i + 1))));
    CHECK(configured[i].reloaded);
  }
  {  // the token form's dry run (OpOptions): nothing changed
    auto dry = async_configure_instance(ctx, main_ref, {{"work_mem", text("64MB")}}, OpOptions{.dry_run = true}, asio::use_future).get();
    CHECK(dry.changes.count("work_mem"));
    CHECK_FALSE(dry.reloaded);
    CHECK(sql(ctx, "main", "SHOW work_mem") == mb(forms));
  }
  auto edited = [&](int i) { return instance_parameters_text(ctx, main_ref) + "work_mem = '" + mb(20 + i) + "'\n"; };
  auto by_text = values(in_every_form<ConfigurationResult>(
      [&](int i) { return configure_instance_text(ctx, main_ref, edited(i)); },
      [&](int i, auto done) { return start_configure_instance_text(ctx, main_ref, edited(i), std::move(done)); },
      [&](int i, auto token) { return async_configure_instance_text(ctx, main_ref, edited(i), token); }, {},
      [&](int i) { CHECK(sql(ctx, "main", "SHOW work_mem") == mb(20 + i)); }));
  for (int i = 0; i < forms; ++i) {
    INFO("form: " << form_names[i]);
    CHECK(by_text[i].changes.size() == 1);
    CHECK(by_text[i].reloaded);
  }
  {  // the same text again: no change, nothing reloaded; a bad line: InvalidSpec naming it
    auto same = async_configure_instance_text(ctx, main_ref, instance_parameters_text(ctx, main_ref), asio::use_future).get();
    CHECK(same.changes.empty());
    CHECK_FALSE(same.reloaded);
    failed_with(codes(in_every_form<ConfigurationResult>(
                    [&](int) { return configure_instance_text(ctx, main_ref, "include 'x.conf'\n"); },
                    [&](int, auto done) { return start_configure_instance_text(ctx, main_ref, "include 'x.conf'\n", std::move(done)); },
                    [&](int, auto token) { return async_configure_instance_text(ctx, main_ref, "include 'x.conf'\n", token); })),
                ErrorCode::invalid_spec);
  }

  // --- alter and apply ----------------------------------------------------------------------------
  auto changes = [&](int i) {
    InstanceChanges c;
    c.settings["maintenance_work_mem"] = text(mb(64 + i));
    return c;
  };
  auto altered = values(in_every_form<ApplyResult>(
      [&](int i) { return alter_instance(ctx, main_ref, changes(i)); },
      [&](int i, auto done) { return start_alter_instance(ctx, main_ref, changes(i), ApplyOptions{}, std::move(done)); },
      [&](int i, auto token) { return async_alter_instance(ctx, main_ref, changes(i), ApplyOptions{}, token); }, {},
      [&](int i) { CHECK(sql(ctx, "main", "SHOW maintenance_work_mem") == mb(64 + i)); }));
  agree(altered, [](const ApplyResult& r) { return std::make_pair(r.change_state, r.diff.size()); });
  CHECK(altered[0].change_state == ChangeState::changed);
  auto manifest = [&](int i) {
    InstanceManifest m;
    m.spec = spec("main", port);
    m.spec.settings["effective_cache_size"] = text(mb(128 + i));
    return m;
  };
  auto applied = values(in_every_form<ApplyResult>(
      [&](int i) { return apply_instance(ctx, manifest(i)); },
      [&](int i, auto done) { return start_apply_instance(ctx, manifest(i), ApplyOptions{}, std::move(done)); },
      [&](int i, auto token) { return async_apply_instance(ctx, manifest(i), ApplyOptions{}, token); }, {},
      [&](int i) { CHECK(sql(ctx, "main", "SHOW effective_cache_size") == mb(128 + i)); }));
  agree(applied, [](const ApplyResult& r) { return r.change_state; });
  CHECK(applied[0].change_state == ChangeState::changed);

  // --- pg_hba records -----------------------------------------------------------------------------
  auto record = [](int i) {
    HbaRecord r;
    r.connection = HbaConnection{"host", "10." + std::to_string(i) + ".0.0/16", std::nullopt};
    r.method = "scram-sha-256";
    return std::vector<HbaRecord>{r};
  };
  agree(values(in_every_form<HbaResult>(
            [&](int i) { return add_hba_records(ctx, main_ref, record(i)); },
            [&](int i, auto done) { return start_add_hba_records(ctx, main_ref, record(i), HbaOptions{}, std::move(done)); },
            [&](int i, auto token) { return async_add_hba_records(ctx, main_ref, record(i), HbaOptions{}, token); })),
        [](const HbaResult& r) { return std::make_tuple(r.added.size(), r.removed.size(), r.changed, r.reloaded); });
  agree(values(in_every_form<HbaResult>(
            [&](int i) { return remove_hba_records(ctx, main_ref, record(i)); },
            [&](int i, auto done) { return start_remove_hba_records(ctx, main_ref, record(i), HbaOptions{}, std::move(done)); },
            [&](int i, auto token) { return async_remove_hba_records(ctx, main_ref, record(i), HbaOptions{}, token); })),
        [](const HbaResult& r) { return std::make_tuple(r.added.size(), r.removed.size(), r.changed, r.reloaded); });

  stop_instance(ctx, main_ref);
  drop_instance(ctx, main_ref);
  CHECK(env.nothing_in_srv());
}

TEST_CASE("every role and database operation in every form agrees") {
  Env env;
  Context& ctx = *env;
  create_instance(ctx, spec("main", free_port()));
  const InstanceRef main_ref = named("main");
  auto name = [](const char* base, int i) { return base + std::to_string(i); };

  // --- roles --------------------------------------------------------------------------------------
  values(in_every_form<void>(
      [&](int i) { create_role(ctx, main_ref, RoleSpec{.name = name("r", i), .login = true}); },
      [&](int i, auto done) { return start_create_role(ctx, main_ref, RoleSpec{.name = name("r", i), .login = true}, std::move(done)); },
      [&](int i, auto token) { return async_create_role(ctx, main_ref, RoleSpec{.name = name("r", i), .login = true}, token); }, {},
      [&](int i) { CHECK(get_role(ctx, main_ref, name("r", i)).login); }));
  agree(values(in_every_form<Role>([&](int) { return get_role(ctx, main_ref, "r0"); },
                                   [&](int, auto done) { return start_get_role(ctx, main_ref, "r0", std::move(done)); },
                                   [&](int, auto token) { return async_get_role(ctx, main_ref, "r0", token); })),
        [](const Role& r) { return pglift::to_json(r); });
  using Roles = std::vector<Role>;
  auto roles = values(in_every_form<Roles>([&](int) { return list_roles(ctx, main_ref); },
                                           [&](int, auto done) { return start_list_roles(ctx, main_ref, std::move(done)); },
                                           [&](int, auto token) { return async_list_roles(ctx, main_ref, token); }));
  agree(roles, [](const Roles& r) { return pglift::to_json(r); });
  CHECK(std::count_if(roles[0].begin(), roles[0].end(), [](const Role& r) { return r.name.starts_with('r'); }) >= forms);
  values(in_every_form<void>(
      [&](int i) { alter_role(ctx, main_ref, name("r", i), RoleChanges{.createdb = true}); },
      [&](int i, auto done) { return start_alter_role(ctx, main_ref, name("r", i), RoleChanges{.createdb = true}, std::move(done)); },
      [&](int i, auto token) { return async_alter_role(ctx, main_ref, name("r", i), RoleChanges{.createdb = true}, token); }, {},
      [&](int i) { CHECK(get_role(ctx, main_ref, name("r", i)).createdb); }));

  // --- databases ----------------------------------------------------------------------------------
  auto created = values(in_every_form<Database>(
      [&](int i) { return create_database(ctx, main_ref, DatabaseSpec{.name = name("d", i), .owner = std::string("r0")}); },
      [&](int i, auto done) {
        return start_create_database(ctx, main_ref, DatabaseSpec{.name = name("d", i), .owner = std::string("r0")}, std::move(done));
      },
      [&](int i, auto token) {
        return async_create_database(ctx, main_ref, DatabaseSpec{.name = name("d", i), .owner = std::string("r0")}, token);
      }));
  for (int i = 0; i < forms; ++i) CHECK(created[i].name == name("d", i));
  agree(created, [](const Database& d) { return d.owner; });
  agree(values(in_every_form<Database>([&](int) { return get_database(ctx, main_ref, "d0"); },
                                       [&](int, auto done) { return start_get_database(ctx, main_ref, "d0", std::move(done)); },
                                       [&](int, auto token) { return async_get_database(ctx, main_ref, "d0", token); })),
        [](const Database& d) { return d.to_json(); });
  auto settings = [&](int i) {
    return DatabaseSpec{.name = name("d", i), .settings = DatabaseSettings{{"work_mem", std::string("3MB")}}};
  };
  auto altered = values(in_every_form<Database>(
      [&](int i) { return alter_database(ctx, main_ref, settings(i)); },
      [&](int i, auto done) { return start_alter_database(ctx, main_ref, settings(i), std::move(done)); },
      [&](int i, auto token) { return async_alter_database(ctx, main_ref, settings(i), token); }));
  agree(altered, [](const Database& d) { return d.settings; });
  CHECK(altered[0].settings.at("work_mem") == "3MB");
  using Items = std::vector<DatabaseListItem>;
  const DatabaseSelection few{.databases = {"d0", "d1"}};
  auto listed = values(in_every_form<Items>([&](int) { return list_databases(ctx, main_ref, few); },
                                            [&](int, auto done) { return start_list_databases(ctx, main_ref, few, std::move(done)); },
                                            [&](int, auto token) { return async_list_databases(ctx, main_ref, few, token); }));
  agree(listed, [](const Items& items) {
    std::vector<std::string> names;
    for (const auto& item : items) names.push_back(item.name + "/" + item.owner);
    return names;
  });
  CHECK(listed[0].size() == 2);
  const DatabaseSelection one{.databases = {"d0"}};
  auto results = values(in_every_form<SqlResults>(
      [&](int) { return run_sql(ctx, main_ref, "SELECT current_database() AS db, 42 AS answer", one); },
      [&](int, auto done) { return start_run_sql(ctx, main_ref, "SELECT current_database() AS db, 42 AS answer", one, std::move(done)); },
      [&](int, auto token) { return async_run_sql(ctx, main_ref, "SELECT current_database() AS db, 42 AS answer", one, token); }));
  agree(results, [](const SqlResults& r) { return pglift::to_json(r); });
  REQUIRE(results[0].count("d0"));
  CHECK(results[0].at("d0").rows.at(0).at(1) == std::optional<std::string>("42"));
  CHECK(sql(ctx, "main", "CREATE TABLE t (x int); GRANT SELECT ON t TO r1") == "");
  auto privileges = values(in_every_form<Privileges>(
      [&](int) { return database_privileges(ctx, main_ref, {"postgres"}, {"r1"}, false); },
      [&](int, auto done) { return start_database_privileges(ctx, main_ref, {"postgres"}, {"r1"}, false, std::move(done)); },
      [&](int, auto token) { return async_database_privileges(ctx, main_ref, {"postgres"}, {"r1"}, false, token); }));
  agree(privileges, [](const Privileges& p) { return p.to_json(); });
  CHECK(privileges[0].privileges.size() == 1);
  auto everywhere = values(in_every_form<Privileges>(
      [&](int) { return instance_privileges(ctx, main_ref, {"r1"}, false); },
      [&](int, auto done) { return start_instance_privileges(ctx, main_ref, {"r1"}, false, std::move(done)); },
      [&](int, auto token) { return async_instance_privileges(ctx, main_ref, {"r1"}, false, token); }));
  agree(everywhere, [](const Privileges& p) { return p.to_json(); });
  CHECK(everywhere[0].to_json() == privileges[0].to_json());  // t is only in postgres
  values(in_every_form<void>(
      [&](int i) { drop_database(ctx, main_ref, name("d", i), false); },
      [&](int i, auto done) { return start_drop_database(ctx, main_ref, name("d", i), false, std::move(done)); },
      [&](int i, auto token) { return async_drop_database(ctx, main_ref, name("d", i), false, token); }, {},
      [&](int i) { CHECK_THROWS_AS(get_database(ctx, main_ref, name("d", i)), NotFound); }));

  values(in_every_form<void>(
      [&](int i) { drop_role(ctx, main_ref, name("r", i), RoleDropOptions{.drop_owned = true}); },
      [&](int i, auto done) { return start_drop_role(ctx, main_ref, name("r", i), RoleDropOptions{.drop_owned = true}, std::move(done)); },
      [&](int i, auto token) { return async_drop_role(ctx, main_ref, name("r", i), RoleDropOptions{.drop_owned = true}, token); }, {},
      [&](int i) { CHECK_THROWS_AS(get_role(ctx, main_ref, name("r", i)), NotFound); }));

  drop_instance(ctx, main_ref);
}

TEST_CASE("a create cancelled through the token's cancellation slot reverts what it did") {
  Env env;
  asio::cancellation_signal signal;
  std::atomic<bool> initializing{false};
  env.on_event = [&](const Event& e) {
    if (auto* p = std::get_if<ProgressRecord>(&e); p && p->title == "initializing PostgreSQL instance") initializing = true;
  };
  auto future = async_create_instance(*env, spec("cancelled", free_port()), CreateOptions{},
                                      asio::bind_cancellation_slot(signal.slot(), asio::use_future));
  REQUIRE(eventually(60s, [&] { return initializing.load() || future.wait_for(0s) == std::future_status::ready; }));
  signal.emit(asio::cancellation_type::terminal);
  REQUIRE(future.wait_for(completion_deadline) == std::future_status::ready);
  CHECK_THROWS_AS(future.get(), Cancelled);
  CHECK_FALSE(fs::exists(env.datadir("cancelled")));
  CHECK(list_instances(*env).empty());
  auto left = processes_mentioning(env.prefix.string() + "/");
  CHECK_MESSAGE(left.empty(), command_lines(left));
}

namespace {


/// A replica Patroni reports streaming (or running, for older Patroni versions).
bool replicating(Context& ctx, const std::string& name) {
  try {
    const Instance pg1 = get_instance(ctx, named("pg1"));  // named: a range-for over a temporary's member dangles
    for (const auto& m : pg1.patroni->cluster_members)
      if (m.name == name) return m.role != "leader" && (m.state == "streaming" || m.state == "running");
  } catch (const Error&) {
  }
  return false;
}

std::string leader(Context& ctx) {
  const Instance pg1 = get_instance(ctx, named("pg1"));
  for (const auto& m : pg1.patroni->cluster_members)
    if (m.role == "leader") return m.name;
  return {};
}

}  // namespace

TEST_CASE("Patroni: every cluster operation in every form agrees (pause, resume, switchover, failover, promote, credentials, log; pglift::Cluster's)") {
  EtcdServer etcd;
  Env env(patroni_settings(etcd));
  Context& ctx = *env;
  const std::string cluster = "forms" + std::to_string(::getpid() % 100000);
  create_instance(ctx, member("pg1", cluster, "127.0.1.1"));
  create_instance(ctx, member("pg2", cluster, "127.0.1.2"));
  const InstanceRef pg1 = named("pg1");

  // Secrets: compared, never printed (a failing CHECK shows a boolean only).
  auto credentials = values(in_every_form<PatroniCredentials>(
      [&](int) { return patroni_credentials(ctx, pg1); },
      [&](int, auto done) { return start_patroni_credentials(ctx, pg1, std::move(done)); },
      [&](int, auto token) { return async_patroni_credentials(ctx, pg1, token); }));
  for (int i = 1; i < forms; ++i) {
    INFO("form: " << form_names[i]);
    CHECK((credentials[i].to_json() == credentials[0].to_json()));
  }
  CHECK_FALSE(credentials[0].replication.password.empty());
  for (const auto* role : {&credentials[0].superuser, &credentials[0].replication, &credentials[0].rewind})
    CHECK_FALSE(env.shown(role->password));  // returned, never logged
  auto logs = values(in_every_form<fs::path>([&](int) { return patroni_log_file(ctx, pg1); },
                                             [&](int, auto done) { return start_patroni_log_file(ctx, pg1, std::move(done)); },
                                             [&](int, auto token) { return async_patroni_log_file(ctx, pg1, token); }));
  agree(logs, [](const fs::path& p) { return p; });
  CHECK(fs::exists(logs[0]));

  auto paused = [&] { return get_instance(ctx, pg1).patroni->is_paused.value_or(false); };
  values(in_every_form<void>([&](int) { patroni_pause(ctx, pg1); },
                             [&](int, auto done) { return start_patroni_pause(ctx, pg1, true, std::move(done)); },
                             [&](int, auto token) { return async_patroni_pause(ctx, pg1, token); },
                             [&](int) {
                               if (paused()) patroni_resume(ctx, pg1);
                             },
                             [&](int) { CHECK(paused()); }));
  values(in_every_form<void>([&](int) { patroni_resume(ctx, pg1); },
                             [&](int, auto done) { return start_patroni_resume(ctx, pg1, std::move(done)); },
                             [&](int, auto token) { return async_patroni_resume(ctx, pg1, token); },
                             [&](int) {
                               if (!paused()) patroni_pause(ctx, pg1);
                             },
                             [&](int) { CHECK_FALSE(paused()); }));

  // Topology changes: each form moves the leadership to the other member, once it replicates again.
  auto other = [&] {
    const std::string next = leader(ctx) == "pg1" ? "pg2" : "pg1";
    REQUIRE_MESSAGE(eventually(60s, [&] { return replicating(ctx, next); }), next << " does not replicate after 60 s");
    return next;
  };
  std::string target;
  auto switched = values(in_every_form<TopologyResult>(
      [&](int) { return patroni_switchover(ctx, pg1, SwitchoverOptions{.candidate = target}); },
      [&](int, auto done) { return start_patroni_switchover(ctx, pg1, SwitchoverOptions{.candidate = target}, std::move(done)); },
      [&](int, auto token) { return async_patroni_switchover(ctx, pg1, SwitchoverOptions{.candidate = target}, token); },
      [&](int) { target = other(); }, [&](int) { CHECK(leader(ctx) == target); }));
  for (int i = 0; i < forms; ++i) {
    INFO("form: " << form_names[i]);
    CHECK(switched[i].new_leader != switched[i].previous_leader);
    CHECK_FALSE(switched[i].scheduled);
  }
  auto failed_over = values(in_every_form<TopologyResult>(
      [&](int) { return patroni_failover(ctx, pg1, target); },
      [&](int, auto done) { return start_patroni_failover(ctx, pg1, target, std::move(done)); },
      [&](int, auto token) { return async_patroni_failover(ctx, pg1, target, token); },
      [&](int) { target = other(); }, [&](int) { CHECK(leader(ctx) == target); }));
  for (int i = 0; i < forms; ++i) {
    INFO("form: " << form_names[i]);
    CHECK(failed_over[i].new_leader != failed_over[i].previous_leader);
  }
  values(in_every_form<void>([&](int) { promote_instance(ctx, named(target)); },
                             [&](int, auto done) { return start_promote_instance(ctx, named(target), std::move(done)); },
                             [&](int, auto token) { return async_promote_instance(ctx, named(target), token); },
                             [&](int) { target = other(); }, [&](int) { CHECK(leader(ctx) == target); }));

  // --- pglift::Cluster: its observations and actions in every form; reinit and restart_all (slow) in
  // fewer forms, each still run and checked ---
  auto member_names = [](const Cluster& c) {
    std::vector<std::string> v;
    for (const auto& m : c.members()) v.push_back(m.name);
    std::sort(v.begin(), v.end());
    return v;
  };
  auto shape = [&](const Cluster& c) { return std::make_tuple(c.name(), c.leader(), member_names(c)); };
  const std::vector<std::string> both{"pg1", "pg2"};
  auto observed = values(in_every_form<Cluster>([&](int) { return Cluster::of(ctx, pg1); },
                                                [&](int, auto done) { return start_cluster_of(ctx, pg1, std::move(done)); },
                                                [&](int, auto token) { return async_cluster_of(ctx, pg1, token); }));
  agree(observed, shape);
  CHECK(observed[0].name() == cluster);
  CHECK(observed[0].source() == "rest");
  CHECK(observed[0].leader() == std::optional<std::string>(leader(ctx)));
  CHECK(member_names(observed[0]) == both);
  auto from_keys = values(in_every_form<Cluster>([&](int) { return Cluster::from_dcs(ctx, cluster); },
                                                 [&](int, auto done) { return start_cluster_from_dcs(ctx, cluster, std::move(done)); },
                                                 [&](int, auto token) { return async_cluster_from_dcs(ctx, cluster, token); }));
  agree(from_keys, shape);
  CHECK(from_keys[0].source() == "dcs");
  CHECK(shape(from_keys[0]) == shape(observed[0]));
  failed_with(codes(in_every_form<Cluster>([&](int) { return Cluster::from_dcs(ctx, cluster + "-none"); },
                                           [&](int, auto done) { return start_cluster_from_dcs(ctx, cluster + "-none", std::move(done)); },
                                           [&](int, auto token) { return async_cluster_from_dcs(ctx, cluster + "-none", token); })),
              ErrorCode::not_found);

  // refresh: a designated, not yet observed, cluster (through a member, or by name) gets its snapshot.
  Cluster c;
  values(in_every_form<void>([&](int) { c.refresh(ctx); }, [&](int, auto done) { return c.start_refresh(ctx, std::move(done)); },
                             [&](int, auto token) { return async_cluster_refresh(ctx, c, token); },
                             [&](int i) {
                               c = i % 2 ? Cluster::named(cluster) : Cluster::through(pg1);
                               CHECK(c.members().empty());
                             },
                             [&](int i) {
                               CHECK(shape(c) == shape(observed[0]));
                               CHECK(c.source() == (i % 2 ? "dcs" : "rest"));
                             }));
  c = Cluster::through(pg1);

  // pause (resume's callback form is start_pause(false)): the snapshot and the members agree.
  values(in_every_form<void>([&](int) { c.pause(ctx); }, [&](int, auto done) { return c.start_pause(ctx, true, std::move(done)); },
                             [&](int, auto token) { return async_cluster_pause(ctx, c, token); },
                             [&](int) {
                               if (paused()) c.resume(ctx);
                             },
                             [&](int) {
                               CHECK(c.paused());
                               CHECK(paused());
                             }));
  values(in_every_form<void>([&](int) { c.resume(ctx); }, [&](int, auto done) { return c.start_pause(ctx, false, std::move(done)); },
                             [&](int, auto token) { return async_cluster_resume(ctx, c, token); },
                             [&](int) {
                               if (!paused()) c.pause(ctx);
                             },
                             [&](int) {
                               CHECK_FALSE(c.paused());
                               CHECK_FALSE(paused());
                             }));

  // switchover and failover: the leadership moves each time, in the snapshot too.
  auto cluster_switched = values(in_every_form<TopologyResult>(
      [&](int) { return c.switchover(ctx, SwitchoverOptions{.candidate = target}); },
      [&](int, auto done) { return c.start_switchover(ctx, SwitchoverOptions{.candidate = target}, std::move(done)); },
      [&](int, auto token) { return async_cluster_switchover(ctx, c, SwitchoverOptions{.candidate = target}, token); },
      [&](int) { target = other(); },
      [&](int) {
        CHECK(leader(ctx) == target);
        CHECK(c.leader() == std::optional<std::string>(target));
      }));
  for (int i = 0; i < forms; ++i) {
    INFO("form: " << form_names[i]);
    CHECK(cluster_switched[i].new_leader != cluster_switched[i].previous_leader);
    CHECK_FALSE(cluster_switched[i].scheduled);
  }
  auto cluster_failed_over = values(in_every_form<TopologyResult>(
      [&](int) { return c.failover(ctx, target); },
      [&](int, auto done) { return c.start_failover(ctx, target, std::move(done)); },
      [&](int, auto token) { return async_cluster_failover(ctx, c, target, token); }, [&](int) { target = other(); },
      [&](int) {
        CHECK(leader(ctx) == target);
        CHECK(c.leader() == std::optional<std::string>(target));
      }));
  for (int i = 0; i < forms; ++i) {
    INFO("form: " << form_names[i]);
    CHECK(cluster_failed_over[i].new_leader != cluster_failed_over[i].previous_leader);
  }

  // restart of the replica: a new postmaster there, the leader's untouched.
  auto postmaster_start = [&](const std::string& name) {
    const std::string t = sql(ctx, name, "SELECT extract(epoch FROM pg_postmaster_start_time())");
    REQUIRE_MESSAGE(!t.starts_with("ERROR"), name << ": " << t);
    return std::stod(t);
  };
  std::string replica, lead;
  double replica_before = 0, leader_before = 0;
  values(in_every_form<void>([&](int) { c.restart(ctx, replica); },
                             [&](int, auto done) { return c.start_restart(ctx, replica, std::move(done)); },
                             [&](int, auto token) { return async_cluster_restart(ctx, c, replica, token); },
                             [&](int) {
                               lead = leader(ctx);
                               replica = other();
                               replica_before = postmaster_start(replica);
                               leader_before = postmaster_start(lead);
                             },
                             [&](int) {
                               CHECK(postmaster_start(replica) > replica_before);
                               CHECK(postmaster_start(lead) == leader_before);
                               CHECK(c.leader() == std::optional<std::string>(lead));
                             }));

  // restart_all (slow: once, as a future): both restarted, the leader last, the leadership kept.
  lead = leader(ctx);
  replica = other();
  replica_before = postmaster_start(replica);
  leader_before = postmaster_start(lead);
  {
    auto f = async_cluster_restart_all(ctx, c, asio::use_future);
    REQUIRE(f.wait_for(completion_deadline) == std::future_status::ready);
    CHECK_NOTHROW(f.get());
  }
  const double replica_restarted = postmaster_start(replica), leader_restarted = postmaster_start(lead);
  CHECK(replica_restarted > replica_before);
  CHECK(leader_restarted > leader_before);
  CHECK(replica_restarted < leader_restarted);
  CHECK(c.leader() == std::optional<std::string>(lead));

  // reinit of the replica (slow: the callback form, then the token form as deferred): cloned anew, it
  // streams again and has what the leader wrote before.
  auto reinitialized = [&](int round) {
    CHECK(postmaster_start(replica) > replica_before);
    bool streaming = false;
    for (const auto& member : c.members())
      if (member.name == replica) streaming = member.health == std::optional<std::string>("streaming");
    CHECK_MESSAGE(streaming, c.to_json());
    CHECK(eventually(30s, [&] { return sql(ctx, replica, "SELECT count(*) FROM before_reinit") == std::to_string(round); }));
  };
  CHECK(sql(ctx, lead, "CREATE TABLE before_reinit (x int); INSERT INTO before_reinit VALUES (1)") == "");
  replica_before = postmaster_start(replica);
  {
    std::promise<std::exception_ptr> outcome;
    Operation op = c.start_reinit(ctx, replica, [&](std::exception_ptr e) { outcome.set_value(e); });
    CHECK(static_cast<bool>(op));
    auto f = outcome.get_future();
    REQUIRE(f.wait_for(completion_deadline) == std::future_status::ready);
    const std::exception_ptr e = f.get();
    REQUIRE_MESSAGE(!e, what(e));
  }
  reinitialized(1);
  CHECK(sql(ctx, lead, "INSERT INTO before_reinit VALUES (2)") == "");
  replica_before = postmaster_start(replica);
  {
    std::promise<void> outcome;
    auto deferred = async_cluster_reinit(ctx, c, replica, asio::deferred);
    std::move(deferred)([&](std::exception_ptr e) {
      if (e) outcome.set_exception(e);
      else outcome.set_value();
    });
    auto f = outcome.get_future();
    REQUIRE(f.wait_for(completion_deadline) == std::future_status::ready);
    CHECK_NOTHROW(f.get());
  }
  reinitialized(2);

  // remove, once the members are dropped: the keys gone (for the forms after the first, a cluster left
  // as keys only: its configuration put back).
  drop_instance(ctx, named("pg2"));
  drop_instance(ctx, pg1);
  const std::string prefix = "/service/" + cluster + "/";
  auto etcdctl = [&](const std::string& args) {
    return command_output("env -i ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=http://" + etcd.endpoint() + " " + args + " 2>&1");
  };
  Cluster gone;
  values(in_every_form<void>([&](int) { gone.remove(ctx); }, [&](int, auto done) { return gone.start_remove(ctx, std::move(done)); },
                             [&](int, auto token) { return async_cluster_remove(ctx, gone, token); },
                             [&](int i) {
                               if (i > 0) {
                                 CHECK(etcdctl("put " + prefix + "config '{\"ttl\": 10}'").find("OK") != std::string::npos);
                               }
                               CHECK_FALSE(etcd.keys(prefix).empty());
                               gone = Cluster::from_dcs(ctx, cluster);  // a snapshot to be emptied
                             },
                             [&](int) {
                               CHECK(etcd.keys(prefix).empty());
                               CHECK(gone.members().empty());
                               CHECK_FALSE(gone.leader());
                             }));
  CHECK_THROWS_AS(Cluster::from_dcs(ctx, cluster), NotFound);
  CHECK(env.nothing_in_srv());
}
