"""The bus contract (floor.bus.port): one suite, run on every adapter.

Each adapter is a `Rig`: a bus, and a writer that moves a meeting's log as another node
would (`write`). A rig is the ONE place where its bus and its writer are made, so a change
to how an adapter is built touches only its rig. To run the suite on another adapter, add
one entry to RIGS (a rig may take the real servers it needs from pytest fixtures through
`request`, as the Redis ones do).

What differs between adapters is said by a rig's flag, not by branches in tests:
`hears_other_writers` — a bus on a shared log (Redis) hears every append as a notice and
asks for repairs; a local bus has no other writer, never calls a notice and needs no
repairs. Tests of notices take the `notifying` fixture (the rigs that hear other writers),
the test of silence takes `silent` (the others), and the rest take `rig` (all of them).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import ClassVar

import pytest
import pytest_asyncio
from redis.asyncio import RedisCluster

from floor.bus.local import LocalBus
from floor.bus.port import Bus, Notice
from floor.bus.redis import RedisBus
from floor.store.memory import MemoryLog, MemoryStorage
from floor.store.port import EventLog
from floor.store.redis import RedisLog
from tests.redis_fixtures import RedisServer

pytestmark = pytest.mark.asyncio

DEADLINE_S = 5.0
"""How long a test waits for any condition (a notice, a reconnect, run() returning)."""

MEETINGS = ["m-1", "m-2", "m-3", "m-4"]
"""Meetings whose notice channels are spread over the three primaries of the test Cluster
(slots 4082, 16273, 12208, 8023), so a Cluster bus needs a connection to each."""


class Rig:
    """An adapter under test: its `bus`, and a writer that moves logs as another node."""

    hears_other_writers: ClassVar[bool]
    bus: Bus

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def write(self, meeting: str, records: int = 1) -> int:
        """Append `records` records to the meeting's log, after its head; the new head."""
        raise NotImplementedError


async def append(log: EventLog, meeting: str, records: int) -> int:
    head = await log.head(meeting)
    return await log.append(meeting, head, [{"seq": head + n} for n in range(1, records + 1)])


class LocalRig(Rig):
    """The local bus; the writer is the node's own log (nothing tells the bus)."""

    hears_other_writers = False

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.log = MemoryLog(MemoryStorage())

    async def open(self) -> None:
        self.bus = LocalBus()

    async def close(self) -> None:
        await self.log.close()

    async def write(self, meeting: str, records: int = 1) -> int:
        return await append(self.log, meeting, records)


class RedisRig(Rig):
    """The Redis bus on a real redis-server (session fixture), the test's own key prefix;
    the writer is a second Redis log, as another node's."""

    hears_other_writers = True
    server_fixture = "redis_server"

    def __init__(self, request: pytest.FixtureRequest) -> None:
        server = request.getfixturevalue(self.server_fixture)
        self.url: str = server.url
        self.servers: list[RedisServer] = getattr(server, "nodes", [server])
        self.prefix: str = request.getfixturevalue("redis_prefix")
        self.opened: list[RedisLog] = []

    async def open(self) -> None:
        self.own = await self._open_log()  # the bus's node: it takes its client from its log
        self.writer = await self._open_log()
        self.bus = RedisBus(self.own.connection)

    async def _open_log(self) -> RedisLog:
        log = await RedisLog.open(self.url, prefix=self.prefix)
        self.opened.append(log)
        return log

    async def close(self) -> None:
        for log in self.opened:
            await log.close()

    async def write(self, meeting: str, records: int = 1) -> int:
        return await append(self.writer, meeting, records)

    async def publish(self, meeting: str, payload: bytes) -> None:
        """Publish anything on the meeting's notice channel, as a stranger could."""
        client = self.writer.connection.client
        await client.execute_command("SPUBLISH", self.writer.keys.notices(meeting), payload)

    async def subscribers(self, meeting: str) -> int:
        """How many connections the server holds subscribed to the meeting's notices."""
        channel = self.writer.keys.notices(meeting)
        client = self.writer.connection.client
        target = (
            {"target_nodes": client.get_node_from_key(channel)}
            if isinstance(client, RedisCluster)
            else {}
        )
        reply = await client.execute_command("PUBSUB", "SHARDNUMSUB", channel, **target)
        return int(reply[1])

    async def drop_connections(self) -> None:
        """Cut every pub/sub connection on every server (CLIENT KILL TYPE pubsub)."""
        for server in self.servers:
            await asyncio.to_thread(server.cli, "CLIENT", "KILL", "TYPE", "pubsub")


class RedisClusterRig(RedisRig):
    """The Redis bus on a local 3-master Redis Cluster (session fixture)."""

    server_fixture = "redis_cluster"


