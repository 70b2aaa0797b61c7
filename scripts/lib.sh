# shellcheck shell=bash
# Shared by the root entry points (test.sh, demo.sh, stress-patroni.sh, bench/run.sh; sourced, run as
# root): the unprivileged user, running as it, building, summing up test logs.
PGLIFT_USER=${PGLIFT_USER:-pglift-test}
PGLIFT_USER_HOME=/var/lib/$PGLIFT_USER

# The setup every root entry point shares: root check, packages, the unprivileged user, and a source
# tree that user can read. Sets `src`.  Usage: prepare_as_root SCRIPT_NAME REPO_DIR
prepare_as_root() {
  [ "$(id -u)" -eq 0 ] || { echo "$1: run as root (it installs packages and creates the user $PGLIFT_USER)" >&2; exit 1; }
  bash "$2/scripts/install-deps.sh"
  ensure_user
  src=$(readable_tree "$2")
}

ensure_user() {
  id "$PGLIFT_USER" >/dev/null 2>&1 ||
    useradd --system --create-home --home-dir "$PGLIFT_USER_HOME" --shell /bin/bash "$PGLIFT_USER"
}

# Runs a command as the unprivileged user, with a clean environment. setpriv (not runuser, which
# kills its child 2 s after a SIGTERM) keeps our process tree simple. The command runs from the
# current directory when the user can enter and read it, else from the user's home (or /): a clone
# under /root is closed to the user, and tools that chdir back to where they started (meson test)
# stop there with EACCES. The sh in between execs, so the command keeps setpriv's PID.
# shellcheck disable=SC2016 # the sh script's $1 and $HOME are that sh's
as_user() {
  setpriv --reuid="$PGLIFT_USER" --regid="$PGLIFT_USER" --init-groups \
    env -i HOME="$PGLIFT_USER_HOME" USER="$PGLIFT_USER" LOGNAME="$PGLIFT_USER" LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ${CI:+CI="$CI"} \
    sh -c 'if ! { cd -- "$1" 2>/dev/null && [ -r . ]; }; then cd -- "$HOME" 2>/dev/null || cd /; fi
           shift; exec "$@"' as_user "$PWD" "$@"
}

# Prints a source tree the user can read: the checkout itself, or a copy when a parent directory is
# closed to it (a clone under /root, say). The copy goes to $PGLIFT_SRC_COPY (default
# /var/tmp/pglift-src), replaced on each run.
readable_tree() {
  local src=$1
  if as_user test -r "$src/meson.build" -a -x "$src/src"; then
    echo "$src"
  else
    local copy=${PGLIFT_SRC_COPY:-/var/tmp/pglift-src}
    rm -rf "$copy" && mkdir -p "$copy"
    (cd "$src" && tar --exclude='./build*' -cf - .) | (cd "$copy" && tar -xf -)
    chown -R "$PGLIFT_USER" "$copy"
    echo "$copy"
  fi
}

# Configures and builds $2 (a fresh build directory owned by the user) from source tree $1.
build_as_user() {
  local src=$1 build=$2
  shift 2
  rm -rf "$build" && mkdir -p "$build" && chown "$PGLIFT_USER" "$build"
  as_user test -w "$build" -a -x "$build" ||
    { echo "build directory $build: $PGLIFT_USER cannot reach it (a parent directory is closed to it); choose one under /var/tmp" >&2; return 1; }
  as_user meson setup "$build" "$src" --wrap-mode=nofallback -Dbuildtype=debug "$@" >"$build.setup.log" 2>&1 ||
    { cat "$build.setup.log"; return 1; }
  as_user ninja -C "$build" -j"$(nproc)"
}

# Prints "N passed, M failed[, K skipped]" over meson's testlog.json files; fails when a test failed,
# when a log is missing (its run stopped before writing it: say which, rather than a traceback) or when
# no test ran at all.  Usage: summarize_testlogs LOG...
summarize_testlogs() {
  python3 - "$@" <<'PY'
import json, sys
passed = failed = skipped = 0
missing = []
for log in sys.argv[1:]:
    try:
        lines = open(log).read().splitlines()
    except OSError as e:
        missing.append(f"{log}: {e.strerror}")
        continue
    for line in filter(None, lines):
        result = json.loads(line)["result"]
        if result in ("OK", "EXPECTEDFAIL"): passed += 1
        elif result == "SKIP": skipped += 1
        else: failed += 1
for m in missing:
    print(f"no test log {m} (that run did not complete): counted as a failure")
failed += len(missing)
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
if passed + failed + skipped == 0:
    print("no test ran")
sys.exit(1 if failed or passed + failed + skipped == 0 else 0)
PY
}
