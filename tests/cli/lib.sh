# shellcheck shell=bash
# Helpers shared by the CLI transcripts (transcript.sh, patroni_transcript.sh): running the pglift
# executable, checking what it printed, and finding the postgres processes left under the prefix.
# Sourced; the caller sets PGLIFT (the executable), PREFIX (its throw-away prefix) and SCRATCH (a directory
# of its own for captured output).

# --- preconditions ---------------------------------------------------------------------------------------

# Fails (1) as root: pglift refuses it, the test would only test that.
require_unprivileged() {
  if [[ $(id -u) -eq 0 ]]; then
    echo "FAIL: this test must run as an unprivileged user (pglift refuses root); run it e.g. with" \
      "setpriv --reuid=pglift-test --regid=pglift-test --init-groups" >&2
    exit 1
  fi
}

# Skips (77, meson's "skipped") when Patroni or etcd is not installed.
require_patroni_and_etcd() {
  local program
  for program in /usr/bin/patroni /usr/bin/etcd /usr/bin/etcdctl; do
    if [[ ! -x $program ]]; then
      echo "SKIP: $program is not installed"
      exit 77
    fi
  done
}

# root's PATH may lead to a python3 shim this user cannot run
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=$(command -v python3)

# --- processes under the prefix ------------------------------------------------------------------------

# shellcheck source=../../scripts/prefix-processes.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/prefix-processes.sh"

# The postmasters still running under the prefix.
our_postmasters() { prefix_postmasters "$PREFIX"; }
# Everything still running under the prefix: Patroni, postgres, orphans.
stop_postmasters() { stop_prefix_processes "$PREFIX"; }

# --- running and checking -----------------------------------------------------------------------------

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

PASSED=0
FAILED=0
OUT='' ERR='' STATUS='' COMMAND=''

# pglift ARGS...: runs the CLI (stdin from /dev/null: it must never wait for an answer), keeps OUT, ERR, STATUS.
pglift() {
  COMMAND="pglift $*"
  timeout 120 "$PGLIFT" "$@" </dev/null >"$SCRATCH/stdout" 2>"$SCRATCH/stderr"
  STATUS=$?
  OUT=$(cat "$SCRATCH/stdout")
  ERR=$(cat "$SCRATCH/stderr")
}

# on_terminal INPUT COMMAND_LINE: runs COMMAND_LINE on a pseudo-terminal (stdin, stdout and stderr; the output
# in OUT), typing INPUT.
on_terminal() {
  local input=$1 line=$2
  COMMAND="(terminal) $line"
  printf '%s' "$input" | timeout 120 script --quiet --return --command "$line" /dev/null >"$SCRATCH/stdout" 2>&1
  STATUS=$?
  OUT=$(tr -d '\r' <"$SCRATCH/stdout")
  ERR=
}

pass() {
  PASSED=$((PASSED + 1))
  echo "ok - $1"
}

