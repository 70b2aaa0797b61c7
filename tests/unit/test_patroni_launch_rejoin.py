# pglift-patroni-launch.py's rejoin hook, on Patroni's own Rewind and Ha classes, with a fake postgresql
# object, a fake pg_rewind (its --dry-run output) and a fake pglift-rejoin-scan (its verdict).
#   /usr/bin/python3 test_patroni_launch_rejoin.py path/to/pglift-patroni-launch.py
# The scene is Patroni rewinding a former leader by itself: Rewind.execute -> Rewind.pg_rewind.
import atexit
import importlib.util
import json
import os
import shutil
import stat
import sys
import tempfile

from patroni.ha import Ha
from patroni.postgresql.rewind import Rewind, REWIND_STATUS

spec = importlib.util.spec_from_file_location("launch", sys.argv[1])
launch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(launch)

tmp = tempfile.mkdtemp(prefix="pglift-launch-rejoin-")
atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # the fake programs and their record go with the test
bindir = os.path.join(tmp, "bin")
os.mkdir(bindir)
calls = os.path.join(tmp, "calls")


def script(path, body):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, stat.S_IRWXU)


# The dry run says where the servers diverged and records its argv; the real pg_rewind is never run here.
script(os.path.join(bindir, "pg_rewind"),
       'echo "pg_rewind $*" >> %s\necho "pg_rewind: servers diverged at WAL location 0/3000148 on timeline 1" >&2\n' % calls)
# The fake scan: records its argv and stdin, prints the verdict in $VERDICT.
fake_scan = os.path.join(tmp, "pglift-rejoin-scan")
script(fake_scan, 'echo "scan $*" >> %s\ncat >> %s\nprintf "%%s" "$VERDICT"\n' % (calls, calls))
launch.SCAN_PROGRAM = fake_scan


class FakeConfig:
    def __init__(self):
        self.superuser = self.rewind_credentials = {"username": "rewind"}
        self.replication = {}
        self.options = {"use_pg_rewind": True, "remove_data_directory_on_rewind_failure": True}

    def write_pgpass(self, r):
        return dict(os.environ)

    def format_dsn(self, r, include_dbname=False):
        return "host=leader port=5432 user=rewind dbname=postgres"

    def get(self, name, default=None):
        return self.options.get(name, default)


class FakePostgresql:
    data_dir = os.path.join(tmp, "data")
    major_version = 150000
    database = "postgres"

    def __init__(self):
        self.config = FakeConfig()
        self.removed = False

    def pgcommand(self, cmd):
        return os.path.join(bindir, cmd)

    def is_running(self):
        return False

    def get_guc_value(self, name):
        return None

    def checkpoint(self, conn_kwargs=None):
        return None  # the leader ran its checkpoint

    def remove_data_directory(self):
        self.removed = True


class FakeLeader:
    name = "h2"

    def conn_kwargs(self, auth=None):
        return {"host": "leader", "port": 5432}


original_runs = []


def original_pg_rewind(self, r):
    original_runs.append(r)
    return True


# The original is replaced by a recorder before the hook wraps it: the hook calls what it found.
Rewind.pg_rewind = original_pg_rewind
Rewind.check_leader_is_not_in_recovery = staticmethod(lambda conn_kwargs: True)
original_recover = Ha.recover
recovered = []
Ha.recover = lambda self: recovered.append(self) or "starting as a secondary"

failures = []


def check(what, condition):
    print(("ok - " if condition else "FAIL - ") + what)
    if not condition:
        failures.append(what)


check("options before the script are ours, the rest is Patroni's argv",
      launch.parse_options(["--rejoin-policy", "refuse", "--rejoin-record", "/x/rejoin.json",
                            "--rejoin-accepted", "1:0/3000148", "/usr/bin/patroni", "cfg.yaml"]) ==
      ["/usr/bin/patroni", "cfg.yaml"] and launch.rejoin_options == {
          "policy": "refuse", "record": "/x/rejoin.json", "accepted": "1:0/3000148"})
check("no script: unusable", launch.parse_options(["--rejoin-policy"]) is None)
result = launch.install_rejoin_hook()
check("the hook applies to this Patroni: " + result, result.startswith("applied"))