RIGS: dict[str, type[Rig]] = {
    "local": LocalRig,
    "redis": RedisRig,
    "redis-cluster": RedisClusterRig,
}
NEEDS_REDIS = {"redis", "redis-cluster"}


def rig_params(hearing: bool | None = None) -> list[object]:
    """The rigs as fixture params (those that hear other writers, or not, or all)."""
    return [
        pytest.param(name, marks=[pytest.mark.redis] if name in NEEDS_REDIS else [])
        for name, made in RIGS.items()
        if hearing is None or made.hears_other_writers is hearing
    ]


@asynccontextmanager
async def opened(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    """The rig named by the fixture's param, open for the test; closed after it."""
    made = RIGS[request.param](request)
    try:
        await made.open()
        yield made
    finally:
        await made.bus.close()
        await made.close()


@pytest_asyncio.fixture(params=rig_params())
async def rig(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    async with opened(request) as made:
        yield made


@pytest_asyncio.fixture(params=rig_params(hearing=True))
async def notifying(request: pytest.FixtureRequest) -> AsyncIterator[RedisRig]:
    async with opened(request) as made:
        assert isinstance(made, RedisRig)
        yield made


@pytest_asyncio.fixture(params=rig_params(hearing=False))
async def silent(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    async with opened(request) as made:
        yield made


class Heard:
    """Every notice each callback was called with, in order, by the name of the callback."""

    def __init__(self) -> None:
        self.notices: dict[str, list[int | None]] = {}

    def __getitem__(self, name: str) -> list[int | None]:
        return self.notices.setdefault(name, [])

    def callback(self, name: str) -> Notice:
        return self[name].append


async def eventually(condition: Callable[[], bool], state: Callable[[], object]) -> None:
    """Wait until `condition()`; fail after DEADLINE_S, showing `state()`."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not met within {DEADLINE_S}s; state: {state()!r}")
        await asyncio.sleep(0.005)


async def returns(task: asyncio.Task[None]) -> None:
    """Wait for `task` to end (within DEADLINE_S) and raise what it raised."""
    done, _ = await asyncio.wait({task}, timeout=DEADLINE_S)
    if not done:
        task.cancel()
        raise AssertionError(f"run() did not return within {DEADLINE_S}s of close()")
    task.result()


@asynccontextmanager
async def running(bus: Bus) -> AsyncIterator[asyncio.Task[None]]:
    """Run the bus in a task group for the block; then close it and wait for run()."""
    async with asyncio.TaskGroup() as group:
        task = group.create_task(bus.run())
        try:
            yield task
        finally:
            await bus.close()
            await returns(task)


async def established(heard: Heard, *meetings: str) -> None:
    """Wait until each meeting's callback (named by the meeting) got its notice(None)."""
    await eventually(lambda: all(heard[m][:1] == [None] for m in meetings), lambda: heard.notices)


async def server_subscriptions(rig: RedisRig, count: int, *meetings: str) -> None:
    """Wait until the servers hold `count` subscriptions to each meeting's notices."""
    deadline = time.monotonic() + DEADLINE_S
    while (counts := [await rig.subscribers(m) for m in meetings]) != [count] * len(meetings):
        if time.monotonic() > deadline:
            raise AssertionError(f"subscriptions not {count} within {DEADLINE_S}s: {counts}")
        await asyncio.sleep(0.005)


# --- every adapter: the calls, run() and close() ------------------------------------------


async def test_subscribe_and_unsubscribe_are_plain_calls_that_return_before_and_while_running(
    rig: Rig,
) -> None:
    """subscribe/unsubscribe are synchronous (nothing to await), before run() and during
    it, for new, known and unknown meetings; the bus still connects after such churn."""
    bus, heard = rig.bus, Heard()
    assert not inspect.iscoroutinefunction(bus.subscribe)
    assert not inspect.iscoroutinefunction(bus.unsubscribe)
    calls = [bus.subscribe("m-1", heard.callback("m-1")), bus.unsubscribe("m-unknown")]
    async with running(bus):
        for meeting in MEETINGS:
            calls.append(bus.subscribe(meeting, heard.callback(meeting)))
        for meeting in MEETINGS[1:]:
            calls += [bus.unsubscribe(meeting), bus.unsubscribe(meeting)]
        assert not any(inspect.isawaitable(call) for call in calls)
        await eventually(lambda: bus.connected, lambda: heard.notices)


async def test_run_returns_once_close_is_called(rig: Rig) -> None:
    """run() keeps running until close() is called, then returns (without an error)."""
    rig.bus.subscribe("m-1", Heard().callback("m-1"))
    async with running(rig.bus) as task:
        await eventually(lambda: rig.bus.connected, lambda: task)
        assert not task.done()
    assert task.done()


async def test_close_before_run_makes_run_return_at_once(rig: Rig) -> None:
    """A bus closed before it ran returns from run() at once."""
    rig.bus.subscribe("m-1", Heard().callback("m-1"))
    await rig.bus.close()
    await returns(asyncio.create_task(rig.bus.run()))


async def test_close_is_idempotent(rig: Rig) -> None:
    """close() may be called again and again, while running and after run() returned."""
    rig.bus.subscribe("m-1", Heard().callback("m-1"))
    async with running(rig.bus) as task:
        await rig.bus.close()
        await rig.bus.close()
        await returns(task)
    await rig.bus.close()


async def test_repair_every_s_is_a_period_exactly_when_the_bus_hears_other_writers(
    rig: Rig,
) -> None:
    """Hosts must repair periodically on a shared log (notices get lost), never otherwise."""
    period = rig.bus.repair_every_s
    assert (period is not None) is rig.hears_other_writers
    assert period is None or period > 0


# --- a bus without other writers ----------------------------------------------------------


async def test_a_bus_without_other_writers_never_calls_a_notice_and_is_always_connected(
    silent: Rig,
) -> None:
    """A bus with no other writer accepts subscriptions, calls none, is always connected."""
    bus, heard = silent.bus, Heard()
    bus.subscribe("m-1", heard.callback("m-1"))
    assert bus.connected
    async with running(bus):
        bus.subscribe("m-2", heard.callback("m-2"))
        await silent.write("m-1")
        await silent.write("m-2", 3)
        bus.subscribe("m-1", heard.callback("m-1 again"))
        await silent.write("m-1")
        assert bus.connected
    # run() has returned: whatever it would ever deliver has been delivered
    assert heard.notices == {"m-1": [], "m-2": [], "m-1 again": []}
    assert bus.connected


# --- a bus that hears other writers -------------------------------------------------------


async def test_a_subscription_hears_notice_none_once_established_before_or_while_running(
    notifying: RedisRig,
) -> None:
    """Each subscription, made before run() or during it, gets notice(None) once it holds."""
    bus, heard = notifying.bus, Heard()
    bus.subscribe(MEETINGS[0], heard.callback(MEETINGS[0]))
    async with running(bus):
        for meeting in MEETINGS[1:]:
            bus.subscribe(meeting, heard.callback(meeting))
        await established(heard, *MEETINGS)
        assert heard.notices == {meeting: [None] for meeting in MEETINGS}
        assert bus.connected
        await server_subscriptions(notifying, 1, *MEETINGS)


async def test_each_later_append_is_heard_as_the_new_head_in_order(notifying: RedisRig) -> None:
    """Appends before the subscription are covered by notice(None); each later one is
    heard as notice(new head), a batch as one notice of its last seq."""
    bus, heard = notifying.bus, Heard()
    await notifying.write("m-1", 2)
    bus.subscribe("m-1", heard.callback("m-1"))
    async with running(bus):
        await established(heard, "m-1")
        for records in [1, 1, 3, 1]:
            await notifying.write("m-1", records)
        await eventually(lambda: len(heard["m-1"]) == 5, lambda: heard.notices)
        assert heard["m-1"] == [None, 3, 4, 7, 8]


async def test_notices_reach_only_the_subscriber_of_their_meeting(notifying: RedisRig) -> None:
    """A meeting's notices go to its own callback only, never another meeting's; nobody
    hears a meeting nobody subscribed to."""
    bus, heard = notifying.bus, Heard()
    meetings = [f"m-{i}" for i in range(1, 13)]
    for meeting in meetings:
        bus.subscribe(meeting, heard.callback(meeting))
    async with running(bus):
        await established(heard, *meetings)

        async def write(meeting: str, times: int) -> None:
            for _ in range(times):
                await notifying.write(meeting)

        await asyncio.gather(
            write("m-unheard", 5), *(write(m, n) for n, m in enumerate(meetings, start=1))
        )
        expected = {m: [None, *range(1, n + 1)] for n, m in enumerate(meetings, start=1)}
        await eventually(lambda: heard.notices == expected, lambda: heard.notices)


async def test_unsubscribe_stops_the_notices_and_a_new_subscription_starts_over(
    notifying: RedisRig,
) -> None:
    """After unsubscribe the old callback hears nothing more; subscribing again gets
    notice(None) and then only what is appended after it."""
    bus, heard = notifying.bus, Heard()
    bus.subscribe("m-1", heard.callback("first"))
    async with running(bus):
        await eventually(lambda: heard["first"] == [None], lambda: heard.notices)
        await notifying.write("m-1")
        await eventually(lambda: heard["first"] == [None, 1], lambda: heard.notices)
        bus.unsubscribe("m-1")
        await server_subscriptions(notifying, 0, "m-1")
        await notifying.write("m-1")
        bus.subscribe("m-1", heard.callback("second"))
        await eventually(lambda: heard["second"] == [None], lambda: heard.notices)
        await notifying.write("m-1")
        await eventually(lambda: heard["second"] == [None, 3], lambda: heard.notices)
        assert heard["first"] == [None, 1]


async def test_subscribing_again_replaces_the_callback(notifying: RedisRig) -> None:
    """A second subscribe of a meeting moves its notices to the new callback, on the same
    one server subscription."""
    bus, heard = notifying.bus, Heard()
    bus.subscribe("m-1", heard.callback("first"))
    async with running(bus):
        await eventually(lambda: heard["first"] == [None], lambda: heard.notices)
        await notifying.write("m-1")
        await eventually(lambda: heard["first"] == [None, 1], lambda: heard.notices)
        bus.subscribe("m-1", heard.callback("second"))
        await notifying.write("m-1")
        await eventually(lambda: 2 in heard["second"], lambda: heard.notices)
        assert heard["first"] == [None, 1]
        assert 1 not in heard["second"]
        assert await notifying.subscribers("m-1") == 1


async def test_a_malformed_notice_is_heard_as_a_repair_and_the_bus_goes_on(
    notifying: RedisRig,
) -> None:
    """A notice that is not a seq (published by someone else) never stops the bus: its
    meeting is told to compare with the log, and later notices still arrive."""
    bus, heard = notifying.bus, Heard()
    bus.subscribe("m-1", heard.callback("m-1"))
    async with running(bus) as task:
        await eventually(lambda: heard["m-1"] == [None], lambda: heard.notices)
        await notifying.publish("m-1", b"not a seq")
        await eventually(lambda: heard["m-1"] == [None, None], lambda: heard.notices)
        await notifying.write("m-1")
        await eventually(lambda: heard["m-1"] == [None, None, 1], lambda: heard.notices)
        assert not task.done()


async def test_a_failing_notice_callback_does_not_deafen_the_other_meetings(
    notifying: RedisRig,
) -> None:
    """A callback that raises (a bug in one host) is logged; the meetings that share its
    connection keep hearing their notices."""
    bus, heard = notifying.bus, Heard()

    def broken(seq: int | None) -> None:
        raise RuntimeError("a bug in one host")

    bus.subscribe("m-1", broken)
    bus.subscribe("m-2", heard.callback("m-2"))
    async with running(bus) as task:
        await eventually(lambda: heard["m-2"] == [None], lambda: heard.notices)
        await notifying.write("m-1")
        await notifying.write("m-2")
        await eventually(lambda: heard["m-2"] == [None, 1], lambda: heard.notices)
        assert not task.done()


async def test_after_the_connection_drops_the_bus_reconnects_and_asks_every_meeting_to_repair(
    notifying: RedisRig,
) -> None:
    """A cut pub/sub connection is made again by run() itself; every subscribed meeting
    gets notice(None) again, then hears appends as before."""
    bus, heard = notifying.bus, Heard()
    for meeting in MEETINGS:
        bus.subscribe(meeting, heard.callback(meeting))
    async with running(bus):
        await established(heard, *MEETINGS)
        await notifying.drop_connections()
        await eventually(
            lambda: all(heard[m] == [None, None] for m in MEETINGS), lambda: heard.notices
        )
        assert bus.connected
        for meeting in MEETINGS:
            await notifying.write(meeting)
        await eventually(
            lambda: all(heard[m] == [None, None, 1] for m in MEETINGS), lambda: heard.notices
        )


async def test_connected_is_false_while_the_bus_does_not_run(notifying: RedisRig) -> None:
    """With meetings subscribed, a bus that is not running (yet, or any more) cannot hear
    notices: it is not connected; while it runs and its subscriptions hold, it is."""
    bus, heard = notifying.bus, Heard()
    bus.subscribe("m-1", heard.callback("m-1"))
    assert not bus.connected
    async with running(bus):
        await established(heard, "m-1")
        assert bus.connected
    assert not bus.connected


async def test_close_releases_the_servers_subscriptions(notifying: RedisRig) -> None:
    """Once run() returned after close(), no server holds a subscription of the bus."""
    bus, heard = notifying.bus, Heard()
    for meeting in MEETINGS:
        bus.subscribe(meeting, heard.callback(meeting))
    async with running(bus):
        await established(heard, *MEETINGS)
        await server_subscriptions(notifying, 1, *MEETINGS)
    await server_subscriptions(notifying, 0, *MEETINGS)
