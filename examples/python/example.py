#!/usr/bin/env python3
"""libpglift from Python: create an instance, read it back, restart it asynchronously while its log
records stream in, then drop it.

    python3 example.py [--name NAME] [--port PORT]

Settings come from the environment as for the pglift CLI (SETTINGS, PGLIFT_CONFIG_DIR, ...).
Set LIBPGLIFT_PATH to use a library that is not installed (e.g. build/capi/libpglift.so.0).
"""

from __future__ import annotations

import argparse
import asyncio
import socket

import pglift


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def show(event: pglift.Event) -> None:
    if event.kind == pglift.EVENT_LOG:
        print(f"  [op {event.tag}] {event.level_name:<8} {event.message}")


async def restart_while_logging(name: str) -> None:
    async with pglift.aio.Context(on_event=show) as ctx:
        await ctx.restart(name)
        print(f"{name} restarted, status: {(await ctx.status(name)).postgresql}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="example")
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    args = parser.parse_args()

    print(f"libpglift {pglift.version()}")
    with pglift.Context() as ctx:
        instance = ctx.create({"name": args.name, "port": args.port or free_port()})
        qualified = f"{instance.version}/{instance.name}"
        try:
            print(f"created {qualified}: port {instance.port}, state {instance.state}")
            print(f"  data directory: {instance.data_directory}")
            print(f"  shared_buffers: {ctx.get(qualified).settings.get('shared_buffers')}")
            for item in ctx.list():
                print(f"  listed: {item.version}/{item.name} {item.status}")
            asyncio.run(restart_while_logging(qualified))
        finally:
            ctx.drop(qualified)
            print(f"dropped {qualified}")


if __name__ == "__main__":
    try:
        main()
    except pglift.Error as e:
        raise SystemExit(f"error: {e} ({e.status_name})")
