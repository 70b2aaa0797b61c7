#!/usr/bin/env bash
# CLI transcript: drives the pglift executable through an instance's life in a throw-away prefix and
# checks what a user sees: stdout, the gist of stderr, exit statuses, and what is left on the host.
# Usage: transcript.sh PGLIFT_EXE      (as an unprivileged user; PostgreSQL 15 in /usr/lib/postgresql/15/bin)
set -u -o pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 PGLIFT_EXE" >&2
  exit 2
fi
PGLIFT=$(realpath "$1")
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_unprivileged

PREFIX=$(mktemp -d)
SCRATCH=$PREFIX/transcript  # our own files, apart from what pglift creates
mkdir -p "$SCRATCH" "$SCRATCH/config" "$SCRATCH/xdg"
LISTENER_PID=

# --- cleanup: whatever happened, no postgres and no listener survive, the prefix goes -----------------

cleanup() {
  stop_postmasters
  if [[ -n $LISTENER_PID ]]; then kill "$LISTENER_PID" 2>/dev/null; wait "$LISTENER_PID" 2>/dev/null; fi
  rm -rf "$PREFIX"
}
trap cleanup EXIT

# --- environment: only this prefix counts -------------------------------------------------------------

for var in $(compgen -e); do
  case $var in PG* | PSQL*) unset "$var" ;; esac  # PG* takes PGLIFT_* too
done
export SETTINGS="{\"prefix\": \"$PREFIX\", \"run_prefix\": \"$PREFIX/run\"}"
export PGLIFT_CONFIG_DIR=$SCRATCH/config  # exclusive when set: /etc/pglift is not read
export XDG_CONFIG_HOME=$SCRATCH/xdg

# --- the transcript -----------------------------------------------------------------------------------

PORT=$(free_port)
DATADIR=$PREFIX/srv/pgsql/15/main/data
echo "# prefix $PREFIX, port $PORT"

pglift --version
expect_status 0
expect_match "prints 'pglift version X.Y.Z'" '^pglift version [0-9]+\.[0-9]+\.[0-9]+$' "$OUT"
# libpq (and the Kerberos, LDAP and GnuTLS libraries it pulls in) is loaded only when SQL is needed.
COMMAND="pglift --version, list (LD_DEBUG=libs)"
expect_no_match "loads no libpq" 'libpq\.so' "$(LD_DEBUG=libs "$PGLIFT" --version 2>&1 >/dev/null; LD_DEBUG=libs "$PGLIFT" instance list 2>&1 >/dev/null)"

pglift instance --schema
expect_status 0
expect_equal "prints a JSON schema with a 'name' property" "True" "$(json_summary '"name" in d.get("properties", {})')"

# Usage errors: exit 2 before anything is done.
pglift instance
expect_status 2
pglift -L LOUD instance list
expect_status 2
pglift instance get -o yaml
expect_status 2
pglift instance exec main
expect_status 2
expect_match "says which argument is missing" 'COMMAND' "$ERR"

pglift instance create pg1 --patroni-node pg1
expect_status 2
expect_match "requires the cluster" '^Error: --patroni-cluster is required with --patroni-\* options$' "$ERR"
expect_equal "leaves nothing in srv/" "" "$(leftovers 'pg1')"
pglift instance create pg1 --patroni-cluster demo
expect_status 1
expect_match "says Patroni is not enabled" "^Error: .*Patroni is not enabled" "$ERR"
expect_equal "leaves nothing in srv/" "" "$(leftovers 'pg1')"
pglift pgconf set work_mem
expect_status 2
expect_match "names the bad pair" "^Error: Invalid value for 'PARAMETER=VALUE...': work_mem\$" "$ERR"
pglift patroni failover
expect_status 2
expect_match "says the candidate is required" 'candidate' "$ERR"

pglift instance list -o JSON
expect_status 0
expect_stdout "[]"

# Invalid names fail before any work: nothing is left behind.
pglift instance create bad/name --port "$PORT"
expect_status 1
expect_match "names the field and the value" "name.*bad/name|bad/name.*name" "$ERR"
expect_equal "leaves nothing in srv/" "" "$(leftovers 'bad*')"
# A name psql would read as a meta-command in the .psqlrc prompt; letters, digits and underscores only.
pglift instance create "x'\!id;#" --port "$PORT"
expect_status 1
expect_match "names the field and the allowed characters" \
  "^Error: invalid value 'x'.*' for field 'name': instance name must contain only letters, digits and underscores\$" "$ERR"
