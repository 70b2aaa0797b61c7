/* Streams through the C ABI (PGLIFT_HAS_DATA_EVENTS, PGLIFT_HAS_CLUSTER_WATCH): the log of a running
 * instance as DATA events, the statements a SELECT logs among them; cancel gives CANCELLED, also while
 * the op waits for room; with a tiny queue nothing is dropped (every marker, in order, once); the
 * cluster watch of a Patroni member sees a switchover (leader_changed, role_changed), then cancel; a
 * stream whose items are taken but kept stops at its window while other ops complete.
 * A private etcd from with_prefix.sh (LIBPGLIFT_TEST_WITH_ETCD=1) for the cluster part. */
#include "testutil.h" /* first: it defines _GNU_SOURCE */

#define MARKERS 40

/* How many DATA events collect() took that carried a marker of the tiny-queue test. */
static int marker_events;

/* Appends the DATA messages of `tag` to `text` (a growing buffer) until `until` appears in it or
 * timeout_s passes; OP_DONE of `tag` returns its state (else 0). Other events are printed and freed. */
static int collect(pglift_ctx *ctx, uint64_t tag, char **text, size_t *len, const char *until, double timeout_s) {
  double deadline = now_s() + timeout_s;
  while (!(until && contains(*text, until))) {
    pglift_event *ev = next_event_polled(ctx, deadline - now_s());
    if (!ev) return 0;
    if (pglift_event_kind_of(ev) == PGLIFT_EVENT_DATA && pglift_event_tag(ev) == tag) {
      const char *m = pglift_event_message(ev);
      size_t n = strlen(m);
      *text = realloc(*text, *len + n + 1);
      CHECK(*text != NULL);
      memcpy(*text + *len, m, n + 1);
      *len += n;
      if (contains(m, "'marker-")) ++marker_events;
    } else if (pglift_event_kind_of(ev) == PGLIFT_EVENT_OP_DONE && pglift_event_tag(ev) == tag) {
      int state = pglift_event_op_state(ev);
      pglift_event_free(ev);
      return state;
    } else {
      print_event(ev);
    }
    pglift_event_free(ev);
  }
  return 0;
}

/* stream window: DATA events of `tag` taken but kept (not freed), as a binding keeps its stream's items
 * until their reader wants them. */
#define WINDOW 4
static pglift_event *kept[WINDOW + 8];
static int nkept;

/* Takes events for up to timeout_s: DATA of `tag` kept (never more than WINDOW alive), others freed; an
 * OP_DONE of `done_tag` (when not 0) ends it. Returns 1 once a kept item holds `marker` (or that OP_DONE
 * came), else 0. */
static int take_keeping(pglift_ctx *ctx, uint64_t tag, const char *marker, uint64_t done_tag, double timeout_s) {
  double deadline = now_s() + timeout_s;
  for (;;) {
    pglift_event *ev = next_event_polled(ctx, deadline - now_s());
    if (!ev) return 0;
    if (pglift_event_kind_of(ev) == PGLIFT_EVENT_DATA && pglift_event_tag(ev) == tag) {
      CHECK(nkept < WINDOW); /* the window: no fifth item alive */
      kept[nkept++] = ev;
      if (marker && contains(pglift_event_message(ev), marker)) return 1;
      continue;
    }
    if (done_tag && pglift_event_kind_of(ev) == PGLIFT_EVENT_OP_DONE && pglift_event_tag(ev) == done_tag) {
      pglift_event_free(ev);
      return 1;
    }
    pglift_event_free(ev);
  }
}

static void free_kept(void) {
  while (nkept > 0) pglift_event_free(kept[--nkept]);
}

static int count_of(const char *text, const char *needle) {
  int n = 0;
  for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle)) ++n;
  return n;
}

