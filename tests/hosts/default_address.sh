#!/usr/bin/env bash
# The default address of a Patroni member on a host with two NICs (issue 10, point 4), in network
# namespaces: a host namespace with two veth interfaces (198.18.0.1/25 and 198.18.0.129/25, the
# benchmarking range) whose peers live in a second namespace. Checks the choice of print_host_address
# (libpglift's, patroni/address.hpp):
#   - no default route, two addresses, a host name resolving to neither: an error asking for the options;
#   - a default route through either interface: that interface's address, whatever getifaddrs lists first;
#   - no default route, the host name resolving to one of them (/etc/netns/NS/hosts): that one;
#   - one interface left, no default route: its address.
# Everything it creates (namespaces, /etc/netns/NS) is removed on exit, on failure too.
# Usage: default_address.sh PRINT_HOST_ADDRESS   (as root; exits 77, skipped, without ip netns)
set -u -o pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 PRINT_HOST_ADDRESS" >&2
  exit 2
fi
PROBE=$(realpath "$1")
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: needs root (network namespaces)" >&2
  exit 77
fi
command -v ip >/dev/null && command -v unshare >/dev/null || { echo "SKIP: needs ip and unshare" >&2; exit 77; }

HOST=pglift-da-$$
PEER=pglift-dap-$$
HOST_NAME=pglift-da-host
PASSED=0
FAILED=0

cleanup() {
  ip netns del "$HOST" 2>/dev/null  # deleting a namespace deletes its veth ends, and their peers
  ip netns del "$PEER" 2>/dev/null
  rm -rf "/etc/netns/$HOST"
  rmdir /etc/netns 2>/dev/null  # only when empty
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail_setup() {
  echo "FAIL: setup: $*" >&2
  exit 1
}

# in_host COMMAND...: runs in the host namespace, with its own UTS namespace named $HOST_NAME (ip netns
# exec bind-mounts /etc/netns/$HOST/hosts over /etc/hosts when it exists).
in_host() {
  ip netns exec "$HOST" unshare --uts sh -c 'hostname "$1" && shift && exec "$@"' sh "$HOST_NAME" "$@"
}

# expect DESCRIPTION EXPECTED_STATUS PATTERN: runs the probe, checks its exit status and that its output
# (stdout and stderr) matches PATTERN (an extended regular expression).
expect() {
  local output status
  output=$(in_host "$PROBE" 2>&1)
  status=$?
  if [[ $status -eq $2 ]] && grep -Eq -- "$3" <<<"$output"; then
    echo "ok - $1"
    PASSED=$((PASSED + 1))
  else
    echo "not ok - $1"
    echo "  expected status $2 and /$3/, got status $status: $output"
    FAILED=$((FAILED + 1))
  fi
}

ip netns add "$HOST" || fail_setup "ip netns add $HOST"
ip netns add "$PEER" || fail_setup "ip netns add $PEER"
for i in 0 1; do
  ip link add "h$i-$$" netns "$HOST" type veth peer name "p$i-$$" netns "$PEER" || fail_setup "veth pair $i"
done
ip -n "$HOST" addr add 198.18.0.1/25 dev "h0-$$" || fail_setup "address of h0"
ip -n "$HOST" addr add 198.18.0.129/25 dev "h1-$$" || fail_setup "address of h1"
ip -n "$PEER" addr add 198.18.0.2/25 dev "p0-$$" || fail_setup "address of p0"
ip -n "$PEER" addr add 198.18.0.130/25 dev "p1-$$" || fail_setup "address of p1"
for dev in lo "h0-$$" "h1-$$"; do ip -n "$HOST" link set "$dev" up || fail_setup "$dev up"; done
for dev in lo "p0-$$" "p1-$$"; do ip -n "$PEER" link set "$dev" up || fail_setup "$dev up"; done
mkdir -p "/etc/netns/$HOST"
printf '127.0.0.1 localhost\n127.0.1.1 %s\n' "$HOST_NAME" >"/etc/netns/$HOST/hosts"  # Debian's usual entry

expect "no default route, two addresses, the host name on loopback: asks for the options" 1 \
  "cannot choose this host's address.*198\.18\.0\.1.*198\.18\.0\.129.*--patroni-restapi-connect-address and --patroni-postgresql-connect-host"

ip -n "$HOST" route add default via 198.18.0.130 dev "h1-$$" || fail_setup "default route via h1"
expect "a default route through the second interface: its address" 0 "^198\.18\.0\.129$"
ip -n "$HOST" route replace default via 198.18.0.2 dev "h0-$$" || fail_setup "default route via h0"
expect "a default route through the first interface: its address" 0 "^198\.18\.0\.1$"

ip -n "$HOST" route del default || fail_setup "route del default"
printf '127.0.0.1 localhost\n198.18.0.129 %s\n' "$HOST_NAME" >"/etc/netns/$HOST/hosts"
expect "no default route, the host name resolving to the second address: that one" 0 "^198\.18\.0\.129$"

printf '127.0.0.1 localhost\n127.0.1.1 %s\n' "$HOST_NAME" >"/etc/netns/$HOST/hosts"
ip -n "$HOST" link del "h1-$$" || fail_setup "link del h1"
expect "one interface left, no default route: its address" 0 "^198\.18\.0\.1$"

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
