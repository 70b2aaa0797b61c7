#!/usr/bin/env bash
# CLI transcript of high availability: drives the pglift executable through the life of a two-member Patroni
# cluster (the seed's high-availability page) on a private etcd, in a throw-away prefix, and checks what a
# user sees. Members listen on 127.0.1.1 and 127.0.1.2 (Linux routes all of 127/8 to lo).
# Usage: patroni_transcript.sh PGLIFT_EXE   (as an unprivileged user; PostgreSQL 15, /usr/bin/patroni, /usr/bin/etcd)
# Exit status 77 (meson's "skipped") when Patroni or etcd is not installed.
set -u -o pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 PGLIFT_EXE CLUSTER_EXAMPLE_EXE" >&2
  exit 2
fi
PGLIFT=$(realpath "$1")
CLUSTER_EXAMPLE=$(realpath "$2")  # examples/cpp/cluster_example.cpp, the README's C++ example
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_unprivileged
require_patroni_and_etcd
# shellcheck source=../../scripts/ha-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/ha-lib.sh"

PREFIX=$(mktemp -d)
SCRATCH=$PREFIX/transcript  # our own files, apart from what pglift creates
mkdir -p "$SCRATCH" "$SCRATCH/config" "$SCRATCH/xdg"
ETCD_PID=
FOLLOW_PID=

# --- cleanup: whatever happened, no Patroni, postgres or etcd survives, the prefix goes --------------------

# Patroni daemons started under the prefix (their PID files are in {run_prefix}/patroni), if still running.
our_patronis() { prefix_patronis "$PREFIX"; }

cleanup() {
  if [[ -n $FOLLOW_PID ]]; then kill "$FOLLOW_PID" 2>/dev/null; wait "$FOLLOW_PID" 2>/dev/null; fi
  stop_postmasters  # Patroni, then postgres, then anything else under the prefix
  if [[ -n $ETCD_PID ]]; then kill "$ETCD_PID" 2>/dev/null; wait "$ETCD_PID" 2>/dev/null; fi
  rm -rf "$PREFIX"
}
trap cleanup EXIT

# --- etcd: private, on free loopback ports, with fast elections --------------------------------------------

# A private etcd on free loopback ports, with fast elections (scripts/ha-lib.sh: clean environment,
# readiness polled finely, failing fast with its log if it exits).
start_etcd "$SCRATCH/etcd" || { echo "FAIL: etcd did not start" >&2; exit 1; }
ETCD_URL=http://$ETCD_ENDPOINT
ETCD_PORT=${ETCD_ENDPOINT##*:}

# Keys of the cluster in the DCS (Patroni's default namespace /service).
dcs_keys() {
  env -i ETCDCTL_API=3 /usr/bin/etcdctl --endpoints="$ETCD_URL" get --prefix --keys-only "/service/$CLUSTER/" 2>&1 |
    sed '/^$/d'
}

# --- environment: only this prefix counts -------------------------------------------------------------

for var in $(compgen -e); do
  case $var in PG* | PSQL* | PATRONI* | ETCD*) unset "$var" ;; esac  # PG* takes PGLIFT_* too
done
# Short Patroni loops, as in the library's functional tests: elections and reloads within seconds.
export SETTINGS="{\"prefix\": \"$PREFIX\", \"run_prefix\": \"$PREFIX/run\", \"patroni\": {
  \"etcd\": {\"hosts\": [\"127.0.0.1:$ETCD_PORT\"]}, \"loop_wait\": 2, \"ttl\": 10, \"retry_timeout\": 3,
  \"create_timeout\": 120}}"
export PGLIFT_CONFIG_DIR=$SCRATCH/config  # exclusive when set: /etc/pglift is not read
export XDG_CONFIG_HOME=$SCRATCH/xdg

# "leader=pg1 members=pg1,pg2 paused=False" from `instance get -o json`.
topology() {
  json_summary '"leader=%s members=%s paused=%s" % (
    ",".join(m["name"] for m in d["patroni"]["cluster_members"] if m["role"] == "leader"),
    ",".join(sorted(m["name"] for m in d["patroni"]["cluster_members"])),
    d["patroni"].get("is_paused"))'
}

