#!/usr/bin/env bash
# As root: libpglift refuses to run (pglift.h: "It refuses to run as root"), through the C ABI
# (pglift_settings_load and pglift_ctx_new fail with PGLIFT_E_UNSUPPORTED) and through the CLI (exit 1,
# a clear message, nothing created). Appends one result to a meson-style test log for the summary.
#   check-root.sh BUILD_DIR LOG
set -uo pipefail
build=$1 log=$2
[ "$(id -u)" -eq 0 ] || { echo "check-root.sh: run as root" >&2; exit 2; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=()

out=$(env SETTINGS="{\"prefix\": \"$scratch/p\", \"run_prefix\": \"$scratch/p/run\"}" \
  "$build/examples/cli/pglift" instance list 2>&1)
code=$?
[ "$code" -eq 1 ] || failures+=("CLI exit status $code, expected 1")
[[ $out == *"cannot be used as root"* ]] || failures+=("CLI message: $out")
[ ! -e "$scratch/p" ] || failures+=("the CLI created $scratch/p")

python3 - "$build/capi/libpglift.so" <<'PY' || failures+=("C ABI: see above")
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.pglift_error_message.restype = ctypes.c_char_p
err, ctx, settings = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
rc_ctx = lib.pglift_ctx_new(None, ctypes.byref(ctx), ctypes.byref(err))
message = lib.pglift_error_message(err).decode() if err else ""
rc_load = lib.pglift_settings_load(ctypes.byref(settings), None)
ok = rc_ctx == -6 and rc_load == -6 and not ctx and "root" in message
print(f"C ABI as root: pglift_ctx_new {rc_ctx} ({message}), pglift_settings_load {rc_load}")
sys.exit(0 if ok else 1)
PY

if [ ${#failures[@]} -eq 0 ]; then
  echo "check-root: libpglift refuses root (CLI and C ABI)"
  echo '{"name": "refuses-root", "result": "OK"}' >>"$log"
else
  printf 'check-root: FAIL: %s\n' "${failures[@]}"
  echo '{"name": "refuses-root", "result": "FAIL"}' >>"$log"
  exit 1
fi