expect_equal "leaves nothing under the prefix" "" "$(find "$PREFIX" -path "$SCRATCH" -prune -o -name "*id;#*" -print)"
pglift instance get "x'\!id;#"
expect_status 2
expect_match "refuses the lookup, naming the argument" \
  "^Error: Invalid value for 'INSTANCE': .* for field 'instance': instance name must contain only letters" "$ERR"

# A port taken by another program: refused, nothing left behind.
TAKEN_PORT=$(free_port)
"$PYTHON" -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(600)' "$TAKEN_PORT" &
LISTENER_PID=$!
for _ in $(seq 50); do
  "$PYTHON" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$TAKEN_PORT" \
    2>/dev/null && break
  sleep 0.1
done
pglift instance create taken --port "$TAKEN_PORT"
if [[ $STATUS -ne 0 ]]; then pass "$COMMAND: fails"; else fail "$COMMAND: fails"; fi
expect_match "names the port" "$TAKEN_PORT" "$ERR"
expect_equal "leaves nothing in srv/" "" "$(leftovers 'taken')"
expect_equal "leaves no postgres running" "" "$(our_postmasters)"
kill "$LISTENER_PID" 2>/dev/null
wait "$LISTENER_PID" 2>/dev/null
LISTENER_PID=

# A signal during a create cancels it: its steps are reverted, nothing is left. (SIGTERM: a background job
# of a script ignores SIGINT.)
COMMAND="pglift -L INFO instance create cancelled, then SIGTERM"
"$PGLIFT" -L INFO instance create cancelled --port "$(free_port)" </dev/null >"$SCRATCH/stdout" 2>"$SCRATCH/stderr" &
CREATE_PID=$!
for _ in $(seq 500); do
  grep -q "initializing" "$SCRATCH/stderr" && break
  sleep 0.02
done
kill -TERM "$CREATE_PID"
wait "$CREATE_PID"
STATUS=$?
OUT=$(cat "$SCRATCH/stdout")
ERR=$(cat "$SCRATCH/stderr")
expect_status 1
expect_match "aborts" '^Aborted!$' "$ERR"
expect_equal "leaves nothing in srv/" "" "$(leftovers 'cancelled')"
expect_equal "leaves no postgres running" "" "$(our_postmasters)"

pglift instance create main --port "$PORT"
expect_status 0
expect_stdout ""

pglift instance get main -o json
expect_status 0
expect_equal "is indented by 2 spaces" '{
  "name": "main",' "$(head -n 2 <<<"$OUT")"
expect_equal "describes the instance" "name=main
version=15
port=$PORT
settings=dict
data_checksums=bool
locale=C
encoding=UTF8
state=started
pending_restart=False
data_directory=$DATADIR
wal_directory=$PREFIX/srv/pgsql/15/main/wal" "$(json_summary '"\n".join([
  "name=%s" % d["name"], "version=%s" % d["version"], "port=%s" % d["port"],
  "settings=%s" % type(d["settings"]).__name__, "data_checksums=%s" % type(d["data_checksums"]).__name__,
  "locale=%s" % d["locale"], "encoding=%s" % d["encoding"], "state=%s" % d["state"],
  "pending_restart=%s" % d["pending_restart"], "data_directory=%s" % d["data_directory"],
  "wal_directory=%s" % d["wal_directory"]])')"

# Nor by a get (or a start) of a running instance that lets the superuser in without a password: the
# library speaks the protocol itself there.
COMMAND="pglift instance get main, stop, start (LD_DEBUG=libs)"
expect_no_match "loads no libpq" 'libpq\.so' "$(LD_DEBUG=libs "$PGLIFT" instance get main -o json 2>&1 >/dev/null
  LD_DEBUG=libs "$PGLIFT" instance stop main 2>&1 >/dev/null; LD_DEBUG=libs "$PGLIFT" instance start main 2>&1 >/dev/null)"

pglift instance get main
expect_status 0
expect_match "shows the port in a table" "^port +$PORT\$" "$OUT"
expect_no_match "hides the directories in the table" "data_directory|wal_directory" "$OUT"

pglift instance list -o json
expect_status 0
expect_equal "lists it running" "main 15 $PORT $DATADIR running" \
  "$(json_summary '"\n".join("%(name)s %(version)s %(port)s %(datadir)s %(status)s" % i for i in d)')"

pglift instance list
expect_status 0
expect_match "has a header" '^name +version +port +datadir +status$' "$OUT"
expect_match "has a row" "^main +15 +$PORT +$DATADIR +running\$" "$OUT"

