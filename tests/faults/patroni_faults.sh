#!/usr/bin/env bash
# Fault tests of Patroni members (issue 14), each on its own private etcd and prefix: Patroni cannot start
# (wrong bin_dir, REST port taken, etcd down, etcd stopped mid-bootstrap), a hung REST API, SIGKILL of
# Patroni during a replica clone, SIGKILL of the leader, etcd stopped mid-switchover and mid-drop.
# Members listen on 127.0.1.1 and 127.0.1.2 (Linux routes all of 127/8 to lo).
# Usage: patroni_faults.sh PGLIFT_EXE CASE   (as an unprivileged user; PostgreSQL 15, /usr/bin/patroni, etcd)
# Exit status 77 (meson's "skipped") when Patroni or etcd is not installed.
set -u -o pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fault_args "PGLIFT_EXE CASE" "$@"
require_patroni_and_etcd
fault_begin
CLUSTER=fault$RANDOM
TTL=10
LOOP_WAIT=2
echo "# case $CASE, prefix $PREFIX, cluster $CLUSTER"

# create_member_in_background NAME N: the same, in the background (BG_PID; BG_OUT/BG_ERR its output).
create_member_in_background() {
  local name=$1 n=$2
  local api
  api=127.0.1.$n:$(free_port)
  printf -v "API_$name" '%s' "$api"
  BG_T0=$(now_ms)
  COMMAND="pglift instance create $name (in the background)"
  "$PGLIFT" -L INFO instance create "$name" --port "$(free_port)" --patroni-cluster "$CLUSTER" --patroni-node "$name" \
    --patroni-restapi-connect-address "$api" --patroni-restapi-listen "$api" \
    --patroni-postgresql-connect-host "127.0.1.$n" </dev/null >"$SCRATCH/bg.stdout" 2>"$SCRATCH/bg.stderr" &
  BG_PID=$!
}

# in_background [-L LEVEL] ARGS...: pglift in the background (BG_PID), with the environment as it is.
in_background() {
  BG_T0=$(now_ms)
  COMMAND="pglift $* (in the background)"
  "$PGLIFT" "$@" </dev/null >"$SCRATCH/bg.stdout" 2>"$SCRATCH/bg.stderr" &
  BG_PID=$!
}

# wait_background: waits for BG_PID (bounded by the caller's timeout), STATUS/OUT/ERR/ELAPSED_MS as pglift.
wait_background() {
  wait "$BG_PID"
  STATUS=$?
  ELAPSED_MS=$(($(now_ms) - BG_T0))
  OUT=$(cat "$SCRATCH/bg.stdout")
  ERR=$(cat "$SCRATCH/bg.stderr")
  BG_PID=
}

# wait_for SECONDS REASON COMMAND...: polls COMMAND every 20 ms until it succeeds; fails the test (with
# the background command's stderr) at the deadline or when the background command exited.
wait_for() {
  local seconds=$1 reason=$2 deadline
  shift 2
  deadline=$(($(now_ms) + seconds * 1000))
  while ! "$@"; do
    if (($(now_ms) > deadline)); then
      fail "$reason within $seconds s" "$(tail -n 15 "$SCRATCH/bg.stderr" 2>/dev/null)"
      return 1
    fi
    if [[ -n ${BG_PID:-} ]] && ! kill -0 "$BG_PID" 2>/dev/null; then
      fail "$reason before the command exited" "$(tail -n 15 "$SCRATCH/bg.stderr" 2>/dev/null)"
      return 1
    fi
    sleep 0.02
  done
}

# "leader=pg1 members=pg1,pg2" from `instance get NAME -o json` (empty when it fails).
topology_of() {
  timeout 30 "$PGLIFT" instance get "$1" -o json 2>/dev/null </dev/null | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
ms = d["patroni"]["cluster_members"]
print("leader=%s members=%s" % (",".join(m["name"] for m in ms if m["role"] == "leader"),
                               ",".join(sorted(m["name"] for m in ms))))' 2>/dev/null
}

