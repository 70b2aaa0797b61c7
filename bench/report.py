#!/usr/bin/env python3
"""The benchmark's table and goal check, from bench/results.json and bench/goals.json.

    python3 bench/report.py [--quick] [RESULTS]        print the table; exit 1 when an entry is missing
                                                       (not measured), or, without --quick, a goal is missed
    python3 bench/report.py --merge NEW RESULTS        copy NEW's run (entries, machine, date...) into
                                                       RESULTS, keeping its other keys ("hosts")
    python3 bench/report.py --readme README [--check]  write the table into README between its markers
                                                       (--check: exit 1 when README does not match)

RESULTS defaults to bench/results.json. Its "entries" are {name, unit, ours_ms, baseline_ms, ratio, runs,
goal, ok, floor, also}: ours_ms and baseline_ms are medians in the entry's unit (ms, except capi_get_us in
us and cli_peak_rss_kb in kB), ratio the median of the runs' ratios ours / baseline (paired runs).
"""
import json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
GOALS = os.path.join(HERE, "goals.json")
RESULTS = os.path.join(HERE, "results.json")
# Every entry issue 13 asks for, in the table's order.
NAMES = ["version", "get", "list", "status", "create_vs_floor", "start_vs_floor", "stop_vs_floor",
         "restart_vs_floor", "drop_vs_floor", "start_all_4_vs_1", "patroni_leader_vs_bare",
         "replica_streaming_ms", "switchover_vs_rest", "failover_after_kill_ms", "capi_get_us",
         "cli_peak_rss_kb"]
UNITS = {"capi_get_us": "us", "cli_peak_rss_kb": "kB"}  # the others: ms
BEGIN, END = "<!-- bench/report.py: table begins -->", "<!-- bench/report.py: table ends -->"


def load_goals(path=GOALS):
    return json.load(open(path))["goals"]


def evaluate(entry, goal):
    """True (held), False (missed) or None (no goal, or not measured)."""
    if goal is None:
        return None
    value = entry.get("ours_ms") if goal["of"] == "ours" else entry.get("ratio")
    return None if value is None else value <= goal["max"]


def goal_text(goal, unit):
    if goal is None:
        return "none set"
    return f"≤ {goal['max']:.2f}×" if goal["of"] == "ratio" else f"≤ {fmt(goal['max'], unit)}"


def fmt(value, unit):
    if value is None:
        return "not measured"
    if unit == "ms":
        return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"
    if unit == "us":
        return f"{value:.0f} µs"
    if unit == "kB":
        return f"{value:,.0f} kB"
    if unit == "x":
        return f"{value:.2f}×"
    return f"{value:g} {unit}"


def table(results, goals):
    """The markdown table, the figures measured beside it, and the machine it ran on."""
    by_name = {e["name"]: e for e in results.get("entries", [])}
    lines = ["| entry | ours | floor / baseline | ratio | goal | runs | |", "|---|---|---|---|---|---|---|"]
    for name in NAMES:
        e = by_name.get(name, {"name": name, "unit": UNITS.get(name, "ms")})
        goal = goals.get(name)
        ok = evaluate(e, goal)
        verdict = {True: "ok", False: "**MISSED**", None: "—"}[ok]
        if e.get("ours_ms") is None:
            verdict = "**not measured**"
        base = "—" if e.get("baseline_ms") is None else f"{fmt(e['baseline_ms'], e['unit'])} ({e.get('floor', '')})"
        ratio = "—" if e.get("ratio") is None else f"{e['ratio']:.2f}×"
        lines.append(f"| `{name}` | {fmt(e.get('ours_ms'), e['unit'])} | {base} | {ratio} | "
                     f"{goal_text(goal, e['unit'])} | {e.get('runs', 0)} | {verdict} |")
    also = [f"- `{e['name']}`: " + "; ".join(f"{k} {v}" for k, v in e["also"].items())
            for e in results.get("entries", []) if e.get("also")]
    errors = [f"- `{e['name']}`: {e['error']}" for e in results.get("entries", []) if e.get("error")]
    out = lines
    if also:
        out += ["", "Beside them (medians, same run):"] + also
    if errors:
        out += ["", "Not measured:"] + errors
    m = results.get("machine", {})
    if m:
        out += ["", f"Measured {results.get('date', '?')} with `{results.get('command', 'bench/run.sh')}` "
                    f"({results.get('duration_s', 0):.0f} s) on {m.get('uname', '?')}, {m.get('nproc', '?')} CPUs "
                    f"({m.get('cpu', '?')}), load average {m.get('load_before', '?')} before and "
                    f"{m.get('load_after', '?')} after. Medians of interleaved runs (ours, floor, ours, floor...); "
                    "the ratio is the median of the runs' ratios."]
    return "\n".join(out)


def check(results, goals, quick):
    """(missing, missed): entries not measured, goals not held."""
    by_name = {e["name"]: e for e in results.get("entries", [])}
    missing = [n for n in NAMES if by_name.get(n, {}).get("ours_ms") is None]
    missed = [n for n in NAMES if n in by_name and evaluate(by_name[n], goals.get(n)) is False]
    return missing, missed


def verdict(results, goals, quick):
    """Prints what failed; returns the exit status."""
    missing, missed = check(results, goals, quick)
    if missing:
        print(f"FAIL: not measured: {', '.join(missing)}")
    if missed:
        print(("goals missed (not checked with --quick): " if quick else "FAIL: goals missed: ") + ", ".join(missed))
    if not missing and not missed:
        print("every entry measured, every goal held")
    elif not missing and quick:
        print("every entry measured and written (--quick checks no goal)")
    return 1 if missing or (missed and not quick) else 0


def write_json(path, obj):
    with open(path + ".tmp", "w") as out:
        json.dump(obj, out, indent=2, ensure_ascii=False)
        out.write("\n")
    os.replace(path + ".tmp", path)


def main(argv):
    if argv[:1] == ["--merge"] and len(argv) == 3:
        new, path = json.load(open(argv[1])), argv[2]
        results = json.load(open(path)) if os.path.exists(path) else {}
        new.pop("hosts", None)  # bench/hosts-figures.py's key: never from a run of this benchmark
        results = {**new, **{k: v for k, v in results.items() if k not in new}}
        write_json(path, results)
        return 0
    if argv[:1] == ["--readme"] and len(argv) in (2, 3, 4):
        readme, rest = argv[1], argv[2:]
        checking = "--check" in rest
        rest = [a for a in rest if a != "--check"]
        results = json.load(open(rest[0] if rest else RESULTS))
        text = open(readme).read()
        if BEGIN not in text or END not in text:
            sys.exit(f"{readme}: no markers {BEGIN} ... {END}")
        head, tail = text.split(BEGIN, 1)[0], text.split(END, 1)[1]
        updated = f"{head}{BEGIN}\n{table(results, load_goals())}\n{END}{tail}"
        if checking:
            if updated != text:
                print(f"{readme}: its table does not match {rest[0] if rest else RESULTS} "
                      f"(python3 bench/report.py --readme {readme})")
                return 1
            print(f"{readme}: the table matches")
            return 0
        if updated != text:
            open(readme, "w").write(updated)
        return 0
    quick = "--quick" in argv
    rest = [a for a in argv if a != "--quick"]
    if len(rest) > 1 or any(a.startswith("-") for a in rest):
        sys.exit(__doc__)
    results = json.load(open(rest[0] if rest else RESULTS))
    goals = load_goals()
    print(table(results, goals))
    print()
    return verdict(results, goals, quick)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
