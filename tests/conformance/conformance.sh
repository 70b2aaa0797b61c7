#!/usr/bin/env bash
# The conformance test: the scenario (scenario.json) run by the C, Python (blocking and asyncio), Go
# and Rust runners one after the other, each in a prefix of its own, with ports picked just before it
# runs and a cluster scope of its own in the one private etcd; then compare.py checks every output
# against the scenario and all of them against each other. Runs inside tests/capi/with_prefix.sh with
# LIBPGLIFT_TEST_WITH_ETCD=1 (see README.md).
#   conformance.sh PYTHON GO CARGO RUSTC C_RUNNER EXAMPLES_DIR BUILD_ROOT [RUNNER...]
# RUNNER: c, python, python-aio (pglift.aio), go, rust (default: all five). A missing toolchain fails.
# shellcheck disable=SC2317  # the run_* functions are called as "run_$runner"
set -eu -o pipefail
python=$1 go=$2 cargo=$3 rustc=$4 c_runner=$5 examples=$6 build=$7
shift 7
runners=("$@")
[[ ${#runners[@]} -gt 0 ]] || runners=(c python python-aio go rust)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/prefix-processes.sh
source "$here/../../scripts/prefix-processes.sh"  # stop_prefix_processes
scenario=$here/scenario.json
: "${LIBPGLIFT_TEST_PREFIX:?run through tests/capi/with_prefix.sh}"
: "${LIBPGLIFT_TEST_ETCD:?run through tests/capi/with_prefix.sh with LIBPGLIFT_TEST_WITH_ETCD=1}"
out=$LIBPGLIFT_TEST_PREFIX/conformance
mkdir -p "$out"
export PKG_CONFIG_PATH=$build/meson-uninstalled  # libpglift-uninstalled.pc
export LD_LIBRARY_PATH=$build/capi${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# variables NAME: the placeholders' values for one runner, as a JSON file (its path on stdout). Ports
# are picked now, free at this moment; the previous runner dropped its instances.
variables() {
  "$python" - "$1" "$LIBPGLIFT_TEST_PREFIX" "$LIBPGLIFT_TEST_ETCD" "$out/$1.vars.json" <<'PY'
import json, secrets, socket, sys
name, prefix, etcd, path = sys.argv[1:]
def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
v = {"PREFIX": f"{prefix}/{name}", "ETCD": etcd, "SCOPE": f"conform-{name}-{secrets.token_hex(3)}",
     "PORT_PLAIN": free_port("127.0.0.1"), "PORT1": free_port("127.0.0.1"), "PORT2": free_port("127.0.0.1"),
     "API1": free_port("127.0.1.1"), "API2": free_port("127.0.1.2")}
with open(path, "w") as f:
    json.dump(v, f)
print(path)
PY
}

# The runners, called as "run_$runner" VARIABLES OUTPUT.
run_c() { "$c_runner" "$scenario" "$1" "$2"; }
run_python() { LIBPGLIFT_PATH=$build/capi/libpglift.so PYTHONPATH=$examples/python PYTHONDONTWRITEBYTECODE=1 \
  "$python" "$here/run.py" "$scenario" "$1" "$2"; }
run_python-aio() { LIBPGLIFT_PATH=$build/capi/libpglift.so PYTHONPATH=$examples/python PYTHONDONTWRITEBYTECODE=1 \
  "$python" "$here/run.py" --aio "$scenario" "$1" "$2"; }
run_go() {
  local work
  work=$(mktemp -d "$LIBPGLIFT_TEST_PREFIX/go.XXXXXX")
  # As tests/bindings/go.sh: offline, caches in a throw-away directory (the module cache is read-only).
  (cd "$examples/go" &&
    GOCACHE=$work/cache GOPATH=$work/path GOTMPDIR=$work GOENV=off GOFLAGS="-mod=mod -buildvcs=false" \
      GOPROXY=off GOSUMDB=off GO111MODULE=on CGO_ENABLED=1 \
      LIBPGLIFT_CONFORMANCE_SCENARIO=$scenario LIBPGLIFT_CONFORMANCE_VARS=$1 \
      LIBPGLIFT_CONFORMANCE_OUTPUT=$2 "$go" test -count=1 -run '^TestConformance$' -v .)
  local status=$?
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work"
  return "$status"
}
run_rust() {
  # As tests/bindings/rust.sh: offline, the target directory in the build tree (shared with it).
  CARGO_HOME=$build/rust/cargo-home CARGO_TARGET_DIR=$build/rust/target RUSTC=$rustc CARGO_NET_OFFLINE=true \
    CARGO_TERM_COLOR=never LIBPGLIFT_CONFORMANCE_SCENARIO=$scenario LIBPGLIFT_CONFORMANCE_VARS=$1 \
    LIBPGLIFT_CONFORMANCE_OUTPUT=$2 \
    "$cargo" test --offline --locked --manifest-path "$examples/rust/Cargo.toml" --test conformance -- --nocapture
}

outputs=()
failed=0
for runner in "${runners[@]}"; do
  vars=$(variables "$runner")
  echo "=== $runner ($(date -u +%T))"
  mkdir -p "$LIBPGLIFT_TEST_PREFIX/$runner"
  if ! "run_$runner" "$vars" "$out/$runner.jsonl"; then
    echo "FAIL: the $runner runner failed"
    failed=1
  fi
  # What a failed runner left running (its Patroni first) stops now, not after the other runners.
  stop_prefix_processes "$LIBPGLIFT_TEST_PREFIX/$runner"
  outputs+=("$out/$runner.jsonl")
  echo "=== $runner done ($(date -u +%T))"
done
"$python" "$here/compare.py" "$scenario" "${outputs[@]}" || failed=1
exit $failed
