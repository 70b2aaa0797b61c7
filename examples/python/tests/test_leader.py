"""Issue 11's daily work (pgconf, roles, databases) on a Patroni leader, through the Python binding.

Needs a private etcd: run through tests/capi/with_prefix.sh with LIBPGLIFT_TEST_WITH_ETCD=1 (which exports
LIBPGLIFT_TEST_ETCD); skipped otherwise. One member, leader of its own cluster, serves the whole scenario.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import unittest
import urllib.request

import pglift
from pglift.databases import Databases

PREFIX = os.environ.get("LIBPGLIFT_TEST_PREFIX", "")
ETCD = os.environ.get("LIBPGLIFT_TEST_ETCD")
INSTANCE, CLUSTER = "pylead", "pylc"
SECRET = "py-Leader-Secret-7f3a"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dcs_keys(prefix: str) -> list[str]:
    """The keys under ``prefix`` in the test's etcd (v3 JSON gateway)."""
    key = prefix.encode()
    range_end = key[:-1] + bytes([key[-1] + 1])
    body = json.dumps({"key": base64.b64encode(key).decode(), "range_end": base64.b64encode(range_end).decode(),
                       "keys_only": True}).encode()
    with urllib.request.urlopen(f"http://{ETCD}/v3/kv/range", body, timeout=5) as answer:
        kvs = json.load(answer).get("kvs", [])
    return [base64.b64decode(kv["key"]).decode() for kv in kvs]


@unittest.skipUnless(ETCD, "no etcd: run through tests/capi/with_prefix.sh with LIBPGLIFT_TEST_WITH_ETCD=1")
class PatroniLeaderTest(unittest.TestCase):
    def setUp(self) -> None:
        settings = {"prefix": PREFIX, "run_prefix": PREFIX + "/run",
                    "patroni": {"etcd": {"hosts": [ETCD]}, "loop_wait": 2, "ttl": 10, "retry_timeout": 3}}
        self.ctx = pglift.Context(settings, log_level=pglift.DEBUG)
        self.addCleanup(self.ctx.close)
        self.ctx.set_event_capacity(1 << 16)  # every event is kept until checked for the password
        self.messages: list[str] = []

    def drain(self) -> None:
        self.messages.extend(e.message for e in self.ctx.events())
        self.assertEqual(self.ctx.dropped_events, 0, "no event may escape the password check")

    def assertNoSecret(self, text: object, what: str) -> None:
        self.assertNotIn(SECRET, str(text), f"the password shows in {what}")

    def test_daily_work_on_a_leader(self) -> None:
        ctx = self.ctx
        spec = {"name": INSTANCE, "port": free_port(),
                "patroni": {"cluster": CLUSTER, "node": INSTANCE,
                            "restapi": {"connect_address": f"127.0.1.1:{free_port()}"},
                            "postgresql": {"connect_host": "127.0.1.1"}}}
        ctx.create(spec)
        dropped = False
        try:
            self._scenario()
            ctx.drop(INSTANCE, remove_cluster=True)  # the last member: the cluster's keys go too
            dropped = True
            self.drain()
            with self.assertRaises(pglift.NotFound, msg="the dropped instance is still found"):
                ctx.get(INSTANCE)
            self.assertEqual(dcs_keys(f"/service/{CLUSTER}/"), [], "the cluster's keys are left in the DCS")
            for message in self.messages:
                self.assertNoSecret(message, "an event")
        finally:
            if not dropped:
                try:
                    ctx.drop(INSTANCE, remove_cluster=True)
                except pglift.Error:
                    ctx.drop(INSTANCE, dcs_unreachable_ok=True)

    def _scenario(self) -> None:
        ctx = self.ctx
        dbs = Databases(ctx, INSTANCE)

        # A Patroni member, leading its own cluster.
        got = ctx.get(INSTANCE)
        self.assertEqual(got.state, "started", "the member is not running")
        patroni = got.extra.get("patroni")
        self.assertIsNotNone(patroni, f"get shows no Patroni section: {sorted(got.extra)}")
        self.assertEqual((patroni["cluster"], patroni["node"]), (CLUSTER, INSTANCE))
        roles = {m["name"]: m["role"] for m in patroni["cluster_members"]}
        self.assertEqual(roles, {INSTANCE: "leader"}, "the member does not lead its cluster")
        self.drain()

        # pgconf: a reloadable parameter takes effect, a restart-only one says so.
        result = ctx.configure(INSTANCE, {"work_mem": "8MB"})
        self.assertEqual(result["changes"], {"work_mem": [None, "8MB"]})
        self.assertTrue(result["reloaded"], f"work_mem=8MB did not reload: {result}")
        self.assertEqual(dbs.run("SHOW work_mem", databases=["postgres"]), {"postgres": [{"work_mem": "8MB"}]},
                         "SHOW work_mem after the reload")
        result = ctx.configure(INSTANCE, {"max_connections": 120})
        self.assertIn("max_connections", result["needs_restart"], f"max_connections=120: {result}")
        self.drain()

        # A role whose password comes from a file nobody else can read.
        passfile = os.path.join(PREFIX, "py-leader-password")
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(SECRET + "\n")
        self.assertEqual(stat.S_IMODE(os.stat(passfile).st_mode), 0o600)
        with open(passfile) as f:
            password = f.read().strip()
        ctx.roles.create(INSTANCE, {"name": "alice", "login": True, "password": password})
        alice = ctx.roles.get(INSTANCE, "alice")
        self.assertEqual((alice.name, alice.login, alice.has_password), ("alice", True, True), f"role get: {alice}")
        self.assertNoSecret(alice, "role get's result")
        with self.assertRaises(pglift.AlreadyExists) as cm:
            ctx.roles.create(INSTANCE, {"name": "alice", "password": password})
        self.assertNoSecret(cm.exception, "an error")
        self.assertNoSecret(cm.exception.detail, "an error's detail")
        self.drain()

        # A database owned by alice, and the privileges listing.
        created = dbs.create({"name": "app", "owner": "alice"})
        self.assertEqual(created["owner"], "alice")
        self.assertEqual(dbs.get("app")["owner"], "alice", "database get: owner")
        dbs.run("CREATE TABLE t (i int); GRANT SELECT ON t TO alice", databases=["app"])
        privileges = dbs.privileges(["app"], ["alice"])
        self.assertEqual([(p["object_name"], p["privileges"]) for p in privileges], [("t", ["SELECT"])],
                         f"privileges of alice in app: {privileges}")
        for what, result in [("database get", dbs.get("app")), ("privileges", privileges),
                             ("role list", ctx.roles.list(INSTANCE)), ("instance get", ctx.get(INSTANCE))]:
            self.assertNoSecret(result, f"{what}'s result")
        self.drain()

        # Drops: get says NotFound after each.
        dbs.drop("app", force=True)
        with self.assertRaises(pglift.NotFound, msg="database get after its drop"):
            dbs.get("app")
        ctx.roles.drop(INSTANCE, "alice")
        with self.assertRaises(pglift.NotFound, msg="role get after its drop"):
            ctx.roles.get(INSTANCE, "alice")
        self.drain()
        with open(ctx.patroni_log_file(INSTANCE)) as f:
            self.assertNoSecret(f.read(), "the Patroni log")


if __name__ == "__main__":
    unittest.main()
