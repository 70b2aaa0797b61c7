#!/usr/bin/env bash
# The sanitizer builds of the test suite (called by test.sh, as root, in the background at the lowest CPU
# and I/O priority while the first test runs go on): ASAN_BUILD, the whole library and its tests under
# ASan+UBSan, then TSAN_BUILD, only the library and the C ABI tests under ThreadSanitizer. Each part is
# skipped as test.sh skips its run (PGLIFT_TEST_SANITIZERS=0, PGLIFT_TEST_TSAN=0).
#   Usage: sanitizer-builds.sh SRC ASAN_BUILD TSAN_BUILD
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
source "$here/scripts/lib.sh"
src=$1 asan_build=$2 tsan_build=$3

if [ "${PGLIFT_TEST_SANITIZERS:-1}" != 0 ]; then
  echo "== building with ASan+UBSan in $asan_build ($(date -u +%T))"
  build_as_user "$src" "$asan_build" -Db_sanitize=address,undefined -Dexamples=false
fi

if [ "${PGLIFT_TEST_TSAN:-1}" != 0 ]; then
  echo "== building the C ABI tests with ThreadSanitizer in $tsan_build ($(date -u +%T))"
  rm -rf "$tsan_build" && mkdir -p "$tsan_build" && chown "$PGLIFT_USER" "$tsan_build"
  as_user meson setup "$tsan_build" "$src" --wrap-mode=nofallback -Dbuildtype=debug -Db_sanitize=thread \
    -Dexamples=false -Dbindings=false >"$tsan_build.setup.log" 2>&1 || { cat "$tsan_build.setup.log"; exit 1; }
  # The tests, and the supervisor's copy next to the library (the Patroni sweep starts Patroni under it).
  tsan_targets="$(cd "$src/tests/capi" && ls test_*.c | sed 's|^test_\(.*\)\.c$|tests/capi/test_capi_\1|') capi/pglift-supervisor"
  # shellcheck disable=SC2086 # one target per word
  as_user ninja -C "$tsan_build" -j"$(nproc)" $tsan_targets
fi
echo "== sanitizer builds done ($(date -u +%T))"
