# pglift-patroni-launch.py's fix, on Patroni's own Etcd3 class, with etcd replaced by a fake that answers
# compare-and-set transactions (Patroni's Python: the #! line of /usr/bin/patroni).
#   /usr/bin/python3 test_patroni_launch.py path/to/pglift-patroni-launch.py
# The scene is the one the hosts suite showed: a leader cut off from the DCS, whose lease expired while
# another member took the leader key, comes back with a new lease and its stale cached view.
import importlib.util
import sys
import time

from patroni.dcs import Leader, Member
from patroni.dcs import etcd3
from patroni.utils import Retry

spec = importlib.util.spec_from_file_location("launch", sys.argv[1])
launch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(launch)


class FakeClient:
    """Records what reaches etcd; a txn succeeds when its compare is in `succeeding`."""

    def __init__(self, succeeding=()):
        self.succeeding = succeeding
        self.txns, self.puts = [], []

    def txn(self, compare, success, retry=None):
        self.txns.append((compare["target"], success))
        return True if compare["target"] in self.succeeding else None

    def put(self, key, value, lease=None, create_revision=None, mod_revision=None, retry=None):
        self.puts.append((key, value, create_revision, mod_revision))
        return True


class Scene(etcd3.Etcd3):
    """An Etcd3 DCS of member h3 whose cached view says h3 leads on `cached_session`."""

    def __init__(self, client, cached_session, granted_lease):
        # No Etcd3.__init__: no connection. Only what _update_leader touches.
        self._client = client
        self._retry = Retry(deadline=10, max_delay=1, max_tries=1, retry_exceptions=etcd3.Etcd3Error)
        self._name = "h3"
        self._base_path = "/service/c"
        self._citus_group = None
        self._lease = None
        self._granted = granted_lease
        self._cached = etcd3.Cluster(None, None, Leader(10, cached_session, Member(10, "h3", cached_session, {})),
                                     None, [], None, None, None, None, None, {})

    def _do_refresh_lease(self, force=False, retry=None):
        self._lease = self._granted  # the old lease expired during the partition: a new one is granted
        return True

    @property
    def cluster(self):
        return self._cached


def update(client, cached_session, granted):
    return Scene(client, cached_session, granted)._update_leader()


failures = []


def check(what, condition):
    print(("ok - " if condition else "FAIL - ") + what)
    if not condition:
        failures.append(what)


original = etcd3.Etcd3._update_leader
# Before the fix: the key is put unconditionally, over the new leader's (the bug).
bug = FakeClient()
update_with_original = original(Scene(bug, "old", "new"))
check("without the fix, Patroni 3.0.2 puts the leader key unconditionally (the bug this fixes)",
      update_with_original and bug.puts == [("/service/c/leader", "h3", None, None)])

result = launch.fix_etcd3_update_leader()
check("the fix applies to this Patroni: " + result, result.startswith("applied"))

client = FakeClient()
check("another member holds the key: not overwritten, the update fails", update(client, "old", "new") is False)
check("... after asking only compare-and-set questions (value is ours, or no key)",
      [t for t, _ in client.txns] == ["VALUE", "CREATE"] and client.puts == [])

client = FakeClient(succeeding=("VALUE",))
check("the key still names this member: put with the new lease", update(client, "old", "new") is True)
check("... in one compare-and-set", [t for t, _ in client.txns] == ["VALUE"] and client.txns[0][1]["request_put"]["lease"] == "new")

client = FakeClient(succeeding=("CREATE",))
check("no key at all: created", update(client, "old", "new") is True)

client = FakeClient()
check("the key is ours on this lease: the keepalive was the update, nothing written",
      update(client, "same", "same") is True and client.txns == [] and client.puts == [])

# --validation-report: Patroni's validator in the launcher's process; an invalid configuration is reported
# (0600) and Patroni is not run.
import os
import subprocess
import tempfile

with tempfile.TemporaryDirectory() as d:
    config = os.path.join(d, "patroni.yaml")
    with open(config, "w") as out:
        out.write("scope: c\nname: m1\nrestapi:\n  listen: 127.0.0.1:1\n  connect_address: 127.0.0.1:1\n"
                  "postgresql:\n  data_dir: %s/data\n  listen: 127.0.0.1:2\n  connect_address: 127.0.0.1:2\n"
                  "  bin_dir: /nonexistent\n  authentication:\n    superuser: {username: postgres}\n"
                  "    replication: {username: replication}\n" % d)
    report = os.path.join(d, "validation-report")
    check("validate(): False on an invalid configuration", launch.validate(report, config) is False)
    text = open(report).read()
    check("... reported as invalid, with the validator's words: " + repr(text[:120]),
          text.startswith("invalid\n") and "127.0.0.1" in text)
    check("... in a file of mode 0600", os.stat(report).st_mode & 0o777 == 0o600)
    os.remove(report)
    script = os.path.join(d, "fake-patroni")
    ran = os.path.join(d, "ran")
    with open(script, "w") as out:
        out.write("open(%r, 'w').close()\n" % ran)
    p = subprocess.run([sys.executable, sys.argv[1], "--validation-report", report, script, config],
                       capture_output=True, text=True)
    check("the launcher exits 3 and does not run Patroni: %d %s" % (p.returncode, p.stderr.strip()[-200:]),
          p.returncode == 3 and not os.path.exists(ran) and open(report).read().startswith("invalid\n"))

sys.exit(1 if failures else 0)
