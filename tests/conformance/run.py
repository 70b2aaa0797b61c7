#!/usr/bin/env python3
"""The conformance scenario through the Python binding (examples/python's pglift package).

    run.py [--aio] SCENARIO VARIABLES OUTPUT

VARIABLES is a JSON object of the placeholders' values; OUTPUT gets one line per step (see README.md).
--aio runs the steps through pglift.aio (asyncio) instead of the blocking API.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pglift  # noqa: E402
import pglift.aio  # noqa: E402
from compare import normalise, substitute  # noqa: E402


def as_json(value: Any) -> Any:
    """A binding's typed result as the library's JSON (unknown keys were kept in ``extra``)."""
    if dataclasses.is_dataclass(value):
        doc = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.name != "extra"}
        doc.update(value.extra)
        return doc
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def call(ctx: pglift.Context, step: dict[str, Any]) -> Any:
    op, instance = step["op"], step.get("instance")
    if op == "create":
        return ctx.create(step["spec"])
    if op == "get":
        return ctx.get(instance)
    if op == "status":
        return ctx.status(instance)
    if op == "list":
        return ctx.list()
    if op == "configure":
        return ctx.configure(instance, step["changes"])
    if op == "start":
        return ctx.start(instance)
    if op == "stop":
        return ctx.stop(instance)
    if op == "drop":
        return ctx.drop(instance, remove_cluster=step.get("remove_cluster", False))
    if op == "switchover":
        return ctx.switchover(instance, candidate=step.get("candidate"))
    if op == "pause":
        return ctx.pause(instance)
    if op == "resume":
        return ctx.pause(instance, False)
    if op == "patroni_log_file":
        return ctx.patroni_log_file(instance)
    raise ValueError(f"unknown op {op!r}")


async def call_aio(ctx: pglift.aio.Context, step: dict[str, Any]) -> Any:
    op, instance = step["op"], step.get("instance")
    if op == "create":
        return await ctx.create(step["spec"])
    if op == "get":
        return await ctx.get(instance)
    if op == "status":
        return await ctx.status(instance)
    if op == "list":
        return await ctx.list()
    if op == "configure":
        return await ctx.configure(instance, step["changes"])
    if op == "start":
        return await ctx.start(instance)
    if op == "stop":
        return await ctx.stop(instance)
    if op == "drop":
        return await ctx.drop(instance, remove_cluster=step.get("remove_cluster", False))
    if op == "switchover":
        return await ctx.switchover(instance, candidate=step.get("candidate"))
    if op == "pause":
        return await ctx.pause(instance)
    if op == "resume":
        return await ctx.resume(instance)
    if op == "patroni_log_file":
        return await ctx.patroni_log_file(instance)
    raise ValueError(f"unknown op {op!r}")


def record(out, step: dict[str, Any], variables: dict[str, Any], result: Any) -> None:
    line = {"step": step["id"], "result": normalise(result, step["expect"], variables)}
    out.write(json.dumps(line) + "\n")
    out.flush()


def error_result(e: pglift.Error, step: dict[str, Any]) -> dict[str, str]:
    print(f"step {step['id']}: {e.status_name}: {e}", file=sys.stderr)
    return {"error": e.status_name, **({"field": e.field} if e.field else {})}


def main(argv: list[str]) -> int:
    aio = argv[:1] == ["--aio"]
    if aio:
        argv = argv[1:]
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        scenario = json.load(f)
    with open(argv[1], encoding="utf-8") as f:
        variables = json.load(f)
    settings = substitute(scenario["settings"], variables)
    steps = [substitute({k: v for k, v in s.items() if k != "expect"}, variables) | {"expect": s["expect"]}
             for s in scenario["steps"]]
    with open(argv[2], "w", encoding="utf-8") as out:
        cases = [normalise(c["actual"], c["pattern"], scenario["matcher_variables"]) for c in scenario["matcher_cases"]]
        out.write(json.dumps({"step": "matchers", "result": cases}) + "\n")
        if aio:
            asyncio.run(run_aio(settings, steps, variables, out))
        else:
            with pglift.Context(settings) as ctx:
                for step in steps:
                    try:
                        result = as_json(call(ctx, step))
                    except pglift.Error as e:
                        result = error_result(e, step)
                    record(out, step, variables, result)
    return 0


async def run_aio(settings: dict[str, Any], steps: list[dict[str, Any]], variables: dict[str, Any], out) -> None:
    async with pglift.aio.Context(settings) as ctx:
        for step in steps:
            try:
                result = as_json(await call_aio(ctx, step))
            except pglift.Error as e:
                result = error_result(e, step)
            record(out, step, variables, result)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
