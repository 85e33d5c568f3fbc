"""Meeting hosts driven directly (no server): several hosts of one meeting, as on nodes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from floor.host import MeetingHost
from floor.state import Accepted, parse_admin, parse_command
from floor.state.model import ADMIN
from floor.store.port import EventLog


@asynccontextmanager
async def running(*hosts: MeetingHost) -> AsyncIterator[None]:
    """Run the hosts' tasks for the block; cancel and await them after."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(host.run()) for host in hosts]
        for host in hosts:
            await host.wait_loaded()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()


async def admin(host: MeetingHost, name: str, /, **body: Any) -> Accepted:
    command = parse_admin(name, body)
    assert not hasattr(command, "code"), command
    outcome = await host.call(command, ADMIN)  # type: ignore[arg-type]
    assert isinstance(outcome, Accepted), outcome
    return outcome


async def command(host: MeetingHost, actor: str, name: str, /, **args: Any) -> Accepted:
    parsed = parse_command(name, args)
    assert not hasattr(parsed, "code"), parsed
    outcome = await host.call(parsed, actor)  # type: ignore[arg-type]
    assert isinstance(outcome, Accepted), outcome
    return outcome


async def new_meeting(host: MeetingHost) -> dict[str, str]:
    """Create the host's meeting with a chair and two delegates; their ids by name."""
    await admin(host, "meeting.create", meeting=host.meeting, title="Test", settings=None)
    ids = {}
    for name, role in [("chair", "chair"), ("ana", "delegate"), ("bo", "delegate")]:
        outcome = await admin(
            host,
            "participant.add",
            name=name,
            delegation=name.upper(),
            role=role,
            attendance="remote",
        )
        ids[name] = outcome.events[0].data.participant.id  # type: ignore[attr-defined]
    return ids


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll `condition()` on the loop until true, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.01)


async def names(log: EventLog, meeting: str) -> list[str]:
    return [record["name"] for record in await log.read(meeting)]
