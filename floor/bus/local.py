"""The local bus: one process, one host per meeting, so there is no other writer to hear.

Every append to the log is made by this process's own host, which applies it at once;
there is nothing to notify and nothing to repair.
"""

from __future__ import annotations

import asyncio

from floor.bus.port import Notice


class LocalBus:
    """A `Bus` for a single node: subscriptions are accepted and never called."""

    repair_every_s: float | None = None

    def __init__(self) -> None:
        self._closed = asyncio.Event()

    @property
    def connected(self) -> bool:
        return True

    def subscribe(self, meeting: str, notice: Notice) -> None:
        pass

    def unsubscribe(self, meeting: str) -> None:
        pass

    async def run(self) -> None:
        await self._closed.wait()

    async def close(self) -> None:
        self._closed.set()
