#!/usr/bin/env python3
"""libpglift's benchmark (issue 13): each figure beside the fastest a program could do the same job,
measured in the same run, interleaved (ours, floor, ours, floor...), medians quoted.

Run as the unprivileged user on a release build (as root, `bash bench/run.sh [--quick]` builds one, the
helpers, and runs this):
    python3 bench/run.py --cli PGLIFT --floor FLOOR --capi-get CAPI_GET --peak-rss PEAK_RSS --out RESULTS [--quick]
                         [--only PHASE,...] [--runs N]
Phases: plain (create/start/stop/restart/drop against the floor), cli (version/get/list/status, the C ABI's
get, peak RSS), start_all, patroni (on a private etcd). Each runs in its own throw-away prefix under
$TMPDIR; every process it started is stopped by PID (or by the PID files of the prefix) when it ends,
fails or is interrupted. Prints the table (bench/report.py) and writes RESULTS; exit status 1 when an
entry could not be measured or, without --quick, a goal in bench/goals.json is missed.

The floors:
- start: `postgres -D DATA` (same data directory and configuration) spawned directly, then PQping every
  1 ms until it accepts (bench/floor.c); stop: SIGINT to the postmaster and a wait on its pidfd;
  restart: that stop then that start; create: initdb with our options, our configuration files, then
  that start; drop: an immediate stop (SIGQUIT, as ours: nothing is kept), then rm -rf of the data and
  WAL directories.
- version: /bin/true; get, list, status: `pg_ctl status -D DATA` (peak RSS too, bench/peak_rss.c).
- start_all_4_vs_1: `instance start --all` of 4 stopped instances against `instance start` of one.
- patroni_leader_vs_bare: `patroni` started by hand on a copy of our leader's YAML (its own scope, a
  fresh data directory) until GET /primary answers 200, against our create until the same.
- switchover_vs_rest: a bare POST /switchover with the YAML's REST credentials; both until the
  candidate's /primary answers 200 (polled from the start, while the command runs).
- capi_get_us: beside PQping of the same server, in the same process.
"""
import argparse, datetime, glob, json, os, platform, shutil, signal, socket, statistics, subprocess, sys
import tempfile, threading, time, traceback, urllib.error, urllib.request, base64

import report

BINDIR = "/usr/lib/postgresql/15/bin"
HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX_PROCESSES = os.path.join(HERE, "..", "scripts", "prefix-processes.sh")
RUNS = {  # runs per phase; the CLI ones are cheap, the Patroni ones take seconds each
    "quick": {"cli": 15, "capi_calls": 200, "plain": 3, "start_all": 3, "patroni": 3, "switchover": 3, "failover": 3},
    "full": {"cli": 15, "capi_calls": 1000, "plain": 9, "start_all": 9, "patroni": 5, "switchover": 5, "failover": 5},
}
POLL_S = 0.02  # REST polling, the same for ours and the baselines
PATRONI_SETTINGS = {"loop_wait": 2, "ttl": 10, "retry_timeout": 3, "create_timeout": 120}


class Failed(Exception):
    pass


def postmaster_pid(datadir):
    with open(os.path.join(datadir, "postmaster.pid")) as f:
        return int(f.readline())


