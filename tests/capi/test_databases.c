/* Databases through the C ABI: create (JSON spec), get, list with a selection, alter, run with the
 * rows per database, privileges after a GRANT, drop; errors naming the field or the database; the
 * same asynchronously. */
#include "testutil.h"

int main(void) {
  pglift_ctx *ctx = NULL;
  pglift_op *op = NULL;
  char *json = NULL, spec[256];
  const char *app = "{\"name\": \"app\", \"settings\": {\"work_mem\": \"8MB\"}, \"schemas\": [\"s1\"], "
                    "\"extensions\": [\"hstore\"]}";
  const char *alter = "{\"name\": \"app\", \"settings\": {}, \"schemas\": [{\"name\": \"s1\", \"state\": \"absent\"}]}";
  const char *bad = "{\"name\": \"x\", \"schemas\": [{\"name\": \"\"}]}";
  (void)test_prefix();

  OK(pglift_ctx_new(NULL, &ctx, ERR));
  snprintf(spec, sizeof spec, "{\"name\": \"dbs\", \"port\": %d}", free_port());
  OK(pglift_instance_create(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, &json, ERR));
  pglift_free(json);

  OK(pglift_database_create(ctx, "dbs", app, strlen(app), &json, ERR));
  fprintf(stderr, "create: %s\n", json);
  CHECK(contains(json, "\"name\":\"app\"") && contains(json, "\"settings\":{\"work_mem\":\"8MB\"}") &&
        contains(json, "{\"name\":\"s1\",\"owner\":\"postgres\"}") && contains(json, "\"name\":\"hstore\""));
  pglift_free(json);
  FAILS(PGLIFT_E_ALREADY_EXISTS, pglift_database_create(ctx, "dbs", app, strlen(app), &json, ERR));
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_database_create(ctx, "dbs", bad, strlen(bad), &json, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "schemas[0].name") == 0);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_database_create(ctx, "dbs", "{\"name\": \"secret\"", 17, &json, ERR));
  CHECK(!contains(pglift_error_message(test_err), "secret"));
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_database_create(ctx, "dbs", NULL, 0, &json, ERR));

  OK(pglift_database_get(ctx, "dbs", "app", &json, ERR));
  CHECK(contains(json, "\"owner\":\"postgres\""));
  pglift_free(json);
  FAILS(PGLIFT_E_NOT_FOUND, pglift_database_get(ctx, "dbs", "nope", &json, ERR));
  CHECK(contains(pglift_error_message(test_err), "database 'nope' not found"));

  OK(pglift_database_list(ctx, "dbs", "{\"databases\": [\"app\"]}", &json, ERR));
  CHECK(contains(json, "\"name\":\"app\"") && !contains(json, "\"name\":\"postgres\"") && contains(json, "\"encoding\":\"UTF8\""));
  pglift_free(json);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_database_list(ctx, "dbs", "{\"databases\": [1]}", &json, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "databases[0]") == 0);

  OK(pglift_database_alter(ctx, "dbs", alter, strlen(alter), &json, ERR));
  CHECK(contains(json, "\"settings\":null") && !contains(json, "\"s1\""));
  pglift_free(json);

  OK(pglift_database_run(ctx, "dbs", "CREATE TABLE t (i int); GRANT SELECT ON t TO PUBLIC; SELECT 1 AS one",
                         "{\"databases\": [\"app\"]}", &json, ERR));
  CHECK(strcmp(json, "{\"app\":[{\"one\":\"1\"}]}") == 0);
  pglift_free(json);
  OK(pglift_database_run(ctx, "dbs", "CREATE ROLE reader; GRANT SELECT ON t TO reader", "{\"databases\": [\"app\"]}",
                         &json, ERR));
  pglift_free(json);
  OK(pglift_database_privileges(ctx, "dbs", "{\"databases\": [\"app\"], \"roles\": [\"reader\"]}", &json, ERR));
  fprintf(stderr, "privileges: %s\n", json);
  CHECK(contains(json, "\"object_name\":\"t\"") && contains(json, "\"role\":\"reader\"") &&
        contains(json, "\"privileges\":[\"SELECT\"]"));
  pglift_free(json);
  FAILS(PGLIFT_E_NOT_FOUND, pglift_database_privileges(ctx, "dbs", "{\"roles\": [\"nobody\"]}", &json, ERR));

  /* Dry runs (the _with forms): the would-be database, nothing created, altered or dropped. */
  OK(pglift_database_create_with(ctx, "dbs", "{\"name\": \"dry\"}", strlen("{\"name\": \"dry\"}"), PGLIFT_OP_DRY_RUN, &json, ERR));
  CHECK(contains(json, "\"name\":\"dry\""));
  pglift_free(json);
  FAILS(PGLIFT_E_NOT_FOUND, pglift_database_get(ctx, "dbs", "dry", &json, ERR));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_database_create_with(ctx, "dbs", "{\"name\": \"dry\", \"owner\": \"nobody\"}", 34,
                                                        PGLIFT_OP_DRY_RUN, &json, ERR));
  OK(pglift_database_alter_with(ctx, "dbs", "{\"name\": \"app\", \"settings\": {\"work_mem\": \"1MB\"}}", 48,
                                PGLIFT_OP_DRY_RUN, &json, ERR));
  pglift_free(json);
  OK(pglift_database_get(ctx, "dbs", "app", &json, ERR));
  CHECK(contains(json, "\"settings\":null"));
  pglift_free(json);
  OK(pglift_database_drop_with(ctx, "dbs", "app", 1, PGLIFT_OP_DRY_RUN, ERR));
  OK(pglift_database_drop_with_async(ctx, "dbs", "app", 1, PGLIFT_OP_DRY_RUN, 6, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1 && pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  pglift_op_free(op);
  OK(pglift_database_create_with_async(ctx, "dbs", "{\"name\": \"dry\"}", strlen("{\"name\": \"dry\"}"), PGLIFT_OP_DRY_RUN, 7, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1 && contains(pglift_op_result(op), "\"name\":\"dry\""));
  pglift_op_free(op);
  OK(pglift_database_alter_with_async(ctx, "dbs", "{\"name\": \"app\"}", strlen("{\"name\": \"app\"}"), PGLIFT_OP_DRY_RUN, 8, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1 && pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  pglift_op_free(op);
  OK(pglift_database_get(ctx, "dbs", "app", &json, ERR));
  pglift_free(json);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_database_drop_with(ctx, "dbs", "app", 1, 2, ERR));

  /* Asynchronously: run, then drop; results from the op. */
  OK(pglift_database_run_async(ctx, "dbs", "SELECT count(*) AS n FROM t", "{\"databases\": [\"app\"]}", 3, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  CHECK(strcmp(pglift_op_result(op), "{\"app\":[{\"n\":\"0\"}]}") == 0);
  pglift_op_free(op);
  OK(pglift_database_drop_async(ctx, "dbs", "app", 1, 4, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  CHECK(pglift_op_result(op) == NULL);
  pglift_op_free(op);
  FAILS(PGLIFT_E_NOT_FOUND, pglift_database_drop(ctx, "dbs", "app", 0, ERR));
  OK(pglift_database_get_async(ctx, "dbs", "app", 5, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_FAILED);
  CHECK(pglift_error_code(pglift_op_error(op)) == PGLIFT_E_NOT_FOUND);
  pglift_op_free(op);

  OK(pglift_instance_drop(ctx, "dbs", ERR));
  pglift_ctx_free(ctx);
  pglift_error_free(test_err);
  fprintf(stderr, "ok\n");
  return 0;
}
