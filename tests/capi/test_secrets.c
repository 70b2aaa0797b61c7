/* Secrets through the C ABI: a create whose manifest holds unique canary passwords, at DEBUG level, must
 * not show them in any event (logs, progress, OP_DONE), any error (message, field, detail), any JSON
 * result, nor in any file under the prefix that others could read (not mode 0600) or in any log file.
 * Bad manifests and settings holding a canary (syntax errors, passwords of the wrong type) must fail
 * without quoting it. The passwords must work, too: a leak-free create that ignored them would prove
 * nothing. */
#include "testutil.h" /* first: it defines _GNU_SOURCE (nftw, memmem) */

#include <ftw.h>

static char canary_su[64], canary_repl[64], canary_num[32];
static int leaks;

static void leak(const char *where, const char *text) {
  ++leaks;
  fprintf(stderr, "LEAK in %s: %s\n", where, text);
}

/* Reports a leak when `text` holds any canary. */
static void check_clean(const char *where, const char *text) {
  if (contains(text, canary_su) || contains(text, canary_repl) || contains(text, canary_num)) leak(where, text);
}

static void check_error_clean(const char *where) {
  CHECK(test_err != NULL);
  fprintf(stderr, "%s: %s [field %s]\n", where, pglift_error_message(test_err), pglift_error_field(test_err));
  check_clean(where, pglift_error_message(test_err));
  check_clean(where, pglift_error_field(test_err));
  check_clean(where, pglift_error_detail(test_err));
}

/* Takes every queued event; each must be clean. Returns the state of `tag`'s OP_DONE if it came, else -1. */
static int drain_clean(pglift_ctx *ctx, uint64_t tag, double timeout_s) {
  double deadline = now_s() + timeout_s;
  int state = -1;
  for (;;) {
    pglift_event *ev = next_event_polled(ctx, tag ? deadline - now_s() : 0);
    if (!ev) {
      CHECK(tag == 0); /* the op did not end in time */
      return state;
    }
    print_event(ev);
    check_clean("event message", pglift_event_message(ev));
    if (pglift_event_kind_of(ev) == PGLIFT_EVENT_LOG) check_clean("event target", pglift_event_target(ev));
    if (pglift_event_kind_of(ev) == PGLIFT_EVENT_OP_DONE && tag && pglift_event_tag(ev) == tag) {
      state = pglift_event_op_state(ev);
      pglift_event_free(ev);
      return state;
    }
    pglift_event_free(ev);
  }
}

/* Manifests that must be refused without quoting the canary. */
static void bad_manifests(pglift_ctx *ctx) {
  char spec[512];
  const char *forms[] = {
      "{\"name\": \"sec\", \"surole_password\": \"%s\" \"port\": 5432}",     /* syntax error after the secret */
      "{\"name\": \"sec\", \"surole_password\": {\"nested\": \"%s\"}}",      /* an object */
      "{\"name\": \"sec\", \"replrole_password\": [\"%s\"]}",                /* an array */
      "{\"name\": \"sec\", \"auth\": [\"%s\"]}",                             /* another field's sub-document */
      "{\"name\": \"sec\", \"settings\": {\"primary_conninfo\": [\"%s\"]}}", /* a parameter's */
      "[\"%s\"]",                                                            /* no object at all */
  };
  size_t i;
  pglift_op *op = NULL;
  char *json = NULL;
  for (i = 0; i < sizeof forms / sizeof forms[0]; ++i) {
    snprintf(spec, sizeof spec, forms[i], canary_su);
    FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, &json, ERR));
    check_error_clean("create error");
    FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create_async(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, 7, &op, ERR));
    check_error_clean("create_async error");
  }
  snprintf(spec, sizeof spec, "{\"name\": \"sec\", \"surole_password\": %s}", canary_num); /* a number */
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_create(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, &json, ERR));
  check_error_clean("create error (number)");
  CHECK(strcmp(pglift_error_field(test_err), "surole_password") == 0);
}

static void bad_settings(void) {
  char doc[512];
  pglift_settings *settings = NULL;
  snprintf(doc, sizeof doc,
           "{\"patroni\": {\"etcd\": {\"hosts\": [\"127.0.0.1:2379\"], \"username\": \"u\", \"password\": [\"%s\"]}}}",
           canary_su);
  FAILS(PGLIFT_E_SETTINGS, pglift_settings_from_json(doc, strlen(doc), &settings, ERR));
  check_error_clean("settings error");
  snprintf(doc, sizeof doc, "{\"patroni\": {\"etcd\": {\"password\": \"%s\" \"x\": 1}}}", canary_su);
  FAILS(PGLIFT_E_SETTINGS, pglift_settings_from_json(doc, strlen(doc), &settings, ERR));
  check_error_clean("settings syntax error");
}

