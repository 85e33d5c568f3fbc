"""This node's place among others: its bus and its shared presence, around the hosts.

app.py picks the adapters: alone (the SQLite or memory log) a node has a `LocalBus` and
no presence board, and never repairs; on Redis (`--redis URL`) several nodes may serve
the same meetings, and the node gets a `RedisBus` and a `RedisPresence` board on its one
Redis connection. Then each host subscribes to its meeting's notices once
(`configure`), unsubscribes when it stops (`forget`), compares with the log every
`bus.repair_every_s`, and the node shares its presence. `start` puts the long-lived
tasks (the bus's reader, the presence loop) in the app's task group; `stop` ends them
(presence entries are removed, the bus closes).
"""

from __future__ import annotations

import asyncio

from floor.bus.port import Bus
from floor.bus.presence import PresenceSharing, RedisPresence
from floor.host.hosts import Hosts
from floor.host.meeting import MeetingHost


class Node:
    """The bus and presence sharing of this node."""

    def __init__(self, bus: Bus, board: RedisPresence | None = None) -> None:
        self.bus = bus
        self.presence: PresenceSharing | None = None
        self._board = board
        self._tasks: list[asyncio.Task[None]] = []

    def configure(self, host: MeetingHost) -> None:
        """Before a host starts: hear its meeting's notices, repair periodically."""
        host.repair_every_s = self.bus.repair_every_s

        def notice(seq: int | None) -> None:
            if seq is None:
                host.repair_soon()
            else:
                host.notify(seq)

        self.bus.subscribe(host.meeting, notice)

    def forget(self, host: MeetingHost) -> None:
        self.bus.unsubscribe(host.meeting)

    def start(self, group: asyncio.TaskGroup, hosts: Hosts) -> None:
        self._tasks.append(group.create_task(self.bus.run(), name="bus"))
        if self._board is not None:
            self.presence = PresenceSharing(self._board, hosts)
            self._tasks.append(group.create_task(self.presence.run(), name="presence"))

    async def stop(self) -> None:
        """Leave the shared presence and close the bus; wait for both tasks."""
        if self.presence is not None:
            await self.presence.close()
        await self.bus.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
