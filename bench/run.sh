#!/usr/bin/env bash
# Builds (release) and runs the benchmark as the unprivileged user. As root: bash bench/run.sh [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/lib.sh"
prepare_as_root bench/run.sh "$here"
build=${PGLIFT_BENCH_BUILD:-/var/tmp/pglift-bench-build}
build_as_user "$src" "$build" -Dtests=false -Dbuildtype=release -Dbindings=false
as_user python3 "$src/bench/run.py" "$build/examples/cli/pglift" "${1:-5}"
