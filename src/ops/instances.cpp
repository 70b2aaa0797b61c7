// Instance operations: the coroutines, and their blocking and callback faces.
#include <unistd.h>

#include <algorithm>

#include "core/coro.hpp"
#include "core/files.hpp"
#include "core/psqlrc.hpp"
#include "core/system.hpp"
#include "core/test_hooks.hpp"
#include "core/text.hpp"
#include "ops/context_impl.hpp"
#include "ops/configure.hpp"
#include "ops/parameter_check.hpp"
#include "ops/lock.hpp"
#include "ops/instance_ops.hpp"
#include "ops/lookup.hpp"
#include "ops/stream_gate.hpp"
#include "ops/patroni_ops.hpp"
#include "ops/sql_objects.hpp"
#include "patroni/config.hpp"
#include "patroni/member.hpp"
#include "ops/transaction.hpp"
#include "pglift/operations.hpp"
#include "postgres/auth.hpp"
#include "postgres/conf.hpp"
#include "postgres/control.hpp"
#include "postgres/layout.hpp"
#include "postgres/session.hpp"
#include "proc/process.hpp"

namespace pglift {
namespace fs = std::filesystem;
using postgres::Layout;

namespace ops {
namespace {

/// Where pg_wal really is: initdb --waldir makes pg_wal a symlink.
fs::path wal_directory(const Layout& l) {
  std::error_code ec;
  fs::path pg_wal = l.datadir / "pg_wal";
  if (fs::is_symlink(pg_wal, ec)) {
    fs::path target = fs::read_symlink(pg_wal, ec);
    return target.is_absolute() ? target : l.datadir / target;
  }
  return pg_wal;
}

struct Observed {
  bool pending_restart = false;
  std::optional<std::string> locale, encoding;
  std::optional<bool> checksums;
};

Observed query_running(const Settings& settings, const Layout& l, int port, postgres::SessionCache* cache, int pid) {
  static const std::string sql =
      "SELECT coalesce((SELECT bool_or(pending_restart) FROM pg_settings), false), d.datcollate, d.datctype, "
      "pg_encoding_to_char(d.encoding), current_setting('data_checksums') "
      "FROM pg_database d WHERE d.datname = 'template1'";
  // Straight on the socket when it needs no password (loading libpq was most of a get's time), on the
  // connection the context kept from the previous get when there is one.
  auto rows = postgres::query_once(settings, l, port, sql, cache, pid);
  Observed o;
  if (rows.empty()) return o;
  const auto& r = rows.front();
  o.pending_restart = r[0] == "t";
  if (r[1] && r[1] == r[2]) o.locale = r[1];
  o.encoding = r[3];
  o.checksums = r[4] == "on";
  return o;
}

awaitable<std::optional<bool>> checksums_from_control(const core::Op& op, const Layout& l) {
  // Built outside the co_await: g++ 12 mis-compiles braced temporaries in coroutine frames.
  proc::Command cmd{.argv = {l.program("pg_controldata").string(), "-D", l.datadir.string()},
                    .env = {{std::string("LC_ALL"), std::string("C")}},
                    .timeout = std::chrono::seconds(30),
                    .log_target = "pglift.pg_controldata",
                    .check = false};
  auto r = co_await proc::run(op, std::move(cmd));
  if (r.status != 0) co_return std::nullopt;
  for (const auto& line : core::split(r.output, '\n'))
    if (line.starts_with("Data page checksum version:")) co_return core::trim(line.substr(27)) != "0";
  co_return std::nullopt;
}

/// What the files tell of an instance without asking the server: its identity, directories and port
/// (the running postmaster `pm`'s, as the caller read it; nullopt: not running).
Instance identity(const Settings& settings, const Layout& l, const std::optional<postgres::Postmaster>& pm) {
  Instance i;
  i.name = l.name;
  i.version = l.version;
  i.data_directory = l.datadir;
  i.wal_directory = wal_directory(l);
  i.port = port_of(settings, l, pm);
  return i;
}

}  // namespace

awaitable<Instance> observe(const core::Op& op, const Layout& l, bool warn_when_stopped) {
  co_await core::test_hook(op, "observe");
  auto pm = postgres::running_postmaster(l);  // once: its pid file and /proc, read for the port too
  Instance i = identity(op.settings, l, pm);
  const int port = i.port;
  if (pm) {
    // Files and libpq in parallel: the query waits on the server, the files on the disk.
    // A named closure: g++ 12 destroys a lambda holding class-type captures twice when it is a
    // temporary of a co_await expression.
    // A server that does not answer (starting, shutting down, restarting under Patroni) is reported
    // from its files, with a warning: get tells what it can rather than fail.
    auto query = [&settings = op.settings, cache = op.sessions, pid = pm->pid, l,
                  port]() -> std::pair<std::optional<Observed>, std::string> {
      try {
        return {query_running(settings, l, port, cache, pid), {}};
      } catch (const StateError& e) {
        return {std::nullopt, e.what()};
      }
    };
    auto [outcome, conf] = co_await (
        core::cancellable(op, query) &&
        core::blocking(op, [&] { return postgres::parse_conf(core::read_file(l.conf())); }));
    i.settings = std::move(conf);
    i.state = InstanceState::started;
    if (const auto& observed = outcome.first) {
      i.pending_restart = observed->pending_restart;
      i.locale = observed->locale;
      i.encoding = observed->encoding;
      i.data_checksums = observed->checksums;
    } else {
      op.warning("instance " + l.display() + " is running but its server did not answer (" +
                     std::string(core::trim(outcome.second)) +
                     "), information about locale, encoding and pending_restart may not be accurate",
                 "pglift.instances");
    }
  } else {
    if (warn_when_stopped)
      op.warning("instance " + l.display() +
                   " is not running, information about locale, encoding and pending_restart may not be accurate",
               "pglift.instances");
    i.settings = postgres::parse_conf(core::read_file(l.conf()));
    i.state = InstanceState::stopped;
    i.data_checksums = co_await checksums_from_control(op, l);
  }
  i.settings.erase("port");
  if (patroni::is_member(op.settings, l)) co_await patroni_member::observe(op, l, i);
  co_return i;
}

/// The result of a committed create. A failure to read it back (a server busy with something else, a
/// cancellation arriving now) must not fail, let alone revert, a create that succeeded: say so and
/// return what the create itself knows.
namespace {

awaitable<Instance> read_back(const core::Op& op, const Layout& l, InstanceState state) {
  try {
    co_return co_await observe(op, l, /*warn_when_stopped=*/false);
  } catch (const std::exception& e) {
    op.warning("could not read instance " + l.display() + " back after its creation: " + e.what(), "pglift.instances");
  }
  co_await asio::this_coro::reset_cancellation_state();
  Instance i = identity(op.settings, l, postgres::running_postmaster(l));
  i.state = state;
  co_return i;
}

awaitable<void> create_replication_role(const core::Op& op, const Layout& l, int port,
                                        const std::optional<std::string>& password) {
  const std::string role = *op.settings.postgresql.replrole;
  co_await core::blocking(op, [&] {
    postgres::Session s(postgres::conninfo(op.settings, l, port));
    std::string sql = "CREATE ROLE " + s.identifier(role) + " LOGIN REPLICATION IN ROLE pg_read_all_stats";
    if (password) sql += " PASSWORD " + s.literal(s.encrypt_password(*password, role));
    s.execute(sql);
    return 0;
  });
}

}  // namespace

void check_free(const Layout& l, int port) {
  if (!core::tcp_port_free(port)) throw InvalidSpec("port", std::to_string(port), "port " + std::to_string(port) + " already in use");
  // A server with the same port on our socket directory would make PostgreSQL refuse to start.
  std::error_code ec;
  if (fs::exists(l.socket_directory / (".s.PGSQL." + std::to_string(port) + ".lock"), ec))
    throw InvalidSpec("port", std::to_string(port),
                      "port " + std::to_string(port) + " already in use (socket in " + l.socket_directory.string() + ")");
}

awaitable<Instance> create(const core::Op& op, InstanceSpec spec, CreateOptions options) {
  spec.validate();
  const Settings& settings = op.settings;
  const std::string version = spec.version.value_or(settings.default_version());
  settings.version(version);
  Layout l = Layout::of(settings, spec.name, version);
  // The lock first, then the existence checks: another create of this name (thread or process) either
  // holds the lock (Busy) or has finished (AlreadyExists). Checked before the lock, a create could pass
  // its checks, wait, and then run initdb over the winner's directories and revert them away.
  InstanceLock lock(settings, l.qualname());
  if (postgres::exists(l)) throw AlreadyExists("instance " + l.display() + " already exists");
  std::error_code ec;
  for (const auto& dir : {l.datadir, l.waldir})
    if (fs::exists(dir, ec))
      throw AlreadyExists("directory " + dir.string() + " of instance " + l.display() + " already exists");
  co_await core::test_hook(op, "create.checked");
  int port = spec.port.value_or(5432);
  if (auto it = spec.settings.find("port"); it != spec.settings.end()) port = static_cast<int>(std::get<std::int64_t>(it->second));
  check_free(l, port);
  // Computed before any step so that a bad setting fails with nothing done.
  auto conf = postgres::compute_config(settings, l,
                                       {spec.locale.value_or(settings.postgresql.initdb.locale), port, spec.settings});
  auto auth = postgres::AuthMethods::of(settings, spec.auth);
  check_manifest_objects(settings, spec);
  if (spec.patroni) {
    if (!settings.patroni)
      throw InvalidSpec("patroni.cluster", spec.patroni->cluster, "Patroni is not enabled in site settings ('patroni' key)");
    co_await patroni_member::create(op, spec, options, l, port, conf);
    co_return co_await read_back(op, l, spec.state);
  }

  co_await transactional<bool>(op, options.drop_on_error, [&](Transaction& tx) -> awaitable<bool> {
    co_await tx.step(
        "initializing PostgreSQL instance",
        [&]() -> awaitable<void> {
          // What this call creates, it may undo; the directories were checked absent under the lock.
          core::make_dirs(l.datadir.parent_path(), 0750);
          core::make_dirs(l.waldir.parent_path(), 0750);
          // A named local, not a braced temporary: g++ 12 destroys aggregate temporaries of a co_await
          // expression twice.
          postgres::InitdbOptions initdb{
              spec.locale.value_or(settings.postgresql.initdb.locale),
              spec.encoding.value_or(settings.postgresql.initdb.encoding),
              spec.data_checksums.value_or(settings.postgresql.initdb.data_checksums.value_or(false)),
              spec.surole_password};
          co_await postgres::initdb(op, l, initdb);
        },
        "deleting PostgreSQL cluster",
        [&]() -> awaitable<void> {
          postgres::remove_files(settings, l);
          co_return;
        });
    co_await tx.step("configuring PostgreSQL instance", [&]() -> awaitable<void> {
      fs::rename(l.conf(), l.base_conf());
      core::write_file_atomic(l.conf(), postgres::render_managed_conf(l, conf), 0600);
      core::write_file_atomic(l.datadir / "pg_hba.conf", postgres::render_hba(settings, l, auth), 0600);
      core::write_file_atomic(l.datadir / "pg_ident.conf", postgres::render_ident(settings, l), 0600);
      core::write_file_atomic(l.psqlrc(), core::psqlrc_text(l.display()), 0600);
      co_return;
    });
    co_await tx.step(
        "starting PostgreSQL " + l.display(), [&]() -> awaitable<void> { co_await postgres::start(op, l); },
        "stopping PostgreSQL " + l.display(),
        [&]() -> awaitable<void> { co_await postgres::stop(op, l, StopMode::immediate); });
    if (settings.postgresql.replrole)
      co_await tx.step("creating role '" + *settings.postgresql.replrole + "' on instance " + l.display(),
                       [&]() -> awaitable<void> { co_await create_replication_role(op, l, port, spec.replrole_password); });
    co_await create_manifest_objects(op, tx, l, port, spec);
    if (spec.state == InstanceState::stopped)
      co_await tx.step("stopping PostgreSQL " + l.display(),
                       [&]() -> awaitable<void> { co_await postgres::stop(op, l, StopMode::fast); });
    co_return true;
  });
  // Committed: from here on nothing may undo the creation.
  co_return co_await read_back(op, l, spec.state);
}

awaitable<void> start(const core::Op& op, const Layout& l, const StartOptions& options) {
  if (patroni::is_member(op.settings, l)) co_return co_await patroni_member::start(op, l, options);
  if (postgres::running_postmaster(l)) {
    op.warning("instance " + l.display() + " is already started", "pglift.instances");
    co_return;
  }
  op.info("starting PostgreSQL " + l.display(), "pglift.instances");
  co_await postgres::start(op, l);
}

awaitable<void> stop(const core::Op& op, const Layout& l, StopMode mode) {
  // Patroni stops PostgreSQL its own way (a leader hands over first): the mode does not apply.
  if (patroni::is_member(op.settings, l)) co_return co_await patroni_member::stop(op, l);
  if (!postgres::running_postmaster(l)) {
    op.warning("instance " + l.display() + " is already stopped", "pglift.instances");
    co_return;
  }
  op.info("stopping PostgreSQL " + l.display(), "pglift.instances");
  co_await postgres::stop(op, l, mode);
}

awaitable<void> restart(const core::Op& op, const Layout& l, StopMode mode) {
  if (patroni::is_member(op.settings, l)) co_return co_await patroni_member::restart(op, l);
  op.info("restarting instance " + l.display(), "pglift.instances");
  if (postgres::running_postmaster(l)) co_await postgres::stop(op, l, mode);
  co_await postgres::start(op, l);
}

awaitable<void> drop(const core::Op& op, const Layout& l, const DropOptions& options) {
  if (patroni::is_member(op.settings, l)) co_return co_await patroni_member::drop(op, l, options);
  if (options.remove_cluster)
    throw StateError("instance " + l.display() + " is not managed by Patroni: there is no cluster to remove");
  op.info("dropping instance " + l.display(), "pglift.instances");
  co_await ops::stop(op, l, StopMode::immediate);
  core::crash_point(op, "drop: stopped");
  op.info("deleting PostgreSQL cluster", "pglift.instances");
  postgres::remove_files(op.settings, l);
  core::crash_point(op, "drop: files removed");
}

namespace {
void check_parameter_names(const ParameterChanges& changes) {
  for (const auto& [name, _] : changes)
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '.'; }))
      throw InvalidSpec("parameter", name, "not a valid PostgreSQL parameter name");
}
}  // namespace

