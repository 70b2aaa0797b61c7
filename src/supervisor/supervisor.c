// pglift-supervisor: runs Patroni as its child and fences the member's PostgreSQL when Patroni dies
// without being asked to stop. Without it, a `kill -9` of a leader's Patroni leaves its postmaster running
// as a writable primary while the replica is promoted a TTL later: two writable primaries.
//
//   pglift-supervisor --data-dir DATADIR --log-dir LOGDIR -- PATRONI ARGS...
//
// Design (each choice for a reason):
// - PR_SET_CHILD_SUBREAPER: Patroni starts the postmaster through a helper that exits at once (its own
//   session, like pg_ctl), so the postmaster is re-parented to the nearest subreaper: us. It is our child
//   for its whole life; we reap it (and anything else re-parented to us), and its PID cannot be reused
//   before we reap it.
// - Patroni gets PR_SET_PDEATHSIG=SIGTERM: a killed supervisor makes Patroni stop PostgreSQL cleanly
//   and release its leader key (a SIGKILL of both at once is not covered: see the README).
// - SIGTERM or SIGINT to us is a requested stop (the library's `stop`): forwarded to Patroni as SIGTERM.
//   SIGHUP is forwarded as is (Patroni reloads its configuration).
// - Patroni exits without a requested stop: its postmaster is stopped at once (SIGQUIT: immediate
//   shutdown; SIGKILL of its process group after FENCE_DEADLINE_MS), the reason is written to our log
//   and, when a postmaster was stopped, to a 0600 JSON record (fence.json) that the library's next
//   operation on the instance reports. Then we exit with Patroni's status.
// - A postmaster still running after a requested stop is stopped too (fast, then immediate, then
//   SIGKILL): never a postmaster without its Patroni. No fence record then.
// - Then any other process Patroni ran that outlived it (re-parented to us: a pg_basebackup cloning into
//   the data directory when Patroni was killed) is stopped too (SIGTERM, then SIGKILL), as systemd stops
//   a unit's cgroup.
// - Signals arrive through a signalfd (no handler, nothing async-signal-unsafe); every wait is a poll
//   with a deadline on a pidfd, never a blind sleep.
// C and libc only: it is tiny, starts fast, and must work when everything else is broken.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/// How long an immediate shutdown (SIGQUIT) of a fenced postmaster may take before its process group
/// is killed: short, since a replica may be promoted as soon as the leader key expires.
#define FENCE_DEADLINE_MS 2000
/// How long a fast shutdown of a postmaster left behind by a requested stop may take.
#define FAST_STOP_DEADLINE_MS 20000
/// How long the kernel may take to end a process group after SIGKILL.
#define KILL_DEADLINE_MS 5000

/// How long a process that outlived Patroni (a pg_basebackup, say) may take to end after SIGTERM.
#define LEFTOVER_DEADLINE_MS 3000

static const char* data_dir;
static const char* log_dir;
static int log_fd = -1;

/// "2024-05-01T12:00:00.123Z" (UTC).
static void utc_now(char* out, size_t size) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char base[32];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, size, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

/// One line in LOGDIR/supervisor.log (and on stderr, Patroni's stderr log, when the log is not open).
static void log_line(const char* format, ...) {
  char when[40], text[1024];
  utc_now(when, sizeof when);
  va_list ap;
  va_start(ap, format);
  vsnprintf(text, sizeof text, format, ap);
  va_end(ap);
  char line[1200];
  int n = snprintf(line, sizeof line, "%s pglift-supervisor[%ld]: %s\n", when, (long)getpid(), text);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = (int)sizeof line - 1;
  if (log_fd < 0 || write(log_fd, line, (size_t)n) != n) (void)!write(STDERR_FILENO, line, (size_t)n);
}

static const char* signal_name(int signo) {
  const char* abbrev = sigabbrev_np(signo);
  static char buf[32];
  snprintf(buf, sizeof buf, "SIG%s", abbrev ? abbrev : "?");
  if (!abbrev) snprintf(buf, sizeof buf, "signal %d", signo);
  return buf;
}

