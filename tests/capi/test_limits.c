/* Hostile input at the C boundary: every JSON entry point (specs, settings, configuration changes) refuses
 * nesting and sizes over its limits with a clear error naming the limit (a 200 KB "[[[[..." used to
 * overflow the stack), refuses bytes after a NUL (they used to be ignored, and the instance created), and
 * refuses invalid UTF-8, naming the field without echoing the bytes. Nothing is created meanwhile. */
#include "testutil.h"

/* Valid UTF-8 and no raw byte of `bad` (a string of stray bytes). */
static int clean_message(const char *msg, const char *bad) {
  const unsigned char *p = (const unsigned char *)msg;
  if (!msg) return 0;
  for (; *bad; ++bad)
    if (strchr(msg, *bad)) return 0;
  while (*p) { /* ASCII or well-formed multi-byte sequences only */
    int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
    int k;
    if (!n) return 0;
    for (k = 1; k < n; ++k)
      if ((p[k] & 0xc0) != 0x80) return 0;
    p += n;
  }
  return 1;
}

static char *nested(size_t depth, const char *before, const char *after) {
  size_t lb = strlen(before), la = strlen(after);
  char *s = malloc(lb + depth * 2 + la + 1);
  CHECK(s != NULL);
  memcpy(s, before, lb);
  memset(s + lb, '[', depth);
  memset(s + lb + depth, ']', depth);
  memcpy(s + lb + depth * 2, after, la + 1);
  return s;
}

static void nothing_created(pglift_ctx *ctx) {
  char *json = NULL;
  OK(pglift_instance_list(ctx, NULL, &json, ERR));
  CHECK(strcmp(json, "[]") == 0);
  pglift_free(json);
}

int main(void) {
  pglift_ctx *ctx = NULL;
  pglift_settings *settings = NULL;
  char spec[256], *json = NULL, *deep;
  size_t len;
  (void)test_prefix();
  OK(pglift_ctx_new(NULL, &ctx, ERR));

  /* 1. Nesting: 200 000 levels, in a spec, in settings, in configuration changes. */
  deep = nested(200000, "{\"name\": \"deep\", \"port\": 5999, \"settings\": {\"x\": ", "}}");
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create(ctx, deep, strlen(deep), 0, &json, ERR));
  CHECK(contains(pglift_error_message(test_err), "limit of 64 levels"));
  FAILS(PGLIFT_E_SETTINGS, pglift_settings_from_json(deep, strlen(deep), &settings, ERR));
  CHECK(contains(pglift_error_message(test_err), "limit of 64 levels"));
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_configure(ctx, "nosuch", deep, strlen(deep), &json, ERR));
  CHECK(contains(pglift_error_message(test_err), "limit of 64 levels"));
  free(deep);
  /* 64 levels are fine (the spec is then refused for what it says, not for its shape). */
  deep = nested(60, "{\"name\": \"shallow\", \"port\": 5999, \"settings\": {\"x\": ", "}}");
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create(ctx, deep, strlen(deep), 0, &json, ERR));
  CHECK(!contains(pglift_error_message(test_err), "limit of"));
  CHECK(contains(pglift_error_field(test_err), "settings.x"));
  free(deep);

  /* 2. Size: a 5 MiB document. */
  {
    size_t n = 5u << 20;
    char *big = malloc(n + 1);
    CHECK(big != NULL);
    memset(big, ' ', n);
    memcpy(big, "{\"name\": \"big\"}", 15);
    big[n] = 0;
    FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create(ctx, big, n, 0, &json, ERR));
    CHECK(contains(pglift_error_message(test_err), "over the limit of"));
    free(big);
  }

  /* 3. Bytes after a NUL are not ignored: the length covers them, so they count. */
  len = (size_t)snprintf(spec, sizeof spec, "{\"name\": \"nul\", \"port\": %d}", free_port());
  spec[len] = '\0';
  memcpy(spec + len + 1, "{\"bogus\":", 10);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create(ctx, spec, len + 10, 0, &json, ERR));
  CHECK(contains(pglift_error_message(test_err), "NUL byte"));
  CHECK(contains(pglift_error_message(test_err), "offset"));
  /* A NUL inside a value names its field. */
  len = (size_t)snprintf(spec, sizeof spec, "{\"name\": \"nul\", \"port\": %d, \"locale\": \"C", free_port());
  memcpy(spec + len, "\0x\"}", 4);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create(ctx, spec, len + 4, 0, &json, ERR));
  CHECK(strcmp(pglift_error_field(test_err), "locale") == 0);
  nothing_created(ctx);

  /* 4. Invalid UTF-8, in a JSON string and as a C string argument: refused, never echoed raw. */
  len = (size_t)snprintf(spec, sizeof spec, "{\"name\": \"caf\xe9\", \"port\": %d}", free_port());
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create(ctx, spec, len, 0, &json, ERR));
  CHECK(clean_message(pglift_error_message(test_err), "\xe9"));
  CHECK(strcmp(pglift_error_field(test_err), "name") == 0);
  CHECK(contains(pglift_error_message(test_err), "in field 'name'"));
  len = (size_t)snprintf(spec, sizeof spec, "{\"name\": \"a\xc0\xaf" "b\", \"port\": %d}", free_port());
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create(ctx, spec, len, 0, &json, ERR));
  CHECK(clean_message(pglift_error_message(test_err), "\xc0\xaf"));
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_get(ctx, "caf\xe9", &json, ERR));
  CHECK(clean_message(pglift_error_message(test_err), "\xe9"));
  CHECK(contains(pglift_error_message(test_err), "\\xe9")); /* escaped, so the user still sees what was given */
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_get(ctx, "a\xc0\xaf" "b", &json, ERR));
  CHECK(clean_message(pglift_error_message(test_err), "\xc0\xaf"));
  nothing_created(ctx);

  pglift_ctx_free(ctx);
  pglift_error_free(test_err);
  puts("limits, NUL bytes and invalid UTF-8: refused with clear errors, nothing created");
  return 0;
}
