/* Roles through the C ABI on one running instance: create, get, list, alter, drop, blocking and
 * asynchronous; errors: a bad JSON field (named), exists, not found; the password never appears in any
 * event, error message or result. */
#include "testutil.h"

static const char *const secret = "c-S3cret-pw";

/* Drains every queued event; fails when one shows the password. */
static void drain_checking(pglift_ctx *ctx) {
  pglift_event *ev = NULL;
  while (pglift_ctx_next_event(ctx, 0, &ev) == 1) {
    CHECK(!contains(pglift_event_message(ev), secret));
    pglift_event_free(ev);
    ev = NULL;
  }
}

int main(void) {
  pglift_ctx *ctx = NULL;
  pglift_op *op = NULL;
  char *json = NULL, buf[1024], settings[1024];
  const char *prefix = test_prefix();
  const char *alter = "{\"login\": false, \"grant\": [\"pg_read_all_stats\"], \"revoke\": [\"pg_monitor\"], \"connection_limit\": 4}";

  /* A passfile for pgpass. */
  snprintf(settings, sizeof settings,
           "{\"prefix\": \"%s\", \"run_prefix\": \"%s/run\", \"postgresql\": {\"auth\": {\"passfile\": \"%s/pgpass\"}}}",
           prefix, prefix, prefix);
  CHECK(setenv("SETTINGS", settings, 1) == 0);
  OK(pglift_ctx_new(NULL, &ctx, ERR));
  OK(pglift_ctx_set_log_level(ctx, PGLIFT_LOG_DEBUG, ERR));
  /* The manifest's roles are created with the instance (the spec JSON carries them). */
  snprintf(buf, sizeof buf, "{\"name\": \"rl\", \"port\": %d, \"roles\": [{\"name\": \"from_manifest\", \"login\": true}]}",
           free_port());
  OK(pglift_instance_create(ctx, buf, strlen(buf), PGLIFT_CREATE_DEFAULT, &json, ERR));
  CHECK(!contains(json, "from_manifest"));  /* write-only: not in the result */
  pglift_free(json);
  OK(pglift_role_get(ctx, "rl", "from_manifest", &json, ERR));
  CHECK(contains(json, "\"name\":\"from_manifest\"") && contains(json, "\"login\":true"));
  pglift_free(json);

  snprintf(buf, sizeof buf,
           "{\"name\": \"bob\", \"password\": \"%s\", \"login\": true, \"in_roles\": [\"pg_monitor\"], \"pgpass\": true}",
           secret);
  OK(pglift_role_create(ctx, "rl", buf, strlen(buf), ERR));
  FAILS(PGLIFT_E_ALREADY_EXISTS, pglift_role_create(ctx, "rl", buf, strlen(buf), ERR));
  CHECK(contains(pglift_error_message(test_err), "role 'bob' already exists"));
  CHECK(!contains(pglift_error_message(test_err), secret));

  OK(pglift_role_get(ctx, "rl", "bob", &json, ERR));
  fprintf(stderr, "get: %s\n", json);
  CHECK(contains(json, "\"name\":\"bob\"") && contains(json, "\"has_password\":true") && contains(json, "\"login\":true"));
  CHECK(contains(json, "\"in_roles\":[\"pg_monitor\"]") && contains(json, "\"pgpass\":true"));
  CHECK(!contains(json, secret) && !contains(json, "SCRAM"));
  pglift_free(json);
  OK(pglift_role_list(ctx, "rl", &json, ERR));
  CHECK(json[0] == '[' && contains(json, "\"name\":\"bob\"") && !contains(json, "\"name\":\"pg_"));
  pglift_free(json);

  OK(pglift_role_alter(ctx, "rl", "bob", alter, strlen(alter), ERR));
  OK(pglift_role_get(ctx, "rl", "bob", &json, ERR));
  CHECK(contains(json, "\"login\":false") && contains(json, "\"in_roles\":[\"pg_read_all_stats\"]") &&
        contains(json, "\"connection_limit\":4"));
  pglift_free(json);

  /* Errors: the field is named, the document (and its password) never shown. */
  snprintf(buf, sizeof buf, "{\"name\": \"carol\", \"password\": \"%s\", \"login\": \"yes\"}", secret);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_role_create(ctx, "rl", buf, strlen(buf), ERR));
  CHECK(strcmp(pglift_error_field(test_err), "login") == 0);
  CHECK(!contains(pglift_error_message(test_err), secret));
  snprintf(buf, sizeof buf, "{\"name\": \"carol\", \"password\": \"%s\", \"encrypted_password\": \"%s\"}", secret, secret);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_role_create(ctx, "rl", buf, strlen(buf), ERR));
  CHECK(strcmp(pglift_error_field(test_err), "encrypted_password") == 0);
  CHECK(!contains(pglift_error_message(test_err), secret));
  snprintf(buf, sizeof buf, "{\"name\": \"carol\", \"password\": \"%s\",", secret);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_role_create(ctx, "rl", buf, strlen(buf), ERR));
  CHECK(!contains(pglift_error_message(test_err), secret));
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_role_alter(ctx, "rl", "bob", "{\"grant\": [1]}", 14, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "grant[0]") == 0);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_role_drop(ctx, "rl", "bob", "{\"drop_owned\": true, \"reassign_owned\": \"x\"}", 43, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "reassign_owned") == 0);
  FAILS(PGLIFT_E_NOT_FOUND, pglift_role_get(ctx, "rl", "nobody", &json, ERR));
  CHECK(contains(pglift_error_message(test_err), "role 'nobody' not found"));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_role_drop(ctx, "rl", "nobody", NULL, 0, ERR));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_role_alter(ctx, "rl", "nobody", "{}", 2, ERR));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_role_list(ctx, "nosuch", &json, ERR));
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_role_get(ctx, "rl", NULL, &json, ERR));
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_role_list(ctx, "rl", NULL, ERR));

  /* Asynchronously: get's result from the op, a drop; an invalid spec fails the call itself. */
  OK(pglift_role_get_async(ctx, "rl", "bob", 11, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  CHECK(contains(pglift_op_result(op), "\"name\":\"bob\""));
  pglift_op_free(op);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_role_create_async(ctx, "rl", "{}", 2, 12, &op, ERR));
  OK(pglift_role_create_async(ctx, "rl", "{\"name\": \"dave\"}", 16, 13, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1 && pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  CHECK(pglift_op_result(op) == NULL);
  pglift_op_free(op);
  OK(pglift_role_list_async(ctx, "rl", 14, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1 && contains(pglift_op_result(op), "\"name\":\"dave\""));
  pglift_op_free(op);
  OK(pglift_role_alter_async(ctx, "rl", "dave", "{\"createdb\": true}", 18, 15, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1 && pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  pglift_op_free(op);
  OK(pglift_role_drop_async(ctx, "rl", "dave", NULL, 0, 16, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1 && pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  pglift_op_free(op);
  OK(pglift_role_drop_async(ctx, "rl", "dave", NULL, 0, 17, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1 && pglift_op_state_of(op) == PGLIFT_OP_FAILED);
  CHECK(pglift_error_code(pglift_op_error(op)) == PGLIFT_E_NOT_FOUND);
  pglift_op_free(op);

  /* Dry runs (the _with forms): checked, nothing changed; an unknown flag names "flags". */
  OK(pglift_role_create_with(ctx, "rl", "{\"name\": \"erin\"}", strlen("{\"name\": \"erin\"}"), PGLIFT_OP_DRY_RUN, ERR));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_role_get(ctx, "rl", "erin", &json, ERR));
  FAILS(PGLIFT_E_ALREADY_EXISTS, pglift_role_create_with(ctx, "rl", "{\"name\": \"bob\"}", strlen("{\"name\": \"bob\"}"), PGLIFT_OP_DRY_RUN, ERR));
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_role_create_with(ctx, "rl", "{\"name\": \"erin\"}", strlen("{\"name\": \"erin\"}"), 1u << 7, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "flags") == 0);
  OK(pglift_role_alter_with(ctx, "rl", "bob", "{\"superuser\": true}", strlen("{\"superuser\": true}"), PGLIFT_OP_DRY_RUN, ERR));
  OK(pglift_role_get(ctx, "rl", "bob", &json, ERR));
  CHECK(contains(json, "\"superuser\":false"));
  pglift_free(json);
  OK(pglift_role_drop_with(ctx, "rl", "bob", "{\"drop_owned\": true}", strlen("{\"drop_owned\": true}"), PGLIFT_OP_DRY_RUN, ERR));
  OK(pglift_role_create_with_async(ctx, "rl", "{\"name\": \"erin\"}", strlen("{\"name\": \"erin\"}"), PGLIFT_OP_DRY_RUN, 18, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1 && pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  pglift_op_free(op);
  OK(pglift_role_alter_with_async(ctx, "rl", "bob", "{\"superuser\": true}", strlen("{\"superuser\": true}"), PGLIFT_OP_DRY_RUN, 19, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1 && pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  pglift_op_free(op);
  OK(pglift_role_drop_with_async(ctx, "rl", "bob", NULL, 0, PGLIFT_OP_DRY_RUN, 20, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1 && pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  pglift_op_free(op);
  FAILS(PGLIFT_E_NOT_FOUND, pglift_role_get(ctx, "rl", "erin", &json, ERR));
  OK(pglift_role_get(ctx, "rl", "bob", &json, ERR));
  CHECK(contains(json, "\"superuser\":false"));
  pglift_free(json);

  OK(pglift_role_drop(ctx, "rl", "bob", "{\"drop_owned\": true}", 20, ERR));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_role_get(ctx, "rl", "bob", &json, ERR));
  drain_checking(ctx);

  OK(pglift_instance_drop(ctx, "rl", ERR));
  pglift_ctx_free(ctx);
  pglift_error_free(test_err);
  fprintf(stderr, "ok\n");
  return 0;
}
