/*
 * The physical floor of starting and stopping PostgreSQL, for bench/run.py: the least a program can do.
 *
 *   floor start   POSTGRES DATADIR CONNINFO LOGFILE   postgres -D DATADIR, spawned directly (its own
 *                                                     session, output to LOGFILE), then PQping every
 *                                                     1 ms until it accepts connections
 *   floor stop    DATADIR [immediate]                 SIGINT (fast shutdown; SIGQUIT: immediate) to the
 *                                                     postmaster named by DATADIR/postmaster.pid, then a
 *                                                     wait on its pidfd
 *   floor restart POSTGRES DATADIR CONNINFO LOGFILE   stop, then start
 *
 * Exit status 0 once done, 1 on failure (message on stderr), each wait bounded by 120 s.
 * Built by bench/run.sh: cc -O2 floor.c $(pkg-config --cflags --libs libpq).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_S 120

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what) {
  fprintf(stderr, "floor: %s\n", what);
  return 1;
}

static int start(const char *postgres, const char *datadir, const char *conninfo, const char *logfile) {
  pid_t pid = fork();
  if (pid < 0)
    return fail("fork failed");
  if (pid == 0) {
    setsid(); /* a daemon, as ours: no terminal signal reaches it */
    int null = open("/dev/null", O_RDONLY);
    int log = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null < 0 || log < 0)
      _exit(127);
    dup2(null, 0);
    dup2(log, 1);
    dup2(log, 2);
    execl(postgres, "postgres", "-D", datadir, (char *)NULL);
    _exit(127);
  }
  const struct timespec ms = {0, 1000000};
  double deadline = now_s() + DEADLINE_S;
  for (;;) {
    if (PQping(conninfo) == PQPING_OK)
      return 0;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      fprintf(stderr, "floor: postgres exited (status %d) before accepting connections; see %s\n", status,
              logfile);
      return 1;
    }
    if (now_s() > deadline)
      return fail("postgres does not accept connections after 120 s");
    nanosleep(&ms, NULL);
  }
}

static pid_t postmaster_pid(const char *datadir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/postmaster.pid", datadir);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  long pid = -1;
  if (fscanf(f, "%ld", &pid) != 1)
    pid = -1;
  fclose(f);
  return (pid_t)pid;
}

static int stop(const char *datadir, int sig) {
  pid_t pid = postmaster_pid(datadir);
  if (pid <= 0)
    return fail("no postmaster.pid: not running");
  /* The pidfd first: the PID cannot be reused under us between the signal and the wait. */
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0)
    return fail("pidfd_open failed (Linux >= 5.3 needed)");
  if (kill(pid, sig) != 0) {
    close(pidfd);
    return fail("kill failed");
  }
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  int r;
  do
    r = poll(&p, 1, DEADLINE_S * 1000);
  while (r < 0 && errno == EINTR);
  close(pidfd);
  return r == 1 ? 0 : fail("the postmaster did not exit within 120 s");
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "stop") == 0)
    return stop(argv[2], SIGINT);
  if (argc == 4 && strcmp(argv[1], "stop") == 0 && strcmp(argv[3], "immediate") == 0)
    return stop(argv[2], SIGQUIT);
  if (argc == 6 && strcmp(argv[1], "start") == 0)
    return start(argv[2], argv[3], argv[4], argv[5]);
  if (argc == 6 && strcmp(argv[1], "restart") == 0)
    return stop(argv[3], SIGINT) || start(argv[2], argv[3], argv[4], argv[5]);
  fprintf(stderr, "usage: floor start|restart POSTGRES DATADIR CONNINFO LOGFILE\n"
                  "       floor stop DATADIR [immediate]\n");
  return 2;
}
