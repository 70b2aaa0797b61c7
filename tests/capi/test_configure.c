/* Configuration changes and the Patroni entry points through the C ABI, on a plain instance: a change
 * reloaded and confirmed, a restart-only one reported, the managed parameters, and the Patroni calls
 * refusing a plain instance with PGLIFT_E_STATE; then the same change asynchronously; alter and apply
 * (dry, real, their diff, bad flags and documents), blocking and asynchronous. */
#include "testutil.h"

int main(void) {
  pglift_ctx *ctx = NULL;
  pglift_op *op = NULL;
  char *json = NULL, spec[256];
  const char *work_mem = "{\"work_mem\": \"8MB\"}", *restart = "{\"max_connections\": 50}", *removal = "{\"work_mem\": null}";
  (void)test_prefix();

  OK(pglift_ctx_new(NULL, &ctx, ERR));
  snprintf(spec, sizeof spec, "{\"name\": \"cfg\", \"port\": %d}", free_port());
  OK(pglift_instance_create(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, &json, ERR));
  pglift_free(json);

  OK(pglift_instance_configure(ctx, "cfg", work_mem, strlen(work_mem), &json, ERR));
  fprintf(stderr, "configure: %s\n", json);
  CHECK(contains(json, "\"changes\":{\"work_mem\":[null,\"8MB\"]}") && contains(json, "\"reloaded\":true"));
  pglift_free(json);
  OK(pglift_instance_parameters(ctx, "cfg", &json, ERR));
  CHECK(contains(json, "\"work_mem\":\"8MB\""));
  pglift_free(json);
  OK(pglift_instance_configure(ctx, "cfg", restart, strlen(restart), &json, ERR));
  CHECK(contains(json, "\"needs_restart\":[\"max_connections\"]") && contains(json, "\"pending_restart\":true"));
  pglift_free(json);
  /* Dry runs: the changes named, nothing written; a bad value is still refused. */
  OK(pglift_instance_configure_with(ctx, "cfg", "{\"work_mem\": \"9MB\"}", strlen("{\"work_mem\": \"9MB\"}"), PGLIFT_OP_DRY_RUN, &json, ERR));
  CHECK(contains(json, "\"work_mem\":[\"8MB\",\"9MB\"]") && contains(json, "\"reloaded\":false"));
  pglift_free(json);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_configure_with(ctx, "cfg", "{\"work_mem\": \"lots\"}", strlen("{\"work_mem\": \"lots\"}"), PGLIFT_OP_DRY_RUN,
                                                              &json, ERR));
  OK(pglift_instance_configure_text_with(ctx, "cfg", "work_mem = '10MB'\n", strlen("work_mem = '10MB'\n"), PGLIFT_OP_DRY_RUN, &json, ERR));
  CHECK(contains(json, "\"work_mem\":[\"8MB\",\"10MB\"]"));
  pglift_free(json);
  OK(pglift_instance_configure_with_async(ctx, "cfg", "{\"work_mem\": \"11MB\"}", strlen("{\"work_mem\": \"11MB\"}"), PGLIFT_OP_DRY_RUN, 3, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1 && contains(pglift_op_result(op), "\"work_mem\":[\"8MB\",\"11MB\"]"));
  pglift_op_free(op);
  OK(pglift_instance_parameters(ctx, "cfg", &json, ERR));
  CHECK(contains(json, "\"work_mem\":\"8MB\""));
  pglift_free(json);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_configure(ctx, "cfg", "[1]", 3, &json, ERR));
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_configure(ctx, "cfg", "{\"bad name\": 1}", 15, &json, ERR));

  /* Patroni operations on a plain instance: a clear state error, nothing changed. */
  FAILS(PGLIFT_E_STATE, pglift_instance_promote(ctx, "cfg", ERR));
  FAILS(PGLIFT_E_STATE, pglift_patroni_switchover(ctx, "cfg", NULL, NULL, &json, ERR));
  FAILS(PGLIFT_E_STATE, pglift_patroni_failover(ctx, "cfg", "other", &json, ERR));
  FAILS(PGLIFT_E_STATE, pglift_patroni_pause(ctx, "cfg", 1, ERR));
  FAILS(PGLIFT_E_STATE, pglift_patroni_log_file(ctx, "cfg", &json, ERR));
  FAILS(PGLIFT_E_STATE, pglift_patroni_credentials(ctx, "cfg", &json, ERR));
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_patroni_credentials(ctx, "cfg", NULL, ERR));
  FAILS(PGLIFT_E_STATE, pglift_instance_drop_with(ctx, "cfg", PGLIFT_DROP_REMOVE_CLUSTER, ERR));
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_drop_with(ctx, "cfg", 0x80, ERR));
  /* The rejoin override means nothing to a plain instance: a started one stays started. */
  OK(pglift_instance_start_with(ctx, "cfg", PGLIFT_START_ACCEPT_DATA_LOSS, ERR));

  /* Asynchronously: the removal of the parameter, its result from the op. */
  OK(pglift_instance_configure_async(ctx, "cfg", removal, strlen(removal), 7, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  CHECK(contains(pglift_op_result(op), "\"work_mem\":[\"8MB\",null]"));
  pglift_op_free(op);

  /* alter: a dry run changes nothing; then the change, its diff; an unchanged alter is null. */
  {
    const char *alter = "{\"settings\": {\"work_mem\": \"7MB\"}}";
    OK(pglift_instance_alter(ctx, "cfg", alter, strlen(alter), PGLIFT_APPLY_DRY_RUN, &json, ERR));
    CHECK(contains(json, "\"change_state\":\"changed\"") && contains(json, "\"dry_run\":true") &&
          contains(json, "{\"field\":\"settings.work_mem\",\"before\":null,\"after\":\"7MB\"}"));
    pglift_free(json);
    OK(pglift_instance_parameters(ctx, "cfg", &json, ERR));
    CHECK(!contains(json, "work_mem"));
    pglift_free(json);
    OK(pglift_instance_alter(ctx, "cfg", alter, strlen(alter), 0, &json, ERR));
    CHECK(contains(json, "\"change_state\":\"changed\"") && contains(json, "\"dry_run\":false"));
    pglift_free(json);
    OK(pglift_instance_alter(ctx, "cfg", alter, strlen(alter), 0, &json, ERR));
    CHECK(contains(json, "\"change_state\":null"));
    pglift_free(json);
    FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_alter(ctx, "cfg", alter, strlen(alter), 0x80, &json, ERR));
    FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_alter(ctx, "cfg", "{\"state\": \"gone\"}", strlen("{\"state\": \"gone\"}"), 0, &json, ERR));
    CHECK(strcmp(pglift_error_field(test_err), "state") == 0);
    FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_instance_alter(ctx, "cfg", NULL, 0, 0, &json, ERR));
    FAILS(PGLIFT_E_NOT_FOUND, pglift_instance_alter(ctx, "nosuch", alter, strlen(alter), 0, &json, ERR));
    /* apply: the same instance from a manifest (unchanged), then asynchronously a stop. */
    snprintf(spec, sizeof spec, "{\"name\": \"cfg\", \"settings\": {\"work_mem\": \"7MB\"}}");
    OK(pglift_instance_apply(ctx, spec, strlen(spec), 0, &json, ERR));
    CHECK(contains(json, "\"change_state\":null"));
    pglift_free(json);
    snprintf(spec, sizeof spec, "{\"name\": \"cfg\", \"state\": \"stopped\"}");
    OK(pglift_instance_apply_async(ctx, spec, strlen(spec), 0, 8, &op, ERR));
    CHECK(pglift_op_wait(op, 60000) == 1);
    CHECK(pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
    CHECK(contains(pglift_op_result(op), "{\"field\":\"state\",\"before\":\"started\",\"after\":\"stopped\"}"));
    pglift_op_free(op);
    OK(pglift_instance_alter_async(ctx, "cfg", "{\"state\": \"started\"}", strlen("{\"state\": \"started\"}"), 0, 9, &op, ERR));
    CHECK(pglift_op_wait(op, 60000) == 1);
    CHECK(pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
    pglift_op_free(op);
  }

  OK(pglift_instance_drop_with(ctx, "cfg", PGLIFT_DROP_DEFAULT, ERR));
  pglift_ctx_free(ctx);
  pglift_error_free(test_err);
  fprintf(stderr, "ok\n");
  return 0;
}
