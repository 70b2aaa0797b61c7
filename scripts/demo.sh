#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine, as root: installs the packages and builds the pglift CLI;
# then, as an unprivileged user, starts a local etcd and walks through pglift's high-availability page:
# two Patroni members pg1 and pg2 of cluster pgdemo, data written on the leader read on the replica,
# a switchover, the topology, and the drop of both members with the removal of the cluster from etcd.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

# shellcheck source=lib.sh
source "$here/scripts/lib.sh"
prepare_as_root demo.sh "$here"
build=${PGLIFT_DEMO_BUILD:-/var/tmp/pglift-demo-build}
echo "== building the pglift CLI in $build"
build_as_user "$src" "$build" -Dtests=false

as_user bash -s "$build/examples/cli/pglift" "$src/scripts/ha-lib.sh" <<'DEMO'
set -euo pipefail
pglift=$1
source "$2"
prefix=$(mktemp -d /tmp/pglift-demo.XXXXXX)
cleanup() {
  stop_leftovers "$prefix"
  stop_etcd
  rm -rf "$prefix"
}
trap cleanup EXIT
run() { echo; echo "\$ pglift $*"; "$pglift" "$@"; }

echo "== starting a local etcd"
start_etcd "$prefix/etcd"
echo "etcd at $ETCD_ENDPOINT (PID $ETCD_PID)"
export SETTINGS="{\"prefix\": \"$prefix\", \"run_prefix\": \"$prefix/run\", \"patroni\": {\"etcd\": {\"hosts\": [\"$ETCD_ENDPOINT\"]}}}"
p1=$(free_port); p2=$(free_port); r1=$(free_port); r2=$(free_port)

run --version
run -L INFO instance create pg1 --port "$p1" --patroni-cluster=pgdemo --patroni-node=pg1 \
  --patroni-restapi-connect-address="127.0.1.1:$r1" --patroni-postgresql-connect-host=127.0.1.1
run -L INFO instance create pg2 --port "$p2" --patroni-cluster=pgdemo --patroni-node=pg2 \
  --patroni-restapi-connect-address="127.0.1.2:$r2" --patroni-postgresql-connect-host=127.0.1.2
run instance get pg1 -o json
run instance list
run instance exec pg1 -- psql -tAc "create table demo as select 'written on pg1 at ' || now() as message"
echo "(reading it on the replica pg2)"
for _ in $(seq 100); do
  "$pglift" instance exec pg2 -- psql -tAc "select message from demo" 2>/dev/null && break
  sleep 0.1
done
run instance env pg2
run -L INFO patroni -i pg1 switchover --candidate pg2
run instance exec pg2 -- patronictl topology
run instance status pg1 || true   # exit 3 when a component is not running
run -L INFO --non-interactive instance drop pg2
run -L INFO --non-interactive instance drop pg1 --remove-cluster
echo
echo "\$ etcdctl get --prefix /service/pgdemo/ --keys-only   # nothing left"
env -i ETCDCTL_API=3 /usr/bin/etcdctl --endpoints="http://$ETCD_ENDPOINT" get --prefix /service/pgdemo/ --keys-only
echo "== stopping etcd"
DEMO