static int pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
static int pidfd_signal(int pidfd, int signo) { return (int)syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0); }

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/// Waits until the process of `pidfd` exits (a pidfd is readable then, zombie or not) or `timeout_ms`
/// passes; true when it exited.
static bool wait_exit(int pidfd, int timeout_ms) {
  const long long deadline = now_ms() + timeout_ms;
  for (;;) {
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    long long left = deadline - now_ms();
    int r = poll(&p, 1, left > 0 ? (int)left : 0);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

/// Reaps every child that has exited (the postmaster and other processes re-parented to us included);
/// returns whether `patroni` was among them, its wait status in `*patroni_status`.
static bool reap_children(pid_t patroni, int* patroni_status) {
  bool patroni_exited = false;
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return patroni_exited;
    if (pid == patroni) {
      patroni_exited = true;
      *patroni_status = status;
    }
  }
}

/// The running postmaster of the data directory: its PID (first line of postmaster.pid) and a pidfd on
/// it, when that process is a postgres of this data directory (not a stale file whose PID was reused).
struct postmaster {
  pid_t pid;
  int pidfd;
};

static bool read_file(const char* path, char* buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  return true;
}

static bool find_postmaster(struct postmaster* pm) {
  char path[4096], text[512];
  snprintf(path, sizeof path, "%s/postmaster.pid", data_dir);
  if (!read_file(path, text, sizeof text)) return false;
  long pid = strtol(text, NULL, 10);
  if (pid <= 1) return false;
  int pidfd = pidfd_open((pid_t)pid);
  if (pidfd < 0) return false;
  // The pidfd designates one process for good; now check that it is this data directory's postgres.
  // Its command line is NUL-separated: look for the data directory as one of its arguments.
  char cmdline[8192];
  snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, cmdline, sizeof cmdline - 1);
  if (fd >= 0) close(fd);
  bool ours = false;
  if (n > 0) {
    cmdline[n] = '\0';
    for (const char* arg = cmdline; arg < cmdline + n; arg += strlen(arg) + 1)
      if (strcmp(arg, data_dir) == 0) ours = true;
    ours = ours && strstr(cmdline, "postgres") != NULL;
  }
  if (!ours) {
    close(pidfd);
    return false;
  }
  pm->pid = (pid_t)pid;
  pm->pidfd = pidfd;
  return true;
}

/// SIGKILL to the postmaster's process group (Patroni starts it in its own session), else to it alone.
static void kill_postmaster_group(const struct postmaster* pm) {
  pid_t group = getpgid(pm->pid);
  if (group == pm->pid) kill(-group, SIGKILL);
  else pidfd_signal(pm->pidfd, SIGKILL);
}

/// What was done to a postmaster, for the log line and the record.
struct stop_outcome {
  char sent[64];  ///< "SIGQUIT, SIGKILL"
  bool stopped;
};

static void add_sent(struct stop_outcome* out, const char* what) {
  size_t len = strlen(out->sent);
  snprintf(out->sent + len, sizeof out->sent - len, "%s%s", len ? ", " : "", what);
}

/// Sends `first` to the postmaster and waits `first_ms`; then, when `then` is non-zero, `then` with
/// FENCE_DEADLINE_MS; then SIGKILL of its process group.
static struct stop_outcome stop_postmaster(const struct postmaster* pm, int first, int first_ms, int then) {
  struct stop_outcome out = {.sent = "", .stopped = false};
  add_sent(&out, signal_name(first));
  if (pidfd_signal(pm->pidfd, first) != 0 || wait_exit(pm->pidfd, first_ms)) {
    out.stopped = true;
    return out;
  }
  if (then) {
    add_sent(&out, signal_name(then));
    if (pidfd_signal(pm->pidfd, then) != 0 || wait_exit(pm->pidfd, FENCE_DEADLINE_MS)) {
      out.stopped = true;
      return out;
    }
  }
  add_sent(&out, "SIGKILL (process group)");
  kill_postmaster_group(pm);
  out.stopped = wait_exit(pm->pidfd, KILL_DEADLINE_MS);
  return out;
}

