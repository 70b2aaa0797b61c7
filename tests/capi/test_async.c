/* A real instance through the *_async calls, drained through the event queue the way an event loop
 * does (poll on pglift_ctx_event_fd): every op ends with one OP_DONE after its own log and progress
 * events; concurrent reads; results are those of the blocking calls. */
#include "testutil.h"

#define MAX_TAG 32

struct seen {
  int logs[MAX_TAG], progress[MAX_TAG], done[MAX_TAG], state[MAX_TAG];
};

/* Drains until the OP_DONE of every tag in tags[0..n), checking that nothing of an op follows its end. */
static void drain_ops(pglift_ctx *ctx, struct seen *s, const uint64_t *tags, int n) {
  double deadline = now_s() + 120;
  int i, pending = n;
  while (pending > 0) {
    pglift_event *ev = next_event_polled(ctx, deadline - now_s());
    uint64_t tag;
    CHECK(ev != NULL);
    print_event(ev);
    tag = pglift_event_tag(ev);
    CHECK(tag < MAX_TAG);
    CHECK(!s->done[tag]); /* an op's events all precede its OP_DONE, which comes once */
    switch (pglift_event_kind_of(ev)) {
      case PGLIFT_EVENT_LOG: ++s->logs[tag]; break;
      case PGLIFT_EVENT_PROGRESS: ++s->progress[tag]; break;
      case PGLIFT_EVENT_OP_DONE:
        s->done[tag] = 1;
        s->state[tag] = pglift_event_op_state(ev);
        for (i = 0; i < n; ++i)
          if (tags[i] == tag) --pending;
        break;
      default: CHECK(!"unknown event kind");
    }
    pglift_event_free(ev);
  }
}

static pglift_op *run_one(pglift_ctx *ctx, struct seen *s, pglift_op *op) {
  uint64_t tag = pglift_op_tag(op);
  drain_ops(ctx, s, &tag, 1);
  CHECK(pglift_op_wait(op, 0) == 1);
  if (pglift_op_state_of(op) != PGLIFT_OP_SUCCEEDED)
    fprintf(stderr, "op %llu failed: %s\n", (unsigned long long)tag, pglift_error_message(pglift_op_error(op)));
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED && s->state[tag] == PGLIFT_OP_SUCCEEDED);
  return op;
}

int main(void) {
  static struct seen s;
  pglift_ctx *ctx = NULL;
  pglift_op *create = NULL, *get = NULL, *status = NULL, *list = NULL, *env = NULL, *op = NULL;
  char spec[256], expect[2048], datadir[1024];
  const char *json;
  const uint64_t reads[] = {2, 3, 4, 5};
  int port = free_port();

  OK(pglift_ctx_new(NULL, &ctx, ERR));
  snprintf(spec, sizeof spec, "{\"name\": \"asy\", \"version\": \"15\", \"port\": %d}", port);
  snprintf(datadir, sizeof datadir, "%s/srv/pgsql/15/asy/data", test_prefix());

  OK(pglift_instance_create_async(ctx, spec, strlen(spec), 0, 1, &create, ERR));
  memset(spec, 'x', sizeof spec - 1); /* the library copied what it keeps: our buffer is ours again */
  CHECK(pglift_op_tag(create) == 1);
  run_one(ctx, &s, create);
  CHECK(s.logs[1] > 0 && s.progress[1] >= 6 && s.progress[1] % 2 == 0); /* each step begins and ends */
  json = pglift_op_result(create);
  CHECK(contains(json, "\"name\":\"asy\"") && contains(json, "\"state\":\"started\""));
  CHECK(pglift_op_error(create) == NULL);
  pglift_op_free(create);

  /* reads run concurrently */
  OK(pglift_instance_get_async(ctx, "15/asy", 2, &get, ERR));
  OK(pglift_instance_status_async(ctx, "15/asy", 3, &status, ERR));
  OK(pglift_instance_list_async(ctx, NULL, 4, &list, ERR));
  OK(pglift_instance_env_async(ctx, "asy", 5, &env, ERR));
  drain_ops(ctx, &s, reads, 4);
  CHECK(contains(pglift_op_result(get), "\"data_directory\":\"") && contains(pglift_op_result(get), datadir));
  CHECK(contains(pglift_op_result(status), "\"postgresql\":\"running\""));
  snprintf(expect, sizeof expect, "\"port\":%d", port);
  CHECK(contains(pglift_op_result(list), expect) && contains(pglift_op_result(list), "\"status\":\"running\""));
  snprintf(expect, sizeof expect, "\"PGPORT\":\"%d\"", port);
  CHECK(contains(pglift_op_result(env), expect));
  pglift_op_free(get);
  pglift_op_free(status);
  pglift_op_free(list);
  pglift_op_free(env);

  OK(pglift_instance_reload_async(ctx, "15/asy", 6, &op, ERR));
  pglift_op_free(run_one(ctx, &s, op));
  OK(pglift_instance_restart_async(ctx, "15/asy", PGLIFT_STOP_FAST, 7, &op, ERR));
  CHECK(pglift_op_result(run_one(ctx, &s, op)) == NULL); /* no result, and no error */
  CHECK(pglift_op_error(op) == NULL);
  pglift_op_free(op);
  OK(pglift_instance_stop_async(ctx, "15/asy", PGLIFT_STOP_IMMEDIATE, 8, &op, ERR));
  pglift_op_free(run_one(ctx, &s, op));
  OK(pglift_instance_start_async(ctx, "15/asy", 9, &op, ERR));
  /* waiting on the op itself also works; its OP_DONE is still queued */
  CHECK(pglift_op_wait(op, 120000) == 1);
  pglift_op_free(run_one(ctx, &s, op));
  CHECK(s.logs[9] >= 1);

  /* a second mutation while one runs on the same instance: one of them is refused as busy */
  {
    pglift_op *a = NULL, *b = NULL;
    const uint64_t both[] = {10, 11};
    OK(pglift_instance_restart_async(ctx, "15/asy", PGLIFT_STOP_FAST, 10, &a, ERR));
    OK(pglift_instance_reload_async(ctx, "15/asy", 11, &b, ERR));
    drain_ops(ctx, &s, both, 2);
    if (s.state[10] == PGLIFT_OP_FAILED || s.state[11] == PGLIFT_OP_FAILED) {
      const pglift_error *e = pglift_op_error(s.state[10] == PGLIFT_OP_FAILED ? a : b);
      CHECK(pglift_error_code(e) == PGLIFT_E_BUSY && pglift_error_is_retriable(e));
    } /* else the first ended before the second began: fine too */
    pglift_op_free(a);
    pglift_op_free(b);
  }

  OK(pglift_instance_drop_async(ctx, "15/asy", 12, &op, ERR));
  pglift_op_free(run_one(ctx, &s, op));
  CHECK(!path_exists(datadir));
  CHECK(drain_now(ctx) == 0);
  CHECK(pglift_ctx_dropped_events(ctx) == 0);
  pglift_ctx_free(ctx);
  pglift_error_free(test_err);
  puts("ok");
  return 0;
}