def execute(verdict, remove_on_failure=True):
    """Patroni's own Rewind.execute on a stopped former leader; returns (rewind, postgresql, calls)."""
    if os.path.exists(calls):
        os.remove(calls)
    os.environ["VERDICT"] = json.dumps(verdict)
    del original_runs[:]
    postgresql = FakePostgresql()
    postgresql.config.options["remove_data_directory_on_rewind_failure"] = remove_on_failure
    rewind = Rewind(postgresql)
    rewind._state = REWIND_STATUS.NEED
    rewind.execute(FakeLeader())
    with open(calls) as f:
        return rewind, postgresql, f.read()


warnings = []


class Capture:
    def __getattr__(self, name):
        return lambda fmt, *a: warnings.append((name, fmt % a))


launch.logger = Capture()

# 1. Commits discarded, the policy says rejoin: the real pg_rewind runs, a WARNING names the range.
launch.rejoin_options.update(policy="rejoin", record=os.path.join(tmp, "rejoin.json"), accepted=None)
message = "Patroni's pg_rewind discards WAL 0/3000148..0/30A1B20 of timeline 1 (73 committed transactions)"
rewind, postgresql, seen = execute({"proceed": True, "level": "warning", "message": message, "outcome": "rejoined",
                                    "commits": 73})
check("the dry run ran first, against the leader's DSN, on the stopped data directory",
      "pg_rewind --dry-run --no-ensure-shutdown -D %s --source-server host=leader" % postgresql.data_dir in seen)
check("the scan got the policy, the record's path, the bindir, and the dry run's output on stdin",
      "scan --bindir %s --data-dir %s --policy rejoin --record %s" % (bindir, postgresql.data_dir,
                                                                     os.path.join(tmp, "rejoin.json")) in seen
      and "servers diverged at WAL location 0/3000148 on timeline 1" in seen)
check("rejoin: the real pg_rewind ran, the rewind succeeded", len(original_runs) == 1 and
      rewind._state == REWIND_STATUS.SUCCESS)
check("... and a WARNING in Patroni's log names the range and the count",
      ("warning", "pglift: " + message) in warnings)

# 2. Refused: no pg_rewind, the rewind failed, the data directory kept, PostgreSQL not started.
del warnings[:]
launch.rejoin_options.update(policy="refuse", accepted="1:0/3000148")
rewind, postgresql, seen = execute({"proceed": False, "level": "warning", "message": "refused: " + message,
                                    "outcome": "refused", "commits": 73})
check("the accepted range reaches the scan", "--accepted 1:0/3000148" in seen)
check("... and stays while no rewind went on", launch.rejoin_options["accepted"] == "1:0/3000148")
check("refuse: the real pg_rewind did not run, the rewind did not succeed",
      original_runs == [] and rewind._state != REWIND_STATUS.SUCCESS)
check("... the data directory is not removed (remove_data_directory_on_rewind_failure is on)",
      not postgresql.removed and any("not removing" in text for _, text in warnings))
check("... the refusal is in Patroni's log", ("warning", "pglift: refused: " + message) in warnings)


class FakeHa:
    pass


ha = FakeHa()
ha._rewind = rewind
check("... and Ha.recover does not start PostgreSQL", "not starting PostgreSQL" in Ha.recover(ha) and recovered == [])
ha._rewind = Rewind(FakePostgresql())
check("a member whose rewind was not refused recovers as Patroni does", Ha.recover(ha) == "starting as a secondary"
      and recovered == [ha])

# 3. The scan program cannot run: the policy decides (refuse: no rewind).
launch.SCAN_PROGRAM = os.path.join(tmp, "missing")
del warnings[:]
rewind, postgresql, seen = execute({}, remove_on_failure=False)
check("no scan program, refuse: no rewind, a warning says why", original_runs == [] and rewind.failed and
      any("cannot tell" in text for _, text in warnings))
launch.rejoin_options.update(policy="rejoin")
rewind, postgresql, seen = execute({})
check("no scan program, rejoin: the rewind goes on", len(original_runs) == 1)
check("a rewind that went on used up the start's acceptance (later rewinds are judged anew)",
      launch.rejoin_options["accepted"] is None)

Ha.recover = original_recover
sys.exit(1 if failures else 0)