/// "exited with status 1" or "was killed by signal 9 (SIGKILL)".
static void describe_exit(int status, char* out, size_t size) {
  if (WIFEXITED(status)) snprintf(out, size, "exited with status %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(out, size, "was killed by signal %d (%s)", WTERMSIG(status), signal_name(WTERMSIG(status)));
  else snprintf(out, size, "ended with wait status %d", status);
}

/// LOGDIR/fence.json, 0600, written atomically (a temporary file, fsync, rename): what the library's next
/// operation on the instance reports. Our own texts only: nothing to escape.
static void write_fence_record(const char* at, const char* reason, pid_t patroni, int status, const struct postmaster* pm,
                               const struct stop_outcome* outcome) {
  char path[4096], tmp[4200], exit_fields[96], json[2048];
  snprintf(path, sizeof path, "%s/fence.json", log_dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  if (WIFSIGNALED(status))
    snprintf(exit_fields, sizeof exit_fields, "\"patroni_exit_status\": null, \"patroni_signal\": %d", WTERMSIG(status));
  else
    snprintf(exit_fields, sizeof exit_fields, "\"patroni_exit_status\": %d, \"patroni_signal\": null",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  int n = snprintf(json, sizeof json,
                   "{\"at\": \"%s\", \"reason\": \"%s\", \"patroni_pid\": %ld, %s, \"postmaster_pid\": %ld, "
                   "\"sent\": \"%s\", \"postmaster_stopped\": %s}\n",
                   at, reason, (long)patroni, exit_fields, (long)pm->pid, outcome->sent, outcome->stopped ? "true" : "false");
  if (n < 0 || (size_t)n >= sizeof json) return;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    log_line("cannot write %s: %s", tmp, strerror(errno));
    return;
  }
  bool ok = write(fd, json, (size_t)n) == n && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp, path) != 0) {
    log_line("cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
  }
}

/// Patroni exited without a requested stop: stop its postmaster at once, say why.
static void fence(pid_t patroni, int status) {
  char how[96], reason[256], at[40];
  utc_now(at, sizeof at);
  describe_exit(status, how, sizeof how);
  struct postmaster pm;
  if (!find_postmaster(&pm)) {
    log_line("Patroni (PID %ld) %s without a requested stop; no postmaster running in %s", (long)patroni, how, data_dir);
    return;
  }
  snprintf(reason, sizeof reason, "Patroni (PID %ld) %s without a requested stop", (long)patroni, how);
  log_line("Patroni (PID %ld) %s without a requested stop: fencing its postmaster (PID %ld)", (long)patroni, how, (long)pm.pid);
  struct stop_outcome outcome = stop_postmaster(&pm, SIGQUIT, FENCE_DEADLINE_MS, 0);
  log_line("postmaster (PID %ld) %s after %s", (long)pm.pid, outcome.stopped ? "stopped" : "STILL RUNNING", outcome.sent);
  write_fence_record(at, reason, patroni, status, &pm, &outcome);
  close(pm.pidfd);
}

/// Patroni exited after a requested stop: a postmaster it left behind is stopped too (no record).
static void stop_leftover_postmaster(pid_t patroni, int status) {
  char how[96];
  describe_exit(status, how, sizeof how);
  struct postmaster pm;
  if (!find_postmaster(&pm)) {
    log_line("Patroni (PID %ld) %s after a requested stop", (long)patroni, how);
    return;
  }
  log_line("Patroni (PID %ld) %s after a requested stop, leaving its postmaster (PID %ld) running: stopping it",
           (long)patroni, how, (long)pm.pid);
  struct stop_outcome outcome = stop_postmaster(&pm, SIGINT, FAST_STOP_DEADLINE_MS, SIGQUIT);
  log_line("postmaster (PID %ld) %s after %s", (long)pm.pid, outcome.stopped ? "stopped" : "STILL RUNNING", outcome.sent);
  close(pm.pidfd);
}

/// Our children still running (not zombies): processes that Patroni ran and that outlived it, re-parented
/// to us (the subreaper). Up to `max` of them in `out`; their number.
static size_t running_children(pid_t self, pid_t* out, size_t max) {
  size_t n = 0;
  DIR* proc = opendir("/proc");
  if (!proc) return 0;
  struct dirent* e;
  while ((e = readdir(proc)) != NULL && n < max) {
    char* end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 1) continue;
    char path[64], stat[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (!read_file(path, stat, sizeof stat)) continue;
    // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses, the last ')' ends it.
    const char* after = strrchr(stat, ')');
    char state;
    long ppid;
    if (!after || sscanf(after + 1, " %c %ld", &state, &ppid) != 2) continue;
    if (ppid == (long)self && state != 'Z' && state != 'X') out[n++] = (pid_t)pid;
  }
  closedir(proc);
  return n;
}

/// What systemd's cgroup would end with the unit: a pg_basebackup, pg_rewind or initdb that Patroni ran
/// and that outlived it (Patroni killed during a replica clone), still writing into the data directory.
/// They are our children until reaped (their PIDs cannot be reused): SIGTERM, then SIGKILL after
/// LEFTOVER_DEADLINE_MS, reaping as they go.
static void stop_leftover_children(void) {
  const pid_t self = getpid();
  pid_t kids[64];
  int ignored;
  reap_children(-1, &ignored);
  size_t n = running_children(self, kids, 64);
  if (n == 0) return;
  for (size_t k = 0; k < n; ++k) {
    char path[64], comm[64] = "?";
    snprintf(path, sizeof path, "/proc/%ld/comm", (long)kids[k]);
    if (read_file(path, comm, sizeof comm)) comm[strcspn(comm, "\n")] = '\0';
    log_line("%s (PID %ld) outlived Patroni: stopping it (SIGTERM)", comm, (long)kids[k]);
    kill(kids[k], SIGTERM);
  }
  const long long deadline = now_ms() + LEFTOVER_DEADLINE_MS;
  bool killed = false;
  for (;;) {
    reap_children(-1, &ignored);
    n = running_children(self, kids, 64);
    if (n == 0) return;
    if (now_ms() >= deadline) {
      if (killed) {
        log_line("%zu process(es) still running after SIGKILL", n);
        return;
      }
      for (size_t k = 0; k < n; ++k) {
        log_line("PID %ld still running: SIGKILL", (long)kids[k]);
        kill(kids[k], SIGKILL);
      }
      killed = true;
    }
    struct timespec step = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};  // polled: exits come as SIGCHLD, blocked here
    nanosleep(&step, NULL);
  }
}

