#!/usr/bin/env bash
# CLI transcript of `pglift database` and `pglift instance privileges`: one instance in a throw-away
# prefix; create, get, list, alter, run (its confirmation), privileges, drop; errors and exit statuses.
# Usage: databases_transcript.sh PGLIFT_EXE      (as an unprivileged user)
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
echo "# prefix $PREFIX, port $PORT"

pglift database -i main list
expect_status 2
expect_match "no instance yet" "instance 'main' not found" "$ERR"

pglift instance create main --port "$PORT"
expect_status 0

pglift database create
expect_status 2
expect_match "says NAME is required" 'NAME' "$ERR"

pglift -L INFO database -i main create app --schema s1 --extension hstore
expect_status 0
expect_match "logs the creation" "creating 'app' database on instance 15/main" "$ERR"
pglift database -i main create app
expect_status 1
expect_match "says it exists" '^Error: database already exists$' "$ERR"
pglift database -i main create broken --extension no_such_extension_x
expect_status 1
expect_match "names the extension" 'no_such_extension_x' "$ERR"
pglift database -i main create "bad
name"
expect_status 1
expect_match "names the field" "for field 'name': must not contain control characters" "$ERR"

pglift database -i main get app -o json
expect_status 0
expect_equal "get -o json" "app postgres ['s1'] ['hstore'] None" \
  "$(json_summary '" ".join(map(str, [d["name"], d["owner"], [s["name"] for s in d["schemas"] if s["name"] != "public"], [e["name"] for e in d["extensions"]], d["tablespace"]]))')"
pglift database -i main get nope
expect_status 1
expect_match "not found" "^Error: database 'nope' not found$" "$ERR"

pglift database -i main list -o json
expect_status 0
expect_equal "lists postgres, template1, app (not template0 nor broken)" "['app', 'postgres', 'template1']" \
  "$(json_summary 'sorted(x["name"] for x in d)')"
pglift database -i main list app postgres -x postgres
expect_status 0
expect_match "table header" '^name +owner +encoding' "$OUT"
expect_match "the app row" '^app +postgres +UTF8' "$OUT"
expect_no_match "no postgres row" '^postgres ' "$OUT"

pglift database -i main alter app --add-schema s2 --remove-schema s1 --remove-extension hstore --add-extension citext
expect_status 0
pglift database -i main get app -o json
expect_equal "after alter" "['public', 's2'] ['citext']" \
  "$(json_summary '" ".join(map(str, [sorted(s["name"] for s in d["schemas"]), [e["name"] for e in d["extensions"]]]))')"

# run: confirmation listing the target databases, on a terminal; --yes or --non-interactive skip it.
on_terminal $'n\n' "$PGLIFT database -i main run 'SELECT 1' -d app -d postgres"
expect_status 1
expect_match "asks listing the databases" 'database\(s\) app, postgres\?' "$OUT"
pglift -L INFO database -i main run "CREATE TABLE t (i int)" -d app --yes
expect_status 0
expect_match "logs what runs where" '"CREATE TABLE t \(i int\)" on app database of 15/main' "$ERR"
expect_match "logs the status" 'CREATE TABLE' "$ERR"
pglift --non-interactive database -i main run "SELECT current_database() AS db" -x template1 -o json
expect_status 0
expect_equal "rows per database" "{'app': [{'db': 'app'}], 'postgres': [{'db': 'postgres'}]}" "$(json_summary 'd')"
pglift -L INFO --non-interactive database -i main run "CREATE ROLE bob PASSWORD 'CanarySecret9'" -d postgres
expect_status 0
expect_no_match "masks the password in the log" 'CanarySecret9' "$ERR"
expect_match "shows the masked statement" "PASSWORD '\*+'" "$ERR"
pglift --non-interactive database -i main run "GRANT SELECT ON t TO bob" -d app
expect_status 0

pglift database -i main privileges app -r bob -o json
expect_status 0
expect_equal "bob's privileges" "[('app', 'public', 't', 'TABLE', 'bob', ['SELECT'])]" \
  "$(json_summary '[(x["database"], x["schema"], x["object_name"], x["object_type"], x["role"], x["privileges"]) for x in d]')"
pglift instance privileges main -r bob
expect_status 0
expect_match "table row" '^app +public +t +TABLE +bob +SELECT' "$OUT"
pglift instance privileges main -r nobody
expect_status 1
expect_match "unknown role" "^Error: role 'nobody' not found$" "$ERR"

pglift database -i main drop app
expect_status 0
pglift database -i main drop app
expect_status 1
expect_match "not found" "^Error: database 'app' not found$" "$ERR"

pglift instance stop main
pglift -L INFO database -i main list -o json
expect_status 0
expect_match "starts the stopped instance for it" 'is not running: starting it for this operation' "$ERR"
expect_equal "lists the databases" "True" "$(json_summary 'any(x["name"] == "postgres" for x in d)')"
pglift instance status main
expect_status 3

pglift --non-interactive instance drop main
expect_status 0

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