ConfParameters managed_parameters(const Settings& settings, const Layout& l) {
  if (patroni::is_member(settings, l)) return patroni_member::parameters(settings, l);
  return postgres::parse_conf(core::read_file(l.conf()));
}

awaitable<ConfigurationResult> configure(const core::Op& op, const Layout& l, const ParameterChanges& changes) {
  check_parameter_names(changes);
  co_await check_parameters(op, l, changes);  // before any file is touched
  if (patroni::is_member(op.settings, l)) co_return co_await patroni_member::configure(op, l, changes);
  ConfParameters params = postgres::parse_conf(core::read_file(l.conf()));
  ConfigurationResult result;
  result.changes = apply_changes(params, changes);
  if (result.changes.empty()) co_return result;
  if (op.dry_run) {
    co_await simulated(op, l, result);
    co_return result;
  }
  if (auto it = params.find("port"); it != params.end() && !std::holds_alternative<std::int64_t>(it->second))
    throw InvalidSpec("port", postgres::render_conf_value(it->second), "expecting an integer");
  core::write_file_atomic(l.conf(), postgres::render_managed_conf(l, params), 0600);
  core::crash_point(op, "configure: postgresql.conf written");
  auto pm = postgres::running_postmaster(l);
  if (!pm) co_return result;
  std::vector<std::string> names;
  for (const auto& [k, _] : result.changes) names.push_back(k);
  const int port = pm->port;
  auto before = co_await reload_state(op, l, port);
  result.needs_restart = co_await restart_only(op, l, port, names);
  std::vector<std::string> reloadable;
  for (const auto& n : names)
    if (std::find(result.needs_restart.begin(), result.needs_restart.end(), n) == result.needs_restart.end()) reloadable.push_back(n);
  if (!reloadable.empty())
    op.info("instance " + l.display() + " needs reload due to parameter changes: " + core::join(reloadable, ", "), "pglift.instances");
  result.pending_restart = co_await reload_confirmed(op, l, port, before.first);
  core::crash_point(op, "configure: reloaded");
  result.reloaded = true;
  if (!result.needs_restart.empty())
    op.warning("instance " + l.display() + " needs restart due to parameter changes: " + core::join(result.needs_restart, ", "),
               "pglift.instances");
  co_return result;
}

