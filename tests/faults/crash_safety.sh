#!/usr/bin/env bash
# Crash safety (issue 14, item 2): the CLI killed with SIGKILL right after each step of an operation (the
# library's crash points: LIBPGLIFT_TEST_CRASH_AT=N, see src/core/test_hooks.hpp), as a power cut or an OOM
# kill would stop it. Afterwards `instance drop` removes everything (and a create of the same name then
# converges), a drop run again finishes the drop, and a configuration change leaves postgresql.conf (or
# Patroni's YAML) either as it was or as asked, never half-written, with an instance that still starts.
# Usage: crash_safety.sh PGLIFT_EXE CASE   (CASE: plain-create, plain-drop, pgconf, patroni-create,
# patroni-drop; as an unprivileged user; PostgreSQL 15, and Patroni and etcd for the patroni cases)
set -u -o pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fault_args "PGLIFT_EXE CASE" "$@"
[[ $CASE == patroni-* ]] && require_patroni_and_etcd
fault_begin
CLUSTER_BASE=crash$RANDOM  # each Patroni case's own cluster: CLUSTER_BASE0, CLUSTER_BASE1...
echo "# case $CASE, prefix $PREFIX"

# counted_points: after a run to its end with LIBPGLIFT_TEST_CRASH_AT=0 and DEBUG logs, how many crash
# points it passed (POINTS), listed.
counted_points() {
  expect_status 0
  POINTS=$(grep -c 'crash point [0-9]*:' <<<"$ERR")
  grep -o 'crash point [0-9]*: .*' <<<"$ERR" | sed 's/^/#   /'
  if ((POINTS > 0)); then pass "$COMMAND: passes $POINTS crash points"; else fail "$COMMAND: passes crash points" "none logged"; fi
}

# crash_points ARGS...: how many crash points `pglift ARGS...` passes.
crash_points() {
  LIBPGLIFT_TEST_CRASH_AT=0 pglift -L DEBUG "$@"
  counted_points
}

# crash_at N ARGS...: `pglift ARGS...` killed at its Nth crash point (exit status 137: SIGKILL).
crash_at() {
  local n=$1
  shift
  LIBPGLIFT_TEST_CRASH_AT=$n pglift -L DEBUG "$@"
  local point
  point=$(grep -o "crash point $n: .*" <<<"$ERR")
  expect_equal "killed at crash point $n (${point#crash point "$n": })" 137 "$STATUS"
}

# dropped NAME [ARGS...]: `instance drop NAME` finishes what is left (0), or finds nothing to drop (2: an
# unknown instance); then no process, file (or etcd key of the cluster) of NAME is left.
dropped() {
  local name=$1
  shift
  pglift --non-interactive instance drop "$name" "$@"
  if [[ $STATUS -eq 0 || ($STATUS -eq 2 && $ERR == *"$name"*) ]]; then pass "$COMMAND: drops what is left (exit $STATUS)"
  else fail "$COMMAND: drops what is left" "exit $STATUS: ${ERR: -600}"; fi
  expect_nothing_running
  expect_no_files "$name"
}

plain_create() {
  crash_points instance create c0 --port "$(free_port)"
  dropped c0
  local n
  for ((n = 1; n <= POINTS; n++)); do
    crash_at "$n" instance create "c$n" --port "$(free_port)"
    dropped "c$n"
    pglift instance create "c$n" --port "$(free_port)"  # the name is free again: a create converges
    expect_status 0
    expect_running "c$n"
    dropped "c$n"
  done
}

plain_drop() {
  pglift instance create d0 --port "$(free_port)"
  expect_status 0
  crash_points --non-interactive instance drop d0
  local n
  for ((n = 1; n <= POINTS; n++)); do
    pglift instance create "d$n" --port "$(free_port)"
    expect_status 0
    crash_at "$n" --non-interactive instance drop "d$n"
    dropped "d$n"
  done
}

# The value of work_mem in p1's postgresql.conf, as `pgconf show` reads it.
work_mem() { pglift pgconf -i p1 show work_mem; grep -o "work_mem = .*" <<<"$OUT"; }

pgconf() {
  pglift instance create p1 --port "$(free_port)"
  expect_status 0
  crash_points pgconf -i p1 set work_mem=5MB
  local n before after
  for ((n = 1; n <= POINTS; n++)); do
    before=$(work_mem)
    crash_at "$n" pgconf -i p1 set "work_mem=$((10 + n))MB"
    after=$(work_mem)
    if [[ $after == "$before" || $after == "work_mem = '$((10 + n))MB'" || $after == "work_mem = $((10 + n))MB" ]]; then
      pass "postgresql.conf after the crash: as it was, or as asked ($after)"
    else
      fail "postgresql.conf after the crash: as it was, or as asked" "before: $before; after: $after"
    fi
    pglift instance restart p1
    expect_status 0
    expect_running p1
  done
  dropped p1
}

patroni_create() {
  fault_etcd
  patroni_settings "$ETCD_ENDPOINT"
  CLUSTER=${CLUSTER_BASE}0
  LIBPGLIFT_TEST_CRASH_AT=0 LOG_LEVEL=DEBUG create_member m0 1
  counted_points
  dropped m0 --remove-cluster
  local n
  for ((n = 1; n <= POINTS; n++)); do
    CLUSTER=$CLUSTER_BASE$n
    LIBPGLIFT_TEST_CRASH_AT=$n create_member "m$n" 1
    expect_equal "killed at crash point $n" 137 "$STATUS"
    pglift --non-interactive instance drop "m$n" --remove-cluster
    if [[ $STATUS -eq 2 ]]; then
      # Killed before PostgreSQL existed (its configuration written, Patroni not started yet): not an
      # instance to drop; a create of the same member converges instead.
      pass "$COMMAND: nothing to drop yet (exit 2)"
      create_member "m$n" 1
      expect_status 0
    fi
    dropped "m$n" --remove-cluster
    expect_equal "leaves no key of cluster $CLUSTER in etcd" "" "$(dcs_keys "$CLUSTER")"
  done
}

patroni_drop() {
  fault_etcd
  patroni_settings "$ETCD_ENDPOINT"
  CLUSTER=${CLUSTER_BASE}0
  create_member m0 1
  expect_status 0
  crash_points --non-interactive instance drop m0 --remove-cluster
  local n
  for ((n = 1; n <= POINTS; n++)); do
    CLUSTER=$CLUSTER_BASE$n
    create_member "m$n" 1
    expect_status 0
    crash_at "$n" --non-interactive instance drop "m$n" --remove-cluster
    dropped "m$n" --remove-cluster
    expect_equal "leaves no key of cluster $CLUSTER in etcd" "" "$(dcs_keys "$CLUSTER")"
  done
}

case $CASE in
  plain-create) plain_create ;;
  plain-drop) plain_drop ;;
  pgconf) pgconf ;;
  patroni-create) patroni_create ;;
  patroni-drop) patroni_drop ;;
  *) echo "unknown case $CASE" >&2; exit 2 ;;
esac
fault_end
