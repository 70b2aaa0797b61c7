#include "patroni/member.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "core/coro.hpp"
#include "core/files.hpp"
#include "core/system.hpp"
#include "core/text.hpp"
#include "patroni/fence.hpp"
#include "postgres/session.hpp"

namespace pglift::patroni {

bool is_member(const Settings& settings, const postgres::Layout& layout) {
  if (!settings.patroni) return false;
  std::error_code ec;
  return std::filesystem::exists(Files::of(*settings.patroni, layout).config, ec);
}

std::optional<pid_t> running(const Files& files) {
  auto text = core::read_file_if_exists(files.pidfile);
  if (!text) return std::nullopt;
  pid_t pid = 0;
  try {
    pid = static_cast<pid_t>(std::stol(core::trim(*text)));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (!core::process_running(pid)) return std::nullopt;
  auto cmdline = core::read_file_if_exists("/proc/" + std::to_string(pid) + "/cmdline");
  // pglift-supervisor's command line names Patroni and its configuration too; so does a bare Patroni's,
  // started before the supervisor existed: both are recognised, and stopped the same way (SIGTERM).
  if (cmdline && (cmdline->find("patroni") == std::string::npos || cmdline->find(files.config.string()) == std::string::npos))
    return std::nullopt;  // a reused PID
  return pid;
}

namespace {
/// Patroni's validator's lines as our error: Error(dcs) for an unreachable DCS, else Error(invalid_spec).
[[noreturn]] void throw_invalid(const std::string& lines) {
  if (lines.find("hosts") != std::string::npos && lines.find("is not reachable") != std::string::npos)
    throw Error(ErrorCode::dcs, "invalid Patroni configuration: the DCS cannot be reached\n" + lines);
  std::string msg = "invalid Patroni configuration:\n" + lines;
  if (lines.find("must not contain \"127.0.0.1\"") != std::string::npos)
    msg += "\nhint: Patroni refuses 127.0.0.1 and localhost as connect addresses; on a single host, give each "
           "member another loopback address (127.0.1.1, 127.0.1.2, ...)";
  throw Error(ErrorCode::invalid_spec, msg);
}
}  // namespace

awaitable<void> validate(const core::Op& op, const PatroniSettings& settings, const Files& files) {
  proc::Command cmd{.argv = {settings.execpath.string(), "--validate-config", files.config.string()},
                    .env = {{"PATH", "/usr/bin:/bin"}},
                    .timeout = std::chrono::seconds(60),
                    .log_target = "pglift.patroni",
                    .check = false};
  auto r = co_await proc::run(op, std::move(cmd));
  if (r.status == 0) co_return;
  throw_invalid(core::trim(r.output));
}

bool launcher_validates(const PatroniSettings& settings) {
  std::string warning;
  const fs::path supervisor = supervisor_program();
  const auto argv = patroni_command(supervisor, settings.execpath, warning);
  return std::find(argv.begin(), argv.end(), (supervisor.parent_path() / "pglift-patroni-launch.py").string()) != argv.end();
}

fs::path validation_report_path(const Files& files) { return files.logdir / "validation-report"; }

void check_validation_report(const core::Op& op, const Files& files) {
  const fs::path path = validation_report_path(files);
  auto text = core::read_file_if_exists(path);
  std::error_code ec;
  fs::remove(path, ec);
  if (!text) return;
  const auto eol = text->find('\n');
  const std::string verdict = text->substr(0, eol), rest = eol == std::string::npos ? "" : core::trim(text->substr(eol + 1));
  if (verdict == "invalid") throw_invalid(rest);
  if (verdict == "unavailable")
    op.warning("Patroni's configuration was not validated: its validator could not be loaded (" + rest + ")", "pglift.patroni");
}

proc::Watched spawn(const core::Op& op, const PatroniSettings& settings, const postgres::Layout& layout, const Files& files,
                    const std::optional<std::string>& accepted_rejoin, bool validate) {
  // Found first: a missing supervisor is an error before anything starts.
  const fs::path supervisor = supervisor_program();
  core::make_dirs(files.logdir, 0700);
  core::make_dirs(files.pidfile.parent_path(), 0700);
  const auto& user = core::current_user();
  // The daemon is the supervisor (the pid file is its), Patroni its child: see src/supervisor/supervisor.c.
  std::vector<std::string> argv{supervisor.string(), "--data-dir", layout.datadir.string(), "--log-dir", files.logdir.string(), "--"};
  std::string warning;
  auto launcher_options = rejoin_launcher_options(settings, files, accepted_rejoin);
  if (validate) {
    std::error_code ec;
    fs::remove(validation_report_path(files), ec);  // a stale verdict must not stand for this one
    launcher_options.push_back("--validation-report");
    launcher_options.push_back(validation_report_path(files).string());
  }
  for (auto& word : patroni_command(supervisor, settings.execpath, warning, launcher_options))
    argv.push_back(std::move(word));
  if (!warning.empty()) op.warning(warning, "pglift.patroni");
  argv.push_back(files.config.string());
  proc::Watched w = proc::spawn_daemon(op, {.argv = std::move(argv),
                                            .log_file = files.stderr_log(),
                                            .env = {{"PATH", "/usr/bin:/bin"},
                                                    {"LANG", "C.UTF-8"},
                                                    {"HOME", user.home.string()},
                                                    {"USER", user.name},
                                                    {"LOGNAME", user.name}},
                                            .clean_env = true,
                                            .pid_file = files.pidfile});
  return w;
}

std::string log_tails(const postgres::Layout& layout, const Files& files) {
  std::string out;
  auto add = [&out](const std::string& title, const std::string& text) {
    if (text.empty()) return;
    out += (out.empty() ? "" : "\n") + title + ":\n" + text;
  };
  add("last lines of " + files.log().string(), core::tail(files.log(), 15));
  add("last lines of " + files.stderr_log().string(), core::tail(files.stderr_log(), 10));
  // PostgreSQL's own log, when the logging collector has started.
  if (auto file = postgres::current_log_file(layout)) add("last lines of " + file->string(), core::tail(*file, 10));
  return out;
}

namespace {
bool streaming(const Settings& settings, const postgres::Layout& layout, int port) {
  try {
    auto rows = postgres::query_once(settings, layout, port, "SELECT status FROM pg_stat_wal_receiver");
    return !rows.empty() && rows[0][0] == "streaming";
  } catch (const std::exception&) {
    return false;
  }
}
}  // namespace

awaitable<void> wait_ready(const core::Op& op, const postgres::Layout& layout, const Files& files, const Rest& rest,
                           proc::Watched& patroni, Readiness readiness, std::chrono::milliseconds timeout,
                           std::function<awaitable<void>()> also_check) {
  const std::string path = readiness == Readiness::leader    ? "/primary"
                           : readiness == Readiness::replica ? "/replica"
                                                             : "/health";
  const std::string what = readiness == Readiness::leader    ? "leader"
                           : readiness == Readiness::replica ? "streaming replica"
                                                             : "running";
  const int port = member_of(read(files.config)).port;
  auto check_streaming = [&settings = op.settings, layout, port] { return streaming(settings, layout, port); };  // named: g++ 12
  auto ready = [&]() -> awaitable<bool> {
    if (also_check) co_await also_check();
    if (co_await rest.probe(path, 1s) != 200) co_return false;
    if (readiness != Readiness::replica) co_return true;
    // libpq off the I/O thread, bounded (connect_timeout), abandoned at once on cancellation.
    co_return co_await core::cancellable(op, check_streaming);
  };
  auto exited = [&] {
    if (patroni.exited())
      throw StateError("Patroni " + layout.qualname() + " exited before " + layout.display() + " was " + what + "\n" +
                       log_tails(layout, files));
  };
  // Every 20 ms at most: a probe is one small HTTP request to a local Patroni (a few per loop_wait),
  // and each 100 ms of polling was 50 ms on average added to a create or a start.
  co_await core::wait_until(core::Clock::now() + timeout,
                            "Patroni " + layout.qualname() + ": " + layout.display() + " as " + what + " (" + rest.url() + path + ")",
                            ready, exited, [&] { return log_tails(layout, files); }, std::chrono::milliseconds(20));
}

awaitable<bool> stop(const core::Op& op, const postgres::Layout& layout, const Files& files, const Rest& rest) {
  bool stopped_something = false;
  // Watched before Patroni is asked to stop: Patroni may exit a moment before its postmaster, whose
  // pid file is then already gone; the pidfd still designates it.
  std::optional<proc::Watched> postmaster;
  if (auto pm = postgres::running_postmaster(layout)) postmaster = proc::watch(pm->pid);
  if (auto pid = running(files)) {
    stopped_something = true;
    op.info("stopping Patroni " + layout.qualname() + " (PID " + std::to_string(*pid) + ")", "pglift.patroni");
    proc::Watched patroni = proc::watch(*pid);
    proc::send_signal(patroni, SIGTERM);  // Patroni stops PostgreSQL, then releases its leader key
    if (!co_await proc::wait_exit(patroni, std::chrono::seconds(60))) {
      op.warning("Patroni " + layout.qualname() + " did not stop within 60s; killing it", "pglift.patroni");
      proc::send_signal(patroni, SIGKILL);
      co_await proc::wait_exit(patroni, std::chrono::seconds(10));
    }
    op.info("waiting for Patroni REST API to stop", "pglift.patroni");
    auto api_gone = [&]() -> awaitable<bool> { co_return co_await rest.probe("/liveness", std::chrono::milliseconds(200)) == 0; };
    co_await core::wait_until(core::Clock::now() + std::chrono::seconds(10),
                              "the end of the REST API of Patroni " + layout.qualname() + " at " + rest.url() +
                                  " (its process exited: another Patroni on the same address?)",
                              api_gone);
  }
  std::error_code ec;
  std::filesystem::remove(files.pidfile, ec);
  // A postmaster finishing its own shutdown gets a bounded moment to end; one that outlived its
  // Patroni is left to the caller (ops stops it with postgres' process control).
  const std::chrono::milliseconds grace(stopped_something ? 5000 : 0);
  if (postmaster) co_await proc::wait_exit(*postmaster, grace);
  co_return stopped_something;
}

dcs::Etcd etcd(const PatroniSettings& s) {
  dcs::EtcdOptions o;
  for (const auto& h : s.etcd.hosts) o.hosts.push_back(net::Endpoint::parse(h));
  o.protocol = s.etcd.protocol;
  if (s.etcd.protocol == "https") {
    net::Tls tls;
    tls.cafile = s.etcd.cacert;
    tls.certfile = s.etcd.cert;
    tls.keyfile = s.etcd.key;
    o.tls = tls;
  }
  if (s.etcd.username) o.auth = net::BasicAuth{*s.etcd.username, *s.etcd.password};
  o.timeout = std::chrono::seconds(3);
  return dcs::Etcd(std::move(o));
}

std::optional<std::string> key_value(const dcs::KeyValues& keys, const std::string& key) {
  for (const auto& [k, v] : keys)
    if (k == key) return v;
  return std::nullopt;
}

std::optional<core::Value> member_data(const dcs::KeyValues& keys, const std::string& prefix, const std::string& node) {
  if (auto v = key_value(keys, prefix + "members/" + node)) try {
      return core::parse_json(*v);
    } catch (const core::ParseError&) {
    }
  return std::nullopt;
}

std::string slot_name(const std::string& node) {
  std::string out;
  for (unsigned char c : node) out += std::isalnum(c) || c == '_' ? static_cast<char>(std::tolower(c)) : '_';
  return out.substr(0, 63);
}

}  // namespace pglift::patroni
