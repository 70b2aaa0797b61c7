#!/usr/bin/env python3
"""Copies the HA figures the hosts suite measured into bench/results.json (key "hosts").

    python3 bench/hosts-figures.py BUILD_DIR [RESULTS_JSON]

after `meson test -C BUILD_DIR --suite hosts` (as root; scripts/test.sh runs it). The suite writes
BUILD_DIR/tests/hosts/figures-ha.json and figures-sync.json; a figure it could not measure (its scenario
failed) is null and stays null here: never a number from another run. Other keys of RESULTS_JSON are kept.
"""
import datetime, json, os, platform, sys

# What each figure means, in the README's words (seconds from the event named, rows as counted).
MEANING = {
    "failover_after_kill_s": "kill -9 of the leader's Patroni and postmaster -> another member leads",
    "rejoin_after_kill_s": "instance start of the killed former leader -> it streams from the new leader",
    "switchover_rejoin_s": "switchover returned -> the former leader (another host) streams",
    "partition_last_write_on_isolated_s": "partition -> last write the isolated leader confirmed",
    "partition_isolated_read_only_s": "partition -> the isolated leader serves reads (read-only)",
    "partition_new_leader_write_s": "partition -> first write confirmed by the new leader",
    "no_writer_window_s": "last write on the isolated leader -> first write on the new one",
    "rejoin_after_heal_s": "partition healed -> the former leader streams from the new leader",
    "rows_lost_async": "rows a probe saw confirmed, absent from the new leader (asynchronous)",
    "sync_no_writer_window_s": "the same window with synchronous_mode on",
    "sync_rejoin_after_heal_s": "the same rejoin with synchronous_mode on",
    "rows_lost_sync": "rows a probe saw confirmed, absent from the new leader (synchronous_mode)",
}


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    build = sys.argv[1]
    results_path = sys.argv[2] if len(sys.argv) == 3 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json")
    figures, sources = {}, []
    for name in ("figures-ha.json", "figures-sync.json"):
        path = os.path.join(build, "tests", "hosts", name)
        if not os.path.exists(path):
            print(f"no {path}: that test did not run (its figures are null)", file=sys.stderr)
            continue
        figures.update(json.load(open(path)))
        sources.append(os.path.relpath(path, build))
    if not figures:
        sys.exit(f"no figures under {build}/tests/hosts: run `meson test -C {build} --suite hosts` as root first")
    for name in MEANING:  # a scenario that failed before measuring: said so, not left out
        figures.setdefault(name, None)
    results = json.load(open(results_path)) if os.path.exists(results_path) else {}
    results["hosts"] = {
        "measured": datetime.datetime.fromtimestamp(
            max(os.path.getmtime(os.path.join(build, s)) for s in sources), datetime.timezone.utc
        ).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs",
        "setup": "3 hosts (network namespaces), 3-member etcd 3.4, Patroni 3.0.2, PostgreSQL 15, "
                 "ttl 10, loop_wait 2, retry_timeout 3, writer probe every 50 ms on each member",
        "source": "tests/hosts (meson test --suite hosts), copied by bench/hosts-figures.py from " + ", ".join(sources),
        "figures": {k: figures[k] for k in sorted(figures)},
        "meaning": {k: MEANING[k] for k in sorted(figures) if k in MEANING},
        "null": "not measured: the scenario failed before (see the suite's log)",
    }
    with open(results_path + ".tmp", "w") as out:
        json.dump(results, out, indent=2)
        out.write("\n")
    os.replace(results_path + ".tmp", results_path)
    for k in sorted(figures):
        print(f"{k:36} {figures[k] if figures[k] is not None else 'not measured (scenario failed)'}")
    print(f"-> {results_path}")


if __name__ == "__main__":
    main()
