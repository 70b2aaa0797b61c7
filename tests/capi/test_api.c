/* The C ABI without a PostgreSQL server: versions, status names, NULL-safe frees, error objects,
 * settings and context lifetimes, argument checks, failures reported by ops and events, the event queue
 * (wakeup, timeout, eventfd), and ops outliving their context. */
#include "testutil.h"

static void versions_and_names(void) {
  char expected[32];
  snprintf(expected, sizeof expected, "%d.%d.%d", PGLIFT_VERSION_MAJOR, PGLIFT_VERSION_MINOR, PGLIFT_VERSION_PATCH);
  CHECK(strcmp(pglift_version(), expected) == 0);
  CHECK(PGLIFT_VERSION_CHECK(0, 1, 0));
  CHECK(!PGLIFT_VERSION_CHECK(PGLIFT_VERSION_MAJOR + 1, 0, 0));
  CHECK(strcmp(pglift_status_name(PGLIFT_OK), "ok") == 0);
  CHECK(strcmp(pglift_status_name(PGLIFT_E_NOT_FOUND), "not_found") == 0);
  CHECK(strcmp(pglift_status_name(PGLIFT_E_BUSY), "busy") == 0);
  CHECK(strcmp(pglift_status_name(PGLIFT_E_WOULD_LOSE_DATA), "would_lose_data") == 0);
  CHECK(strcmp(pglift_status_name(PGLIFT_E_READ_ONLY), "read_only") == 0);
  CHECK(strcmp(pglift_status_name(PGLIFT_E_INVALID_ARGUMENT), "invalid_argument") == 0);
  CHECK(strcmp(pglift_status_name(-55), "unknown") == 0);
  CHECK(strcmp(pglift_status_name(3), "unknown") == 0);
  CHECK(strcmp(pglift_log_level_name(PGLIFT_LOG_WARNING), "WARNING") == 0);
  CHECK(strcmp(pglift_log_level_name(11), "UNKNOWN") == 0);
}

static void null_handles(void) {
  pglift_event *ev = NULL;
  /* every destructor accepts NULL */
  pglift_free(NULL);
  pglift_error_free(NULL);
  pglift_settings_free(NULL);
  pglift_ctx_free(NULL);
  pglift_op_free(NULL);
  pglift_event_free(NULL);
  /* neither crash nor lie on NULL */
  pglift_op_cancel(NULL);
  pglift_ctx_wakeup(NULL);
  CHECK(pglift_op_state_of(NULL) == PGLIFT_E_INVALID_ARGUMENT);
  CHECK(pglift_op_wait(NULL, 0) == PGLIFT_E_INVALID_ARGUMENT);
  CHECK(pglift_op_result(NULL) == NULL);
  CHECK(pglift_op_error(NULL) == NULL);
  CHECK(pglift_ctx_event_fd(NULL) == -1);
  CHECK(pglift_ctx_next_event(NULL, 0, &ev) == PGLIFT_E_INVALID_ARGUMENT && ev == NULL);
  CHECK(pglift_event_kind_of(NULL) == PGLIFT_E_INVALID_ARGUMENT);
  CHECK(strcmp(pglift_error_message(NULL), "") == 0);
  /* a NULL output or handle is an error object, not a crash */
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_ctx_new(NULL, NULL, ERR));
  CHECK(contains(pglift_error_message(test_err), "out"));
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_instance_get(NULL, "15/x", NULL, ERR));
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_ctx_set_log_level(NULL, PGLIFT_LOG_INFO, ERR));
  /* err may be NULL: the status alone comes back */
  CHECK(pglift_ctx_new(NULL, NULL, NULL) == PGLIFT_E_INVALID_ARGUMENT);
  pglift_error_free(test_err);
  test_err = NULL;
}

static void settings(void) {
  pglift_settings *s = NULL;
  pglift_ctx *ctx = NULL;
  char *json = NULL, doc[4096];
  const char *prefix = test_prefix();

  FAILS(PGLIFT_E_SETTINGS, pglift_settings_from_json("{\"nope\": 1}", 11, &s, ERR));
  CHECK(s == NULL);
  CHECK(contains(pglift_error_message(test_err), "nope"));
  /* (pointer, length): the document needs no terminator */
  snprintf(doc, sizeof doc, "{\"prefix\": \"%s/other\", \"run_prefix\": \"%s/other/run\"}XXXX", prefix, prefix);
  OK(pglift_settings_from_json(doc, strlen(doc) - 4, &s, ERR));
  OK(pglift_settings_to_json(s, &json, ERR));
  CHECK(contains(json, "/other"));
  pglift_free(json);
  /* the context copies the settings: they may go first */
  OK(pglift_ctx_new(s, &ctx, ERR));
  pglift_settings_free(s);
  OK(pglift_ctx_settings_json(ctx, &json, ERR));
  CHECK(contains(json, "/other/run"));
  pglift_free(json);
  pglift_ctx_free(ctx);

  /* from the environment (with_prefix.sh sets SETTINGS) */
  OK(pglift_settings_load(&s, ERR));
  OK(pglift_settings_to_json(s, &json, ERR));
  CHECK(contains(json, prefix));
  pglift_free(json);
  pglift_settings_free(s);
}

