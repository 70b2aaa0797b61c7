# pglift-patroni-launch: runs a Patroni script after fixing, in memory, what must not be left as it is.
#
#   <python of the script> pglift-patroni-launch.py [--rejoin-policy rejoin|refuse] [--rejoin-record FILE]
#                                                   [--rejoin-accepted TLI:LSN] PATRONI_SCRIPT ARGS...
#
# pglift-supervisor runs it (the library adds it when the Patroni program is a Python script, with the
# options: src/patroni/fence.cpp patroni_command). It changes nothing on disk but the rejoin record.
#
# 1. The rejoin hook (any Patroni version): when Patroni rewinds a former leader by itself (a leader cut
# off, demoted, and the partition healed: Rewind.execute -> Rewind.pg_rewind), pg_rewind discards what
# that leader wrote past the fork, commits included, without a word. Before the real pg_rewind runs (the
# data directory is stopped cleanly by then), the hook runs `pg_rewind --dry-run` (where the servers
# diverged) and pglift-rejoin-scan (next to this file: the library's WAL code reads what lies past that
# point and judges it). Commits discarded: a WARNING line in Patroni's log naming the range and the count,
# and a record (FILE: <logdir>/rejoin.json, 0600) that `instance get`/`status` report. The policy
# (`patroni.automatic_rejoin_discarding_commits`, passed as --rejoin-policy; default rejoin) decides:
# "rejoin" lets the rewind go on; "refuse" fails it, and this member's PostgreSQL is then not started
# (Ha.recover is held) until Patroni is restarted: `instance stop`, then `instance start
# --accept-data-loss`, whose accepted range comes back as --rejoin-accepted (for the first rewind of that
# Patroni only).
#
# 2. The etcd3 fix: Patroni before 3.0.3 overwrites the etcd3 leader key unconditionally when its lease expired
# (Etcd3._update_leader, fixed upstream in patroni/patroni#2689 and #2693). A leader cut off from the DCS
# demotes itself, but its cached view still names it the leader: when the partition heals it grants itself
# a new lease and puts the leader key over the one the new leader took, promotes itself again, and the
# new leader is demoted at once; what it committed meanwhile is lost. The hosts suite (tests/hosts)
# showed it on every healed partition. Fixed here as upstream did: the key is written only where it still
# names this member, or where there is none.
#
# 3. The validation (--validation-report FILE): Patroni's own validator (`patroni --validate-config`) runs
# here, in the process that then becomes Patroni, before Patroni does anything: a create saves a second
# Python start and import of Patroni (a quarter of a second). FILE (0600) gets "valid", or "invalid" and
# the validator's report (then Patroni is not run: exit status 3), or "unavailable" and why.
import json
import logging
import os
import runpy
import subprocess
import sys
import time

logger = logging.getLogger("pglift")


def version_tuple(text):
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def fix_etcd3_update_leader():
    """Replaces Etcd3._update_leader by a compare-and-set one; returns what was done, for the log."""
    try:
        from patroni.version import __version__ as version
        from patroni.dcs import Leader, ReturnFalseException, catch_return_false_exception
        from patroni.dcs import etcd3
    except Exception as e:  # not the Patroni this was written for: leave it alone
        return "not applied (%s)" % e
    if version_tuple(version) >= (3, 0, 3):
        return "not needed (Patroni %s)" % version

    @catch_return_false_exception
    def _update_leader(self):
        retry = self._retry.copy()

        def _retry(*args, **kwargs):
            kwargs["retry"] = retry
            return retry(*args, **kwargs)

        self._run_and_handle_exceptions(self._do_refresh_lease, True, retry=_retry)
        if not self._lease:
            return False
        cluster = self.cluster
        leader_lease = cluster and isinstance(cluster.leader, Leader) and cluster.leader.session
        if leader_lease == self._lease:
            return True  # the key is ours, on this lease: the keepalive above was the update
        retry.deadline = retry.stoptime - time.time()
        if retry.deadline < 1:
            raise etcd3.Etcd3Error("update_leader timeout")
        put = {"key": etcd3.base64_encode(self.leader_path), "value": etcd3.base64_encode(self._name),
               "lease": self._lease}
        still_ours = {"target": "VALUE", "key": put["key"], "value": put["value"]}
        absent = {"target": "CREATE", "key": put["key"], "create_revision": 0}
        for compare in (still_ours, absent):
            try:
                if self._run_and_handle_exceptions(self._client.txn, compare, {"request_put": put}, retry=_retry):
                    return True
            except ReturnFalseException:
                pass
        logger.warning("pglift: the leader key names another member: not overwriting it")
        return False

    etcd3.Etcd3._update_leader = _update_leader
    return "applied to Patroni %s (etcd3 leader key: compare-and-set, patroni/patroni#2689)" % version


# What the library passed: the policy, the record's path, the range an `instance start` accepted.
rejoin_options = {"policy": "rejoin", "record": None, "accepted": None}
SCAN_PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pglift-rejoin-scan")


