#!/usr/bin/env bash
# Runs a test command in a throw-away pglift prefix, and cleans up whatever happens:
#   with_prefix.sh COMMAND [ARGS...]
# The command gets LIBPGLIFT_TEST_PREFIX=<tmp>, SETTINGS='{"prefix": "<tmp>", "run_prefix": "<tmp>/run"}'
# and PGLIFT_CONFIG_DIR=<tmp>/config (empty: no site configuration leaks in). Other PGLIFT_* variables are
# removed: the library reads each as a setting (which is also why test variables are named LIBPGLIFT_*).
# Afterwards every postgres started under the prefix is stopped and the prefix is removed.
set -u -o pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi
if [[ $(id -u) -eq 0 ]]; then
  echo "FAIL: run the tests as an unprivileged user (libpglift refuses root), e.g. with" \
    "setpriv --reuid=pglift-test --regid=pglift-test --init-groups" >&2
  exit 1
fi

PREFIX=$(mktemp -d "${TMPDIR:-/tmp}/pglift-test.XXXXXX")

# shellcheck source=../../scripts/ha-lib.sh
source "$(dirname "$0")/../../scripts/ha-lib.sh"  # start_etcd/stop_etcd, and prefix-processes.sh

cleanup() {
  stop_etcd  # first: its data directory is under the prefix, and it is no leftover
  stop_prefix_processes "$PREFIX"
  rm -rf "$PREFIX"
}
trap cleanup EXIT

mkdir -p "$PREFIX/config"
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^PGLIFT_' || true)
export LIBPGLIFT_TEST_PREFIX=$PREFIX
export PGLIFT_CONFIG_DIR=$PREFIX/config
export SETTINGS="{\"prefix\": \"$PREFIX\", \"run_prefix\": \"$PREFIX/run\"}"

# LIBPGLIFT_TEST_WITH_ETCD=1: a private etcd for the test (skipped, 77, without etcd or Patroni), whose
# endpoint comes as LIBPGLIFT_TEST_ETCD (host:port). =optional: the same where both are installed, else
# the test runs without LIBPGLIFT_TEST_ETCD (and skips its Patroni parts itself).
with_etcd=${LIBPGLIFT_TEST_WITH_ETCD:-0}
unset LIBPGLIFT_TEST_WITH_ETCD LIBPGLIFT_TEST_ETCD
if [[ $with_etcd == 1 || $with_etcd == optional ]]; then
  if [[ -x /usr/bin/etcd && -x /usr/bin/patroni ]]; then
    start_etcd "$PREFIX/etcd" || exit 1
    export LIBPGLIFT_TEST_ETCD=$ETCD_ENDPOINT
  elif [[ $with_etcd == 1 ]]; then
    echo "SKIP: etcd or Patroni is not installed"
    exit 77
  fi
fi

# In the background, so that a signal (meson's timeout) is handled at once: stop the test, clean up.
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' INT TERM
wait "$child"