namespace {

std::map<std::string, std::string> environment(const Settings& settings, const Layout& l) {
  std::map<std::string, std::string> env{
      {"PGDATA", l.datadir.string()},
      {"PGHOST", l.socket_directory.string()},
      {"PGPORT", std::to_string(port_of(settings, l))},
      {"PGUSER", settings.postgresql.surole.name},
      {"PSQLRC", l.psqlrc().string()},
      {"PSQL_HISTORY", l.psql_history().string()},
  };
  if (settings.postgresql.auth.passfile) env["PGPASSFILE"] = settings.postgresql.auth.passfile->string();
  if (patroni::is_member(settings, l)) {
    auto files = patroni::Files::of(*settings.patroni, l);
    auto member = patroni::member_of(patroni::read(files.config));
    env["PATRONICTL_CONFIG_FILE"] = files.config.string();
    env["PATRONI_NAME"] = member.node;
    env["PATRONI_SCOPE"] = member.cluster;
  }
  auto path = core::env("PATH");
  env["PATH"] = l.bindir.string() + (path ? ":" + *path : "");
  return env;
}

// The file-only reads: one function each, for the blocking face (the caller's thread, the context's
// settings) and the callback and token faces (the I/O thread, the op's settings) alike.

Layout member_layout(const Settings& settings, const InstanceRef& ref) {
  Layout l = lookup(settings, ref);
  if (!patroni::is_member(settings, l)) throw StateError("instance " + l.display() + " is not managed by Patroni");
  return l;
}

PatroniCredentials credentials_of(const Settings& settings, const InstanceRef& ref) {
  Layout l = member_layout(settings, ref);
  auto creds = patroni::cluster_credentials_of(patroni::read(patroni::Files::of(*settings.patroni, l).config));
  for (const auto* role : {&creds.superuser, &creds.replication, &creds.rewind})
    if (role->username.empty() || role->password.empty())
      throw StateError("the Patroni configuration of " + l.display() + " lacks a user name or password in "
                       "postgresql.authentication");
  return creds;
}

fs::path patroni_log_of(const Settings& settings, const InstanceRef& ref) {
  return patroni::Files::of(*settings.patroni, member_layout(settings, ref)).log();
}

fs::path log_file_of(const Settings& settings, const InstanceRef& ref) {
  Layout l = lookup(settings, ref);
  if (auto file = postgres::current_log_file(l)) return *file;
  throw NotFound("file 'current_logfiles' for instance", l.display());
}

InstanceRef resolved(const Settings& settings, const std::optional<std::string>& text) {
  if (text) {
    Layout l = lookup(settings, InstanceRef::parse(*text));
    return {l.name, l.version};
  }
  auto all = postgres::find_instances(settings);
  if (all.empty()) throw Error(ErrorCode::not_found, "no instance found; create one first.");
  if (all.size() > 1) throw Error(ErrorCode::invalid_spec, "several instances found; argument INSTANCE is required.");
  return {all.front().name, all.front().version};
}

}  // namespace
}  // namespace ops

