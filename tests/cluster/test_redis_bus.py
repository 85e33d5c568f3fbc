"""The Redis bus on real servers, beyond the bus contract (tests/contracts/test_bus.py,
which runs on a server and a Cluster: notice(None) once subscribed, a notice per append,
unsubscribe, replacing a callback, reconnecting after a cut connection, close): the bus is
not connected while Redis is down and repairs once Redis restarts; on a Cluster it holds
one connection per primary."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from floor.bus.redis import RedisBus
from floor.store.redis import RedisLog
from tests.cluster.hosts import wait_until
from tests.redis_fixtures import RedisCluster3, RedisServer

pytestmark = [pytest.mark.asyncio, pytest.mark.redis]


class Heard:
    """The notices of each meeting, in order."""

    def __init__(self) -> None:
        self.notices: dict[str, list[int | None]] = {}

    def of(self, meeting: str) -> list[int | None]:
        return self.notices.setdefault(meeting, [])

    def callback(self, meeting: str):  # type: ignore[no-untyped-def]
        return self.of(meeting).append


@asynccontextmanager
async def bus_on(log: RedisLog, *meetings: str) -> AsyncIterator[tuple[RedisBus, Heard]]:
    bus = RedisBus(log.connection, ping_every_s=0.5)
    heard = Heard()
    for meeting in meetings:
        bus.subscribe(meeting, heard.callback(meeting))
    async with asyncio.TaskGroup() as group:
        group.create_task(bus.run())
        try:
            yield bus, heard
        finally:
            await bus.close()


async def append(log: RedisLog, meeting: str) -> int:
    head = await log.head(meeting)
    return await log.append(meeting, head, [{"seq": head + 1}])


async def test_the_bus_reconnects_after_redis_restarts_and_asks_for_a_repair(
    fresh_redis: RedisServer,
) -> None:
    log = await RedisLog.open(fresh_redis.url)
    try:
        async with bus_on(log, "m-1") as (bus, heard):
            await wait_until(lambda: heard.of("m-1") == [None])
            fresh_redis.kill()
            await wait_until(lambda: not bus.connected, 10)
            fresh_redis.start()
            await wait_until(lambda: bus.connected and heard.of("m-1") == [None, None], 10)
            await append(log, "m-1")
            await wait_until(lambda: heard.of("m-1") == [None, None, 1])
    finally:
        await log.close()


async def test_on_a_cluster_the_bus_holds_one_connection_per_primary(
    redis_cluster: RedisCluster3, redis_prefix: str
) -> None:
    """Meetings whose slots are on all three primaries take one pub/sub connection each."""
    log = await RedisLog.open(redis_cluster.url, prefix=redis_prefix)
    meetings = [f"m-{i}" for i in range(12)]
    try:
        async with bus_on(log, *meetings) as (bus, heard):
            await wait_until(lambda: all(heard.of(m) == [None] for m in meetings))
            assert len(bus._shards) == 3
    finally:
        await log.close()
