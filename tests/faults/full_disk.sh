#!/usr/bin/env bash
# Fault test (issue 14): a full disk. The instances' directory (srv/) is a small tmpfs, mounted without
# root in a user and mount namespace of our own (the user keeps its uid: pglift and PostgreSQL run as
# usual; the mount is gone with the namespace). When the machine forbids unprivileged user namespaces the
# test says so and exits 77 (meson's "skipped"): there is no other way to a full disk without root.
# With the disk full: `pgconf set` fails saying so and leaves postgresql.conf as it was (no temporary file
# left); a create fails, leaving nothing; once space is freed the instance starts with its old settings.
# Usage: full_disk.sh PGLIFT_EXE   (as an unprivileged user; PostgreSQL 15)
set -u -o pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fault_args "PGLIFT_EXE" "$@"

if [[ -z ${FULL_DISK_IN_NAMESPACE:-} ]]; then
  unshare_cmd=(unshare --user --map-user="$(id -u)" --map-group="$(id -g)" --mount --keep-caps)
  if ! why=$("${unshare_cmd[@]}" true 2>&1); then
    echo "SKIP: cannot make a small filesystem without root here: unprivileged user namespaces are unavailable ($why)"
    exit 77
  fi
  FULL_DISK_IN_NAMESPACE=1 exec "${unshare_cmd[@]}" bash "$0" "$@"
fi

fault_begin
mkdir -p "$PREFIX/srv"
"$PYTHON" - "$PREFIX/srv" <<'PY' || { echo "FAIL: could not mount a tmpfs on $PREFIX/srv" >&2; exit 1; }
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.mount(b"tmpfs", sys.argv[1].encode(), b"tmpfs", 0, b"size=96m,mode=0750") != 0:
    sys.exit("mount: " + os.strerror(ctypes.get_errno()))
PY
FAULT_MOUNT=$PREFIX/srv
echo "# prefix $PREFIX, srv/ on a 96 MB tmpfs"

PORT=$(free_port)
pglift instance create pg1 --port "$PORT" --state stopped
expect_status 0
CONF=$PREFIX/srv/pgsql/15/pg1/data/postgresql.conf
CONF_BEFORE=$(cat "$CONF")
FILES_BEFORE=$(find "$PREFIX/srv/pgsql/15/pg1" | sort)

# Fill the disk to the last byte.
dd if=/dev/zero of="$PREFIX/srv/filler" bs=1M 2>/dev/null
dd if=/dev/zero of="$PREFIX/srv/filler2" bs=4k 2>/dev/null
dd if=/dev/zero of="$PREFIX/srv/filler3" bs=1 2>/dev/null
COMMAND="fill the tmpfs"
expect_equal "the disk is full" "0" "$(df --output=avail "$PREFIX/srv" | tail -n 1 | tr -d ' ')"

pglift pgconf -i pg1 set work_mem=8MB
expect_status 1
expect_within 30
expect_match "says the disk is full" 'No space left on device' "$ERR"
expect_equal "postgresql.conf is as it was" "$CONF_BEFORE" "$(cat "$CONF")"
expect_equal "no file is added or removed in pg1" "$FILES_BEFORE" "$(find "$PREFIX/srv/pgsql/15/pg1" | sort)"

pglift instance create pg2 --port "$(free_port)"
expect_status 1
expect_within 60
expect_match "says the disk is full" 'No space left on device' "$ERR"
expect_nothing_running
expect_no_files pg2

pglift instance start pg1
expect_status 1
expect_within 60
expect_nothing_running

# Space again: pg1 starts with its old settings.
rm -f "$PREFIX"/srv/filler*
pglift instance start pg1
expect_status 0
expect_running pg1
pglift instance exec pg1 -- psql -tAc 'show work_mem'
expect_equal "work_mem is the old one" "4MB" "$OUT"
pglift pgconf -i pg1 set work_mem=8MB
expect_status 0
fault_end
