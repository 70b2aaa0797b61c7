#!/usr/bin/env bash
# CLI transcript of `instance alter` and `instance apply -f`: a manifest creates an instance, a second
# run changes nothing, alter with --dry-run/--diff/-o json, a bad manifest names its field and writes
# nothing, `state: absent` drops.
# Usage: apply_transcript.sh PGLIFT_EXE      (as an unprivileged user)
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

PORT=$(free_port)
CONF=$PREFIX/srv/pgsql/15/app/data/postgresql.conf
MANIFEST=$SCRATCH/app.yaml
cat >"$MANIFEST" <<YAML
name: app
port: $PORT
settings:
  work_mem: 5MB
YAML

pglift instance apply -f "$MANIFEST" --dry-run -o json
expect_status 0
expect_equal "a dry run says created" "created" "$(json_summary 'd["change_state"]')"
expect_equal "and creates nothing" "" "$(leftovers app)"

pglift instance apply -f "$MANIFEST" -o json
expect_status 0
expect_equal "apply creates" "created" "$(json_summary 'd["change_state"]')"
pglift instance apply -f "$MANIFEST" -o json
expect_status 0
expect_equal "applied again: null" "None" "$(json_summary 'd["change_state"]')"

NEW_PORT=$(free_port)
before=$(cat "$CONF")
pglift --non-interactive instance alter app --port "$NEW_PORT" --dry-run --diff
expect_status 0
expect_stdout "port: $PORT -> $NEW_PORT"
expect_match "says it was a dry run" 'DRY RUN: no changes made' "$ERR"
expect_equal "a dry run leaves postgresql.conf alone" "$before" "$(cat "$CONF")"

pglift --non-interactive instance alter app --port "$NEW_PORT" --restart-on-changes -o json
expect_status 0
expect_equal "alter restarts for the port" "True changed" "$(json_summary 'str(d["restarted"]) + " " + d["change_state"]')"
pglift instance get app -o json
expect_equal "get shows the new port" "$NEW_PORT" "$(json_summary 'd["port"]')"

pglift --non-interactive instance alter app --state stopped --diff
expect_status 0
expect_stdout 'state: "started" -> "stopped"'

printf 'name: app\nport: 99999\n' >"$SCRATCH/bad.yaml"
before=$(cat "$CONF")
pglift instance apply -f "$SCRATCH/bad.yaml"
expect_status 1
expect_match "names the field" "port" "$ERR"
expect_equal "changes nothing" "$before" "$(cat "$CONF")"
printf 'name: app\nsettings: [\n' >"$SCRATCH/broken.yaml"
pglift instance apply -f "$SCRATCH/broken.yaml"
expect_status 1
expect_no_match "never quotes the document" 'settings: \[' "$ERR"

printf 'name: app\nstate: absent\n' >"$SCRATCH/absent.yaml"
pglift instance apply -f "$SCRATCH/absent.yaml" -o json
expect_status 0
expect_equal "state absent drops" "dropped" "$(json_summary 'd["change_state"]')"
expect_equal "nothing left" "" "$(leftovers app)"

# The manifest may carry roles and databases: created with the instance.
cat >"$SCRATCH/objects.yaml" <<YAML
name: objs
port: $(free_port)
roles:
  - name: alice
    login: true
    password: Apply-Canary-31
databases:
  - name: appdb
    owner: alice
    schemas: [s1]
YAML
pglift -L INFO instance apply -f "$SCRATCH/objects.yaml" -o json
expect_status 0
expect_equal "apply creates the instance with its objects" "created" "$(json_summary 'd["change_state"]')"
expect_match "the role is created" "creating role 'alice'" "$ERR"
expect_no_match "the password is never shown" 'Apply-Canary-31' "$OUT$ERR"
pglift role -i objs get alice -o json
expect_equal "the role logs in, with its password" "True True" "$(json_summary 'str(d["login"]) + " " + str(d["has_password"])')"
pglift database -i objs get appdb -o json
expect_equal "the database is alice's, with its schema" "alice True" \
  "$(json_summary 'd["owner"] + " " + str(any(s["name"] == "s1" for s in d["schemas"]))')"
# On the existing instance: the same manifest changes nothing; then a role changed, a database dropped,
# one created, as the lines after the instance's say.
pglift instance apply -f "$SCRATCH/objects.yaml"
expect_status 0
expect_equal "the same manifest again" "instance objs: unchanged" "$ERR"
cat >"$SCRATCH/objects2.yaml" <<YAML
name: objs
roles:
  - name: alice
    login: false
databases:
  - name: appdb
    state: absent
  - name: reports
    owner: alice
YAML
pglift instance apply -f "$SCRATCH/objects2.yaml" --dry-run --diff
expect_status 0
expect_equal "the dry run lists what would change" "role alice: changed
database reports: created
database appdb: dropped" "$OUT"
pglift instance apply -f "$SCRATCH/objects2.yaml"
expect_status 0
expect_equal "says what was done" "instance objs: changed
role alice: changed
database reports: created
database appdb: dropped" "$ERR"
pglift role -i objs get alice -o json
expect_equal "alice no longer logs in" "False" "$(json_summary 'd["login"]')"
pglift database -i objs get appdb
expect_status 1
printf 'name: objs\nstate: absent\n' >"$SCRATCH/objs-absent.yaml"
pglift instance apply -f "$SCRATCH/objs-absent.yaml" -o json
expect_status 0
expect_equal "nothing left of it" "" "$(leftovers objs)"

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
