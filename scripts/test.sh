#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine, as root: installs the packages, builds, and runs
# every meson suite as an unprivileged user (PostgreSQL refuses root). Ends with "N passed, M failed".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "test.sh: run as root (it installs packages and creates the test user)" >&2; exit 1; }

bash "$here/scripts/install-deps.sh"
# shellcheck source=lib.sh
source "$here/scripts/lib.sh"
ensure_user
src=$(readable_tree "$here")
build=${PGLIFT_TEST_BUILD:-/var/tmp/pglift-test-build}

echo "== building in $build"
build_as_user "$src" "$build"

echo "== running tests as $PGLIFT_USER"
status=0
as_user meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || status=$?

# The runner's summary, then ours, last.
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    result = json.loads(line)["result"]
    if result in ("OK", "EXPECTEDFAIL"): passed += 1
    elif result == "SKIP": skipped += 1
    else: failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