def run_dry_run(rewind, r):
    """pg_rewind --dry-run against the leader, as Patroni's own pg_rewind would run: its output (where the
    servers diverged), or the reason it could not run."""
    postgresql = rewind._postgresql
    env = postgresql.config.write_pgpass(r)
    env.update(LANG="C", LC_ALL="C", PGOPTIONS="-c statement_timeout=0")
    dsn = postgresql.config.format_dsn(r, True)
    cmd = [postgresql.pgcommand("pg_rewind"), "--dry-run", "--no-ensure-shutdown", "-D", postgresql.data_dir,
           "--source-server", dsn]
    try:
        done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        return done.stdout
    except (OSError, subprocess.SubprocessError) as e:
        return ("pg_rewind --dry-run could not run: %s\n" % type(e).__name__).encode()


def scan_rewind(rewind, dry_run_output):
    """pglift-rejoin-scan's verdict (a dict: proceed, level, message, outcome, commits, ...)."""
    postgresql = rewind._postgresql
    cmd = [SCAN_PROGRAM, "--bindir", os.path.dirname(postgresql.pgcommand("pg_waldump")),
           "--data-dir", postgresql.data_dir, "--policy", rejoin_options["policy"],
           "--record", rejoin_options["record"] or os.devnull]
    if rejoin_options["accepted"]:
        cmd += ["--accepted", rejoin_options["accepted"]]
    try:
        done = subprocess.run(cmd, input=dry_run_output, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        if done.returncode == 0:
            return json.loads(done.stdout.decode("utf-8"))
        why = "exit code %d: %s" % (done.returncode, done.stderr.decode("utf-8", "replace").strip()[-300:])
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        why = "%s: %s" % (type(e).__name__, e)
    refuse = rejoin_options["policy"] != "rejoin"
    return {"proceed": not refuse, "level": "warning", "outcome": "",
            "message": "cannot tell what Patroni's pg_rewind discards (%s failed: %s)%s" %
                       (SCAN_PROGRAM, why, ": refused" if refuse else ": rewinding as the site's policy says (rejoin)")}


def install_rejoin_hook():
    """Wraps Rewind.pg_rewind (what discards) and Ha.recover (what would start a refused member)."""
    try:
        from patroni.postgresql.rewind import Rewind
        from patroni.ha import Ha
    except Exception as e:
        return "not applied (%s)" % e
    original_pg_rewind = Rewind.pg_rewind
    original_recover = Ha.recover

    def pg_rewind(self, r):
        verdict = scan_rewind(self, run_dry_run(self, r))
        message = verdict.get("message") or ""
        if message:
            (logger.warning if verdict.get("level") == "warning" else logger.info)("pglift: %s", message)
        if not verdict.get("proceed", False):
            self._pglift_refused = message or "refused"
            # Patroni's answer to a failed rewind may be to remove the data directory
            # (remove_data_directory_on_rewind_failure): not this one, whose WAL was kept on purpose.
            self._postgresql.remove_data_directory = lambda: logger.warning(
                "pglift: not removing %s: its rewind was refused to keep what it holds", self._postgresql.data_dir)
            return False
        # A start's acceptance covers the rewind that start led to, not later ones of this Patroni.
        rejoin_options["accepted"] = None
        return original_pg_rewind(self, r)

    def recover(self):
        refused = getattr(self._rewind, "_pglift_refused", None)
        if refused:
            return "pglift: not starting PostgreSQL: the rewind was refused (restart Patroni to retry)"
        return original_recover(self)

    Rewind.pg_rewind = pg_rewind
    Ha.recover = recover
    return "applied (policy: %s)" % rejoin_options["policy"]


def parse_options(argv):
    """Our options before the script; returns the script's argv (script first), or None when unusable."""
    args = list(argv)
    names = {"--rejoin-policy": "policy", "--rejoin-record": "record", "--rejoin-accepted": "accepted",
             "--validation-report": "validation_report"}
    while args and args[0] in names:
        if len(args) < 2:
            return None
        rejoin_options[names[args[0]]] = args[1]
        args = args[2:]
    return args or None


def write_report(path, text):
    """Written whole (a temporary file renamed over it), 0600."""
    tmp = "%s.tmp%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.rename(tmp, path)


def validate(report, configfile):
    """Patroni's validator on CONFIGFILE, its outcome in REPORT; False when the configuration is invalid."""
    try:
        from patroni.config import Config, ConfigParseError
        from patroni.validator import schema
    except Exception as e:  # a Patroni without its validator: say so, run it all the same
        write_report(report, "unavailable\n%s\n" % e)
        return True
    try:
        Config(configfile, validator=schema)
    except ConfigParseError as e:
        write_report(report, "invalid\n%s\n" % (e.value or "").rstrip("\n"))
        return False
    write_report(report, "valid\n")
    return True


def main():
    args = parse_options(sys.argv[1:])
    if not args or args[0].startswith("--"):
        sys.stderr.write("usage: pglift-patroni-launch.py [--rejoin-policy rejoin|refuse] [--rejoin-record FILE] "
                         "[--rejoin-accepted TLI:LSN] [--validation-report FILE] PATRONI_SCRIPT [ARGS...]\n")
        return 2
    script = args[0]
    sys.argv = args
    report = rejoin_options.get("validation_report")
    if report and not validate(report, args[-1] if len(args) > 1 else ""):
        sys.stderr.write("pglift-patroni-launch: invalid configuration (see %s); Patroni not started\n" % report)
        return 3
    sys.stderr.write("pglift-patroni-launch: etcd3 leader-key fix %s\n" % fix_etcd3_update_leader())
    sys.stderr.write("pglift-patroni-launch: rejoin hook %s\n" % install_rejoin_hook())
    sys.stderr.flush()
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
