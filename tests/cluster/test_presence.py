"""Presence across nodes: the pure merge, the host's merged view, and the shared sets in
Redis expiring with the node that stops refreshing them."""

from __future__ import annotations

import asyncio

import pytest

from floor.bus.presence import RedisPresence
from floor.host import MeetingHost, presence
from floor.store.memory import MemoryLog
from floor.store.redis import RedisLog
from tests.redis_fixtures import RedisServer


def test_the_other_nodes_sets_are_merged_and_bad_entries_skipped() -> None:
    shared = ['["p-1","p-2"]', b'["p-2","p-3"]', "not json", '{"p-9":1}', '[4, "p-4"]']
    assert presence.union_of(shared) == {"p-1", "p-2", "p-3", "p-4"}
    assert presence.union_of([]) == frozenset()


def test_a_shared_set_is_sorted_json() -> None:
    assert presence.encode({"p-2", "p-1"}) == '["p-1","p-2"]'
    assert presence.union_of([presence.encode({"p-2", "p-1"})]) == {"p-1", "p-2"}


def test_only_changes_of_the_merged_state_are_reported() -> None:
    before = frozenset({"p-1", "p-2"})
    after = frozenset({"p-2", "p-3", "p-4"})
    assert presence.remote_changes({"p-4"}, before, after) == {"p-1": False, "p-3": True}


def test_someone_online_here_never_goes_offline_because_another_node_lost_them() -> None:
    assert presence.remote_changes({"p-1"}, frozenset({"p-1"}), frozenset()) == {}


@pytest.mark.asyncio
async def test_a_host_merges_the_remote_set_into_who_is_online() -> None:
    host = MeetingHost("m-1", MemoryLog())
    host.set_remote_online(frozenset({"p-7"}))
    assert host.online() == {"p-7"}
    assert host.local_online() == set()
    host.set_remote_online(frozenset())
    assert host.online() == set()


@pytest.mark.redis
@pytest.mark.asyncio
async def test_nodes_see_each_others_sets_until_one_expires_or_leaves(
    redis_server: RedisServer, redis_prefix: str
) -> None:
    log = await RedisLog.open(redis_server.url, prefix=redis_prefix)
    try:
        a = RedisPresence(log.connection, node="a", ttl_s=0.3)
        b = RedisPresence(log.connection, node="b", ttl_s=5.0)
        c = RedisPresence(log.connection, node="c", ttl_s=5.0)
        assert await a.exchange("m-1", {"p-1"}) == set()
        assert await b.exchange("m-1", {"p-2"}) == {"p-1"}
        assert await c.exchange("m-1", set()) == {"p-1", "p-2"}
        assert await b.exchange("m-2", {"p-9"}) == set()  # meetings are apart

        for _ in range(60):  # `a` stopped refreshing: its entry expires (ttl 0.3 s)
            if "p-1" not in await c.exchange("m-1", set()):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the entry of node `a` did not expire")
        assert await c.exchange("m-1", set()) == {"p-2"}
        await b.exchange("m-1", None)  # `b` leaves cleanly
        assert await c.exchange("m-1", set()) == set()
    finally:
        await log.close()
