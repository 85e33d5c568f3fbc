"""Several `floor serve --redis` nodes on one real Redis (and on a Redis Cluster): one order
for every client, through a node's death, a Redis restart and a cut pub/sub connection;
presence across nodes; the expiry timer firing once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.followers import Follower, eventually, eventually_async, following
from tests.e2e.server import Meeting, Server
from tests.redis_fixtures import RedisCluster3, RedisServer

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.asyncio]


def start_nodes(tmp_path: Path, url: str, count: int = 3) -> list[Server]:
    nodes = [Server(tmp_path / f"node{i}", "--redis", url) for i in range(count)]
    try:
        for node in nodes:
            node.start()
    except BaseException:
        for node in nodes:
            node.close()
        raise
    return nodes


@pytest.fixture
def nodes(tmp_path: Path, fresh_redis: RedisServer) -> Iterator[list[Server]]:
    """Three nodes on a Redis of the test's own."""
    started = start_nodes(tmp_path, fresh_redis.url)
    yield started
    for node in started:
        node.close()


@pytest.fixture
def cluster_nodes(tmp_path: Path, redis_cluster: RedisCluster3) -> Iterator[list[Server]]:
    """Three nodes on the local 3-master Redis Cluster."""
    started = start_nodes(tmp_path, redis_cluster.url)
    yield started
    for node in started:
        node.close()


def meeting_with(node: Server, delegates: int, **settings: Any) -> tuple[Meeting, list[str]]:
    """A meeting made through `node`: the chair's token first, then the delegates'."""
    meeting = node.api.create_meeting("Cluster", **settings)
    tokens = [meeting.add("Chair", "UN", role="chair")["token"]]
    tokens += [meeting.add(f"D{i}", f"C{i}")["token"] for i in range(delegates)]
    return meeting, tokens


def spread(tokens: list[str], nodes: list[Server]) -> list[tuple[str, Server]]:
    return [(token, nodes[i % len(nodes)]) for i, token in enumerate(tokens)]


async def speak(follower: Follower, rounds: int, tag: str) -> list[dict[str, Any]]:
    """A delegate's busy life: chat, ask for the floor, withdraw; every answer."""
    answers = []
    for n in range(rounds):
        answers.append(await follower.command("chat.send", {"to": "all", "text": f"{tag} {n}"}))
        answers.append(await follower.command("floor.request"))
        answers.append(await follower.command("floor.withdraw"))
    return answers


def acked(answers: list[dict[str, Any]]) -> list[int]:
    return [a["seq"] for a in answers if a["t"] == "ack"]


async def all_reach(followers: list[Follower], seq: int, timeout: float = 20.0) -> None:
    await eventually(lambda: all(f.seq >= seq for f in followers), timeout)


def assert_one_order(followers: list[Follower], log: list[dict[str, Any]]) -> None:
    """Every follower saw exactly the log's events after its first welcome, in order."""
    for follower in followers:
        assert follower.disorder == []
        first = follower.welcomes[0]["seq"]
        expected = [(e["seq"], e["name"], e["data"]) for e in log if e["seq"] > first]
        assert follower.summary() == expected


async def states_agree(nodes: list[Server], meeting: Meeting, seq: int) -> dict[str, Any]:
    """Each node's view of the meeting, once at `seq`: all equal (presence aside)."""
    views = []
    for node in nodes:
        on_node = Meeting(node.api, meeting.id)

        def at_seq(m: Meeting = on_node) -> bool:
            return bool(m.state()["seq"] >= seq)

        await eventually(at_seq)
        state = on_node.state()
        state["state"].pop("presence")
        views.append(state)
    assert all(view == views[0] for view in views)
    return views[0]


async def test_clients_on_three_nodes_commanding_at_once_see_one_identical_order(
    nodes: list[Server],
) -> None:
    meeting, tokens = meeting_with(nodes[0], delegates=6)
    async with following(*spread(tokens, nodes)) as followers:
        answers = await asyncio.gather(*(speak(f, 4, f"d{i}") for i, f in enumerate(followers[1:])))
        assert all(a["t"] == "ack" for batch in answers for a in batch)
        head = max(seq for batch in answers for seq in acked(batch))
        await all_reach(followers, head)
        log = meeting.events()
        assert log[-1]["seq"] == head
        assert_one_order(followers, log)
        state = await states_agree(nodes, meeting, head)
        assert state["state"]["queue"] == []
        assert len([e for e in log if e["name"] == "chat.posted"]) == 6 * 4


async def test_the_clients_of_a_killed_node_resume_on_another_and_miss_nothing(
    nodes: list[Server],
) -> None:
    meeting, tokens = meeting_with(nodes[0], delegates=6)
    async with following(*spread(tokens, nodes)) as followers:
        orphans = [f for f in followers if f.server is nodes[1]]
        talkers = [f for f in followers[1:] if f.server is not nodes[1]]
        busy = [asyncio.create_task(speak(f, 6, f"t{i}")) for i, f in enumerate(talkers)]
        await eventually(lambda: followers[0].seq >= 12)
        nodes[1].kill()
        for orphan in orphans:
            orphan.server = nodes[2]
        answers = await asyncio.gather(*busy)
        await eventually(lambda: all(o.sessions == 2 for o in orphans))
        head = max(seq for batch in answers for seq in acked(batch))
        await all_reach(followers, head)
        assert_one_order(followers, meeting.events())
        assert all(o.welcomes[1].get("resumed") for o in orphans)


