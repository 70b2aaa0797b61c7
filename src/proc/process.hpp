// Subprocesses: argv vectors (never a shell), output streamed line by line as DEBUG events, a deadline,
// cancellation (SIGTERM, then SIGKILL). Daemons are double-forked into their own session so that they
// are never our children (no zombies for the embedding program, no reaping of anything we did not fork).
// All descriptors are O_CLOEXEC, and the programs we start get stdin, stdout and stderr only (even the
// embedding program's descriptors without O_CLOEXEC are closed in the child); no signal handler is installed.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/asio.hpp"
#include "core/op.hpp"

namespace pglift::proc {

using namespace std::chrono_literals;

/// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept;
  ~Fd();
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct Command {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env = {};  ///< added to (or replacing in) our environment
  std::chrono::milliseconds timeout = 120s;
  std::string log_target = {};  ///< target of the DEBUG events carrying its output lines
  bool check = true;       ///< throw CommandError on a non-zero exit
};

struct Result {
  int status = 0;      ///< exit code, or 128 + signal
  std::string output;  ///< stdout and stderr interleaved (the last 256 KiB)
};

/// Runs a command to completion. The command dies with us (PR_SET_PDEATHSIG, SIGKILL): it is forked on
/// the calling thread, which must be running an io_context (the Context's I/O thread, which outlives
/// every operation), since the signal fires when the forking *thread* ends; throws Error(internal)
/// otherwise.
awaitable<Result> run(const core::Op& op, Command command);

/// A process we watch through a pidfd (works for non-children too).
struct Watched {
  pid_t pid = -1;
  Fd pidfd;
  bool exited() const;  ///< non-blocking
};

/// Opens a pidfd on `pid`; the returned Watched has no pidfd when the process does not exist.
Watched watch(pid_t pid);
/// Waits until the process exits or the timeout passes; returns whether it exited.
awaitable<bool> wait_exit(Watched& process, std::chrono::milliseconds timeout);
/// Sends a signal through the pidfd (no PID reuse race); false when the process is gone.
bool send_signal(const Watched& process, int signo);

struct DaemonSpec {
  std::vector<std::string> argv;
  std::filesystem::path log_file;  ///< stdout and stderr, appended
  std::vector<std::pair<std::string, std::string>> env = {};
  /// Start from an empty environment (plus `env`) instead of ours: Patroni reads PATRONI_* variables
  /// as configuration, etcd every ETCD_* one.
  bool clean_env = false;
  /// Where the daemon's PID is written (0600, atomically) by the daemon itself just before exec, before
  /// anything waits on it: a caller killed at any point leaves a daemon that can be found and stopped.
  std::filesystem::path pid_file = {};
};

/// Starts a daemon in its own session, detached from us; throws CommandError when exec fails.
Watched spawn_daemon(const core::Op& op, const DaemonSpec& spec);

/// Replaces the current process (exec) with `argv`, environment `env` applied over ours.
[[noreturn]] void exec(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env);

/// `name` if it contains a slash, else the first executable `dir/name` in `dirs`, then in PATH.
std::filesystem::path find_program(const std::string& name, const std::vector<std::filesystem::path>& dirs);

}  // namespace pglift::proc