// --- faces ---------------------------------------------------------------------------------------

namespace {

Context::Impl& impl(Context& ctx) { return ctx.impl(); }

template <class Fn>
auto mutation(InstanceRef ref, Fn fn) {
  return [ref = std::move(ref), fn = std::move(fn)](const core::Op& op) mutable -> awaitable<void> {
    Layout l = ops::lookup(op.settings, ref);
    ops::InstanceLock lock(op.settings, l.qualname());
    co_await fn(op, l);
  };
}

auto create_body(InstanceSpec spec, CreateOptions options) {
  return [spec = std::move(spec), options](const core::Op& op) mutable { return ops::create(op, std::move(spec), options); };
}
auto get_body(InstanceRef ref) {
  return [ref = std::move(ref)](const core::Op& op) -> awaitable<Instance> {
    co_return co_await ops::observe(op, ops::lookup(op.settings, ref));
  };
}
auto list_body(std::optional<std::string> version) {
  return [version = std::move(version)](const core::Op& op) -> awaitable<std::vector<InstanceListItem>> {
    if (version) op.settings.version(*version);
    std::vector<InstanceListItem> items;
    for (const auto& l : postgres::find_instances(op.settings, version)) {
      auto pm = postgres::running_postmaster(l);
      items.push_back({l.name, l.version, ops::port_of(op.settings, l, pm), l.datadir,
                       pm ? RunStatus::running : RunStatus::not_running});
    }
    co_return items;
  };
}
auto status_body(InstanceRef ref) {
  return [ref = std::move(ref)](const core::Op& op) -> awaitable<InstanceStatus> {
    Layout l = ops::lookup(op.settings, ref);
    auto pm = postgres::running_postmaster(l);
    InstanceStatus st;
    if (pm) {
      st.postgresql = RunStatus::running;
      st.pid = pm->pid;
    }
    if (patroni::is_member(op.settings, l)) co_await ops::patroni_member::status(op, l, st);
    co_return st;
  };
}
auto start_body(InstanceRef ref, StartOptions options = {}) {
  return mutation(std::move(ref), [options](const core::Op& op, const Layout& l) { return ops::start(op, l, options); });
}
auto stop_body(InstanceRef ref, StopMode mode) {
  return mutation(std::move(ref), [mode](const core::Op& op, const Layout& l) { return ops::stop(op, l, mode); });
}
auto restart_body(InstanceRef ref, StopMode mode) {
  return mutation(std::move(ref), [mode](const core::Op& op, const Layout& l) { return ops::restart(op, l, mode); });
}
auto reload_body(InstanceRef ref) {
  return mutation(std::move(ref), [](const core::Op& op, const Layout& l) -> awaitable<void> {
    if (patroni::is_member(op.settings, l)) co_return co_await ops::patroni_member::reload(op, l);
    op.info("reloading PostgreSQL configuration for " + l.qualname(), "pglift.instances");
    postgres::reload(op, l);
    co_return;
  });
}
auto drop_body(InstanceRef ref, DropOptions options = {}) {
  return mutation(std::move(ref), [options](const core::Op& op, const Layout& l) { return ops::drop(op, l, options); });
}
auto promote_body(InstanceRef ref) {
  return mutation(std::move(ref), [](const core::Op& op, const Layout& l) -> awaitable<void> {
    if (!patroni::is_member(op.settings, l))
      throw StateError(l.display() + " is not a standby (only members of a Patroni cluster can be promoted)");
    co_await ops::patroni_member::promote(op, l);
  });
}
auto configure_body(InstanceRef ref, ParameterChanges changes) {
  return ops::dry_runnable([ref = std::move(ref), changes = std::move(changes)](const core::Op& op) -> awaitable<ConfigurationResult> {
    Layout l = ops::lookup(op.settings, ref);
    ops::InstanceLock lock(op.settings, l.qualname());
    co_return co_await ops::configure(op, l, changes);
  });
}
Layout patroni_member(const core::Op& op, const InstanceRef& ref) {
  Layout l = ops::lookup(op.settings, ref);
  if (!patroni::is_member(op.settings, l)) throw StateError("instance " + l.display() + " is not managed by Patroni");
  return l;
}
auto switchover_body(InstanceRef ref, SwitchoverOptions options) {
  return [ref = std::move(ref), options = std::move(options)](const core::Op& op) -> awaitable<TopologyResult> {
    Layout l = patroni_member(op, ref);
    ops::InstanceLock lock(op.settings, l.qualname());
    co_return co_await ops::patroni_member::switchover(op, l, options);
  };
}
auto failover_body(InstanceRef ref, std::string candidate) {
  return [ref = std::move(ref), candidate = std::move(candidate)](const core::Op& op) -> awaitable<TopologyResult> {
    Layout l = patroni_member(op, ref);
    ops::InstanceLock lock(op.settings, l.qualname());
    co_return co_await ops::patroni_member::failover(op, l, candidate);
  };
}
auto pause_body(InstanceRef ref, bool pause) {
  return [ref = std::move(ref), pause](const core::Op& op) -> awaitable<void> {
    Layout l = patroni_member(op, ref);
    ops::InstanceLock lock(op.settings, l.qualname());
    co_await ops::patroni_member::pause(op, l, pause);
  };
}
/// A file-only read as an operation body: `read(settings, arg)` on the I/O thread.
template <class T, class Arg, class Read>
auto read_body(Arg arg, Read read) {
  return [arg = std::move(arg), read](const core::Op& op) -> awaitable<T> { co_return read(op.settings, arg); };
}
auto configure_text_body(InstanceRef ref, std::string text) {
  return ops::dry_runnable([ref = std::move(ref), text = std::move(text)](const core::Op& op) -> awaitable<ConfigurationResult> {
    Layout l = ops::lookup(op.settings, ref);
    ops::InstanceLock lock(op.settings, l.qualname());
    auto changes = parameter_changes_from_text(ops::managed_parameters(op.settings, l), text);
    if (changes.empty()) co_return ConfigurationResult{};
    co_return co_await ops::configure(op, l, changes);
  });
}
using EnvVars = std::map<std::string, std::string>;
EnvVars env_of(const Settings& settings, const InstanceRef& ref) { return ops::environment(settings, ops::lookup(settings, ref)); }
ConfParameters parameters_of(const Settings& settings, const InstanceRef& ref) {
  return ops::managed_parameters(settings, ops::lookup(settings, ref));
}
std::string parameters_text_of(const Settings& settings, const InstanceRef& ref) {
  return parameters_text(parameters_of(settings, ref));
}

}  // namespace