# wait_healthy_replica NAME: until `instance get` shows NAME as a streaming replica with a known lag (a demoted
# leader rejoins the cluster a few seconds after a switchover), at most 60 s.
wait_healthy_replica() {
  local name=$1 state
  for _ in $(seq 120); do
    state=$(timeout 60 "$PGLIFT" instance get "$name" -o json 2>/dev/null | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join("%s/%s/%s" % (m["role"], m["state"], type(m.get("lag")).__name__)
               for m in d["patroni"]["cluster_members"] if m["name"] == sys.argv[1]))' "$name" 2>/dev/null)
    [[ $state == replica/streaming/int || $state == replica/running/int ]] && return 0
    sleep 0.5
  done
  echo "# $name is not a healthy replica after 60 s: $state"
  return 1
}

# --- the transcript -----------------------------------------------------------------------------------

CLUSTER=cli$RANDOM
PORT1=$(free_port)
PORT2=$(free_port)
API1=127.0.1.1:$(free_port)
API2=127.0.1.2:$(free_port)
echo "# prefix $PREFIX, etcd $ETCD_URL, cluster $CLUSTER"

# The seed's creation of a first node, then of a second one (a replica).
pglift -L INFO instance create pg1 --port "$PORT1" --patroni-cluster "$CLUSTER" --patroni-node pg1 \
  --patroni-restapi-connect-address "$API1" --patroni-postgresql-connect-host 127.0.1.1
expect_status 0
expect_stdout ""
expect_match "bootstraps with Patroni" "INFO +pglift\.[a-z.]+ - bootstrapping PostgreSQL with Patroni$" "$ERR"
expect_match "says Patroni created it" "INFO +pglift\.[a-z.]+ - instance 15/pg1 successfully created by Patroni$" "$ERR"
pglift instance create pg2 --port "$PORT2" --patroni-cluster "$CLUSTER" --patroni-node pg2 \
  --patroni-restapi-connect-address "$API2" --patroni-restapi-listen "$API2" \
  --patroni-postgresql-connect-host 127.0.1.2
expect_status 0
expect_stdout ""

pglift instance status pg1
expect_status 0
expect_stdout "PostgreSQL: running
Patroni API: running
DCS: ok"

pglift instance get pg1 -o json
expect_status 0
expect_equal "describes the member" "cluster=$CLUSTER node=pg1 connect_address=$API1 connect_host=127.0.1.1" \
  "$(json_summary '"cluster=%s node=%s connect_address=%s connect_host=%s" % (d["patroni"]["cluster"],
    d["patroni"]["node"], d["patroni"]["restapi"]["connect_address"], d["patroni"]["postgresql"]["connect_host"])')"
expect_equal "lists both members, pg1 leading" "leader=pg1 members=pg1,pg2 paused=False" "$(topology)"

# --- cluster: `patroni topology`, a table and Cluster::to_json; `patroni restart` and `reinit` ---
wait_healthy_replica pg2
pglift patroni -i pg1 topology
expect_status 0
expect_match "names the cluster and its leader" "^cluster $CLUSTER: leader pg1\$" "$OUT"
expect_match "has a header" '^name +host +role +state +timeline +lag +health$' "$OUT"
expect_match "shows the leader" '^pg1 +127\.0\.1\.1:[0-9]+ +leader +running +1 +leader$' "$OUT"
expect_match "shows the replica streaming" '^pg2 +127\.0\.1\.2:[0-9]+ +replica +(streaming|running) +1 +[0-9]+ +streaming$' "$OUT"
pglift patroni -i pg2 topology -o json
expect_status 0
expect_equal "gives the cluster as JSON" "name=$CLUSTER leader=pg1 members=pg1,pg2 paused=False source=rest local=15/pg2" \
  "$(json_summary '"name=%s leader=%s members=%s paused=%s source=%s local=%s" % (d["name"], d["leader"],
    ",".join(sorted(m["name"] for m in d["members"])), d["paused"], d["source"], d["local_member"])')"
