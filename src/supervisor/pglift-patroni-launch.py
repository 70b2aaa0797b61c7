# pglift-patroni-launch: runs a Patroni script after fixing, in memory, what must not be left as it is.
#
#   <python of the script> pglift-patroni-launch.py PATRONI_SCRIPT ARGS...
#
# pglift-supervisor runs it (the library adds it when the Patroni program is a Python script). It changes
# nothing on disk and nothing in a Patroni that does not need it.
#
# The fix: Patroni before 3.0.3 overwrites the etcd3 leader key unconditionally when its lease expired
# (Etcd3._update_leader, fixed upstream in patroni/patroni#2689 and #2693). A leader cut off from the DCS
# demotes itself, but its cached view still names it the leader: when the partition heals it grants itself
# a new lease and puts the leader key over the one the new leader took, promotes itself again, and the
# new leader is demoted at once; what it committed meanwhile is lost. The hosts suite (tests/hosts)
# showed it on every healed partition. Fixed here as upstream did: the key is written only where it still
# names this member, or where there is none.
import logging
import runpy
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


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: pglift-patroni-launch.py PATRONI_SCRIPT [ARGS...]\n")
        return 2
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.stderr.write("pglift-patroni-launch: etcd3 leader-key fix %s\n" % fix_etcd3_update_leader())
    sys.stderr.flush()
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
