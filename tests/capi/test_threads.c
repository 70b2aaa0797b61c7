/* Any function taking a context may be called from any number of threads (pglift.h): four readers call
 * pglift_instance_get and pglift_instance_list in a loop on one context while a fifth stops and starts
 * the instance, for LIBPGLIFT_TEST_THREADS_SECONDS (default 10). No crash (ASan/UBSan in that build);
 * every call ends OK or with a status that a stopping or starting server explains. */
#include "testutil.h" /* first: it defines _GNU_SOURCE */

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

static pglift_ctx *ctx;
static atomic_int stop_flag;
static atomic_long gets, lists, cycles, failures;

static int acceptable(int rc) {
  /* The server may be stopping or starting under a get: a state error or a busy lock is fair. */
  return rc == PGLIFT_OK || rc == PGLIFT_E_STATE || rc == PGLIFT_E_BUSY;
}

static void *reader(void *arg) {
  (void)arg;
  while (!atomic_load(&stop_flag)) {
    pglift_error *err = NULL;
    char *json = NULL;
    int rc = pglift_instance_get(ctx, "main", &json, &err);
    if (!acceptable(rc)) {
      fprintf(stderr, "get: %s: %s\n", pglift_status_name(rc), err ? pglift_error_message(err) : "");
      atomic_fetch_add(&failures, 1);
    }
    if (rc == PGLIFT_OK) CHECK(contains(json, "\"name\""));
    pglift_free(json);
    pglift_error_free(err);
    err = NULL;
    json = NULL;
    rc = pglift_instance_list(ctx, NULL, &json, &err);
    if (rc != PGLIFT_OK) {
      fprintf(stderr, "list: %s: %s\n", pglift_status_name(rc), err ? pglift_error_message(err) : "");
      atomic_fetch_add(&failures, 1);
    }
    pglift_free(json);
    pglift_error_free(err);
    atomic_fetch_add(&gets, 1);
    atomic_fetch_add(&lists, 1);
  }
  return NULL;
}

static void *cycler(void *arg) {
  (void)arg;
  while (!atomic_load(&stop_flag)) {
    pglift_error *err = NULL;
    int rc = pglift_instance_stop(ctx, "main", PGLIFT_STOP_FAST, &err);
    if (rc == PGLIFT_OK) {
      pglift_error_free(err);
      err = NULL;
      rc = pglift_instance_start(ctx, "main", &err);
    }
    if (rc != PGLIFT_OK) {
      fprintf(stderr, "stop/start: %s: %s\n", pglift_status_name(rc), err ? pglift_error_message(err) : "");
      atomic_fetch_add(&failures, 1);
    }
    pglift_error_free(err);
    atomic_fetch_add(&cycles, 1);
  }
  return NULL;
}

/* A pglift_op is thread-safe: several threads wait on it, read its state and cancel it at once. */
static pglift_op *shared_op;
static atomic_int ended_seen;

static void *op_user(void *arg) {
  const int role = (int)(intptr_t)arg;
  if (role == 0) pglift_op_cancel(shared_op); /* may land before or after its end: both are fine */
  CHECK(pglift_op_wait(shared_op, -1) == 1);
  CHECK(pglift_op_state_of(shared_op) != PGLIFT_OP_PENDING);
  if (pglift_op_state_of(shared_op) == PGLIFT_OP_SUCCEEDED) CHECK(pglift_op_result(shared_op) != NULL);
  else CHECK(pglift_op_error(shared_op) != NULL);
  atomic_fetch_add(&ended_seen, 1);
  return NULL;
}

static void op_from_many_threads(void) {
  pthread_t users[6];
  int round, i;
  for (round = 0; round < 20; ++round) {
    atomic_store(&ended_seen, 0);
    OK(pglift_instance_get_async(ctx, "main", (uint64_t)(1000 + round), &shared_op, ERR));
    for (i = 0; i < 6; ++i) CHECK(pthread_create(&users[i], NULL, op_user, (void *)(intptr_t)(i == 0 && round % 2 ? 0 : 1)) == 0);
    for (i = 0; i < 6; ++i) CHECK(pthread_join(users[i], NULL) == 0);
    CHECK(atomic_load(&ended_seen) == 6);
    pglift_op_free(shared_op);
  }
}

int main(void) {
  const char *s = getenv("LIBPGLIFT_TEST_THREADS_SECONDS");
  const double seconds = s && *s ? atof(s) : 10.0;
  pthread_t readers[4], stopper;
  char spec[96], *json = NULL;
  int i;
  (void)test_prefix();
  snprintf(spec, sizeof spec, "{\"name\": \"main\", \"port\": %d}", free_port());
  OK(pglift_ctx_new(NULL, &ctx, ERR));
  OK(pglift_instance_create(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, &json, ERR));
  pglift_free(json);
  for (i = 0; i < 4; ++i) CHECK(pthread_create(&readers[i], NULL, reader, NULL) == 0);
  CHECK(pthread_create(&stopper, NULL, cycler, NULL) == 0);
  {
    struct timespec t = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&t, NULL);
  }
  atomic_store(&stop_flag, 1);
  for (i = 0; i < 4; ++i) CHECK(pthread_join(readers[i], NULL) == 0);
  CHECK(pthread_join(stopper, NULL) == 0);
  printf("%.0f s: %ld gets, %ld lists, %ld stop/start cycles, %ld unexpected failures\n", seconds, atomic_load(&gets),
         atomic_load(&lists), atomic_load(&cycles), atomic_load(&failures));
  CHECK(atomic_load(&cycles) > 0);
  CHECK(atomic_load(&failures) == 0);
  op_from_many_threads();
  OK(pglift_instance_drop(ctx, "main", ERR));
  pglift_ctx_free(ctx);
  pglift_error_free(test_err);
  return 0;
}