pglift -L INFO patroni -i pg1 restart --member pg2
expect_status 0
expect_stdout ""
expect_match "restarts pg2 through its Patroni" "INFO +pglift\.[a-z.]+ - restarting Patroni 15-pg2\$" "$ERR"
pglift patroni -i pg1 restart --member nosuch
expect_status 1
expect_match "names the unknown member" "^Error: .*'nosuch'.*not a member of cluster '$CLUSTER'" "$ERR"
pglift patroni -i pg2 reinit pg1
expect_status 1
expect_match "refuses the leader" "^Error: member 'pg1' is the leader of cluster '$CLUSTER'" "$ERR"
pglift -L INFO patroni -i pg1 reinit pg2
expect_status 0
expect_stdout ""
expect_match "says it streams again" "INFO +pglift\.[a-z.]+ - member 'pg2' reinitialized: it streams from the leader\$" "$ERR"
# --- end cluster ---

pglift instance env pg2
expect_status 0
expect_match "names the cluster" "^PATRONI_SCOPE=$CLUSTER\$" "$OUT"
expect_match "names the node" '^PATRONI_NAME=pg2$' "$OUT"
expect_match "names patronictl's configuration" '^PATRONICTL_CONFIG_FILE=/.*\.yaml$' "$OUT"

# patronictl in the instance's environment reads the member's YAML, and so the REST API's credentials
# (generated: the site gives none) that POST /reload needs.
pglift instance exec pg2 -- patronictl reload "$CLUSTER" pg1 pg2 --force
expect_status 0
expect_match "reloads pg1 through its REST API" '^Reload request received for member pg1 ' "$OUT"
expect_match "reloads pg2 through its REST API" '^Reload request received for member pg2 ' "$OUT"
expect_no_match "is never refused" 'Failed' "$OUT"
pglift instance exec pg1 -- patronictl topology
expect_status 0
expect_match "shows the leader" "^\| pg1 .*\| Leader " "$OUT"
expect_match "shows the replica under it" "^\| \+ pg2 .*\| Replica " "$OUT"

# Patroni logs, and following them (Patroni logs a line every loop_wait).
pglift patroni -i pg1 logs
expect_status 0
expect_match "prints Patroni's log" 'INFO: .*pg1' "$OUT"
COMMAND="pglift patroni -i pg1 logs --follow, then SIGTERM"
"$PGLIFT" patroni -i pg1 logs --follow </dev/null >"$SCRATCH/follow" 2>"$SCRATCH/stderr" &
FOLLOW_PID=$!
sleep 1
FIRST_SIZE=$(wc -c <"$SCRATCH/follow")
for _ in $(seq 100); do
  [[ $(wc -c <"$SCRATCH/follow") -gt $FIRST_SIZE ]] && break
  sleep 0.1
done
if kill -0 "$FOLLOW_PID" 2>/dev/null; then pass "$COMMAND: keeps running"; else fail "$COMMAND: keeps running"; fi
if [[ $(wc -c <"$SCRATCH/follow") -gt $FIRST_SIZE && $FIRST_SIZE -gt 0 ]]; then
  pass "$COMMAND: prints the log, then what is appended"
else
  fail "$COMMAND: prints the log, then what is appended" "size $FIRST_SIZE, then $(wc -c <"$SCRATCH/follow")"
fi
kill -TERM "$FOLLOW_PID" 2>/dev/null
wait "$FOLLOW_PID" 2>/dev/null
FOLLOW_PID=

# A missing log file (moved away while Patroni goes on writing to it).
LOG_FILE=$(find "$PREFIX" -path '*15-pg1/patroni.log' 2>/dev/null | head -n 1)
COMMAND="patroni.log"
if [[ -n $LOG_FILE ]]; then pass "patroni.log of pg1 exists"; else fail "patroni.log of pg1 exists"; fi
if [[ -n $LOG_FILE ]]; then
  mv "$LOG_FILE" "$LOG_FILE.moved"
  pglift patroni -i pg1 logs
  expect_status 1
  expect_equal "says where it looked" "Error: no Patroni logs found at $LOG_FILE" "$ERR"
  mv "$LOG_FILE.moved" "$LOG_FILE"