pglift instance status main
expect_status 0
expect_stdout "PostgreSQL: running"

pglift instance exec main -- psql -tAc 'select 1'
expect_status 0
expect_stdout "1"
pglift instance exec main -- nosuchprogram
expect_status 2
expect_match "names the missing program" "^Error: .*'nosuchprogram' not found" "$ERR"

pglift instance env main
expect_status 0
expect_match "sets PGPORT" "^PGPORT=$PORT\$" "$OUT"
pglift instance env main -o json
expect_status 0
expect_equal "sets PGPORT" "$PORT" "$(json_summary 'd["PGPORT"]')"

# Configuration (pgconf) of a running plain instance: reload-only and restart-only parameters.
pglift pgconf -i main set work_mem=8MB
expect_status 0
expect_stdout ""
expect_match "reports the change on stderr" '^work_mem: None -> 8MB$' "$ERR"
pglift pgconf -i main show work_mem
expect_status 0
expect_stdout "work_mem = '8MB'"
pglift pgconf show
expect_status 0
expect_match "shows every managed parameter, the only instance by default" "^work_mem = '8MB'\$" "$OUT"
expect_match "renders integers bare" "^port = $PORT\$" "$OUT"
pglift instance exec main -- psql -tAc 'show work_mem'
expect_status 0
expect_stdout "8MB"
pglift pgconf -i main set WORK_MEM="'8MB'"
expect_status 0
expect_no_match "reports no change" ' -> ' "$ERR"
expect_match "says it was not applied" "^changes in 'work_mem' not applied\$" "$ERR"
expect_match "gives pglift's hint" '^ hint: either these changes have no effect \(values already set\) or ' "$ERR"
pglift --non-interactive pgconf -i main set max_connections=50
expect_status 0
expect_match "reports the change" '^max_connections: None -> 50$' "$ERR"
expect_match "warns that a restart is needed" \
  "^[0-9-]+ [0-9:]+ WARNING +pglift\.[a-z.]+ - instance 15/main needs restart due to parameter changes: max_connections\$" "$ERR"
pglift instance exec main -- psql -tAc 'show max_connections'
expect_equal "is not restarted without being asked" "100" "$OUT"
on_terminal $'y\n' "$PGLIFT pgconf -i main set max_connections=60"
expect_status 0
expect_match "asks for a restart" 'PostgreSQL needs to be restarted; restart now\? \[y/n\] \(n\): ' "$OUT"
pglift instance exec main -- psql -tAc 'show max_connections'
expect_equal "restarted when accepted" "60" "$OUT"
# Values are read as postgresql.conf reads them, shown as it writes them, reported as pglift does.
pglift pgconf -i main set jit=OFF random_page_cost=1.5 "datestyle='iso, dmy'" lock_timeout=0
expect_status 0
expect_equal "reports each change" "datestyle: None -> iso, dmy
jit: None -> False
lock_timeout: None -> 0
random_page_cost: None -> 1.5" "$(grep -- ' -> ' <<<"$ERR")"
pglift pgconf -i main show jit random_page_cost datestyle lock_timeout
expect_status 0
expect_stdout "jit = off
random_page_cost = 1.5
datestyle = 'iso, dmy'
lock_timeout = 0"
pglift instance exec main -- psql -tAc 'show datestyle'
expect_stdout "ISO, DMY"
pglift pgconf -i main remove jit random_page_cost datestyle lock_timeout
expect_status 0
expect_match "reports the removals" '^datestyle: iso, dmy -> None$' "$ERR"