static void context_lifetimes(void) {
  int i;
  for (i = 0; i < 5; ++i) {
    pglift_ctx *ctx = NULL;
    OK(pglift_ctx_new(NULL, &ctx, ERR));
    CHECK(ctx != NULL && pglift_ctx_event_fd(ctx) >= 0);
    pglift_ctx_free(ctx);
  }
}

static void argument_errors(pglift_ctx *ctx) {
  char *json = NULL;
  pglift_op *op = NULL;
  const char *bad_name = "{\"name\": \"bad/name\"}";
  const char *bad_port = "{\"name\": \"x\", \"port\": 70000}";
  const char *unknown = "{\"name\": \"x\", \"colour\": \"blue\"}";
  const char *fine = "{\"name\": \"x\"}";

  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create(ctx, bad_name, strlen(bad_name), 0, &json, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "name") == 0);
  CHECK(contains(pglift_error_message(test_err), "slash"));
  CHECK(pglift_error_exit_status(test_err) == -1 && strcmp(pglift_error_detail(test_err), "") == 0);
  CHECK(!pglift_error_is_retriable(test_err));
  CHECK(json == NULL);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create(ctx, bad_port, strlen(bad_port), 0, &json, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "port") == 0);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create(ctx, unknown, strlen(unknown), 0, &json, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "colour") == 0);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create(ctx, fine, strlen(fine), 0x80, &json, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "flags") == 0);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_start_with(ctx, "15/x", 0x80, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "flags") == 0);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_stop(ctx, "15/x", 7, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "mode") == 0);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_get(ctx, "15//x", &json, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "instance") == 0);
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_instance_get(ctx, NULL, &json, ERR));
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_ctx_set_event_capacity(ctx, 0, ERR));

  /* a failed *_async call: no op, and nothing is ever delivered for it */
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create_async(ctx, bad_name, strlen(bad_name), 0, 7, &op, ERR));
  CHECK(op == NULL);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_restart_async(ctx, "15/x", -1, 8, &op, ERR));
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_start_with_async(ctx, "15/x", 0x80, 8, &op, ERR));
  CHECK(op == NULL);
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_instance_drop_async(ctx, "15/x", 9, NULL, ERR));
  CHECK(op == NULL);
  CHECK(drain_now(ctx) == 0);

  OK(pglift_instance_schema(&json, ERR));
  CHECK(contains(json, "\"$schema\"") && contains(json, "\"surole_password\""));
  pglift_free(json);
  OK(pglift_role_schema(&json, ERR));
  CHECK(contains(json, "\"$schema\"") && contains(json, "\"in_roles\""));
  pglift_free(json);
  OK(pglift_database_schema(&json, ERR));
  CHECK(contains(json, "\"$schema\"") && contains(json, "\"extensions\""));
  pglift_free(json);
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_role_schema(NULL, ERR));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_instance_log_file(ctx, "15/nosuch", &json, ERR));
}

static void failures_of_ops(pglift_ctx *ctx) {
  char *json = NULL;
  pglift_op *get = NULL, *env = NULL, *list = NULL;
  const pglift_error *e;
  pglift_event *ev = NULL;
  int done = 0;

  FAILS(PGLIFT_E_NOT_FOUND, pglift_instance_get(ctx, "15/missing", &json, ERR));
  CHECK(contains(pglift_error_message(test_err), "missing"));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_instance_get(ctx, "missing", &json, ERR));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_instance_env(ctx, "15/missing", &json, ERR));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_instance_drop(ctx, "15/missing", ERR));
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_get(ctx, "14/missing", &json, ERR)); /* not installed */
  CHECK(strcmp(pglift_error_field(test_err), "version") == 0);
  CHECK(json == NULL);
  OK(pglift_instance_list(ctx, NULL, &json, ERR));
  CHECK(strcmp(json, "[]") == 0);
  pglift_free(json);

  /* a missing instance is found missing by the op, not by the call */
  OK(pglift_instance_get_async(ctx, "15/missing", 11, &get, ERR));
  OK(pglift_instance_list_async(ctx, "15", 12, &list, ERR));
  /* env completes before returning */
  OK(pglift_instance_env_async(ctx, "15/missing", 13, &env, ERR));
  CHECK(pglift_op_state_of(env) == PGLIFT_OP_FAILED);
  CHECK(pglift_op_wait(env, 0) == 1);
  CHECK(pglift_op_tag(env) == 13);

  while (done < 3) {
    ev = next_event_polled(ctx, 30);
    CHECK(ev != NULL);
    if (pglift_event_kind_of(ev) == PGLIFT_EVENT_OP_DONE) {
      ++done;
      switch (pglift_event_tag(ev)) {
        case 11:
        case 13:
          CHECK(pglift_event_op_state(ev) == PGLIFT_OP_FAILED);
          CHECK(pglift_event_status(ev) == PGLIFT_E_NOT_FOUND);
          CHECK(contains(pglift_event_message(ev), "missing"));
          break;
        case 12:
          CHECK(pglift_event_op_state(ev) == PGLIFT_OP_SUCCEEDED && pglift_event_status(ev) == PGLIFT_OK);
          CHECK(strcmp(pglift_event_message(ev), "") == 0);
          break;
        default:
          CHECK(!"unexpected tag");
      }
    }
    pglift_event_free(ev);
  }
  /* when OP_DONE is taken, the op has ended */
  CHECK(pglift_op_state_of(get) == PGLIFT_OP_FAILED);
  e = pglift_op_error(get);
  CHECK(e && pglift_error_code(e) == PGLIFT_E_NOT_FOUND);
  CHECK(pglift_op_result(get) == NULL);
  CHECK(pglift_op_state_of(list) == PGLIFT_OP_SUCCEEDED);
  CHECK(strcmp(pglift_op_result(list), "[]") == 0 && pglift_op_error(list) == NULL);
  pglift_op_cancel(list); /* no-op once ended */
  CHECK(pglift_op_state_of(list) == PGLIFT_OP_SUCCEEDED);
  pglift_op_free(get);
  pglift_op_free(list);
  pglift_op_free(env);
}