static void logs(pglift_ctx *ctx) {
  char spec[256], sql[128], marker[32], *json = NULL, *text = NULL, *all = NULL;
  size_t len = 0;
  const char *previous = NULL;
  pglift_op *op = NULL;
  int i;

  snprintf(spec, sizeof spec, "{\"name\": \"logs\", \"port\": %d, \"settings\": {\"log_statement\": \"all\"}}",
           free_port());
  OK(pglift_instance_create(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, &json, ERR));
  pglift_free(json);

  /* Blocking: the current file as text, a logged password masked. */
  OK(pglift_database_run(ctx, "logs", "CREATE ROLE canary_role PASSWORD 'canary-secret-4711'",
                         "{\"databases\": [\"postgres\"]}", &json, ERR));
  pglift_free(json);
  OK(pglift_database_run(ctx, "logs", "SELECT 'blocking-marker'", NULL, &json, ERR));
  pglift_free(json);
  {
    double deadline = now_s() + 10; /* the logging collector writes after the statement ran */
    for (;;) {
      OK(pglift_instance_logs(ctx, "logs", &text, ERR));
      if (contains(text, "statement: SELECT 'blocking-marker'") || now_s() > deadline) break;
      pglift_free(text);
      sleep_ms(20);
    }
    CHECK(contains(text, "statement: SELECT 'blocking-marker'"));
    CHECK(contains(text, "canary_role") && !contains(text, "canary-secret-4711"));
    pglift_free(text);
    text = NULL;
  }
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_logs_async(ctx, "logs", 2, 1, &op, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "follow") == 0);
  FAILS(PGLIFT_E_NOT_FOUND, pglift_instance_logs(ctx, "nosuch", &text, ERR));

  /* Not following: the current content, then SUCCEEDED. */
  OK(pglift_instance_logs_async(ctx, "logs", 0, 2, &op, ERR));
  CHECK(collect(ctx, 2, &all, &len, NULL, 30) == PGLIFT_OP_SUCCEEDED);
  CHECK(contains(all, "statement: SELECT 'blocking-marker'"));
  CHECK(contains(all, "canary_role") && !contains(all, "canary-secret-4711"));
  pglift_op_free(op);
  free(all);
  all = NULL;
  len = 0;

  /* A queue of 1: the first chunk fills it, the op waits for room; a cancel still ends it at once. */
  OK(pglift_ctx_set_event_capacity(ctx, 1, ERR));
  OK(pglift_instance_logs_async(ctx, "logs", 1, 3, &op, ERR));
  for (i = 0; i < 5; ++i) {
    OK(pglift_database_run(ctx, "logs", "SELECT 'while-held'", NULL, &json, ERR));
    pglift_free(json);
  }
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_PENDING);
  pglift_op_cancel(op);
  CHECK(pglift_op_wait(op, 10000) == 1);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_CANCELLED);
  CHECK(pglift_error_code(pglift_op_error(op)) == PGLIFT_E_CANCELLED);
  CHECK(collect(ctx, 3, &all, &len, NULL, 10) == PGLIFT_OP_CANCELLED);
  pglift_op_free(op);
  free(all);
  all = NULL;
  len = 0;

  /* Following with a queue of 1 that nobody drains while 40 statements are logged: afterwards every
   * marker is there, once, in order: it dropped nothing. And it waited: the markers come in at most 3
   * events (the chunk held when the queue filled, then the rest of the file read at once), where a
   * producer that did not wait would have queued one event per write it saw. */
  OK(pglift_ctx_set_event_capacity(ctx, 1, ERR));
  OK(pglift_instance_logs_async(ctx, "logs", 1, 4, &op, ERR));
  for (i = 0; i < MARKERS; ++i) {
    snprintf(sql, sizeof sql, "SELECT 'marker-%02d'", i);
    OK(pglift_database_run(ctx, "logs", sql, "{\"databases\": [\"postgres\"]}", &json, ERR));
    pglift_free(json);
  }
  snprintf(marker, sizeof marker, "'marker-%02d'", MARKERS - 1);
  {
    double deadline = now_s() + 10; /* every marker in the file (the logging collector writes a bit later) */
    for (;;) {
      char *current = NULL;
      int there;
      OK(pglift_instance_logs(ctx, "logs", &current, ERR));
      there = contains(current, marker);
      pglift_free(current);
      if (there) break;
      CHECK(now_s() < deadline);
      sleep_ms(20);
    }
  }
  marker_events = 0;
  CHECK(collect(ctx, 4, &all, &len, marker, 30) == 0);
  fprintf(stderr, "the %d markers came in %d DATA events\n", MARKERS, marker_events);
  CHECK(marker_events >= 1 && marker_events <= 3);
  for (i = 0; i < MARKERS; ++i) {
    const char *at;
    snprintf(marker, sizeof marker, "'marker-%02d'", i);
    if (count_of(all, marker) != 1) fprintf(stderr, "%s %d times in:\n%s\n", marker, count_of(all, marker), all);
    CHECK(count_of(all, marker) == 1);
    at = strstr(all, marker);
    CHECK(previous == NULL || at > previous);
    previous = at;
  }
  CHECK(pglift_ctx_dropped_events(ctx) == 0);
  pglift_op_cancel(op);
  CHECK(collect(ctx, 4, &all, &len, NULL, 10) == PGLIFT_OP_CANCELLED);
  pglift_op_free(op);
  free(all);
  OK(pglift_ctx_set_event_capacity(ctx, 1024, ERR));

  /* The window: a stream whose items are taken but kept stops at WINDOW of them, while the context's
   * other events flow (a get completes); freeing them lets it go on, nothing lost. */
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_ctx_set_stream_window(ctx, 0, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "window") == 0);
  OK(pglift_ctx_set_stream_window(ctx, WINDOW, ERR));
  OK(pglift_instance_logs_async(ctx, "logs", 1, 8, &op, ERR));
  nkept = 0;
  for (i = 0; nkept < WINDOW; ++i) {
    /* One statement at a time, each awaited: one item each (or fewer while the logging collector lags). */
    CHECK(i < 40);
    snprintf(sql, sizeof sql, "SELECT 'window-%02d'", i);
    OK(pglift_database_run(ctx, "logs", sql, NULL, &json, ERR));
    pglift_free(json);
    snprintf(marker, sizeof marker, "'window-%02d'", i);
    take_keeping(ctx, 8, marker, 0, 5);
  }
  OK(pglift_database_run(ctx, "logs", "SELECT 'window-after'", NULL, &json, ERR));
  pglift_free(json);
  {
    pglift_op *get = NULL;
    OK(pglift_instance_get_async(ctx, "logs", 9, &get, ERR));
    CHECK(take_keeping(ctx, 8, NULL, 9, 30) == 1); /* the get's OP_DONE came; no fifth item did */
    CHECK(pglift_op_state_of(get) == PGLIFT_OP_SUCCEEDED);
    pglift_op_free(get);
  }
  CHECK(take_keeping(ctx, 8, NULL, 0, 1) == 0 && nkept == WINDOW); /* still held, with more in the file */
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_PENDING);
  free_kept();
  CHECK(take_keeping(ctx, 8, "'window-after'", 0, 10) == 1); /* room again: it goes on */
  free_kept();
  pglift_op_cancel(op);
  CHECK(drain_until_done(ctx, 8, 10) == PGLIFT_OP_CANCELLED);
  pglift_op_free(op);
  OK(pglift_ctx_set_stream_window(ctx, 256, ERR));

  /* A plain instance has no cluster to watch: the op fails (PGLIFT_E_STATE), the call did not. */
  OK(pglift_cluster_watch_async(ctx, "logs", 6, &op, ERR));
  CHECK(pglift_op_wait(op, 30000) == 1);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_FAILED);
  CHECK(pglift_error_code(pglift_op_error(op)) == PGLIFT_E_STATE);
  CHECK(contains(pglift_error_message(pglift_op_error(op)), "not managed by Patroni"));
  CHECK(drain_until_done(ctx, 6, 10) == PGLIFT_OP_FAILED);
  pglift_op_free(op);
  OK(pglift_instance_drop(ctx, "logs", ERR));
}

