# shellcheck shell=bash
# Shared by the fault tests (issue 14): one fault per test, a fresh throw-away prefix and free ports each,
# a bounded duration, and the checks that nothing is left behind (processes, files, etcd keys) or that the
# instance is intact. Builds on tests/cli/lib.sh (the pglift wrapper, pass/fail, free_port, the prefix's
# processes) and scripts/ha-lib.sh (a private etcd). Sourced; the caller sets PGLIFT.

# shellcheck source=../cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"
# shellcheck source=../../scripts/ha-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/ha-lib.sh"

ETCD_PID=
ETCD_DIR=
ETCD_URL=
EXTRA_PIDS=()      # helpers of the test (listeners...), stopped at exit
FAULT_STARTED=$(date +%s%N)

# now_ms: a monotonic-enough clock for durations.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# pglift ARGS...: as tests/cli/lib.sh's, also keeping ELAPSED_MS (the duration of the command).
pglift() {
  local t0
  t0=$(now_ms)
  COMMAND="pglift $*"
  timeout 180 "$PGLIFT" "$@" </dev/null >"$SCRATCH/stdout" 2>"$SCRATCH/stderr"
  STATUS=$?
  ELAPSED_MS=$(($(now_ms) - t0))
  OUT=$(cat "$SCRATCH/stdout")
  ERR=$(cat "$SCRATCH/stderr")
}

fault_cleanup() {
  local pid
  for pid in "${EXTRA_PIDS[@]}"; do
    kill "$pid" 2>/dev/null
    kill -CONT "$pid" 2>/dev/null
  done
  stop_postmasters  # Patroni, then postgres, then anything else under the prefix
  for pid in "${EXTRA_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  stop_etcd
  # A filesystem the test mounted (full_disk.sh), detached before the prefix goes.
  [[ -n ${FAULT_MOUNT:-} ]] && "$PYTHON" -c '
import ctypes, sys
ctypes.CDLL(None).umount2(sys.argv[1].encode(), 2)  # MNT_DETACH' "$FAULT_MOUNT"
  chmod -R u+w "$PREFIX" 2>/dev/null
  rm -rf "$PREFIX"
}

