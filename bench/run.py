#!/usr/bin/env python3
"""libpglift's performance goals, as ratios against baselines measured in the same run.

Run as an unprivileged user:  python3 bench/run.py PGLIFT_CLI [ROUNDS]
(or, as root, bash bench/run.sh, which builds first). Prints a table and exits 1 when a goal is missed.

Goals (issue "core library"):
  create   <= 1.10 x (initdb + pg_ctl start -w, same options)
  start    <= 1.20 x pg_ctl start -w (on the same data directory)
  get/list <= 20 ms (absolute; shown against `psql -c 'select 1'` for scale)
"""
import json, os, shutil, socket, statistics, subprocess, sys, tempfile, time

BINDIR = "/usr/lib/postgresql/15/bin"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def timed(argv, env=None, check=True):
    start = time.perf_counter()
    r = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if check and r.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr[-2000:]}")
    return elapsed


def main():
    pglift = os.path.abspath(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    root = tempfile.mkdtemp(prefix="pglift-bench.")
    env = dict(os.environ, SETTINGS=json.dumps({"prefix": root, "run_prefix": f"{root}/run"}),
               PGLIFT_CONFIG_DIR=f"{root}/config")
    os.makedirs(f"{root}/config")
    sock = f"{root}/sock"
    os.makedirs(sock)
    results = {k: [] for k in ("initdb+start", "create", "pg_ctl start", "start", "select 1", "get", "list", "/bin/true")}
    try:
        for i in range(rounds):
            # libpglift, through its CLI (process start included, as a user sees it).
            name, port = f"i{i}", free_port()
            results["create"].append(timed([pglift, "instance", "create", name, "--port", str(port)], env))
            got = json.loads(subprocess.run([pglift, "instance", "get", name, "-o", "json"], env=env,
                                            capture_output=True, text=True, check=True).stdout)
            results["get"].append(timed([pglift, "instance", "get", name, "-o", "json"], env))
            results["list"].append(timed([pglift, "instance", "list", "-o", "json"], env))
            results["/bin/true"].append(timed(["/bin/true"]))  # the floor of any command here
            # start: pglift against pg_ctl start -w on the very same data directory.
            timed([pglift, "instance", "stop", name], env)
            results["start"].append(timed([pglift, "instance", "start", name], env))
            timed([pglift, "instance", "stop", name], env)
            results["pg_ctl start"].append(timed([f"{BINDIR}/pg_ctl", "start", "-w", "-D", got["data_directory"],
                                                  "-l", f"{root}/pgctl-{i}.log"]))
            timed([f"{BINDIR}/pg_ctl", "stop", "-w", "-m", "fast", "-D", got["data_directory"]])
            timed([pglift, "--non-interactive", "instance", "drop", name], env)

            # Baseline: initdb + pg_ctl start -w with the options pglift uses (local trust instead of
            # peer+map, so that psql can connect as postgres: the same cost) and the same shared_buffers.
            data, wal, port = f"{root}/b{i}/data", f"{root}/b{i}/wal", free_port()
            t_initdb = timed([f"{BINDIR}/initdb", "-D", data, "--waldir", wal, "--username", "postgres",
                              "--auth-local=trust", "--auth-host=reject", "--locale", "C", "--encoding", "UTF8"])
            shared_buffers = got["settings"]["shared_buffers"].replace(" ", "")
            opts = (f"-p {port} -k {sock} -c logging_collector=on -c log_directory={root}/b{i} "
                    f"-c shared_buffers={shared_buffers}")
            t_start = timed([f"{BINDIR}/pg_ctl", "start", "-w", "-D", data, "-o", opts, "-l", f"{root}/b{i}/start.log"])
            results["initdb+start"].append(t_initdb + t_start)
            results["select 1"].append(timed([f"{BINDIR}/psql", "-h", sock, "-p", str(port), "-U", "postgres",
                                              "-d", "postgres", "-tAc", "select 1"]))
            timed([f"{BINDIR}/pg_ctl", "stop", "-w", "-m", "immediate", "-D", data])
            shutil.rmtree(f"{root}/b{i}")
    finally:
        subprocess.run(["bash", "-c", f"for f in {root}/srv/pgsql/*/*/data/postmaster.pid {root}/b*/data/postmaster.pid; do "
                                      "[ -f $f ] && kill -QUIT $(head -n1 $f); done 2>/dev/null"], check=False)
        shutil.rmtree(root, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in results.items()}
    goals = [
        ("create", med["create"] / med["initdb+start"], 1.10, "x (initdb + pg_ctl start -w)"),
        ("start", med["start"] / med["pg_ctl start"], 1.20, "x pg_ctl start -w"),
        ("get", med["get"] * 1000, 20.0, "ms"),
        ("list", med["list"] * 1000, 20.0, "ms"),
    ]
    print(f"{'measure':<14}{'median ms':>11}   (n={rounds})")
    for k, v in med.items():
        print(f"{k:<14}{v * 1000:>11.1f}")
    print()
    missed = 0
    for name, value, goal, unit in goals:
        ok = value <= goal
        missed += not ok
        print(f"{name:<8} {value:8.2f} {unit:<30} goal <= {goal:<6} {'ok' if ok else 'MISSED'}")
    print(f"(get/list for scale: psql -c 'select 1' = {med['select 1'] * 1000:.1f} ms, starting /bin/true = "
          f"{med['/bin/true'] * 1000:.1f} ms; get minus that floor = {(med['get'] - med['/bin/true']) * 1000:.1f} ms)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
