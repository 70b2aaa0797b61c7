/*
 * In-process cost of pglift_instance_get through the C ABI, for bench/run.py:
 *
 *   capi_get INSTANCE CALLS CONNINFO
 *
 * One context (settings from the environment, as pglift_settings_load reads them), three warm-up calls,
 * then CALLS rounds of: pglift_instance_get(INSTANCE), then PQping(CONNINFO) for scale (the cost of a
 * connection attempt to the same server). Prints {"get_us": [...], "ping_us": [...]} on stdout.
 * Built by bench/run.sh against the build's libpglift.so.
 */
#define _POSIX_C_SOURCE 200809L
#include <libpq-fe.h>
#include <pglift/pglift.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int get(pglift_ctx *ctx, const char *instance) {
  char *json = NULL;
  pglift_error *err = NULL;
  if (pglift_instance_get(ctx, instance, &json, &err) < 0) {
    fprintf(stderr, "capi_get: pglift_instance_get: %s\n", pglift_error_message(err));
    pglift_error_free(err);
    return -1;
  }
  pglift_free(json);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: capi_get INSTANCE CALLS CONNINFO\n");
    return 2;
  }
  const char *instance = argv[1], *conninfo = argv[3];
  int calls = atoi(argv[2]);
  if (calls < 1)
    return 2;
  double *get_us = calloc((size_t)calls, sizeof *get_us), *ping_us = calloc((size_t)calls, sizeof *ping_us);
  pglift_ctx *ctx = NULL;
  pglift_error *err = NULL;
  if (!get_us || !ping_us)
    return 1;
  if (pglift_ctx_new(NULL, &ctx, &err) < 0) {
    fprintf(stderr, "capi_get: pglift_ctx_new: %s\n", pglift_error_message(err));
    pglift_error_free(err);
    return 1;
  }
  int rc = 0;
  for (int i = 0; i < 3 && rc == 0; i++)
    rc = get(ctx, instance);
  for (int i = 0; i < calls && rc == 0; i++) {
    double t0 = now_us();
    rc = get(ctx, instance);
    double t1 = now_us();
    if (PQping(conninfo) != PQPING_OK) {
      fprintf(stderr, "capi_get: PQping(%s) failed: is the instance running?\n", conninfo);
      rc = -1;
    }
    double t2 = now_us();
    get_us[i] = t1 - t0;
    ping_us[i] = t2 - t1;
  }
  pglift_ctx_free(ctx);
  if (rc != 0)
    return 1;
  printf("{\"get_us\": [");
  for (int i = 0; i < calls; i++)
    printf("%s%.1f", i ? ", " : "", get_us[i]);
  printf("], \"ping_us\": [");
  for (int i = 0; i < calls; i++)
    printf("%s%.1f", i ? ", " : "", ping_us[i]);
  printf("]}\n");
  free(get_us);
  free(ping_us);
  return 0;
}
