#!/usr/bin/env bash
# The hosts suite's synchronous_mode scenario (tests/hosts/lib.sh), run as ROOT: three members created
# with the site settings `patroni: {synchronous_mode: true}`, the leader's host partitioned under a writer
# probe on every member, then healed: no row a probe saw confirmed is missing on the new leader.
# MARKED: the setting is the join branch's (issue 10, point 3); until it lands the create refuses the
# setting, or ignores it, and this test fails.   Usage (root): sync.sh PGLIFT_EXE WRITER_PROBE FIGURES_JSON
set -u -o pipefail
# shellcheck disable=SC2034 # both used by lib.sh
PGLIFT=$(realpath "$1") PROBE=$(realpath "$2")
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rm -f "$3"
hosts_begin "$(realpath -m "$3")" '{"synchronous_mode": true}'

other_hosts() { local h; for h in "${HOSTS[@]}"; do [[ $h == "$1" ]] || echo "$h"; done; }

section "1. three members with synchronous_mode on (joining with: $HOSTS_JOIN_WITH)"
for h in "${HOSTS[@]}"; do
  if ! create_member "$h"; then
    fail_until_join "create the member on $h with patroni.synchronous_mode" "synchronous_mode in PatroniSettings"
    hosts_end
  fi
done
if wait_streaming h1 60 h2 h3 && wait_view h1 10 'sync_standby'; then
  pass "h1 leads, h2 and h3 stream, one of them the synchronous standby"
else
  fail_until_join "h1 leads with a synchronous standby" "synchronous_mode reaches Patroni's DCS configuration"
  hosts_end
fi
psql_on h1 "CREATE TABLE hosts_probe (writer text, seq bigint, at timestamptz DEFAULT clock_timestamp(),
                                      PRIMARY KEY (writer, seq))" || fail_with_logs "create the probe table" h1

section "2. partition of the leader's host: no confirmed row is lost"
leader=h1
start_probes
wait_first_write "$leader"
t0=$(now_ms)
partition "$leader"
new_writer_after "$leader" "$t0"
if [[ -n $new ]]; then pass "$new takes writes after the partition"; else
  fail_with_logs "a new leader takes writes within 45 s of the partition" "${HOSTS[@]}"
fi
t_heal=$(now_ms)
heal "$leader"
if [[ -n $new ]] && wait_streaming "$new" 45 "$leader"; then
  pass "the former leader $leader rejoins after the healing"
  figure sync_rejoin_after_heal_s "$(seconds_between "$t_heal" "$(now_ms)")"
else
  fail_until_join "the former leader $leader rejoins within 45 s of the healing" "the rewind password (point 1)"
fi
stop_probes
cat "$T"/h?/probe.log >"$T/probes.log"
last_old=$(awk -v w="$leader" '$3 == w && $5 == "ok" { t = $2 } END { print t }' "$T/probes.log")
first_new=
[[ -n $new ]] && first_new=$(first_result_after "$new" ok "$t0")
figure sync_no_writer_window_s "$(seconds_between "$last_old" "$first_new")"
if [[ -n $new ]] && psql_on "$new" "SELECT writer || ' ' || seq FROM hosts_probe" | sort >"$T/kept"; then
  awk '$5 == "ok" { print $3 " " $4 }' "$T/probes.log" | sort >"$T/confirmed"
  lost=$(comm -23 "$T/confirmed" "$T/kept" | wc -l)
  figure rows_lost_sync "$lost"
  if ((lost == 0)); then pass "no confirmed row lost ($(wc -l <"$T/confirmed") confirmed)"; else
    fail "no confirmed row lost" "$lost of $(wc -l <"$T/confirmed") confirmed rows missing on $new:" \
      "$(comm -23 "$T/confirmed" "$T/kept" | head -n 5)"
  fi
else
  fail "read the rows kept by the new leader"
fi
hosts_end
