# Sourced by the HA demo and the stress script, run as the unprivileged user: a private etcd for a
# prefix, started with a clean environment (etcd reads every ETCD_* variable as a flag), stopped by PID.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_etcd DIR [CLIENT_PORT PEER_PORT] -> sets ETCD_PID, ETCD_ENDPOINT and ETCD_PEER_PORT; waits
# (bounded, fine-grained) for /health. The ports of a previous start_etcd restart the same etcd.
start_etcd() {
  local dir=$1 client=${2:-} peer=${3:-}
  [ -n "$client" ] || client=$(free_port)
  [ -n "$peer" ] || peer=$(free_port)
  ETCD_PEER_PORT=$peer
  mkdir -p "$dir"
  env -i PATH=/usr/bin:/bin /usr/bin/etcd --name demo --data-dir "$dir/data" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "demo=http://127.0.0.1:$peer" --heartbeat-interval=10 --election-timeout=100 \
    --logger zap --log-outputs stderr --log-level warn >"$dir/etcd.log" 2>&1 &
  ETCD_PID=$!
  ETCD_ENDPOINT=127.0.0.1:$client
  python3 - "$ETCD_ENDPOINT" "$ETCD_PID" <<'PY' || { tail -n 20 "$dir/etcd.log" >&2; return 1; }
import os, sys, time, urllib.request
endpoint, pid = sys.argv[1], int(sys.argv[2])
deadline, delay = time.monotonic() + 15, 0.005
while True:
    try:
        if b"true" in urllib.request.urlopen(f"http://{endpoint}/health", timeout=1).read():
            sys.exit(0)
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("etcd exited at start")
    if time.monotonic() > deadline:
        sys.exit("etcd not healthy after 15s")
    time.sleep(delay)
    delay = min(delay * 2, 0.1)
PY
}

stop_etcd() {
  [ -n "${ETCD_PID:-}" ] || return 0
  kill "$ETCD_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$ETCD_PID" 2>/dev/null || break; sleep 0.05; done
  kill -9 "$ETCD_PID" 2>/dev/null || true
  ETCD_PID=
}

# shellcheck source=prefix-processes.sh
source "$(dirname "${BASH_SOURCE[0]}")/prefix-processes.sh"
# Stops whatever a prefix still runs (Patroni first, then postmasters), by the PIDs in its files.
stop_leftovers() { stop_prefix_processes "$1"; }