Instance create_instance(Context& ctx, const InstanceSpec& spec, const CreateOptions& options) {
  return impl(ctx).run<Instance>(create_body(spec, options));
}
Instance get_instance(Context& ctx, const InstanceRef& ref) { return impl(ctx).run<Instance>(get_body(ref)); }
std::vector<InstanceListItem> list_instances(Context& ctx, const std::optional<std::string>& version) {
  return impl(ctx).run<std::vector<InstanceListItem>>(list_body(version));
}
InstanceStatus instance_status(Context& ctx, const InstanceRef& ref) {
  return impl(ctx).run<InstanceStatus>(status_body(ref));
}
void start_instance(Context& ctx, const InstanceRef& ref) { impl(ctx).run<void>(start_body(ref)); }
void start_instance(Context& ctx, const InstanceRef& ref, const StartOptions& options) {
  impl(ctx).run<void>(start_body(ref, options));
}
void stop_instance(Context& ctx, const InstanceRef& ref, StopMode mode) { impl(ctx).run<void>(stop_body(ref, mode)); }
void restart_instance(Context& ctx, const InstanceRef& ref, StopMode mode) {
  impl(ctx).run<void>(restart_body(ref, mode));
}
void reload_instance(Context& ctx, const InstanceRef& ref) { impl(ctx).run<void>(reload_body(ref)); }
void drop_instance(Context& ctx, const InstanceRef& ref) { impl(ctx).run<void>(drop_body(ref)); }
void drop_instance(Context& ctx, const InstanceRef& ref, const DropOptions& options) {
  impl(ctx).run<void>(drop_body(ref, options));
}
void promote_instance(Context& ctx, const InstanceRef& ref) { impl(ctx).run<void>(promote_body(ref)); }
ConfigurationResult configure_instance(Context& ctx, const InstanceRef& ref, const ParameterChanges& changes,
                                       const OpOptions& options) {
  return impl(ctx).run<ConfigurationResult>(configure_body(ref, changes), options);
}
TopologyResult patroni_switchover(Context& ctx, const InstanceRef& ref, const SwitchoverOptions& options) {
  return impl(ctx).run<TopologyResult>(switchover_body(ref, options));
}
TopologyResult patroni_failover(Context& ctx, const InstanceRef& ref, const std::string& candidate) {
  return impl(ctx).run<TopologyResult>(failover_body(ref, candidate));
}
void patroni_pause(Context& ctx, const InstanceRef& ref) { impl(ctx).run<void>(pause_body(ref, true)); }
void patroni_resume(Context& ctx, const InstanceRef& ref) { impl(ctx).run<void>(pause_body(ref, false)); }