pglift pgconf -i main remove work_mem
expect_status 0
expect_match "reports the removal" '^work_mem: 8MB -> None$' "$ERR"
pglift pgconf -i main show work_mem
expect_status 0
expect_stdout ""
pglift pgconf -i main remove nope
expect_status 1
expect_match "says it is not managed" "^Error: 'nope' not found in managed configuration\$" "$ERR"
pglift pgconf -i main set =5
expect_status 2
# --- pgconf (wt-pgconf): values checked before anything is written; pgconf edit -----------------------
CONF=$PREFIX/srv/pgsql/15/main/data/postgresql.conf
CONF_BEFORE=$(cat "$CONF")
pglift pgconf -i main set work_mem=lots
expect_status 1
expect_match "names the parameter and the value" "^Error: .*'lots'.*'work_mem'" "$ERR"
pglift pgconf -i main set no_such_parameter=1
expect_status 1
expect_match "names the unknown parameter" "no_such_parameter.*unrecognized configuration parameter" "$ERR"
expect_equal "leaves postgresql.conf as it was" "$CONF_BEFORE" "$(cat "$CONF")"
# The editor: a script (its path with a space, quoted in EDITOR as a shell would read it) that records
# the modes of the file and its directory, changes one value, adds one, removes one.
mkdir -p "$SCRATCH/my editor"
cat >"$SCRATCH/my editor/edit.sh" <<'SCRIPT'
#!/bin/sh
stat -c '%a' "$1" "$(dirname "$1")" >"$EDIT_LOG"
sed -i -e 's/^max_connections = .*/max_connections = 70/' -e '/^effective_cache_size = /d' "$1"
echo "work_mem = '16MB'" >>"$1"
SCRIPT
export EDIT_LOG=$SCRATCH/edit.log
EDITOR="sh '$SCRATCH/my editor/edit.sh'" VISUAL=false pglift -L INFO --non-interactive pgconf -i main edit
expect_status 0
expect_equal "edits a private file (0600 in a 0700 directory)" "600
700" "$(cat "$EDIT_LOG")"
expect_match "reports the new value" '^work_mem: None -> 16MB$' "$ERR"
expect_match "reports the changed value" '^max_connections: 60 -> 70$' "$ERR"
expect_match "reports the removal" '^effective_cache_size: .* -> None$' "$ERR"
expect_match "says what is reloaded" \
  "INFO +pglift\.[a-z.]+ - instance 15/main needs reload due to parameter changes: effective_cache_size, work_mem\$" "$ERR"
expect_match "says what needs a restart" \
  "WARNING +pglift\.[a-z.]+ - instance 15/main needs restart due to parameter changes: max_connections\$" "$ERR"
pglift pgconf -i main show work_mem effective_cache_size
expect_stdout "work_mem = '16MB'"
CONF_BEFORE=$(cat "$CONF")
EDITOR=true pglift pgconf -i main edit
expect_status 0
expect_equal "an unchanged text changes nothing" "no change" "$ERR"
EDITOR="sh -c 'echo \"work_mem = 1MB\" >>\"\$0\"; exit 1'" pglift pgconf -i main edit
expect_status 0
expect_equal "a failed editor changes nothing" "no change" "$ERR"
EDITOR="sh -c 'echo \"work_mem = lots\" >>\"\$0\"'" pglift pgconf -i main edit
expect_status 1
expect_match "a bad value is refused" "^Error: .*'lots'.*'work_mem'" "$ERR"
EDITOR="sh -c 'echo \"include = other.conf\" >>\"\$0\"'" pglift pgconf -i main edit
expect_status 1
expect_match "a line that is no parameter is refused, naming it" "^Error: .*'line [0-9]+'" "$ERR"
expect_equal "leaves postgresql.conf as it was" "$CONF_BEFORE" "$(cat "$CONF")"
EDITOR=/nonexistent/editor pglift pgconf -i main edit
expect_status 1
expect_match "says the editor cannot run" "^Error: cannot run the editor '/nonexistent/editor'" "$ERR"
pglift pgconf -i main remove work_mem
expect_status 0
# pghba: records added and removed with pglift's options; --dry-run and --diff.
HBA=$PREFIX/srv/pgsql/15/main/data/pg_hba.conf
HBA_BEFORE=$(cat "$HBA")
pglift pghba -i main add --connection-address 10.0.0.0/8 --database app,reports --user alice --method scram-sha-256 --dry-run --diff
expect_status 0
expect_match "shows the line added as a diff" '^\+host +app,reports +alice +10\.0\.0\.0/8 +scram-sha-256$' "$OUT"
expect_match "says nothing was changed" '^DRY RUN: no changes made$' "$ERR"
expect_equal "leaves pg_hba.conf as it was" "$HBA_BEFORE" "$(cat "$HBA")"
pglift pghba -i main add --connection-address 10.0.0.0/8 --database app,reports --user alice --method scram-sha-256
expect_status 0
expect_match "appends the record" '^host +app,reports +alice +10\.0\.0\.0/8 +scram-sha-256$' "$(cat "$HBA")"
expect_equal "keeps the other lines" "$HBA_BEFORE" "$(head -n "$(wc -l <<<"$HBA_BEFORE")" "$HBA")"
pglift instance exec main -- psql -tAc "select count(*) from pg_hba_file_rules where address = '10.0.0.0'"
expect_equal "is in effect (reloaded)" "1" "$OUT"
pglift pghba -i main add --method peer --user alice
expect_status 0
expect_match "a record without connection options is local" '^local +all +alice +peer$' "$(cat "$HBA")"
pglift pghba -i main add --connection-type hostssl --connection-address '10.0.0.0/8 trust' --method md5
expect_status 1
expect_match "names the bad field" "'connection.address'" "$ERR"
pglift pghba -i main add --connection-address 10.0.0.0/8 --method letmein
expect_status 1
expect_match "names the bad method" "'method'" "$ERR"
pglift pghba -i main remove --connection-address 10.0.0.0/8 --database app,reports --user alice --method scram-sha-256 --diff
expect_status 0
expect_match "shows the line removed" '^-host +app,reports +alice +10\.0\.0\.0/8' "$OUT"
pglift pghba -i main remove --method peer --user alice
expect_status 0
expect_equal "is back to what it was" "$HBA_BEFORE" "$(cat "$HBA")"
pglift pghba -i main remove --method peer --user alice
expect_status 1
expect_match "says the record is not there" "not found" "$ERR"
# --- end pgconf ---

