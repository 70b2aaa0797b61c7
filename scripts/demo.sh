#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine, as root: installs the packages, builds the pglift CLI, then,
# as an unprivileged user, creates a PostgreSQL 15 instance, shows it, runs a query in it and drops it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (it installs packages and creates the demo user)" >&2; exit 1; }

bash "$here/scripts/install-deps.sh"
# shellcheck source=lib.sh
source "$here/scripts/lib.sh"
ensure_user
src=$(readable_tree "$here")
build=${PGLIFT_DEMO_BUILD:-/var/tmp/pglift-demo-build}
echo "== building the pglift CLI in $build"
build_as_user "$src" "$build" -Dtests=false

as_user bash -s "$build/examples/cli/pglift" <<'DEMO'
set -euo pipefail
pglift=$1
prefix=$(mktemp -d /tmp/pglift-demo.XXXXXX)
export SETTINGS="{\"prefix\": \"$prefix\", \"run_prefix\": \"$prefix/run\"}"
cleanup() {
  # Whatever happened, stop what we started (by PID) and remove the prefix.
  for pidfile in "$prefix"/srv/pgsql/*/*/data/postmaster.pid; do
    [ -f "$pidfile" ] && kill -QUIT "$(head -n1 "$pidfile")" 2>/dev/null || true
  done
  rm -rf "$prefix"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run() { echo; echo "\$ pglift $*"; "$pglift" "$@"; }

run --version
run -L INFO instance create main --port "$port"
run instance get main -o json
run instance list
run instance exec main -- psql -tAc "select 'hello from ' || current_setting('cluster_name')"
run instance env main
run -L INFO instance restart main
run instance status main
run -L INFO --non-interactive instance drop main
run instance list -o json
DEMO
