#include "postgres/control.hpp"

#include <cstdint>
#include <cstring>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/coro.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
#include "postgres/conf.hpp"
#include "postgres/session_cache.hpp"
#include "proc/process.hpp"

namespace pglift::postgres {

namespace {

/// A private 0700 directory holding a 0600 password file, removed on scope exit.
class SecretFile {
 public:
  explicit SecretFile(const std::string& content) {
    std::string tmpl = (fs::temp_directory_path() / "pglift-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw SystemError("cannot create a temporary directory");
    dir_ = tmpl;
    path_ = dir_ / "pwfile";
    core::write_file_atomic(path_, content + "\n", 0600);
  }
  ~SecretFile() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path dir_, path_;
};

std::string log_tails(const Layout& layout) {
  std::string out = core::tail(layout.startup_log(), 15);
  if (auto file = current_log_file(layout))
    if (std::string t = core::tail(*file, 15); !t.empty()) out += (out.empty() ? "" : "\n") + t;
  return out;
}

}  // namespace

awaitable<void> initdb(const core::Op& op, const Layout& layout, const InitdbOptions& options) {
  proc::Command cmd{.argv = {layout.program("initdb").string(), "-D", layout.datadir.string(), "--waldir",
                             layout.waldir.string(), "--username", op.settings.postgresql.surole.name,
                             // pg_hba.conf is rewritten before the first start; until then, nothing but peer.
                             "--auth-local=peer", "--auth-host=reject", "--locale", options.locale, "--encoding",
                             options.encoding},
                    .timeout = std::chrono::minutes(5),
                    .log_target = "pglift.initdb"};
  if (options.data_checksums) cmd.argv.push_back("--data-checksums");
  std::optional<SecretFile> pwfile;
  if (options.surole_password) {
    pwfile.emplace(*options.surole_password);
    cmd.argv.push_back("--pwfile=" + pwfile->path().string());
  }
  // initdb refuses a non-empty waldir, and creates missing directories itself (0700).
  co_await proc::run(op, std::move(cmd));
}

std::optional<std::string> system_identifier(const Layout& layout) {
  std::optional<std::string> control;
  try {
    control = core::read_file_if_exists(layout.datadir / "global" / "pg_control");
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (!control || control->size() < sizeof(std::uint64_t)) return std::nullopt;
  // ControlFileData starts with `uint64 system_identifier`, in the host's byte order.
  std::uint64_t id = 0;
  std::memcpy(&id, control->data(), sizeof id);
  if (id == 0) return std::nullopt;
  return std::to_string(id);
}

int configured_port(const Layout& layout) {
  for (const auto& file : {layout.conf(), layout.base_conf()}) {
    auto text = core::read_file_if_exists(file);
    if (!text) continue;
    auto conf = parse_conf(*text);
    if (auto it = conf.find("port"); it != conf.end())
      if (const auto* p = std::get_if<std::int64_t>(&it->second)) return static_cast<int>(*p);
  }
  return 5432;
}

awaitable<void> start(const core::Op& op, const Layout& layout, std::chrono::milliseconds timeout) {
  core::make_dirs(layout.socket_directory, 0755);
  core::make_dirs(layout.logpath, 0700);
  proc::Watched postmaster = proc::spawn_daemon(
      op, {.argv = {layout.program("postgres").string(), "-D", layout.datadir.string()}, .log_file = layout.startup_log()});
  auto fail_fast = [&] {
    if (postmaster.exited())
      throw StateError("PostgreSQL " + layout.display() + " exited while starting\n" + log_tails(layout));
  };
  // Ready when our postmaster says so in postmaster.pid (as pg_ctl reads it): "ready" once it accepts
  // connections, "standby" for a standby without hot_standby, which never will. Read every 1 ms, as
  // the floor in bench/ probes (pg_ctl start -w: every 100 ms): a file read, where a connection
  // attempt makes the starting postmaster fork a backend only to refuse it (the CPU of several starts
  // at once on few cores went there).
  const std::string reason = "readiness of PostgreSQL " + layout.display();
  auto ready = [&] {
    auto pm = read_pidfile(layout);  // ours once it names our PID (a stale file names another)
    return pm && pm->pid == postmaster.pid && (pm->status == "ready" || pm->status == "standby");
  };
  std::exception_ptr failure;
  try {
    co_await core::wait_until(
        core::Clock::now() + timeout, reason, ready, fail_fast, [&] { return log_tails(layout); },
        std::chrono::milliseconds(1));
    co_return;
  } catch (...) {
    failure = std::current_exception();
  }
  // Not ready (failed, timed out, cancelled): the postmaster we spawned does not outlive this start.
  // A caller's revert could not stop it: a starting postmaster may not have written its pid file yet.
  co_await asio::this_coro::reset_cancellation_state(core::no_cancellation);
  co_await asio::this_coro::throw_if_cancelled(false);
  if (!postmaster.exited()) {
    op.debug("stopping the postmaster that did not become ready (PID " + std::to_string(postmaster.pid) + ")",
             "pglift.postgresql");
    proc::send_signal(postmaster, SIGQUIT);
    if (!co_await proc::wait_exit(postmaster, 10s)) {
      proc::send_signal(postmaster, SIGKILL);
      co_await proc::wait_exit(postmaster, 5s);
    }
  }
  std::rethrow_exception(failure);
}

awaitable<bool> stop(const core::Op& op, const Layout& layout, StopMode mode, std::chrono::milliseconds timeout) {
  // Our kept connections first: a smart shutdown would wait for them.
  if (op.sessions) op.sessions->forget(layout.socket_directory);
  auto pm = running_postmaster(layout);
  if (!pm) co_return false;
  proc::Watched postmaster = proc::watch(pm->pid);
  const int signo = mode == StopMode::smart ? SIGTERM : mode == StopMode::fast ? SIGINT : SIGQUIT;
  op.debug("sending " + std::string(sigabbrev_np(signo)) + " to postmaster " + std::to_string(pm->pid), "pglift.postgresql");
  if (!proc::send_signal(postmaster, signo)) co_return true;  // it just went away
  if (!co_await proc::wait_exit(postmaster, timeout))
    throw Timeout("PostgreSQL " + layout.display() + " did not stop within " + std::to_string(timeout.count() / 1000) +
                  "s (mode " + to_string(mode) + ")\n" + log_tails(layout));
  co_return true;
}

void reload(const core::Op& op, const Layout& layout) {
  auto pm = running_postmaster(layout);
  if (!pm) throw StateError("instance " + layout.display() + " is not running");
  proc::Watched postmaster = proc::watch(pm->pid);
  op.debug("sending SIGHUP to postmaster " + std::to_string(pm->pid), "pglift.postgresql");
  if (!proc::send_signal(postmaster, SIGHUP)) throw StateError("instance " + layout.display() + " is not running");
}

}  // namespace pglift::postgres
