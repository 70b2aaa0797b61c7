/* PGLIFT_DROP_DCS_UNREACHABLE_OK, from C: a Patroni member's drop while the DCS cannot be reached fails
 * with PGLIFT_E_DCS and changes nothing (nobody can tell whether it is the last member of its cluster: the
 * message says so, never that it "appears to be the last member"); with the flag, it is dropped. The DCS is made unreachable for the drop by a
 * context whose site settings name an etcd address where nothing listens (the member's own etcd stays up).
 * A private etcd from with_prefix.sh (LIBPGLIFT_TEST_WITH_ETCD=1); skipped (77) without it. */
#include "testutil.h" /* first: it defines _GNU_SOURCE */

static pglift_settings *settings_for(const char *prefix, const char *etcd) {
  char json[1024];
  pglift_settings *s = NULL;
  snprintf(json, sizeof json,
           "{\"prefix\": \"%s\", \"run_prefix\": \"%s/run\", \"patroni\": {\"etcd\": {\"hosts\": [\"%s\"]}, "
           "\"loop_wait\": 2, \"ttl\": 10, \"retry_timeout\": 3, \"create_timeout\": 120}}",
           prefix, prefix, etcd);
  OK(pglift_settings_from_json(json, strlen(json), &s, ERR));
  return s;
}

int main(void) {
  const char *prefix = test_prefix(), *endpoint = getenv("LIBPGLIFT_TEST_ETCD");
  char spec[512], nowhere[64], datadir[512], *json = NULL;
  pglift_settings *up = NULL, *down = NULL;
  pglift_ctx *ctx = NULL, *cut_off = NULL;
  if (!endpoint) {
    puts("SKIP: no etcd (run through with_prefix.sh with LIBPGLIFT_TEST_WITH_ETCD=1)");
    return 77;
  }
  up = settings_for(prefix, endpoint);
  snprintf(nowhere, sizeof nowhere, "127.0.0.1:%d", free_port());
  down = settings_for(prefix, nowhere);
  OK(pglift_ctx_new(up, &ctx, ERR));
  OK(pglift_ctx_new(down, &cut_off, ERR));
  snprintf(spec, sizeof spec,
           "{\"name\": \"d1\", \"port\": %d, \"patroni\": {\"cluster\": \"dropc\", \"node\": \"d1\", "
           "\"restapi\": {\"connect_address\": \"127.0.1.1:%d\"}, \"postgresql\": {\"connect_host\": \"127.0.1.1\"}}}",
           free_port(), free_port());
  snprintf(datadir, sizeof datadir, "%s/srv/pgsql/15/d1/data", prefix);
  OK(pglift_instance_create(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, &json, ERR));
  pglift_free(json);

  /* Refused without the flag: PGLIFT_E_DCS, nothing changed, never "the last member". */
  FAILS(PGLIFT_E_DCS, pglift_instance_drop_with(cut_off, "d1", PGLIFT_DROP_DEFAULT, ERR));
  CHECK(contains(pglift_error_message(test_err), "DCS"));
  CHECK(!contains(pglift_error_message(test_err), "appears to be the last member"));
  CHECK(contains(pglift_error_message(test_err), "cannot tell whether"));
  CHECK(path_exists(datadir));
  OK(pglift_instance_get(ctx, "d1", &json, ERR));
  CHECK(contains(json, "\"state\":\"started\""));
  pglift_free(json);

  /* With the flag: dropped, nothing left. */
  OK(pglift_instance_drop_with(cut_off, "d1", PGLIFT_DROP_DCS_UNREACHABLE_OK, ERR));
  CHECK(!path_exists(datadir));
  CHECK(processes_naming(datadir) == 0);
  FAILS(PGLIFT_E_NOT_FOUND, pglift_instance_get(ctx, "d1", &json, ERR));

  pglift_ctx_free(cut_off);
  pglift_ctx_free(ctx);
  pglift_settings_free(down);
  pglift_settings_free(up);
  pglift_error_free(test_err);
  puts("a member's drop with the DCS unreachable: refused (PGLIFT_E_DCS), then done with the flag");
  return 0;
}
