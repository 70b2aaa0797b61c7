#include "proc/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "core/files.hpp"
#include "core/system.hpp"
#include "core/text.hpp"
#include "pglift/errors.hpp"

extern char** environ;

namespace pglift::proc {
namespace fs = std::filesystem;

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}
Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

/// argv and envp as C arrays, built before fork: the child may only call async-signal-safe functions.
struct ExecArgs {
  std::vector<std::string> argv_s, env_s;
  std::vector<char*> argv, envp;
  ExecArgs(const std::vector<std::string>& args, const std::vector<std::pair<std::string, std::string>>& extra,
           bool clean = false)
      : argv_s(args) {
    std::map<std::string, std::string> env;
    for (char** e = clean ? nullptr : environ; e && *e; ++e) {
      std::string_view kv(*e);
      auto eq = kv.find('=');
      if (eq != std::string_view::npos) env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
    for (const auto& [k, v] : extra) env[k] = v;
    for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

/// In a forked child: default signal dispositions and an empty mask (the caller's threads may block or
/// ignore signals that the program we start relies on).
void reset_signals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2}) signal(s, SIG_DFL);
}

[[noreturn]] void exec_or_report(const ExecArgs& a, int report_fd) {
  ::execve(a.argv[0], a.argv.data(), a.envp.data());
  int err = errno;
  (void)!::write(report_fd, &err, sizeof err);
  _exit(127);
}

int decode_status(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return 255;
}

std::string program_label(const std::vector<std::string>& argv) { return argv.empty() ? "" : argv[0]; }

/// Reads an int reported by a child before exec; 0 when the pipe closed without data (exec succeeded).
int read_exec_errno(int fd) {
  int err = 0;
  ssize_t n;
  do n = ::read(fd, &err, sizeof err);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof err) ? err : 0;
}

awaitable<void> read_lines(asio::posix::stream_descriptor& pipe, const core::Op& op, const std::string& target,
                           const std::string& label, std::string& output) {
  char buf[8192];
  std::string partial;
  auto emit = [&](std::string_view line) {
    op.debug(label + ": " + std::string(line), target);
    output.append(line);
    output.push_back('\n');
    if (output.size() > 256 * 1024) output.erase(0, output.size() - 256 * 1024);
  };
  for (;;) {
    auto [ec, n] = co_await pipe.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (n > 0) {
      partial.append(buf, n);
      std::size_t pos;
      while ((pos = partial.find('\n')) != std::string::npos) {
        emit(std::string_view(partial).substr(0, pos));
        partial.erase(0, pos + 1);
      }
    }
    if (ec) break;  // EOF (or the pipe was closed)
  }
  if (!partial.empty()) emit(partial);
}

}  // namespace

bool Watched::exited() const {
  if (!pidfd) return !core::process_running(pid);
  pollfd p{pidfd.get(), POLLIN, 0};
  // Only POLLIN means "exited" (POLLNVAL/POLLERR would be a bad descriptor); and /proc must agree:
  // a process that is gone or a zombie (reaped by init later) no longer runs.
  return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) && !core::process_running(pid);
}

Watched watch(pid_t pid) {
  Watched w;
  w.pid = pid;
  int fd = pid > 0 ? pidfd_open(pid) : -1;
  if (fd >= 0) w.pidfd = Fd(fd);
  return w;
}

bool send_signal(const Watched& process, int signo) {
  if (!process.pidfd) return false;
  return ::syscall(SYS_pidfd_send_signal, process.pidfd.get(), signo, nullptr, 0) == 0;
}

awaitable<bool> wait_exit(Watched& process, std::chrono::milliseconds timeout) {
  if (process.exited()) co_return true;
  auto ex = co_await asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (process.pidfd) {
    asio::posix::stream_descriptor desc(ex, ::dup(process.pidfd.get()));
    asio::steady_timer timer(ex, timeout);
    co_await (desc.async_wait(asio::posix::descriptor_base::wait_read, asio::use_awaitable) ||
              timer.async_wait(asio::use_awaitable));
  }
  // The event says the process ended; confirm it (and cover the no-pidfd case) with a fine poll.
  asio::steady_timer tick(ex);
  while (!process.exited()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    tick.expires_after(std::chrono::milliseconds(10));
    co_await tick.async_wait(asio::use_awaitable);
  }
  co_return true;
}

