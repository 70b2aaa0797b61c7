/* Cancellation reverts: a creation cancelled mid-way (while initdb runs, while PostgreSQL starts),
 * a pending op freed, a context freed with a creation pending: each ends CANCELLED with no data
 * directory and no server left, and the instance can then be created for real. */
#include "testutil.h"

static char spec[256], instdir[1024];

/* Drains events of `tag` until a PROGRESS begin whose title starts with `text`, or (kind LOG) a log
 * message containing `text`. */
static void wait_for(pglift_ctx *ctx, uint64_t tag, int kind, const char *text) {
  double deadline = now_s() + 120;
  for (;;) {
    pglift_event *ev = next_event_polled(ctx, deadline - now_s());
    int found;
    CHECK(ev != NULL);
    print_event(ev);
    CHECK(pglift_event_kind_of(ev) != PGLIFT_EVENT_OP_DONE); /* it must not end before */
    found = pglift_event_tag(ev) == tag && pglift_event_kind_of(ev) == kind &&
            (kind == PGLIFT_EVENT_PROGRESS
                 ? pglift_event_progress_phase(ev) == PGLIFT_PROGRESS_BEGIN &&
                       strncmp(pglift_event_message(ev), text, strlen(text)) == 0
                 : contains(pglift_event_message(ev), text));
    pglift_event_free(ev);
    if (found) return;
  }
}

/* Drains until OP_DONE of tag; returns how many "reverting" warnings came before it. */
static int drain_reverts(pglift_ctx *ctx, uint64_t tag, int *state) {
  double deadline = now_s() + 120;
  int reverts = 0;
  for (;;) {
    pglift_event *ev = next_event_polled(ctx, deadline - now_s());
    CHECK(ev != NULL);
    print_event(ev);
    if (pglift_event_kind_of(ev) == PGLIFT_EVENT_LOG && contains(pglift_event_message(ev), "reverting")) ++reverts;
    if (pglift_event_kind_of(ev) == PGLIFT_EVENT_OP_DONE && pglift_event_tag(ev) == tag) {
      *state = pglift_event_op_state(ev);
      CHECK(pglift_event_status(ev) == (*state == PGLIFT_OP_CANCELLED ? PGLIFT_E_CANCELLED : PGLIFT_OK));
      pglift_event_free(ev);
      return reverts;
    }
    pglift_event_free(ev);
  }
}

static void nothing_left(pglift_ctx *ctx) {
  char *json = NULL;
  CHECK(!path_exists(instdir));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_instance_get(ctx, "15/cnl", &json, ERR));
  OK(pglift_instance_list(ctx, NULL, &json, ERR));
  CHECK(strcmp(json, "[]") == 0);
  pglift_free(json);
}

static void cancel_during(pglift_ctx *ctx, uint64_t tag, int kind, const char *event, int min_reverts) {
  pglift_op *op = NULL;
  int state = -1, reverts;
  fprintf(stderr, "--- cancel at '%s'\n", event);
  OK(pglift_instance_create_async(ctx, spec, strlen(spec), 0, tag, &op, ERR));
  wait_for(ctx, tag, kind, event);
  CHECK(path_exists(instdir)); /* the path we check afterwards is the right one */
  pglift_op_cancel(op);
  pglift_op_cancel(op); /* idempotent */
  reverts = drain_reverts(ctx, tag, &state);
  CHECK(state == PGLIFT_OP_CANCELLED);
  CHECK(reverts >= min_reverts);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_CANCELLED);
  CHECK(pglift_error_code(pglift_op_error(op)) == PGLIFT_E_CANCELLED);
  CHECK(pglift_op_result(op) == NULL);
  pglift_op_free(op);
  nothing_left(ctx);
}

int main(void) {
  pglift_ctx *ctx = NULL;
  pglift_op *op = NULL;
  char *json = NULL;
  int state = -1;

  snprintf(spec, sizeof spec, "{\"name\": \"cnl\", \"version\": \"15\", \"port\": %d}", free_port());
  snprintf(instdir, sizeof instdir, "%s/srv/pgsql/15/cnl", test_prefix());
  OK(pglift_ctx_new(NULL, &ctx, ERR));
  OK(pglift_ctx_set_log_level(ctx, PGLIFT_LOG_DEBUG, ERR));

  /* initdb killed once it has made the data directory (its output says so, at DEBUG): removed */
  cancel_during(ctx, 1, PGLIFT_EVENT_LOG, "creating subdirectories", 1);
  /* initdb and configuration done, the server starting: stopped and deleted */
  cancel_during(ctx, 2, PGLIFT_EVENT_PROGRESS, "starting PostgreSQL", 2);

  fprintf(stderr, "--- free a pending op\n");
  OK(pglift_instance_create_async(ctx, spec, strlen(spec), 0, 3, &op, ERR));
  pglift_op_free(op); /* cancels; the OP_DONE event still comes */
  drain_reverts(ctx, 3, &state);
  CHECK(state == PGLIFT_OP_CANCELLED);
  nothing_left(ctx);

  fprintf(stderr, "--- free the context with a creation pending\n");
  OK(pglift_instance_create_async(ctx, spec, strlen(spec), 0, 4, &op, ERR));
  wait_for(ctx, 4, PGLIFT_EVENT_PROGRESS, "starting PostgreSQL");
  pglift_ctx_free(ctx); /* returns once the creation has been reverted */
  CHECK(pglift_op_wait(op, 0) == 1 && pglift_op_state_of(op) == PGLIFT_OP_CANCELLED);
  pglift_op_free(op);
  CHECK(!path_exists(instdir));

  fprintf(stderr, "--- and now for real\n");
  OK(pglift_ctx_new(NULL, &ctx, ERR));
  nothing_left(ctx);
  OK(pglift_instance_create(ctx, spec, strlen(spec), 0, &json, ERR));
  pglift_free(json);
  /* cancelling an op that has ended changes nothing */
  OK(pglift_instance_status_async(ctx, "15/cnl", 5, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1);
  pglift_op_cancel(op);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  pglift_op_free(op);
  OK(pglift_instance_drop(ctx, "15/cnl", ERR));
  nothing_left(ctx);
  pglift_ctx_free(ctx);
  pglift_error_free(test_err);
  puts("ok");
  return 0;
}