Operation start_create_instance(Context& ctx, InstanceSpec spec, CreateOptions options, Callback<Instance> done, OpOptions op) {
  return impl(ctx).launch<Instance>(op, create_body(std::move(spec), options), std::move(done));
}
Operation start_get_instance(Context& ctx, InstanceRef ref, Callback<Instance> done, OpOptions op) {
  return impl(ctx).launch<Instance>(op, get_body(std::move(ref)), std::move(done));
}
Operation start_list_instances(Context& ctx, std::optional<std::string> version,
                               Callback<std::vector<InstanceListItem>> done, OpOptions op) {
  return impl(ctx).launch<std::vector<InstanceListItem>>(op, list_body(std::move(version)), std::move(done));
}
Operation start_instance_status(Context& ctx, InstanceRef ref, Callback<InstanceStatus> done, OpOptions op) {
  return impl(ctx).launch<InstanceStatus>(op, status_body(std::move(ref)), std::move(done));
}
Operation start_start_instance(Context& ctx, InstanceRef ref, Callback<> done, OpOptions op) {
  return impl(ctx).launch<void>(op, start_body(std::move(ref)), std::move(done));
}
Operation start_start_instance(Context& ctx, InstanceRef ref, StartOptions options, Callback<> done, OpOptions op) {
  return impl(ctx).launch<void>(op, start_body(std::move(ref), options), std::move(done));
}
Operation start_stop_instance(Context& ctx, InstanceRef ref, StopMode mode, Callback<> done, OpOptions op) {
  return impl(ctx).launch<void>(op, stop_body(std::move(ref), mode), std::move(done));
}
Operation start_restart_instance(Context& ctx, InstanceRef ref, StopMode mode, Callback<> done, OpOptions op) {
  return impl(ctx).launch<void>(op, restart_body(std::move(ref), mode), std::move(done));
}
Operation start_reload_instance(Context& ctx, InstanceRef ref, Callback<> done, OpOptions op) {
  return impl(ctx).launch<void>(op, reload_body(std::move(ref)), std::move(done));
}
Operation start_drop_instance(Context& ctx, InstanceRef ref, Callback<> done, OpOptions op) {
  return impl(ctx).launch<void>(op, drop_body(std::move(ref)), std::move(done));
}
Operation start_drop_instance(Context& ctx, InstanceRef ref, DropOptions options, Callback<> done, OpOptions op) {
  return impl(ctx).launch<void>(op, drop_body(std::move(ref), options), std::move(done));
}
Operation start_promote_instance(Context& ctx, InstanceRef ref, Callback<> done, OpOptions op) {
  return impl(ctx).launch<void>(op, promote_body(std::move(ref)), std::move(done));
}
Operation start_configure_instance(Context& ctx, InstanceRef ref, ParameterChanges changes, Callback<ConfigurationResult> done,
                                   OpOptions op) {
  return impl(ctx).launch<ConfigurationResult>(op, configure_body(std::move(ref), std::move(changes)), std::move(done));
}
Operation start_patroni_switchover(Context& ctx, InstanceRef ref, SwitchoverOptions options, Callback<TopologyResult> done,
                                   OpOptions op) {
  return impl(ctx).launch<TopologyResult>(op, switchover_body(std::move(ref), std::move(options)), std::move(done));
}
Operation start_patroni_failover(Context& ctx, InstanceRef ref, std::string candidate, Callback<TopologyResult> done,
                                 OpOptions op) {
  return impl(ctx).launch<TopologyResult>(op, failover_body(std::move(ref), std::move(candidate)), std::move(done));
}
Operation start_patroni_pause(Context& ctx, InstanceRef ref, bool pause, Callback<> done, OpOptions op) {
  return impl(ctx).launch<void>(op, pause_body(std::move(ref), pause), std::move(done));
}
Operation start_patroni_resume(Context& ctx, InstanceRef ref, Callback<> done, OpOptions op) {
  return impl(ctx).launch<void>(op, pause_body(std::move(ref), false), std::move(done));
}
Operation start_instance_env(Context& ctx, InstanceRef ref, Callback<EnvVars> done, OpOptions op) {
  return impl(ctx).launch<EnvVars>(op, read_body<EnvVars>(std::move(ref), env_of), std::move(done));
}
Operation start_instance_parameters(Context& ctx, InstanceRef ref, Callback<ConfParameters> done, OpOptions op) {
  return impl(ctx).launch<ConfParameters>(op, read_body<ConfParameters>(std::move(ref), parameters_of), std::move(done));
}
Operation start_instance_parameters_text(Context& ctx, InstanceRef ref, Callback<std::string> done, OpOptions op) {
  return impl(ctx).launch<std::string>(op, read_body<std::string>(std::move(ref), parameters_text_of), std::move(done));
}
Operation start_instance_log_file(Context& ctx, InstanceRef ref, Callback<fs::path> done, OpOptions op) {
  return impl(ctx).launch<fs::path>(op, read_body<fs::path>(std::move(ref), ops::log_file_of), std::move(done));
}
Operation start_patroni_credentials(Context& ctx, InstanceRef ref, Callback<PatroniCredentials> done, OpOptions op) {
  return impl(ctx).launch<PatroniCredentials>(op, read_body<PatroniCredentials>(std::move(ref), ops::credentials_of),
                                              std::move(done));
}
Operation start_patroni_log_file(Context& ctx, InstanceRef ref, Callback<fs::path> done, OpOptions op) {
  return impl(ctx).launch<fs::path>(op, read_body<fs::path>(std::move(ref), ops::patroni_log_of), std::move(done));
}
Operation start_resolve_instance(Context& ctx, std::optional<std::string> text, Callback<InstanceRef> done, OpOptions op) {
  return impl(ctx).launch<InstanceRef>(op, read_body<InstanceRef>(std::move(text), ops::resolved), std::move(done));
}
ConfigurationResult configure_instance_text(Context& ctx, const InstanceRef& ref, std::string_view text,
                                            const OpOptions& options) {
  return impl(ctx).run<ConfigurationResult>(configure_text_body(ref, std::string(text)), options);
}
Operation start_configure_instance_text(Context& ctx, InstanceRef ref, std::string text, Callback<ConfigurationResult> done,
                                        OpOptions op) {
  return impl(ctx).launch<ConfigurationResult>(op, configure_text_body(std::move(ref), std::move(text)), std::move(done));
}