fi

# Configuration goes to Patroni's YAML and is reloaded through the REST API.
pglift pgconf -i pg1 set work_mem=8MB
expect_status 0
expect_stdout ""
expect_match "reports the change" '^work_mem: .* -> 8MB$' "$ERR"
pglift pgconf -i pg1 show work_mem
expect_status 0
expect_stdout "work_mem = '8MB'"
pglift instance exec pg1 -- psql -tAc 'show work_mem'
expect_status 0
expect_stdout "8MB"
# --- pgconf (wt-pgconf): pgconf edit on a member: the YAML's parameters only, never Patroni's own ------
cat >"$SCRATCH/edit.sh" <<'SCRIPT'
#!/bin/sh
cp "$1" "$EDIT_SEEN"
sed -i -e 's/^work_mem = .*/work_mem = '"'"'12MB'"'"'/' "$1"
SCRIPT
export EDIT_SEEN=$SCRATCH/edit.seen
EDITOR="sh $SCRATCH/edit.sh" pglift -L INFO --non-interactive pgconf -i pg1 edit
expect_status 0
expect_match "reports the change" '^work_mem: 8MB -> 12MB$' "$ERR"
expect_match "says what is reloaded" "INFO +pglift\.[a-z.]+ - instance 15/pg1 needs reload due to parameter changes: work_mem\$" "$ERR"
expect_no_match "shows no Patroni-injected parameter" '^(hba_file|ident_file|listen_addresses|port|primary_conninfo|recovery_target) ' "$(cat "$EDIT_SEEN")"
pglift instance exec pg1 -- psql -tAc 'show work_mem'
expect_stdout "12MB"
EDITOR=true pglift pgconf -i pg1 edit
expect_status 0
expect_equal "an unchanged text changes nothing" "no change" "$ERR"
# --- end pgconf ---

# Issue 11's "done when" on this Patroni leader (tests/cli/lib.sh): pgconf edit with a restart, set, roles, databases.
daily_work pg1

# Topology changes.
pglift -L INFO patroni -i pg1 switchover --candidate pg2
expect_status 0
expect_stdout "switchover to pg2 done (previous leader: pg1)"
pglift instance get pg1 -o json
expect_equal "sees pg2 leading" "leader=pg2 members=pg1,pg2 paused=False" "$(topology)"

pglift patroni -i pg1 pause
expect_status 0
expect_stdout ""
pglift instance get pg2 -o json
expect_equal "sees the cluster paused" "leader=pg2 members=pg1,pg2 paused=True" "$(topology)"
# --- cluster ---
pglift patroni -i pg1 topology
expect_status 0
expect_match "says the cluster is paused" "^cluster $CLUSTER: leader pg2, paused\$" "$OUT"
# --- end cluster ---
pglift patroni -i pg1 resume
expect_status 0
expect_stdout ""
pglift instance get pg2 -o json
expect_equal "sees the cluster resumed" "leader=pg2 members=pg1,pg2 paused=False" "$(topology)"

wait_healthy_replica pg1
pglift patroni -i pg2 failover --candidate pg1
expect_status 0
expect_stdout "failover to pg1 done (previous leader: pg2)"

wait_healthy_replica pg2
pglift instance promote pg2
expect_status 0
expect_stdout ""
pglift instance get pg1 -o json
expect_equal "sees the promoted member leading" "leader=pg2 members=pg1,pg2 paused=False" "$(topology)"

