"""A Patroni pair through the Python binding: the topology operations of the blocking Context and of the
asyncio Context (pglift.aio), on one leader and one replica on loopback.

Needs a private etcd: run through tests/capi/with_prefix.sh with LIBPGLIFT_TEST_WITH_ETCD=1 (which exports
LIBPGLIFT_TEST_ETCD); skipped otherwise.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import unittest

import pglift
import pglift.aio

PREFIX = os.environ.get("LIBPGLIFT_TEST_PREFIX", "")
ETCD = os.environ.get("LIBPGLIFT_TEST_ETCD")
MEMBERS = {"pytopo1": "127.0.1.1", "pytopo2": "127.0.1.2"}
OTHER = {"pytopo1": "pytopo2", "pytopo2": "pytopo1"}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@unittest.skipUnless(ETCD, "no etcd: run through tests/capi/with_prefix.sh with LIBPGLIFT_TEST_WITH_ETCD=1")
class PatroniPairTest(unittest.TestCase):
    def setUp(self) -> None:
        self.cluster = f"pytopo{os.getpid()}"
        self.settings = {"prefix": PREFIX, "run_prefix": PREFIX + "/run",
                         "patroni": {"etcd": {"hosts": [ETCD]}, "loop_wait": 2, "ttl": 10, "retry_timeout": 3,
                                     "create_timeout": 120}}
        self.ctx = pglift.Context(self.settings)
        self.addCleanup(self.ctx.close)
        self.created: list[str] = []
        self.addCleanup(self._drop_all)
        for name, host in MEMBERS.items():
            api = f"{host}:{free_port(host)}"
            got = self.ctx.create({"name": name, "port": free_port(),
                                   "patroni": {"cluster": self.cluster, "node": name,
                                               "restapi": {"connect_address": api, "listen": api},
                                               "postgresql": {"connect_host": host}}})
            self.created.append(name)
            self.assertEqual((got.patroni["cluster"], got.patroni["node"]), (self.cluster, name))

    def _drop_all(self) -> None:  # the replica first, the last member with its cluster's keys
        while self.created:
            name = self.created.pop()
            try:
                self.ctx.drop(name, remove_cluster=not self.created)
            except pglift.Error as e:
                print(f"cleanup: drop {name}: {e}")

    def settled(self, member: str) -> str:
        """Polls get until one member leads and the other is a running replica (a former leader rejoins
        within seconds; while it restarts, its get may fail); returns the leader."""
        deadline, last = time.monotonic() + 90, None
        while time.monotonic() < deadline:
            try:
                last = self.ctx.get(member).patroni["cluster_members"]
            except pglift.Error as e:
                last = e
            else:
                leaders = [m["name"] for m in last if m["role"] == "leader"]
                replicas = [m for m in last if m["role"] == "replica" and m["state"] in ("streaming", "running")]
                if len(leaders) == 1 and len(replicas) == 1:
                    return leaders[0]
            time.sleep(0.2)  # polling a cluster that converges by itself
        self.fail(f"no leader with a running replica after 90 s: {last}")

    def test_topology_blocking_then_asyncio(self) -> None:
        ctx = self.ctx
        self.assertEqual(self.settled("pytopo2"), "pytopo1")
        status = ctx.status("pytopo2")
        self.assertEqual((status.running, status.patroni["state"], status.patroni["orphan_postmaster"]),
                         (True, "running", False))

        # Blocking.
        self.assertEqual(ctx.switchover("pytopo1", candidate="pytopo2"),
                         {"previous_leader": "pytopo1", "new_leader": "pytopo2", "scheduled": False})
        self.assertEqual(self.settled("pytopo1"), "pytopo2")
        ctx.pause("pytopo1")
        self.assertIs(ctx.get("pytopo2").patroni["is_paused"], True)
        ctx.resume("pytopo2")
        self.assertIs(ctx.get("pytopo1").patroni["is_paused"], False)
        with self.assertRaises(pglift.InvalidSpec) as cm:
            ctx.failover("pytopo1", "nosuch")
        self.assertEqual(cm.exception.field, "candidate")
        self.assertTrue(os.path.getsize(ctx.patroni_log_file("pytopo1")) > 0, "an empty Patroni log")

        # asyncio, on the same pair.
        asyncio.run(self._aio())

    async def _aio(self) -> None:
        async with pglift.aio.Context(self.settings, on_event=None) as actx:
            leader = self.settled("pytopo1")
            result = await actx.switchover("pytopo2", OTHER[leader])
            self.assertEqual(result, {"previous_leader": leader, "new_leader": OTHER[leader], "scheduled": False})
            leader = OTHER[leader]
            self.assertEqual(self.settled("pytopo1"), leader)
            await actx.pause("pytopo2")
            self.assertIs((await actx.get("pytopo1")).patroni["is_paused"], True)
            await actx.resume("pytopo1")
            self.assertIs((await actx.get("pytopo2")).patroni["is_paused"], False)
            result = await actx.failover("pytopo1", OTHER[leader])
            self.assertEqual((result["previous_leader"], result["new_leader"]), (leader, OTHER[leader]))
            leader = OTHER[leader]
            self.assertEqual(self.settled("pytopo2"), leader)
            await actx.promote(OTHER[leader])
            leader = OTHER[leader]
            self.assertEqual(self.settled("pytopo2"), leader, "the asyncio promotion did not hold")
            changed = await actx.configure("pytopo1", {"work_mem": "6MB"})
            self.assertEqual(changed["changes"], {"work_mem": [None, "6MB"]})
            self.assertTrue(os.path.exists(await actx.patroni_log_file("pytopo2")))


if __name__ == "__main__":
    unittest.main()
