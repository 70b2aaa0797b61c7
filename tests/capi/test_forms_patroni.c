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
  char quoted[1100], *json = NULL;
  pglift_ctx *ctx = patroni_test_ctx(PGLIFT_LOG_INFO);
  pglift_op *op = NULL;
  patroni_member_create(ctx, "f1", "formsc", "127.0.1.1");

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

  patroni_member_drop(ctx, "f1");
  test_end(ctx);
  puts("ok");
  return 0;
}