static int usage(void) {
  fprintf(stderr, "usage: pglift-supervisor --data-dir DIR --log-dir DIR -- PROGRAM [ARGS...]\n");
  return 2;
}

int main(int argc, char** argv) {
  int i = 1;
  for (; i < argc; ++i) {
    if (strcmp(argv[i], "--") == 0) {
      ++i;
      break;
    }
    if (i + 1 >= argc) return usage();
    if (strcmp(argv[i], "--data-dir") == 0) data_dir = argv[++i];
    else if (strcmp(argv[i], "--log-dir") == 0) log_dir = argv[++i];
    else return usage();
  }
  if (!data_dir || !log_dir || i >= argc) return usage();
  char** program = argv + i;

  char log_path[4096];
  snprintf(log_path, sizeof log_path, "%s/supervisor.log", log_dir);
  log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    log_line("cannot become a child subreaper: %s", strerror(errno));
    return 1;
  }
  // Blocked before fork: no signal is lost between fork and the first read of the signalfd.
  sigset_t handled;
  sigemptyset(&handled);
  const int signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP};
  for (size_t k = 0; k < sizeof signals / sizeof signals[0]; ++k) sigaddset(&handled, signals[k]);
  sigprocmask(SIG_BLOCK, &handled, NULL);
  int sfd = signalfd(-1, &handled, SFD_CLOEXEC);
  if (sfd < 0) {
    log_line("signalfd: %s", strerror(errno));
    return 1;
  }

  const pid_t self = getpid();
  pid_t patroni = fork();
  if (patroni < 0) {
    log_line("fork: %s", strerror(errno));
    return 1;
  }
  if (patroni == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    // A killed supervisor: Patroni stops PostgreSQL and releases its leader key. Checked after it is
    // set: were we already gone, the signal would never come.
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != self) _exit(127);
    execv(program[0], program);
    log_line("cannot execute %s: %s", program[0], strerror(errno));
    _exit(127);
  }
  log_line("started %s (PID %ld) for %s", program[0], (long)patroni, data_dir);

  bool stop_requested = false;
  int status = 0;
  for (;;) {
    struct signalfd_siginfo si;
    ssize_t n = read(sfd, &si, sizeof si);
    if (n != (ssize_t)sizeof si) {
      if (n < 0 && errno == EINTR) continue;
      log_line("reading signals: %s", n < 0 ? strerror(errno) : "short read");
      // Never leave Patroni unsupervised silently: ask it to stop, as a killed supervisor would.
      kill(patroni, SIGTERM);
      stop_requested = true;
      while (waitpid(patroni, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    const int signo = (int)si.ssi_signo;
    if (signo == SIGTERM || signo == SIGINT) {
      if (!stop_requested) log_line("stop requested (%s from PID %ld): forwarding SIGTERM to Patroni", signal_name(signo), (long)si.ssi_pid);
      stop_requested = true;
      kill(patroni, SIGTERM);  // Patroni is our unreaped child: its PID cannot be reused yet
    } else if (signo == SIGHUP) {
      kill(patroni, SIGHUP);
    } else if (signo == SIGCHLD && reap_children(patroni, &status)) {
      break;
    }
  }
  if (stop_requested) stop_leftover_postmaster(patroni, status);
  else fence(patroni, status);
  stop_leftover_children();
  int ignored;
  reap_children(-1, &ignored);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}
