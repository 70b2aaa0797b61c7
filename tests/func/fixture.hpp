// Functional-test fixture: a temporary prefix, free ports, a Context recording its events, and a cleanup
// that stops every postmaster found under the prefix (by the PID in postmaster.pid), even on failure.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pglift/pglift.hpp"

namespace fs = std::filesystem;

inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// A listening socket holding a port, for "port in use" tests.
struct PortHolder {
  int fd = -1, port = 0;
  PortHolder() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 1) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~PortHolder() { ::close(fd); }
};

/// A /proc file's content, empty when it cannot be read: the process may end between the open and the
/// read (ESRCH, which an istreambuf_iterator throws as ios_failure: out of a destructor, a crash).
inline std::string read_proc(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

/// Alive and not a zombie: stopped daemons are reaped by init, not at once.
inline bool process_alive(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  std::string stat = read_proc("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() || (stat[close + 2] != 'Z' && stat[close + 2] != 'X');
}

/// The threads of this process now.
inline long thread_count() {
  return std::distance(fs::directory_iterator("/proc/self/task"), fs::directory_iterator());
}

/// The command lines of `pids`, for failure messages.
inline std::string command_lines(const std::vector<pid_t>& pids) {
  std::string out;
  for (pid_t pid : pids) {
    std::string cmd = read_proc("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    out += std::to_string(pid) + ": " + cmd + "\n";
  }
  return out;
}

/// Every postgres process whose command line mentions `path` (from /proc, no pgrep subprocess).
inline std::vector<pid_t> processes_mentioning(const std::string& path) {
  std::vector<pid_t> found;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::string cmd = read_proc(e.path() / "cmdline");
    if (cmd.find(path) != std::string::npos) found.push_back(std::stoi(name));
  }
  return found;
}

struct Env {
  fs::path prefix;
  std::mutex mutex;
  std::vector<pglift::Event> events;
  std::function<void(const pglift::Event&)> on_event;
  std::unique_ptr<pglift::Context> ctx;

  explicit Env(const std::string& extra_settings = "{}") : Env(make_prefix(), extra_settings) {}
  /// On a prefix made beforehand (make_prefix()), e.g. before a fork.
  Env(fs::path existing_prefix, const std::string& extra_settings) : prefix(std::move(existing_prefix)) {
    auto settings = pglift::Settings::from_documents(
        {prefix_settings(prefix), extra_settings});
    ctx = std::make_unique<pglift::Context>(settings, [this](const pglift::Event& e) {
      std::function<void(const pglift::Event&)> hook;
      {
        std::lock_guard l(mutex);
        events.push_back(e);
        // LIBPGLIFT_TEST_VERBOSE=1: the library's INFO+ log lines on stderr, as they come.
        static const bool verbose = std::getenv("LIBPGLIFT_TEST_VERBOSE") != nullptr;
        if (auto* r = std::get_if<pglift::LogRecord>(&e); verbose && r && r->level >= pglift::LogLevel::info)
          std::fprintf(stderr, "%-8s %s\n", pglift::to_string(r->level), r->message.c_str());
        hook = on_event;
      }
      if (hook) hook(e);
    });
  }
  static fs::path make_prefix() {
    std::string t = (fs::temp_directory_path() / "pglift-func-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()));
    return t;
  }
  /// The settings document of a prefix.
  static std::string prefix_settings(const fs::path& prefix) {
    return R"({"prefix": ")" + prefix.string() + R"(", "run_prefix": ")" + (prefix / "run").string() + R"("})";
  }
  ~Env() {
    ctx.reset();
    kill_leftovers();
    // Never throws (a destructor running while a test's exception unwinds would terminate the run and
    // hide it): a postmaster killed just before may still be removing its files.
    std::error_code ec;
    for (int attempt = 0; attempt < 50 && (fs::remove_all(prefix, ec), ec); ++attempt)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (ec) MESSAGE("cannot remove " << prefix << ": " << ec.message());
  }
  pglift::Context& operator*() { return *ctx; }

  fs::path srv() const { return prefix / "srv"; }
  fs::path datadir(const std::string& name) const { return srv() / "pgsql/15" / name / "data"; }
  bool nothing_in_srv() const {
    std::error_code ec;
    return !fs::exists(srv(), ec) || fs::is_empty(srv(), ec);
  }
  bool logged(const std::string& text) {
    std::lock_guard l(mutex);
    for (const auto& e : events)
      if (auto* r = std::get_if<pglift::LogRecord>(&e); r && r->message.find(text) != std::string::npos) return true;
    return false;
  }
  /// Whether any event (a log message or a progress title) holds `text`: a secret must never be shown.
  bool shown(const std::string& text) {
    std::lock_guard l(mutex);
    for (const auto& e : events) {
      if (auto* r = std::get_if<pglift::LogRecord>(&e); r && r->message.find(text) != std::string::npos) return true;
      if (auto* p = std::get_if<pglift::ProgressRecord>(&e); p && p->title.find(text) != std::string::npos) return true;
    }
    return false;
  }
  void kill_leftovers() {
    std::error_code ec;
    // Patroni first (it would restart its PostgreSQL), by the PIDs in its pid files.
    std::vector<pid_t> patronis;
    for (auto it = fs::directory_iterator(prefix / "run/patroni", ec); it != fs::directory_iterator(); it.increment(ec)) {
      std::ifstream in(it->path());
      pid_t pid = 0;
      if (in >> pid && process_alive(pid)) {
        MESSAGE("stopping leftover Patroni " << pid);
        ::kill(pid, SIGTERM);
        patronis.push_back(pid);
      }
    }
    for (int i = 0; i < 400 && std::any_of(patronis.begin(), patronis.end(), process_alive); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (pid_t pid : patronis)
      if (process_alive(pid)) ::kill(pid, SIGKILL);
    std::vector<pid_t> quitting;
    for (auto it = fs::recursive_directory_iterator(prefix, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->path().filename() != "postmaster.pid") continue;
      std::ifstream in(it->path());
      pid_t pid = 0;
      if (in >> pid && process_alive(pid)) {
        MESSAGE("killing leftover postmaster " << pid);
        ::kill(pid, SIGQUIT);
        quitting.push_back(pid);
      }
    }
    // Anything else still naming the prefix (a postmaster whose directory was removed under it, an
    // orphaned initdb): by the PIDs /proc shows.
    for (pid_t pid : processes_mentioning(prefix.string() + "/"))
      if (pid != ::getpid() && process_alive(pid) && std::find(quitting.begin(), quitting.end(), pid) == quitting.end() &&
          std::find(patronis.begin(), patronis.end(), pid) == patronis.end()) {
        MESSAGE("killing leftover process " << pid << ": " << command_lines({pid}));
        ::kill(pid, SIGKILL);
      }
  }
};

inline pglift::InstanceSpec spec(const std::string& name, int port) {
  pglift::InstanceSpec s;
  s.name = name;
  s.port = port;
  return s;
}

/// SQL over the instance's socket, as the superuser (peer authentication): the first value of the
/// first row, "" for a command, or "ERROR: ..." (never throws, for CHECKs).
inline std::string sql(pglift::Context& ctx, const std::string& name, const std::string& query) {
  auto env = pglift::instance_env(ctx, pglift::InstanceRef::parse(name));
  std::string ci = "host=" + env["PGHOST"] + " port=" + env["PGPORT"] + " user=" + env["PGUSER"] + " dbname=postgres connect_timeout=10";
  PGconn* c = PQconnectdb(ci.c_str());
  std::string out;
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c, query.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
    else if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
      out = std::string("ERROR: ") + PQresultErrorMessage(r);
    PQclear(r);
  } else {
    out = std::string("ERROR: ") + PQerrorMessage(c);
  }
  PQfinish(c);
  return out;
}

/// Polls `f` finely until it holds or `timeout` passes.
template <class F>
bool eventually(std::chrono::milliseconds timeout, F f) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto interval = std::chrono::milliseconds(5);; interval = std::min(interval * 2, std::chrono::milliseconds(100))) {
    if (f()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}
