/* pg_hba records through the C ABI, on a plain instance: a record added (the diff, the reload), added
 * again (no change), a dry run, a bad record refused naming the field, the removal asynchronously, and
 * a removal of what is not there refused. Then the parameters as postgresql.conf text and back. */
#include "testutil.h"

int main(void) {
  pglift_ctx *ctx = NULL;
  pglift_op *op = NULL;
  char *json = NULL, spec[256];
  const char *record = "{\"connection\": {\"type\": \"host\", \"address\": \"10.0.0.0/8\"}, \"database\": \"app\", "
                       "\"user\": [\"alice\"], \"method\": \"scram-sha-256\"}";
  const char *bad = "[{\"method\": \"peer\"}, {\"method\": \"nope\"}]";
  (void)test_prefix();

  OK(pglift_ctx_new(NULL, &ctx, ERR));
  snprintf(spec, sizeof spec, "{\"name\": \"hba\", \"port\": %d}", free_port());
  OK(pglift_instance_create(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, &json, ERR));
  pglift_free(json);

  OK(pglift_hba_add(ctx, "hba", record, strlen(record), PGLIFT_HBA_DRY_RUN, &json, ERR));
  CHECK(contains(json, "\"changed\":true") && contains(json, "\"reloaded\":false") && contains(json, "+host    app"));
  pglift_free(json);
  OK(pglift_hba_add(ctx, "hba", record, strlen(record), PGLIFT_HBA_DEFAULT, &json, ERR));
  fprintf(stderr, "add: %s\n", json);
  CHECK(contains(json, "\"changed\":true") && contains(json, "\"reloaded\":true") && contains(json, "10.0.0.0/8"));
  pglift_free(json);
  OK(pglift_hba_add(ctx, "hba", record, strlen(record), PGLIFT_HBA_DEFAULT, &json, ERR));
  CHECK(contains(json, "\"changed\":false") && contains(json, "\"added\":[]"));
  pglift_free(json);

  FAILS(PGLIFT_E_INVALID_SPEC, pglift_hba_add(ctx, "hba", bad, strlen(bad), PGLIFT_HBA_DEFAULT, &json, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "method") == 0);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_hba_add(ctx, "hba", "{", 1, PGLIFT_HBA_DEFAULT, &json, ERR));
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_hba_add(ctx, "hba", record, strlen(record), 0x80, &json, ERR));
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_hba_add(ctx, "hba", record, strlen(record), PGLIFT_HBA_DEFAULT, NULL, ERR));

  OK(pglift_hba_remove_async(ctx, "hba", record, strlen(record), PGLIFT_HBA_DEFAULT, 9, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  CHECK(contains(pglift_op_result(op), "\"removed\":[\"host    app"));
  pglift_op_free(op);
  FAILS(PGLIFT_E_NOT_FOUND, pglift_hba_remove(ctx, "hba", record, strlen(record), PGLIFT_HBA_DEFAULT, &json, ERR));

  /* The parameters as text, edited, applied; a line that is no entry is refused naming it. */
  {
    char text[8192];
    const char *bad_line = "work_mem = 8MB\ninclude 'x.conf'\n";
    OK(pglift_instance_parameters_text(ctx, "hba", &json, ERR));
    CHECK(contains(json, "\nport = ") || strncmp(json, "port = ", 7) == 0);
    CHECK(strlen(json) + 32 < sizeof text);
    snprintf(text, sizeof text, "%swork_mem = '16MB'\n", json);
    pglift_free(json);
    OK(pglift_instance_configure_text(ctx, "hba", text, strlen(text), &json, ERR));
    CHECK(contains(json, "\"changes\":{\"work_mem\":[null,\"16MB\"]}") && contains(json, "\"reloaded\":true"));
    pglift_free(json);
    OK(pglift_instance_configure_text(ctx, "hba", text, strlen(text), &json, ERR));
    CHECK(contains(json, "\"changes\":{}"));
    pglift_free(json);
    FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_configure_text(ctx, "hba", bad_line, strlen(bad_line), &json, ERR));
    CHECK(strcmp(pglift_error_field(test_err), "line 2") == 0);
  }

  OK(pglift_instance_drop_with(ctx, "hba", PGLIFT_DROP_DEFAULT, ERR));
  pglift_ctx_free(ctx);
  pglift_error_free(test_err);
  fprintf(stderr, "ok\n");
  return 0;
}
