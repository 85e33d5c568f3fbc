"""A meeting with two rooms of consoles for the device tests, and their helpers.

hall = make_hall(server)          # chair, remote delegate, Ana A01, Bo A02, Cy B01; rooms A, B
bridge, consoles = bridge_for(server.ws_url, hall.token("A"))
async with running(bridge): …     # run() as a task, online with its first `seats`
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from floor.devices import Backoff, Bridge
from floor.devices.consoles import SimConsoles
from tests.e2e.peers import all_events
from tests.e2e.server import Client, Meeting, Server

FAST = Backoff(base_s=0.05, cap_s=0.3)


@dataclass
class Hall:
    """One meeting, two rooms: Room A (A01 Ana, A02 Bo, A03 empty) and Room B (B01 Cy, B02
    empty); a chair and a remote delegate on browsers."""

    meeting: Meeting
    people: dict[str, dict[str, Any]]
    rooms: dict[str, dict[str, Any]]

    def id(self, name: str) -> str:
        found: str = {**self.people, **self.rooms}[name]["id"]
        return found

    def token(self, name: str) -> str:
        found: str = {**self.people, **self.rooms}[name]["token"]
        return found


def make_hall(server: Server) -> Hall:
    meeting = server.api.create_meeting("Plenary")
    people = {
        "chair": meeting.add("Chair", "UN", role="chair"),
        "remote": meeting.add("Rosa", "Peru"),
        "ana": meeting.add("Ana", "Chile", seat="A01"),
        "bo": meeting.add("Bo", "Fiji", seat="A02"),
        "cy": meeting.add("Cy", "Oman", seat="B01"),
    }
    rooms = {
        "A": meeting.device("Room A", ["A01", "A02", "A03"]),
        "B": meeting.device("Room B", ["B01", "B02"]),
    }
    return Hall(meeting, people, rooms)


@contextlib.asynccontextmanager
async def running(bridge: Bridge) -> AsyncIterator[Bridge]:
    """The bridge's `run()` as a task for the block, online and with its first `seats`."""
    task = asyncio.create_task(bridge.run())
    try:
        await bridge.wait_for(lambda: bridge.seats is not None or task.done())
        assert not task.done(), task.result()
        yield bridge
    finally:
        bridge.stop()
        await asyncio.wait_for(task, 10)


def bridge_for(url: str, token: str) -> tuple[Bridge, SimConsoles]:
    consoles = SimConsoles()
    return Bridge(url, token, consoles, backoff=FAST, client="test-bridge/1"), consoles


async def until_events(
    meeting: Meeting, found: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Poll the events API until `found(events)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        events = all_events(meeting)
        if found(events):
            return events
        if time.monotonic() > deadline:
            raise TimeoutError(f"events never matched: {[e['name'] for e in events]}")
        await asyncio.sleep(0.05)


def named(events: list[dict[str, Any]], name: str, **data: Any) -> list[dict[str, Any]]:
    return [
        e
        for e in events
        if e["name"] == name and all(e["data"].get(k) == v for k, v in data.items())
    ]


def last_seats(client: Client) -> dict[str, Any]:
    return [m for m in client.seen if m["t"] == "seats"][-1]
