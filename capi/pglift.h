/*
 * libpglift C ABI: manage PostgreSQL instances (create, get, list, status, start, stop, restart, reload,
 * drop, env) from C and from any language with a C FFI. Installed as <pglift/pglift.h>; C11 and C++.
 *
 * Stability: append only. Functions are never removed or changed within a SONAME; enum values are
 * explicit and never renumbered or reused. capi/CONVENTIONS.md is the long form of what follows.
 *
 * Conventions, in short
 * - Handles are opaque: pglift_settings, pglift_ctx, pglift_op, pglift_event, pglift_error. Each has a
 *   destructor next to its type; every `_free(NULL)` is a no-op.
 * - A function that can fail returns `int`: 0 (PGLIFT_OK) on success, a negative pglift_status otherwise.
 *   Its last parameter is `pglift_error **err`: on failure, when err is not NULL, *err receives a new error
 *   object (free it with pglift_error_free); on success *err is not touched. Pass NULL to only get the code.
 *   There is no thread-local "last error".
 * - Parameter order: the context first, then inputs, then outputs, then err.
 * - Strings are UTF-8. An input `const char *` is NUL-terminated, unless a `size_t ..._len` follows it:
 *   then it is (pointer, length) and needs no terminator (JSON documents are passed this way).
 * - `char **out...` outputs are owned by the caller and released with pglift_free() (never free()).
 *   `const char *` results of getters are borrowed: valid as long as the object they come from.
 * - Specs go in and results come out as JSON, with the schema of the pglift CLI's `-o json`.
 * - Infallible getters (pglift_op_state_of, pglift_event_kind_of, pglift_error_code...) return their value.
 *   The two waits (pglift_op_wait, pglift_ctx_next_event) return 1 (ready), 0 (timed out or woken) or
 *   a negative status on misuse (a NULL handle); they take no err.
 * - No C++ exception (nor longjmp) ever reaches the caller; no function writes to stdout or stderr.
 *
 * Process-wide effects (what embedding libpglift does to your process)
 * - Each context runs library threads (currently one I/O thread and a pool of 4 for blocking work),
 *   each started when first needed and ended by pglift_ctx_free: a blocking call made while nothing else
 *   runs on the context runs its operation on the calling thread (a call of another thread meanwhile
 *   moves it to the I/O thread). Whichever thread starts them, they get the signal mask of the thread
 *   calling pglift_ctx_new: block the signals you handle with sigwait() before it.
 * - It spawns processes (initdb, pg_controldata, postgres) with fork+exec, argv only (no shell),
 *   with default signal dispositions and an empty signal mask in the child. It waits only for the PIDs it
 *   forked, with waitpid(pid) on each: do not set SIGCHLD to SIG_IGN and do not reap with wait()/
 *   waitpid(-1, ...) (a SIGCHLD handler that reaps specific PIDs is fine). These children run in their
 *   own process group: a terminal's Ctrl-C reaches your process, not them (cancel the op instead).
 * - PostgreSQL servers are daemons: double-forked into their own session, never children of your
 *   process, so they are not reaped by you and outlive it by design (stop or drop instances to end them).
 * - No signal handler is installed, no signal mask or disposition of your process is changed, no
 *   environment variable is set, no locale is changed, the current directory is not changed.
 * - Every file descriptor the library opens is O_CLOEXEC (including pglift_ctx_event_fd's eventfd).
 * - It refuses to run as root (euid 0): pglift_settings_load and pglift_ctx_new fail with
 *   PGLIFT_E_UNSUPPORTED. Instances run as the calling user.
 * - Settings come from the environment when not given explicitly (see pglift_settings_load).
 */
#ifndef PGLIFT_H
#define PGLIFT_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32) && !defined(PGLIFT_STATIC)
#if defined(PGLIFT_BUILDING)
#define PGLIFT_API __declspec(dllexport)
#else
#define PGLIFT_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define PGLIFT_API __attribute__((visibility("default")))
#else
#define PGLIFT_API
#endif

/* C++ callers see that no function throws: exceptions never leave the library. */
#if defined(__cplusplus)
#define PGLIFT_NOEXCEPT noexcept
#else
#define PGLIFT_NOEXCEPT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version and features ------------------------------------------------------------------------ */

/* The version of this header (checked against the meson project version at build time). */
#define PGLIFT_VERSION_MAJOR 0
#define PGLIFT_VERSION_MINOR 1
#define PGLIFT_VERSION_PATCH 0
#define PGLIFT_VERSION_NUMBER \
  ((PGLIFT_VERSION_MAJOR << 16) | (PGLIFT_VERSION_MINOR << 8) | PGLIFT_VERSION_PATCH)
/* True when this header is at least version ma.mi.pa. */
#define PGLIFT_VERSION_CHECK(ma, mi, pa) (PGLIFT_VERSION_NUMBER >= (((ma) << 16) | ((mi) << 8) | (pa)))

/* Features, for code that must build against several versions: defined (to 1) when present. */
#define PGLIFT_HAS_INSTANCE_OPS 1 /* create/get/list/status/start/stop/restart/reload/drop/env */
#define PGLIFT_HAS_ASYNC 1        /* *_async, pglift_op, the event queue */
#define PGLIFT_HAS_EVENT_FD 1     /* pglift_ctx_event_fd */
#define PGLIFT_HAS_LOG_LEVEL 1    /* pglift_ctx_set_log_level */
#define PGLIFT_HAS_CONFIGURE 1    /* pglift_instance_configure, _parameters */
#define PGLIFT_HAS_PATRONI 1      /* pglift_patroni_*, pglift_instance_promote, pglift_instance_drop_with */
#define PGLIFT_HAS_SETTINGS 1     /* pglift_settings_* */
#define PGLIFT_HAS_START_WITH 1   /* pglift_instance_start_with, PGLIFT_E_WOULD_LOSE_DATA */
#define PGLIFT_HAS_DATABASES 1    /* pglift_database_* (create/alter/get/list/drop/run/privileges) */
#define PGLIFT_HAS_ROLES 1        /* pglift_role_* (+ _async), PGLIFT_E_READ_ONLY */
#define PGLIFT_HAS_HBA 1          /* pglift_hba_add, pglift_hba_remove (+ _async) */
#define PGLIFT_HAS_CONF_TEXT 1    /* pglift_instance_parameters_text, pglift_instance_configure_text */
#define PGLIFT_HAS_APPLY 1        /* pglift_instance_alter, pglift_instance_apply, PGLIFT_APPLY_DRY_RUN */
#define PGLIFT_HAS_SCHEMAS 1      /* pglift_role_schema, pglift_database_schema, pglift_instance_log_file */
#define PGLIFT_HAS_DATA_EVENTS 1   /* stream: PGLIFT_EVENT_DATA, pglift_instance_logs(_async) */
#define PGLIFT_HAS_CLUSTER_WATCH 1 /* stream: pglift_cluster_watch_async */
#define PGLIFT_HAS_DRY_RUN 1      /* the _with forms of role, database and configuration writes, PGLIFT_OP_DRY_RUN */

/* The version of the library actually loaded, "MAJOR.MINOR.PATCH" (static storage, never NULL). */
PGLIFT_API const char *pglift_version(void) PGLIFT_NOEXCEPT;

/* ---- Status codes -------------------------------------------------------------------------------- */

/* 0 is success. -1..-99 are the negated pglift::ErrorCode values of the C++ core; -100 and below are
 * errors of the C boundary itself. Functions return `int`: expect values not listed here in the future
 * and treat any negative value as a failure. */