static void event_queue(pglift_ctx *ctx) {
  pglift_event *ev = NULL;
  struct pollfd p;
  double t0;
  int fd = pglift_ctx_event_fd(ctx), i;
  pglift_op *ops[5];

  /* empty: a poll times out, the fd is not readable */
  t0 = now_s();
  CHECK(pglift_ctx_next_event(ctx, 100, &ev) == 0 && ev == NULL);
  CHECK(now_s() - t0 >= 0.09);
  p.fd = fd;
  p.events = POLLIN;
  CHECK(poll(&p, 1, 0) == 0);
  /* a wakeup made while nobody waits is kept for the next wait, and shows on the fd */
  pglift_ctx_wakeup(ctx);
  CHECK(poll(&p, 1, 0) == 1);
  t0 = now_s();
  CHECK(pglift_ctx_next_event(ctx, -1, &ev) == 0 && ev == NULL);
  CHECK(now_s() - t0 < 1);
  CHECK(poll(&p, 1, 0) == 0);
  CHECK(pglift_ctx_next_event(ctx, 0, &ev) == 0);

  /* completions are never dropped, whatever the bound */
  OK(pglift_ctx_set_event_capacity(ctx, 1, ERR));
  for (i = 0; i < 5; ++i) OK(pglift_instance_get_async(ctx, "15/missing", (uint64_t)(100 + i), &ops[i], ERR));
  for (i = 0; i < 5; ++i) CHECK(pglift_op_wait(ops[i], 30000) == 1);
  CHECK(poll(&p, 1, 0) == 1);
  CHECK(drain_now(ctx) == 5);
  CHECK(poll(&p, 1, 0) == 0);
  for (i = 0; i < 5; ++i) pglift_op_free(ops[i]);
  OK(pglift_ctx_set_event_capacity(ctx, 1024, ERR));
}

static void ops_outlive_their_context(void) {
  pglift_ctx *ctx = NULL;
  pglift_op *op = NULL;
  pglift_event *ev = NULL;
  OK(pglift_ctx_new(NULL, &ctx, ERR));
  OK(pglift_instance_get_async(ctx, "15/missing", 1, &op, ERR));
  OK(pglift_ctx_next_event(ctx, 30000, &ev) == 1 ? PGLIFT_OK : PGLIFT_E_TIMEOUT);
  pglift_ctx_free(ctx);
  CHECK(pglift_event_kind_of(ev) == PGLIFT_EVENT_OP_DONE); /* events too */
  pglift_event_free(ev);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_FAILED);
  pglift_op_cancel(op);
  CHECK(pglift_error_code(pglift_op_error(op)) == PGLIFT_E_NOT_FOUND);
  pglift_op_free(op);

  /* a context freed with an op pending: the op ends (here, before it could even look) */
  OK(pglift_ctx_new(NULL, &ctx, ERR));
  OK(pglift_instance_list_async(ctx, NULL, 2, &op, ERR));
  pglift_ctx_free(ctx);
  CHECK(pglift_op_wait(op, 0) == 1);
  CHECK(pglift_op_state_of(op) != PGLIFT_OP_PENDING);
  pglift_op_free(op);
}

int main(void) {
  pglift_ctx *ctx = NULL;
  versions_and_names();
  null_handles();
  settings();
  context_lifetimes();
  OK(pglift_ctx_new(NULL, &ctx, ERR));
  argument_errors(ctx);
  failures_of_ops(ctx);
  event_queue(ctx);
  pglift_ctx_free(ctx);
  ops_outlive_their_context();
  pglift_error_free(test_err);
  puts("ok");
  return 0;
}
