#!/usr/bin/env bash
# Atomic writes are durable: the file is fsync'ed before its rename and its directory after it.
# Traces the unit test that writes twice with strace and counts the syncs. Skipped (77) without strace.
set -euo pipefail
unit_tests=$1
command -v strace >/dev/null || { echo "strace not installed: skipped"; exit 77; }
trace=$(mktemp)
trap 'rm -f "$trace"' EXIT
# LeakSanitizer cannot run under ptrace: in a sanitizer build, leaks are the unit suite's to find.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
  strace -f -qq -e trace=fsync,fdatasync,rename,renameat,renameat2 -o "$trace" \
  "$unit_tests" -tc='an atomic write replaces the file whole*' >/dev/null
syncs=$(grep -cE '(fsync|fdatasync)\(' "$trace" || true)
renames=$(grep -cE 'rename(at2?)?\(' "$trace" || true)
echo "writes traced: $renames renames, $syncs syncs"
# Two writes: each syncs its temporary file, then (after the rename) its directory.
if [ "$renames" -lt 2 ] || [ "$syncs" -lt $((2 * renames)) ]; then
  echo "FAIL: expected 2 syncs per rename"; grep -E 'fsync|fdatasync|rename' "$trace"; exit 1
fi
# The file's sync comes before its rename.
first_sync=$(grep -nE '(fsync|fdatasync)\(' "$trace" | head -1 | cut -d: -f1)
first_rename=$(grep -nE 'rename(at2?)?\(' "$trace" | head -1 | cut -d: -f1)
[ "$first_sync" -lt "$first_rename" ] || { echo "FAIL: rename before the file's sync"; cat "$trace"; exit 1; }
echo ok