/* Where w2's role changes to master (from replica, or from promoted: Patroni may report that step), or NULL. */
static const char *w2_promoted(const char *all) {
  static const char head[] = "\"kind\":\"role_changed\",\"member\":\"w2\"";
  for (const char *p = all; p && (p = strstr(p, head)) != NULL; p += sizeof head - 1) {
    const char *end = strchr(p, '}'), *after = strstr(p, "\"after\":\"master\"");
    if (end && after && after < end) return p;
  }
  return NULL;
}

static void cluster(pglift_ctx *ctx) {
  char *json = NULL, *all = NULL;
  size_t len = 0;
  pglift_op *op = NULL;
  const char *names[2] = {"w1", "w2"};
  int i;
  patroni_member_create(ctx, names[0], "watched", "127.0.1.1");
  patroni_member_create(ctx, names[1], "watched", "127.0.1.2");
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_cluster_watch_async(ctx, NULL, 1, &op, ERR));

  OK(pglift_cluster_watch_async(ctx, "w1", 5, &op, ERR));
  /* The current state first. */
  CHECK(collect(ctx, 5, &all, &len, "\"kind\":\"leader_changed\",\"member\":\"w1\",\"before\":null,\"after\":\"w1\"", 30) == 0);
  CHECK(contains(all, "\"kind\":\"member_added\",\"member\":\"w1\""));
  CHECK(contains(all, "\"kind\":\"member_added\",\"member\":\"w2\""));
  OK(pglift_patroni_switchover(ctx, "w1", "w2", NULL, &json, ERR));
  pglift_free(json);
  {
    /* Until w2 reports itself master: its earlier uninitialized -> replica may come after the first state. */
    double deadline = now_s() + 60;
    while (!w2_promoted(all) && now_s() < deadline) CHECK(collect(ctx, 5, &all, &len, "\x01", 0.2) == 0);
  }
  fprintf(stderr, "cluster events:\n%s\n", all);
  /* In etcd's order: the old leader lets go, the new one takes the key, then reports its new role. */
  {
    const char *released = strstr(all, "\"kind\":\"leader_changed\",\"member\":\"w1\",\"before\":\"w1\",\"after\":null");
    const char *taken = strstr(all, "\"kind\":\"leader_changed\",\"member\":\"w2\",\"before\":null,\"after\":\"w2\"");
    const char *promoted = w2_promoted(all);
    CHECK(released != NULL && taken != NULL && promoted != NULL);
    CHECK(released < taken && taken < promoted);
  }
  pglift_op_cancel(op);
  CHECK(collect(ctx, 5, &all, &len, NULL, 10) == PGLIFT_OP_CANCELLED);
  pglift_op_free(op);
  free(all);
  for (i = 1; i >= 0; --i) OK(pglift_instance_drop(ctx, names[i], ERR));
}

int main(void) {
  pglift_ctx *ctx = patroni_test_ctx(PGLIFT_LOG_OFF);
  logs(ctx);
  cluster(ctx);
  test_end(ctx);
  fprintf(stderr, "ok\n");
  return 0;
}
