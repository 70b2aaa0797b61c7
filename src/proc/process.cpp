#include "proc/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <cerrno>
#include <cstring>
#include <map>

#include "core/coro.hpp"
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

/// In a forked child: sends errno up the report pipe, then exits.
[[noreturn]] void report_and_exit(int report_fd) {
  int err = errno;
  (void)!::write(report_fd, &err, sizeof err);
  _exit(127);
}

[[noreturn]] void exec_or_report(const ExecArgs& a, int report_fd) {
  ::execve(a.argv[0], a.argv.data(), a.envp.data());
  report_and_exit(report_fd);
}

/// The highest descriptor number the fallback of close_from() tries, taken before fork (getrlimit is a
/// system call, but not on POSIX's list of async-signal-safe functions).
int descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > (1u << 20))
    return 1 << 20;
  return static_cast<int>(limit.rlim_cur);
}

/// In a forked child: closes every descriptor from `first` on (close_range, Linux 5.9; else one by one).
void close_from(int first, int limit) {
  if (::close_range(static_cast<unsigned>(first), ~0U, 0) == 0) return;
  for (int fd = first; fd < limit; ++fd) ::close(fd);
}

/// In a forked child, before exec: stdin from `in`, stdout and stderr to `out`, the report pipe moved to
/// descriptor 3 (still close-on-exec: exec closes it, which tells the parent that exec worked), and nothing
/// else. Our descriptors are all close-on-exec, but the embedding program's need not be: none of them must
/// reach initdb, postgres or Patroni (a daemon holding a caller's socket or lock file keeps it open for
/// its whole life). Each source is first duplicated above 2, so that no dup2 overwrites another source
/// (when the caller runs with 0, 1 or 2 closed, our pipes get those numbers) and every dup2 really
/// duplicates (dup2(fd, fd) would keep the close-on-exec flag). Returns the report descriptor.
int arrange_descriptors(int in, int out, int report, int limit) {
  report = ::fcntl(report, F_DUPFD_CLOEXEC, 3);
  if (report < 0) _exit(127);  // nowhere to report to: the parent sees an exit without exec
  in = ::fcntl(in, F_DUPFD_CLOEXEC, 3);
  out = ::fcntl(out, F_DUPFD_CLOEXEC, 3);
  if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) report_and_exit(report);
  if (report != 3) {
    if (::dup3(report, 3, O_CLOEXEC) < 0) report_and_exit(report);
    report = 3;
  }
  close_from(4, limit);
  return report;
}

/// A duplicate that asio's descriptor may own (and close), close-on-exec like everything we open.
int dup_cloexec(int fd) { return ::fcntl(fd, F_DUPFD_CLOEXEC, 0); }

/// A pipe, both ends close-on-exec.
struct Pipe {
  Fd read, write;
};
Pipe cloexec_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw SystemError(std::string("pipe: ") + std::strerror(errno));
  return {Fd(fds[0]), Fd(fds[1])};
}

Fd open_devnull() {
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw SystemError(std::string("cannot open /dev/null: ") + std::strerror(errno));
  return Fd(fd);
}

/// proc::run forks on the thread running its coroutine, and PR_SET_PDEATHSIG fires when that *thread*
/// ends, not the process: were it a pool thread that exits on its own, a running initdb would be
/// killed. So the fork must happen on an io_context's thread: in the library, the Context's I/O thread,
/// which lives as long as the Context (whose destructor waits for every operation, hence every child,
/// before joining it), or the thread of a blocking call running its own operation, which waits for it
/// (ops/context_impl.hpp: no other operation runs there); in tests, the thread calling io_context::run.
void require_io_context_thread(const asio::any_io_executor& ex) {
  const auto* io = ex.target<asio::io_context::executor_type>();
  if (!io || !io->running_in_this_thread())
    throw Error(ErrorCode::internal, "proc::run must be awaited on the thread running an io_context");
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
    int exit_fd = dup_cloexec(process.pidfd.get());
    if (exit_fd < 0) throw SystemError(std::string("cannot duplicate a pidfd: ") + std::strerror(errno));
    asio::posix::stream_descriptor desc(ex, exit_fd);
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
  auto ex = co_await asio::this_coro::executor;
  require_io_context_thread(ex);
  std::string label = program_label(command.argv);
  op.debug(core::join(command.argv, " "), command.log_target.empty() ? "pglift.cmd" : command.log_target);
  ExecArgs args(command.argv, command.env);

  Pipe out = cloexec_pipe(), report = cloexec_pipe();
  Fd devnull = open_devnull();
  const int limit = descriptor_limit();
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // Its own process group, so that a timeout or a cancellation also ends what it started
    // (initdb's postgres --single, say).
    ::setpgid(0, 0);
    reset_signals();
    // Dies with us: a command must not outlive the program that waits for it (killed, it cannot). The
    // signal is tied to the forking thread: see require_io_context_thread. Set it, then check that the
    // parent did not die before (we would then be an orphan already, and never get the signal).
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) report_and_exit(report.write.get());
    if (::getppid() != parent) _exit(127);
    exec_or_report(args, arrange_descriptors(devnull.get(), out.write.get(), report.write.get(), limit));
  }
  int fork_errno = errno;
  out.write = Fd();
  report.write = Fd();
  devnull = Fd();
  if (pid < 0) throw SystemError(std::string("fork: ") + std::strerror(fork_errno));
  int exec_err = read_exec_errno(report.read.get());
  report.read = Fd();
  if (exec_err) {
    int ws;
    ::waitpid(pid, &ws, 0);
    throw CommandError(command.argv, 127, std::string("cannot execute: ") + std::strerror(exec_err));
  }
  Watched child = watch(pid);
  int exit_fd = dup_cloexec(child.pidfd.get());  // fails too when there is no pidfd
  if (exit_fd < 0) {
    int err = errno;
    ::kill(-pid, SIGKILL);
    int ws;
    ::waitpid(pid, &ws, 0);
    throw SystemError("cannot watch " + label + ": " + std::strerror(err));
  }
  asio::posix::stream_descriptor exit_desc(ex, exit_fd);
  asio::posix::stream_descriptor pipe(ex, out.read.release());
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
    // Terminate, then kill if it does not comply: never leave a child behind, even when a second
    // cancellation comes (the context being freed).
    co_await asio::this_coro::reset_cancellation_state(core::no_cancellation);
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