# Issue 11's "done when" on this plain instance (tests/cli/lib.sh): pgconf edit with a restart, set, roles, databases.
daily_work main
pglift pgconf -i nosuch show
expect_status 2
expect_match "names the option" "Invalid value for '-i' / '--instance'" "$ERR"

# Patroni commands on a plain instance: refused, nothing changes.
pglift instance promote main
expect_status 1
expect_match "says why" '^Error: .*15/main.*(standby|Patroni)' "$ERR"
pglift patroni -i main logs
expect_status 1
expect_match "says it is not a Patroni member" '^Error: .*Patroni' "$ERR"
pglift patroni -i main switchover
expect_status 1
expect_match "says it is not managed by Patroni" '^Error: .*Patroni' "$ERR"
pglift instance status main
expect_status 0
expect_stdout "PostgreSQL: running"

pglift instance get nosuch
expect_status 2
expect_match "says it is not found" "nosuch" "$ERR"

pglift -L INFO instance logs main
expect_status 0
expect_match "prints the log" "." "$OUT"
expect_match "says where it reads" \
  "^[0-9-]+ [0-9:]+ INFO +pglift\.[a-z.]+ - reading logs of instance '15/main' from /" "$ERR"

pglift instance stop main
expect_status 0
expect_stdout ""
pglift instance status main
expect_status 3
expect_stdout "PostgreSQL: not running"
pglift instance get main -o json
expect_status 0
expect_equal "says stopped" "stopped" "$(json_summary 'd["state"]')"
expect_match "warns that it is not running" "^[0-9-]+ [0-9:]+ WARNING +pglift\.[a-z.]+ - instance 15/main is not running" "$ERR"

pglift instance start main
expect_status 0
expect_stdout ""
pglift instance status
expect_status 0

pglift instance restart main
expect_status 0
expect_stdout ""
pglift instance reload main
expect_status 0
expect_stdout ""

pglift instance stop --all
expect_status 0
pglift instance status main
expect_status 3
pglift instance start --all
expect_status 0
pglift instance status main
expect_status 0

# On a terminal: logs in the short form; declining the deletion aborts and keeps the instance.
on_terminal "" "$PGLIFT instance reload main"
expect_status 0
expect_match "logs in the terminal form" '^INFO {5}[^ ]' "$OUT"
on_terminal $'n\n' "$PGLIFT instance drop main"
expect_status 1
expect_match "asks for confirmation" 'Confirm complete deletion of instance 15/main\? \[y/n\] \(y\): ' "$OUT"
expect_match "warns" '(^|: )WARNING  deletion of instance 15/main cancelled$' "$OUT"
expect_match "aborts" '^Aborted!$' "$OUT"
pglift instance status main
expect_status 0

HBA=$(cat "$DATADIR/pg_hba.conf" 2>/dev/null)
COMMAND="pg_hba.conf"
if [[ -n $HBA ]]; then pass "pg_hba.conf exists"; else fail "pg_hba.conf exists"; fi
expect_no_match "has no trust method" '^[^#]*\btrust\b' "$HBA"

pglift --non-interactive instance drop main
expect_status 0
expect_stdout ""
COMMAND="after drop"
if [[ ! -e $DATADIR ]]; then pass "no data directory"; else fail "no data directory" "$DATADIR exists"; fi
expect_equal "no postgres process" "" "$(pgrep -af -- "$DATADIR")"
pglift instance list -o json
expect_status 0
expect_stdout "[]"

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
