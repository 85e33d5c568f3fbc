"""A child process for the SIGKILL test: append to a SqliteLog until killed.

Usage: python crash_writer.py PATH WRITERS. It opens the log, prints `ready`, then runs
WRITERS concurrent tasks, one per meeting `m-<i>`, each appending two records at a time
after the meeting's current head and printing `<meeting> <new head>` once the append has
returned (is acknowledged). Runs until killed.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from floor.store.sqlite import SqliteLog


def payload(meeting: str, seq: int) -> dict[str, Any]:
    """The record `seq` of `meeting`, the same every time (the test checks it)."""
    return {"seq": seq, "type": "test.tick", "data": {"meeting": meeting, "pad": "é" * 64}}


async def write(log: SqliteLog, meeting: str) -> None:
    head = await log.head(meeting)
    while True:
        head = await log.append(
            meeting, head, [payload(meeting, head + 1), payload(meeting, head + 2)]
        )
        print(meeting, head, flush=True)


async def main(path: str, writers: int) -> None:
    log = await SqliteLog.open(path)
    print("ready", flush=True)
    async with asyncio.TaskGroup() as group:
        for i in range(writers):
            group.create_task(write(log, f"m-{i}"))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
