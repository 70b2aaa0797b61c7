#!/usr/bin/env bash
# The hosts suite's main scenarios, on three simulated hosts (tests/hosts/lib.sh), run as ROOT:
#   1. three members created with no address option;  2. a row written on the leader, read on both
#   replicas;  3. switchover across hosts;  4. kill -9 of the leader host's Patroni and postmaster, then
#   rejoin with `instance start`;  5. partition of the leader's host with a writer probe on every member
#   (never more than one writer; the isolated leader's read-only time, the new leader's, the rejoin;
#   what Patroni's own rewind discarded, recorded);  5b. the same with the refuse policy on the leader
#   (the rewind refused, the member kept out, then `start --accept-data-loss`);  6. loss of one etcd member (work goes on) and of two (no failover, `get` names the DCS error).
# Figures go to FIGURES_JSON.   Usage (root): ha.sh PGLIFT_EXE WRITER_PROBE FIGURES_JSON
set -u -o pipefail
# shellcheck disable=SC2034 # both used by lib.sh
PGLIFT=$(realpath "$1") PROBE=$(realpath "$2")
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rm -f "$3"
hosts_begin "$(realpath -m "$3")"

other_hosts() { local h; for h in "${HOSTS[@]}"; do [[ $h == "$1" || $h == "${2:-}" ]] || echo "$h"; done; }
# all_stream LEADER SECONDS: LEADER leads and every other member streams from it within SECONDS.
# shellcheck disable=SC2046
all_stream() { wait_streaming "$1" "$2" $(other_hosts "$1"); }
# rejoined OLD NEW SECONDS: OLD streams from NEW within SECONDS.
rejoined() { wait_streaming "$2" "$3" "$1"; }

# ------------------------------------------------------------------------------------------------------
section "1. three members, no address options (joining with: $HOSTS_JOIN_WITH)"
for h in "${HOSTS[@]}"; do
  create_member "$h" || { fail "create the member on $h (cannot go on without three members)"; hosts_end; }
done
if all_stream h1 60; then
  pass "h1 leads, h2 and h3 stream"
else
  fail_with_logs "h1 leads, h2 and h3 stream" h1 h2 h3
  exit 1
fi
for h in "${HOSTS[@]}"; do
  addresses=$(pglift_on "$h" instance get "$INSTANCE" -o json | python3 -c '
import json, sys
p = json.load(sys.stdin)["patroni"]
print(p["node"], p["postgresql"]["connect_host"], p["restapi"]["connect_address"].rsplit(":", 1)[0])')
  if [[ $addresses == "$h $(host_ip "$h") $(host_ip "$h")" ]]; then
    pass "$h: node name is the host name, addresses are the host's own"
  else
    fail "$h: node name is the host name, addresses are the host's own" "got: $addresses"
  fi
done
for h in "${HOSTS[@]}"; do
  [[ -z $(on_host "$h" ip route show default) ]] || fail "$h has no default route"
done
# No password in the creates' output, nor on any command line of the machine (compared in one Python
# process: a grep would put the password on its own argv).
if python3 - "$(member_yaml h1)" "$T"/h?/log/create.out <<'PY'; then
import glob, sys, yaml
auth = yaml.safe_load(open(sys.argv[1]))["postgresql"]["authentication"]
secrets = [auth[r]["password"].encode() for r in ("superuser", "replication") if auth[r].get("password")]
texts = [open(f, "rb").read() for f in sys.argv[2:]]
for f in glob.glob("/proc/[0-9]*/cmdline"):
    try: texts.append(open(f, "rb").read())
    except OSError: pass
sys.exit(1 if len(secrets) != 2 or any(s in t for s in secrets for t in texts) else 0)
PY
  pass "no password in the creates' output or on any argv"
else
  fail "no password in the creates' output or on any argv"
fi

# ------------------------------------------------------------------------------------------------------
section "2. a row written on the leader is read on both replicas"
psql_on h1 "CREATE TABLE hosts_probe (writer text, seq bigint, at timestamptz DEFAULT clock_timestamp(),
                                      PRIMARY KEY (writer, seq));
            INSERT INTO hosts_probe (writer, seq) VALUES ('replicated', 1)" ||
  fail_with_logs "write a row on the leader h1" h1
