/* Writer probe of the hosts suite: every 50 ms, one INSERT into hosts_probe on the member the libpq
 * environment names (PGHOST, PGPORT, PGUSER, PGPASSFILE: `pglift instance env`), one line per attempt
 * on stdout:
 *     START_MS END_MS WRITER SEQ RESULT
 * with wall-clock milliseconds (shared by every namespace of the machine, so that the probes of the
 * three hosts can be compared) and RESULT one of
 *     ok           the commit was confirmed
 *     unconfirmed  the server committed locally but cancelled the wait for synchronous replication
 *     ro           the server is read-only (SQLSTATE 25006): it serves reads
 *     down         no connection (or the connection dropped)
 *     err:SQLSTATE anything else
 * Runs until SIGTERM or SIGINT.   Usage: writer_probe WRITER */
#define _POSIX_C_SOURCE 200809L
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stopping = 0;
static int sync_wait_cancelled = 0;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A commit whose wait for the synchronous standby was cancelled is reported as a success with a
 * WARNING: it must not count as confirmed. */
static void on_notice(void* arg, const char* message) {
  (void)arg;
  if (strstr(message, "synchronous replication") != NULL) sync_wait_cancelled = 1;
}

static void pause_50ms(void) {
  struct timespec ts = {0, 50 * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s WRITER\n", argv[0]);
    return 2;
  }
  const char* writer = argv[1];
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  setvbuf(stdout, NULL, _IOLBF, 0);

  PGconn* conn = NULL;
  for (long long seq = 1; !stopping; ++seq, pause_50ms()) {
    long long start = now_ms();
    const char* result = "down";
    char other[32];
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
      if (conn != NULL) PQfinish(conn);
      conn = PQconnectdb("connect_timeout=2 dbname=postgres application_name=writer_probe");
      if (PQstatus(conn) == CONNECTION_OK) PQsetNoticeProcessor(conn, on_notice, NULL);
    }
    if (PQstatus(conn) == CONNECTION_OK) {
      char seq_text[32];
      snprintf(seq_text, sizeof seq_text, "%lld", seq);
      const char* params[2] = {writer, seq_text};
      sync_wait_cancelled = 0;
      PGresult* res = PQexecParams(conn, "INSERT INTO hosts_probe (writer, seq) VALUES ($1, $2::bigint)", 2,
                                   NULL, params, NULL, NULL, 0);
      if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        result = sync_wait_cancelled ? "unconfirmed" : "ok";
      } else if (PQstatus(conn) != CONNECTION_OK) {
        result = "down";
      } else {
        const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (state != NULL && strcmp(state, "25006") == 0) {
          result = "ro";
        } else {
          snprintf(other, sizeof other, "err:%s", state != NULL ? state : "none");
          result = other;
        }
      }
      PQclear(res);
    }
    printf("%lld %lld %s %lld %s\n", start, now_ms(), writer, seq, result);
  }
  if (conn != NULL) PQfinish(conn);
  return 0;
}
