"""The Redis bus: change notices over sharded pub/sub (SSUBSCRIBE), server or Cluster.

Every append script SPUBLISHes the meeting's new head on the meeting's shard channel
(floor.store.redis). This bus holds ONE dedicated pub/sub connection per Redis server it
needs — on a single server, one; on a Cluster, one per primary that owns the slot of a
meeting this node serves — and subscribes each meeting once, whatever the number of its
clients on this node.

Each connection (`_Shard`) is driven by two coroutines: a writer that sends SSUBSCRIBE /
SUNSUBSCRIBE as meetings come and go and a PING every `ping_every_s`, and a reader that
turns `smessage` into `notice(seq)` and each subscription confirmation into
`notice(None)` (compare with the log: whatever was appended before the subscription took
effect was not notified). A read that waits longer than `3 * ping_every_s` means a dead
connection. On any failure the connection is dropped and made again after a backoff
with jitter; re-subscribing then repairs every meeting of that shard, as above.

Pub/sub drops messages (a slow or cut connection), so hosts also compare with the log
every `repair_every_s`: notices make a cluster fast, never correct.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from redis.asyncio.connection import AbstractConnection
from redis.exceptions import RedisError

from floor.bus.port import Notice
from floor.redis.client import Client, dedicated_connection, server_of
from floor.redis.connection import RedisConnection, text

logger = logging.getLogger("floor.bus")

REPAIR_EVERY_S = 3.0
"""How often each host compares its seq with the log's when nodes share Redis."""


def backoff(failures: int, *, base: float = 0.05, cap: float = 2.0) -> float:
    """Seconds to wait after `failures` failures in a row: exponential, full jitter."""
    return min(cap, base * 2.0 ** min(failures, 16)) * random.uniform(0.5, 1.0)


class _Shard:
    """One pub/sub connection to one Redis server, and the channels subscribed on it."""

    def __init__(self, name: str, client: Client, ping_every_s: float) -> None:
        self.name = name
        self.client = client
        self.ping_every_s = ping_every_s
        self.channels: dict[str, Notice] = {}
        self.connected = False
        self.task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    def changed(self) -> None:
        self._changed.set()

    async def run(self) -> None:
        """Connect, subscribe, deliver; after any failure, back off and do it again."""
        failures = 0
        try:
            while True:
                if not self.channels:
                    self._changed.clear()
                    await self._changed.wait()
                    continue
                try:
                    await self._session()
                except* (RedisError, OSError, TimeoutError) as group:
                    if failures == 0:
                        logger.warning(
                            "bus %s: pub/sub connection lost (%s)", self.name, group.exceptions[0]
                        )
                if self.connected:
                    failures = 0
                self.connected = False
                failures += 1
                await asyncio.sleep(backoff(failures))
        finally:
            self.connected = False  # cancelled (the bus closed) or crashed: hears nothing

    async def _session(self) -> None:
        """One connection's life: ends only by an exception (a failure or a cancel)."""
        key = next(iter(self.channels))
        connection = dedicated_connection(self.client, key, timeout=3 * self.ping_every_s)
        try:
            await connection.connect()  # type: ignore[no-untyped-call]
            self.connected = True
            logger.info("bus %s: pub/sub connected", self.name)
            async with asyncio.TaskGroup() as group:
                group.create_task(self._write(connection))
                group.create_task(self._read(connection))
        finally:
            await connection.disconnect()

    async def _write(self, connection: AbstractConnection) -> None:
        sent: set[str] = set()
        while True:
            self._changed.clear()
            wanted = set(self.channels)
            for channel in sorted(wanted - sent):
                await connection.send_command("SSUBSCRIBE", channel)
            for channel in sorted(sent - wanted):
                await connection.send_command("SUNSUBSCRIBE", channel)
            sent = wanted
            try:
                async with asyncio.timeout(self.ping_every_s):
                    await self._changed.wait()
            except TimeoutError:
                await connection.send_command("PING")

    async def _read(self, connection: AbstractConnection) -> None:
        while True:
            reply: Any = await connection.read_response()
            if not isinstance(reply, list) or not reply:
                continue
            kind = reply[0]
            if kind == b"smessage":
                self._deliver(text(reply[1]), _seq(reply[2]))
            elif kind == b"ssubscribe":
                self._deliver(text(reply[1]), None)

    def _deliver(self, channel: str, seq: int | None) -> None:
        """Call the channel's notice; a callback that fails is a bug logged here, and
        never stops this connection (every other meeting on it would go deaf)."""
        notice = self.channels.get(channel)
        if notice is None:
            return
        try:
            notice(seq)
        except Exception:
            logger.exception("bus %s: the notice callback of %s failed", self.name, channel)


def _seq(payload: object) -> int | None:
    """A notice's new head; None (compare with the log) for a payload that is not one —
    only Floor's append script publishes here, but anyone with access to Redis could."""
    try:
        return int(text(payload))  # type: ignore[arg-type]
    except (TypeError, ValueError, UnicodeDecodeError):
        logger.warning("bus: a notice that is not a seq: %r", payload)
        return None


class RedisBus:
    """A `Bus` on Redis sharded pub/sub, on the node's shared connection: a meeting's
    channel is the key scheme's (the one the log's append script publishes on)."""

    def __init__(
        self,
        connection: RedisConnection,
        *,
        ping_every_s: float = 5.0,
        repair_every_s: float | None = REPAIR_EVERY_S,
    ) -> None:
        self.client = connection.client
        self.channel_of = connection.keys.notices
        self.ping_every_s = ping_every_s
        self.repair_every_s = repair_every_s
        self._shards: dict[str, _Shard] = {}
        self._where: dict[str, _Shard] = {}
        self._group: asyncio.TaskGroup | None = None
        self._closed = asyncio.Event()

    @property
    def connected(self) -> bool:
        return all(shard.connected for shard in self._shards.values() if shard.channels)

    def subscribe(self, meeting: str, notice: Notice) -> None:
        channel = self.channel_of(meeting)
        try:
            name = server_of(self.client, channel)
        except OSError:
            logger.warning("bus: no Redis node for %s yet; the host relies on repairs", meeting)
            return
        shard = self._shards.get(name)
        if shard is None:
            shard = self._shards[name] = _Shard(name or "redis", self.client, self.ping_every_s)
            self._start(shard)
        shard.channels[channel] = notice
        self._where[meeting] = shard
        shard.changed()

    def unsubscribe(self, meeting: str) -> None:
        shard = self._where.pop(meeting, None)
        if shard is not None:
            shard.channels.pop(self.channel_of(meeting), None)
            shard.changed()

    def _start(self, shard: _Shard) -> None:
        if self._group is not None and shard.task is None:
            shard.task = self._group.create_task(shard.run(), name=f"bus {shard.name}")

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            self._group = group
            for shard in self._shards.values():
                self._start(shard)
            await self._closed.wait()
            self._group = None
            for shard in self._shards.values():
                if shard.task is not None:
                    shard.task.cancel()

    async def close(self) -> None:
        self._closed.set()