# The README's C++ example (examples/cpp/cluster_example.cpp): PatroniConfig loaded, a parameter set,
# validated, saved and reloaded; a Cluster switched over with use_awaitable. Twice, so that pg2 leads after.
wait_healthy_replica pg1
run_example() {
  COMMAND="cluster_example $*"
  timeout 120 "$CLUSTER_EXAMPLE" "$@" </dev/null >"$SCRATCH/stdout" 2>"$SCRATCH/stderr"
  STATUS=$?
  OUT=$(cat "$SCRATCH/stdout")
  ERR=$(cat "$SCRATCH/stderr")
  printf '$ %s\n%s\n' "$COMMAND" "$OUT"
}
run_example pg2 work_mem=6MB pg1
expect_status 0
expect_match "the example set the parameter" "^set work_mem = 6MB in $CLUSTER/pg2$" "$OUT"
expect_match "the example switched over" "^switched over: pg2 -> pg1$" "$OUT"
expect_match "the refreshed Cluster shows the new leader" "^leader now: pg1$" "$OUT"
pglift instance get pg1 -o json
expect_equal "sees pg1 leading after the example" "leader=pg1 members=pg1,pg2 paused=False" "$(topology)"
expect_match "pg2's YAML holds the new value" "work_mem: .?6MB" "$(cat "$PREFIX/etc/patroni/15-pg2.yaml")"
wait_healthy_replica pg2
run_example pg1 work_mem=7MB
expect_status 0
expect_match "the example switched back" "^switched over: pg1 -> pg2$" "$OUT"
run_example pg1 work_mem=-1MB
expect_status 1
expect_match "an invalid value is refused, naming the parameter" "work_mem" "$ERR"
pglift instance get pg1 -o json
expect_equal "pg2 leads again" "leader=pg2 members=pg1,pg2 paused=False" "$(topology)"

pglift patroni -i pg2 switchover --candidate nosuch
expect_status 1
expect_match "names the unknown candidate" '^Error: .*nosuch' "$ERR"

# Stopping a member stops its Patroni: both lines say so, exit 3.
pglift instance stop pg1
expect_status 0
pglift instance status pg1
expect_status 3
expect_stdout "PostgreSQL: not running
Patroni API: not running
DCS: ok"
pglift role -i pg1 list
expect_status 1
expect_match "a stopped member is not started for a role operation" "is not running: start it first \(a Patroni member is not started" "$ERR"
pglift instance start pg1
expect_status 0
pglift instance status pg1
expect_status 0

wait_healthy_replica pg1
SCHEDULED_AT=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%S+00:00)
pglift patroni -i pg2 switchover --candidate pg1 --scheduled-at "$SCHEDULED_AT"
expect_status 0
expect_stdout "switchover scheduled at $SCHEDULED_AT"

# Dropping the replica, then the last member with its cluster's keys.
pglift --non-interactive instance drop pg2
expect_status 0
expect_stdout ""
COMMAND="etcd"
if [[ -n $(dcs_keys) ]]; then pass "etcd: the cluster has keys"; else fail "etcd: the cluster has keys"; fi
# The DCS lost: status names it (exit 3), get warns and carries the error, a drop cannot tell whether
# pg1 is the last member: refused without a prompt, never "the last member".
stop_etcd
pglift instance status pg1
expect_status 3
expect_match "names the lost DCS" '^DCS: unreachable \(etcd at ' "$OUT"
pglift instance get pg1 -o json
expect_status 0
expect_equal "carries the DCS error" "True" "$(json_summary '"dcs_error" in d["patroni"]')"
expect_match "warns of the lost DCS" "WARNING +pglift\.patroni - the DCS of cluster '$CLUSTER' cannot be reached" "$ERR"
pglift --non-interactive instance drop pg1
expect_status 1
expect_match "refuses without the DCS" "cannot tell whether 'pg1' is the last member" "$ERR"
expect_no_match "never claims the last member" "appears to be the last member" "$ERR"
start_etcd "$SCRATCH/etcd" "$ETCD_PORT" "$ETCD_PEER_PORT" || { echo "FAIL: etcd did not restart" >&2; exit 1; }

pglift --non-interactive instance drop pg1 --remove-cluster
expect_status 0
expect_stdout ""
expect_match "saves the last member's configuration" "WARNING +pglift\.[a-z.]+ - 'pg1' appears to be the last member of cluster '$CLUSTER'" "$ERR"
COMMAND="after drop --remove-cluster"
expect_equal "the cluster has no keys in etcd" "" "$(dcs_keys)"
expect_equal "no Patroni process" "" "$(our_patronis)"
expect_equal "no postgres process" "" "$(our_postmasters)"
pglift instance list -o json
expect_status 0
expect_stdout "[]"

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
