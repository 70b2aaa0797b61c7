#!/usr/bin/env bash
# Installs every Debian package libpglift needs on a fresh Debian 12 (bookworm) machine: the build stack,
# PostgreSQL 15, Patroni and etcd, and the tools the tests and bindings use. Idempotent; run as root.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "install-deps.sh: run as root" >&2; exit 1; }

packages=(
  # build stack (never the unversioned libboost-dev: it is 1.74 and conflicts with 1.81)
  g++ meson ninja-build pkg-config cmake python3 git
  libboost1.81-dev libyaml-cpp-dev rapidjson-dev libfmt-dev libpq-dev doctest-dev libcli11-dev libssl-dev
  # what we manage
  postgresql-15 postgresql-client-15 patroni etcd-server etcd-client
  # tests and demo: setpriv (util-linux), ps/pgrep (procps), ss (iproute2), strace (the fsync test)
  util-linux procps iproute2 ca-certificates openssl strace
  # binding examples: Go 1.19 (cgo), Rust 1.63 (no crates.io), Python 3 (ctypes)
  golang-go rustc cargo
)

export DEBIAN_FRONTEND=noninteractive
# Debian's postgresql-common creates and starts a "main" cluster on install; we manage our own instances.
mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/pglift.conf

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Patroni's and etcd's packages start system services where an init system runs; we start our own.
for svc in patroni etcd postgresql; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
    systemctl disable "$svc" >/dev/null 2>&1 || true
  fi
done
echo "install-deps: all packages present"
