#!/usr/bin/env bash
# Canary test of secrets: creates instances whose super-user and replication passwords are unique canaries,
# given through a file, the environment and the terminal prompt, at -L DEBUG, and checks that no canary
# appears where others (or logs) could see it:
#   - the CLI's stdout and stderr (what a terminal shows, also at DEBUG);
#   - the command lines of every process of the host (/proc/*/cmdline), sampled every few milliseconds
#     during the creates, and the environment of the processes pglift starts (/proc/*/environ);
#   - the log files under the prefix (PostgreSQL's, Patroni's), whatever their mode;
#   - every other file under the prefix that is not mode 0600 (Patroni's YAML and pgpass, 0600, may hold them).
# The passwords must work, too: a create that ignored them would leak nothing and prove nothing. The test
# itself never puts a canary on a command line: greps read them from a 0600 file.
# Usage: secrets_canary.sh PGLIFT_EXE plain|patroni   (as an unprivileged user)
# The patroni part runs two members on a private etcd; it exits 77 (skipped) without Patroni or etcd.
set -u -o pipefail

if [[ $# -ne 2 || ( $2 != plain && $2 != patroni ) ]]; then
  echo "usage: $0 PGLIFT_EXE plain|patroni" >&2
  exit 2
fi
PGLIFT=$(realpath "$1")
MODE=$2
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_unprivileged
if [[ $MODE == patroni ]]; then require_patroni_and_etcd; fi
# shellcheck source=../../scripts/ha-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/ha-lib.sh"

WORK=$(mktemp -d)
PREFIX=$WORK/prefix      # what pglift creates, and nothing else
SCRATCH=$WORK/scratch    # our own files: captured output, password files, etcd
mkdir -p "$PREFIX" "$SCRATCH/config" "$SCRATCH/xdg"
chmod 0700 "$WORK"
SAMPLER_PID=
ETCD_PID=

cleanup() {
  if [[ -n $SAMPLER_PID ]]; then kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null; fi
  stop_postmasters  # Patroni, then postgres, then anything else under the prefix
  if [[ -n $ETCD_PID ]]; then kill "$ETCD_PID" 2>/dev/null; wait "$ETCD_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- the canaries, and where they are given ---------------------------------------------------------------

CANARY_SU=CanarySu$$x$RANDOM$RANDOM
CANARY_REPL=CanaryRepl$$x$RANDOM$RANDOM
umask 077
printf '%s\n' "$CANARY_SU" "$CANARY_REPL" >"$SCRATCH/canaries"  # for grep -f: never a canary on our command lines
printf '%s\n' "$CANARY_SU" >"$SCRATCH/surole.pw"
printf '%s\n' "$CANARY_REPL" >"$SCRATCH/replrole.pw"
# For our psql checks: libpq reads the password from a file, not from argv or the environment.
printf '*:*:*:postgres:%s\n*:*:*:replication:%s\n' "$CANARY_SU" "$CANARY_REPL" >"$SCRATCH/pgpass"
umask 022
echo "# prefix $PREFIX, mode $MODE, canaries $CANARY_SU $CANARY_REPL"

# --- environment: only this prefix counts -------------------------------------------------------------

for var in $(compgen -e); do
  case $var in PG* | PSQL* | PATRONI* | ETCD* | SUROLE_PASSWORD | REPLROLE_PASSWORD) unset "$var" ;; esac
done
export PGLIFT_CONFIG_DIR=$SCRATCH/config  # exclusive when set: /etc/pglift is not read
export XDG_CONFIG_HOME=$SCRATCH/xdg
SITE="\"prefix\": \"$PREFIX\", \"run_prefix\": \"$PREFIX/run\""

if [[ $MODE == patroni ]]; then
  # A private etcd on free loopback ports, with fast elections (scripts/ha-lib.sh: clean environment,
  # readiness polled finely, failing fast with its log if it exits).
  start_etcd "$SCRATCH/etcd" || { echo "FAIL: etcd did not start" >&2; exit 1; }
  ETCD_URL=http://$ETCD_ENDPOINT
  ETCD_PORT=${ETCD_ENDPOINT##*:}
  SITE="$SITE, \"patroni\": {\"etcd\": {\"hosts\": [\"127.0.0.1:$ETCD_PORT\"]}, \"loop_wait\": 2, \"ttl\": 10,
    \"retry_timeout\": 3, \"create_timeout\": 120}"
fi
export SETTINGS="{$SITE}"

# --- the sampler: every process's command line, and the environment of the processes pglift starts -------

# Writes one line per sighting to $SCRATCH/sightings until killed; touches $SCRATCH/sampler.ready after
# its first full pass. The environment of the pglift CLI itself is its caller's (SUROLE_PASSWORD given
# there, readable by its user only): only its children's count. A scan of /proc takes a few milliseconds.
"$PYTHON" - "$SCRATCH/sightings" "$SCRATCH/sampler.ready" "$PGLIFT" "$SCRATCH/canaries" "SelfTest$$" <<'EOF' &
import os, sys, time
out_path, ready, pglift, canaries_file, self_test = sys.argv[1:]
canaries = open(canaries_file, "rb").read().split() + [self_test.encode()]
me = os.getpid()
seen = set()
with open(out_path, "a") as out:
    first = True
    while True:
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == me:
                continue
            for what in ("cmdline", "environ"):
                try:
                    with open(f"/proc/{pid}/{what}", "rb") as f:
                        data = f.read()
                    if what == "environ" and os.readlink(f"/proc/{pid}/exe") == pglift:
                        continue
                except OSError:
                    continue
                for canary in canaries:
                    if canary in data and (pid, what, canary) not in seen:
                        seen.add((pid, what, canary))
                        shown = data.replace(b"\0", b" ")[:300].decode(errors="replace")
                        out.write(f"{what} of PID {pid}: {shown}\n")
                        out.flush()
        if first:
            open(ready, "w").close()
            first = False
        time.sleep(0.002)  # a pass takes a few milliseconds: sample often, leave the CPU to the test
EOF
SAMPLER_PID=$!
for _ in $(seq 100); do  # up to 10 s for its first pass
  [[ -e $SCRATCH/sampler.ready ]] && break
  sleep 0.1
done

# The sampler sees a canary on a command line that lives half a second: the check is not blind.
COMMAND="the /proc sampler"
"$PYTHON" -c 'import time; time.sleep(0.5)' "SelfTest$$"
for _ in $(seq 50); do
  grep -q "SelfTest$$" "$SCRATCH/sightings" 2>/dev/null && break
  sleep 0.1
done
if grep -q "SelfTest$$" "$SCRATCH/sightings"; then pass "sees a canary on a command line"; else fail "sees a canary on a command line"; fi

# --- running pglift with passwords in its environment only -------------------------------------------------

# with_environment NAME=VALUE... -- ARGS...: runs pglift with these variables in its environment only: not
# in any command line (export is a builtin), not in this script's environment, nor in a wrapper's (no
# timeout(1): killed here after 300 s). Keeps OUT, ERR, STATUS like pglift().
with_environment() {
  local assignments=()
  while [[ $1 != -- ]]; do
    assignments+=("$1")
    shift
  done
  shift
  COMMAND="${assignments[*]%%=*} pglift $*"
  (
    for assignment in "${assignments[@]}"; do export "${assignment?}"; done
    exec "$PGLIFT" "$@"
  ) </dev/null >"$SCRATCH/stdout" 2>"$SCRATCH/stderr" &
  local pid=$! deadline=$((SECONDS + 300))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  kill "$pid" 2>/dev/null  # still running after 300 s: hung
  wait "$pid"
  STATUS=$?
  OUT=$(cat "$SCRATCH/stdout")
  ERR=$(cat "$SCRATCH/stderr")
}

# expect_no_canary WHAT TEXT
expect_no_canary() {
  if grep -qF -f "$SCRATCH/canaries" <<<"$2"; then
    fail "$COMMAND: $1 holds no canary" "$(grep -F -f "$SCRATCH/canaries" <<<"$2")"
  else
    pass "$COMMAND: $1 holds no canary"
  fi
}

# psql_as ROLE PORT HOST SQL: through TCP, the password from our pgpass file.
psql_as() {
  PGPASSFILE=$SCRATCH/pgpass /usr/lib/postgresql/15/bin/psql -X -w -h "$3" -p "$2" -U "$1" -d postgres -tAc "$4" 2>&1
}

# --- the creates ----------------------------------------------------------------------------------------

if [[ $MODE == plain ]]; then
  PORT1=$(free_port)
  pglift -L DEBUG instance create file1 --port "$PORT1" \
    --surole-password-file "$SCRATCH/surole.pw" --replrole-password-file "$SCRATCH/replrole.pw"
  expect_status 0
  expect_match "logs at DEBUG" "DEBUG" "$ERR"
  expect_no_canary "stdout" "$OUT"
  expect_no_canary "stderr" "$ERR"

  PORT2=$(free_port)
  with_environment SUROLE_PASSWORD="$CANARY_SU" REPLROLE_PASSWORD="$CANARY_REPL" -- \
    -L DEBUG instance create env1 --port "$PORT2"
  expect_status 0
  expect_match "says where the password comes from" "Super-user password from the SUROLE_PASSWORD environment variable" "$ERR"
  expect_no_canary "stdout" "$OUT"
  expect_no_canary "stderr" "$ERR"

  # Asked on the terminal, twice each, without echo.
  PORT3=$(free_port)
  printf '%s\n' "$CANARY_SU" "$CANARY_SU" "$CANARY_REPL" "$CANARY_REPL" >"$SCRATCH/answers"
  answering_on_terminal "$SCRATCH/answers" -L DEBUG instance create prompt1 --port "$PORT3" --surole-password --replrole-password
  expect_status 0
  expect_match "asks for the super-user password" 'Super-user password: ' "$OUT"
  expect_match "asks for confirmation" 'Repeat for confirmation: ' "$OUT"
  expect_no_canary "the terminal" "$OUT"

  pglift --non-interactive instance create never --surole-password
  expect_status 2
  expect_match "never prompts in non-interactive mode" "requires a value in non-interactive mode" "$ERR"

  for port in "$PORT1" "$PORT2" "$PORT3"; do
    COMMAND="psql -h 127.0.0.1 -p $port"
    expect_equal "logs in as postgres with its canary" "1" "$(psql_as postgres "$port" 127.0.0.1 'select 1')"
    expect_equal "logs in as replication with its canary" "1" "$(psql_as replication "$port" 127.0.0.1 'select 1')"
  done

  # A password on the command line: warned about, and overwritten in /proc/PID/cmdline once parsed.
  COMMAND="pglift -L INFO instance create argv1 --surole-password=ArgvValue$$"
  "$PGLIFT" -L INFO instance create argv1 --port "$(free_port)" --surole-password="ArgvValue$$" \
    </dev/null >"$SCRATCH/stdout" 2>"$SCRATCH/stderr" &
  CREATE_PID=$!
  for _ in $(seq 500); do  # up to 10 s for the create to start
    grep -q "initializing" "$SCRATCH/stderr" && break
    sleep 0.02
  done
  ARGV=$(tr '\0' ' ' <"/proc/$CREATE_PID/cmdline" 2>/dev/null)
  wait "$CREATE_PID"
  STATUS=$?
  ERR=$(cat "$SCRATCH/stderr")
  expect_status 0
  expect_match "warns that the command line is visible" \
    "WARNING +pglift\.cli - --surole-password=VALUE puts the password on the command line, where other users can read it" "$ERR"
  expect_match "overwrites the value in its command line" "--surole-password=x{5,}( |$)" "$ARGV"
  expect_no_match "no longer shows the value" "ArgvValue$$" "$ARGV"
else
  CLUSTER=canary$RANDOM
  PORT1=$(free_port)
  PORT2=$(free_port)
  API1=127.0.1.1:$(free_port)
  API2=127.0.1.2:$(free_port)
  pglift -L DEBUG instance create pg1 --port "$PORT1" --patroni-cluster "$CLUSTER" --patroni-node pg1 \
    --patroni-restapi-connect-address "$API1" --patroni-postgresql-connect-host 127.0.1.1 \
    --surole-password-file "$SCRATCH/surole.pw" --replrole-password-file "$SCRATCH/replrole.pw"
  expect_status 0
  expect_match "logs at DEBUG" "DEBUG" "$ERR"
  expect_no_canary "stdout" "$OUT"
  expect_no_canary "stderr" "$ERR"

  with_environment SUROLE_PASSWORD="$CANARY_SU" REPLROLE_PASSWORD="$CANARY_REPL" -- \
    -L DEBUG instance create pg2 --port "$PORT2" --patroni-cluster "$CLUSTER" --patroni-node pg2 \
    --patroni-restapi-connect-address "$API2" --patroni-restapi-listen "$API2" --patroni-postgresql-connect-host 127.0.1.2
  expect_status 0
  expect_no_canary "stdout" "$OUT"
  expect_no_canary "stderr" "$ERR"

  COMMAND="psql -h 127.0.1.1 -p $PORT1"
  expect_equal "logs in as postgres with its canary" "1" "$(psql_as postgres "$PORT1" 127.0.1.1 'select 1')"
  # The replica streams: the replication canary works (Patroni gave it to pg_basebackup and the walreceiver).
  for _ in $(seq 300); do  # up to 30 s for pg2 to stream
    [[ $(psql_as postgres "$PORT1" 127.0.1.1 "select count(*) from pg_stat_replication where state = 'streaming'") == 1 ]] && break
    sleep 0.1
  done
  expect_equal "sees the replica streaming" "1" \
    "$(psql_as postgres "$PORT1" 127.0.1.1 "select count(*) from pg_stat_replication where state = 'streaming'")"

  # The cluster's credentials, for a member on another host: a 0600 file, never shown.
  pglift -L DEBUG patroni -i pg1 credentials --output "$SCRATCH/cluster.json"
  expect_status 0
  expect_no_canary "stdout" "$OUT"
  expect_no_canary "stderr" "$ERR"
  COMMAND="stat $SCRATCH/cluster.json"
  expect_equal "writes the credentials file mode 0600" "600" "$(stat -c %a "$SCRATCH/cluster.json")"
  expect_equal "holds both canaries" "2" "$(grep -oF -f "$SCRATCH/canaries" "$SCRATCH/cluster.json" | sort -u | wc -l)"
  # From now on, the rewind password (generated by pg1) is a canary too, for the checks of files below.
  "$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["rewind"]["password"])' "$SCRATCH/cluster.json" \
    >>"$SCRATCH/canaries"
  pglift patroni -i pg1 credentials --output "$SCRATCH/cluster.json"
  expect_status 1
  expect_match "refuses to overwrite it" "already exists \(--force replaces it\)" "$ERR"
  pglift patroni -i pg1 credentials --output "$SCRATCH/cluster.json" --force
  expect_status 0
  COMMAND="stat $SCRATCH/cluster.json"
  expect_equal "replaces it with --force, mode 0600" "600" "$(stat -c %a "$SCRATCH/cluster.json")"

  # A member on another host (another prefix: no local member to take the passwords from) joins with the
  # file only, named by CLUSTER_CREDENTIALS_FILE; without it, the error says what to do.
  HOST2="\"prefix\": \"$PREFIX/host2\", \"run_prefix\": \"$PREFIX/host2/run\", \"patroni\": {\"etcd\": {\"hosts\":
    [\"127.0.0.1:$ETCD_PORT\"]}, \"loop_wait\": 2, \"ttl\": 10, \"retry_timeout\": 3, \"create_timeout\": 120}"
  PORT3=$(free_port)
  API3=127.0.1.3:$(free_port)
  with_environment SETTINGS="{$HOST2}" -- --non-interactive instance create pg3 --port "$PORT3" --patroni-cluster "$CLUSTER" \
    --patroni-node pg3 --patroni-restapi-connect-address "$API3" --patroni-postgresql-connect-host 127.0.1.3
  expect_status 1
  expect_match "names the missing credentials and how to get them" \
    "joining cluster '$CLUSTER' needs its credentials .*pglift patroni -i <member> credentials --output FILE.*--patroni-credentials FILE" "$ERR"
  expect_no_match "never an invalid empty value" "invalid value ''" "$ERR"
  with_environment SETTINGS="{$HOST2}" CLUSTER_CREDENTIALS_FILE="$SCRATCH/cluster.json" -- -L DEBUG --non-interactive \
    instance create pg3 --port "$PORT3" --patroni-cluster "$CLUSTER" --patroni-node pg3 \
    --patroni-restapi-connect-address "$API3" --patroni-postgresql-connect-host 127.0.1.3
  expect_status 0
  expect_no_canary "stdout" "$OUT"
  expect_no_canary "stderr" "$ERR"
  COMMAND="psql -h 127.0.1.3 -p $PORT3"
  for _ in $(seq 300); do  # up to 30 s for pg3 to stream
    [[ $(psql_as postgres "$PORT1" 127.0.1.1 "select count(*) from pg_stat_replication where state = 'streaming'") == 2 ]] && break
    sleep 0.1
  done
  expect_equal "logs in to the joined member as postgres with its canary" "1" "$(psql_as postgres "$PORT3" 127.0.1.3 'select 1')"
  expect_equal "the leader sees both replicas streaming" "2" \
    "$(psql_as postgres "$PORT1" 127.0.1.1 "select count(*) from pg_stat_replication where state = 'streaming'")"
  expect_equal "the joined member has the cluster's rewind password" "1" \
    "$(grep -cF -f <(tail -n 1 "$SCRATCH/canaries") "$PREFIX/host2/etc/patroni/15-pg3.yaml")"
fi

# --- what others could read ----------------------------------------------------------------------------

COMMAND="/proc sampling during the creates"
if kill -0 "$SAMPLER_PID" 2>/dev/null; then pass "the sampler ran throughout"; else fail "the sampler ran throughout"; fi
kill "$SAMPLER_PID" 2>/dev/null
wait "$SAMPLER_PID" 2>/dev/null
SAMPLER_PID=
expect_equal "no canary in any command line or child environment" "" \
  "$(grep -v "SelfTest$$" "$SCRATCH/sightings" 2>/dev/null)"

COMMAND="files under the prefix"
LOGS=$(find "$PREFIX" -type f \( -path "$PREFIX/log/*" -o -name '*.log' \) | sort)
if [[ -n $LOGS ]]; then pass "there are log files"; else fail "there are log files"; fi
expect_equal "no canary in log files" "" \
  "$(find "$PREFIX" -type f \( -path "$PREFIX/log/*" -o -name '*.log' \) -exec grep -lF -f "$SCRATCH/canaries" {} +)"
expect_equal "no canary in files that are not mode 0600" "" \
  "$(find "$PREFIX" -type f ! -perm 0600 -exec grep -lF -f "$SCRATCH/canaries" {} +)"
HOLDERS=$(find "$PREFIX" -type f -exec grep -lF -f "$SCRATCH/canaries" {} +)
echo "# files holding a canary (mode 0600): $(tr "\n" " " <<<"$HOLDERS")"
OPEN_DIRS=$(while IFS= read -r file; do
  [[ -n $file ]] && find "$(dirname "$file")" -maxdepth 0 -perm /0007
done <<<"$HOLDERS" | sort -u)
expect_equal "no directory holding them open to others" "" "$OPEN_DIRS"

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