# streaming NAME FROM: `instance get FROM` shows NAME as a replica that streams, its lag known (Patroni
# 3.0.2 says "running" where later versions say "streaming").
streaming() {
  local state
  state=$(timeout 30 "$PGLIFT" instance get "$2" -o json 2>/dev/null </dev/null | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join("%s/%s/%s" % (m["role"], m["state"], type(m.get("lag")).__name__)
               for m in d["patroni"]["cluster_members"] if m["name"] == sys.argv[1]))' "$1" 2>/dev/null)
  [[ $state == replica/streaming/int || $state == replica/running/int ]]
}

# The supervisor's PID is in the pid file; Patroni is its child.
supervisor_pid() { cat "$PREFIX/run/patroni/15-$1.pid" 2>/dev/null; }
patroni_pid() {
  local sup
  sup=$(supervisor_pid "$1") && [[ -n $sup ]] && pgrep -P "$sup" -f patroni | head -n 1
}
postmaster_pid() { head -n 1 "$PREFIX/srv/pgsql/15/$1/data/postmaster.pid" 2>/dev/null; }

# Predicates for wait_for.
has_dcs_key() { dcs_keys "$CLUSTER" | grep -q -- "$1"; }
no_dcs_key() { ! has_dcs_key "$1"; }
topology_is() { [[ $(topology_of "$1") == "$2" ]]; }
leads() { [[ $(topology_of "$1") == "leader=$1 "* ]]; }
has_one_leader_of_two() { [[ $(topology_of "$1") =~ ^leader=pg[12]\ members=pg1,pg2$ ]]; }
basebackup_runs() { pgrep -u "$(id -u)" -f "pg_basebackup.*$PREFIX/srv/pgsql/15/$1" >/dev/null; }

expect_no_dcs_keys() { expect_equal "leaves no key of cluster $CLUSTER in etcd" "" "$(dcs_keys "$CLUSTER")"; }

# --- Patroni cannot start -------------------------------------------------------------------------------

