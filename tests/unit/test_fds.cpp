// File descriptors and child processes: everything the library opens is close-on-exec, the programs it
// starts inherit stdin, stdout and stderr only (not even what the embedding program leaks), and a
// command dies with the program that runs it.
#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <set>
#include <thread>

#include "core/blocking_pool.hpp"
#include "core/files.hpp"
#include "core/system.hpp"
#include "core/text.hpp"
#include "net/http.hpp"
#include "pglift/errors.hpp"
#include "proc/process.hpp"
#include "run_coroutine.hpp"

using namespace pglift;
using namespace std::chrono_literals;

namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Harness {
  Settings settings = Settings::from_documents({R"({"prefix": "/p", "run_prefix": "/r"})"});
  EventSink sink = [](const Event&) {};
  core::BlockingPool pool{1};
  core::Op op{settings, sink, pool, 1};
  asio::io_context io;

  template <class T>
  T run(awaitable<T> a) {
    return testing::run_coroutine(io, std::move(a));
  }
};

/// Our open descriptors (not the one reading the directory).
std::set<int> open_descriptors() {
  std::set<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  REQUIRE(dir != nullptr);
  for (dirent* e; (e = ::readdir(dir)) != nullptr;)
    if (e->d_name[0] != '.') fds.insert(std::stoi(e->d_name));
  fds.erase(::dirfd(dir));
  ::closedir(dir);
  return fds;
}

std::string link_of(int fd) {
  std::error_code ec;
  return fs::read_symlink("/proc/self/fd/" + std::to_string(fd), ec).string();
}

bool close_on_exec(int fd) {
  int flags = ::fcntl(fd, F_GETFD);
  return flags >= 0 && (flags & FD_CLOEXEC);
}

/// A shell listing its own descriptors with built-ins only. The glob reads /proc/$$/fd through a
/// descriptor of the shell's own, closed by the time the loop runs: `-L` keeps only the entries
/// still open, i.e. what the shell got from exec.
const std::string list_descriptors_script =
    R"(for f in /proc/$$/fd/*; do [ -L "$f" ] && echo "${f##*/}"; done; exit 0)";

std::set<int> parse_listing(const std::string& text) {
  std::set<int> fds;
  for (const auto& line : core::split(text, '\n'))
    if (!core::trim(line).empty()) fds.insert(std::stoi(core::trim(line)));
  return fds;
}

std::string describe(const std::set<int>& fds) {
  std::string out;
  for (int fd : fds) out += (out.empty() ? "" : " ") + std::to_string(fd);
  return "{" + out + "}";
}

/// Descriptors an embedding program could hold without close-on-exec: a file, a socket, and a
/// listening socket (non-blocking) that accepts the library's HTTP connection and never replies.
struct CallerDescriptors {
  int file = ::open("/dev/null", O_RDONLY);
  int socket = ::socket(AF_INET, SOCK_STREAM, 0);
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  net::Endpoint endpoint{"127.0.0.1", 0};

  CallerDescriptors() {
    REQUIRE(file >= 0);
    REQUIRE(socket >= 0);
    REQUIRE(listener >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    REQUIRE(::listen(listener, 8) == 0);
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    endpoint.port = ntohs(addr.sin_port);
  }
  ~CallerDescriptors() {
    for (int fd : {file, socket, listener})
      if (fd >= 0) ::close(fd);
  }
  CallerDescriptors(const CallerDescriptors&) = delete;
  CallerDescriptors& operator=(const CallerDescriptors&) = delete;
};

/// Accepts one connection on the non-blocking `listener`, polling finely until `deadline`.
awaitable<proc::Fd> accept_before(int listener, Clock::time_point deadline) {
  asio::steady_timer tick(co_await asio::this_coro::executor);
  for (;;) {
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) co_return proc::Fd(fd);
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) throw SystemError("accept failed");
    if (Clock::now() >= deadline) throw Timeout("the library's HTTP connection did not arrive within 10s");
    tick.expires_after(2ms);
    co_await tick.async_wait(asio::use_awaitable);
  }
}