awaitable<Result> run(const core::Op& op, Command command) {
  if (command.argv.empty()) throw Error(ErrorCode::internal, "empty command");
  std::string label = program_label(command.argv);
  op.debug(core::join(command.argv, " "), command.log_target.empty() ? "pglift.cmd" : command.log_target);
  ExecArgs args(command.argv, command.env);

  int out[2], report[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw SystemError(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(report, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    throw SystemError(std::string("pipe: ") + std::strerror(errno));
  }
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = ::fork();
  if (pid == 0) {
    // Its own process group, so that a timeout or a cancellation also ends what it started
    // (initdb's postgres --single, say).
    ::setpgid(0, 0);
    reset_signals();
    ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    exec_or_report(args, report[1]);
  }
  int fork_errno = errno;
  ::close(out[1]);
  ::close(report[1]);
  ::close(devnull);
  if (pid < 0) {
    ::close(out[0]);
    ::close(report[0]);
    throw SystemError(std::string("fork: ") + std::strerror(fork_errno));
  }
  Fd out_fd(out[0]);
  int exec_err = read_exec_errno(report[0]);
  ::close(report[0]);
  if (exec_err) {
    int ws;
    ::waitpid(pid, &ws, 0);
    throw CommandError(command.argv, 127, std::string("cannot execute: ") + std::strerror(exec_err));
  }
  Watched child = watch(pid);

  auto ex = co_await asio::this_coro::executor;
  asio::posix::stream_descriptor pipe(ex, out_fd.release());
  asio::posix::stream_descriptor exit_desc(ex, ::dup(child.pidfd.get()));
  asio::steady_timer timer(ex, command.timeout);
  Result result;
  const std::string target = command.log_target.empty() ? "pglift.cmd" : command.log_target;

  bool timed_out = false, cancelled = false;
  try {
    auto done = co_await ((read_lines(pipe, op, target, label, result.output) &&
                           exit_desc.async_wait(asio::posix::descriptor_base::wait_read, asio::use_awaitable)) ||
                          timer.async_wait(asio::use_awaitable));
    timed_out = done.index() == 1;
  } catch (...) {
    // operation_aborted, or asio's multiple_exceptions when both awaited branches were aborted:
    // the operation was cancelled while the command ran.
    cancelled = true;
  }
  if (timed_out || cancelled) {
    // Terminate, then kill if it does not comply: never leave a child behind.
    co_await asio::this_coro::reset_cancellation_state();
    co_await asio::this_coro::throw_if_cancelled(false);
    // The group: the leader is our unreaped child, so its PID (the group's ID) cannot be reused yet.
    ::kill(-pid, SIGTERM);
    if (!co_await wait_exit(child, 5s)) ::kill(-pid, SIGKILL);
    int ws;
    ::waitpid(pid, &ws, 0);
    ::kill(-pid, SIGKILL);  // stragglers of the group, if any
    if (cancelled) throw Cancelled("cancelled while running " + label);
    throw Timeout("command '" + core::join(command.argv, " ") + "' timed out after " +
                  std::to_string(command.timeout.count() / 1000) + "s\n" + core::tail_of(result.output));
  }
  int ws = 0;
  while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
  }
  result.status = decode_status(ws);
  if (command.check && result.status != 0)
    throw CommandError(command.argv, result.status, core::tail_of(result.output));
  co_return result;
}

Watched spawn_daemon(const core::Op& op, const DaemonSpec& spec) {
  op.debug("starting program '" + core::join(spec.argv, " ") + "'", "pglift.cmd");
  ExecArgs args(spec.argv, spec.env, spec.clean_env);
  int log = ::open(spec.log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (log < 0) throw SystemError("cannot open " + spec.log_file.string() + ": " + std::strerror(errno));
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    ::close(log);
    ::close(devnull);
    throw SystemError(std::string("pipe: ") + std::strerror(errno));
  }
  pid_t mid = ::fork();
  if (mid == 0) {
    // Intermediate: new session, fork the daemon, report its PID, exit. The daemon is then adopted
    // by init (or the nearest subreaper), never by the embedding program.
    ::setsid();
    pid_t daemon = ::fork();
    if (daemon == 0) {
      reset_signals();
      ::dup2(devnull, 0);
      ::dup2(log, 1);
      ::dup2(log, 2);
      if (::chdir("/") != 0) _exit(127);
      exec_or_report(args, report[1]);
    }
    (void)!::write(report[1], &daemon, sizeof daemon);
    _exit(daemon < 0 ? 1 : 0);
  }
  ::close(report[1]);
  ::close(log);
  ::close(devnull);
  if (mid < 0) {
    ::close(report[0]);
    throw SystemError(std::string("fork: ") + std::strerror(errno));
  }
  int ws;
  while (::waitpid(mid, &ws, 0) < 0 && errno == EINTR) {
  }
  pid_t daemon = -1;
  ssize_t n;
  do n = ::read(report[0], &daemon, sizeof daemon);
  while (n < 0 && errno == EINTR);
  // Open the pidfd before learning whether exec worked: the daemon cannot be reaped (and its PID
  // reused) until init notices it, and a pidfd taken now designates exactly it.
  Watched w = daemon > 0 ? watch(daemon) : Watched{};
  int exec_err = read_exec_errno(report[0]);
  ::close(report[0]);
  if (n != static_cast<ssize_t>(sizeof daemon) || daemon <= 0) throw SystemError("could not start " + spec.argv[0]);
  if (exec_err)
    throw CommandError(spec.argv, 127, std::string("cannot execute: ") + std::strerror(exec_err));
  return w;
}

void exec(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env) {
  ExecArgs args(argv, env);
  ::execve(args.argv[0], args.argv.data(), args.envp.data());
  throw SystemError("cannot execute " + argv[0] + ": " + std::strerror(errno));
}

fs::path find_program(const std::string& name, const std::vector<fs::path>& dirs) {
  if (name.find('/') != std::string::npos) return name;
  std::vector<fs::path> search = dirs;
  if (const char* path = std::getenv("PATH"))
    for (const auto& d : core::split(path, ':'))
      if (!d.empty()) search.emplace_back(d);
  for (const auto& d : search) {
    fs::path candidate = d / name;
    if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate;
  }
  throw NotFound("program", name);
}

}  // namespace pglift::proc
