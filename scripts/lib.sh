# Shared by demo.sh and test.sh (sourced, run as root): the unprivileged user, running as it, building.
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
# kills its child 2 s after a SIGTERM) keeps our process tree simple.
as_user() {
  setpriv --reuid="$PGLIFT_USER" --regid="$PGLIFT_USER" --init-groups \
    env -i HOME="$PGLIFT_USER_HOME" USER="$PGLIFT_USER" LOGNAME="$PGLIFT_USER" LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ${CI:+CI="$CI"} "$@"
}

# Prints a source tree the user can read: the checkout itself, or a copy when a parent directory is
# closed to it (a clone under /root, say).
readable_tree() {
  local src=$1
  if as_user test -r "$src/meson.build" -a -x "$src/src"; then
    echo "$src"
  else
    local copy=/var/tmp/pglift-src
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
  as_user meson setup "$build" "$src" --wrap-mode=nofallback -Dbuildtype=debug "$@" >"$build.setup.log" 2>&1 ||
    { cat "$build.setup.log"; return 1; }
  as_user ninja -C "$build" -j"$(nproc)"
}
