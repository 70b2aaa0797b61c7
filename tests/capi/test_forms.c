/* The _async twins of the remaining blocking reads and of configure_text (PGLIFT_HAS_ASYNC_ALL), on a real
 * instance: each result is its blocking twin's (as JSON: a string for texts and paths), each op ends with
 * one OP_DONE; bad arguments fail at the call and deliver nothing; the Patroni reads refuse a plain
 * instance in the op (PGLIFT_E_STATE). */
#include "testutil.h"

#if !defined(PGLIFT_HAS_ASYNC_ALL)
#error "PGLIFT_HAS_ASYNC_ALL is not defined"
#endif

/* Runs the op to its OP_DONE (drained through the event fd) and returns it, SUCCEEDED or FAILED as asked. */
static pglift_op *ended(pglift_ctx *ctx, pglift_op *op, int expected_state) {
  int state = drain_until_done(ctx, pglift_op_tag(op), 120);
  CHECK(pglift_op_wait(op, 0) == 1);
  if (pglift_op_state_of(op) != expected_state && pglift_op_error(op))
    fprintf(stderr, "op %llu: %s\n", (unsigned long long)pglift_op_tag(op), pglift_error_message(pglift_op_error(op)));
  CHECK(state == expected_state && pglift_op_state_of(op) == expected_state);
  return op;
}

/* Decodes a JSON string as capi's json_string writes it (\" \\ \n \r \t \u00XX); NULL when not one. */
static char *json_string_value(const char *json) {
  size_t n = strlen(json), i, o = 0;
  char *out;
  if (n < 2 || json[0] != '"' || json[n - 1] != '"') return NULL;
  out = malloc(n);
  CHECK(out != NULL);
  for (i = 1; i + 1 < n; ++i) {
    char c = json[i];
    if (c == '\\') {
      c = json[++i];
      switch (c) {
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
          unsigned v = 0;
          CHECK(sscanf(json + i + 1, "%4x", &v) == 1);
          c = (char)v;
          i += 4;
          break;
        }
        default: break; /* \" and \\ */
      }
    }
    out[o++] = c;
  }
  out[o] = '\0';
  return out;
}

