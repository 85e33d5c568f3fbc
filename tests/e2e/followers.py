"""Clients that follow a meeting through faults: they record every event, check the one
order as they go, and reconnect with `resume` (to whichever node they are told) whenever
their connection ends.

    async with following(token, server) as ana: …
    await ana.command("chat.send", {"to": "all", "text": "hi"})   # its ack or error
    ana.server = other                                            # reconnect there next
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.e2e.server import Client, Server


class Follower:
    def __init__(self, token: str, server: Server) -> None:
        self.token = token
        self.server = server
        self.events: list[dict[str, Any]] = []
        self.presence: list[dict[str, Any]] = []
        self.welcomes: list[dict[str, Any]] = []
        self.epoch: str | None = None
        self.seq = 0
        self.disorder: list[str] = []
        """What broke the one order (a gap, a duplicate, a failed resume): must stay []."""
        self.client: Client | None = None
        self._answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = 0
        self._connected = asyncio.Event()

    @property
    def sessions(self) -> int:
        return len(self.welcomes)

    async def run(self) -> None:
        while True:
            with contextlib.suppress(ConnectionClosed, OSError, InvalidHandshake, TimeoutError):
                await self._session()
            self.client = None
            self._connected.clear()
            await asyncio.sleep(0.1)

    async def _session(self) -> None:
        async with Client.connect(self.server) as client:
            hello: dict[str, Any] = {"t": "hello", "v": 1, "token": self.token}
            if self.epoch is not None:
                hello["resume"] = {"epoch": self.epoch, "seq": self.seq}
            await client.send(hello)
            while True:
                self._take(await client.recv(timeout=3600), client)

    def _take(self, message: dict[str, Any], client: Client) -> None:
        kind = message["t"]
        if kind == "welcome":
            if self.epoch is not None and not message.get("resumed"):
                self.disorder.append(f"not resumed at {self.seq}: welcome at {message['seq']}")
            self.welcomes.append(message)
            self.epoch, self.seq = message["epoch"], message["seq"]
            self.client = client
            self._connected.set()
        elif kind == "event":
            if message["seq"] != self.seq + 1:
                self.disorder.append(f"event {message['seq']} after {self.seq}")
            self.seq = message["seq"]
            self.events.append(message)
        elif kind == "presence":
            self.presence.append(message)
        elif kind in ("ack", "error"):
            answer = self._answers.pop(message.get("id", ""), None)
            if answer is not None and not answer.done():
                answer.set_result(message)

    async def wait_connected(self, timeout: float = 15.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def command(self, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a command on the current connection; its ack or error."""
        await self.wait_connected()
        assert self.client is not None
        self._ids += 1
        command_id = f"c-{self._ids}"
        answer = self._answers[command_id] = asyncio.get_running_loop().create_future()
        await self.client.send({"t": "cmd", "id": command_id, "name": name, "args": args or {}})
        return await asyncio.wait_for(answer, 15)

    def summary(self) -> list[tuple[int, str, Any]]:
        return [(e["seq"], e["name"], e["data"]) for e in self.events]


@contextlib.asynccontextmanager
async def following(*members: tuple[str, Server]) -> AsyncIterator[list[Follower]]:
    """Followers for (token, server) pairs, running for the block, connected at its start."""
    followers = [Follower(token, server) for token, server in members]
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(f.run()) for f in followers]
        try:
            for follower in followers:
                await follower.wait_connected()
            yield followers
        finally:
            for task in tasks:
                task.cancel()


async def eventually(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll `condition()` until true, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)


async def eventually_async(condition: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """`eventually`, for a condition that must await (an HTTP probe)."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)
