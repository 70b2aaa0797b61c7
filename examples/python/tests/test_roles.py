"""Roles through the Python binding on one real instance (run through tests/capi/with_prefix.sh)."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import unittest

import pglift

PREFIX = os.environ.get("LIBPGLIFT_TEST_PREFIX", "")
SECRET = "py-Role-Secret-42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RolesTest(unittest.TestCase):
    ctx: pglift.Context
    passfile = PREFIX + "/py-roles.pgpass"

    @classmethod
    def setUpClass(cls) -> None:
        cls.ctx = pglift.Context({"prefix": PREFIX, "run_prefix": PREFIX + "/run",
                                  "postgresql": {"auth": {"passfile": cls.passfile}}}, log_level=pglift.DEBUG)
        cls.ctx.create({"name": "pyroles", "port": free_port()})

    @classmethod
    def tearDownClass(cls) -> None:
        cls.ctx.drop("pyroles")
        cls.ctx.close()

    def test_life_of_a_role(self) -> None:
        roles = self.ctx.roles
        roles.create("pyroles", {"name": "bob", "password": SECRET, "login": True, "in_roles": ["pg_monitor"],
                                 "pgpass": True})
        bob = roles.get("pyroles", "bob")
        self.assertIsInstance(bob, pglift.Role)
        self.assertEqual((bob.name, bob.has_password, bob.login, bob.in_roles, bob.pgpass),
                         ("bob", True, True, ["pg_monitor"], True))
        self.assertEqual(stat.S_IMODE(os.stat(self.passfile).st_mode), 0o600)
        self.assertIn("bob", [r.name for r in roles.list("pyroles")])

        roles.alter("pyroles", "bob", {"login": False, "grant": ["pg_read_all_stats"], "revoke": ["pg_monitor"]})
        bob = roles.get("pyroles", "bob")
        self.assertEqual((bob.login, bob.in_roles), (False, ["pg_read_all_stats"]))

        op = roles.get_async("pyroles", "bob", 21)
        self.assertTrue(op.wait(60))
        self.assertEqual(op.result().name, "bob")
        op.close()

        roles.drop("pyroles", "bob", drop_owned=True)
        with self.assertRaises(pglift.NotFound):
            roles.get("pyroles", "bob")
        with open(self.passfile) as f:
            self.assertNotIn(":bob:", f.read())
        for event in self.ctx.events():
            self.assertNotIn(SECRET, event.message)

    def test_asyncio(self) -> None:
        settings = {"prefix": PREFIX, "run_prefix": PREFIX + "/run", "postgresql": {"auth": {"passfile": self.passfile}}}

        async def main() -> None:
            async with pglift.aio.Context(settings, on_event=None) as ctx:
                await ctx.roles.create("pyroles", {"name": "erin", "login": True})
                erin, roles = await asyncio.gather(ctx.roles.get("pyroles", "erin"), ctx.roles.list("pyroles"))
                self.assertTrue(erin.login)
                self.assertIn("erin", [r.name for r in roles])
                await ctx.roles.alter("pyroles", "erin", {"createdb": True})
                self.assertTrue((await ctx.roles.get("pyroles", "erin")).createdb)
                await ctx.roles.drop("pyroles", "erin")
                with self.assertRaises(pglift.NotFound):
                    await ctx.roles.get("pyroles", "erin")

        asyncio.run(main())

    def test_dry_runs_change_nothing(self) -> None:
        roles = self.ctx.roles
        roles.create("pyroles", {"name": "pydryrole", "password": SECRET, "login": True}, dry_run=True)
        with self.assertRaises(pglift.NotFound):
            roles.get("pyroles", "pydryrole")
        op = roles.create_async("pyroles", {"name": "pydryrole"}, 23, dry_run=True)
        self.assertTrue(op.wait(60))
        self.assertIsNone(op.result())
        op.close()
        with self.assertRaises(pglift.NotFound):
            roles.get("pyroles", "pydryrole")

        roles.create("pyroles", {"name": "pydrykept", "login": True})
        before = roles.get("pyroles", "pydrykept")
        roles.alter("pyroles", "pydrykept", {"login": False, "superuser": True, "grant": ["pg_monitor"]}, dry_run=True)
        op = roles.alter_async("pyroles", "pydrykept", {"createdb": True}, 24, dry_run=True)
        self.assertTrue(op.wait(60))
        self.assertIsNone(op.result())
        op.close()
        self.assertEqual(roles.get("pyroles", "pydrykept"), before)
        roles.drop("pyroles", "pydrykept", drop_owned=True, dry_run=True)
        self.assertEqual(roles.get("pyroles", "pydrykept"), before)

        # A dry run still checks: refusals are those of the real write.
        with self.assertRaises(pglift.AlreadyExists):
            roles.create("pyroles", {"name": "pydrykept"}, dry_run=True)
        with self.assertRaises(pglift.NotFound):
            roles.alter("pyroles", "pydrynobody", {"login": True}, dry_run=True)

        async def main() -> None:
            settings = {"prefix": PREFIX, "run_prefix": PREFIX + "/run",
                        "postgresql": {"auth": {"passfile": self.passfile}}}
            async with pglift.aio.Context(settings, on_event=None) as ctx:
                await ctx.roles.drop("pyroles", "pydrykept", dry_run=True)
                await ctx.roles.create("pyroles", {"name": "pydryrole"}, dry_run=True)

        asyncio.run(main())
        self.assertEqual(roles.get("pyroles", "pydrykept"), before)
        with self.assertRaises(pglift.NotFound):
            roles.get("pyroles", "pydryrole")
        roles.drop("pyroles", "pydrykept")
        for event in self.ctx.events():
            self.assertNotIn(SECRET, event.message)

    def test_errors(self) -> None:
        roles = self.ctx.roles
        roles.create("pyroles", {"name": "carol"})
        with self.assertRaises(pglift.AlreadyExists):
            roles.create("pyroles", {"name": "carol"})
        with self.assertRaises(pglift.InvalidSpec) as cm:
            roles.create("pyroles", {"name": "dave", "password": SECRET, "encrypted_password": SECRET})
        self.assertEqual(cm.exception.field, "encrypted_password")
        self.assertNotIn(SECRET, str(cm.exception))
        with self.assertRaises(pglift.InvalidSpec) as cm:
            roles.drop("pyroles", "carol", drop_owned=True, reassign_owned="postgres")
        self.assertEqual(cm.exception.field, "reassign_owned")
        op = roles.drop_async("pyroles", "carol", 22)
        self.assertTrue(op.wait(60))
        self.assertIsNone(op.result())
        op.close()
        with self.assertRaises(pglift.NotFound):
            roles.drop("pyroles", "carol")
        self.assertEqual(pglift.ReadOnly.code, -16)


if __name__ == "__main__":
    unittest.main()
