/* pglift_patroni_config_* from C, on a real Patroni member: get gives the document without any secret
 * (the passwords pglift_patroni_credentials gives are absent), set changes a parameter keeping the secrets
 * in the 0600 file, validate answers {"valid", "issues"} naming Patroni's field, a bad document or a
 * changed scope fails naming the field; the _async twins. A private etcd from with_prefix.sh
 * (LIBPGLIFT_TEST_WITH_ETCD=1); skipped (77) without it. */
#include "testutil.h" /* first: it defines _GNU_SOURCE */

#include <sys/stat.h>

/* The value of the first "password" after `after` in a JSON text (no escapes in generated passwords). */
static char *password_after(const char *json, const char *after) {
  const char *p = strstr(json, after), *start, *end;
  char *out;
  CHECK(p != NULL);
  p = strstr(p, "\"password\"");
  CHECK(p != NULL);
  start = strchr(p + strlen("\"password\""), '"');
  CHECK(start != NULL);
  ++start;
  end = strchr(start, '"');
  CHECK(end != NULL && end > start);
  out = malloc((size_t)(end - start) + 1);
  CHECK(out != NULL);
  memcpy(out, start, (size_t)(end - start));
  out[end - start] = '\0';
  return out;
}

/* `text` with the first `from` (after `after`, when given) replaced by `to`; malloc'ed. */
static char *replaced(const char *text, const char *after, const char *from, const char *to) {
  const char *base = after ? strstr(text, after) : text, *at;
  char *out;
  size_t head;
  CHECK(base != NULL);
  at = strstr(base, from);
  CHECK(at != NULL);
  head = (size_t)(at - text);
  out = malloc(strlen(text) - strlen(from) + strlen(to) + 1);
  CHECK(out != NULL);
  memcpy(out, text, head);
  strcpy(out + head, to);
  strcat(out, at + strlen(from));
  return out;
}

static char *file_text(const char *path) {
  FILE *f = fopen(path, "r");
  char *out;
  long n;
  CHECK(f != NULL);
  CHECK(fseek(f, 0, SEEK_END) == 0);
  n = ftell(f);
  CHECK(n > 0);
  rewind(f);
  out = malloc((size_t)n + 1);
  CHECK(out != NULL);
  CHECK(fread(out, 1, (size_t)n, f) == (size_t)n);
  out[n] = '\0';
  fclose(f);
  return out;
}

