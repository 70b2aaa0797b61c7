/* libpglift from C: create an instance, read it back, restart it asynchronously while draining its
 * log events through the context's event fd, then drop it. Uses only <pglift/pglift.h>:
 *
 *   cc -std=c11 example.c $(pkg-config --cflags --libs libpglift) -o example
 *   ./example [NAME] [PORT]
 *
 * Settings come from the environment as for the pglift CLI (SETTINGS, PGLIFT_CONFIG_DIR, ...). */
#define _GNU_SOURCE /* SOCK_CLOEXEC */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pglift/pglift.h>

/* Prints the error of a failed call and frees it; returns 1 for `if (failed(...)) goto out;`. */
static int failed(int status, pglift_error *err, const char *what) {
  if (status == PGLIFT_OK) return 0;
  fprintf(stderr, "%s: %s (%s)\n", what, err ? pglift_error_message(err) : "", pglift_status_name(status));
  pglift_error_free(err);
  return 1;
}

static int free_port(void) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int port = 5432, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

/* What an event loop does: sleep on the event fd, then take what is queued, until `op` has ended. */
static int run_draining(pglift_ctx *ctx, pglift_op *op) {
  struct pollfd p = {.fd = pglift_ctx_event_fd(ctx), .events = POLLIN};
  for (;;) {
    pglift_event *ev = NULL;
    while (pglift_ctx_next_event(ctx, 0, &ev) == 1) {
      int kind = pglift_event_kind_of(ev);
      if (kind == PGLIFT_EVENT_LOG)
        printf("  [op %llu] %-7s %s\n", (unsigned long long)pglift_event_tag(ev),
               pglift_log_level_name(pglift_event_log_level(ev)), pglift_event_message(ev));
      if (kind == PGLIFT_EVENT_OP_DONE && pglift_event_tag(ev) == pglift_op_tag(op)) {
        pglift_event_free(ev);
        return pglift_op_state_of(op);
      }
      pglift_event_free(ev);
    }
    if (poll(&p, 1, -1) < 0) return -1;
  }
}

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "example";
  int port = argc > 2 ? atoi(argv[2]) : free_port(), rc = 1;
  char spec[256], *json = NULL;
  pglift_ctx *ctx = NULL;
  pglift_op *op = NULL;
  pglift_error *err = NULL;

  printf("libpglift %s\n", pglift_version());
  if (failed(pglift_ctx_new(NULL, &ctx, &err), err, "context")) return 1;
  pglift_ctx_set_log_level(ctx, PGLIFT_LOG_INFO, NULL);

  snprintf(spec, sizeof spec, "{\"name\": \"%s\", \"port\": %d}", name, port);
  if (failed(pglift_instance_create(ctx, spec, strlen(spec), PGLIFT_CREATE_DEFAULT, &json, &err), err, "create"))
    goto out;
  printf("created: %s\n", json);
  pglift_free(json);
  /* the version was chosen by the library (the highest installed): ask for "NAME" alone */
  if (failed(pglift_instance_status(ctx, name, &json, &err), err, "status")) goto drop;
  printf("status: %s\n", json);
  pglift_free(json);

  if (failed(pglift_instance_restart_async(ctx, name, PGLIFT_STOP_FAST, 42, &op, &err), err, "restart")) goto drop;
  if (run_draining(ctx, op) != PGLIFT_OP_SUCCEEDED) {
    fprintf(stderr, "restart: %s\n", pglift_error_message(pglift_op_error(op)));
    goto drop;
  }
  printf("%s restarted\n", name);
  rc = 0;
drop:
  if (failed(pglift_instance_drop(ctx, name, &err), err, "drop")) rc = 1;
  else printf("dropped %s\n", name);
out:
  pglift_op_free(op);
  pglift_ctx_free(ctx);
  return rc;
}