# fault_args USAGE ARGS...: the script's arguments as USAGE names them ("PGLIFT_EXE" or "PGLIFT_EXE CASE"):
# PGLIFT (the executable) and CASE; the usage and exit status 2 otherwise. Refuses root.
fault_args() {
  local usage=$1 words
  shift
  read -ra words <<<"$usage"
  if [[ $# -ne ${#words[@]} ]]; then
    echo "usage: $0 $usage" >&2
    exit 2
  fi
  PGLIFT=$(realpath "$1")
  # shellcheck disable=SC2034 # read by the scripts that source this file
  CASE=${2:-}
  require_unprivileged
}

# fault_begin: PREFIX (a new temporary directory, removed at exit with every process under it), SCRATCH,
# no PG*/PSQL*/PATRONI*/ETCD* variable of the caller, SETTINGS on this prefix (the caller may extend it
# with fault_settings).
fault_begin() {
  PREFIX=$(mktemp -d /tmp/pglift-fault.XXXXXX)
  SCRATCH=$PREFIX/transcript
  mkdir -p "$SCRATCH" "$SCRATCH/config" "$SCRATCH/xdg"
  trap fault_cleanup EXIT
  local var
  for var in $(compgen -e); do
    case $var in PG* | PSQL* | PATRONI* | ETCD* | LIBPGLIFT*) unset "$var" ;; esac  # PG* takes PGLIFT_* too
  done
  fault_settings ''
  export PGLIFT_CONFIG_DIR=$SCRATCH/config  # exclusive when set: /etc/pglift is not read
  export XDG_CONFIG_HOME=$SCRATCH/xdg
}

# fault_settings JSON_MEMBERS: SETTINGS on this prefix, plus the given members (e.g. '"patroni": {...}').
fault_settings() {
  export SETTINGS="{\"prefix\": \"$PREFIX\", \"run_prefix\": \"$PREFIX/run\"${1:+, $1}}"
}

# Patroni settings as the library's functional tests use them (short loops: elections within seconds),
# on the etcd at ETCD_ENDPOINT (or on the given host:port).
patroni_settings() {
  local hosts=${1:-$ETCD_ENDPOINT}
  fault_settings "\"patroni\": {\"etcd\": {\"hosts\": [\"$hosts\"]}, \"loop_wait\": 2, \"ttl\": 10,
    \"retry_timeout\": 3, \"create_timeout\": 60}"
}

# fault_etcd: a private etcd on free ports (ETCD_PID, ETCD_ENDPOINT, ETCD_URL); restart_etcd brings the same
# one back (same data, same ports) after stop_etcd.
fault_etcd() {
  ETCD_DIR=$SCRATCH/etcd
  start_etcd "$ETCD_DIR" || { echo "FAIL: etcd did not start" >&2; exit 1; }
  ETCD_URL=http://$ETCD_ENDPOINT
  ETCD_CLIENT_PORT=${ETCD_ENDPOINT##*:}
}
restart_etcd() { start_etcd "$ETCD_DIR" "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" || { echo "FAIL: etcd did not restart" >&2; exit 1; }; }

# Keys of CLUSTER in the DCS (Patroni's default namespace /service).
dcs_keys() {
  env -i ETCDCTL_API=3 /usr/bin/etcdctl --endpoints="$ETCD_URL" get --prefix --keys-only "/service/$1/" 2>&1 | sed '/^$/d'
}

# listen_on PORT [HOST]: a program that accepts connections on HOST:PORT and never answers (a taken port,
# a hung REST API); its PID joins EXTRA_PIDS. Waits until it accepts.
listen_on() {
  local port=$1 host=${2:-127.0.0.1}
  "$PYTHON" -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(64)
held = []
while True:
    c, _ = s.accept(); held.append(c)' "$host" "$port" &
  EXTRA_PIDS+=($!)
  "$PYTHON" - "$host" "$port" "$!" <<'PY' || { echo "FAIL: no listener on $host:$port" >&2; exit 1; }
import os, socket, sys, time
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close(); sys.exit(0)
    except OSError:
        os.kill(int(sys.argv[3]), 0); time.sleep(0.01)
sys.exit(1)
PY
}

# create_member NAME N [ARGS...]: `instance create NAME` as member NAME of CLUSTER on 127.0.1.N (its REST
# API on a free port, API_<NAME> holds the address), logging at LOG_LEVEL (default INFO).
create_member() {
  local name=$1 n=$2
  shift 2
  local api
  api=127.0.1.$n:$(free_port)
  printf -v "API_$name" '%s' "$api"
  pglift -L "${LOG_LEVEL:-INFO}" instance create "$name" --port "$(free_port)" --patroni-cluster "$CLUSTER" \
    --patroni-node "$name" --patroni-restapi-connect-address "$api" --patroni-restapi-listen "$api" \
    --patroni-postgresql-connect-host "127.0.1.$n" "$@"
}

# --- checks ---------------------------------------------------------------------------------------------

# expect_failure_status: the last command failed with 1 (an operation's error) or 2 (a usage error).
expect_failure() {
  if [[ $STATUS -eq 1 || $STATUS -eq 2 ]]; then pass "$COMMAND: fails (exit $STATUS)"; else fail "$COMMAND: fails with 1 or 2" "got $STATUS"; fi
}

# expect_within SECONDS: the last command took at most that long.
expect_within() {
  if ((ELAPSED_MS <= $1 * 1000)); then pass "$COMMAND: within $1 s (${ELAPSED_MS} ms)"
  else fail "$COMMAND: within $1 s" "took ${ELAPSED_MS} ms"; fi
}

# Processes under the prefix: Patroni daemons, postmasters, and anything whose command line names it.
prefix_processes() {
  {
    prefix_patronis "$PREFIX"
    prefix_postmasters "$PREFIX"
    pgrep -u "$(id -u)" -f -- "$PREFIX/" || true
  } | sort -u | while read -r pid; do
    [[ $pid == "$$" || $pid == "${ETCD_PID:-}" || " ${EXTRA_PIDS[*]} " == *" $pid "* ]] && continue
    pid_alive "$pid" && echo "$pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)"
  done
}

# expect_nothing_running: no process is left under the prefix (a moment is given to daemons exiting).
expect_nothing_running() {
  local left
  for _ in $(seq 100); do
    left=$(prefix_processes)
    [[ -z $left ]] && break
    sleep 0.05
  done
  expect_equal "leaves no process under the prefix" "" "$left"
}

# expect_no_files NAME: no file or directory of instance NAME (15-NAME or 15/NAME) anywhere under the
# prefix but our own scratch directory (empty parent directories do not count). The instance's lock file
# ({run_prefix}/locks/15-NAME.lock) does not count: a lock file outlives its lock by design (removing it
# would let two processes hold "the" lock on two different files). Nor do PostgreSQL's own log files
# (log/postgresql/15-NAME-*.log): as with `drop`, they are kept, the evidence of what happened.
instance_files() {
  find "$PREFIX" -path "$SCRATCH" -prune -o -path "$PREFIX/run/locks/15-$1.lock" -prune -o \
    -path "$PREFIX/log/postgresql/15-$1-*.log" -prune -o \
    \( -name "*15-$1*" -o -path "*/15/$1" -o -path "*/15/$1/*" \) -print 2>/dev/null
}
expect_no_files() { expect_equal "leaves no file of $1" "" "$(instance_files "$1" | head -n 20)"; }

# expect_running NAME: `instance status` says it runs.
expect_running() {
  local saved_command=$COMMAND
  pglift instance status "$1"
  expect_equal "$1 runs" "0" "$STATUS"
  COMMAND=$saved_command
}

# log_tail FILE: the last lines of a log, for a failure's detail.
log_tail() { tail -n 15 "$1" 2>/dev/null; }

fault_end() {
  local elapsed=$((($(date +%s%N) - FAULT_STARTED) / 1000000))
  echo "# $PASSED passed, $FAILED failed, in ${elapsed} ms"
  [[ $FAILED -eq 0 ]]
}