int main(void) {
  char yaml[512], *json = NULL, *creds = NULL, *doc = NULL, *changed, *bad, *text;
  char *super_pw, *repl_pw, *rewind_pw;
  pglift_ctx *ctx = patroni_test_ctx(PGLIFT_LOG_INFO);
  pglift_op *op = NULL;
  struct stat st;
  test_patroni_yaml(yaml, sizeof yaml, "c1");
  patroni_member_create(ctx, "c1", "cfgc", "127.0.1.1");

  OK(pglift_patroni_credentials(ctx, "c1", &creds, ERR));
  super_pw = password_after(creds, "\"superuser\"");
  repl_pw = password_after(creds, "\"replication\"");
  rewind_pw = password_after(creds, "\"rewind\"");
  pglift_free(creds);

  /* get: the document, no secret. */
  OK(pglift_patroni_config_get(ctx, "c1", &doc, ERR));
  CHECK(contains(doc, "\"scope\":\"cfgc\""));
  CHECK(contains(doc, "\"**********\""));
  CHECK(!contains(doc, super_pw));
  CHECK(!contains(doc, repl_pw));
  CHECK(!contains(doc, rewind_pw));

  /* validate: the member's own document is valid; another connect address is Patroni's issue. */
  OK(pglift_patroni_config_validate(ctx, "c1", doc, strlen(doc), &json, ERR));
  if (!contains(json, "\"valid\":true")) fprintf(stderr, "validate: %s\n", json);
  CHECK(contains(json, "\"valid\":true"));
  pglift_free(json);
  json = NULL;
  bad = replaced(doc, "\"restapi\"", "\"connect_address\":\"127.0.1.1:", "\"connect_address\":\"127.0.0.1:");
  OK(pglift_patroni_config_validate(ctx, "c1", bad, strlen(bad), &json, ERR));
  CHECK(contains(json, "\"valid\":false"));
  CHECK(contains(json, "\"field\":\"restapi.connect_address\""));
  CHECK(!contains(json, super_pw));
  pglift_free(json);
  json = NULL;
  free(bad);

  /* set: a parameter added; the secrets stay in the 0600 file, never in what get gives. */
  {
    const char *params = strstr(strstr(doc, "\"postgresql\":{\"listen\""), "\"parameters\":{");
    CHECK(params != NULL);
    changed = replaced(doc, "\"postgresql\":{\"listen\"", "\"parameters\":{",
                       params[strlen("\"parameters\":{")] == '}' ? "\"parameters\":{\"work_mem\":\"14MB\""
                                                                   : "\"parameters\":{\"work_mem\":\"14MB\",");
  }
  OK(pglift_patroni_config_set(ctx, "c1", changed, strlen(changed), ERR));
  free(changed);
  CHECK(stat(yaml, &st) == 0);
  CHECK((st.st_mode & 077) == 0);
  text = file_text(yaml);
  CHECK(contains(text, super_pw));
  CHECK(contains(text, rewind_pw));
  CHECK(contains(text, "14MB"));
  CHECK(!contains(text, "**********"));
  free(text);
  pglift_free(doc);
  OK(pglift_patroni_config_get(ctx, "c1", &doc, ERR));
  CHECK(contains(doc, "\"work_mem\":\"14MB\""));
  CHECK(!contains(doc, super_pw));

  /* Refusals naming the field, the file untouched. */
  text = file_text(yaml);
  bad = replaced(doc, NULL, "\"scope\":\"cfgc\"", "\"scope\":\"other\"");
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_patroni_config_set(ctx, "c1", bad, strlen(bad), ERR));
  CHECK(strcmp(pglift_error_field(test_err), "scope") == 0);
  free(bad);
  bad = replaced(doc, "\"postgresql\":{\"listen\"", "\"listen\":\"", "\"listen\":\"no host ");
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_patroni_config_set(ctx, "c1", bad, strlen(bad), ERR));
  CHECK(strcmp(pglift_error_field(test_err), "postgresql.listen") == 0);
  free(bad);
  bad = replaced(doc, "\"restapi\"", "\"password\":\"**********\"", "\"password\":\"NewPassword1\"");
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_patroni_config_set(ctx, "c1", bad, strlen(bad), ERR));
  CHECK(strcmp(pglift_error_field(test_err), "restapi.authentication.password") == 0);
  CHECK(!contains(pglift_error_message(test_err), "NewPassword1"));
  free(bad);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_patroni_config_set(ctx, "c1", "{\"scope\": ", 10, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "patroni configuration") == 0);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_patroni_config_validate(ctx, "c1", "[]", 2, &json, ERR));
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_patroni_config_set(ctx, "c1", NULL, 0, ERR));
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_patroni_config_get(ctx, "c1", NULL, ERR));
  FAILS(PGLIFT_E_NOT_FOUND, pglift_patroni_config_get(ctx, "nosuch", &json, ERR));
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_patroni_config_get(NULL, "c1", &json, ERR));
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_patroni_config_get(ctx, NULL, &json, ERR));
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_patroni_config_validate(ctx, "c1", doc, strlen(doc), NULL, ERR));
  FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_patroni_config_get_async(ctx, "c1", 70, NULL, ERR));
  changed = file_text(yaml);
  CHECK(strcmp(changed, text) == 0);
  free(changed);
  free(text);

  /* The async twins. */
  OK(pglift_patroni_config_get_async(ctx, "c1", 71, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  CHECK(contains(pglift_op_result(op), "\"work_mem\":\"14MB\""));
  CHECK(!contains(pglift_op_result(op), super_pw));
  pglift_op_free(op);
  changed = replaced(doc, NULL, "\"work_mem\":\"14MB\"", "\"work_mem\":\"15MB\"");
  OK(pglift_patroni_config_set_async(ctx, "c1", changed, strlen(changed), 72, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  pglift_op_free(op);
  OK(pglift_patroni_config_validate_async(ctx, "c1", changed, strlen(changed), 73, &op, ERR));
  CHECK(pglift_op_wait(op, 60000) == 1);
  CHECK(pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED);
  CHECK(contains(pglift_op_result(op), "\"valid\":true"));
  pglift_op_free(op);
  op = NULL;
  {
    const char *bad_mode = "{\"watchdog\": {\"mode\": \"x\"}}";
    FAILS(PGLIFT_E_INVALID_SPEC, pglift_patroni_config_set_async(ctx, "c1", bad_mode, strlen(bad_mode), 74, &op, ERR));
  }
  CHECK(strcmp(pglift_error_field(test_err), "watchdog.mode") == 0);
  CHECK(op == NULL);
  free(changed);
  pglift_free(doc);
  text = file_text(yaml);
  CHECK(contains(text, "15MB"));
  CHECK(contains(text, super_pw));
  free(text);
  drain_now(ctx);

  patroni_member_drop(ctx, "c1");
  free(super_pw);
  free(repl_pw);
  free(rewind_pw);
  test_end(ctx);
  puts("a member's Patroni configuration through the C ABI: get without secrets, set, validate, refusals named");
  return 0;
}
