/* A real instance through the blocking calls: create, get, list, status, env, reload, restart, stop,
 * start, drop; what each returns as JSON, the log and progress events they queue (tag 0), the log
 * level filter and the bound of the queue. */
#include "testutil.h"

static int count_events(pglift_ctx *ctx, int kind, const char *message_part, int *total) {
  int n = 0;
  pglift_event *ev = NULL;
  *total = 0;
  while (pglift_ctx_next_event(ctx, 0, &ev) == 1) {
    print_event(ev);
    ++*total;
    CHECK(pglift_event_tag(ev) == 0); /* blocking calls */
    if (pglift_event_kind_of(ev) == kind && contains(pglift_event_message(ev), message_part)) ++n;
    pglift_event_free(ev);
  }
  return n;
}

int main(void) {
  pglift_ctx *ctx = NULL;
  char *json = NULL, spec[256], expect[2048], datadir[1024];
  int port = free_port(), total = 0;
  const char *prefix = test_prefix();

  OK(pglift_ctx_new(NULL, &ctx, ERR));
  snprintf(spec, sizeof spec, "{\"name\": \"blk\", \"version\": \"15\", \"port\": %d}", port);
  snprintf(datadir, sizeof datadir, "%s/srv/pgsql/15/blk/data", prefix);

  OK(pglift_instance_create(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, &json, ERR));
  fprintf(stderr, "created: %s\n", json);
  CHECK(contains(json, "\"name\":\"blk\"") && contains(json, "\"version\":\"15\""));
  CHECK(contains(json, "\"state\":\"started\""));
  snprintf(expect, sizeof expect, "\"port\":%d", port);
  CHECK(contains(json, expect));
  snprintf(expect, sizeof expect, "\"data_directory\":\"%s\"", datadir);
  CHECK(contains(json, expect));
  pglift_free(json);
  CHECK(path_exists(datadir));
  /* INFO logs and progress steps were queued, with tag 0 */
  CHECK(count_events(ctx, PGLIFT_EVENT_PROGRESS, "initializing PostgreSQL instance", &total) == 2);
  CHECK(total > 4);

  OK(pglift_instance_get(ctx, "15/blk", &json, ERR));
  CHECK(contains(json, "\"state\":\"started\"") && contains(json, "\"pending_restart\":false"));
  CHECK(contains(json, "\"encoding\":\"UTF8\""));
  pglift_free(json);
  OK(pglift_instance_get(ctx, "blk", &json, ERR)); /* the version is looked up */
  pglift_free(json);

  OK(pglift_instance_list(ctx, NULL, &json, ERR));
  snprintf(expect, sizeof expect,
           "[{\"name\":\"blk\",\"version\":\"15\",\"port\":%d,\"datadir\":\"%s\",\"status\":\"running\"}]", port, datadir);
  fprintf(stderr, "list: %s\n", json);
  CHECK(strcmp(json, expect) == 0);
  pglift_free(json);
  OK(pglift_instance_list(ctx, "15", &json, ERR));
  pglift_free(json);

  OK(pglift_instance_status(ctx, "15/blk", &json, ERR));
  CHECK(contains(json, "{\"postgresql\":\"running\",\"pid\":") && !contains(json, "null"));
  pglift_free(json);

  OK(pglift_instance_env(ctx, "15/blk", &json, ERR));
  snprintf(expect, sizeof expect, "\"PGPORT\":\"%d\"", port);
  CHECK(contains(json, expect) && contains(json, "\"PGDATA\":") && contains(json, "/usr/lib/postgresql/15/bin"));
  pglift_free(json);

  OK(pglift_instance_log_file(ctx, "15/blk", &json, ERR));  /* the file PostgreSQL writes now */
  CHECK(contains(json, "15-blk-") && contains(json, ".log") && access(json, R_OK) == 0);
  pglift_free(json);

  OK(pglift_instance_reload(ctx, "15/blk", ERR));
  OK(pglift_instance_restart(ctx, "15/blk", PGLIFT_STOP_FAST, ERR));
  CHECK(count_events(ctx, PGLIFT_EVENT_LOG, "restarting instance 15/blk", &total) == 1);

  /* DEBUG shows the subprocesses' output; OFF queues no logs (progress still comes) */
  OK(pglift_ctx_set_log_level(ctx, PGLIFT_LOG_OFF, ERR));
  OK(pglift_instance_stop(ctx, "15/blk", PGLIFT_STOP_FAST, ERR));
  CHECK(count_events(ctx, PGLIFT_EVENT_LOG, "", &total) == 0);
  OK(pglift_instance_status(ctx, "15/blk", &json, ERR));
  CHECK(strcmp(json, "{\"postgresql\":\"not_running\",\"pid\":null}") == 0);
  pglift_free(json);
  OK(pglift_instance_stop(ctx, "15/blk", PGLIFT_STOP_FAST, ERR)); /* already stopped: a warning */
  OK(pglift_ctx_set_log_level(ctx, PGLIFT_LOG_WARNING, ERR));
  OK(pglift_instance_stop(ctx, "15/blk", PGLIFT_STOP_SMART, ERR));
  CHECK(count_events(ctx, PGLIFT_EVENT_LOG, "already stopped", &total) == 1 && total == 1);
  OK(pglift_instance_get(ctx, "15/blk", &json, ERR));
  CHECK(contains(json, "\"state\":\"stopped\""));
  pglift_free(json);
  CHECK(count_events(ctx, PGLIFT_EVENT_LOG, "not running", &total) == 1);

  OK(pglift_ctx_set_log_level(ctx, PGLIFT_LOG_DEBUG, ERR));
  OK(pglift_ctx_set_event_capacity(ctx, 1, ERR));
  CHECK(pglift_ctx_dropped_events(ctx) == 0);
  OK(pglift_instance_start(ctx, "15/blk", ERR));
  /* more than one event came (INFO, DEBUG): the oldest went, the newest stayed */
  CHECK(pglift_ctx_dropped_events(ctx) > 0);
  CHECK(drain_now(ctx) == 1);
  OK(pglift_ctx_set_event_capacity(ctx, 1024, ERR));
  OK(pglift_ctx_set_log_level(ctx, PGLIFT_LOG_INFO, ERR));

  json = NULL;
  FAILS(PGLIFT_E_ALREADY_EXISTS, pglift_instance_create(ctx, spec, strlen(spec), 0, &json, ERR));
  CHECK(json == NULL);
  CHECK(path_exists(datadir)); /* a refused creation reverts nothing of the existing instance */

  OK(pglift_instance_drop(ctx, "15/blk", ERR));
  CHECK(!path_exists(datadir));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_instance_get(ctx, "15/blk", &json, ERR));
  drain_now(ctx);
  pglift_ctx_free(ctx);
  pglift_error_free(test_err);
  puts("ok");
  return 0;
}
