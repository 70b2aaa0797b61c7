#!/usr/bin/env bash
# Bad input (issue 14, item 3), table-driven: names with '/', '-', quotes, newlines, 1 KB strings; ports 0,
# 65536, taken; unknown settings keys, YAML and JSON syntax errors; a Patroni node name, a cluster name or a
# parameter value that would inject YAML or postgresql.conf lines. Each gets a clear error naming the field
# and exit status 1 or 2, and nothing is written under the prefix (an existing, stopped instance pg1
# included: its files are compared byte for byte).
# Usage: bad_input.sh PGLIFT_EXE   (as an unprivileged user; PostgreSQL 15)
set -u -o pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fault_args "PGLIFT_EXE" "$@"
fault_begin
echo "# prefix $PREFIX"
BASE_SETTINGS=$SETTINGS

pglift instance create pg1 --port "$(free_port)" --state stopped
expect_status 0

# Every file under the prefix (but our scratch directory and the lock files: an operation's lock file
# outlives it by design), with its checksum.
tree_state() {
  find "$PREFIX" -path "$SCRATCH" -prune -o -path "$PREFIX/run/locks" -prune -o -print0 | sort -z |
    xargs -0 -r stat -c '%n %a %s' 2>/dev/null
  find "$PREFIX" -path "$SCRATCH" -prune -o -path "$PREFIX/run/locks" -prune -o -type f -print0 | sort -z |
    xargs -0 -r sha1sum 2>/dev/null
}

LONG=$(printf 'a%.0s' $(seq 1024))
TAKEN=$(free_port)
listen_on "$TAKEN"

# row FIELD_REGEX ARGS...: pglift ARGS fails with 1 or 2, its error names the field, nothing is written.
row() {
  local field=$1 before
  shift
  before=$(tree_state)
  pglift "$@"
  COMMAND=${COMMAND//$'\n'/\\n}  # one line in the report, long values cut
  ((${#COMMAND} > 160)) && COMMAND="${COMMAND:0:160}..."
  echo "# ${ERR//$'\n'/ | }" | cut -c1-300
  expect_failure
  expect_within 20
  expect_match "names the field ($field)" "$field" "$ERR"
  expect_equal "writes nothing" "$before" "$(tree_state)"
  expect_nothing_running_but_none_started
}
expect_nothing_running_but_none_started() { [[ -z $(prefix_processes) ]] || fail "$COMMAND: starts nothing" "$(prefix_processes)"; }

# --- instance names ---
row "field 'name'" instance create 'a/b'
row "field 'name'" instance create 'a-b'
row "field 'name'" instance create "it's"
row "field 'name'" instance create 'x"y'
row "field 'name'" instance create $'a\nb'
row "field 'name'" instance create "$LONG"
row "field 'name'" instance create ''
# --- ports ---
row "field 'port'" instance create pg2 --port 0
row "field 'port'" instance create pg2 --port 65536
row "field 'port'" instance create pg2 --port -1
row "--port" instance create pg2 --port abc
row "field 'port': port $TAKEN already in use" instance create pg2 --port "$TAKEN"
# --- an existing instance: parameters that would inject postgresql.conf lines ---
row "field 'work_mem'" pgconf -i pg1 set $'work_mem=8MB\nfsync = off'
row "field 'parameter'" pgconf -i pg1 set $'work_mem\nfsync=8MB'
row "field 'cluster_name'" pgconf -i pg1 set $'cluster_name=a\nfsync = off'
row "field 'my.custom'" pgconf -i pg1 set $'my.custom=a\nfsync = off'
row "field 'parameter'" pgconf -i pg1 set "$LONG=1"

# --- settings: unknown keys, syntax errors ---
SETTINGS=${BASE_SETTINGS%\}}', "nosuch": 1}' row "unknown setting 'nosuch'" instance list
SETTINGS=${BASE_SETTINGS%\}}', "postgresql": {"nosuch": 1}}' row "unknown setting 'postgresql.nosuch'" instance list
SETTINGS=${BASE_SETTINGS%\}}', "postgresql": {"auth": {"local": "nosuch"}}}' row "setting 'postgresql.auth.local'" instance list
SETTINGS='{"prefix": ' row "SETTINGS environment variable: invalid JSON" instance list
SETTINGS=${BASE_SETTINGS%\}}', "postgresql": {"bindir": 1}}' row "setting 'postgresql.bindir'" instance list
printf 'postgresql:\n  surole: [\n' >"$SCRATCH/config/settings.yaml"
row "settings.yaml: invalid YAML" instance list
printf 'nosuch_section:\n  a: 1\n' >"$SCRATCH/config/settings.yaml"
row "unknown setting 'nosuch_section'" instance list
rm -f "$SCRATCH/config/settings.yaml"

# --- Patroni names that would inject YAML (Patroni enabled on an etcd that is never reached: the names
# are refused first) ---
PATRONI_SETTINGS=${BASE_SETTINGS%\}}', "patroni": {"etcd": {"hosts": ["127.0.0.1:'$(free_port)'"]}}}'
SETTINGS=$PATRONI_SETTINGS row "field 'patroni.node'" instance create pg2 --patroni-cluster demo --patroni-node $'pg2\nscope: evil'
SETTINGS=$PATRONI_SETTINGS row "field 'patroni.node'" instance create pg2 --patroni-cluster demo --patroni-node 'pg2: {x: 1}'
SETTINGS=$PATRONI_SETTINGS row "field 'patroni.node'" instance create pg2 --patroni-cluster demo --patroni-node "$LONG"
SETTINGS=$PATRONI_SETTINGS row "field 'patroni.cluster'" instance create pg2 --patroni-cluster $'demo\nname: evil' --patroni-node pg2
SETTINGS=$PATRONI_SETTINGS row "field 'patroni.cluster'" instance create pg2 --patroni-cluster 'demo/../x' --patroni-node pg2
SETTINGS=$PATRONI_SETTINGS row "field 'patroni.restapi.connect_address'" instance create pg2 --patroni-cluster demo --patroni-node pg2 \
  --patroni-restapi-connect-address $'127.0.0.1:8008\nfoo: bar'
SETTINGS=$PATRONI_SETTINGS row "field 'patroni.postgresql.connect_host'" instance create pg2 --patroni-cluster demo --patroni-node pg2 \
  --patroni-postgresql-connect-host $'127.0.0.1\nfoo: bar'

fault_end
