/* pglift_cluster_*, from C, on a two-member Patroni cluster: the cluster through a member and from the
 * DCS agree; a replica restarted, then every member (async); the leader's reinit refused, the
 * replica's done (async); removal refused while members live, done once they are dropped.
 * A private etcd from with_prefix.sh (LIBPGLIFT_TEST_WITH_ETCD=1); skipped (77) without it. */
#include "testutil.h" /* first: it defines _GNU_SOURCE */

/* Waits for `op` (at most 10 minutes); returns its state, the op freed; `result` gets a copy of its JSON. */
static int finish(pglift_op *op, char *result, size_t size) {
  int state;
  CHECK(pglift_op_wait(op, 600000) == 1);
  state = pglift_op_state_of(op);
  if (state != PGLIFT_OP_SUCCEEDED && pglift_op_error(op))
    fprintf(stderr, "op failed: %s\n", pglift_error_message(pglift_op_error(op)));
  if (result) snprintf(result, size, "%s", pglift_op_result(op) ? pglift_op_result(op) : "");
  pglift_op_free(op);
  return state;
}

int main(void) {
  char result[65536], *json = NULL;
  pglift_ctx *ctx = patroni_test_ctx(PGLIFT_LOG_INFO);
  pglift_op *op = NULL;
  CHECK(PGLIFT_HAS_CLUSTER == 1);
  patroni_member_create(ctx, "c1", "capiclu", "127.0.1.1");
  patroni_member_create(ctx, "c2", "capiclu", "127.0.1.2");

  /* Through a member, and from the DCS: the same leader and members. */
  OK(pglift_cluster_get(ctx, "c1", &json, ERR));
  CHECK(contains(json, "\"name\":\"capiclu\""));
  CHECK(contains(json, "\"leader\":\"c1\""));
  CHECK(contains(json, "\"source\":\"rest\""));
  CHECK(contains(json, "\"local_member\":\"15/c1\""));
  CHECK(contains(json, "\"name\":\"c2\""));
  pglift_free(json);
  OK(pglift_cluster_get_dcs(ctx, "capiclu", &json, ERR));
  CHECK(contains(json, "\"leader\":\"c1\""));
  CHECK(contains(json, "\"source\":\"dcs\""));
  CHECK(contains(json, "\"name\":\"c2\""));
  pglift_free(json);
  OK(pglift_cluster_get_async(ctx, "c2", 7, &op, ERR));
  CHECK(finish(op, result, sizeof result) == PGLIFT_OP_SUCCEEDED);
  CHECK(contains(result, "\"leader\":\"c1\""));
  /* Bad names: refused at the call, the field named; an unknown cluster: NOT_FOUND. */
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_cluster_get_dcs(ctx, "../etc", &json, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "cluster") == 0);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_cluster_get_dcs_async(ctx, "a b", 8, &op, ERR));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_cluster_get_dcs(ctx, "nosuch", &json, ERR));
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_cluster_reinit(ctx, "c1", NULL, ERR));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_cluster_restart(ctx, "nosuch", NULL, ERR));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_cluster_remove(ctx, "15/nosuch", ERR));
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_cluster_remove(ctx, "bad name", ERR));

  /* Restarts: one replica, an unknown member, then all (async, the refreshed cluster as the result). */
  OK(pglift_cluster_restart(ctx, "c1", "c2", ERR));
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_cluster_restart(ctx, "c1", "nosuch", ERR));
  CHECK(strcmp(pglift_error_field(test_err), "member") == 0);
  OK(pglift_cluster_restart_async(ctx, "c1", NULL, 9, &op, ERR));
  CHECK(finish(op, result, sizeof result) == PGLIFT_OP_SUCCEEDED);
  CHECK(contains(result, "\"name\":\"capiclu\""));
  CHECK(contains(result, "\"leader\":\"c1\""));

  /* Reinit: the leader refused; the replica reinitialized, streaming again. */
  FAILS(PGLIFT_E_STATE, pglift_cluster_reinit(ctx, "c2", "c1", ERR));
  OK(pglift_cluster_reinit_async(ctx, "c1", "c2", 10, &op, ERR));
  CHECK(finish(op, result, sizeof result) == PGLIFT_OP_SUCCEEDED);
  CHECK(contains(result, "\"health\":\"streaming\""));

  /* Removal: refused while members live here; done once both are dropped. */
  FAILS(PGLIFT_E_STATE, pglift_cluster_remove(ctx, "capiclu", ERR));
  FAILS(PGLIFT_E_STATE, pglift_cluster_remove(ctx, "15/c1", ERR));
  OK(pglift_instance_drop(ctx, "c2", ERR));
  OK(pglift_instance_drop(ctx, "c1", ERR));
  OK(pglift_cluster_get_dcs(ctx, "capiclu", &json, ERR)); /* what the drops left: the cluster's keys */
  pglift_free(json);
  OK(pglift_cluster_remove_async(ctx, "capiclu", 11, &op, ERR));
  CHECK(finish(op, result, sizeof result) == PGLIFT_OP_SUCCEEDED);
  CHECK(contains(result, "\"members\":[]"));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_cluster_get_dcs(ctx, "capiclu", &json, ERR));

  test_end(ctx);
  puts("pglift_cluster_*: get (member, DCS), restart (one, all), reinit, remove");
  return 0;
}