namespace {
/// "<pid>\n" into `path` through `tmp` and a rename, with async-signal-safe calls only (a forked child).
void write_pid_file(const char* path, const char* tmp, pid_t pid) {
  char text[24];
  int n = 0;
  char digits[20];
  int d = 0;
  for (auto v = static_cast<unsigned long>(pid); d == 0 || v > 0; v /= 10) digits[d++] = static_cast<char>('0' + v % 10);
  while (d > 0) text[n++] = digits[--d];
  text[n++] = '\n';
  int fd = ::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  bool ok = ::write(fd, text, static_cast<size_t>(n)) == n && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp, path) != 0) ::unlink(tmp);
}
}  // namespace

Watched spawn_daemon(const core::Op& op, const DaemonSpec& spec) {
  op.debug("starting program '" + core::join(spec.argv, " ") + "'", "pglift.cmd");
  ExecArgs args(spec.argv, spec.env, spec.clean_env);
  Fd log(::open(spec.log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!log) throw SystemError("cannot open " + spec.log_file.string() + ": " + std::strerror(errno));
  Fd devnull = open_devnull();
  Pipe report = cloexec_pipe();
  const int limit = descriptor_limit();
  // Paths built before fork: the intermediate may only make async-signal-safe calls.
  const std::string pid_file = spec.pid_file.string(), pid_tmp = pid_file.empty() ? "" : pid_file + ".tmp";
  pid_t mid = ::fork();
  if (mid == 0) {
    // Intermediate: new session, fork the daemon, report its PID, exit. The daemon is then adopted
    // by init (or the nearest subreaper), never by the embedding program. No PR_SET_PDEATHSIG here:
    // a daemon outlives us by design.
    ::setsid();
    pid_t daemon = ::fork();
    if (daemon == 0) {
      reset_signals();
      int report_fd = arrange_descriptors(devnull.get(), log.get(), report.write.get(), limit);
      if (::chdir("/") != 0) _exit(127);
      // Its own PID, before exec: the file exists before the program runs and before anyone waits.
      if (!pid_file.empty()) write_pid_file(pid_file.c_str(), pid_tmp.c_str(), ::getpid());
      exec_or_report(args, report_fd);
    }
    (void)!::write(report.write.get(), &daemon, sizeof daemon);
    _exit(daemon < 0 ? 1 : 0);
  }
  int fork_errno = errno;
  report.write = Fd();
  log = Fd();
  devnull = Fd();
  if (mid < 0) throw SystemError(std::string("fork: ") + std::strerror(fork_errno));
  int ws;
  while (::waitpid(mid, &ws, 0) < 0 && errno == EINTR) {
  }
  pid_t daemon = -1;
  ssize_t n;
  do n = ::read(report.read.get(), &daemon, sizeof daemon);
  while (n < 0 && errno == EINTR);
  // Open the pidfd before learning whether exec worked: the daemon cannot be reaped (and its PID
  // reused) until init notices it, and a pidfd taken now designates exactly it.
  Watched w = daemon > 0 ? watch(daemon) : Watched{};
  int exec_err = read_exec_errno(report.read.get());
  report.read = Fd();
  if (n != static_cast<ssize_t>(sizeof daemon) || daemon <= 0) throw SystemError("could not start " + spec.argv[0]);
  if (exec_err) {
    if (!pid_file.empty()) ::unlink(pid_file.c_str());
    throw CommandError(spec.argv, 127, std::string("cannot execute: ") + std::strerror(exec_err));
  }
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