for h in h2 h3; do
  deadline=$(($(now_ms) + 15000))
  until [[ $(psql_on "$h" "SELECT count(*) FROM hosts_probe WHERE writer = 'replicated'" 2>/dev/null) == 1 ]]; do
    (($(now_ms) < deadline)) || break
    sleep 0.1
  done
  if (($(now_ms) < deadline)); then pass "the row is read on $h"; else fail_with_logs "the row is read on $h within 15 s" "$h"; fi
done

# ------------------------------------------------------------------------------------------------------
section "3. switchover across hosts: h1 -> h2"
if pglift_on h1 patroni -i "$INSTANCE" switchover --candidate h2 >"$T/h1/log/switchover.out" 2>&1; then
  pass "switchover to h2 returns"
else
  fail "switchover to h2 returns" "$(tail -n 5 "$T/h1/log/switchover.out")"
fi
start=$(now_ms)
if all_stream h2 60; then
  pass "h2 leads, h1 (the former leader, on another host) and h3 stream"
  figure switchover_rejoin_s "$(seconds_between "$start" "$(now_ms)")"
else
  fail_with_logs "h2 leads, h1 (the former leader, on another host) and h3 stream within 60 s" h1 h2
fi

# ------------------------------------------------------------------------------------------------------
section "4. kill -9 of the leader host's Patroni and postmaster, then rejoin"
old=$(leader_host h3) || old=h2
supervisor=$(cat "$T/$old"/p/run/patroni/*.pid 2>/dev/null | head -n 1)
patroni_pid=
for child in $(pgrep -P "$supervisor" 2>/dev/null); do
  tr '\0' ' ' <"/proc/$child/cmdline" | grep -q patroni && patroni_pid=$child
done
postmaster=$(find "$T/$old/p" -name postmaster.pid -exec head -n 1 {} \; -quit)
if [[ -n $patroni_pid && -n $postmaster ]]; then
  t0=$(now_ms)
  kill -9 "$patroni_pid" "$postmaster"
  pass "killed -9 Patroni ($patroni_pid) and the postmaster ($postmaster) of the leader $old"
  watcher=$(other_hosts "$old" | head -n 1)
  new=
  deadline=$((t0 + 40000))
  while (($(now_ms) < deadline)); do
    new=$(leader_host "$watcher") && [[ $new != "$old" ]] && break
    new=
    sleep 0.2
  done
  if [[ -n $new ]]; then
    pass "failover to $new"
    figure failover_after_kill_s "$(seconds_between "$t0" "$(now_ms)")"
  else
    fail_with_logs "failover within 40 s of the kill" "$(other_hosts "$old")"
  fi
  start=$(now_ms)
  pglift_on "$old" --non-interactive instance start "$INSTANCE" >"$T/$old/log/start.out" 2>&1 ||
    fail "instance start on $old" "$(tail -n 10 "$T/$old/log/start.out")"
  if [[ -n $new ]] && rejoined "$old" "$new" 45; then
    pass "the former leader $old rejoins as a streaming replica"
    figure rejoin_after_kill_s "$(seconds_between "$start" "$(now_ms)")"
  else
    figure rejoin_after_kill_s null
    fail_until_join "the former leader $old rejoins as a streaming replica within 45 s of its start" \
      "pg_rewind needs the rewind password, which only --patroni-credentials carries"
    log_lines "$old" 'rewind|password authentication'
  fi
else
  fail "find the leader's Patroni and postmaster on $old" "supervisor=$supervisor patroni=$patroni_pid postmaster=$postmaster"
fi

# ------------------------------------------------------------------------------------------------------
section "5. partition of the leader's host, a writer probe on every member every 50 ms"
leader=$(leader_host "$(other_hosts "" | tail -n 1)") || leader=$(leader_host)
start_probes
wait_first_write "$leader"
streaming_at_cut=" $(streaming_from "$leader") "
t0=$(now_ms)
partition "$leader"
echo "# $leader partitioned at $t0 (streaming from it:${streaming_at_cut% })"
new_writer_after "$leader" "$t0"
if [[ -n $new ]]; then pass "$new takes writes after the partition of $leader"; else
  fail_with_logs "a new leader takes writes within 45 s of the partition" "${HOSTS[@]}"
fi
# Only a member that followed the leader may replace it. Patroni 3.0.2 compares WAL positions across
# timelines: a former leader stuck on its old timeline (its rejoin failed) can look "ahead" and win,
# and everything committed on the leader's timeline since the fork is then lost. Patroni's
# `check_timeline: true` (DCS configuration; patroni/ha.py _is_healthiest_node) excludes such a member.
if [[ -n $new && $streaming_at_cut != *" $new "* ]]; then
  fail "the new leader $new was streaming from $leader when the partition began" \
    "streaming then:${streaming_at_cut% }; $new had not rejoined, yet won the race (Patroni without check_timeline)" \
    "$(log_lines "$new" 'ahead of my wal position|promoted self|Local timeline')" \
    "$(for h in $(other_hosts "$leader" "$new"); do log_lines "$h" 'ahead of my wal position|Local timeline'; done)"
elif [[ -n $new ]]; then
  pass "the new leader $new was streaming from $leader when the partition began"
fi
# The isolated leader: stops writing within ttl (Patroni demotes it), then serves reads.
ro_at=
deadline=$((t0 + 25000))
while (($(now_ms) < deadline)); do
  ro_at=$(first_result_after "$leader" ro "$t0")
  [[ -n $ro_at ]] && break
  sleep 0.1
done
if [[ -n $ro_at ]] && ((ro_at - t0 < 2 * TTL * 1000)); then
  pass "the isolated leader serves reads (read-only) $(seconds_between "$t0" "$ro_at") s after the partition"
else
  fail_until_join "the isolated leader serves reads (read-only) within 2 x ttl of the partition" \
    "partition settings (wal_sender_timeout): it answers 'shutting down' for ~50 s (issue 10, point 3)" \
    "its probe since the partition: $(awk -v t="$t0" '$1 >= t { print $5 }' "$T/$leader/probe.log" | uniq -c | tr -s ' \n' ' ')"
fi
t_heal=$(now_ms)
heal "$leader"
echo "# healed at $t_heal"
if [[ -n $new ]] && rejoined "$leader" "$new" 45; then
  pass "the former leader $leader rejoins after the partition heals"
  figure rejoin_after_heal_s "$(seconds_between "$t_heal" "$(now_ms)")"
else
  figure rejoin_after_heal_s null
  fail_until_join "the former leader $leader rejoins within 45 s of the healing" \
    "pg_rewind fails with 'password authentication failed for user \"rewind\"' (issue 10, point 1)"
  log_lines "$leader" 'rewind|password authentication'
fi
stop_probes

# Never two writers: the spans [first confirmed write, last confirmed write] of the members do not overlap.
cat "$T"/h?/probe.log >"$T/probes.log"
overlap=$(awk '$5 == "ok" { if (!($3 in first)) first[$3] = $1; last[$3] = $2 }
  END { for (a in first) for (b in first) if (a < b && first[a] <= last[b] && first[b] <= last[a])
          print a " [" first[a] "," last[a] "] and " b " [" first[b] "," last[b] "]" }' "$T/probes.log")
if [[ -z $overlap ]]; then pass "never more than one writer"; else fail "never more than one writer" "$overlap"; fi
last_old=$(awk -v w="$leader" '$3 == w && $5 == "ok" { t = $2 } END { print t }' "$T/probes.log")
first_new=
[[ -n $new ]] && first_new=$(first_result_after "$new" ok "$t0")
if [[ -n $last_old ]] && ((last_old - t0 < TTL * 1000)); then
  pass "the isolated leader confirms no write later than ttl after the partition ($(seconds_between "$t0" "$last_old") s)"
else
  fail "the isolated leader confirms no write later than ttl after the partition" "last: $last_old, partition: $t0"
fi
figure partition_last_write_on_isolated_s "$(seconds_between "$t0" "$last_old")"
figure partition_isolated_read_only_s "$(seconds_between "$t0" "$ro_at")"
figure partition_new_leader_write_s "$(seconds_between "$t0" "$first_new")"
figure no_writer_window_s "$(seconds_between "$last_old" "$first_new")"
if [[ -n $new ]]; then
  # Rows lost: confirmed by a probe, absent from the new leader.
  psql_on "$new" "SELECT writer || ' ' || seq FROM hosts_probe" | sort >"$T/kept" &&
    awk '$5 == "ok" { print $3 " " $4 }' "$T/probes.log" | sort >"$T/confirmed" &&
    lost=$(comm -23 "$T/confirmed" "$T/kept" | wc -l) && {
      echo "# confirmed writes: $(wc -l <"$T/confirmed"), lost: $lost"
      figure rows_lost_async "$lost"
    }
fi
# Patroni rewound the former leader by itself (it was running when the partition healed): the launcher's
# hook recorded what that discarded. The site's patroni.automatic_rejoin_discarding_commits is the default
# (rejoin): the member rejoined (above), and get reports the record, with at least the rows lost.
# rejoin_record HOST: "OUTCOME COMMITS" from `instance get -o json` (COMMITS: null when unknown), or "".
rejoin_record() {
  pglift_on "$1" instance get "$INSTANCE" -o json 2>"$T/$1/log/get-rejoin.err" | python3 -c '
import json, sys
r = (json.load(sys.stdin).get("patroni") or {}).get("discarded_on_rejoin")
if r: print(r.get("outcome"), "null" if r.get("commits") is None else r["commits"])'
}
if [[ -n $new && -n ${lost:-} ]]; then
  read -r outcome commits <<<"$(rejoin_record "$leader")"
  if [[ -n ${outcome:-} ]]; then
    echo "# $leader's rejoin record: outcome $outcome, commits $commits; its Patroni log said:"
    log_lines "$leader" "pglift: Patroni.s pg_rewind" | tail -n 1
    figure commits_discarded_on_rejoin "$commits"
  else
    figure commits_discarded_on_rejoin null
  fi
  if ((lost == 0)) && [[ -z ${outcome:-} ]]; then
    pass "no row lost, no rejoin record on $leader"
  elif [[ ${outcome:-} == rejoined && $commits =~ ^[0-9]+$ ]] && ((commits >= lost)); then
    pass "$leader's record names the $commits commits Patroni's rewind discarded (>= the $lost rows the probes lost)"
  else
    fail "$leader's record names the commits Patroni's rewind discarded (>= the $lost rows lost), outcome rejoined" \
      "record: ${outcome:-none} ${commits:-}; $(tail -n 3 "$T/$leader/log/get-rejoin.err" 2>/dev/null)" \
      "$(log_lines "$leader" 'pglift|rewind|diverged')"
  fi
  if grep -q "rejoining at .*committed transaction" "$T/$leader/log/get-rejoin.err" 2>/dev/null ||
    [[ -z ${outcome:-} ]]; then
    pass "get on $leader warns of the discarded commits"
  else
    fail "get on $leader warns of the discarded commits" "$(tail -n 3 "$T/$leader/log/get-rejoin.err")"
  fi
fi

# ------------------------------------------------------------------------------------------------------
section "5b. the same partition with patroni.automatic_rejoin_discarding_commits: refuse on the leader"
# The leader-to-be gets the policy (a site setting, read when Patroni starts: stop, start), leads after a
# switchover, is partitioned with the probes writing, and the partition heals: Patroni's rewind is
# refused, the member stays out, stopped, its WAL kept, the record says why. `instance stop`, then
# `instance start --accept-data-loss` is the way on: that start's accepted range lets the rewind through.
leader=$(leader_host) || leader=h1
target=$(streaming_from "$leader" | tr ' ' '\n' | head -n 1)
[[ -n $target ]] || target=$(other_hosts "$leader" | head -n 1)
write_host_settings "$target" '{"automatic_rejoin_discarding_commits": "refuse"}'
if pglift_on "$target" instance stop "$INSTANCE" >"$T/$target/log/refuse-stop.out" 2>&1 &&
  pglift_on "$target" instance start "$INSTANCE" >"$T/$target/log/refuse-start.out" 2>&1 &&
  rejoined "$target" "$leader" 30 &&
  pglift_on "$leader" patroni -i "$INSTANCE" switchover --candidate "$target" >"$T/$leader/log/switchover-refuse.out" 2>&1 &&
  wait_view "$target" 30 "$target:leader:running" && all_stream "$target" 30; then
  pass "$target, restarted with the refuse policy, leads and every other member streams"
else
  fail_with_logs "$target, restarted with the refuse policy, leads and every other member streams" "$leader" "$target"
fi
leader=$target
psql_on "$leader" "TRUNCATE hosts_probe" >/dev/null  # the probes' numbers start at 1 again
start_probes
wait_first_write "$leader"
t0=$(now_ms)
partition "$leader"
new_writer_after "$leader" "$t0"
if [[ -n $new ]]; then pass "$new takes writes after the partition of $leader"; else
  fail_with_logs "a new leader takes writes within 45 s of the partition" "${HOSTS[@]}"
fi
# Held until the isolated leader is read-only (its last writes are the ones at stake).
deadline=$((t0 + 25000))
until [[ -n $(first_result_after "$leader" ro "$t0") ]] || (($(now_ms) > deadline)); do sleep 0.1; done
heal "$leader"
stop_probes
lost=
if [[ -n $new ]]; then
  cat "$T"/h?/probe.log >"$T/probes.log"
  psql_on "$new" "SELECT writer || ' ' || seq FROM hosts_probe" | sort >"$T/kept" &&
    awk '$5 == "ok" { print $3 " " $4 }' "$T/probes.log" | sort >"$T/confirmed" &&
    lost=$(comm -23 "$T/confirmed" "$T/kept" | wc -l)
  echo "# confirmed writes: $(wc -l <"$T/confirmed"), lost: $lost"
fi
# The refusal: a record with outcome refused (within 2 loop_wait + the rewind's checks), no postmaster.
outcome='' commits=''
deadline=$(($(now_ms) + 40000))
while (($(now_ms) < deadline)); do
  read -r outcome commits <<<"$(rejoin_record "$leader")"
  [[ -n ${outcome:-} ]] && break
  sleep 0.5
done
figure commits_refused_on_rejoin "${commits:-null}"
if [[ ${outcome:-} == refused && ${commits:-} =~ ^[0-9]+$ && -n $lost ]] && ((commits >= lost && commits > 0)); then
  pass "refuse: $leader's record says the rewind was refused, naming its $commits commits (>= the $lost rows lost)"
else
  fail "refuse: $leader's record says the rewind was refused, naming the commits (>= the ${lost:-?} rows lost)" \
    "record: ${outcome:-none} ${commits:-}" "$(log_lines "$leader" 'pglift|rewind|diverged')"
fi
status_out=$(pglift_on "$leader" instance status "$INSTANCE" 2>&1)  # exit 3: PostgreSQL is not running
if [[ $status_out =~ WARNING[^$'\n']*rejoining\ at[^$'\n']*refused ]]; then
  pass "status on $leader warns of the refused rewind"
else
  fail "status on $leader warns of the refused rewind" "$(tail -n 4 <<<"$status_out")"
fi
sleep 3  # two Patroni loops (loop_wait 2): a refused member would have been started by now
if [[ -z $(find "$T/$leader/p" -name postmaster.pid -print -quit) ]] &&
  [[ " $(streaming_from "$new") " != *" $leader "* ]]; then
  pass "refuse: $leader stays out, its PostgreSQL stopped"
else
  fail "refuse: $leader stays out, its PostgreSQL stopped" "$(log_lines "$leader" 'pglift|starting as a secondary')"
fi
# Whether the held member fetched the new leader's timeline history (then cannot follow it): the case
# where pg_wal's history files do not say which timeline the member is on (ops/patroni_rejoin.cpp).
echo "# $leader's pg_wal holds history files: $(find "$T/$leader/p" -name '0*.history' -printf '%f ' 2>/dev/null | tr ' ' '\n' | sort -u | tr '\n' ' ')"
# The way on: stop, then start with the loss accepted (the start names it too); the record is archived.
start=$(now_ms)
if pglift_on "$leader" instance stop "$INSTANCE" >"$T/$leader/log/refuse-stop2.out" 2>&1 &&
  pglift_on "$leader" --non-interactive instance start "$INSTANCE" --accept-data-loss >"$T/$leader/log/accept.out" 2>&1 &&
  rejoined "$leader" "$new" 45; then
  pass "stop, then start --accept-data-loss: $leader rejoins ($(seconds_between "$start" "$(now_ms)") s)"
  if grep -q "rejoining as asked" "$T/$leader/log/accept.out"; then
    pass "... its start named the loss it accepted: $(grep -o 'discards WAL [^)]*)' "$T/$leader/log/accept.out" | head -n 1)"
  else
    fail "... its start named the loss it accepted" "$(cut -c1-300 "$T/$leader/log/accept.out")"
  fi
  figure rejoin_after_accept_s "$(seconds_between "$start" "$(now_ms)")"
else
  fail "stop, then start --accept-data-loss: $leader rejoins within 45 s" "$(tail -n 5 "$T/$leader/log/accept.out")" \
    "$(log_lines "$leader" 'pglift|rewind|diverged')"
  figure rejoin_after_accept_s null
fi
if [[ -z $(rejoin_record "$leader") ]] && compgen -G "$T/$leader/p/log/patroni/*/rejoin-*.json" >/dev/null; then
  pass "the start acknowledged the record (archived as $(basename "$(compgen -G "$T/$leader/p/log/patroni/*/rejoin-*.json" | tail -n 1)"))"
else
  fail "the start acknowledged the record (archived)" "$(rejoin_record "$leader")" "$(ls "$T/$leader"/p/log/patroni/*/ 2>&1)"
fi
write_host_settings "$leader"

# ------------------------------------------------------------------------------------------------------
section "6. loss of etcd members"
leader=$(leader_host) || leader=h1
first_lost=$(other_hosts "$leader" | head -n 1)
stop_etcd_member "$first_lost"
echo "# etcd of $first_lost stopped (leader $leader)"
candidate=
for h in $(streaming_from "$leader"); do candidate=$h; done
if [[ -n $candidate ]] &&
  pglift_on "$leader" patroni -i "$INSTANCE" switchover --candidate "$candidate" >"$T/$leader/log/switchover2.out" 2>&1 &&
  wait_view "$candidate" 30 "$candidate:leader:running" &&
  psql_on "$candidate" "INSERT INTO hosts_probe (writer, seq) VALUES ('one-etcd-lost', 1)"; then
  pass "one etcd member lost: a switchover to $candidate and a write on it still work"
else
  fail_with_logs "one etcd member lost: a switchover to '$candidate' and a write on it still work" "$leader" "$candidate"
fi
leader=$(leader_host "$candidate") || leader=$candidate
second_lost=$(other_hosts "$first_lost" "$leader" | head -n 1)
[[ -n $second_lost ]] || second_lost=$leader
t_lost=$(now_ms)
stop_etcd_member "$second_lost"
echo "# etcd of $second_lost stopped too: no quorum"
if wait_view "$leader" 30 '^dcs_error:.+'; then
  pass "two etcd members lost: get on $leader names the DCS error ($(cluster_view "$leader" | cut -c1-100))"
else
  fail "two etcd members lost: get on $leader names the DCS error within 30 s"
fi
# No failover: over ttl + 2 loop_wait past the loss (the leader key would have expired by then), no other
# member becomes a writable primary.
promoted=
while (($(now_ms) < t_lost + (TTL + 4) * 1000)); do
  for h in $(other_hosts "$leader"); do
    [[ $(psql_on "$h" "SELECT pg_is_in_recovery()" 2>/dev/null) == f ]] && promoted+=" $h"
  done
  sleep 0.5
done
if [[ -z $promoted ]]; then pass "no failover without the DCS quorum"; else fail "no failover without the DCS quorum" "promoted:$promoted"; fi
start_etcd_member "$first_lost"
start_etcd_member "$second_lost"
for h in "$first_lost" "$second_lost"; do wait_etcd_healthy "$h" 30 || fail_with_logs "etcd restarts on $h" "$h"; done
if leader=$(wait_view h1 30 ':leader:running' >/dev/null && leader_host h1) && all_stream "$leader" 30; then
  pass "with the quorum back, $leader leads and every other member streams"
else
  fail_until_join "with the quorum back, a leader and every other member streaming" \
    "a former leader that missed its rewind stays out (see 4 and 5)"
fi

hosts_end