// --- synchronous helpers (no I/O thread needed) -----------------------------------------------------

std::map<std::string, std::string> instance_env(Context& ctx, const InstanceRef& ref) { return env_of(ctx.settings(), ref); }

InstanceRef resolve_instance(Context& ctx, const std::optional<std::string>& text) { return ops::resolved(ctx.settings(), text); }

void exec_in_instance(Context& ctx, const InstanceRef& ref, const std::vector<std::string>& argv) {
  if (argv.empty()) throw InvalidSpec("command", "", "a command is required");
  Layout l = ops::lookup(ctx.settings(), ref);
  std::vector<std::pair<std::string, std::string>> env;
  for (auto& [k, v] : ops::environment(ctx.settings(), l))
    if (k == "PATH" || !core::env(k.c_str())) env.emplace_back(k, v);  // the caller's environment wins
  std::vector<std::string> args = argv;
  args[0] = proc::find_program(argv[0], {l.bindir}).string();
  proc::exec(args, env);
}

ConfParameters instance_parameters(Context& ctx, const InstanceRef& ref) { return parameters_of(ctx.settings(), ref); }

PatroniCredentials patroni_credentials(Context& ctx, const InstanceRef& ref) {
  return ops::credentials_of(ctx.settings(), ref);
}

fs::path patroni_log_file(Context& ctx, const InstanceRef& ref) { return ops::patroni_log_of(ctx.settings(), ref); }