async def test_nodes_recover_from_a_redis_restart_and_no_acked_event_is_lost(
    nodes: list[Server], fresh_redis: RedisServer
) -> None:
    meeting, tokens = meeting_with(nodes[0], delegates=3)
    async with following(*spread(tokens, nodes)) as followers:
        before = await asyncio.gather(*(speak(f, 2, "before") for f in followers[1:]))
        fresh_redis.kill()
        refused = await followers[1].command("chat.send", {"to": "all", "text": "lost?"})
        assert refused["t"] == "error"
        assert refused["code"] == "internal"
        assert "unavailable" in refused["message"]
        assert await readyz(nodes[2]) == 503
        fresh_redis.start()
        for node in nodes:
            await eventually_async(lambda n=node: _ready(n), 20)
        after = await asyncio.gather(*(speak(f, 2, "after") for f in followers[1:]))
        assert all(a["t"] == "ack" for batch in before + after for a in batch)
        head = max(seq for batch in after for seq in acked(batch))
        await all_reach(followers, head)
        log = meeting.events()
        logged = {e["seq"] for e in log}
        assert all(seq in logged for batch in before + after for seq in acked(batch))
        assert_one_order(followers, log)


async def test_a_cut_pubsub_connection_is_repaired_and_no_client_loses_an_event(
    nodes: list[Server], fresh_redis: RedisServer
) -> None:
    meeting, tokens = meeting_with(nodes[0], delegates=6)
    async with following(*spread(tokens, nodes)) as followers:
        busy = [asyncio.create_task(speak(f, 6, f"d{i}")) for i, f in enumerate(followers[1:])]
        for _ in range(3):
            mark = followers[0].seq
            await eventually(lambda m=mark: followers[0].seq >= m + 5)  # commands flow
            fresh_redis.cli("CLIENT", "KILL", "TYPE", "pubsub")
        answers = await asyncio.gather(*busy)
        head = max(seq for batch in answers for seq in acked(batch))
        await all_reach(followers, head)
        assert_one_order(followers, meeting.events())


async def test_a_chair_sees_delegates_come_and_go_on_other_nodes_and_with_a_dead_node(
    nodes: list[Server],
) -> None:
    meeting, tokens = meeting_with(nodes[0], delegates=2)
    ids = list(meeting.state()["state"]["participants"])
    chair_id, d0, d1 = ids[0], ids[1], ids[2]
    async with following((tokens[0], nodes[0])) as (chair,):

        def online() -> set[str]:
            presence = chair.welcomes[0]["state"]["presence"]
            now = {pid for pid, on in presence.items() if on}
            for message in chair.presence:
                now |= set(message["online"])
                now -= set(message["offline"])
            return now

        async with following((tokens[1], nodes[1]), (tokens[2], nodes[2])):
            await eventually(lambda: online() >= {chair_id, d0, d1})
            nodes[2].kill()
            await eventually(lambda: d1 not in online(), 15)  # its entry expired
            assert d0 in online()
        await eventually(lambda: d0 not in online())  # d0 hung up on a live node
        on_node0 = meeting.state()["state"]["presence"]
        assert on_node0 == {chair_id: True, d0: False, d1: False}


async def test_the_speaking_time_expires_once_with_hosts_on_three_nodes(
    nodes: list[Server],
) -> None:
    meeting, tokens = meeting_with(nodes[0], delegates=3)
    async with following(*spread(tokens, nodes)) as followers:
        chair, speaker = followers[0], followers[1]
        await speaker.command("floor.request")
        granted = await chair.command("floor.grant", {"limit_s": 1})
        assert granted["t"] == "ack"
        await eventually(
            lambda: all(any(e["name"] == "floor.time_expired" for e in f.events) for f in followers)
        )
        after = await chair.command("chat.send", {"to": "all", "text": "after the bell"})
        await all_reach(followers, after["seq"])  # a second firing would be logged by now
        log = meeting.events()
        assert [e["name"] for e in log].count("floor.time_expired") == 1
        assert_one_order(followers, log)


async def test_clients_on_three_nodes_on_a_redis_cluster_see_one_identical_order(
    cluster_nodes: list[Server],
) -> None:
    meeting, tokens = meeting_with(cluster_nodes[0], delegates=6)
    async with following(*spread(tokens, cluster_nodes)) as followers:
        answers = await asyncio.gather(*(speak(f, 3, f"d{i}") for i, f in enumerate(followers[1:])))
        head = max(seq for batch in answers for seq in acked(batch))
        await all_reach(followers, head)
        assert_one_order(followers, meeting.events())
        await states_agree(cluster_nodes, meeting, head)


async def test_a_node_warns_at_start_when_redis_persistence_is_off(tmp_path: Path) -> None:
    volatile = RedisServer(tmp_path / "volatile", durable=False).start()
    node = Server(tmp_path / "node", "--redis", volatile.url)
    try:
        node.start()
        assert "persistence OFF" in node.log.read_text()
    finally:
        node.close()
        volatile.close()


async def readyz(node: Server) -> int:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(f"{node.base}/readyz")
        return response.status_code


async def _ready(node: Server) -> bool:
    try:
        return await readyz(node) == 200
    except httpx.HTTPError:
        return False