typedef enum pglift_status {
  PGLIFT_OK = 0,
  PGLIFT_E_INTERNAL = -1,         /* a bug, or an unexpected failure inside the library */
  PGLIFT_E_INVALID_SPEC = -2,     /* a spec or argument value is invalid; pglift_error_field names it */
  PGLIFT_E_NOT_FOUND = -3,        /* no such instance (or program, file...) */
  PGLIFT_E_ALREADY_EXISTS = -4,   /* the instance or one of its directories already exists */
  PGLIFT_E_COMMAND_FAILED = -5,   /* a subprocess failed; see pglift_error_exit_status and _detail */
  PGLIFT_E_UNSUPPORTED = -6,      /* e.g. running as root */
  PGLIFT_E_STATE = -7,            /* the instance is not in a state allowing the operation */
  PGLIFT_E_TIMEOUT = -8,          /* a deadline passed */
  PGLIFT_E_CANCELLED = -9,        /* the operation was cancelled (and reverted) */
  PGLIFT_E_DCS = -10,             /* the distributed configuration store (etcd) failed */
  PGLIFT_E_HTTP = -11,            /* an HTTP API (Patroni) failed */
  PGLIFT_E_SETTINGS = -12,        /* invalid site settings */
  PGLIFT_E_BUSY = -13,            /* another operation is in progress on this instance; retriable */
  PGLIFT_E_SYSTEM = -14,          /* unexpected state of the host (I/O, permissions) */
  PGLIFT_E_WOULD_LOSE_DATA = -15, /* refused: it would discard committed transactions (a former Patroni
                                   * leader's rejoin); the message names the LSN range, the number of
                                   * commits and their time window; nothing was started */
  PGLIFT_E_READ_ONLY = -16,       /* a write asked of a read-only standby; the message names the leader */
  PGLIFT_E_INVALID_ARGUMENT = -100, /* misuse of the C API: a NULL handle or output pointer... */
  PGLIFT_E_NO_MEMORY = -101       /* allocation failed */
} pglift_status;

/* The stable name of a status, e.g. "not_found" (static storage, never NULL; "unknown" if unknown). */
PGLIFT_API const char *pglift_status_name(int status) PGLIFT_NOEXCEPT;

/* ---- Memory -------------------------------------------------------------------------------------- */

/* Releases a string returned through a `char **` output. NULL is a no-op. */
PGLIFT_API void pglift_free(void *ptr) PGLIFT_NOEXCEPT;

/* ---- Errors -------------------------------------------------------------------------------------- */

/* An error: immutable after creation, so it may be read from any thread. Free it exactly once with
 * pglift_error_free; an error borrowed from an op (pglift_op_error) belongs to the op. */
typedef struct pglift_error pglift_error;

/* The status code (negative). */
PGLIFT_API int pglift_error_code(const pglift_error *err) PGLIFT_NOEXCEPT;
/* The message, one or more lines (borrowed, never NULL). Never contains passwords. */
PGLIFT_API const char *pglift_error_message(const pglift_error *err) PGLIFT_NOEXCEPT;
/* For PGLIFT_E_INVALID_SPEC: the field at fault, e.g. "name" or "settings.port"; "" otherwise. */
PGLIFT_API const char *pglift_error_field(const pglift_error *err) PGLIFT_NOEXCEPT;
/* For PGLIFT_E_COMMAND_FAILED: the tail of the command's output; "" otherwise. */
PGLIFT_API const char *pglift_error_detail(const pglift_error *err) PGLIFT_NOEXCEPT;
/* For PGLIFT_E_COMMAND_FAILED: the exit status, 128 + N when killed by signal N; -1 otherwise. */
PGLIFT_API int pglift_error_exit_status(const pglift_error *err) PGLIFT_NOEXCEPT;
/* 1 when trying again later may succeed (PGLIFT_E_BUSY, PGLIFT_E_TIMEOUT), else 0. */
PGLIFT_API int pglift_error_is_retriable(const pglift_error *err) PGLIFT_NOEXCEPT;
PGLIFT_API void pglift_error_free(pglift_error *err) PGLIFT_NOEXCEPT;

/* ---- Settings ------------------------------------------------------------------------------------ */

/* Site settings, immutable once made: may be shared between threads and used for several contexts. */
typedef struct pglift_settings pglift_settings;

/* Loads settings as pglift does: built-in defaults <- /etc/pglift/settings.yaml <-
 * $XDG_CONFIG_HOME/pglift/settings.yaml (these two are replaced by $PGLIFT_CONFIG_DIR/settings.yaml when
 * PGLIFT_CONFIG_DIR is set) <- $SETTINGS (JSON, or @FILE) <- PGLIFT_<KEY>__<SUB> variables.
 * Fails with PGLIFT_E_SETTINGS naming the key or the file, PGLIFT_E_UNSUPPORTED as root. */
PGLIFT_API int pglift_settings_load(pglift_settings **out, pglift_error **err) PGLIFT_NOEXCEPT;
/* Settings from one JSON (or YAML) document over the built-in defaults; the environment is not read. */
PGLIFT_API int pglift_settings_from_json(const char *json, size_t json_len, pglift_settings **out,
                                         pglift_error **err) PGLIFT_NOEXCEPT;
