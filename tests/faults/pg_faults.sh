#!/usr/bin/env bash
# Fault tests of plain PostgreSQL instances (issue 14): PostgreSQL cannot start (port taken, a bad parameter
# in a site template), initdb fails, a read-only prefix, `start --all` with one broken instance.
# Usage: pg_faults.sh PGLIFT_EXE CASE   (as an unprivileged user; PostgreSQL 15)
set -u -o pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fault_args "PGLIFT_EXE CASE" "$@"
fault_begin
echo "# case $CASE, prefix $PREFIX"

# The port of an existing instance is taken while it is stopped: start fails at once naming the port, no
# postgres is left, and the instance starts once the port is free again.
port_taken() {
  local port
  port=$(free_port)
  pglift instance create pg1 --port "$port"
  expect_status 0
  pglift instance stop pg1
  expect_status 0
  listen_on "$port"
  pglift instance start pg1
  echo "# ${ERR//$'\n'/ | }" | cut -c1-400
  expect_status 1
  expect_within 30
  expect_match "names the port" "$port" "$ERR"
  expect_nothing_running
  kill "${EXTRA_PIDS[-1]}"
  wait "${EXTRA_PIDS[-1]}" 2>/dev/null
  pglift instance start pg1
  expect_status 0
  expect_running pg1
}

# A site template of postgresql.conf with a bad parameter: create fails with PostgreSQL's own message, and
# nothing is left (the instance's files, a postgres).
bad_site_template() {
  mkdir -p "$SCRATCH/config/postgresql"
  printf '%s\n' "shared_buffers = 'lots'" "max_connections = 50" >"$SCRATCH/config/postgresql/postgresql.conf"
  pglift instance create pg1 --port "$(free_port)"
  expect_status 1
  expect_within 60
  expect_match "names the parameter" 'shared_buffers' "$ERR"
  expect_nothing_running
  expect_no_files pg1
  # An unknown parameter, too.
  printf '%s\n' "no_such_parameter = 1" >"$SCRATCH/config/postgresql/postgresql.conf"
  pglift instance create pg1 --port "$(free_port)"
  expect_status 1
  expect_within 60
  expect_match "names the parameter" 'no_such_parameter' "$ERR"
  expect_nothing_running
  expect_no_files pg1
}

# initdb fails (a locale this machine does not have): its error is shown, nothing is left.
initdb_fails() {
  fault_settings '"postgresql": {"initdb": {"locale": "xx_XX.UTF-8"}}'
  pglift instance create pg1 --port "$(free_port)"
  expect_status 1
  expect_within 60
  expect_match "shows initdb's complaint" 'initdb' "$ERR"
  expect_match "names the locale" 'xx_XX' "$ERR"
  expect_nothing_running
  expect_no_files pg1
}

# A read-only prefix (srv/ and the prefix itself not writable): create fails naming the path, writes
# nothing; an existing instance is intact (status, get, stop, start).
read_only_prefix() {
  pglift instance create pg1 --port "$(free_port)"
  expect_status 0
  chmod a-w "$PREFIX/srv" "$PREFIX/srv/pgsql" "$PREFIX/srv/pgsql/15" 2>/dev/null
  chmod a-w "$PREFIX/srv"
  local before
  before=$(find "$PREFIX" -path "$SCRATCH" -prune -o -path "$PREFIX/run/locks" -prune -o -print | sort)
  pglift instance create pg2 --port "$(free_port)"
  expect_status 1
  expect_within 30
  expect_match "names the read-only directory" "$PREFIX/srv" "$ERR"
  expect_match "says why" '[Pp]ermission denied' "$ERR"
  expect_equal "writes nothing (but its lock file)" "$before" \
    "$(find "$PREFIX" -path "$SCRATCH" -prune -o -path "$PREFIX/run/locks" -prune -o -print | sort)"
  expect_no_files pg2
  pglift instance get pg1 -o json
  expect_status 0
  pglift instance stop pg1
  expect_status 0
  pglift instance start pg1
  expect_status 0
  expect_running pg1
}

# `start --all` with one broken instance (a bad parameter in its postgresql.conf): the others start, the
# broken one is reported by name, the exit status is 1.
start_all_one_broken() {
  local name
  for name in pg1 pg2 pg3; do
    pglift instance create "$name" --port "$(free_port)" --state stopped
    expect_status 0
  done
  echo "shared_buffers = 'lots'" >>"$PREFIX/srv/pgsql/15/pg2/data/postgresql.conf"
  pglift instance start --all
  expect_status 1
  expect_within 60
  expect_match "reports the broken one" '^Error: 15/pg2: ' "$ERR"
  expect_no_match "reports only the broken one" '^Error: 15/pg[13]' "$ERR"
  expect_running pg1
  expect_running pg3
  expect_equal "no postgres of pg2 is left" "" "$(prefix_processes | grep '/pg2/' || true)"
}

case $CASE in
  port-taken) port_taken ;;
  bad-site-template) bad_site_template ;;
  initdb-fails) initdb_fails ;;
  read-only-prefix) read_only_prefix ;;
  start-all-one-broken) start_all_one_broken ;;
  *) echo "unknown case $CASE" >&2; exit 2 ;;
esac
fault_end
