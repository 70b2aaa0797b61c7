"""The databases module against a real PostgreSQL 15 (one instance for the class), through
tests/capi/with_prefix.sh with LIBPGLIFT_PATH naming the library."""

from __future__ import annotations

import socket
import unittest

import pglift
from pglift.databases import Databases


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DatabasesTest(unittest.TestCase):
    ctx: pglift.Context

    @classmethod
    def setUpClass(cls) -> None:
        cls.ctx = pglift.Context()
        cls.ctx.create({"name": "pydbs", "port": free_port()})
        cls.dbs = Databases(cls.ctx, "15/pydbs")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.ctx.drop("15/pydbs")
        cls.ctx.close()

    def test_life(self) -> None:
        created = self.dbs.create({"name": "app", "settings": {"work_mem": "8MB"}, "schemas": ["s1"],
                                   "extensions": ["hstore"]})
        self.assertEqual(created["settings"], {"work_mem": "8MB"})
        self.assertIn({"name": "s1", "owner": "postgres"}, created["schemas"])
        self.assertEqual([e["name"] for e in created["extensions"]], ["hstore"])
        with self.assertRaises(pglift.AlreadyExists):
            self.dbs.create({"name": "app"})
        self.assertEqual([d["name"] for d in self.dbs.list(["app"])], ["app"])
        self.assertNotIn("app", [d["name"] for d in self.dbs.list(exclude=["app"])])

        altered = self.dbs.alter({"name": "app", "settings": {}, "schemas": [{"name": "s1", "state": "absent"}]})
        self.assertIsNone(altered["settings"])
        self.assertNotIn("s1", [s["name"] for s in altered["schemas"]])

        self.dbs.run("CREATE TABLE t (i int); CREATE ROLE pyreader", databases=["app"])
        rows = self.dbs.run("INSERT INTO t VALUES (1), (NULL) RETURNING i", databases=["app"])
        self.assertEqual(rows, {"app": [{"i": "1"}, {"i": None}]})
        self.dbs.run("GRANT SELECT ON t TO pyreader", databases=["app"])
        privs = self.dbs.privileges(["app"], ["pyreader"])
        self.assertEqual([(p["object_name"], p["privileges"]) for p in privs], [("t", ["SELECT"])])

        op = self.dbs.run_async("SELECT count(*) AS n FROM t", 9, databases=["app"])
        self.assertTrue(op.wait(60))
        self.assertEqual(op.result(), {"app": [{"n": "2"}]})
        op.close()
        self.dbs.drop("app", force=True)
        with self.assertRaises(pglift.NotFound):
            self.dbs.get("app")

    def test_dry_runs_change_nothing(self) -> None:
        would = self.dbs.create({"name": "pydrydb", "settings": {"work_mem": "2MB"}}, dry_run=True)
        self.assertEqual(would["name"], "pydrydb")
        with self.assertRaises(pglift.NotFound):
            self.dbs.get("pydrydb")
        op = self.dbs.create_async({"name": "pydrydb"}, 31, dry_run=True)
        self.assertTrue(op.wait(60))
        self.assertEqual(op.result()["name"], "pydrydb")
        op.close()
        with self.assertRaises(pglift.NotFound):
            self.dbs.get("pydrydb")
        with self.assertRaises(pglift.NotFound):  # still checked: the owner must exist
            self.dbs.create({"name": "pydrydb", "owner": "pydrynobody"}, dry_run=True)

        self.dbs.create({"name": "pydrykeptdb"})
        try:
            before = self.dbs.get("pydrykeptdb")
            now = self.dbs.alter({"name": "pydrykeptdb", "settings": {"work_mem": "3MB"}}, dry_run=True)
            self.assertEqual(now, before)
            op = self.dbs.alter_async({"name": "pydrykeptdb", "schemas": ["pydrys"]}, 32, dry_run=True)
            self.assertTrue(op.wait(60))
            self.assertEqual(op.result(), before)
            op.close()
            self.dbs.drop("pydrykeptdb", force=True, dry_run=True)
            op = self.dbs.drop_async("pydrykeptdb", 33, dry_run=True)
            self.assertTrue(op.wait(60))
            self.assertIsNone(op.result())
            op.close()
            self.assertEqual(self.dbs.get("pydrykeptdb"), before)
        finally:
            self.dbs.drop("pydrykeptdb")

    def test_errors_name_the_field(self) -> None:
        with self.assertRaises(pglift.InvalidSpec) as cm:
            self.dbs.create({"name": "x", "extensions": [{"name": "e", "state": "gone"}]})
        self.assertEqual(cm.exception.field, "extensions[0].state")
        with self.assertRaises(pglift.InvalidSpec) as cm:
            self.dbs.create({"name": "x", "tablespace": "default"})
        self.assertEqual(cm.exception.field, "tablespace")
        with self.assertRaises(pglift.NotFound):
            self.dbs.privileges(roles=["nobody"])

    def test_failed_create_reverts(self) -> None:
        with self.assertRaises(pglift.StateError):
            self.dbs.create({"name": "broken", "extensions": ["no_such_extension"]})
        self.assertNotIn("broken", [d["name"] for d in self.dbs.list()])


if __name__ == "__main__":
    unittest.main()