/// What the programs we start inherited, observed while the library holds an HTTP connection (a
/// request awaiting its reply) and runs another command (`sleep`, watched through a pidfd).
struct Inherited {
  std::set<int> command, daemon;
};

awaitable<Inherited> observe_children(Harness& h, CallerDescriptors& caller, const std::set<int>& before,
                                      const fs::path& daemon_log) {
  proc::Fd connection = co_await accept_before(caller.listener, Clock::now() + 10s);
  // Everything opened since `before` is the library's: its HTTP socket, the other command's pipe and
  // pidfds. The scenario must hold them all, or it would prove nothing.
  bool socket_seen = false, pidfd_seen = false;
  for (int fd : open_descriptors()) {
    if (before.count(fd) || fd == connection.get()) continue;
    const std::string link = link_of(fd);
    socket_seen = socket_seen || link.starts_with("socket:");
    pidfd_seen = pidfd_seen || link.find("pidfd") != std::string::npos;
    CHECK_MESSAGE(close_on_exec(fd), "descriptor " << fd << " (" << link << ") is not close-on-exec");
  }
  CHECK(socket_seen);
  CHECK(pidfd_seen);

  Inherited seen;
  proc::Command list{.argv = {"/bin/sh", "-c", list_descriptors_script}};
  seen.command = parse_listing((co_await proc::run(h.op, std::move(list))).output);

  proc::DaemonSpec spec{.argv = {"/bin/sh", "-c", list_descriptors_script}, .log_file = daemon_log};
  proc::Watched daemon = proc::spawn_daemon(h.op, spec);
  CHECK(co_await proc::wait_exit(daemon, 10s));
  seen.daemon = parse_listing(core::read_file(daemon_log));
  co_return seen;
}

/// The PID of a process whose argv is exactly `argv` (/proc/PID/cmdline), or -1.
pid_t find_process(const std::vector<std::string>& argv) {
  std::string wanted;
  for (const auto& a : argv) wanted += a + '\0';
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto cmdline = core::read_file_if_exists(entry.path() / "cmdline");
    if (cmdline && *cmdline == wanted) return static_cast<pid_t>(std::stoi(name));
  }
  return -1;
}

}  // namespace

TEST_CASE("core::random_bytes draws from the kernel's CSPRNG") {
  CHECK(core::random_bytes(0).empty());
  CHECK(core::random_bytes(24).size() == 24);
  CHECK(core::random_bytes(1 << 20).size() == 1 << 20);  // beyond 256 bytes, getrandom may return short
  CHECK(core::random_bytes(32) != core::random_bytes(32));
}

TEST_CASE("children inherit stdin, stdout and stderr only, whatever the caller and the library hold open") {
  CallerDescriptors caller;
  REQUIRE_FALSE(close_on_exec(caller.file));  // adversarial: these must leak unless the library closes them
  REQUIRE_FALSE(close_on_exec(caller.socket));
  Harness h;
  asio::steady_timer reactor(h.io);  // asio opens its epoll and timer descriptors with the first I/O object
  const fs::path daemon_log =
      fs::temp_directory_path() / ("pglift-fds-" + std::to_string(::getpid()) + ".log");
  std::error_code ignored;
  fs::remove(daemon_log, ignored);
  const std::set<int> before = open_descriptors();

  net::RequestOptions options;
  options.timeout = 60s;  // it never gets a reply: the scenario ends it
  auto request = net::request("GET", caller.endpoint, "/", {}, options);
  proc::Command holder{.argv = {"/bin/sleep", "30"}};
  auto other_command = proc::run(h.op, std::move(holder));
  auto scenario = observe_children(h, caller, before, daemon_log);
  // The first to finish (the scenario) cancels the others: the request, and the sleep (terminated).
  auto all = std::move(scenario) || std::move(request) || std::move(other_command);
  auto outcome = h.run(std::move(all));
  fs::remove(daemon_log, ignored);
  REQUIRE(outcome.index() == 0);
  const Inherited& seen = std::get<0>(outcome);
  const std::set<int> standard{0, 1, 2};
  CHECK_MESSAGE(seen.command == standard, "proc::run's child held " << describe(seen.command));
  CHECK_MESSAGE(seen.daemon == standard, "spawn_daemon's child held " << describe(seen.daemon));
  CHECK(open_descriptors() == before);  // and the library closed what it opened
}