void exec_postgres_foreground(Context& ctx, const InstanceRef& ref) {
  Layout l = ops::lookup(ctx.settings(), ref);
  if (patroni::is_member(ctx.settings(), l)) {
    auto files = patroni::Files::of(*ctx.settings().patroni, l);
    if (patroni::running(files)) throw StateError("instance " + l.display() + " is already started");
    proc::exec({ctx.settings().patroni->execpath.string(), files.config.string()}, {});
  }
  if (postgres::running_postmaster(l)) throw StateError("instance " + l.display() + " is already started");
  core::make_dirs(l.socket_directory, 0755);
  proc::exec({l.program("postgres").string(), "-D", l.datadir.string()}, {});
}

fs::path instance_log_file(Context& ctx, const InstanceRef& ref) { return ops::log_file_of(ctx.settings(), ref); }

void read_instance_logs(Context& ctx, const InstanceRef& ref, bool follow,
                        const std::function<bool(std::string_view)>& out) {
  if (ctx.impl().on_io_thread()) throw Error(ErrorCode::internal, "blocking libpglift call made from a library thread");
  // The stream (inotify-driven, whole lines, passwords masked) on the library's thread; its chunks
  // come to `out` on this thread.
  ops::relay_stream<std::string>(
      [&](auto push, Callback<> done, StreamGate gate) {
        return start_read_instance_logs(
            ctx, ref, follow,
            [push = std::move(push)](std::string_view chunk) mutable {
              push(std::string(chunk));
              return true;
            },
            std::move(done), {}, std::move(gate));
      },
      [&](std::string& chunk) { return out(chunk); });
}

}  // namespace pglift
