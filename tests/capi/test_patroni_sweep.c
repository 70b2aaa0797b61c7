/* Cancellation and pglift_ctx_free at many points of a Patroni create (a new cluster's leader), on a
 * private etcd (with_prefix.sh, LIBPGLIFT_TEST_WITH_ETCD=1): every 250 ms from 0 to 6 s the op is
 * cancelled, or the context freed, or both, in turn. Afterwards either nothing is left (no process naming
 * the data directory or the Patroni configuration, no directory, no configuration, no key of the cluster
 * in etcd) or the member is complete and `get` shows it (it is then dropped with its cluster).
 * LIBPGLIFT_TEST_SWEEP_STEP_MS and _MAX_MS change the sweep; LIBPGLIFT_TEST_SWEEP_RUN=k/n takes one share
 * of it (see sweep_share in testutil.h). Skipped (77) without etcd or Patroni. */
#include "testutil.h" /* first: it defines _GNU_SOURCE */


/* The keys etcd holds under `prefix` (etcdctl, test code only); "" when none. */
static void dcs_keys(const char *endpoint, const char *prefix, char *out, size_t size) {
  char cmd[512];
  FILE *p;
  size_t n;
  snprintf(cmd, sizeof cmd, "env -i ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=http://%s get --prefix --keys-only %s 2>&1",
           endpoint, prefix);
  p = popen(cmd, "r");
  CHECK(p != NULL);
  n = fread(out, 1, size - 1, p);
  out[n] = 0;
  pclose(p);
  while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ')) out[--n] = 0;
}

int main(void) {
  const char *endpoint = patroni_test_etcd(); /* skipped (77) without it */
  const int step = env_int("LIBPGLIFT_TEST_SWEEP_STEP_MS", 250), max = env_int("LIBPGLIFT_TEST_SWEEP_MAX_MS", 6000);
  int delay, round, first, stride, rounds = 0, reverted = 0, completed = 0;
  pglift_settings *settings = patroni_test_settings(endpoint);
  double start = now_s();
  sweep_share(&first, &stride);
  for (round = first; (delay = round * step) <= max; round += stride, ++rounds) {
    pglift_ctx *ctx = NULL;
    pglift_op *op = NULL;
    char spec[512], name[32], cluster[32], datadir[512], config[512], dcs_prefix[64], keys[4096], *json = NULL;
    const int mode = round % 3; /* 0: free the context, 1: cancel the op, 2: cancel, then free at once */
    const char *what = mode == 0 ? "free" : mode == 1 ? "cancel" : "cancel+free";
    snprintf(name, sizeof name, "m%d", round);
    snprintf(cluster, sizeof cluster, "sw%d", round);
    patroni_member_spec(spec, sizeof spec, name, cluster, "127.0.1.1");
    test_datadir(datadir, sizeof datadir, name);
    test_patroni_yaml(config, sizeof config, name);
    snprintf(dcs_prefix, sizeof dcs_prefix, "/service/%s/", cluster);
    OK(pglift_ctx_new(settings, &ctx, ERR));
    OK(pglift_instance_create_async(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, (uint64_t)round + 1, &op, ERR));
    sleep_ms(delay);
    if (mode != 0) pglift_op_cancel(op);
    if (mode != 1) {
      pglift_ctx_free(ctx); /* waits for the op and its revert */
      ctx = NULL;
      CHECK(pglift_op_wait(op, 0) == 1);
    } else {
      pglift_op_wait(op, -1);
    }
    if (pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED) {
      ++completed;
      if (!ctx) OK(pglift_ctx_new(settings, &ctx, ERR));
      OK(pglift_instance_get(ctx, name, &json, ERR));
      CHECK(contains(json, "\"state\":\"started\""));
      pglift_free(json);
      patroni_member_drop(ctx, name);
    } else {
      const pglift_error *err = pglift_op_error(op);
      ++reverted;
      if (pglift_op_state_of(op) != PGLIFT_OP_CANCELLED) {
        fprintf(stderr, "round %d (%s after %d ms): op state %d: %s\n", round, what, delay, pglift_op_state_of(op),
                err ? pglift_error_message(err) : "");
        return 1;
      }
      if (processes_naming(datadir) || processes_naming(config)) {
        fprintf(stderr, "round %d (%s after %d ms): a process is left\n", round, what, delay);
        return 1;
      }
      if (path_exists(datadir) || path_exists(config)) {
        fprintf(stderr, "round %d (%s after %d ms): %s or %s is left\n", round, what, delay, datadir, config);
        return 1;
      }
    }
    dcs_keys(endpoint, dcs_prefix, keys, sizeof keys);
    if (keys[0]) {
      fprintf(stderr, "round %d (%s after %d ms, op state %d): keys left in etcd:\n%s\n", round, what, delay,
              pglift_op_state_of(op), keys);
      return 1;
    }
    pglift_op_free(op);
    pglift_ctx_free(ctx);
  }
  pglift_settings_free(settings);
  test_end(NULL);
  printf("%d rounds in %.1f s: %d reverted, %d completed (then dropped with their cluster); nothing half-made\n", rounds,
         now_s() - start, reverted, completed);
  return 0;
}