/* The effective settings as JSON (what `pglift site-settings -o json` shows). */
PGLIFT_API int pglift_settings_to_json(const pglift_settings *settings, char **out_json,
                                       pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API void pglift_settings_free(pglift_settings *settings) PGLIFT_NOEXCEPT;

/* ---- Context ------------------------------------------------------------------------------------- */

/* A context: settings, library threads, the event queue. Thread-safe: any function taking a context may
 * be called from any number of threads at once (operations on different instances run in parallel; a
 * second mutation of the same instance fails with PGLIFT_E_BUSY), except pglift_ctx_free, which must be
 * the last call on it: no other call on the context may run or start, and no thread may be blocked in
 * pglift_ctx_next_event (wake it with pglift_ctx_wakeup and let it return first). */
typedef struct pglift_ctx pglift_ctx;

/* A context using `settings` (copied; NULL: pglift_settings_load()). Refuses root. */
PGLIFT_API int pglift_ctx_new(const pglift_settings *settings, pglift_ctx **out,
                              pglift_error **err) PGLIFT_NOEXCEPT;
/* Cancels the pending operations, waits for them to end (their reverts run), stops the library threads
 * and frees the context. Ops and events obtained from it remain valid until freed. NULL is a no-op. */
PGLIFT_API void pglift_ctx_free(pglift_ctx *ctx) PGLIFT_NOEXCEPT;
/* The context's effective settings as JSON. */
PGLIFT_API int pglift_ctx_settings_json(pglift_ctx *ctx, char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;

/* ---- Instance operations ------------------------------------------------------------------------- */

/* An INSTANCE argument is "VERSION/NAME" ("15/main") or "NAME" when only one version has it; it must
 * not be NULL. Blocking calls return when the operation ended (run on the calling thread when nothing
 * else runs on the context, else on library threads); they log to the event queue with tag 0. Each has
 * an asynchronous twin (below). */

typedef enum pglift_stop_mode {
  PGLIFT_STOP_SMART = 0,
  PGLIFT_STOP_FAST = 1, /* pglift's default */
  PGLIFT_STOP_IMMEDIATE = 2
} pglift_stop_mode;

/* Flags of pglift_instance_create. */
typedef enum pglift_create_flags {
  PGLIFT_CREATE_DEFAULT = 0,
  /* Keep what was done when the creation fails or is cancelled, instead of reverting it
   * (the CLI's --no-drop-on-error). */
  PGLIFT_CREATE_KEEP_ON_ERROR = 1
} pglift_create_flags;

/* Creates an instance from its manifest, e.g. {"name": "main", "version": "15", "port": 5433}
 * (schema: pglift_instance_schema), and starts it unless "state": "stopped". "roles" and "databases"
 * (arrays of role and database specs) are created once it runs (not on a Patroni replica). Every step
 * is reverted on failure or cancellation, unless PGLIFT_CREATE_KEEP_ON_ERROR. *out_json: the instance,
 * as pglift_instance_get returns it. */
PGLIFT_API int pglift_instance_create(pglift_ctx *ctx, const char *spec_json, size_t spec_len, uint32_t flags,
                                      char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;
/* The instance: {"name", "version", "port", "settings", "data_checksums", "locale", "encoding", "standby",
 * "state", "pending_restart", "data_directory", "wal_directory"} (`pglift instance get -o json`); a Patroni
 * member adds "patroni", with "discarded_on_rejoin": {"at", "outcome": "rejoined" | "refused", "description",
 * "commits": n | null} while a record of commits Patroni's own pg_rewind discarded is not acknowledged by a
 * start. Results may gain keys in later versions: ignore those you do not know.
 * On a running instance whose local connections need no password, the context keeps the connection of a
 * get open for the next one, for 2 seconds without use (one server backend, application_name "pglift");
 * a stop through the context and pglift_ctx_free close it. */
PGLIFT_API int pglift_instance_get(pglift_ctx *ctx, const char *instance, char **out_json,
                                   pglift_error **err) PGLIFT_NOEXCEPT;
/* A JSON array of {"name", "version", "port", "datadir", "status": "running" | "not_running"};
 * `version` NULL: every version. */
PGLIFT_API int pglift_instance_list(pglift_ctx *ctx, const char *version, char **out_json,
                                    pglift_error **err) PGLIFT_NOEXCEPT;
/* {"postgresql": "running" | "not_running", "pid": <postmaster PID> | null}; a Patroni member adds
 * "patroni": {"state": "running" | "not_running" | "unreachable", "orphan_postmaster": bool,
 * "dcs_error": "<etcd's error>" (absent when the DCS answers)}. */
PGLIFT_API int pglift_instance_status(pglift_ctx *ctx, const char *instance, char **out_json,
                                      pglift_error **err) PGLIFT_NOEXCEPT;
/* Starting a started instance (or stopping a stopped one) succeeds with a WARNING log event. */
PGLIFT_API int pglift_instance_start(pglift_ctx *ctx, const char *instance,
                                     pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_stop(pglift_ctx *ctx, const char *instance, int mode,
                                    pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_restart(pglift_ctx *ctx, const char *instance, int mode,
                                       pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_reload(pglift_ctx *ctx, const char *instance,
                                      pglift_error **err) PGLIFT_NOEXCEPT;
/* Stops the instance (immediate) and deletes its files. */
PGLIFT_API int pglift_instance_drop(pglift_ctx *ctx, const char *instance,
                                    pglift_error **err) PGLIFT_NOEXCEPT;
/* A JSON object of environment variables for the instance: PGDATA, PGHOST, PGPORT, PGUSER, PSQLRC,
 * PSQL_HISTORY, PATH (bindir first) and PGPASSFILE when configured (`pglift instance env -o json`). */
PGLIFT_API int pglift_instance_env(pglift_ctx *ctx, const char *instance, char **out_json,
                                   pglift_error **err) PGLIFT_NOEXCEPT;
/* The JSON Schema of the manifest taken by pglift_instance_create. */
PGLIFT_API int pglift_instance_schema(char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;
/* The JSON Schemas of a role's and a database's manifest (`pglift role|database --schema`;
 * PGLIFT_HAS_SCHEMAS), and the path of the instance's current PostgreSQL log file (`pglift instance logs`
 * reads it; PGLIFT_E_NOT_FOUND when PostgreSQL has written none yet). */
PGLIFT_API int pglift_role_schema(char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_database_schema(char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_log_file(pglift_ctx *ctx, const char *instance, char **out_path,
                                        pglift_error **err) PGLIFT_NOEXCEPT;

/* Flags of pglift_instance_drop_with. */
typedef enum pglift_drop_flags {
  PGLIFT_DROP_DEFAULT = 0,
  /* For the last member of a Patroni cluster: also delete the cluster's keys from the DCS (refused with
   * PGLIFT_E_STATE while another member is alive; PGLIFT_E_STATE on a plain instance). */
  PGLIFT_DROP_REMOVE_CLUSTER = 1,
  /* A Patroni member while the DCS cannot be reached (nobody can tell whether it is the last member of
   * its cluster): drop it anyway. Without it, such a drop fails with PGLIFT_E_DCS and changes nothing. */
  PGLIFT_DROP_DCS_UNREACHABLE_OK = 2
} pglift_drop_flags;

/* Flags of pglift_instance_start_with. */
typedef enum pglift_start_flags {
  PGLIFT_START_DEFAULT = 0,
  /* A Patroni member that was a leader and whose rejoin (pg_rewind to the new leader's timeline) would
   * discard committed transactions: rejoin anyway, with a WARNING log event naming what is lost. Without
   * it, the site's patroni.rejoin_discarding_commits decides: "refuse" (the default) fails with
   * PGLIFT_E_WOULD_LOSE_DATA and leaves the member stopped. */
  PGLIFT_START_ACCEPT_DATA_LOSS = 1
} pglift_start_flags;

/* pglift_instance_start with flags (pglift_instance_start is this with PGLIFT_START_DEFAULT). */
PGLIFT_API int pglift_instance_start_with(pglift_ctx *ctx, const char *instance, uint32_t flags,
                                          pglift_error **err) PGLIFT_NOEXCEPT;

/* pglift_instance_drop with flags. */
PGLIFT_API int pglift_instance_drop_with(pglift_ctx *ctx, const char *instance, uint32_t flags,
                                         pglift_error **err) PGLIFT_NOEXCEPT;
/* Sets or removes managed postgresql.conf parameters: `changes_json` is an object such as
 * {"work_mem": "8MB", "max_connections": 200, "jit": false, "old": null} (null removes). Plain instance:
 * postgresql.conf is rewritten and a running instance reloaded (confirmed). Patroni member: its YAML's
 * postgresql.parameters, then POST /reload (confirmed). Parameters needing a restart are reported, not
 * applied by a restart. *out_json: {"changes": {"work_mem": [null, "8MB"]}, "reloaded": true,
 * "needs_restart": ["max_connections"], "pending_restart": true}. */
PGLIFT_API int pglift_instance_configure(pglift_ctx *ctx, const char *instance, const char *changes_json,
                                         size_t changes_len, char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;
/* The managed parameters as a JSON object (postgresql.conf's, or the Patroni YAML's). */
PGLIFT_API int pglift_instance_parameters(pglift_ctx *ctx, const char *instance, char **out_json,
                                          pglift_error **err) PGLIFT_NOEXCEPT;
/* Flags of pglift_instance_alter and pglift_instance_apply. */
typedef enum pglift_apply_flags {
  PGLIFT_APPLY_DRY_RUN = 1u << 0 /* compute and return the differences; change nothing */
} pglift_apply_flags;
/* Changes an existing instance: `changes_json` is {"port": 5433, "state": "started" | "stopped" |
 * "restarted", "settings": {"work_mem": "8MB", "jit": null}, "data_checksums": true,
 * "restart_on_changes": false}, every field optional (absent: unchanged; a null setting is removed).
 * Everything is checked before the first change (a taken port, data_checksums on a running instance).
 * *out_json: {"change_state": "changed" | null, "diff": [{"field": "port", "before": 5432, "after": 5433}],
 * "needs_restart": ["port"], "restarted": false, "pending_restart": true, "dry_run": false}. */
PGLIFT_API int pglift_instance_alter(pglift_ctx *ctx, const char *instance, const char *changes_json,
                                     size_t changes_len, uint32_t flags, char **out_json,
                                     pglift_error **err) PGLIFT_NOEXCEPT;
/* Brings an instance to a manifest (the create spec, where "state" may also be "absent" or "restarted",
 * and "restart_on_changes"): creates it, changes it (as alter: port, settings given, data_checksums,
 * state) or drops it. On an existing instance its "roles" and "databases" are applied too: each created,
 * altered to the manifest, or dropped when its item has "state": "absent" (a stopped plain instance is
 * started for them and stopped again; a stopped Patroni member is refused with PGLIFT_E_STATE; a standby
 * skips them). *out_json as pglift_instance_alter's, change_state "created" | "changed" | "dropped" |
 * null, plus "roles" and "databases": [{"name": "alice", "change_state": "created" | "changed" |
 * "dropped" | null}] (empty when the instance is created: they are made with it). */
PGLIFT_API int pglift_instance_apply(pglift_ctx *ctx, const char *manifest_json, size_t manifest_len,
                                     uint32_t flags, char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;
/* A Patroni member: a switchover to it (returns once it leads). Plain instances: PGLIFT_E_STATE. */
PGLIFT_API int pglift_instance_promote(pglift_ctx *ctx, const char *instance, pglift_error **err) PGLIFT_NOEXCEPT;

/* ---- Patroni clusters (the instance names any member) -------------------------------------------- */

/* Switchover to `candidate` (NULL: any healthy replica), now or at `scheduled_at` (ISO 8601 with a time
 * zone; NULL: now). Returns once the new leader is observed and the former one rejoined (or once
 * scheduled). *out_json: {"previous_leader": "pg1", "new_leader": "pg2" | null, "scheduled": false}. */
PGLIFT_API int pglift_patroni_switchover(pglift_ctx *ctx, const char *instance, const char *candidate,
                                         const char *scheduled_at, char **out_json,
                                         pglift_error **err) PGLIFT_NOEXCEPT;
/* Manual failover to `candidate` (required); returns once it leads. *out_json as for switchover. */
PGLIFT_API int pglift_patroni_failover(pglift_ctx *ctx, const char *instance, const char *candidate,
                                       char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;
/* THIS RETURNS SECRETS. The credentials a member on another host needs to join this member's cluster, as
 * *out_json: {"superuser": {"username": "postgres", "password": "..."}, "replication": {...},
 * "rewind": {...}} (passwords in clear). Write them only where nobody else can read them (a 0600 file),
 * never to a log or a terminal; give them to the new member's spec as surole_password,
 * replrole_password and rewind_password. Not a Patroni member: PGLIFT_E_STATE. */
PGLIFT_API int pglift_patroni_credentials(pglift_ctx *ctx, const char *instance, char **out_json,
                                          pglift_error **err) PGLIFT_NOEXCEPT;
/* pause != 0: pause automatic failover of the cluster; 0: resume. Returns once the member reports it. */
PGLIFT_API int pglift_patroni_pause(pglift_ctx *ctx, const char *instance, int pause,
                                    pglift_error **err) PGLIFT_NOEXCEPT;
/* The path of the member's Patroni log file. */
PGLIFT_API int pglift_patroni_log_file(pglift_ctx *ctx, const char *instance, char **out_path,
                                       pglift_error **err) PGLIFT_NOEXCEPT;

/* ---- Databases (PGLIFT_HAS_DATABASES) ------------------------------------------------------------ */

/* A stopped plain instance is started for the operation and stopped after it, also when it fails (a
 * stopped Patroni member, or any stopped instance in a dry run: PGLIFT_E_STATE). Every write (create, alter, drop) is refused
 * on a read-only standby with PGLIFT_E_READ_ONLY, the message naming the leader. Names (databases,
 * roles, schemas, extensions, tablespaces): non-empty, at most 63 bytes, no control characters; they
 * reach SQL only quoted by libpq. Errors name the field (pglift_error_field), never quote a document.
 *
 * A database spec (pglift's manifest): {"name": "db", "owner": "bob", "settings": {"work_mem": "8MB",
 * "jit": null}, "schemas": ["s", {"name": "t", "owner": "bob", "state": "absent"}], "extensions":
 * ["hstore", {"name": "citext", "schema": "s", "version": "1.6", "state": "present"}], "tablespace":
 * "fast", "locale": "fr_FR.UTF-8", "force_drop": false}. A database result (get, create, alter):
 * {"name", "owner", "settings": {...} | null, "schemas": [{"name", "owner"}], "extensions": [{"name",
 * "schema", "version"}] (no plpgsql), "tablespace": null for the default}. */

/* Creates the database, then its settings, schemas and extensions. PGLIFT_E_ALREADY_EXISTS ("database
 * already exists"). A failure after CREATE DATABASE, or a cancellation, drops the database this call
 * created. */
PGLIFT_API int pglift_database_create(pglift_ctx *ctx, const char *instance, const char *spec_json,
                                      size_t spec_len, char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;
/* pglift's declarative alter: OWNER TO owner (null: CURRENT_USER); settings SET/RESET (an empty object:
 * RESET ALL; absent: untouched); schemas and extensions listed are created, changed or dropped
 * (state "absent"), others untouched; tablespace moved when it differs. PGLIFT_E_NOT_FOUND. */
PGLIFT_API int pglift_database_alter(pglift_ctx *ctx, const char *instance, const char *spec_json,
                                     size_t spec_len, char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_database_get(pglift_ctx *ctx, const char *instance, const char *name, char **out_json,
                                   pglift_error **err) PGLIFT_NOEXCEPT;
/* The databases allowing connections, selected by `selection_json` (NULL: all): {"databases": ["a"],
 * "exclude": ["b"]}; a selected name that does not exist is PGLIFT_E_NOT_FOUND. *out_json: [{"name",
 * "owner", "encoding", "collation", "ctype", "acls": [...], "size" (bytes), "description" | null,
 * "tablespace": {"name", "location", "size"}}]. */
PGLIFT_API int pglift_database_list(pglift_ctx *ctx, const char *instance, const char *selection_json,
                                    char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;
/* force != 0: sessions connected to it are terminated (DROP DATABASE ... WITH (FORCE)). */
PGLIFT_API int pglift_database_drop(pglift_ctx *ctx, const char *instance, const char *name, int force,
                                    pglift_error **err) PGLIFT_NOEXCEPT;
/* Runs `sql` on each selected database (selection as for list), in autocommit, stopping at the first
 * failure. Logs `running "<sql>" on <db> database of <instance>` (passwords masked) and the command
 * status. *out_json: {"db": [{"column": "text value" | null, ...}, ...], ...}. */
PGLIFT_API int pglift_database_run(pglift_ctx *ctx, const char *instance, const char *sql,
                                   const char *selection_json, char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;
/* Privileges, `query_json` (NULL: everything): {"databases": [...] (absent or empty: all), "roles": [...]
 * (an unknown one: PGLIFT_E_NOT_FOUND), "defaults": false}. *out_json: [{"database", "schema",
 * "object_name", "object_type", "role", "privileges": [...], "column_privileges": {"col": [...]}}], or
 * with defaults [{"database", "schema", "object_type", "role", "privileges": [...]}]. */
PGLIFT_API int pglift_database_privileges(pglift_ctx *ctx, const char *instance, const char *query_json,
                                          char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;

/* ---- Asynchronous operations --------------------------------------------------------------------- */

/* Each `*_async` function starts the operation and returns at once with *out set to a new op. When it
 * fails (bad argument, invalid spec...), it returns the error, *out is untouched and nothing is ever
 * delivered for it. When it succeeds, exactly one PGLIFT_EVENT_OP_DONE event carrying `tag` is queued
 * on the context when the operation ends (also when the op was cancelled or freed meanwhile), after
 * every log and progress event of the operation; by then the op's state is final.
 * `tag` is yours: it is carried by the op's events so that you can route them. Use non-zero tags
 * (blocking calls log with tag 0); the library does not require them to be unique.
 * Results are those of the blocking twins, as JSON from pglift_op_result. */
typedef struct pglift_op pglift_op;

PGLIFT_API int pglift_instance_create_async(pglift_ctx *ctx, const char *spec_json, size_t spec_len,
                                            uint32_t flags, uint64_t tag, pglift_op **out,
                                            pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_get_async(pglift_ctx *ctx, const char *instance, uint64_t tag, pglift_op **out,
                                         pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_list_async(pglift_ctx *ctx, const char *version, uint64_t tag, pglift_op **out,
                                          pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_status_async(pglift_ctx *ctx, const char *instance, uint64_t tag,
                                            pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_start_async(pglift_ctx *ctx, const char *instance, uint64_t tag,
                                           pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_stop_async(pglift_ctx *ctx, const char *instance, int mode, uint64_t tag,
                                          pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_restart_async(pglift_ctx *ctx, const char *instance, int mode, uint64_t tag,
                                             pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_reload_async(pglift_ctx *ctx, const char *instance, uint64_t tag,
                                            pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_drop_async(pglift_ctx *ctx, const char *instance, uint64_t tag,
                                          pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
/* env only reads files: it completes before returning (state SUCCEEDED or FAILED); its OP_DONE event
 * is queued all the same. */
PGLIFT_API int pglift_instance_env_async(pglift_ctx *ctx, const char *instance, uint64_t tag, pglift_op **out,
                                         pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_start_with_async(pglift_ctx *ctx, const char *instance, uint32_t flags,
                                                uint64_t tag, pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_drop_with_async(pglift_ctx *ctx, const char *instance, uint32_t flags,
                                               uint64_t tag, pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_configure_async(pglift_ctx *ctx, const char *instance, const char *changes_json,
                                               size_t changes_len, uint64_t tag, pglift_op **out,
                                               pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_alter_async(pglift_ctx *ctx, const char *instance, const char *changes_json,
                                           size_t changes_len, uint32_t flags, uint64_t tag, pglift_op **out,
                                           pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_apply_async(pglift_ctx *ctx, const char *manifest_json, size_t manifest_len,
                                           uint32_t flags, uint64_t tag, pglift_op **out,
                                           pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_promote_async(pglift_ctx *ctx, const char *instance, uint64_t tag,
                                             pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_patroni_switchover_async(pglift_ctx *ctx, const char *instance, const char *candidate,
                                               const char *scheduled_at, uint64_t tag, pglift_op **out,
                                               pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_patroni_failover_async(pglift_ctx *ctx, const char *instance, const char *candidate,
                                             uint64_t tag, pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_patroni_pause_async(pglift_ctx *ctx, const char *instance, int pause, uint64_t tag,
                                          pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;

/* databases */
PGLIFT_API int pglift_database_create_async(pglift_ctx *ctx, const char *instance, const char *spec_json,
                                            size_t spec_len, uint64_t tag, pglift_op **out,
                                            pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_database_alter_async(pglift_ctx *ctx, const char *instance, const char *spec_json,
                                           size_t spec_len, uint64_t tag, pglift_op **out,
                                           pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_database_get_async(pglift_ctx *ctx, const char *instance, const char *name, uint64_t tag,
                                         pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_database_list_async(pglift_ctx *ctx, const char *instance, const char *selection_json,
                                          uint64_t tag, pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_database_drop_async(pglift_ctx *ctx, const char *instance, const char *name, int force,
                                          uint64_t tag, pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_database_run_async(pglift_ctx *ctx, const char *instance, const char *sql,
                                         const char *selection_json, uint64_t tag, pglift_op **out,
                                         pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_database_privileges_async(pglift_ctx *ctx, const char *instance, const char *query_json,
                                                uint64_t tag, pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
/* ---- Roles (a stopped plain instance started for them, as for databases) ------------------------ */

/* Role documents are JSON with the fields of pglift's role manifest:
 *   spec (create): {"name": "bob", "password": "...", "encrypted_password": "...", "inherit": true,
 *     "login": false, "superuser": false, "createdb": false, "createrole": false, "replication": false,
 *     "connection_limit": null, "valid_until": "2030-01-01T00:00:00+00:00", "in_roles": ["pg_monitor"],
 *     "pgpass": false}; only "name" is required; password and encrypted_password are exclusive.
 *   changes (alter): the same fields but "name", each optional, plus "grant" and "revoke" (role lists).
 *   options (drop): {"drop_owned": true} or {"reassign_owned": "alice"}; NULL or "" for none.
 *   results (get, list): {"name", "has_password", "inherit", "login", "superuser", "createdb",
 *     "createrole", "replication", "connection_limit" (null: none), "valid_until" (null or ISO 8601, or
 *     "infinity"), "in_roles" (sorted), "pgpass"}; list gives an array of them (no pg_* roles).
 * Passwords are encrypted client-side (SCRAM) and never appear in events, errors or results. Errors:
 * PGLIFT_E_INVALID_SPEC naming the field; _ALREADY_EXISTS; _NOT_FOUND (the role, or a role named in
 * in_roles/grant/revoke/reassign_owned); _STATE (a stopped Patroni member; objects depend on a role
 * to drop: use drop_owned or reassign_owned); _READ_ONLY (a standby); _BUSY (the instance is being
 * created, dropped, started, stopped or configured). A failed or cancelled create leaves nothing. */
PGLIFT_API int pglift_role_create(pglift_ctx *ctx, const char *instance, const char *spec_json, size_t spec_len,
                                  pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_role_alter(pglift_ctx *ctx, const char *instance, const char *name, const char *changes_json,
                                 size_t changes_len, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_role_get(pglift_ctx *ctx, const char *instance, const char *name, char **out_json,
                               pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_role_list(pglift_ctx *ctx, const char *instance, char **out_json,
                                pglift_error **err) PGLIFT_NOEXCEPT;
/* options_json may be NULL (then options_len is ignored). */
PGLIFT_API int pglift_role_drop(pglift_ctx *ctx, const char *instance, const char *name, const char *options_json,
                                size_t options_len, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_role_create_async(pglift_ctx *ctx, const char *instance, const char *spec_json,
                                        size_t spec_len, uint64_t tag, pglift_op **out,
                                        pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_role_alter_async(pglift_ctx *ctx, const char *instance, const char *name,
                                       const char *changes_json, size_t changes_len, uint64_t tag, pglift_op **out,
                                       pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_role_get_async(pglift_ctx *ctx, const char *instance, const char *name, uint64_t tag,
                                     pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_role_list_async(pglift_ctx *ctx, const char *instance, uint64_t tag, pglift_op **out,
                                      pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_role_drop_async(pglift_ctx *ctx, const char *instance, const char *name,
                                      const char *options_json, size_t options_len, uint64_t tag, pglift_op **out,
                                      pglift_error **err) PGLIFT_NOEXCEPT;

typedef enum pglift_op_state {
  PGLIFT_OP_PENDING = 0,
  PGLIFT_OP_SUCCEEDED = 1,
  PGLIFT_OP_FAILED = 2,
  PGLIFT_OP_CANCELLED = 3 /* ended by pglift_op_cancel (or pglift_op_free, pglift_ctx_free); reverted */
} pglift_op_state;

/* A pending or finished operation. Thread-safe: pglift_op_wait, _state, _cancel, _tag, _result and
 * _error may be called from any threads at once; pglift_op_free must be the last call on it. An op may
 * outlive its context. */

/* The current state (a pglift_op_state); PGLIFT_E_INVALID_ARGUMENT for NULL. */
PGLIFT_API int pglift_op_state_of(const pglift_op *op) PGLIFT_NOEXCEPT;
/* Waits until the op ends: 1 when it has ended, 0 when timeout_ms passed first. timeout_ms < 0 waits
 * without limit, 0 only polls. */
PGLIFT_API int pglift_op_wait(pglift_op *op, int timeout_ms) PGLIFT_NOEXCEPT;
/* Requests cancellation and returns at once. A pending mutation reverts the steps it completed, then
 * ends CANCELLED (PGLIFT_E_CANCELLED); an op that ends before noticing ends as it would have. Idempotent;
 * a no-op on an ended op. */
PGLIFT_API void pglift_op_cancel(pglift_op *op) PGLIFT_NOEXCEPT;
PGLIFT_API uint64_t pglift_op_tag(const pglift_op *op) PGLIFT_NOEXCEPT;
/* When SUCCEEDED: the result as JSON (borrowed, valid until pglift_op_free), or NULL for operations
 * without a result (start, stop, restart, reload, drop). NULL in every other state. */
PGLIFT_API const char *pglift_op_result(const pglift_op *op) PGLIFT_NOEXCEPT;
/* When FAILED or CANCELLED: the error (borrowed, valid until pglift_op_free); NULL otherwise. */
PGLIFT_API const pglift_error *pglift_op_error(const pglift_op *op) PGLIFT_NOEXCEPT;
/* Frees the op; a pending op is cancelled first (without waiting: its OP_DONE event still comes).
 * NULL is a no-op. */
PGLIFT_API void pglift_op_free(pglift_op *op) PGLIFT_NOEXCEPT;

/* ---- Events -------------------------------------------------------------------------------------- */

/* Completions, log records and progress steps are events on a per-context queue that you drain with
 * pglift_ctx_next_event: no callback ever runs on a library thread. The queue is bounded (1024 events
 * by default): when it is full, the oldest log or progress event is dropped to make room (counted by
 * pglift_ctx_dropped_events); OP_DONE events are never dropped (they may exceed the bound). Nor are
 * DATA events: a streaming op whose DATA event finds the queue full waits (cancellably) until you take
 * events, rather than drop or queue more (see "Streams" below).
 * An event is immutable and owned by you: read it from any thread, free it exactly once. */
typedef struct pglift_event pglift_event;

typedef enum pglift_event_kind {
  PGLIFT_EVENT_OP_DONE = 1,  /* an async op ended: tag, op state, status */
  PGLIFT_EVENT_LOG = 2,      /* a log record: tag, level, target, message */
  PGLIFT_EVENT_PROGRESS = 3, /* a step began or ended: tag, phase, message (the step title) */
  PGLIFT_EVENT_DATA = 4      /* stream: an item of a streaming op (PGLIFT_HAS_DATA_EVENTS): tag, target, message */
} pglift_event_kind;

/* Log levels, ordered as Python's logging levels. */
typedef enum pglift_log_level {
  PGLIFT_LOG_DEBUG = 10, /* includes the output lines of subprocesses: verbose */
  PGLIFT_LOG_INFO = 20,  /* the default threshold */
  PGLIFT_LOG_WARNING = 30,
  PGLIFT_LOG_ERROR = 40,
  PGLIFT_LOG_OFF = 100 /* as a threshold: no log events at all */
} pglift_log_level;

typedef enum pglift_progress_phase {
  PGLIFT_PROGRESS_BEGIN = 0,
  PGLIFT_PROGRESS_END = 1
} pglift_progress_phase;

/* Takes the oldest event: returns 1 and sets *out (free it with pglift_event_free); returns 0 when
 * timeout_ms passed with no event, or when pglift_ctx_wakeup was called (a wakeup is never lost: one
 * made while nobody waits ends the next wait at once). timeout_ms < 0 waits without limit, 0 only polls.
 * Several threads may wait at once; each event goes to one of them. */
PGLIFT_API int pglift_ctx_next_event(pglift_ctx *ctx, int timeout_ms, pglift_event **out) PGLIFT_NOEXCEPT;
/* Makes one pending or next pglift_ctx_next_event return 0. Async-signal-safe: no; thread-safe: yes. */
PGLIFT_API void pglift_ctx_wakeup(pglift_ctx *ctx) PGLIFT_NOEXCEPT;
/* A file descriptor (an eventfd) that polls readable while events are queued or a wakeup is pending,
 * for event loops (asyncio add_reader, Go, tokio AsyncFd): on readiness, call pglift_ctx_next_event with
 * timeout 0 until it returns 0. Owned by the context: do not read, write or close it; it is O_CLOEXEC and
 * non-blocking. -1 for a NULL context. */
PGLIFT_API int pglift_ctx_event_fd(pglift_ctx *ctx) PGLIFT_NOEXCEPT;
/* Log events below `level` (a pglift_log_level) are not queued; default PGLIFT_LOG_INFO. Takes effect at
 * once, for every operation of the context. */
PGLIFT_API int pglift_ctx_set_log_level(pglift_ctx *ctx, int level, pglift_error **err) PGLIFT_NOEXCEPT;
/* The bound of the queue (>= 1; default 1024). Events already queued are kept. */
PGLIFT_API int pglift_ctx_set_event_capacity(pglift_ctx *ctx, size_t capacity,
                                             pglift_error **err) PGLIFT_NOEXCEPT;
/* How many log and progress events were dropped because the queue was full, since the context began. */
PGLIFT_API uint64_t pglift_ctx_dropped_events(const pglift_ctx *ctx) PGLIFT_NOEXCEPT;

/* A pglift_event_kind; PGLIFT_E_INVALID_ARGUMENT for NULL. */
PGLIFT_API int pglift_event_kind_of(const pglift_event *ev) PGLIFT_NOEXCEPT;
/* The tag of the operation the event belongs to (0: a blocking call). */
PGLIFT_API uint64_t pglift_event_tag(const pglift_event *ev) PGLIFT_NOEXCEPT;
/* OP_DONE: the op's final pglift_op_state; -1 for other kinds. */
PGLIFT_API int pglift_event_op_state(const pglift_event *ev) PGLIFT_NOEXCEPT;
/* OP_DONE: 0 or the op's (negative) status code; 0 for other kinds. */
PGLIFT_API int pglift_event_status(const pglift_event *ev) PGLIFT_NOEXCEPT;
/* LOG: a pglift_log_level; 0 for other kinds. */
PGLIFT_API int pglift_event_log_level(const pglift_event *ev) PGLIFT_NOEXCEPT;
/* LOG: the logger name, e.g. "pglift.instances", "pglift.initdb"; "" for other kinds (borrowed). */
PGLIFT_API const char *pglift_event_target(const pglift_event *ev) PGLIFT_NOEXCEPT;
/* LOG: the message; PROGRESS: the step title; OP_DONE: the error message, or "" (borrowed). */
PGLIFT_API const char *pglift_event_message(const pglift_event *ev) PGLIFT_NOEXCEPT;
/* PROGRESS: a pglift_progress_phase; -1 for other kinds. */
PGLIFT_API int pglift_event_progress_phase(const pglift_event *ev) PGLIFT_NOEXCEPT;
/* The name of a level: "DEBUG", "INFO", "WARNING", "ERROR", "OFF"; "UNKNOWN" otherwise (static storage). */
PGLIFT_API const char *pglift_log_level_name(int level) PGLIFT_NOEXCEPT;
PGLIFT_API void pglift_event_free(pglift_event *ev) PGLIFT_NOEXCEPT;

/* ---- the managed parameters as postgresql.conf text (pgconf edit) ------------------------------------ */

/* The managed parameters as "name = value" lines, sorted, values as postgresql.conf writes them (a
 * Patroni member: its YAML's postgresql.parameters only, never what Patroni injects). */
PGLIFT_API int pglift_instance_parameters_text(pglift_ctx *ctx, const char *instance, char **out_text,
                                               pglift_error **err) PGLIFT_NOEXCEPT;
/* Makes `text` (postgresql.conf syntax: blank lines and comments ignored) the managed parameters: new or
 * changed values are set, names no longer there removed, as pglift_instance_configure does (values
 * checked first, reload, restart-only parameters reported). A line that is not one `name = value`
 * entry fails with PGLIFT_E_INVALID_SPEC (field "line N"). *out_json as for pglift_instance_configure
 * (no change: empty "changes"). */
PGLIFT_API int pglift_instance_configure_text(pglift_ctx *ctx, const char *instance, const char *text,
                                              size_t text_len, char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;

/* ---- pg_hba records (pgconf) ----------------------------------------------------------------------- */

/* Flags of pglift_hba_add / pglift_hba_remove. */
typedef enum pglift_hba_flags {
  PGLIFT_HBA_DEFAULT = 0,
  PGLIFT_HBA_DRY_RUN = 1 /* compute the result and its diff, change nothing */
} pglift_hba_flags;

/* Adds pg_hba records not already there (the same fields), after the existing lines. `records_json` is
 * one record or an array of them: {"connection": {"type": "host", "address": "10.0.0.0/8", "netmask":
 * null} (null or absent: a `local` record), "database": "all" | ["db1", "db2"], "user": ..., "method":
 * "scram-sha-256" (required), "options": ["map=x"]}. Every record is validated first (PGLIFT_E_INVALID_SPEC
 * naming the field: connection.type, connection.address, connection.netmask, database, user, method,
 * options). Plain instance: pg_hba.conf edited in place (other lines kept, atomic, 0600), then a running
 * instance reloaded (confirmed). Patroni member: its YAML's postgresql.pg_hba, then a reload through
 * Patroni. *out_json: {"added": [lines], "removed": [], "changed": true, "reloaded": true, "diff": "--- ..."}. */
PGLIFT_API int pglift_hba_add(pglift_ctx *ctx, const char *instance, const char *records_json, size_t records_len,
                              uint32_t flags, char **out_json, pglift_error **err) PGLIFT_NOEXCEPT;
/* Removes the lines equal to the records; a record found nowhere fails with PGLIFT_E_NOT_FOUND and
 * changes nothing. *out_json as for pglift_hba_add ("removed" lists the lines). */
PGLIFT_API int pglift_hba_remove(pglift_ctx *ctx, const char *instance, const char *records_json,
                                 size_t records_len, uint32_t flags, char **out_json,
                                 pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_hba_add_async(pglift_ctx *ctx, const char *instance, const char *records_json,
                                    size_t records_len, uint32_t flags, uint64_t tag, pglift_op **out,
                                    pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_hba_remove_async(pglift_ctx *ctx, const char *instance, const char *records_json,
                                       size_t records_len, uint32_t flags, uint64_t tag, pglift_op **out,
                                       pglift_error **err) PGLIFT_NOEXCEPT;

/* ---- Dry runs of role, database and configuration writes (PGLIFT_HAS_DRY_RUN) ------------------------ */

/* Flags of the `_with` forms below. */
typedef enum pglift_op_flags {
  PGLIFT_OP_DEFAULT = 0,
  /* Simulate: check everything that can be checked without making the change (names, values, existence,
   * references, a standby's read-only state, the instance lock), log what would be done with "(dry run:
   * nothing changed)", change nothing. Role writes run their SQL in transactions rolled back. */
  PGLIFT_OP_DRY_RUN = 1u << 0
} pglift_op_flags;

/* Each is its twin without `_with` plus `flags` (an unknown bit: PGLIFT_E_INVALID_SPEC, field "flags").
 * Dry results: database create returns the database it would make, alter the database as it is now;
 * configure returns the changes it would make ("reloaded": false, "needs_restart" named). */
PGLIFT_API int pglift_role_create_with(pglift_ctx *ctx, const char *instance, const char *spec_json,
                                       size_t spec_len, uint32_t flags, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_role_alter_with(pglift_ctx *ctx, const char *instance, const char *name,
                                      const char *changes_json, size_t changes_len, uint32_t flags,
                                      pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_role_drop_with(pglift_ctx *ctx, const char *instance, const char *name,
                                     const char *options_json, size_t options_len, uint32_t flags,
                                     pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_database_create_with(pglift_ctx *ctx, const char *instance, const char *spec_json,
                                           size_t spec_len, uint32_t flags, char **out_json,
                                           pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_database_alter_with(pglift_ctx *ctx, const char *instance, const char *spec_json,
                                          size_t spec_len, uint32_t flags, char **out_json,
                                          pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_database_drop_with(pglift_ctx *ctx, const char *instance, const char *name, int force,
                                         uint32_t flags, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_configure_with(pglift_ctx *ctx, const char *instance, const char *changes_json,
                                              size_t changes_len, uint32_t flags, char **out_json,
                                              pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_configure_text_with(pglift_ctx *ctx, const char *instance, const char *text,
                                                   size_t text_len, uint32_t flags, char **out_json,
                                                   pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_role_create_with_async(pglift_ctx *ctx, const char *instance, const char *spec_json,
                                             size_t spec_len, uint32_t flags, uint64_t tag, pglift_op **out,
                                             pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_role_alter_with_async(pglift_ctx *ctx, const char *instance, const char *name,
                                            const char *changes_json, size_t changes_len, uint32_t flags,
                                            uint64_t tag, pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_role_drop_with_async(pglift_ctx *ctx, const char *instance, const char *name,
                                           const char *options_json, size_t options_len, uint32_t flags,
                                           uint64_t tag, pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_database_create_with_async(pglift_ctx *ctx, const char *instance, const char *spec_json,
                                                 size_t spec_len, uint32_t flags, uint64_t tag, pglift_op **out,
                                                 pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_database_alter_with_async(pglift_ctx *ctx, const char *instance, const char *spec_json,
                                                size_t spec_len, uint32_t flags, uint64_t tag, pglift_op **out,
                                                pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_database_drop_with_async(pglift_ctx *ctx, const char *instance, const char *name, int force,
                                               uint32_t flags, uint64_t tag, pglift_op **out,
                                               pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_configure_with_async(pglift_ctx *ctx, const char *instance,
                                                    const char *changes_json, size_t changes_len, uint32_t flags,
                                                    uint64_t tag, pglift_op **out,
                                                    pglift_error **err) PGLIFT_NOEXCEPT;

/* --- config --- */
/* ---- A Patroni member's configuration (its YAML) as a JSON document -------------------------------- */
#define PGLIFT_HAS_PATRONI_CONFIG 1 /* pglift_patroni_config_get/_set/_validate (+ _async) */

/* The member's Patroni configuration as *out_json: the YAML's document as a JSON object, every key as in
 * the file (those the library does not manage too), and every secret (any key naming a password:
 * postgresql.authentication.*.password, restapi.authentication.password, etcd3.password,
 * ctl.keyfile_password...; postgresql.parameters excepted) as "**********". The secrets are given by
 * pglift_patroni_credentials only. Not a Patroni member: PGLIFT_E_STATE. */
PGLIFT_API int pglift_patroni_config_get(pglift_ctx *ctx, const char *instance, char **out_json,
                                         pglift_error **err) PGLIFT_NOEXCEPT;
/* Replaces the member's configuration by the whole document `config_json` (pglift_patroni_config_get's
 * shape, edited): keys absent from it are removed, unknown keys kept as given, except secrets: an absent
 * or "**********" secret keeps the current one, another value is refused (PGLIFT_E_INVALID_SPEC naming
 * it). Checked before anything is written (PGLIFT_E_INVALID_SPEC, pglift_error_field names the field):
 * scope, name, postgresql.data_dir, bin_dir and the authentication user names must be the current ones
 * ("scope", "postgresql.data_dir"...), addresses HOST:PORT
 * ("restapi.listen"), pg_hba lines one record each ("postgresql.pg_hba[2]"), parameter names and
 * values as PostgreSQL takes them (the parameter), watchdog.mode off|automatic|required, no control
 * character in any string. Written atomically, mode 0600, under the instance lock. A running member
 * applies it on pglift_instance_reload (Patroni re-reads its YAML). */
PGLIFT_API int pglift_patroni_config_set(pglift_ctx *ctx, const char *instance, const char *config_json,
                                         size_t config_len, pglift_error **err) PGLIFT_NOEXCEPT;
/* What pglift_patroni_config_set would refuse of a well-formed document (a fixed field changed, a parameter
 * value PostgreSQL refuses: "postgresql.parameters.work_mem"), then Patroni's own validation
 * (`patroni --validate-config`, at most 60 s) of the document `config_json`
 * as the member's configuration, through a private 0600 copy holding no secret (each as "**********":
 * the validator only checks that they are there); nothing of the member is changed. *out_json: {"valid": true|false, "issues": [{"field": "postgresql.listen",
 * "message": "..."}]} (field "" when Patroni names none; no secret is ever quoted). Patroni needs the DCS
 * up and the listen ports free; on a running member, "already in use" for its own current ports is not
 * reported. A malformed document fails as pglift_patroni_config_set does. */
PGLIFT_API int pglift_patroni_config_validate(pglift_ctx *ctx, const char *instance, const char *config_json,
                                              size_t config_len, char **out_json,
                                              pglift_error **err) PGLIFT_NOEXCEPT;
/* The async twins: the op's result is get's document, none (set), validate's {"valid", "issues"}. The
 * document is checked by the call (a malformed one fails at once); scope, name and parameter values by
 * the op. */
PGLIFT_API int pglift_patroni_config_get_async(pglift_ctx *ctx, const char *instance, uint64_t tag,
                                               pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_patroni_config_set_async(pglift_ctx *ctx, const char *instance, const char *config_json,
                                               size_t config_len, uint64_t tag, pglift_op **out,
                                               pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_patroni_config_validate_async(pglift_ctx *ctx, const char *instance,
                                                    const char *config_json, size_t config_len, uint64_t tag,
                                                    pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
/* --- end config --- */
/* --- forms --- */
/* Every entry point doing I/O has an `_async` twin (PGLIFT_HAS_ASYNC_ALL): those of the reads above,
 * and of the configuration by text. Each behaves as described under "Asynchronous operations" (its
 * arguments checked at the call, one OP_DONE when it ends, cancellable); its result (pglift_op_result)
 * is the blocking twin's as JSON: an object for parameters and configure_text, a JSON string for the
 * text of parameters_text and for the paths of the log files.
 * pglift_instance_configure_text(_with)_async check the text's syntax at the call (PGLIFT_E_INVALID_SPEC,
 * field "line N"); the op then reads the managed parameters and writes the changes under the instance
 * lock, in one operation.
 * pglift_patroni_credentials_async: THE RESULT HOLDS SECRETS, as pglift_patroni_credentials' does (the
 * same care applies; free the op once they are copied where they belong). */
#define PGLIFT_HAS_ASYNC_ALL 1
PGLIFT_API int pglift_instance_parameters_async(pglift_ctx *ctx, const char *instance, uint64_t tag,
                                                pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_parameters_text_async(pglift_ctx *ctx, const char *instance, uint64_t tag,
                                                     pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_configure_text_async(pglift_ctx *ctx, const char *instance, const char *text,
                                                    size_t text_len, uint64_t tag, pglift_op **out,
                                                    pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_configure_text_with_async(pglift_ctx *ctx, const char *instance, const char *text,
                                                         size_t text_len, uint32_t flags, uint64_t tag,
                                                         pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_instance_log_file_async(pglift_ctx *ctx, const char *instance, uint64_t tag, pglift_op **out,
                                              pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_patroni_credentials_async(pglift_ctx *ctx, const char *instance, uint64_t tag,
                                                pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_patroni_log_file_async(pglift_ctx *ctx, const char *instance, uint64_t tag, pglift_op **out,
                                             pglift_error **err) PGLIFT_NOEXCEPT;
/* --- end forms --- */
/* --- cluster --- */
/* ---- Patroni clusters as a whole (PGLIFT_HAS_CLUSTER) ---------------------------------------------
 * A cluster's JSON (*out_json, and the result of every _async twin but those of get: the cluster as
 * observed after the operation): {"name", "leader" (null: nobody leads), "paused", "source" ("rest":
 * through a member's REST API, "dcs": the DCS's keys), "local_member" ("15/pg1" | null), "members":
 * [as in the instance JSON's patroni.cluster_members], "history": [{"timeline", "lsn", "reason",
 * "timestamp", "new_leader"}], "dynamic_configuration": {...} (password values redacted), "dcs_error"
 * (only when the DCS could not be reached)}.
 * Unsafe REST calls only go to a member of this host, with its own configuration's credentials: a
 * member on another host cannot be restarted or reinitialized from here (PGLIFT_E_STATE naming it). */
#define PGLIFT_HAS_CLUSTER 1
/* The cluster of `instance` (a Patroni member of this host), through its REST API, else the DCS. */
PGLIFT_API int pglift_cluster_get(pglift_ctx *ctx, const char *instance, char **out_json,
                                  pglift_error **err) PGLIFT_NOEXCEPT;
/* The cluster named `name` as the DCS of the site settings holds it (no member is asked). A name that is
 * not letters, digits, '_', '.', '-': PGLIFT_E_INVALID_SPEC (field "cluster"); no key: NOT_FOUND. */
PGLIFT_API int pglift_cluster_get_dcs(pglift_ctx *ctx, const char *name, char **out_json,
                                      pglift_error **err) PGLIFT_NOEXCEPT;
/* Restarts `member`'s PostgreSQL through its Patroni (returns once a new postmaster runs, no restart
 * pending); member NULL: every member, replicas first and the leader last (all must be on this host,
 * else nothing is done). Not a member: PGLIFT_E_INVALID_SPEC (field "member"). */
PGLIFT_API int pglift_cluster_restart(pglift_ctx *ctx, const char *instance, const char *member,
                                      pglift_error **err) PGLIFT_NOEXCEPT;
/* Reinitializes replica `member` (its data cloned anew from the leader); returns once it streams again.
 * The leader: PGLIFT_E_STATE. */
PGLIFT_API int pglift_cluster_reinit(pglift_ctx *ctx, const char *instance, const char *member,
                                     pglift_error **err) PGLIFT_NOEXCEPT;
/* Deletes the cluster's keys from the DCS: `instance_or_name` is a cluster name, or "VERSION/NAME" (with
 * the slash) a member of this host. Refused (PGLIFT_E_STATE) while a member is alive or still configured
 * on this host; PGLIFT_E_DCS when the DCS cannot be reached. */
PGLIFT_API int pglift_cluster_remove(pglift_ctx *ctx, const char *instance_or_name,
                                     pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_cluster_get_async(pglift_ctx *ctx, const char *instance, uint64_t tag, pglift_op **out,
                                        pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_cluster_get_dcs_async(pglift_ctx *ctx, const char *name, uint64_t tag, pglift_op **out,
                                            pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_cluster_restart_async(pglift_ctx *ctx, const char *instance, const char *member,
                                            uint64_t tag, pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_cluster_reinit_async(pglift_ctx *ctx, const char *instance, const char *member,
                                           uint64_t tag, pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
PGLIFT_API int pglift_cluster_remove_async(pglift_ctx *ctx, const char *instance_or_name, uint64_t tag,
                                           pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
/* --- end cluster --- */
/* --- stream --- */
/* ---- Streams (PGLIFT_HAS_DATA_EVENTS, PGLIFT_HAS_CLUSTER_WATCH) ----------------------------------- *
 * A streaming op delivers its items as PGLIFT_EVENT_DATA events carrying its tag; target says what the
 * message is: "log" (whole lines of a PostgreSQL log file, see pglift_instance_logs) or "cluster"
 * (one cluster event as JSON: {"kind", "member", "before", "after", "revision"}, see
 * pglift_cluster_watch_async). For one op, DATA events come in order and before its OP_DONE.
 * DATA events are never dropped: when the queue holds its capacity (pglift_ctx_set_event_capacity),
 * the op queues no more until pglift_ctx_next_event has taken some; meanwhile it waits, and
 * pglift_op_cancel (or pglift_op_free) still ends it at once. A program that stops draining thus stops
 * its streams, and loses none of their data.
 * Each streaming op also has a window (PGLIFT_HAS_STREAM_WINDOW): at most that many of its DATA events
 * alive at once, queued or taken and not yet freed with pglift_event_free. At the window it waits, the
 * same way, until one is freed. A program (or binding) that takes every event but keeps a stream's
 * items until their reader wants them thus holds at most a window of them, and a stream nobody reads
 * stops by itself while the context's other events flow. */
#define PGLIFT_HAS_STREAM_WINDOW 1 /* stream: pglift_ctx_set_stream_window */

/* The window of the streaming ops started from now on on this context (256 by default; at least 1, else
 * PGLIFT_E_INVALID_SPEC naming "window"). Ops already running keep theirs. */
PGLIFT_API int pglift_ctx_set_stream_window(pglift_ctx *ctx, size_t window, pglift_error **err) PGLIFT_NOEXCEPT;

/* The instance's current PostgreSQL log file as text (not followed): *out_text, freed with pglift_free.
 * Here and in "log" DATA events, passwords are masked as in every message of the library (a logged
 * ALTER ROLE ... PASSWORD '...'), and each DATA event holds whole lines (but a line over 64 KiB). */
PGLIFT_API int pglift_instance_logs(pglift_ctx *ctx, const char *instance, char **out_text,
                                    pglift_error **err) PGLIFT_NOEXCEPT;
/* The current log file as DATA events (target "log"). follow 0: the op ends SUCCEEDED after the file's
 * current content. follow 1: it goes on as PostgreSQL writes (across log rotations) until cancelled, then
 * ends CANCELLED. Another follow value fails with PGLIFT_E_INVALID_SPEC (field "follow"). */
PGLIFT_API int pglift_instance_logs_async(pglift_ctx *ctx, const char *instance, int follow, uint64_t tag,
                                          pglift_op **out, pglift_error **err) PGLIFT_NOEXCEPT;
/* Watches the Patroni cluster of member `instance` in its DCS (etcd's watch API, no polling): DATA events
 * (target "cluster"), first describing the current state (member_added for each member, leader_changed
 * from null, paused when paused), then one per change: kind "leader_changed" (member: the new leader, or
 * the old one when none leads; before/after: the leaders), "member_added" / "member_removed" (after /
 * before: its role), "role_changed" / "state_changed" (before/after), "paused", "resumed" (member "").
 * Runs until cancelled (OP_DONE CANCELLED) or a failure (FAILED: not a Patroni member, PGLIFT_E_STATE;
 * etcd gone for more than 30 s, PGLIFT_E_DCS). A broken etcd connection is resumed from the last
 * revision seen, on any etcd host: no change is lost or repeated. A connection silent for 10 s whose
 * host then does not answer a read (frozen, cut off from its peers) counts as broken. */
PGLIFT_API int pglift_cluster_watch_async(pglift_ctx *ctx, const char *instance, uint64_t tag, pglift_op **out,
                                          pglift_error **err) PGLIFT_NOEXCEPT;
/* --- end stream --- */

#ifdef __cplusplus
}
#endif
#endif /* PGLIFT_H */
