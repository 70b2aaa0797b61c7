#!/usr/bin/env python3
"""Compares the outputs of the conformance runners (see README.md).

    compare.py SCENARIO OUTPUT...

Each OUTPUT is a runner's file: one JSON document per line, {"step": ID, "result": NORMALISED}: first
{"step": "matchers", "result": [the scenario's matcher_cases, each actual value normalised through its
pattern]}, then the scenario's steps in order. Every file must hold every step, each result equal to the step's "expect"
(a runner's normalisation gives back the pattern wherever the actual value matched it), and the files
must all be the same (as JSON values). Exit status 0 when they are, 1 otherwise (with every difference).

This module is also the reference implementation of the matchers, which run.py uses; run.c, the Go and
the Rust runners implement the same few rules.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

_PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}")
_WHOLE = re.compile(r"^\$\{([A-Z0-9_]+)\}$")


def substitute(value: Any, variables: dict[str, Any]) -> Any:
    """``value`` with its placeholders replaced: a string that is one whole "${NAME}" becomes the
    variable's value (typed: ports are numbers); "${NAME}" inside a longer string becomes its text."""
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole:
            return variables[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: _text(variables[m.group(1)]), value)
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value, objects without order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def normalise(actual: Any, pattern: Any, variables: dict[str, Any]) -> Any:
    """``actual`` seen through ``pattern``: where it matches, the pattern itself; elsewhere the actual value
    (so that a mismatch shows). Object members the pattern does not name are left out."""
    if isinstance(pattern, str):
        if pattern == "<any>":
            return pattern
        if pattern == "<int>":
            return pattern if _is_int(actual) else actual
        if pattern == "<string>":
            return pattern if isinstance(actual, str) else actual
        if pattern == "<bool>":
            return pattern if isinstance(actual, bool) else actual
        if "${" in pattern:
            return pattern if _equal(actual, substitute(pattern, variables)) else actual
        return actual
    if isinstance(pattern, dict):
        if list(pattern) == ["<one_of>"]:
            return pattern if any(_equal(actual, v) for v in pattern["<one_of>"]) else actual
        if list(pattern) == ["<unordered>"]:
            return _unordered(actual, pattern, variables)
        if not isinstance(actual, dict):
            return actual
        out: dict[str, Any] = {}
        for key, sub in pattern.items():
            if sub == "<absent>":
                out[key] = actual[key] if key in actual else sub
            elif key in actual:
                out[key] = normalise(actual[key], sub, variables)
            else:
                out[key] = "<missing>"
        return out
    if isinstance(pattern, list):
        if not isinstance(actual, list) or len(actual) != len(pattern):
            return actual
        return [normalise(a, p, variables) for a, p in zip(actual, pattern)]
    return actual


def _unordered(actual: Any, pattern: dict[str, Any], variables: dict[str, Any]) -> Any:
    items = pattern["<unordered>"]
    if not isinstance(actual, list) or len(actual) != len(items):
        return actual
    used = [False] * len(actual)
    for p in items:
        for i, a in enumerate(actual):
            if not used[i] and _equal(normalise(a, p, variables), p):
                used[i] = True
                break
        else:
            return actual
    return pattern


def _read_output(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def compare(scenario: dict[str, Any], outputs: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Every difference, as lines; none when all outputs match the scenario and each other."""
    problems: list[str] = []
    steps = list(scenario["steps"])
    if "matcher_cases" in scenario:  # the first line: the matchers applied to the cases
        steps.insert(0, {"id": "matchers", "op": "matchers",
                         "expect": [case["normalised"] for case in scenario["matcher_cases"]]})
    ids = [s["id"] for s in steps]
    for name, lines in outputs.items():
        got = [line.get("step") for line in lines]
        if got != ids:
            missing = [i for i in ids if i not in got]
            problems.append(f"{name}: steps {got} instead of the scenario's (missing: {missing})")
        by_id = {line.get("step"): line.get("result") for line in lines}
        for step in steps:
            if step["id"] in by_id and not _equal(by_id[step["id"]], step["expect"]):
                problems.append(f"{name}: step {step['id']} ({step['op']}): got {json.dumps(by_id[step['id']])}, "
                                f"expected {json.dumps(step['expect'])}")
    names = list(outputs)
    for other in names[1:]:
        first = names[0]
        a, b = outputs[first], outputs[other]
        if len(a) != len(b) or not all(_equal(x, y) for x, y in zip(a, b)):
            for i in range(max(len(a), len(b))):
                x = a[i] if i < len(a) else None
                y = b[i] if i < len(b) else None
                if x is None or y is None or not _equal(x, y):
                    problems.append(f"{first} and {other} differ at line {i + 1}: {json.dumps(x)} / {json.dumps(y)}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: compare.py SCENARIO OUTPUT...", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        scenario = json.load(f)
    outputs = {}
    for path in argv[1:]:
        try:
            outputs[path] = _read_output(path)
        except (OSError, ValueError) as e:
            print(f"FAIL: {path}: {e}")
            return 1
    problems = compare(scenario, outputs)
    for p in problems:
        print(f"FAIL: {p}")
    if problems:
        return 1
    print(f"{len(outputs)} outputs ({', '.join(outputs)}), {len(scenario['steps'])} steps and "
          f"{len(scenario.get('matcher_cases', []))} matcher cases each: all match the scenario and each other")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
