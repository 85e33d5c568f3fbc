"""The meeting host's own fan-out cost, in process, without sockets: microseconds per
subscriber for one chat to all (outboxes that only count). Before/after figures for the
hot-path fixes the profile points at; the benchmark measures the whole path.

    .venv/bin/python -m loadtests.micro --n 5000 --events 200
"""

from __future__ import annotations

import argparse
import asyncio
import time

from floor.host import MeetingHost, Subscriber
from floor.protocol import codecs
from floor.state import Accepted, views
from floor.state import commands as cmd
from floor.state.model import ADMIN, Role
from floor.store.memory import MemoryLog


class CountingOutbox:
    def __init__(self) -> None:
        self.frames = 0

    def send(self, frame: bytes) -> None:
        self.frames += 1

    def close(self, code: int, reason: str = "") -> None:
        pass


async def measure(n: int, events: int) -> float:
    host = MeetingHost("m-1", MemoryLog())
    async with asyncio.TaskGroup() as group:
        task = group.create_task(host.run())
        await host.wait_loaded()
        await host.call(cmd.CreateMeeting("m-1", "Plenary"), ADMIN)
        added = await host.call(cmd.AddParticipant("Chair", "UN", Role.CHAIR), ADMIN)
        assert isinstance(added, Accepted)
        chair = next(iter(host.state.participants))
        for i in range(n):
            codec = codecs.MSGPACK if i % 10 == 9 else codecs.JSON
            viewer = views.Viewer(f"p-x{i}", Role.DELEGATE)
            host.attach(Subscriber(viewer, codec, CountingOutbox()))
        start = time.perf_counter()
        for i in range(events):
            await host.call(cmd.SendChat("all", f"Point of information {i}"), chair)
        elapsed = time.perf_counter() - start
        task.cancel()
    return 1e6 * elapsed / (events * n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    best = min(asyncio.run(measure(options.n, options.events)) for _ in range(options.repeat))
    print(f"N={options.n}: {best:.3f} µs per subscriber per event (best of {options.repeat})")


if __name__ == "__main__":
    main()
