/* The _async twins of the Patroni reads on a real member (PGLIFT_HAS_ASYNC_ALL): pglift_patroni_credentials_async
 * and pglift_patroni_log_file_async give what their blocking twins give (the credentials object, the path as
 * a JSON string). A private etcd from with_prefix.sh (LIBPGLIFT_TEST_WITH_ETCD=1); skipped (77) without it. */
#include "testutil.h" /* first: it defines _GNU_SOURCE */

static pglift_op *succeeded(pglift_ctx *ctx, pglift_op *op) {
  CHECK(drain_until_done(ctx, pglift_op_tag(op), 120) == PGLIFT_OP_SUCCEEDED);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED && pglift_op_result(op) != NULL);
  return op;
}

int main(void) {
  const char *prefix = test_prefix(), *endpoint = getenv("LIBPGLIFT_TEST_ETCD");
  char json_settings[1024], spec[512], datadir[512], quoted[1100], *json = NULL;
  pglift_settings *settings = NULL;
  pglift_ctx *ctx = NULL;
  pglift_op *op = NULL;
  if (!endpoint) {
    puts("SKIP: no etcd (run through with_prefix.sh with LIBPGLIFT_TEST_WITH_ETCD=1)");
    return 77;
  }
  snprintf(json_settings, sizeof json_settings,
           "{\"prefix\": \"%s\", \"run_prefix\": \"%s/run\", \"patroni\": {\"etcd\": {\"hosts\": [\"%s\"]}, "
           "\"loop_wait\": 2, \"ttl\": 10, \"retry_timeout\": 3, \"create_timeout\": 120}}",
           prefix, prefix, endpoint);
  OK(pglift_settings_from_json(json_settings, strlen(json_settings), &settings, ERR));
  OK(pglift_ctx_new(settings, &ctx, ERR));
  snprintf(spec, sizeof spec,
           "{\"name\": \"f1\", \"port\": %d, \"patroni\": {\"cluster\": \"formsc\", \"node\": \"f1\", "
           "\"restapi\": {\"connect_address\": \"127.0.1.1:%d\"}, \"postgresql\": {\"connect_host\": \"127.0.1.1\"}}}",
           free_port(), free_port());
  snprintf(datadir, sizeof datadir, "%s/srv/pgsql/15/f1/data", prefix);
  OK(pglift_instance_create(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, &json, ERR));
  pglift_free(json);

  /* the credentials: the blocking call's object (compared, never printed) */
  OK(pglift_patroni_credentials(ctx, "f1", &json, ERR));
  OK(pglift_patroni_credentials_async(ctx, "f1", 1, &op, ERR));
  CHECK(strcmp(pglift_op_result(succeeded(ctx, op)), json) == 0);
  CHECK(contains(json, "\"replication\"") && contains(json, "\"password\""));
  pglift_op_free(op);
  pglift_free(json);

  /* the log file: the blocking call's path, as a JSON string */
  OK(pglift_patroni_log_file(ctx, "f1", &json, ERR));
  CHECK(strchr(json, '"') == NULL && strchr(json, '\\') == NULL); /* nothing to escape in the test's paths */
  snprintf(quoted, sizeof quoted, "\"%s\"", json);
  OK(pglift_patroni_log_file_async(ctx, "f1", 2, &op, ERR));
  CHECK(strcmp(pglift_op_result(succeeded(ctx, op)), quoted) == 0);
  CHECK(path_exists(json));
  pglift_op_free(op);
  pglift_free(json);

  OK(pglift_instance_drop_with(ctx, "f1", PGLIFT_DROP_REMOVE_CLUSTER, ERR));
  CHECK(!path_exists(datadir));
  CHECK(processes_naming(datadir) == 0);
  pglift_ctx_free(ctx);
  pglift_settings_free(settings);
  pglift_error_free(test_err);
  puts("ok");
  return 0;
}
