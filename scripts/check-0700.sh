#!/usr/bin/env bash
# Self-check, as root, of the newcomer's path (called by test.sh, before the long build): a clone in a
# directory closed to the unprivileged user (root's 0700 home, say). From such a directory, it runs the
# very steps test.sh runs as the user — readable_tree, build_as_user, meson test, the summary — on a
# one-test meson project, and fails loudly when one of them depends on reading root's current directory.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "check-0700.sh: run as root" >&2; exit 1; }
ensure_user

closed=$(mktemp -d /tmp/pglift-check-0700.XXXXXX)         # 0700, root's: closed to the user
copy=$(mktemp -d /var/tmp/pglift-check-0700-src.XXXXXX)
build=$copy-build
trap 'rm -rf "$closed" "$copy" "$build" "$build.setup.log"' EXIT
fail() { echo "check-0700.sh: FAILED: $*" >&2; exit 1; }

clone=$closed/clone
mkdir -m 0700 "$clone" "$clone/src"
cat >"$clone/meson.build" <<'MESON'
project('check-0700')
test('cwd-readable', find_program('python3'), args: ['-c', 'import os; os.listdir(os.getcwd())'])
MESON
cd "$clone"

as_user python3 -c 'import os; os.chdir(os.getcwd()); os.listdir(".")' ||
  fail "as_user runs its command from root's current directory $clone, which the user cannot enter"
src=$(PGLIFT_SRC_COPY=$copy readable_tree "$clone")
[ "$src" = "$copy" ] || fail "readable_tree gave $src for a tree under a 0700 directory, not a copy in $copy"
build_as_user "$src" "$build" >"$closed/build.log" 2>&1 || { cat "$closed/build.log"; fail "build_as_user from $clone"; }
as_user meson test -C "$build" >"$closed/test.log" 2>&1 || { cat "$closed/test.log"; fail "as_user meson test from $clone"; }
summary=$(summarize_testlogs "$build/meson-logs/testlog.json") || fail "summary: $summary"
[ "$summary" = "1 passed, 0 failed" ] || fail "summary says '$summary', not '1 passed, 0 failed'"
# A run that stopped before writing its log is a failure the summary names, not a traceback.
if summary=$(summarize_testlogs "$build/meson-logs/testlog.json" "$build/no-such-testlog.json" 2>&1); then
  fail "the summary passed with a missing log: $summary"
fi
if ! grep -q "^no test log $build/no-such-testlog.json" <<<"$summary" || ! grep -q "^1 passed, 1 failed$" <<<"$summary"; then
  fail "the summary of a missing log says: $summary"
fi
echo "== check-0700: the steps run as $PGLIFT_USER work from a 0700 directory"