# bin_dir without PostgreSQL's programs (only a pg_ctl, which makes the version known): create fails
# before any daemon starts, naming the directory; nothing is left, in etcd neither.
wrong_bindir() {
  fault_etcd
  mkdir -p "$SCRATCH/bin"
  ln -s /usr/lib/postgresql/15/bin/pg_ctl "$SCRATCH/bin/pg_ctl"
  fault_settings "\"postgresql\": {\"versions\": [{\"version\": \"15\", \"bindir\": \"$SCRATCH/bin\"}]},
    \"patroni\": {\"etcd\": {\"hosts\": [\"$ETCD_ENDPOINT\"]}, \"loop_wait\": 2, \"ttl\": 10, \"retry_timeout\": 3,
    \"create_timeout\": 30}"
  create_member pg1 1
  expect_status 1
  expect_within 40
  expect_match "names the bin_dir" "$SCRATCH/bin" "$ERR"
  expect_nothing_running
  expect_no_files pg1
  expect_no_dcs_keys
  # Every program there, but a postgres that cannot run: Patroni starts and fails its bootstrap (initdb
  # runs postgres). create fails as soon as Patroni gives up, with its log, well before its deadline.
  local program
  for program in /usr/lib/postgresql/15/bin/*; do ln -sf "$program" "$SCRATCH/bin/"; done
  rm "$SCRATCH/bin/postgres"
  printf '#!/bin/sh\necho "postgres: cannot run (a fault test)" >&2\nexit 1\n' >"$SCRATCH/bin/postgres"
  chmod +x "$SCRATCH/bin/postgres"
  create_member pg1 1
  expect_status 1
  expect_within 25
  expect_match "shows Patroni's log" 'patroni' "$ERR"
  expect_nothing_running
  expect_no_files pg1
  expect_no_dcs_keys
}

# The REST API's port is taken: refused before anything is written or started, naming the address.
rest_port_taken() {
  fault_etcd
  patroni_settings
  local port
  port=$(free_port)
  listen_on "$port" 127.0.1.1
  pglift -L INFO instance create pg1 --port "$(free_port)" --patroni-cluster "$CLUSTER" --patroni-node pg1 \
    --patroni-restapi-connect-address "127.0.1.1:$port" --patroni-restapi-listen "127.0.1.1:$port" \
    --patroni-postgresql-connect-host 127.0.1.1
  expect_status 1
  expect_within 10
  expect_match "names the address" "127\.0\.1\.1:$port" "$ERR"
  expect_nothing_running
  expect_no_files pg1
  expect_no_dcs_keys
}

# etcd is down (nothing listens on its port): refused at once, naming etcd's address; nothing is left.
etcd_down() {
  local port
  port=$(free_port)
  patroni_settings "127.0.0.1:$port"
  create_member pg1 1
  expect_status 1
  expect_within 15
  expect_match "says etcd is unreachable, and where" "etcd is not reachable at 127\.0\.0\.1:$port" "$ERR"
  expect_nothing_running
  expect_no_files pg1
}

# etcd stops once Patroni took the cluster's `initialize` key: create fails within its deadline, stops
# Patroni and PostgreSQL, removes the files, and says what it could not remove from the DCS. With etcd
# back, the keys left are only those it named.
etcd_stopped_mid_bootstrap() {
  fault_etcd
  fault_settings "\"patroni\": {\"etcd\": {\"hosts\": [\"$ETCD_ENDPOINT\"]}, \"loop_wait\": 2, \"ttl\": 10,
    \"retry_timeout\": 3, \"create_timeout\": 20}"
  create_member_in_background pg1 1
  wait_for 30 "Patroni takes the initialize key" has_dcs_key initialize || return
  stop_etcd
  wait_background
  expect_status 1
  expect_within 45
  expect_match "says what failed" 'etcd|DCS|Patroni' "$ERR"
  expect_nothing_running
  expect_no_files pg1
  restart_etcd
  local keys
  keys=$(dcs_keys "$CLUSTER")
  echo "# keys left in etcd: ${keys//$'\n'/ }"
  if [[ -z $keys ]]; then
    pass "leaves no key in etcd"
  else
    expect_match "reports that the DCS could not be cleaned up" 'could not clean the DCS up' "$ERR"
  fi
}

# --- a hung REST API --------------------------------------------------------------------------------------

# Patroni stopped (SIGSTOP): its socket accepts and never answers. `instance get` and `status` end within
# bounds, naming the member; once Patroni goes on, the member is intact.
rest_api_hangs() {
  fault_etcd
  patroni_settings
  create_member pg1 1
  expect_status 0
  local pid
  pid=$(patroni_pid pg1)
  kill -STOP "$pid"
  EXTRA_PIDS+=("$pid")  # continued at exit whatever happens
  # Observing: what can be known is shown, with a warning naming the member whose API does not answer.
  pglift instance get pg1
  expect_within 15
  expect_status 0
  expect_match "warns that the API of the member does not answer" "WARNING .*Patroni 15-pg1 runs, but its REST API does not answer" "$ERR"
  pglift instance status pg1
  expect_within 15
  echo "# status: exit $STATUS: ${OUT//$'\n'/ | } | ${ERR//$'\n'/ | }"
  # Acting through the API: a Timeout naming the member.
  pglift instance reload pg1
  expect_within 20
  expect_status 1
  expect_match "says it timed out" '[Tt]ime(d )?out|timed out' "$ERR"
  expect_match "names the member" 'pg1' "$ERR"
  kill -CONT "$pid"
  unset 'EXTRA_PIDS[-1]'
  wait_for 30 "pg1 leads again" topology_is pg1 "leader=pg1 members=pg1"
  expect_running pg1
}

# --- SIGKILL ------------------------------------------------------------------------------------------

# Patroni of a new replica is SIGKILLed while pg_basebackup clones the leader: create fails at once (no
# wait for its deadline), nothing of pg2 is left (processes, files, its member key, its slot); the leader
# is intact.
kill_during_clone() {
  fault_etcd
  patroni_settings
  create_member pg1 1
  expect_status 0
  # Enough data for the clone to last a moment.
  pglift instance exec pg1 -- psql -qc 'CREATE TABLE filler AS SELECT g, repeat(md5(g::text), 4) AS t FROM generate_series(1, 300000) g'
  expect_status 0
  create_member_in_background pg2 2
  wait_for 60 "pg_basebackup of pg2 runs" basebackup_runs pg2 || return
  local pid
  pid=$(patroni_pid pg2)
  kill -KILL "$pid"
  wait_background
  expect_status 1
  expect_within 30
  expect_match "says Patroni exited" '[Pp]atroni' "$ERR"
  expect_equal "leaves no process of pg2" "" "$(prefix_processes | grep -E 'pg2|15-pg2' || true)"
  expect_no_files pg2
  wait_for 15 "pg2 leaves the DCS" no_dcs_key members/pg2
  expect_equal "pg1 leads alone" "leader=pg1 members=pg1" "$(topology_of pg1)"
  pglift instance exec pg1 -- psql -tAc 'SELECT count(*) FROM pg_replication_slots'
  expect_equal "no slot is left on the leader" "0" "$OUT"
  expect_running pg1
}

# A private etcd, then pg1 (the leader) and pg2 (its replica) created on it, each create's status checked.
two_members() {
  fault_etcd
  patroni_settings
  create_member pg1 1
  expect_status 0
  create_member pg2 2
  expect_status 0
}

# The leader's Patroni and postmaster are SIGKILLed: `instance get` on the replica reports it as the new
# leader within ttl + loop_wait.
kill_leader() {
  two_members
  wait_for 60 "pg2 streams" streaming pg2 pg1 || return
  local t0 elapsed
  t0=$(now_ms)
  kill -KILL "$(patroni_pid pg1)" "$(postmaster_pid pg1)"
  COMMAND="SIGKILL of pg1's Patroni and postmaster, then pglift instance get pg2"
  wait_for $((TTL + LOOP_WAIT + 10)) "pg2 reports itself the leader" leads pg2
  elapsed=$(($(now_ms) - t0))
  if ((elapsed <= (TTL + LOOP_WAIT) * 1000)); then pass "$COMMAND: pg2 leads within ttl + loop_wait (${elapsed} ms)"
  else fail "$COMMAND: pg2 leads within ttl + loop_wait ($((TTL + LOOP_WAIT)) s)" "took ${elapsed} ms"; fi
  pglift instance get pg2 -o json
  expect_status 0
}

# SIGKILL of the leader's pglift-supervisor alone (the process that fences PostgreSQL when Patroni dies):
# Patroni, its child, gets SIGTERM from the kernel (PR_SET_PDEATHSIG), stops PostgreSQL cleanly and
# releases the leader key. The documented outcome: pg2 leads well within ttl (no key to wait out), pg1 is
# left stopped (no Patroni, no postmaster: never a primary without its fence), and `instance start pg1`
# brings it back as pg2's replica.
kill_supervisor() {
  two_members
  wait_for 60 "pg2 streams" streaming pg2 pg1 || return
  local t0 elapsed patroni postmaster
  patroni=$(patroni_pid pg1)
  postmaster=$(postmaster_pid pg1)
  t0=$(now_ms)
  kill -KILL "$(supervisor_pid pg1)"
  COMMAND="SIGKILL of pg1's supervisor, then pglift instance get pg2"
  wait_for $((TTL + LOOP_WAIT + 10)) "pg2 reports itself the leader" leads pg2 || return
  elapsed=$(($(now_ms) - t0))
  if ((elapsed < TTL * 1000)); then pass "$COMMAND: pg2 leads within ttl, the key released (${elapsed} ms)"
  else fail "$COMMAND: pg2 leads within ttl (the key released, not expired)" "took ${elapsed} ms"; fi
  wait_for 30 "pg1's Patroni and postmaster end" gone "$patroni" "$postmaster" || return
  pass "pg1's Patroni (PID $patroni) and postmaster (PID $postmaster) ended"
  pglift instance start pg1
  expect_status 0
  wait_for 60 "pg1 streams from pg2" streaming pg1 pg2
}
gone() { ! kill -0 "$1" 2>/dev/null && ! kill -0 "$2" 2>/dev/null; }

# --- etcd stops mid-operation ----------------------------------------------------------------------------

# etcd stops once the switchover has checked the candidate, before it asks Patroni: a bounded failure that
# says why; with etcd back, the cluster has one leader and its replica streams (nothing half-done).
etcd_mid_switchover() {
  two_members
  wait_for 60 "pg2 streams" streaming pg2 pg1 || return
  LIBPGLIFT_TEST_HOOKS=switchover.requesting=sleep:2000 in_background -L DEBUG patroni -i pg1 switchover --candidate pg2
  wait_for 60 "the switchover reaches its request" grep -q 'test hook switchover.requesting' "$SCRATCH/bg.stderr" || return
  stop_etcd
  wait_background
  echo "# ${ERR//$'\n'/ | }" | cut -c1-600
  expect_status 1
  expect_within 90
  expect_match "says why" 'etcd|DCS|switchover' "$ERR"
  restart_etcd
  wait_for 60 "the cluster has a leader again" has_one_leader_of_two pg1 || return
  local leader other
  leader=$(topology_of pg1)
  leader=${leader#leader=}
  leader=${leader%% *}
  other=pg1
  [[ $leader == pg1 ]] && other=pg2
  wait_for 60 "$other streams from $leader" streaming "$other" "$leader"
  expect_running pg1
  expect_running pg2
}

# etcd stops once the drop of a replica has asked the DCS who else is alive: the drop completes within
# bounds and warns that it could not remove the member's key; no process and no file of pg2 is left; with
# etcd back, pg2's key goes with its lease (ttl), the leader is intact.
etcd_mid_drop() {
  two_members
  LIBPGLIFT_TEST_HOOKS=drop.dcs_checked=sleep:2000 in_background -L DEBUG --non-interactive instance drop pg2
  wait_for 60 "the drop has asked the DCS" grep -q 'test hook drop.dcs_checked' "$SCRATCH/bg.stderr" || return
  stop_etcd
  wait_background
  # Who else is alive was known before etcd went: the drop goes on, and says what it could not do.
  expect_status 0
  expect_within 60
  expect_match "says what it could not do" "WARNING .*could not remove member 'pg2' from the DCS" "$ERR"
  expect_equal "leaves no process of pg2" "" "$(prefix_processes | grep -E 'pg2|15-pg2' || true)"
  expect_no_files pg2
  restart_etcd
  wait_for $((TTL + 20)) "pg2 leaves the DCS" no_dcs_key members/pg2
  wait_for 30 "pg1 leads alone" topology_is pg1 "leader=pg1 members=pg1"
  expect_running pg1
}

case $CASE in
  wrong-bindir) wrong_bindir ;;
  rest-port-taken) rest_port_taken ;;
  etcd-down) etcd_down ;;
  etcd-stopped-mid-bootstrap) etcd_stopped_mid_bootstrap ;;
  rest-api-hangs) rest_api_hangs ;;
  kill-during-clone) kill_during_clone ;;
  kill-leader) kill_leader ;;
  kill-supervisor) kill_supervisor ;;
  etcd-mid-switchover) etcd_mid_switchover ;;
  etcd-mid-drop) etcd_mid_drop ;;
  *) echo "unknown case $CASE" >&2; exit 2 ;;
esac
fault_end
