"""Speaking-time expiry fires once across nodes: two hosts of one meeting both wake at
the deadline; the seq check lets one write `floor.time_expired`, the other conflicts,
catches up, decides again and finds nothing left to do."""

from __future__ import annotations

import pytest

from floor.host import MeetingHost
from floor.store.memory import MemoryLog, MemoryStorage
from floor.store.port import EventLog
from floor.store.redis import RedisLog
from tests.cluster.hosts import command, names, new_meeting, running, wait_until
from tests.redis_fixtures import RedisServer

pytestmark = pytest.mark.asyncio


async def expire_on_two_hosts(first_log: EventLog, second_log: EventLog) -> None:
    first = MeetingHost("m-timer", first_log)
    second = MeetingHost("m-timer", second_log)
    async with running(first, second):
        ids = await new_meeting(first)
        await command(first, ids["chair"], "floor.grant", participant=ids["ana"], limit_s=1)
        second.notify(first.state.seq)  # the one notice the second host gets
        await wait_until(lambda: second.state.seq == first.state.seq)
        assert second.state.floor is not None  # both hosts now keep the speaker's time

        await wait_until(lambda: first.state.floor is not None and first.state.floor.expired, 5)
        await wait_until(lambda: first.stats["conflicts"] + second.stats["conflicts"] >= 1)
        await wait_until(lambda: second.state.seq == first.state.seq)

    logged = await names(first_log, "m-timer")
    assert logged.count("floor.time_expired") == 1
    assert first.state == second.state


async def test_the_expiry_timer_fires_once_across_two_hosts_of_a_meeting() -> None:
    storage = MemoryStorage()
    await expire_on_two_hosts(MemoryLog(storage), MemoryLog(storage))


@pytest.mark.redis
async def test_the_expiry_timer_fires_once_across_two_nodes_on_redis(
    redis_server: RedisServer, redis_prefix: str
) -> None:
    first = await RedisLog.open(redis_server.url, prefix=redis_prefix)
    second = await RedisLog.open(redis_server.url, prefix=redis_prefix)
    try:
        await expire_on_two_hosts(first, second)
    finally:
        await first.close()
        await second.close()