# fail DESCRIPTION [DETAIL]: reports with the command's stderr.
fail() {
  FAILED=$((FAILED + 1))
  echo "not ok - $1"
  echo "  command: $COMMAND (exit status $STATUS)"
  [[ $# -gt 1 ]] && echo "$2" | sed 's/^/  /'
  [[ -n $ERR ]] && echo "  stderr:" && echo "$ERR" | sed 's/^/  | /'
  return 0
}

expect_status() {
  local want=$1
  if [[ $STATUS -eq $want ]]; then pass "$COMMAND: exits $want"; else fail "$COMMAND: exits $want" "got $STATUS"; fi
}

# expect_equal WHAT EXPECTED ACTUAL: exact text, shown as a diff on failure.
expect_equal() {
  local what=$1 expected=$2 actual=$3
  if [[ "$expected" == "$actual" ]]; then
    pass "$COMMAND: $what"
  else
    fail "$COMMAND: $what" "$(diff -u --label expected --label actual <(printf '%s\n' "$expected") <(printf '%s\n' "$actual"))"
  fi
}

expect_stdout() { expect_equal "stdout" "$1" "$OUT"; }

# expect_match WHAT REGEX TEXT: some line of TEXT matches the extended REGEX.
expect_match() {
  local what=$1 regex=$2 text=$3
  if grep -qE -- "$regex" <<<"$text"; then
    pass "$COMMAND: $what"
  else
    fail "$COMMAND: $what" "no line matches /$regex/ in:
$text"
  fi
}

expect_no_match() {
  local what=$1 regex=$2 text=$3
  if grep -qE -- "$regex" <<<"$text"; then
    fail "$COMMAND: $what" "a line matches /$regex/:
$(grep -E -- "$regex" <<<"$text")"
  else
    pass "$COMMAND: $what"
  fi
}

# json_summary PYTHON_EXPR: evaluates the expression with `d` bound to OUT parsed as JSON.
json_summary() {
  "$PYTHON" -c '
import json, sys
d = json.loads(sys.stdin.read())
print(eval(sys.argv[1]))' "$1" <<<"$OUT" 2>&1
}

# Files and instance directories under srv/ (empty parent directories do not count).
leftovers() {
  find "$PREFIX/srv" -mindepth 1 \( -type f -o -name "$1" \) 2>/dev/null
}

# --- a throw-away prefix for a transcript ------------------------------------------------------------

# start_transcript: PREFIX (a new temporary directory, removed on exit with every process left under
# it), SCRATCH (our own files), no PG*/PSQL* variable of the caller, and SETTINGS on this prefix.
start_transcript() {
  PREFIX=$(mktemp -d)
  SCRATCH=$PREFIX/transcript
  mkdir -p "$SCRATCH" "$SCRATCH/config" "$SCRATCH/xdg"
  trap 'stop_postmasters; rm -rf "$PREFIX"' EXIT
  local var
  for var in $(compgen -e); do
    case $var in PG* | PSQL*) unset "$var" ;; esac  # PG* takes PGLIFT_* too
  done
  export SETTINGS="{\"prefix\": \"$PREFIX\", \"run_prefix\": \"$PREFIX/run\"}"
  export PGLIFT_CONFIG_DIR=$SCRATCH/config  # exclusive when set: /etc/pglift is not read
  export XDG_CONFIG_HOME=$SCRATCH/xdg
}

# answering_on_terminal ANSWERS_FILE ARGS...: runs pglift on a pseudo-terminal and types the file's lines
# (the file is 0600: answers are never on a command line), one after each prompt once the terminal's echo is
# off: what a user types ahead of a prompt is echoed, which is no leak of pglift's. OUT: what the terminal showed.
answering_on_terminal() {
  local answers=$1
  shift
  COMMAND="(terminal) pglift $*"
  timeout 300 "$PYTHON" - "$answers" "$PGLIFT" "$@" >"$SCRATCH/stdout" 2>"$SCRATCH/stderr" <<'PY'
import os, pty, select, sys, termios
answers = open(sys.argv[1]).read().splitlines()
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
output, answered = b"", 0
while True:
    if select.select([fd], [], [], 0.05)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    prompts = output.count(b"password: ") + output.count(b"confirmation: ")
    if prompts > answered and answers and not termios.tcgetattr(fd)[3] & termios.ECHO:
        os.write(fd, answers.pop(0).encode() + b"\n")
        answered += 1
_, status = os.waitpid(pid, 0)
sys.stdout.write(output.decode(errors="replace").replace("\r", ""))
sys.exit(os.waitstatus_to_exitcode(status))
PY
  STATUS=$?
  OUT=$(cat "$SCRATCH/stdout")
  ERR=$(cat "$SCRATCH/stderr")
}

# --- issue 11's "done when", on a plain instance or a Patroni leader ------------------------------------

# daily_work INSTANCE: pgconf edit of effective_cache_size and logging_collector prints the reload notice
# and the restart warning, and "y" at the prompt restarts (SHOW and postgres -C give the new value; the old
# value is put back after); pgconf set work_mem=8MB reloads, max_connections=120 needs a restart (put back
# after); role create alice --login with a password from a file, role get (login, has_password), database
# create app --owner alice, database get, instance privileges, then both drops. The password is in no
# output, and in no file under the prefix but its own 0600 one.
daily_work() {
  local name=$1 collector new_collector connections secret=Daily-Canary-$RANDOM$RANDOM all=$SCRATCH/daily-output
  : >"$all"
  keep() { printf '%s\n%s\n' "$OUT" "$ERR" >>"$all"; }
  pglift instance exec "$name" -- psql -tAc 'show logging_collector'
  collector=$OUT
  new_collector=on
  [[ $collector == on ]] && new_collector=off
  cat >"$SCRATCH/daily-edit.sh" <<SCRIPT
#!/bin/sh
sed -i -e '/^effective_cache_size = /d' -e '/^logging_collector = /d' "\$1"
printf '%s\n' "effective_cache_size = '1234MB'" "logging_collector = $new_collector" >>"\$1"
SCRIPT
  on_terminal $'y\n' "env EDITOR='sh $SCRATCH/daily-edit.sh' $PGLIFT -L INFO pgconf -i $name edit"
  keep
  expect_status 0
  expect_match "notices the reload" "INFO .*instance 15/$name needs reload due to parameter changes: effective_cache_size\$" "$OUT"
  expect_match "warns of the restart" "WARNING .*instance 15/$name needs restart due to parameter changes: logging_collector\$" "$OUT"
  expect_match "asks to restart" 'PostgreSQL needs to be restarted; restart now\? \[y/n\] \(n\): ' "$OUT"
  pglift instance exec "$name" -- psql -tAc 'show logging_collector'
  expect_equal "the server runs with the new logging_collector (restarted)" "$new_collector" "$OUT"
  pglift instance exec "$name" -- postgres -C logging_collector  # the instance's bindir and PGDATA
  expect_equal "postgres -C logging_collector gives the new value" "$new_collector" "$OUT"
  pglift instance exec "$name" -- psql -tAc 'show effective_cache_size'
  expect_equal "effective_cache_size is in effect" "1234MB" "$OUT"
  # Back as it was (the rest of the transcript reads the instance's logs).
  on_terminal $'y\n' "$PGLIFT pgconf -i $name set logging_collector=$collector"
  expect_status 0

  pglift -L INFO pgconf -i "$name" set work_mem=8MB
  keep
  expect_status 0
  expect_match "notices the reload" "INFO .*instance 15/$name needs reload due to parameter changes: work_mem\$" "$ERR"
  pglift instance exec "$name" -- psql -tAc 'show work_mem'
  expect_equal "SHOW work_mem after the reload" "8MB" "$OUT"
  pglift instance exec "$name" -- psql -tAc 'show max_connections'
  connections=$OUT
  pglift --non-interactive pgconf -i "$name" set max_connections=120
  keep
  expect_status 0
  expect_match "says a restart is needed" "WARNING .*instance 15/$name needs restart due to parameter changes: max_connections\$" "$ERR"
  pglift --non-interactive pgconf -i "$name" set "max_connections=$connections"
  expect_status 0

  printf '%s\n' "$secret" >"$SCRATCH/daily-password"
  chmod 600 "$SCRATCH/daily-password"
  pglift role -i "$name" create alice --login --password-file "$SCRATCH/daily-password"
  keep
  expect_status 0
  pglift role -i "$name" get alice -o json
  keep
  expect_status 0
  expect_equal "alice logs in and has a password" "login=True has_password=True" \
    "$(json_summary '"login=%s has_password=%s" % (d["login"], d["has_password"])')"
  pglift database -i "$name" create app --owner alice
  keep
  expect_status 0
  pglift database -i "$name" get app -o json
  keep
  expect_status 0
  expect_equal "app belongs to alice" "name=app owner=alice" "$(json_summary '"name=%s owner=%s" % (d["name"], d["owner"])')"
  pglift instance exec "$name" -- psql -d app -c 'CREATE TABLE t (i int); GRANT SELECT ON t TO alice'
  expect_status 0
  pglift instance privileges "$name" -o json
  keep
  expect_status 0
  expect_equal "lists alice's privilege" "[('app', 't', 'alice', ['SELECT'])]" \
    "$(json_summary '[(x["database"], x["object_name"], x["role"], x["privileges"]) for x in d if x["role"] == "alice"]')"
  pglift --non-interactive database -i "$name" drop app
  keep
  expect_status 0
  pglift role -i "$name" drop alice
  keep
  expect_status 0
  pglift database -i "$name" get app
  expect_status 1
  pglift role -i "$name" get alice
  expect_status 1
  COMMAND="daily work on 15/$name: the password"
  expect_no_match "is in no output" "$secret" "$(cat "$all")"
  expect_equal "is in no file under the prefix but its own" "$SCRATCH/daily-password 600" \
    "$(grep -rlF -- "$secret" "$PREFIX" 2>/dev/null | xargs -r stat -c '%n %a')"
}
