#!/usr/bin/env bash
# The benchmark of issue 13, as root:  bash bench/run.sh [--quick] [--only PHASE,...] [--runs N]
# Builds a release build in $PGLIFT_BENCH_BUILD (default /var/tmp/pglift-bench-build; an existing release
# build of this source tree is brought up to date with ninja, PGLIFT_BENCH_FRESH=1 rebuilds from scratch),
# compiles bench/floor.c, capi_get.c and peak_rss.c, runs bench/run.py as the unprivileged user, then copies
# its results into bench/results.json (its "hosts" key kept). Prints the table; exit status 1 when an
# entry could not be measured or, without --quick, a goal of bench/goals.json is missed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/lib.sh"
t0=$SECONDS
prepare_as_root bench/run.sh "$here"
build=${PGLIFT_BENCH_BUILD:-/var/tmp/pglift-bench-build}

# Reuse only a release build configured from this very source tree, without tests and bindings.
reusable() {
  python3 - "$build" "$src" <<'PY'
import json, os, sys
build, src = sys.argv[1:]
try:
    info = json.load(open(f"{build}/meson-info/meson-info.json"))
    options = {o["name"]: o["value"] for o in json.load(open(f"{build}/meson-info/intro-buildoptions.json"))}
except (OSError, ValueError):
    sys.exit(1)
same = os.path.realpath(info["directories"]["source"]) == os.path.realpath(src)
sys.exit(0 if same and options.get("buildtype") == "release" and options.get("tests") is False
         and options.get("bindings") is False else 1)
PY
}
# PGLIFT_BENCH_ANY_BUILD=1 (CI, which asserts no timing, only that every entry is measured and written):
# $PGLIFT_BENCH_BUILD is used as it is, whatever its build type (the test build), rather than a release
# build of its own; its figures are not for the goals.
if [[ ${PGLIFT_BENCH_ANY_BUILD:-0} == 1 && -f $build/build.ninja ]]; then
  echo "bench: using the build $build as it is (PGLIFT_BENCH_ANY_BUILD: its timings are not for the goals)"
  as_user ninja -C "$build" -j"$(nproc)" >"$build.ninja.log" 2>&1 || { tail -n 40 "$build.ninja.log"; exit 1; }
elif [[ ${PGLIFT_BENCH_FRESH:-0} != 1 ]] && reusable; then
  echo "bench: bringing the release build $build up to date"
  as_user ninja -C "$build" -j"$(nproc)" >"$build.ninja.log" 2>&1 || { tail -n 40 "$build.ninja.log"; exit 1; }
else
  echo "bench: release build in $build"
  build_as_user "$src" "$build" -Dtests=false -Dbuildtype=release -Dbindings=false >"$build.build.log" 2>&1 ||
    { tail -n 40 "$build.build.log"; exit 1; }
fi
t_build=$((SECONDS - t0))

# The helpers, compiled as the user would compile a program against the library and libpq.
as_user mkdir -p "$build/bench"
# shellcheck disable=SC2046 # word splitting of pkg-config's flags is wanted
as_user cc -std=c11 -O2 -Wall -Wextra -Werror "$src/bench/floor.c" $(pkg-config --cflags --libs libpq) \
  -o "$build/bench/floor"
# shellcheck disable=SC2046
as_user cc -std=c11 -O2 -Wall -Wextra -Werror "$src/bench/capi_get.c" \
  $(PKG_CONFIG_PATH=$build/meson-uninstalled pkg-config --cflags --libs libpglift) \
  $(pkg-config --cflags --libs libpq) -Wl,-rpath,"$build/capi" -o "$build/bench/capi_get"
as_user cc -std=c11 -O2 -Wall -Wextra -Werror "$src/bench/peak_rss.c" -o "$build/bench/peak_rss"

# In the background, so that a signal is passed on at once: run.py (the child of the subshell running
# as_user) stops what it started, then exits.
out=$build/bench/results.json
rm -f "$out"
as_user python3 "$src/bench/run.py" --cli "$build/examples/cli/pglift" --floor "$build/bench/floor" \
  --capi-get "$build/bench/capi_get" --peak-rss "$build/bench/peak_rss" --out "$out" "$@" &
child=$!
trap 'kill -TERM $(ps -o pid= --ppid "$child") 2>/dev/null; wait "$child"; exit 143' INT TERM
status=0
wait "$child" || status=$?
trap - INT TERM

if [[ -f $out ]]; then
  python3 "$here/bench/report.py" --merge "$out" "$here/bench/results.json"
  echo "bench: -> $here/bench/results.json (README table: python3 bench/report.py --readme README.md)"
fi
echo "bench: build ${t_build}s, measures $((SECONDS - t0 - t_build))s, total $((SECONDS - t0))s; exit status $status"
exit "$status"
