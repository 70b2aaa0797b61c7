/* Cancellation and pglift_ctx_free at many points of a create (issue: reverts that finish). For each
 * delay, every 25 ms from 0 to 2 s, a create is started, then after the delay the op is cancelled, or
 * the context freed, or both at once (the context's destruction then cancels a second time), in turn. Afterwards either nothing of the instance is left (no
 * process naming its data directory, no directory) or it is complete and `get` shows it (then it is
 * dropped). LIBPGLIFT_TEST_SWEEP_STEP_MS and _MAX_MS change the sweep; LIBPGLIFT_TEST_SWEEP_RUN=k/n takes
 * one share of it (see sweep_share in testutil.h: CI runs the capi suite five times, 1/5 to 5/5). */
#include "testutil.h" /* first: it defines _GNU_SOURCE */


int main(void) {
  const char *prefix = test_prefix();
  const int step = env_int("LIBPGLIFT_TEST_SWEEP_STEP_MS", 25), max = env_int("LIBPGLIFT_TEST_SWEEP_MAX_MS", 2000);
  int delay, round, first, stride, rounds = 0, reverted = 0, completed = 0;
  double start = now_s();
  sweep_share(&first, &stride);
  for (round = first; (delay = round * step) <= max; round += stride, ++rounds) {
    pglift_ctx *ctx = NULL;
    pglift_op *op = NULL;
    char spec[128], name[32], datadir[512], *json = NULL;
    const int mode = round % 3; /* 0: free the context, 1: cancel the op, 2: cancel, then free at once */
    const char *what = mode == 0 ? "free" : mode == 1 ? "cancel" : "cancel+free";
    snprintf(name, sizeof name, "s%d", round);
    snprintf(spec, sizeof spec, "{\"name\": \"%s\", \"port\": %d}", name, free_port());
    snprintf(datadir, sizeof datadir, "%s/srv/pgsql/15/%s/data", prefix, name);
    OK(pglift_ctx_new(NULL, &ctx, ERR));
    OK(pglift_instance_create_async(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, (uint64_t)round, &op, ERR));
    sleep_ms(delay);
    if (mode != 0) pglift_op_cancel(op);
    if (mode != 1) {
      pglift_ctx_free(ctx); /* waits for the op and its revert */
      ctx = NULL;
      CHECK(pglift_op_wait(op, 0) == 1); /* ended before pglift_ctx_free returned */
    } else {
      pglift_op_wait(op, -1);
    }
    /* Nothing half-made: either everything is gone, or the instance is whole. */
    if (pglift_op_state_of(op) != PGLIFT_OP_SUCCEEDED && processes_naming(datadir) != 0) {
      fprintf(stderr, "round %d (%s after %d ms): a process still names %s\n", round, what, delay, datadir);
      return 1;
    }
    if (pglift_op_state_of(op) == PGLIFT_OP_SUCCEEDED) {
      ++completed;
      if (!ctx) OK(pglift_ctx_new(NULL, &ctx, ERR));
      OK(pglift_instance_get(ctx, name, &json, ERR));
      CHECK(contains(json, "\"state\": \"started\"") || contains(json, "\"state\":\"started\""));
      pglift_free(json);
      OK(pglift_instance_drop(ctx, name, ERR));
    } else {
      CHECK(pglift_op_state_of(op) == PGLIFT_OP_CANCELLED);
      ++reverted;
    }
    if (path_exists(datadir)) {
      fprintf(stderr, "round %d (%s after %d ms, op state %d): %s is left behind\n", round, what, delay,
              pglift_op_state_of(op), datadir);
      return 1;
    }
    pglift_op_free(op);
    pglift_ctx_free(ctx);
  }
  printf("%d rounds in %.1f s: %d reverted, %d completed (then dropped); nothing half-made\n", rounds,
         now_s() - start, reverted, completed);
  pglift_error_free(test_err);
  return 0;
}