int main(void) {
  pglift_ctx *ctx = NULL;
  pglift_op *op = NULL;
  char spec[256], *blocking = NULL, *decoded = NULL;
  const char *text;
  int port = free_port();

  OK(pglift_ctx_new(NULL, &ctx, ERR));
  snprintf(spec, sizeof spec, "{\"name\": \"frm\", \"version\": \"15\", \"port\": %d}", port);
  OK(pglift_instance_create(ctx, spec, strlen(spec), 0, &blocking, ERR));
  pglift_free(blocking);

  /* parameters: the same object as the blocking call's */
  OK(pglift_instance_parameters(ctx, "frm", &blocking, ERR));
  OK(pglift_instance_parameters_async(ctx, "frm", 1, &op, ERR));
  CHECK(strcmp(pglift_op_result(ended(ctx, op, PGLIFT_OP_SUCCEEDED)), blocking) == 0);
  CHECK(contains(blocking, "\"shared_buffers\""));
  pglift_op_free(op);
  pglift_free(blocking);

  /* parameters_text: the blocking call's text, as a JSON string */
  OK(pglift_instance_parameters_text(ctx, "frm", &blocking, ERR));
  OK(pglift_instance_parameters_text_async(ctx, "15/frm", 2, &op, ERR));
  decoded = json_string_value(pglift_op_result(ended(ctx, op, PGLIFT_OP_SUCCEEDED)));
  CHECK(decoded != NULL && strcmp(decoded, blocking) == 0);
  CHECK(contains(blocking, "shared_buffers = "));
  free(decoded);
  pglift_op_free(op);

  /* configure_text: a dry run changes nothing; then for real, reloaded; the same text again: no change */
  {
    char edited[8192];
    snprintf(edited, sizeof edited, "%swork_mem = '7MB'\n", blocking);
    OK(pglift_instance_configure_text_with_async(ctx, "frm", edited, strlen(edited), PGLIFT_OP_DRY_RUN, 3, &op, ERR));
    memset(edited, 'x', 16); /* copied by the call: the buffer is ours again */
    text = pglift_op_result(ended(ctx, op, PGLIFT_OP_SUCCEEDED));
    CHECK(contains(text, "\"work_mem\":[") && contains(text, "\"reloaded\":false"));
    pglift_op_free(op);
    pglift_free(blocking);
    OK(pglift_instance_parameters_text(ctx, "frm", &blocking, ERR));
    CHECK(!contains(blocking, "7MB"));
    snprintf(edited, sizeof edited, "%swork_mem = '7MB'\n", blocking);
    OK(pglift_instance_configure_text_async(ctx, "frm", edited, strlen(edited), 4, &op, ERR));
    text = pglift_op_result(ended(ctx, op, PGLIFT_OP_SUCCEEDED));
    CHECK(contains(text, "\"work_mem\":[") && contains(text, "\"reloaded\":true"));
    pglift_op_free(op);
    pglift_free(blocking);
    OK(pglift_instance_parameters_text(ctx, "frm", &blocking, ERR));
    CHECK(contains(blocking, "work_mem = '7MB'") || contains(blocking, "work_mem = 7MB"));
    OK(pglift_instance_configure_text_async(ctx, "frm", blocking, strlen(blocking), 5, &op, ERR));
    text = pglift_op_result(ended(ctx, op, PGLIFT_OP_SUCCEEDED));
    CHECK(contains(text, "\"changes\":{}") && contains(text, "\"reloaded\":false"));
    pglift_op_free(op);
    pglift_free(blocking);
    /* bad arguments: refused at the call, nothing delivered */
    op = NULL;
    FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_configure_text_async(ctx, "frm", "include 'x'\n", 12, 6, &op, ERR));
    CHECK(strcmp(pglift_error_field(test_err), "line 1") == 0);
    FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_configure_text_with_async(ctx, "frm", "", 0, 1u << 7, 6, &op, ERR));
    CHECK(strcmp(pglift_error_field(test_err), "flags") == 0);
    FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_instance_configure_text_async(ctx, "frm", NULL, 0, 6, &op, ERR));
    FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_instance_parameters_async(ctx, NULL, 6, &op, ERR));
    FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_instance_log_file_async(ctx, "frm", 6, NULL, ERR));
    FAILS(PGLIFT_E_INVALID_ARGUMENT, pglift_patroni_credentials_async(NULL, "frm", 6, &op, ERR));
    CHECK(op == NULL);
  }

  /* log_file: the blocking call's path, as a JSON string */
  OK(pglift_instance_log_file(ctx, "frm", &blocking, ERR));
  OK(pglift_instance_log_file_async(ctx, "frm", 7, &op, ERR));
  decoded = json_string_value(pglift_op_result(ended(ctx, op, PGLIFT_OP_SUCCEEDED)));
  CHECK(decoded != NULL && strcmp(decoded, blocking) == 0 && path_exists(decoded));
  free(decoded);
  pglift_op_free(op);
  pglift_free(blocking);

  /* a missing instance: the op fails (NOT_FOUND), as the blocking call does */
  FAILS(PGLIFT_E_NOT_FOUND, pglift_instance_parameters(ctx, "nosuch", &blocking, ERR));
  OK(pglift_instance_parameters_async(ctx, "nosuch", 8, &op, ERR));
  CHECK(pglift_error_code(pglift_op_error(ended(ctx, op, PGLIFT_OP_FAILED))) == PGLIFT_E_NOT_FOUND);
  pglift_op_free(op);

  /* the Patroni reads on a plain instance: PGLIFT_E_STATE in the op, as in the blocking calls */
  FAILS(PGLIFT_E_STATE, pglift_patroni_credentials(ctx, "frm", &blocking, ERR));
  OK(pglift_patroni_credentials_async(ctx, "frm", 9, &op, ERR));
  CHECK(pglift_error_code(pglift_op_error(ended(ctx, op, PGLIFT_OP_FAILED))) == PGLIFT_E_STATE);
  CHECK(pglift_op_result(op) == NULL);
  pglift_op_free(op);
  FAILS(PGLIFT_E_STATE, pglift_patroni_log_file(ctx, "frm", &blocking, ERR));
  OK(pglift_patroni_log_file_async(ctx, "frm", 10, &op, ERR));
  CHECK(pglift_error_code(pglift_op_error(ended(ctx, op, PGLIFT_OP_FAILED))) == PGLIFT_E_STATE);
  pglift_op_free(op);

  OK(pglift_instance_drop(ctx, "frm", ERR));
  drain_now(ctx);
  pglift_ctx_free(ctx);
  pglift_error_free(test_err);
  puts("ok");
  return 0;
}
