# shellcheck shell=bash
# The hosts harness (sourced by the scripts of the `hosts` suite, run as ROOT): three simulated hosts
# h1..h3, each a network namespace plus its own UTS namespace (host name hN), joined by a bridge that
# lives in a fourth namespace, so that no interface of the root namespace is on their network
# (198.18.0.0/24, the benchmarking range, no default route). Each host runs one etcd member (a 3-member
# cluster, --pre-vote) and one pglift member (the CLI, its own prefix, no address options), both as the
# unprivileged user, inside the host's namespaces. Everything is torn down on exit, failure included:
# every process stopped by PID, the namespaces deleted, the temporary directory removed.
#
# Globals the scripts use: PGLIFT (the CLI), PROBE (writer_probe), T (temporary directory), CLUSTER,
# FAILURES (count), FIGURES (JSON file the figures go to), TTL.

HOSTS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib.sh
source "$HOSTS_LIB_DIR/../../scripts/lib.sh"
# shellcheck source=../../scripts/prefix-processes.sh
source "$HOSTS_LIB_DIR/../../scripts/prefix-processes.sh"

HOSTS=(h1 h2 h3)
SUBNET=198.18.0
TTL=10
CLUSTER=hosts
INSTANCE=pg
FAILURES=0
EXPECTED_FAILURES=0
NS_TAG=pglh$$           # namespace names are global: ours carry our PID
BRIDGE_NS=${NS_TAG}br
ETCD_PIDS=()
PROBE_PIDS=()
T=

# How members join the first one (ISSUE10.md). `password-files`: today's CLI, the superuser and
# replication passwords read by root from the first member's 0600 YAML (the rewind password cannot be
# given: a former leader on another host cannot pg_rewind). `credentials-file`: the join branch's
# `pglift patroni credentials --output FILE` then `instance create --patroni-credentials FILE`, which
# carries the rewind password too. Switching is this one line (or HOSTS_JOIN_WITH in the environment).
HOSTS_JOIN_WITH=${HOSTS_JOIN_WITH:-credentials-file}

# --- reporting ----------------------------------------------------------------------------------------