def tree_cpu_s(root):
    """CPU seconds used so far by process `root` and its descendants: the live ones from
    /proc/PID/schedstat (ns on CPU), the reaped ones from their parents' cutime + cstime (ticks)."""
    parent, cpu = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{d}/schedstat") as f:
                ns = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        # fields[0] is the state (field 3): ppid is field 4, cutime and cstime fields 16 and 17
        parent[int(d)] = int(fields[1])
        cpu[int(d)] = ns / 1e9 + (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    def descends(pid):
        while pid in parent and pid != root:
            pid = parent[pid]
        return pid == root
    return sum(c for pid, c in cpu.items() if descends(pid))


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def median(xs):
    return statistics.median(xs) if xs else None


class Cmd:
    """What one timed command did: wall time (s), exit status, output."""

    def __init__(self, elapsed, status, stdout, stderr):
        self.elapsed, self.status, self.stdout, self.stderr = elapsed, status, stdout, stderr


class Prefix:
    """A throw-away pglift prefix: its settings, its commands, and the stop of all it runs."""

    def __init__(self, root, name, cli):
        self.dir = os.path.join(root, name)
        os.makedirs(os.path.join(self.dir, "config"))
        os.makedirs(os.path.join(self.dir, "scratch"))
        settings = {"prefix": self.dir, "run_prefix": f"{self.dir}/run"}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "PATRONI", "ETCD", "SETTINGS"))}
        self.env.update(SETTINGS=json.dumps(settings), PGLIFT_CONFIG_DIR=f"{self.dir}/config")
        self.cli = cli
        self.children = []  # Popen of daemons we started ourselves (etcd, bare Patroni)
        self.n = 0

    def run(self, argv, timeout=240, check=True, env=None):
        """Runs argv (stdout and stderr to files: a daemon it leaves behind cannot hold a pipe), timed from
        the spawn to the reaping."""
        self.n += 1
        out_path, err_path = (os.path.join(self.dir, "scratch", f"{self.n}.{s}") for s in ("out", "err"))
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            start = time.perf_counter()
            p = subprocess.Popen(argv, env=env or self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            killer = threading.Timer(timeout, lambda: os.kill(p.pid, signal.SIGKILL))
            killer.start()
            try:
                _, status = os.waitpid(p.pid, 0)
            except BaseException:  # interrupted (SIGTERM, SIGINT): the command is stopped, by its PID, first
                os.kill(p.pid, signal.SIGTERM)  # the CLI cancels: its reverts run
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                raise
            finally:
                killer.cancel()
            elapsed = time.perf_counter() - start
            p.returncode = os.waitstatus_to_exitcode(status)
        cmd = Cmd(elapsed, p.returncode, open(out_path).read(), open(err_path).read())
        os.unlink(out_path)
        os.unlink(err_path)
        if check and cmd.status != 0:
            raise Failed(f"{' '.join(argv)} failed ({cmd.status}): {cmd.stderr.strip()[-1500:]}")
        return cmd

    def pglift(self, *args, **kw):
        return self.run([self.cli, *args], **kw)

    def get(self, name):
        return json.loads(self.pglift("instance", "get", name, "-o", "json").stdout)

    def stop_all(self):
        """Our own daemons (bare Patroni, etcd: TERM, then KILL), then whatever the prefix's PID files
        and command lines name (scripts/prefix-processes.sh: Patroni, postmasters, the rest)."""
        for p in self.children:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        subprocess.run(["bash", "-c", 'source "$1" && stop_prefix_processes "$2"', "_", PREFIX_PROCESSES,
                        self.dir], check=False)
        for p in self.children:
            if p.poll() is None:
                p.kill()
                p.wait()

    def log_tails(self, lines=12):
        """The last lines of the Patroni, supervisor and PostgreSQL logs under the prefix, on stderr."""
        for path in sorted(glob.glob(f"{self.dir}/log/*/*/*.log") + glob.glob(f"{self.dir}/log/postgresql/*.log")
                           + glob.glob(f"{self.dir}/bare/*/patroni.out")):
            tail = open(path, errors="replace").read().splitlines()[-lines:]
            print(f"--- {path} (last {len(tail)} lines)\n" + "\n".join(tail), file=sys.stderr)

    def remove(self):
        self.stop_all()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_until(what, predicate, timeout=120, interval=POLL_S, start=None):
    """Polls predicate until true; returns the time since start (default: now), or raises Failed."""
    start = time.perf_counter() if start is None else start
    deadline = start + timeout
    while True:
        if predicate():
            return time.perf_counter() - start
        if time.perf_counter() > deadline:
            raise Failed(f"{what}: not after {timeout} s")
        time.sleep(interval)


def http(url, data=None, auth=None, timeout=2):
    """(status, body) of a GET, or a POST of JSON data; (None, error) when nothing answers."""
    req = urllib.request.Request(url, data=None if data is None else json.dumps(data).encode(),
                                 method="GET" if data is None else "POST")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError as e:
        return None, str(e).encode()


def is_primary(api):
    return http(f"http://{api}/primary")[0] == 200


def streams_from(leader_api, member):
    """True when the leader's Patroni sees `member` streaming from it (pg_stat_replication)."""
    status, body = http(f"http://{leader_api}/patroni")
    if status != 200:
        return False
    try:
        return any(r.get("application_name") == member and r.get("state") == "streaming"
                   for r in json.loads(body).get("replication", []))
    except ValueError:
        return False


def cluster_ready(api, names):
    """True when the member at api sees every one of names running (leader) or streaming/running (replica)
    in the DCS: what a switchover checks of its candidate."""
    status, body = http(f"http://{api}/cluster")
    if status != 200:
        return False
    try:
        states = {m["name"]: m.get("state") for m in json.loads(body).get("members", [])}
    except ValueError:
        return False
    return all(states.get(n) in ("running", "streaming") for n in names)


class FirstTrue(threading.Thread):
    """Polls predicate from start until true (or timeout): when it first held, beside a command."""

    def __init__(self, predicate, start, timeout=120):
        super().__init__(daemon=True)
        self.predicate, self.start_t, self.timeout, self.at = predicate, start, timeout, None
        self.start()

    def run(self):
        try:
            self.at = wait_until("", self.predicate, self.timeout, start=self.start_t)
        except Failed:
            pass  # result() says what did not happen

    def result(self, what):
        self.join()
        if self.at is None:
            raise Failed(f"{what}: not after {self.timeout} s")
        return self.at


class Bench:
    def __init__(self, args):
        self.args = args
        self.mode = "quick" if args.quick else "full"
        self.runs = dict(RUNS[self.mode])
        if args.runs:
            self.runs.update({k: args.runs for k in self.runs if k != "capi_calls"})
        self.root = tempfile.mkdtemp(prefix="pglift-bench.")
        os.chmod(self.root, 0o700)
        self.entries = {}
        self.prefixes = []

    def prefix(self, name):
        p = Prefix(self.root, name, self.args.cli)
        self.prefixes.append(p)
        return p

    def entry(self, name, ours, baseline, runs, floor, unit="ms", also=None):
        """ours and baseline: lists of samples (seconds for unit ms, else the unit itself), baseline[i]
        measured next to ours[i]: the ratio is the median of those pairs' ratios (a change of load during
        the run moves both sides of a pair), the values the medians of each side."""
        scale = 1000 if unit == "ms" else 1
        o, b = median(ours), median(baseline) if baseline is not None else None
        ratio = None
        if o is not None and b:
            ratio = median([x / y for x, y in zip(ours, baseline)]) if len(ours) == len(baseline) else o / b
        e = {"name": name, "unit": unit,
             "ours_ms": None if o is None else round(o * scale, 3),
             "baseline_ms": None if b is None else round(b * scale, 3),
             "ratio": None if ratio is None else round(ratio, 3),
             "runs": runs, "floor": floor}
        if also:
            e["also"] = also
        self.entries[name] = e
        log(f"{name}: ours {report.fmt(e['ours_ms'], unit)}"
            + ("" if b is None else f", {floor} {report.fmt(e['baseline_ms'], unit)}, ratio {e['ratio']}"))

    def failed(self, names, error):
        for name in names:
            if name not in self.entries:
                self.entries[name] = {"name": name, "unit": report.UNITS.get(name, "ms"),
                                      "ours_ms": None, "baseline_ms": None, "ratio": None, "runs": 0, "error": error}

    # --- plain instances against the floor -------------------------------------------------------------

    def plain(self):
        px = self.prefix("plain")
        floor = self.args.floor
        t = {k: [] for k in ("create", "create_floor", "start", "start_floor", "start_pg_ctl", "stop",
                             "stop_floor", "stop_pg_ctl", "restart", "restart_floor", "drop", "drop_floor", "drop_floor_stop")}
        n = self.runs["plain"]
        for r in range(n):
            name, port = f"i{r}", free_port()
            t["create"].append(px.pglift("instance", "create", name, "--port", str(port)).elapsed)
            inst = px.get(name)
            data, sockdir = inst["data_directory"], inst["settings"]["unix_socket_directories"]
            conninfo = f"host={sockdir} port={port} dbname=postgres"

            # create floor: initdb with our options (`pglift -L DEBUG instance create` logs them), our
            # configuration files (port and cluster_name changed), then the start floor.
            fdir, fport = os.path.join(px.dir, "floor", f"f{r}"), free_port()
            fdata, fwal = f"{fdir}/data", f"{fdir}/wal"
            os.makedirs(fdir)
            confs = {f: open(os.path.join(data, f)).read() for f in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf")}
            confs["postgresql.conf"] = "".join(
                f"port = {fport}\n" if line.startswith("port =") else
                f"cluster_name = 'f{r}'\n" if line.startswith("cluster_name =") else line
                for line in confs["postgresql.conf"].splitlines(keepends=True))
            start = time.perf_counter()
            px.run([f"{BINDIR}/initdb", "-D", fdata, "--waldir", fwal, "--username", "postgres",
                    "--auth-local=peer", "--auth-host=reject", "--locale", "C", "--encoding", "UTF8"])
            # as ours: initdb's postgresql.conf kept as postgresql.base.conf, included by our own
            os.rename(os.path.join(fdata, "postgresql.conf"), os.path.join(fdata, "postgresql.base.conf"))
            for f, text in confs.items():
                with open(os.path.join(fdata, f), "w") as out:
                    out.write(text)
            px.run([floor, "start", f"{BINDIR}/postgres", fdata, f"host={sockdir} port={fport} dbname=postgres",
                    f"{fdir}/postgres.log"])
            t["create_floor"].append(time.perf_counter() - start)

            # start, stop, restart: the floor, ours and pg_ctl on the same data directory, in turn; each stop
            # right after a start of the same kind (the first stop after create, which checkpoints what
            # create wrote, is not measured).
            flog = os.path.join(px.dir, "floor", f"{name}.log")
            px.pglift("instance", "stop", name)
            t["start_floor"].append(px.run([floor, "start", f"{BINDIR}/postgres", data, conninfo, flog]).elapsed)
            t["stop_floor"].append(px.run([floor, "stop", data]).elapsed)
            t["start"].append(px.pglift("instance", "start", name).elapsed)
            t["stop"].append(px.pglift("instance", "stop", name).elapsed)
            t["start_pg_ctl"].append(px.run([f"{BINDIR}/pg_ctl", "start", "-w", "-D", data, "-l", flog]).elapsed)
            t["stop_pg_ctl"].append(px.run([f"{BINDIR}/pg_ctl", "stop", "-w", "-m", "fast", "-D", data]).elapsed)
            px.pglift("instance", "start", name)
            t["restart"].append(px.pglift("instance", "restart", name).elapsed)
            t["restart_floor"].append(px.run([floor, "restart", f"{BINDIR}/postgres", data, conninfo, flog]).elapsed)

            # drop: ours (running) against an immediate stop (SIGQUIT: what ours does, nothing to keep) and
            # rm -rf of the directories.
            t["drop"].append(px.pglift("--non-interactive", "instance", "drop", name).elapsed)
            start = time.perf_counter()
            t["drop_floor_stop"].append(px.run([floor, "stop", fdata, "immediate"]).elapsed)
            px.run(["rm", "-rf", fdata, fwal])
            t["drop_floor"].append(time.perf_counter() - start)
            log(f"plain round {r + 1}/{n}: create {t['create'][-1]:.3f}/{t['create_floor'][-1]:.3f} s, "
                f"start {t['start'][-1]:.3f}/{t['start_floor'][-1]:.3f}, stop {t['stop'][-1]:.3f}/{t['stop_floor'][-1]:.3f}, "
                f"restart {t['restart'][-1]:.3f}/{t['restart_floor'][-1]:.3f}, drop {t['drop'][-1]:.3f}/{t['drop_floor'][-1]:.3f}")
        ms = lambda k: report.fmt(median(t[k]) * 1000, "ms")
        self.entry("create_vs_floor", t["create"], t["create_floor"], n, "initdb + postgres + PQping")
        self.entry("start_vs_floor", t["start"], t["start_floor"], n, "postgres + PQping every 1 ms",
                   also={"pg_ctl start -w": ms("start_pg_ctl")})
        self.entry("stop_vs_floor", t["stop"], t["stop_floor"], n, "SIGINT + pidfd wait",
                   also={"pg_ctl stop -w -m fast": ms("stop_pg_ctl")})
        self.entry("restart_vs_floor", t["restart"], t["restart_floor"], n, "stop floor + start floor")
        self.entry("drop_vs_floor", t["drop"], t["drop_floor"], n, "SIGQUIT + pidfd wait + rm -rf",
                   also={"of which the immediate stop": ms("drop_floor_stop")})
        px.remove()

    # --- CLI wall times, the C ABI's get, peak RSS ------------------------------------------------------

    def cli(self):
        px = self.prefix("cli")
        port = free_port()
        px.pglift("instance", "create", "main", "--port", str(port))
        inst = px.get("main")
        data = inst["data_directory"]
        conninfo = f"host={inst['settings']['unix_socket_directories']} port={port} dbname=postgres"
        pg_ctl_status = [f"{BINDIR}/pg_ctl", "status", "-D", data]
        commands = {"version": ["--version"], "get": ["instance", "get", "main", "-o", "json"],
                    "list": ["instance", "list", "-o", "json"], "status": ["instance", "status", "main"]}
        ours = {k: [] for k in commands}
        base = {k: [] for k in commands}
        rss, rss_base = [], []
        n = self.runs["cli"]
        for r in range(n):
            for k, args in commands.items():
                a = px.pglift(*args)
                b = px.run(["/bin/true"] if k == "version" else pg_ctl_status)
                ours[k].append(a.elapsed)
                base[k].append(b.elapsed)
            # peak RSS, apart from the timed runs: through bench/peak_rss.c, whose fork is small
            rss.append(int(px.run([self.args.peak_rss, self.args.cli, *commands["get"]]).stdout))
            rss_base.append(int(px.run([self.args.peak_rss, *pg_ctl_status]).stdout))
        also_true = report.fmt(median(base["version"]) * 1000, "ms")
        also_pgctl = report.fmt(median(base["get"]) * 1000, "ms")
        self.entry("version", ours["version"], base["version"], n, "/bin/true", also={"pg_ctl status": also_pgctl})
        for k in ("get", "list", "status"):
            self.entry(k, ours[k], base[k], n, "pg_ctl status", also={"/bin/true": also_true})
        # the largest of the runs, not the median: a peak
        self.entry("cli_peak_rss_kb", [max(rss)], [max(rss_base)], n, "pg_ctl status", unit="kB")

        calls = self.runs["capi_calls"]
        out = json.loads(px.run([self.args.capi_get, "main", str(calls), conninfo]).stdout)
        self.entry("capi_get_us", out["get_us"], out["ping_us"], calls, "PQping in-process", unit="us")
        px.pglift("--non-interactive", "instance", "drop", "main")
        px.remove()

    # --- start --all of 4 against start of 1 ----------------------------------------------------------

    def start_all(self):
        px = self.prefix("start_all")
        names = [f"a{i}" for i in range(4)]
        targets = []  # (data directory, conninfo, log) of each, for the floor
        for name in names:
            port = free_port()
            px.pglift("instance", "create", name, "--port", str(port))
            inst = px.get(name)
            targets.append((inst["data_directory"],
                            f"host={inst['settings']['unix_socket_directories']} port={port} dbname=postgres",
                            os.path.join(px.dir, f"floor-{name}.log")))
        px.pglift("instance", "stop", "--all")
        all4, one, floor4 = [], [], []
        n = self.runs["start_all"]
        # The floor of 4 at once: 4 floor starts (postgres spawned directly, PQping every 1 ms) in parallel,
        # until the last accepts. On a machine with fewer cores than instances this is well above one start.
        script = ('pg=$1; shift; for t in "$@"; do IFS="|" read -r d c l <<<"$t"; "$0" start "$pg" "$d" "$c" "$l" & done; '
                  'failed=0; for p in $(jobs -p); do wait "$p" || failed=1; done; exit $failed')
        floor_all = ["bash", "-c", script, self.args.floor, f"{BINDIR}/postgres"] + ["|".join(t) for t in targets]
        for r in range(n):
            all4.append(px.pglift("instance", "start", "--all").elapsed)
            px.pglift("instance", "stop", "--all")
            one.append(px.pglift("instance", "start", names[0]).elapsed)
            px.pglift("instance", "stop", names[0])
            floor4.append(px.run(floor_all).elapsed)
            px.pglift("instance", "stop", "--all")
        # What one start costs in CPU (the postmaster's, its live children's, and the reaped startup
        # process's): four need four times that, which the cores cannot give in less than 4·cpu/cores, so
        # the ratio cannot go below 4·cpu/(cores·one start), whatever program starts them.
        cpu = []
        for r in range(n):
            px.run([self.args.floor, "start", f"{BINDIR}/postgres", *targets[0]])
            cpu.append(tree_cpu_s(postmaster_pid(targets[0][0])))
            px.pglift("instance", "stop", names[0])
        cores = os.cpu_count()
        bound = 4 * median(cpu) / cores / median(one)
        self.entry("start_all_4_vs_1", all4, one, n, "start of 1",
                   also={"the floor of 4 at once (postgres + PQping every 1 ms, 4 in parallel)":
                         report.fmt(median(floor4) * 1000, "ms") + f" ({median(floor4) / median(one):.2f}× ours of 1)",
                         "the CPU bound": f"one start takes {median(cpu) * 1000:.0f} ms of CPU (postgres); "
                                          f"4 on {cores} cores ≥ {bound:.2f}× ours of 1"})
        for name in names:
            px.pglift("--non-interactive", "instance", "drop", name)
        px.remove()

    # --- Patroni, on a private etcd -----------------------------------------------------------------

    def start_etcd(self, px):
        client, peer = free_port(), free_port()
        d = os.path.join(px.dir, "etcd")
        os.makedirs(d)
        logf = open(os.path.join(d, "etcd.log"), "wb")
        p = subprocess.Popen(
            ["/usr/bin/etcd", "--name", "bench", "--data-dir", f"{d}/data",
             "--listen-client-urls", f"http://127.0.0.1:{client}", "--advertise-client-urls", f"http://127.0.0.1:{client}",
             "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-cluster", f"bench=http://127.0.0.1:{peer}", "--heartbeat-interval=10", "--election-timeout=100",
             "--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn"],
            env={"PATH": "/usr/bin:/bin"}, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
        px.children.append(p)
        endpoint = f"127.0.0.1:{client}"
        wait_until("etcd healthy", lambda: p.poll() is None and b"true" in (http(f"http://{endpoint}/health")[1] or b""), 15)
        return endpoint

    def patroni(self):
        px = self.prefix("ha")
        endpoint = self.start_etcd(px)
        px.env["SETTINGS"] = json.dumps({**json.loads(px.env["SETTINGS"]),
                                         "patroni": {"etcd": {"hosts": [endpoint]}, **PATRONI_SETTINGS}})
        import yaml  # python3-yaml, a dependency of Patroni: only this phase needs it
        n = self.runs["patroni"]
        leader_t, bare_t, replica_t = [], [], []
        members = None
        for r in range(n):
            cluster, L, R = f"c{r}", f"l{r}", f"r{r}"
            api_l, api_r, api_b = f"127.0.1.1:{free_port()}", f"127.0.1.2:{free_port()}", f"127.0.1.3:{free_port()}"
            # ours: create of a leader, until its GET /primary answers 200
            start = time.perf_counter()
            px.pglift("instance", "create", L, "--port", str(free_port()), "--patroni-cluster", cluster,
                      "--patroni-node", L, "--patroni-restapi-connect-address", api_l,
                      "--patroni-postgresql-connect-host", "127.0.1.1")
            leader_t.append(wait_until(f"{L} /primary", lambda: is_primary(api_l), start=start))
            conf = yaml.safe_load(open(os.path.join(px.dir, "etc", "patroni", f"15-{L}.yaml")))

            # bare: patroni on a copy of that YAML (own scope, fresh data directory), until /primary is 200
            bare_t.append(self.bare_patroni(px, yaml, conf, f"b{r}", api_b, endpoint))

            # ours: create of a replica, until the leader sees it streaming
            start = time.perf_counter()
            px.pglift("instance", "create", R, "--port", str(free_port()), "--patroni-cluster", cluster,
                      "--patroni-node", R, "--patroni-restapi-connect-address", api_r,
                      "--patroni-restapi-listen", api_r, "--patroni-postgresql-connect-host", "127.0.1.2")
            replica_t.append(wait_until(f"{R} streaming", lambda: streams_from(api_l, R), start=start))
            log(f"patroni round {r + 1}/{n}: leader {leader_t[-1]:.3f} s (bare {bare_t[-1]:.3f} s), "
                f"replica streaming {replica_t[-1]:.3f} s")
            if r < n - 1:
                px.pglift("--non-interactive", "instance", "drop", R)
                px.pglift("--non-interactive", "instance", "drop", L, "--remove-cluster")
            else:
                members = {L: api_l, R: api_r}
                auth = conf["restapi"]["authentication"]
        self.entry("patroni_leader_vs_bare", leader_t, bare_t, n, "bare patroni, same YAML")
        self.entry("replica_streaming_ms", replica_t, None, n, None)
        self.switchovers(px, members, (auth["username"], auth["password"]))
        self.failovers(px, members)
        leader = next((m for m, api in members.items() if is_primary(api)), None)
        for name in sorted(members, key=lambda m: m == leader):  # the replica, then the leader with the keys
            px.pglift("--non-interactive", "instance", "drop", name, *(["--remove-cluster"] if name == leader else []))
        px.remove()

    def bare_patroni(self, px, yaml, conf, scope, api, endpoint):
        d = os.path.join(px.dir, "bare", scope)
        os.makedirs(d)
        port = free_port()
        conf = json.loads(json.dumps(conf))  # a deep copy
        conf.update(scope=scope, name=scope)
        conf["log"]["dir"] = f"{d}/log"
        os.makedirs(f"{d}/log")
        conf["restapi"].update(listen=api, connect_address=api)
        pg = conf["postgresql"]
        pg.update(listen=f"127.0.1.3:{port}", connect_address=f"127.0.1.3:{port}", data_dir=f"{d}/data",
                  pgpass=f"{d}/pgpass")
        pg["parameters"]["cluster_name"] = scope
        pg["parameters"]["log_filename"] = f"{scope}-%Y-%m-%d_%H%M%S.log"
        conf["bootstrap"]["initdb"] = [{"waldir": f"{d}/wal"} if isinstance(o, dict) and "waldir" in o else o
                                       for o in conf["bootstrap"]["initdb"]]
        pg["basebackup"] = [{"waldir": f"{d}/wal"} if isinstance(o, dict) and "waldir" in o else o
                            for o in pg.get("basebackup", [])]
        path = f"{d}/patroni.yaml"
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            yaml.safe_dump(conf, out)
        logf = open(f"{d}/patroni.out", "wb")
        start = time.perf_counter()
        p = subprocess.Popen(["/usr/bin/patroni", path], env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                                                               "HOME": os.environ.get("HOME", "/")},
                             stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
        px.children.append(p)
        try:
            elapsed = wait_until(f"bare patroni {scope} /primary",
                                 lambda: is_primary(api) or (p.poll() is not None and self.died(p, d)), start=start)
        finally:
            # stopped by its PID (Patroni stops its postgres), its keys removed from etcd, its files gone
            p.terminate()
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            px.children.remove(p)
            subprocess.run(["/usr/bin/etcdctl", f"--endpoints=http://{endpoint}", "del", "--prefix", f"/service/{scope}/"],
                           env={"PATH": "/usr/bin:/bin", "ETCDCTL_API": "3"}, stdout=subprocess.DEVNULL, check=False)
        pidfile = f"{d}/data/postmaster.pid"
        if os.path.exists(pidfile):  # Patroni was killed before its postgres stopped
            subprocess.run(["bash", "-c", 'source "$1" && terminate_pids QUIT $(head -n 1 "$2")', "_",
                            PREFIX_PROCESSES, pidfile], check=False)
        shutil.rmtree(d, ignore_errors=True)
        return elapsed

    @staticmethod
    def died(p, d):
        tail = open(f"{d}/patroni.out", errors="replace").read()[-1500:]
        raise Failed(f"bare patroni exited ({p.returncode}): {tail}")

    def switchovers(self, px, members, auth):
        (leader, replica) = sorted(members)  # l<r>, r<r>: l leads
        ours, ours_cli, ours_rejoin, bare, bare_post, bare_rejoin = [], [], [], [], [], []
        n = self.runs["switchover"]
        for r in range(n):
            for kind in ("ours", "bare"):
                api_new, api_old = members[replica], members[leader]
                wait_until("both members running in the DCS", lambda: cluster_ready(api_old, members))
                start = time.perf_counter()
                serving = FirstTrue(lambda: is_primary(api_new), start)
                if kind == "ours":
                    px.pglift("patroni", "-i", leader, "switchover", "--candidate", replica)
                else:
                    status, body = http(f"http://{api_old}/switchover", {"leader": leader, "candidate": replica}, auth, timeout=120)
                    if status != 200:
                        raise Failed(f"POST /switchover: {status} {body[-500:] if body else ''}")
                returned = time.perf_counter() - start
                at = serving.result(f"{replica} serving after the switchover")
                rejoin = wait_until(f"{leader} streaming again", lambda: streams_from(api_new, leader), start=start)
                (ours if kind == "ours" else bare).append(at)
                (ours_cli if kind == "ours" else bare_post).append(returned)
                (ours_rejoin if kind == "ours" else bare_rejoin).append(rejoin)
                log(f"switchover {kind} {leader} -> {replica}: serving {at:.3f} s, returned {returned:.3f} s, "
                    f"former leader streaming {rejoin:.3f} s")
                leader, replica = replica, leader
        s = lambda xs: report.fmt(median(xs) * 1000, "ms")
        self.entry("switchover_vs_rest", ours, bare, n, "bare POST /switchover",
                   also={"ours until the former leader streams again": s(ours_rejoin), "ours until the CLI returned": s(ours_cli),
                         "bare until the former leader streams again": s(bare_rejoin), "bare until POST returned": s(bare_post)})

    def failovers(self, px, members):
        out, rejoins = [], []
        n = self.runs["failover"]
        for r in range(n):
            primaries = lambda: [m for m, api in members.items() if is_primary(api)]
            wait_until("a leader serving", lambda: len(primaries()) == 1)
            leader = primaries()[0]
            wait_until("both members running in the DCS", lambda: cluster_ready(members[leader], members))
            other = next(m for m in members if m != leader)
            supervisor = int(open(os.path.join(px.dir, "run", "patroni", f"15-{leader}.pid")).read().split()[0])
            patroni_pid = None
            # the supervisor's children: Patroni (python3 running pglift-patroni-launch.py) and, re-parented
            # to it (a subreaper), the postmaster
            for child in subprocess.run(["pgrep", "-P", str(supervisor)], capture_output=True, text=True).stdout.split():
                argv = open(f"/proc/{child}/cmdline", "rb").read().split(b"\0")
                if any(os.path.basename(a).startswith((b"patroni", b"pglift-patroni")) for a in argv[:2]):
                    patroni_pid = int(child)
            data = px.get(leader)["data_directory"]
            postmaster = int(open(os.path.join(data, "postmaster.pid")).readline())
            if patroni_pid is None:
                raise Failed(f"no Patroni process under the supervisor {supervisor} of {leader}")
            start = time.perf_counter()
            os.kill(patroni_pid, signal.SIGKILL)
            os.kill(postmaster, signal.SIGKILL)
            out.append(wait_until(f"{other} leading after the kill", lambda: is_primary(members[other]), start=start))
            start = time.perf_counter()
            px.pglift("--non-interactive", "instance", "start", leader)
            rejoins.append(wait_until(f"{leader} streaming after its start", lambda: streams_from(members[other], leader),
                                      start=start))
            log(f"failover {r + 1}/{n}: {other} leads {out[-1]:.3f} s after the kill of {leader}; "
                f"{leader} streams {rejoins[-1]:.3f} s after its start")
        self.entry("failover_after_kill_ms", out, None, n, None,
                   also={"instance start of the killed leader until it streams": report.fmt(median(rejoins) * 1000, "ms")})

    # --- the run ---------------------------------------------------------------------------------------

    PHASES = {"plain": ["create_vs_floor", "start_vs_floor", "stop_vs_floor", "restart_vs_floor", "drop_vs_floor"],
              "cli": ["version", "get", "list", "status", "cli_peak_rss_kb", "capi_get_us"],
              "start_all": ["start_all_4_vs_1"],
              "patroni": ["patroni_leader_vs_bare", "replica_streaming_ms", "switchover_vs_rest", "failover_after_kill_ms"]}

    def main(self):
        started = time.perf_counter()
        load_before = " ".join(open("/proc/loadavg").read().split()[:3])
        only = self.args.only.split(",") if self.args.only else list(self.PHASES)
        try:
            for phase in only:
                log(f"--- {phase} ({self.mode})")
                try:
                    getattr(self, phase)()
                except Exception as e:  # a phase that fails leaves its entries null, the others go on
                    if not isinstance(e, Failed):
                        traceback.print_exc()
                    log(f"{phase} failed: {e}")
                    for px in self.prefixes:
                        px.log_tails()
                    self.failed(self.PHASES[phase], f"{type(e).__name__}: {e}"[:2000])
                finally:
                    for px in self.prefixes:  # this phase's processes stop here, whatever happened
                        px.remove()
                    self.prefixes = []
        finally:
            for px in self.prefixes:
                px.remove()
            shutil.rmtree(self.root, ignore_errors=True)
        goals = report.load_goals()
        entries = []
        for name in report.NAMES:
            e = self.entries.get(name) or {"name": name, "unit": report.UNITS.get(name, "ms"), "ours_ms": None, "baseline_ms": None,
                                           "ratio": None, "runs": 0, "error": "phase not run (--only)"}
            e["goal"] = goals.get(name)
            e["ok"] = report.evaluate(e, e["goal"])
            entries.append(e)
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        u = platform.uname()
        results = {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": "bash bench/run.sh" + (" --quick" if self.args.quick else "")
                       + (f" --only {self.args.only}" if self.args.only else "")
                       + (f" --runs {self.args.runs}" if self.args.runs else ""),
            "mode": self.mode,
            "duration_s": round(time.perf_counter() - started, 1),
            "machine": {"uname": f"{u.system} {u.release} {u.machine}", "nproc": os.cpu_count(), "cpu": cpu,
                        "load_before": load_before,
                        "load_after": " ".join(open("/proc/loadavg").read().split()[:3])},
            "units": "ours_ms and baseline_ms are medians in the entry's unit (ms, us or kB); ratio is the median "
                     "of the runs' ratios ours / baseline (each run's pair measured one after the other)",
            "entries": entries,
        }
        report.write_json(self.args.out, results)
        print(report.table(results, goals))
        print()
        return report.verdict(results, goals, self.args.quick)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--capi-get", required=True)
    ap.add_argument("--peak-rss", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="comma-separated phases: " + ",".join(Bench.PHASES))
    ap.add_argument("--runs", type=int, help="runs of every phase (default: per mode)")
    args = ap.parse_args()
    if os.geteuid() == 0:
        sys.exit("run.py: run it as an unprivileged user (bash bench/run.sh does, as root)")
    for a in ("cli", "floor", "capi_get", "peak_rss"):
        setattr(args, a, os.path.abspath(getattr(args, a)))
    args.out = os.path.abspath(args.out)
    # SIGTERM/SIGINT unwind through the finally blocks: every process started is stopped
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))
    return Bench(args).main()


if __name__ == "__main__":
    sys.exit(main())