TEST_CASE("proc::run refuses to fork on a thread that is not running an io_context (PR_SET_PDEATHSIG)") {
  Harness h;
  asio::thread_pool other{1};
  proc::Command command{.argv = {"/bin/true"}};
  auto future = asio::co_spawn(other, proc::run(h.op, std::move(command)), asio::use_future);
  CHECK_THROWS_WITH_AS(future.get(), doctest::Contains("io_context"), Error);
}

TEST_CASE("a command dies with the program that runs it") {
  // A unique argument finds our sleep among every process of the host.
  const std::vector<std::string> sleep_argv{"/bin/sleep", "600." + std::to_string(::getpid())};
  pid_t runner = ::fork();
  REQUIRE(runner >= 0);
  if (runner == 0) {  // the program using the library, killed below
    try {
      Harness h;
      proc::Command command{.argv = sleep_argv};
      h.run(proc::run(h.op, std::move(command)));
    } catch (...) {
    }
    ::_exit(0);
  }
  proc::Watched runner_process = proc::watch(runner), sleeper;
  struct Cleanup {  // on any outcome, nothing of ours left running (signals through pidfds: no PID reuse)
    proc::Watched& runner;
    proc::Watched& sleeper;
    ~Cleanup() {
      if (proc::send_signal(runner, SIGKILL)) ::waitpid(runner.pid, nullptr, 0);
      proc::send_signal(sleeper, SIGKILL);
    }
  } cleanup{runner_process, sleeper};

  for (auto deadline = Clock::now() + 10s; !sleeper.pidfd;) {
    REQUIRE_MESSAGE(Clock::now() < deadline, "the command did not start within 10s");
    if (pid_t pid = find_process(sleep_argv); pid > 0) sleeper = proc::watch(pid);
    else std::this_thread::sleep_for(2ms);
  }
  REQUIRE(proc::send_signal(runner_process, SIGKILL));
  REQUIRE(::waitpid(runner, nullptr, 0) == runner);
  runner_process = proc::Watched{};
  // The kernel signals the orphan as the runner exits: it is gone (or a zombie for init to reap) at once.
  const auto deadline = Clock::now() + 5s;
  while (!sleeper.exited() && Clock::now() < deadline) std::this_thread::sleep_for(2ms);
  CHECK_MESSAGE(sleeper.exited(), "the command outlived the program that ran it (PID " << sleeper.pid << ")");
}

TEST_CASE("a caller running with stdin, stdout and stderr closed still gives commands working ones") {
  // In a child of ours: closing our own 0, 1 and 2 would blind doctest. Our pipes then get those
  // numbers, and a dup2 onto itself would leave close-on-exec set (stdout closed at exec).
  pid_t caller = ::fork();
  REQUIRE(caller >= 0);
  if (caller == 0) {
    int verdict = 2;
    try {
      for (int fd : {0, 1, 2}) ::close(fd);
      Harness h;
      proc::Command command{.argv = {"/bin/sh", "-c", "echo out; echo err >&2; read x || echo eof"}};
      verdict = h.run(proc::run(h.op, std::move(command))).output == "out\nerr\neof\n" ? 0 : 1;
    } catch (...) {
    }
    ::_exit(verdict);
  }
  int status = 0;
  for (auto deadline = Clock::now() + 30s; ::waitpid(caller, &status, WNOHANG) != caller;) {
    if (Clock::now() >= deadline) {
      ::kill(caller, SIGKILL);
      ::waitpid(caller, &status, 0);
      FAIL("the command did not finish within 30s");
    }
    std::this_thread::sleep_for(2ms);
  }
  CHECK_MESSAGE(WIFEXITED(status), "status " << status);
  CHECK_MESSAGE(WEXITSTATUS(status) == 0, "1: wrong output, 2: an exception");
}
