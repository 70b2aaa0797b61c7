/* Helpers of the C ABI tests: checks that stop the test with a message, a free TCP port, event draining,
 * and the Patroni tests' setup (patroni_test_ctx, members). Tests run under with_prefix.sh, which provides
 * the prefix and the settings (and, with LIBPGLIFT_TEST_WITH_ETCD=1, a private etcd). */
#ifndef PGLIFT_TESTUTIL_H
#define PGLIFT_TESTUTIL_H

#define _GNU_SOURCE /* SOCK_CLOEXEC, clock_gettime under -std=c11 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pglift/pglift.h>

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                              \
    }                                                                       \
  } while (0)

/* The error of the last OK()/FAILS() call: OK(pglift_instance_get(ctx, "15/x", &json, ERR)). */
static pglift_error *test_err;
#define ERR (&test_err)

#define OK(call)                                                                                   \
  do {                                                                                             \
    int rc_;                                                                                       \
    pglift_error_free(test_err);                                                                   \
    test_err = NULL;                                                                               \
    rc_ = (call);                                                                                  \
    if (rc_ != PGLIFT_OK) {                                                                        \
      fprintf(stderr, "%s:%d: %s failed: %d (%s) %s\n", __FILE__, __LINE__, #call, rc_,            \
              pglift_status_name(rc_), test_err ? pglift_error_message(test_err) : "(no error object)"); \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

/* Expects `call` to fail with `status`; test_err then holds its error. */
#define FAILS(status, call)                                                                        \
  do {                                                                                             \
    int rc_;                                                                                       \
    pglift_error_free(test_err);                                                                   \
    test_err = NULL;                                                                               \
    rc_ = (call);                                                                                  \
    if (rc_ != (status) || !test_err || pglift_error_code(test_err) != (status)) {                 \
      fprintf(stderr, "%s:%d: %s: expected %s, got %d (%s) %s\n", __FILE__, __LINE__, #call,       \
              pglift_status_name(status), rc_, pglift_status_name(rc_),                            \
              test_err ? pglift_error_message(test_err) : "(no error object)");                    \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

static inline int contains(const char *haystack, const char *needle) {
  return haystack && strstr(haystack, needle) != NULL;
}

static inline const char *test_prefix(void) {
  const char *p = getenv("LIBPGLIFT_TEST_PREFIX");
  if (!p) {
    fprintf(stderr, "LIBPGLIFT_TEST_PREFIX is not set: run this test through with_prefix.sh\n");
    exit(1);
  }
  return p;
}

/* A TCP port nobody listens on now, chosen by the kernel. */
static inline int free_port(void) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int port, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK(fd >= 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
  CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
  port = ntohs(a.sin_port);
  close(fd);
  return port;
}

static inline int path_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static inline double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* An integer from the environment (tests' tuning knobs), or `fallback`. */
static inline int env_int(const char *name, int fallback) {
  const char *v = getenv(name);
  return v && *v ? atoi(v) : fallback;
}

/* The share of a sweep this run takes: LIBPGLIFT_TEST_SWEEP_RUN="k/n" (1 <= k <= n) keeps the points whose
 * index i (delay = i * step) has i % n == k - 1, so that each of n runs sweeps the whole range at n
 * steps apart, shifted by one step from the previous run, and the n runs together cover every point
 * (each point with the mode a single run would give it: the mode follows the index). Unset: every point. */
static inline void sweep_share(int *first, int *stride) {
  const char *v = getenv("LIBPGLIFT_TEST_SWEEP_RUN");
  int k = 1, n = 1;
  if (v && *v && (sscanf(v, "%d/%d", &k, &n) != 2 || n < 1 || k < 1 || k > n)) {
    fprintf(stderr, "LIBPGLIFT_TEST_SWEEP_RUN=%s: expected k/n with 1 <= k <= n\n", v);
    exit(2);
  }
  *first = k - 1;
  *stride = n;
  if (n > 1) printf("sweep run %d of %d: points %d, %d, ... (every %d)\n", k, n, k - 1, k - 1 + n, n);
}

static inline void sleep_ms(int ms) {
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

/* How many live processes (zombies excluded) have `needle` in their command line; each is printed. */
static inline int processes_naming(const char *needle) {
  DIR *proc = opendir("/proc");
  struct dirent *e;
  int found = 0;
  CHECK(proc != NULL);
  while ((e = readdir(proc)) != NULL) {
    char path[300], buf[8192], stat[512];
    FILE *f;
    size_t n, i;
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    if (!(f = fopen(path, "re"))) continue;
    n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = 0;
    if (strstr(stat, ") Z ") || strstr(stat, ") X ")) continue;
    snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
    if (!(f = fopen(path, "re"))) continue;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    for (i = 0; i < n; ++i)
      if (!buf[i]) buf[i] = ' ';
    buf[n] = 0;
    if (strstr(buf, needle)) {
      fprintf(stderr, "  PID %s: %s\n", e->d_name, buf);
      ++found;
    }
  }
  closedir(proc);
  return found;
}

static inline void print_event(const pglift_event *ev) {
  switch (pglift_event_kind_of(ev)) {
    case PGLIFT_EVENT_LOG:
      fprintf(stderr, "  [%llu] %-7s %s: %s\n", (unsigned long long)pglift_event_tag(ev),
              pglift_log_level_name(pglift_event_log_level(ev)), pglift_event_target(ev), pglift_event_message(ev));
      break;
    case PGLIFT_EVENT_PROGRESS:
      fprintf(stderr, "  [%llu] %s '%s'\n", (unsigned long long)pglift_event_tag(ev),
              pglift_event_progress_phase(ev) == PGLIFT_PROGRESS_BEGIN ? "begin" : "end", pglift_event_message(ev));
      break;
    case PGLIFT_EVENT_OP_DONE:
      fprintf(stderr, "  [%llu] done: state %d, %s %s\n", (unsigned long long)pglift_event_tag(ev),
              pglift_event_op_state(ev), pglift_status_name(pglift_event_status(ev)), pglift_event_message(ev));
      break;
    default:
      fprintf(stderr, "  unknown event kind %d\n", pglift_event_kind_of(ev));
  }
}

/* Waits (up to timeout_s) until the context's event fd is readable, then takes one event; the way an
 * event loop would. NULL when nothing came in time. */
static inline pglift_event *next_event_polled(pglift_ctx *ctx, double timeout_s) {
  double deadline = now_s() + timeout_s;
  for (;;) {
    pglift_event *ev = NULL;
    struct pollfd p;
    int left_ms = (int)((deadline - now_s()) * 1000);
    if (pglift_ctx_next_event(ctx, 0, &ev) == 1) return ev;
    if (left_ms <= 0) return NULL;
    p.fd = pglift_ctx_event_fd(ctx);
    p.events = POLLIN;
    p.revents = 0;
    CHECK(poll(&p, 1, left_ms) >= 0);
  }
}

/* Drains events until the OP_DONE of `tag` (printing them); returns that op state. */
static inline int drain_until_done(pglift_ctx *ctx, uint64_t tag, double timeout_s) {
  double deadline = now_s() + timeout_s;
  for (;;) {
    pglift_event *ev = next_event_polled(ctx, deadline - now_s());
    int state;
    CHECK(ev != NULL); /* timed out */
    print_event(ev);
    if (pglift_event_kind_of(ev) == PGLIFT_EVENT_OP_DONE && pglift_event_tag(ev) == tag) {
      state = pglift_event_op_state(ev);
      pglift_event_free(ev);
      return state;
    }
    pglift_event_free(ev);
  }
}

/* Takes every queued event without waiting; returns how many. */
static inline int drain_now(pglift_ctx *ctx) {
  int n = 0;
  pglift_event *ev = NULL;
  while (pglift_ctx_next_event(ctx, 0, &ev) == 1) {
    print_event(ev);
    pglift_event_free(ev);
    ++n;
  }
  return n;
}

/* ---- Patroni tests: a private etcd from with_prefix.sh (LIBPGLIFT_TEST_WITH_ETCD=1) ---- */

/* The private etcd's endpoint (host:port), LIBPGLIFT_TEST_ETCD; without it, the test is skipped: exit 77. */
static inline const char *patroni_test_etcd(void) {
  const char *endpoint = (test_prefix(), getenv("LIBPGLIFT_TEST_ETCD")); /* no prefix: a failure, first */
  if (!endpoint) {
    puts("SKIP: no etcd (run through with_prefix.sh with LIBPGLIFT_TEST_WITH_ETCD=1)");
    exit(77);
  }
  return endpoint;
}

/* The Patroni tests' settings: the test prefix, `etcd` (host:port) as the DCS, and short Patroni timings
 * (loop_wait 2 s, ttl 10 s, retry_timeout 3 s, create_timeout 120 s). */
static inline pglift_settings *patroni_test_settings(const char *etcd) {
  const char *prefix = test_prefix();
  char json[1024];
  pglift_settings *settings = NULL;
  CHECK(snprintf(json, sizeof json,
                 "{\"prefix\": \"%s\", \"run_prefix\": \"%s/run\", \"patroni\": {\"etcd\": {\"hosts\": [\"%s\"]}, "
                 "\"loop_wait\": 2, \"ttl\": 10, \"retry_timeout\": 3, \"create_timeout\": 120}}",
                 prefix, prefix, etcd) < (int)sizeof json);
  OK(pglift_settings_from_json(json, strlen(json), &settings, ERR));
  return settings;
}

/* A context on patroni_test_settings with the private etcd (skipped, 77, without it), its log events
 * below `log_level` not queued (PGLIFT_LOG_INFO: the library's default). Free it with test_end. */
static inline pglift_ctx *patroni_test_ctx(int log_level) {
  pglift_settings *settings = patroni_test_settings(patroni_test_etcd());
  pglift_ctx *ctx = NULL;
  OK(pglift_ctx_new(settings, &ctx, ERR)); /* the settings are copied */
  pglift_settings_free(settings);
  OK(pglift_ctx_set_log_level(ctx, log_level, ERR));
  return ctx;
}

/* The spec of Patroni member `name` (its node name too) of `cluster`: PostgreSQL and the REST API on free
 * ports, both reached at `address` (127.0.1.x: each member of a cluster its own). */
static inline void patroni_member_spec(char *out, size_t size, const char *name, const char *cluster,
                                       const char *address) {
  CHECK(snprintf(out, size,
                 "{\"name\": \"%s\", \"port\": %d, \"patroni\": {\"cluster\": \"%s\", \"node\": \"%s\", "
                 "\"restapi\": {\"connect_address\": \"%s:%d\"}, \"postgresql\": {\"connect_host\": \"%s\"}}}",
                 name, free_port(), cluster, name, address, free_port(), address) < (int)size);
}

/* Creates that member (blocking, PGLIFT_CREATE_DEFAULT): it is then its cluster's leader or a replica. */
static inline void patroni_member_create(pglift_ctx *ctx, const char *name, const char *cluster,
                                         const char *address) {
  char spec[512], *json = NULL;
  patroni_member_spec(spec, sizeof spec, name, cluster, address);
  OK(pglift_instance_create(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, &json, ERR));
  pglift_free(json);
}

/* The data directory of instance `name` (PostgreSQL 15) under the test prefix. */
static inline void test_datadir(char *out, size_t size, const char *name) {
  CHECK(snprintf(out, size, "%s/srv/pgsql/15/%s/data", test_prefix(), name) < (int)size);
}

/* The Patroni configuration file of member `name` (PostgreSQL 15) under the test prefix. */
static inline void test_patroni_yaml(char *out, size_t size, const char *name) {
  CHECK(snprintf(out, size, "%s/etc/patroni/15-%s.yaml", test_prefix(), name) < (int)size);
}

/* Instance `name` is gone: no data directory, no live process naming it. */
static inline void check_instance_gone(const char *name) {
  char datadir[512];
  test_datadir(datadir, sizeof datadir, name);
  CHECK(!path_exists(datadir));
  CHECK(processes_naming(datadir) == 0);
}

/* Drops member `name` with its cluster's keys (PGLIFT_DROP_REMOVE_CLUSTER: the last member), and checks
 * that nothing of it is left. */
static inline void patroni_member_drop(pglift_ctx *ctx, const char *name) {
  OK(pglift_instance_drop_with(ctx, name, PGLIFT_DROP_REMOVE_CLUSTER, ERR));
  check_instance_gone(name);
}

/* The end of a test: the context freed (NULL: none), and the last error. */
static inline void test_end(pglift_ctx *ctx) {
  pglift_ctx_free(ctx);
  pglift_error_free(test_err);
  test_err = NULL;
}

#endif
