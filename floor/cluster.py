"""This node's place among others: the bus and shared presence, wired by app.py.

With the SQLite (or memory) log a node is alone: a `LocalBus`, no shared presence, no
repairs. With the Redis log (`--redis URL`) several nodes may serve the same meetings:
each host subscribes to its meeting's notices once (`configure`), unsubscribes when it
stops (`forget`), compares with the log every `REPAIR_EVERY_S`, and the node shares its
presence. `start` puts the long-lived tasks (the bus's reader, the presence loop) in the
app's task group; `stop` ends them (presence entries are removed, the bus closes).
"""

from __future__ import annotations

import asyncio
import logging

from floor.bus.local import LocalBus
from floor.bus.port import Bus
from floor.bus.presence import PresenceSharing, RedisPresence
from floor.bus.redis import RedisBus
from floor.hosts import Hosts
from floor.meeting import MeetingHost
from floor.settings import Settings
from floor.store.port import EventLog
from floor.store.redis import RedisLog

log = logging.getLogger("floor.cluster")


async def open_redis(settings: Settings) -> EventLog:
    """The Redis log of `settings.redis`; its durability warnings are logged."""
    assert settings.redis is not None
    event_log = await RedisLog.open(settings.redis)
    for warning in event_log.warnings:
        log.warning("%s", warning)
    return event_log


class Node:
    """The bus and presence sharing of this node, for the log it runs on."""

    def __init__(self, event_log: EventLog) -> None:
        self.bus: Bus = LocalBus()
        self.presence: PresenceSharing | None = None
        self._board: RedisPresence | None = None
        if isinstance(event_log, RedisLog):
            self.bus = RedisBus(event_log.client, event_log.notices)
            self._board = RedisPresence(event_log)
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
