# shellcheck shell=bash
# Finding and stopping what a throw-away pglift prefix still runs, by the PIDs its own files name or by
# command lines naming the prefix (never by program name: other runs may share the machine). Sourced by
# the demo, the stress script and the test harnesses.

# Running and not a zombie (daemons are reaped by init, a moment after they exit).
pid_alive() {
  local state
  state=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# Live Patroni daemons of the prefix, from their pid files.
prefix_patronis() {
  local f pid
  for f in "$1"/run/patroni/*.pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f")
    [[ $pid =~ ^[0-9]+$ ]] && pid_alive "$pid" && echo "$pid"
  done
  return 0
}

# The postmaster of each postmaster.pid under the prefix, if it still runs that data directory.
prefix_postmasters() {
  local pidfile pid datadir
  while IFS= read -r pidfile; do
    datadir=$(dirname "$pidfile")
    pid=$(head -n 1 "$pidfile" 2>/dev/null)
    [[ $pid =~ ^[0-9]+$ ]] || continue
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$datadir" && echo "$pid"
  done < <(find "$1" -name postmaster.pid 2>/dev/null)
  return 0
}

# terminate_pids SIGNAL PID...: signals them, waits (up to 5 s, polling every 20 ms) until they are
# gone, then SIGKILLs what is left.
terminate_pids() {
  local sig=$1 pid alive
  shift
  [[ $# -eq 0 ]] && return 0
  echo "cleanup: SIG$sig to PID $*" >&2
  kill -"$sig" "$@" 2>/dev/null
  for _ in $(seq 250); do
    alive=
    for pid; do pid_alive "$pid" && alive=1; done
    [[ -z $alive ]] && return 0
    sleep 0.02
  done
  kill -KILL "$@" 2>/dev/null
  return 0
}

# Patroni first (it would restart its PostgreSQL), then postmasters (immediate shutdown), then anything
# else whose command line names the prefix (a postgres still starting, an initdb orphaned by a killed test).
stop_prefix_processes() {
  local prefix=$1
  # shellcheck disable=SC2046 # one PID per word
  terminate_pids TERM $(prefix_patronis "$prefix")
  # shellcheck disable=SC2046
  terminate_pids QUIT $(prefix_postmasters "$prefix")
  # shellcheck disable=SC2046
  terminate_pids TERM $(pgrep -u "$(id -u)" -f -- "$prefix/" || true)
}
