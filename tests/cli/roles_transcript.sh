#!/usr/bin/env bash
# CLI transcript for `pglift role -i INSTANCE ...`: create (password from a file, with the passfile),
# get/list (table and JSON), alter (--grant/--revoke), errors (exists, not found, objects owned) and drop,
# on one real instance in a throw-away prefix. The password is in no output.
# Usage: roles_transcript.sh PGLIFT_EXE      (as an unprivileged user)
set -u -o pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 PGLIFT_EXE" >&2
  exit 2
fi
PGLIFT=$(realpath "$1")
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_unprivileged

start_transcript
PASSFILE=$SCRATCH/pgpass
export SETTINGS="{\"prefix\": \"$PREFIX\", \"run_prefix\": \"$PREFIX/run\", \"postgresql\": {\"auth\": {\"passfile\": \"$PASSFILE\"}}}"

# answering ANSWERS_FILE ARGS...: lib.sh's answering_on_terminal, its output kept for the secret check.
answering() {
  answering_on_terminal "$@"
  printf '%s\n%s\n' "$OUT" "$ERR" >>"$SCRATCH/all-output"
}

# Every output of the transcript, for the secret check at the end.
run() {
  pglift "$@"
  printf '%s\n%s\n' "$OUT" "$ERR" >>"$SCRATCH/all-output"
}

PORT=$(free_port)
SECRET=Role-Canary-7f3a
printf '%s\n' "$SECRET" >"$SCRATCH/password"
chmod 600 "$SCRATCH/password"

run --non-interactive instance create main --port "$PORT"
expect_status 0

# --dry-run: PostgreSQL checks it in a rolled-back transaction; no role, no passfile entry.
run -L INFO role -i main create bob --login --password-file "$SCRATCH/password" --pgpass --dry-run
expect_status 0
expect_match "says it simulates" "creating role 'bob' on instance 15/main \(dry run: rolled back, nothing changed\)" "$ERR"
expect_equal "no passfile" "" "$(cat "$PASSFILE" 2>/dev/null)"
run role -i main get bob
expect_status 1
run role -i main create bob --in-role no_such_role --dry-run
expect_status 1

run -L INFO role -i main create bob --login --in-role pg_monitor --connection-limit 3 --password-file "$SCRATCH/password" --pgpass
expect_status 0
expect_match "logs the creation" "creating role 'bob' on instance 15/main" "$ERR"
expect_equal "passfile line" "*:$PORT:*:bob:$SECRET" "$(cat "$PASSFILE")"
expect_equal "passfile mode" "600" "$(stat -c %a "$PASSFILE")"

run role -i main create bob
expect_status 1
expect_match "says it exists" "role 'bob' already exists" "$ERR"

run role -i main get bob
expect_status 0
expect_match "a table: login" '^login +True$' "$OUT"
expect_match "a table: in_roles" '^in_roles +pg_monitor$' "$OUT"
expect_match "a table: connection_limit" '^connection_limit +3$' "$OUT"
expect_match "a table: pgpass" '^pgpass +True$' "$OUT"

run role -i main get bob -o json
expect_status 0
expect_match "JSON: has_password" '"has_password": true' "$OUT"
expect_match "JSON: in_roles" '"pg_monitor"' "$OUT"

run role -i main alter bob --no-login --grant pg_read_all_stats --revoke pg_monitor --connection-limit -1
expect_status 0
run role -i main get bob -o json
expect_match "altered: login" '"login": false' "$OUT"
expect_match "altered: member of pg_read_all_stats" '"pg_read_all_stats"' "$OUT"
expect_no_match "altered: not of pg_monitor" '"pg_monitor"' "$OUT"
expect_match "altered: no limit" '"connection_limit": null' "$OUT"

run role -i main list
expect_status 0
expect_match "list: a header" '^name +has_password' "$OUT"
expect_match "list: bob" '^bob ' "$OUT"
expect_no_match "list: no pg_ roles" '^pg_' "$OUT"
run role -i main list -o json
expect_status 0
expect_match "list JSON: an array" '^\[' "$OUT"

run role -i main get nobody
expect_status 1
expect_match "not found" "role 'nobody' not found" "$ERR"
run role -i main create 'bad
name'
expect_status 1
expect_match "a bad name names the field" "field 'name'" "$ERR"
run role -i main create carol --password 'on-argv'
expect_status 2
expect_match "--password takes no value" "on-argv" "$ERR"

# The password asked on the terminal (twice), or from ROLE_PASSWORD: never echoed.
printf 'Prompted-Secret-1\nPrompted-Secret-1\n' >"$SCRATCH/answers"
chmod 600 "$SCRATCH/answers"
answering "$SCRATCH/answers" role -i main create erin --login --password
expect_status 0
expect_match "asks for it" 'Role password: ' "$OUT"
expect_match "asks to repeat it" 'Repeat for confirmation: ' "$OUT"
expect_no_match "does not echo it" 'Prompted-Secret-1' "$OUT"
ROLE_PASSWORD=$SECRET-env run role -i main alter erin
expect_status 0
run role -i main get erin -o json
expect_match "has a password" '"has_password": true' "$OUT"
run role -i main drop erin
expect_status 0

# Objects owned: a clear refusal, then --reassign-owned.
run instance exec main -- psql -d postgres -c "CREATE TABLE t (); ALTER TABLE t OWNER TO bob"
expect_status 0
run role -i main drop bob
expect_status 1
expect_match "refused: objects depend on it" "role 'bob' cannot be dropped: objects depend on it" "$ERR"
run role -i main drop bob --drop-owned --reassign-owned postgres
expect_status 2
run role -i main drop bob --reassign-owned postgres
expect_status 0
run role -i main get bob
expect_status 1
expect_equal "passfile entry removed" "" "$(cat "$PASSFILE")"

COMMAND="the secret"
expect_no_match "in no output" "$SECRET|Prompted-Secret" "$(cat "$SCRATCH/all-output")"

run --non-interactive instance drop main
expect_status 0
echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
