/* PGLIFT_DROP_DCS_UNREACHABLE_OK, from C: a Patroni member's drop while the DCS cannot be reached fails
 * with PGLIFT_E_DCS and changes nothing (nobody can tell whether it is the last member of its cluster: the
 * message says so, never that it "appears to be the last member"); with the flag, it is dropped. The DCS is made unreachable for the drop by a
 * context whose site settings name an etcd address where nothing listens (the member's own etcd stays up).
 * A private etcd from with_prefix.sh (LIBPGLIFT_TEST_WITH_ETCD=1); skipped (77) without it. */
#include "testutil.h" /* first: it defines _GNU_SOURCE */

int main(void) {
  char nowhere[64], datadir[512], *json = NULL;
  pglift_ctx *ctx = patroni_test_ctx(PGLIFT_LOG_INFO), *cut_off = NULL;
  pglift_settings *down = NULL;
  snprintf(nowhere, sizeof nowhere, "127.0.0.1:%d", free_port());
  down = patroni_test_settings(nowhere);
  OK(pglift_ctx_new(down, &cut_off, ERR));
  pglift_settings_free(down); /* copied */
  test_datadir(datadir, sizeof datadir, "d1");
  patroni_member_create(ctx, "d1", "dropc", "127.0.1.1");

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
  check_instance_gone("d1");
  FAILS(PGLIFT_E_NOT_FOUND, pglift_instance_get(ctx, "d1", &json, ERR));

  pglift_ctx_free(cut_off);
  test_end(ctx);
  puts("a member's drop with the DCS unreachable: refused (PGLIFT_E_DCS), then done with the flag");
  return 0;
}