/* Every file under the prefix not mode 0600, and every log file: none may hold a canary. */
static const char *files_prefix;
static int check_file(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  char buf[65536];
  size_t n;
  FILE *f;
  int is_log = strstr(path + strlen(files_prefix), "/log/") != NULL || strstr(path, ".log") != NULL;
  (void)ftw;
  if (type != FTW_F || ((st->st_mode & 07777) == 0600 && !is_log)) return 0;
  f = fopen(path, "rb");
  if (!f) return 0; /* gone meanwhile (a temporary file) */
  while ((n = fread(buf, 1, sizeof buf - 1, f)) > 0) {
    buf[n] = '\0';
    if (memmem(buf, n, canary_su, strlen(canary_su)) || memmem(buf, n, canary_repl, strlen(canary_repl))) {
      fprintf(stderr, "LEAK in file %s (mode %04o)\n", path, (unsigned)(st->st_mode & 07777));
      ++leaks;
      break;
    }
  }
  fclose(f);
  return 0;
}

/* psql through TCP with a password (scram-sha-256 on 127.0.0.1 by default); 0 on success. */
static int connects(int port, const char *user, const char *dbname_or_replication, const char *password) {
  char command[512];
  int rc;
  setenv("PGPASSWORD", password, 1); /* the environment, not the command line */
  snprintf(command, sizeof command,
           "/usr/lib/postgresql/15/bin/psql -X -w -h 127.0.0.1 -p %d -U %s -d %s -tAc 'select 1' >/dev/null 2>&1", port,
           user, dbname_or_replication);
  rc = system(command);
  unsetenv("PGPASSWORD");
  return rc;
}

int main(void) {
  pglift_ctx *ctx = NULL;
  pglift_op *op = NULL;
  char spec[512], changes[256], *json = NULL;
  int port = free_port();
  const char *prefix = test_prefix();

  snprintf(canary_su, sizeof canary_su, "CanarySu%dx%ld", (int)getpid(), (long)time(NULL));
  snprintf(canary_repl, sizeof canary_repl, "CanaryRepl%dx%ld", (int)getpid(), (long)time(NULL));
  snprintf(canary_num, sizeof canary_num, "97%d31%ld", (int)getpid(), (long)time(NULL) % 100000);

  OK(pglift_ctx_new(NULL, &ctx, ERR));
  OK(pglift_ctx_set_log_level(ctx, PGLIFT_LOG_DEBUG, ERR));

  bad_manifests(ctx);
  bad_settings();
  drain_clean(ctx, 0, 0);

  /* The create, asynchronous, every event drained and checked. */
  snprintf(spec, sizeof spec,
           "{\"name\": \"sec\", \"version\": \"15\", \"port\": %d, \"surole_password\": \"%s\", "
           "\"replrole_password\": \"%s\"}",
           port, canary_su, canary_repl);
  OK(pglift_instance_create_async(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, 1, &op, ERR));
  CHECK(drain_clean(ctx, 1, 180) == PGLIFT_OP_SUCCEEDED);
  CHECK(pglift_op_wait(op, 0) == 1);
  check_clean("create result", pglift_op_result(op));
  pglift_op_free(op);

  OK(pglift_instance_get(ctx, "15/sec", &json, ERR));
  check_clean("get result", json);
  pglift_free(json);

  /* The passwords were applied: the canaries log in, a wrong password does not. */
  CHECK(connects(port, "postgres", "postgres", canary_su) == 0);
  CHECK(connects(port, "postgres", "postgres", "wrong") != 0);
  CHECK(connects(port, "replication", "postgres", canary_repl) == 0);

  /* A configuration change that does not parse: refused without quoting it. */
  snprintf(changes, sizeof changes, "{\"primary_conninfo\": \"password=%s\" \"x\": 1}", canary_su);
  FAILS(PGLIFT_E_INVALID_SPEC, pglift_instance_configure(ctx, "15/sec", changes, strlen(changes), &json, ERR));
  check_error_clean("configure error");

  files_prefix = prefix;
  CHECK(nftw(prefix, check_file, 16, FTW_PHYS) == 0);

  OK(pglift_instance_drop_async(ctx, "15/sec", 2, &op, ERR));
  CHECK(drain_clean(ctx, 2, 120) == PGLIFT_OP_SUCCEEDED);
  pglift_op_free(op);
  drain_clean(ctx, 0, 0);
  CHECK(nftw(prefix, check_file, 16, FTW_PHYS) == 0);

  pglift_error_free(test_err);
  pglift_ctx_free(ctx);
  if (leaks) {
    fprintf(stderr, "%d leak(s) of the canary passwords\n", leaks);
    return 1;
  }
  fprintf(stderr, "no leak of the canary passwords\n");
  return 0;
}
