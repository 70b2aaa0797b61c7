/* The process-wide effects that pglift.h promises, checked around a real create, get and drop at DEBUG
 * level: no signal disposition or mask of the process changed, no environment variable, locale or current
 * directory changed; every descriptor the library opened is close-on-exec; nothing written to stdout or
 * stderr; the library's threads get the signal mask of the thread calling pglift_ctx_new; and a child
 * of ours is never reaped by the library (only its own PIDs are waited for). */
#include "testutil.h" /* first: it defines _GNU_SOURCE */

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <locale.h>
#include <signal.h>
#include <sys/wait.h>

extern char **environ;

#define MAX_FDS 1024

static void open_fds(int *open) {
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int self;
  CHECK(d != NULL);
  self = dirfd(d);
  memset(open, 0, sizeof(int) * MAX_FDS);
  while ((e = readdir(d)) != NULL) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] != '.' && fd != self && fd < MAX_FDS) open[fd] = 1;
  }
  closedir(d);
}

static char *environment_text(void) {
  size_t n = 1, i;
  char *out;
  for (i = 0; environ[i]; ++i) n += strlen(environ[i]) + 1;
  out = malloc(n);
  CHECK(out != NULL);
  out[0] = 0;
  for (i = 0; environ[i]; ++i) {
    strcat(out, environ[i]);
    strcat(out, "\n");
  }
  return out;
}

/* The SigBlk mask of every thread of this process but `self`: each must block SIGUSR1. */
static int threads_block_sigusr1(pid_t self, int *threads) {
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  int all = 1;
  CHECK(d != NULL);
  *threads = 0;
  while ((e = readdir(d)) != NULL) {
    char path[300], line[256];
    FILE *f;
    if (e->d_name[0] == '.' || atoi(e->d_name) == self) continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
    if (!(f = fopen(path, "re"))) continue;
    while (fgets(line, sizeof line, f))
      if (strncmp(line, "SigBlk:", 7) == 0) {
        unsigned long long mask = strtoull(line + 7, NULL, 16);
        ++*threads;
        if (!(mask & (1ULL << (SIGUSR1 - 1)))) all = 0;
      }
    fclose(f);
  }
  closedir(d);
  return all;
}

int main(void) {
  static int before_fds[MAX_FDS], after_fds[MAX_FDS];
  struct sigaction before_act[NSIG], after_act;
  sigset_t block, before_mask, after_mask;
  char before_cwd[4096], after_cwd[4096], before_locale[256], spec[96], *before_env, *after_env, *json = NULL;
  char out_path[512], err_path[512];
  int saved_out, saved_err, sig, fd, threads;
  pid_t child;
  pglift_ctx *ctx = NULL;
  const char *prefix = test_prefix();

  /* The state of the process before the library is used. */
  for (sig = 1; sig < NSIG; ++sig) sigaction(sig, NULL, &before_act[sig]);
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  CHECK(pthread_sigmask(SIG_BLOCK, &block, NULL) == 0);
  CHECK(pthread_sigmask(SIG_BLOCK, NULL, &before_mask) == 0);
  CHECK(getcwd(before_cwd, sizeof before_cwd) != NULL);
  snprintf(before_locale, sizeof before_locale, "%s", setlocale(LC_ALL, NULL));
  before_env = environment_text();
  open_fds(before_fds);

  /* stdout and stderr go to files for the duration: the library must write nothing there. */
  snprintf(out_path, sizeof out_path, "%s/stdout", prefix);
  snprintf(err_path, sizeof err_path, "%s/stderr", prefix);
  fflush(NULL);
  saved_out = dup(1);
  saved_err = dup(2);
  fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  CHECK(fd >= 0 && dup2(fd, 1) == 1);
  close(fd);
  fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  CHECK(fd >= 0 && dup2(fd, 2) == 2);
  close(fd);

  /* A child of ours that ends while the library works: it must still be ours to reap. */
  child = fork();
  CHECK(child >= 0);
  if (child == 0) _exit(42);

  OK(pglift_ctx_new(NULL, &ctx, ERR));
  OK(pglift_ctx_set_log_level(ctx, PGLIFT_LOG_DEBUG, ERR));
  /* The library's threads start when needed, from whichever thread: they get the mask this thread had
   * at pglift_ctx_new, not the one it has when they start. */
  CHECK(pthread_sigmask(SIG_UNBLOCK, &block, NULL) == 0);
  snprintf(spec, sizeof spec, "{\"name\": \"effects\", \"port\": %d}", free_port());
  OK(pglift_instance_create(ctx, spec, strlen(spec), 0, &json, ERR));
  pglift_free(json);
  json = NULL;
  OK(pglift_instance_get(ctx, "effects", &json, ERR)); /* keeps its connection: the I/O thread runs */
  pglift_free(json);
  json = NULL;
  CHECK(threads_block_sigusr1(gettid(), &threads));
  CHECK(threads > 0);
  CHECK(pthread_sigmask(SIG_BLOCK, &block, NULL) == 0);

  /* While the context lives: every descriptor it opened (eventfd, epoll, sockets...) is close-on-exec. */
  open_fds(after_fds);
  for (fd = 0; fd < MAX_FDS; ++fd)
    if (after_fds[fd] && !before_fds[fd] && fd != 1 && fd != 2 && fd != saved_out && fd != saved_err) {
      int flags = fcntl(fd, F_GETFD);
      if (flags >= 0 && !(flags & FD_CLOEXEC)) {
        dprintf(saved_err, "descriptor %d opened by the library is not close-on-exec\n", fd);
        return 1;
      }
    }

  OK(pglift_instance_drop(ctx, "effects", ERR));
  {
    pglift_event *ev = NULL; /* drained without printing: stderr must stay empty */
    while (pglift_ctx_next_event(ctx, 0, &ev) == 1) pglift_event_free(ev);
  }
  pglift_ctx_free(ctx);

  {
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child); /* not reaped by the library */
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42);
  }

  fflush(NULL);
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  close(saved_out);
  close(saved_err);
  {
    struct stat st;
    CHECK(stat(out_path, &st) == 0);
    if (st.st_size != 0) {
      fprintf(stderr, "the library wrote %lld bytes to stdout\n", (long long)st.st_size);
      return 1;
    }
  }

  /* Nothing of the process changed. */
  for (sig = 1; sig < NSIG; ++sig) {
    if (sigaction(sig, NULL, &after_act) != 0) continue;
    if (after_act.sa_handler != before_act[sig].sa_handler || after_act.sa_flags != before_act[sig].sa_flags) {
      fprintf(stderr, "the disposition of signal %d changed\n", sig);
      return 1;
    }
  }
  CHECK(pthread_sigmask(SIG_BLOCK, NULL, &after_mask) == 0);
  for (sig = 1; sig < NSIG; ++sig) CHECK(sigismember(&after_mask, sig) == sigismember(&before_mask, sig));
  CHECK(getcwd(after_cwd, sizeof after_cwd) != NULL && strcmp(after_cwd, before_cwd) == 0);
  CHECK(strcmp(setlocale(LC_ALL, NULL), before_locale) == 0);
  after_env = environment_text();
  CHECK(strcmp(after_env, before_env) == 0);
  free(before_env);
  free(after_env);
  {
    struct stat st;
    CHECK(stat(err_path, &st) == 0);
    if (st.st_size != 0) {
      fprintf(stderr, "the library wrote %lld bytes to stderr\n", (long long)st.st_size);
      return 1;
    }
  }
  pglift_error_free(test_err);
  printf("process-wide effects: none beyond the promised ones (%d library threads block SIGUSR1 as we do)\n", threads);
  return 0;
}