now_ms() { date +%s%3N; }
section() { echo; echo "=== $* ($(date -u +%T))"; }
pass() { echo "ok - $*"; }
fail() {
  FAILURES=$((FAILURES + 1))
  echo "FAIL - $1"
  [[ $# -gt 1 ]] && printf '%s\n' "${@:2}" | sed 's/^/#   /'
  return 0
}
# A failure the join branch (ISSUE10.md) is expected to fix: still a failure, marked as such.
fail_until_join() {
  EXPECTED_FAILURES=$((EXPECTED_FAILURES + 1))
  fail "$1 [EXPECTED TO FAIL UNTIL THE JOIN BRANCH LANDS: $2]" "${@:3}"
}
# The tails of every log a host has: Patroni, PostgreSQL, etcd, supervisor.
log_tails() {
  local h f
  for h in "$@"; do
    while IFS= read -r f; do
      echo "----- $h: ${f#"$T/"} (last 15 lines)"
      tail -n 15 "$f"
    done < <(find "$T/$h" -type f \( -name '*.log' -o -name '*.csv' \) 2>/dev/null | sort)
  done
}
# log_lines HOST REGEX: the last 6 lines of the host's Patroni logs matching REGEX (the cause of a
# failed rejoin).
log_lines() {
  grep -rhiE --include='*.log' -- "$2" "$T/$1/p/log/patroni" 2>/dev/null | tail -n 6 | cut -c1-300 | sed 's/^/#   /'
}
fail_with_logs() {  # MESSAGE HOST...
  local message=$1
  shift
  fail "$message"
  log_tails "$@" | sed 's/^/#   /'
}

# --- running on a host --------------------------------------------------------------------------------

ns_of() { echo "${NS_TAG}$1"; }
host_index() { echo "${1#h}"; }
host_ip() { echo "$SUBNET.$(host_index "$1")"; }

# host_argv HOST [--user] CMD...: sets HOST_ARGV to CMD run inside the host's network and UTS namespaces,
# as root or (--user) as the unprivileged user with a clean environment (setpriv, as scripts/lib.sh
# as_user). nsenter, setpriv and env exec: started in the background as a simple command
# ("${HOST_ARGV[@]}" &), $! is CMD's own PID, the one stop_* kill.
host_argv() {
  local h=$1
  shift
  HOST_ARGV=(nsenter --net="/run/netns/$(ns_of "$h")" --uts="$T/uts/$h" --)
  if [[ ${1:-} == --user ]]; then
    shift
    HOST_ARGV+=(setpriv --reuid="$PGLIFT_USER" --regid="$PGLIFT_USER" --init-groups
      env -i HOME="$PGLIFT_USER_HOME" USER="$PGLIFT_USER" LOGNAME="$PGLIFT_USER" LANG=C.UTF-8
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
  fi
  HOST_ARGV+=("$@")
}
on_host() { local HOST_ARGV; host_argv "$@"; "${HOST_ARGV[@]}"; }
as_host_user() { local h=$1 HOST_ARGV; shift; host_argv "$h" --user "$@"; "${HOST_ARGV[@]}"; }

# pglift_on HOST ARGS...: the CLI on HOST, with that host's own prefix and configuration.
pglift_on() {
  local h=$1
  shift
  as_host_user "$h" env SETTINGS="@$T/$h/settings.json" PGLIFT_CONFIG_DIR="$T/$h/config" \
    XDG_CONFIG_HOME="$T/$h/xdg" "$PGLIFT" "$@"
}

# psql_on HOST SQL: psql on the host's member, through the environment `pglift instance env` gives.
psql_on() {
  local h=$1 sql=$2
  # shellcheck disable=SC2046 # one VAR=value per line, none with spaces
  as_host_user "$h" env $(member_env "$h") psql -X -v ON_ERROR_STOP=1 -qtAc "$sql" postgres
}
member_env() {
  [[ -s $T/$1/member.env ]] ||
    pglift_on "$1" instance env "$INSTANCE" | grep -E '^PG(HOST|PORT|USER|PASSFILE)=' >"$T/$1/member.env"
  cat "$T/$1/member.env"
}

# --- the network --------------------------------------------------------------------------------------

setup_network() {
  local h i
  ip netns add "$BRIDGE_NS"
  ip -n "$BRIDGE_NS" link add br0 type bridge
  ip -n "$BRIDGE_NS" link set br0 up
  mkdir -p "$T/uts"
  for h in "${HOSTS[@]}"; do
    i=$(host_index "$h")
    ip netns add "$(ns_of "$h")"
    ip -n "$(ns_of "$h")" link set lo up
    # The veth is created in the host's namespace; its peer moves to the bridge's.
    ip -n "$(ns_of "$h")" link add eth0 type veth peer name "port$i" netns "$BRIDGE_NS"
    ip -n "$(ns_of "$h")" addr add "$SUBNET.$i/24" dev eth0
    ip -n "$(ns_of "$h")" link set eth0 up
    ip -n "$BRIDGE_NS" link set "port$i" master br0
    ip -n "$BRIDGE_NS" link set "port$i" up
    # A persistent UTS namespace, bound to a file, so that every command on the host sees its name.
    touch "$T/uts/$h"
    unshare --uts="$T/uts/$h" hostname "$h"
  done
}
# partition HOST / heal HOST: the host's port on the bridge down / up.
partition() { ip -n "$BRIDGE_NS" link set "port$(host_index "$1")" down; }
heal() { ip -n "$BRIDGE_NS" link set "port$(host_index "$1")" up; }

# --- etcd ---------------------------------------------------------------------------------------------

etcd_cluster_spec() {
  local h spec=
  for h in "${HOSTS[@]}"; do spec+="${spec:+,}e$(host_index "$h")=http://$(host_ip "$h"):2380"; done
  echo "$spec"
}
# start_etcd_member HOST: (re)starts the host's etcd member, as the user, in the background.
start_etcd_member() {
  local h=$1 ip i
  ip=$(host_ip "$h")
  i=$(host_index "$h")
  host_argv "$h" --user /usr/bin/etcd --name "e$i" --data-dir "$T/$h/etcd" \
    --listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
    --listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
    --initial-cluster "$(etcd_cluster_spec)" --initial-cluster-token "$NS_TAG" --initial-cluster-state new \
    --pre-vote --logger zap --log-outputs stderr --log-level warn
  "${HOST_ARGV[@]}" >>"$T/$h/log/etcd.log" 2>&1 &
  ETCD_PIDS[i]=$!
}
stop_etcd_member() {  # HOST: SIGTERM, then SIGKILL after 5 s
  local i
  i=$(host_index "$1")
  [[ -n ${ETCD_PIDS[i]:-} ]] || return 0
  terminate_pids TERM "${ETCD_PIDS[i]}" 2>/dev/null
  wait "${ETCD_PIDS[i]}" 2>/dev/null
  ETCD_PIDS[i]=
}
# wait_etcd_healthy HOST SECONDS: the member answers /health with a quorum behind it.
wait_etcd_healthy() {
  local h=$1 deadline=$(($(now_ms) + $2 * 1000))
  while (($(now_ms) < deadline)); do
    on_host "$h" curl -fsS --max-time 1 "http://$(host_ip "$h"):2379/health" 2>/dev/null | grep -q '"true"' &&
      return 0
    sleep 0.1
  done
  return 1
}
start_etcd_cluster() {
  local h
  for h in "${HOSTS[@]}"; do start_etcd_member "$h"; done
  for h in "${HOSTS[@]}"; do
    wait_etcd_healthy "$h" 30 || { fail_with_logs "etcd on $h is not healthy after 30 s" "$h"; return 1; }
  done
}

# --- pglift members -----------------------------------------------------------------------------------

# write_host_settings HOST [EXTRA_PATRONI_JSON]: the host's site settings (its own prefix; every etcd
# member; short Patroni loops with ttl 10). EXTRA_PATRONI_JSON is merged into "patroni".
write_host_settings() {
  local h=$1 extra=${2:-}
  python3 - "$T/$h" "$extra" "$TTL" "${HOSTS[@]}" >"$T/$h/settings.json" <<'PY'
import json, sys
home, extra, ttl, hosts = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
patroni = {"etcd": {"hosts": [f"198.18.0.{h[1:]}:2379" for h in hosts]},
           "loop_wait": 2, "ttl": ttl, "retry_timeout": 3, "create_timeout": 120}
patroni.update(json.loads(extra) if extra else {})
print(json.dumps({"prefix": f"{home}/p", "run_prefix": f"{home}/p/run", "patroni": patroni}))
PY
  chown "$PGLIFT_USER" "$T/$h/settings.json"
}

prepare_hosts() {  # [EXTRA_PATRONI_JSON]
  local h
  T=$(mktemp -d /tmp/pglh.XXXXXX)
  chmod 0755 "$T"
  for h in "${HOSTS[@]}"; do
    mkdir -p "$T/$h"/{config,xdg,log,secrets}
    chown -R "$PGLIFT_USER" "$T/$h"
    chmod 0700 "$T/$h" "$T/$h/secrets"
    write_host_settings "$h" "${1:-}"
  done
  cd "$T" || return 1
  setup_network
}

# The first member's 0600 Patroni YAML (read by root).
member_yaml() { find "$T/$1/p" -name '*.yaml' -path '*patroni*' -print -quit 2>/dev/null; }

# join_options HOST: prints, one per line, the options with which the member of HOST joins the first
# one (h1), and writes the secret files they name (0600, the user's, in HOST's 0700 secrets directory).
# Nothing secret is ever on argv. THE ONE FUNCTION TO CHANGE for a new way to join (HOSTS_JOIN_WITH).
join_options() {
  local h=$1 secrets=$T/$1/secrets
  case $HOSTS_JOIN_WITH in
    password-files)
      python3 - "$(member_yaml h1)" "$secrets" <<'PY' || return 1
import os, sys, yaml
auth = yaml.safe_load(open(sys.argv[1]))["postgresql"]["authentication"]
for role, name in (("superuser", "surole"), ("replication", "replrole")):
    fd = os.open(os.path.join(sys.argv[2], name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, (auth[role]["password"] + "\n").encode())
    os.close(fd)
PY
      chown "$PGLIFT_USER" "$secrets/surole" "$secrets/replrole"
      printf '%s\n' "--surole-password-file=$secrets/surole" "--replrole-password-file=$secrets/replrole"
      ;;
    credentials-file)
      pglift_on h1 patroni -i "$INSTANCE" credentials --output "$T/h1/secrets/credentials" --force >&2 || return 1
      install -m 0600 -o "$PGLIFT_USER" "$T/h1/secrets/credentials" "$secrets/credentials"
      printf '%s\n' "--patroni-credentials=$secrets/credentials"
      ;;
    *) echo "HOSTS_JOIN_WITH: unknown '$HOSTS_JOIN_WITH'" >&2; return 1 ;;
  esac
}

# create_member HOST: `pglift instance create` with no address option; members after the first join it.
# On failure, prints the logs' tails and the create's output, and returns 1 (the caller counts it).
create_member() {
  local h=$1 opts=()
  if [[ $h != h1 ]]; then
    mapfile -t opts < <(join_options "$h")
    [[ ${#opts[@]} -gt 0 ]] || { echo "# no join options for $h"; return 1; }
  fi
  pglift_on "$h" --non-interactive -L INFO instance create "$INSTANCE" --port 5432 \
    --patroni-cluster "$CLUSTER" "${opts[@]}" >"$T/$h/log/create.out" 2>&1 && return 0
  log_tails "$h" | sed 's/^/#   /'
  echo "#   ----- $h: instance create (last 20 lines)"
  tail -n 20 "$T/$h/log/create.out" | sed 's/^/#   /'
  return 1
}

# The member's view of the cluster, from `instance get -o json` on HOST: "NAME:ROLE:STATE ..." sorted,
# or the DCS error ("dcs_error:...").
cluster_view() {
  pglift_on "$1" instance get "$INSTANCE" -o json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)["patroni"]
if "dcs_error" in d: print("dcs_error:" + str(d["dcs_error"])); sys.exit()
print(" ".join(sorted("%s:%s:%s" % (m["name"], m["role"], m["state"]) for m in d.get("cluster_members", []))))'
}
leader_host() {  # [ASKED_HOST]: the leader's node name (= its host name) seen from a host
  local h view
  for h in ${1:-"${HOSTS[@]}"}; do
    view=$(cluster_view "$h") || continue
    [[ $view =~ (h[0-9]):leader:running ]] && { echo "${BASH_REMATCH[1]}"; return 0; }
  done
  return 1
}
# wait_view HOST SECONDS PATTERN...: until HOST's view matches every (extended) pattern.
wait_view() {
  local h=$1 deadline=$(($(now_ms) + $2 * 1000)) view p ok
  shift 2
  while (($(now_ms) < deadline)); do
    view=$(cluster_view "$h")
    ok=1
    for p; do [[ $view =~ $p ]] || ok=; done
    [[ -n $ok ]] && return 0
    sleep 0.2
  done
  echo "# view from $h: $view"
  return 1
}
# A member seen as a replica by Patroni (3.0.2 says "running" even for a replica whose WAL receiver
# cannot follow, after a failed pg_rewind: wait_streaming is the proof of a rejoin).
replica_pattern() { echo "$1:(replica|sync_standby):(streaming|running)"; }

# The members streaming from LEADER's postmaster (pg_stat_replication; Patroni's application_name is
# the node name), sorted, space-separated.
streaming_from() {
  psql_on "$1" "SELECT string_agg(application_name, ' ' ORDER BY application_name) FROM pg_stat_replication
                WHERE state = 'streaming'" 2>/dev/null
}
# wait_streaming LEADER SECONDS MEMBER...: until LEADER leads (its own view) and every MEMBER streams
# from it.
wait_streaming() {
  local leader=$1 deadline=$(($(now_ms) + $2 * 1000)) streaming m ok
  shift 2
  while (($(now_ms) < deadline)); do
    ok=
    if [[ $(cluster_view "$leader") =~ $leader:leader:running ]]; then
      streaming=" $(streaming_from "$leader") "
      ok=1
      for m; do [[ $streaming == *" $m "* ]] || ok=; done
    fi
    [[ -n $ok ]] && return 0
    sleep 0.2
  done
  echo "# streaming from $leader:${streaming:- nothing}; its view: $(cluster_view "$leader")"
  return 1
}

# --- writer probes ------------------------------------------------------------------------------------

start_probes() {  # one per host, on its own member, into $T/HOST/probe.log
  local h
  for h in "${HOSTS[@]}"; do
    # shellcheck disable=SC2046
    host_argv "$h" --user env $(member_env "$h") "$PROBE" "$h"
    "${HOST_ARGV[@]}" >"$T/$h/probe.log" 2>"$T/$h/log/probe.err" &
    PROBE_PIDS+=($!)
  done
}
stop_probes() {
  [[ ${#PROBE_PIDS[@]} -gt 0 ]] || return 0
  terminate_pids TERM "${PROBE_PIDS[@]}" 2>/dev/null
  wait "${PROBE_PIDS[@]}" 2>/dev/null
  PROBE_PIDS=()
}
# first_result_after HOST RESULT MS: the end time of the first RESULT line of HOST's probe started at
# or after MS (empty when none).
first_result_after() {
  awk -v r="$2" -v t="$3" '$1 >= t && $5 == r { print $2; exit }' "$T/$1/probe.log"
}

# wait_first_write HOST: waits (10 s at most) until HOST's probe has confirmed a write.
wait_first_write() {
  local deadline=$(($(now_ms) + 10000))
  until [[ -n $(first_result_after "$1" ok 0) ]] || (($(now_ms) > deadline)); do sleep 0.05; done
}

# new_writer_after LEADER T0: the first other host whose probe confirms a write after T0 (45 s at most);
# sets `new` (empty when none).
new_writer_after() {
  local h deadline=$(($2 + 45000))
  new=
  while (($(now_ms) < deadline)) && [[ -z $new ]]; do
    for h in $(other_hosts "$1"); do [[ -n $(first_result_after "$h" ok "$2") ]] && new=$h; done
    sleep 0.05
  done
}

# --- figures ------------------------------------------------------------------------------------------

figure() {  # NAME VALUE: one figure (a number, or null) into $FIGURES
  python3 - "$FIGURES" "$1" "$2" <<'PY'
import json, os, sys
path, name, value = sys.argv[1], sys.argv[2], sys.argv[3]
figures = json.load(open(path)) if os.path.exists(path) else {}
figures[name] = json.loads(value) if value not in ("", "null") else None
json.dump(figures, open(path, "w"), indent=2, sort_keys=True)
PY
  echo "# figure $1 = ${2:-null}"
}
seconds_between() {  # FROM_MS TO_MS: seconds with 2 decimals, or null
  if [[ -n $1 && -n $2 ]]; then python3 -c "print(round(($2 - $1) / 1000, 2))"; else echo null; fi
}

# --- teardown -----------------------------------------------------------------------------------------

# keep_logs: after a failure, the hosts' logs, command outputs and probe logs (never the configuration,
# secrets or data) go next to the figures, in logs-<figures name>/, for a look after the run.
keep_logs() {
  local dest h
  dest=$(dirname "$FIGURES")/logs-$(basename "$FIGURES" .json)
  rm -rf "$dest"
  for h in "${HOSTS[@]}"; do
    [[ -d $T/$h ]] || continue
    mkdir -p "$dest/$h"
    (cd "$T/$h" && find . -path ./p/srv -prune -o -path ./etcd -prune -o -path ./secrets -prune -o -path ./p/etc -prune \
      -o -type f \( -name '*.log' -o -name '*.out' -o -name '*.err' \) -print0 |
      xargs -0 -r cp --parents -t "$dest/$h") 2>/dev/null
  done
  echo "# logs kept in $dest"
}

teardown() {
  local status=$? h i
  set +e
  stop_probes
  ((status != 0 || FAILURES > 0)) && [[ -n $T && -n ${FIGURES:-} ]] && keep_logs
  if [[ -n $T ]]; then
    for h in "${HOSTS[@]}"; do [[ -d $T/$h/p ]] && stop_prefix_processes "$T/$h/p" 2>/dev/null; done
  fi
  for i in "${!ETCD_PIDS[@]}"; do [[ -n ${ETCD_PIDS[i]} ]] && terminate_pids TERM "${ETCD_PIDS[i]}" 2>/dev/null; done
  wait 2>/dev/null
  for h in "${HOSTS[@]}"; do
    ip netns del "$(ns_of "$h")" 2>/dev/null
    [[ -n $T && -e $T/uts/$h ]] && umount "$T/uts/$h" 2>/dev/null
  done
  ip netns del "$BRIDGE_NS" 2>/dev/null
  cd / && [[ -n $T ]] && rm -rf "$T"
}

# hosts_main FIGURES_FILE [EXTRA_PATRONI_JSON]: root check, tools, trap, namespaces, etcd.
hosts_begin() {
  [[ $(id -u) -eq 0 ]] || { echo "the hosts suite runs as root (namespaces); got uid $(id -u)" >&2; exit 1; }
  for tool in nsenter unshare setpriv ip curl /usr/bin/etcd /usr/bin/patroni; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
  done
  id "$PGLIFT_USER" >/dev/null || { echo "no user $PGLIFT_USER" >&2; exit 1; }
  trap teardown EXIT
  trap 'exit 130' INT TERM
  FIGURES=$1
  prepare_hosts "${2:-}" || { echo "cannot set up the hosts" >&2; exit 1; }
  start_etcd_cluster || exit 1
}
hosts_end() {
  echo
  if ((FAILURES == 0)); then
    echo "# all passed"
    exit 0
  fi
  echo "# $FAILURES failure(s), $EXPECTED_FAILURES of them expected until the join branch lands"
  exit 1
}
