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

# The postmaster of each postmaster.pid under the prefix, if it still runs that data directory.
our_postmasters() {
  local pidfile pid datadir
  while IFS= read -r pidfile; do
    datadir=$(dirname "$pidfile")
    pid=$(head -n 1 "$pidfile" 2>/dev/null)
    [[ $pid =~ ^[0-9]+$ ]] || continue
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$datadir" && echo "$pid"
  done < <(find "$PREFIX" -name postmaster.pid 2>/dev/null)
}

cleanup() {
  local pids pid i
  pids=$(our_postmasters)
  if [[ -n $pids ]]; then
    echo "cleanup: stopping postgres left behind (PID $pids)" >&2
    for pid in $pids; do kill -QUIT "$pid" 2>/dev/null; done  # immediate shutdown
    for i in $(seq 50); do
      for pid in $pids; do kill -0 "$pid" 2>/dev/null && break; pid=; done
      [[ -z $pid ]] && break
      sleep 0.1
    done
    for pid in $pids; do kill -KILL "$pid" 2>/dev/null; done
  fi
  # Anything else still working in the prefix: a postgres still starting (no pidfile yet), an initdb
  # orphaned by a killed test...
  pids=$(pgrep -u "$(id -u)" -f -- "$PREFIX/" || true)
  if [[ -n $pids ]]; then
    echo "cleanup: terminating processes left in the prefix (PID $pids)" >&2
    for pid in $pids; do kill -TERM "$pid" 2>/dev/null; done
    for i in $(seq 50); do
      for pid in $pids; do kill -0 "$pid" 2>/dev/null && break; pid=; done
      [[ -z $pid ]] && break
      sleep 0.1
    done
    for pid in $pids; do kill -KILL "$pid" 2>/dev/null; done
  fi
  rm -rf "$PREFIX"
}
trap cleanup EXIT

mkdir -p "$PREFIX/config"
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^PGLIFT_' || true)
export LIBPGLIFT_TEST_PREFIX=$PREFIX
export PGLIFT_CONFIG_DIR=$PREFIX/config
export SETTINGS="{\"prefix\": \"$PREFIX\", \"run_prefix\": \"$PREFIX/run\"}"

# In the background, so that a signal (meson's timeout) is handled at once: stop the test, clean up.
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' INT TERM
wait "$child"
