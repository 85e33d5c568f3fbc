"""The event-log contract (floor.store.port): one suite, run on every adapter.

Each adapter is a `Backing`: where its logs live (a `MemoryStorage`, a SQLite file on
pytest's tmp_path), from which `open()` makes a log, as many times as a test wants: a log
closed and opened again on the same backing must find everything it kept. To run the
suite on another adapter, add one entry to BACKINGS (a backing may take the real servers
it needs from pytest fixtures through `request`, as the Redis ones do).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from floor.store.memory import MemoryLog, MemoryStorage
from floor.store.port import Credential, EventLog, Record, SeqConflict, Snapshot, StoreError
from floor.store.redis import RedisLog
from floor.store.sqlite import SqliteLog

pytestmark = pytest.mark.asyncio


class Backing:
    """Where an adapter keeps its logs; opens logs on it and closes them all at the end."""

    def __init__(self) -> None:
        self.opened: list[EventLog] = []

    async def make(self) -> EventLog:
        raise NotImplementedError

    async def open(self) -> EventLog:
        log = await self.make()
        self.opened.append(log)
        return log

    async def close_all(self) -> None:
        for log in self.opened:
            await log.close()


class MemoryBacking(Backing):
    def __init__(self, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        super().__init__()
        self.storage = MemoryStorage()

    async def make(self) -> EventLog:
        return MemoryLog(self.storage)


class SqliteBacking(Backing):
    def __init__(self, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        super().__init__()
        self.path = tmp_path / "floor.db"

    async def make(self) -> EventLog:
        return await SqliteLog.open(self.path)


class RedisBacking(Backing):
    """A real redis-server (session fixture), the test's own key prefix."""

    server_fixture = "redis_server"

    def __init__(self, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        super().__init__()
        self.url: str = request.getfixturevalue(self.server_fixture).url
        self.prefix: str = request.getfixturevalue("redis_prefix")

    async def make(self) -> EventLog:
        return await RedisLog.open(self.url, prefix=self.prefix)


class RedisClusterBacking(RedisBacking):
    """A local 3-master Redis Cluster (session fixture)."""

    server_fixture = "redis_cluster"


BACKINGS: dict[str, Callable[[Path, pytest.FixtureRequest], Backing]] = {
    "memory": MemoryBacking,
    "sqlite": SqliteBacking,
    "redis": RedisBacking,
    "redis-cluster": RedisClusterBacking,
}
NEEDS_REDIS = {"redis", "redis-cluster"}


@pytest_asyncio.fixture(
    params=[
        pytest.param(name, marks=[pytest.mark.redis] if name in NEEDS_REDIS else [])
        for name in BACKINGS
    ]
)
async def backing(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backing]:
    made = BACKINGS[request.param](tmp_path, request)
    try:
        yield made
    finally:
        await made.close_all()


@pytest_asyncio.fixture
async def log(backing: Backing) -> EventLog:
    return await backing.open()


def event(seq: int, **data: Any) -> dict[str, Any]:
    return {"seq": seq, "type": "chat.posted", "data": data}


def events(first: int, last: int, **data: Any) -> list[dict[str, Any]]:
    return [event(seq, **data) for seq in range(first, last + 1)]


def seqs(records: list[Record]) -> list[int]:
    return [record["seq"] for record in records]


# --- the first append --------------------------------------------------------------------


async def test_a_meeting_without_log_has_no_epoch_head_zero_and_no_records(log: EventLog) -> None:
    assert await log.epoch("m-1") is None
    assert await log.head("m-1") == 0
    assert await log.read("m-1") == []
    assert await log.meetings() == []


async def test_first_append_creates_the_log_and_its_epoch(log: EventLog) -> None:
    assert await log.append("m-1", 0, events(1, 2)) == 2
    epoch = await log.epoch("m-1")
    assert isinstance(epoch, str)
    assert epoch
    assert await log.head("m-1") == 2
    assert await log.meetings() == ["m-1"]


async def test_epoch_stays_the_same_as_the_log_grows(log: EventLog) -> None:
    await log.append("m-1", 0, events(1, 1))
    epoch = await log.epoch("m-1")
    await log.append("m-1", 1, events(2, 5))
    assert await log.epoch("m-1") == epoch


async def test_each_meetings_log_has_its_own_epoch(log: EventLog) -> None:
    await log.append("m-1", 0, events(1, 1))
    await log.append("m-2", 0, events(1, 1))
    assert await log.epoch("m-1") != await log.epoch("m-2")


# --- seq numbering and the seq check ----------------------------------------------------


async def test_appends_number_records_one_after_another(log: EventLog) -> None:
    assert await log.append("m-1", 0, events(1, 1)) == 1
    assert await log.append("m-1", 1, events(2, 4)) == 4
    assert await log.append("m-1", 4, events(5, 5)) == 5
    assert seqs(await log.read("m-1")) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("expected", [0, 1, 2, 4, 10])
async def test_append_with_wrong_expected_seq_conflicts_and_writes_nothing(
    log: EventLog, expected: int
) -> None:
    await log.append("m-1", 0, events(1, 3))
    epoch = await log.epoch("m-1")
    with pytest.raises(SeqConflict) as conflict:
        await log.append("m-1", expected, events(expected + 1, expected + 2))
    assert (conflict.value.meeting, conflict.value.expected) == ("m-1", expected)
    assert conflict.value.actual == 3
    assert await log.head("m-1") == 3
    assert seqs(await log.read("m-1")) == [1, 2, 3]
    assert await log.epoch("m-1") == epoch


async def test_append_after_a_seq_on_a_meeting_without_log_conflicts_and_creates_nothing(
    log: EventLog,
) -> None:
    with pytest.raises(SeqConflict) as conflict:
        await log.append("m-1", 4, events(5, 5))
    assert conflict.value.actual == 0
    assert await log.epoch("m-1") is None
    assert await log.meetings() == []


@pytest.mark.parametrize(
    "records",
    [
        pytest.param([event(2), event(3)], id="starts-too-late"),
        pytest.param([event(1), event(2)], id="starts-too-early"),
        pytest.param([event(4), event(6)], id="gap"),
        pytest.param([event(4), event(4)], id="repeat"),
        pytest.param([event(5), event(4)], id="reversed"),
        pytest.param([{"type": "x"}], id="no-seq"),
        pytest.param([{"seq": "4"}], id="seq-a-string"),
        pytest.param([{"seq": 4.0}], id="seq-a-float"),
        pytest.param([], id="empty"),
        pytest.param([[("seq", 4)]], id="not-a-map"),
    ],
)
async def test_misnumbered_records_are_refused_with_value_error_and_nothing_is_written(
    log: EventLog, records: list[dict[str, Any]]
) -> None:
    await log.append("m-1", 0, events(1, 3))
    with pytest.raises(ValueError, match=r"seq|empty|not a map"):
        await log.append("m-1", 3, records)
    assert seqs(await log.read("m-1")) == [1, 2, 3]


async def test_misnumbered_records_are_value_error_even_when_the_seq_is_stale(
    log: EventLog,
) -> None:
    await log.append("m-1", 0, events(1, 3))
    with pytest.raises(ValueError, match="seq"):
        await log.append("m-1", 1, [event(7)])


@pytest.mark.parametrize(
    "record",
    [
        pytest.param({"seq": 1, "x": float("nan")}, id="nan"),
        pytest.param({"seq": 1, "x": float("inf")}, id="infinity"),
        pytest.param({"seq": 1, "x": {1, 2}}, id="set"),
        pytest.param({"seq": 1, "x": b"bytes"}, id="bytes"),
        pytest.param({"seq": 1, "x": "\ud800"}, id="lone-surrogate"),
    ],
)
async def test_records_that_are_not_json_data_are_refused_with_value_error(
    log: EventLog, record: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="not JSON"):
        await log.append("m-1", 0, [record])
    assert await log.head("m-1") == 0


@pytest.mark.parametrize("expected", [-1, True])
async def test_a_bad_expected_seq_is_a_value_error(log: EventLog, expected: int) -> None:
    with pytest.raises(ValueError, match="expected_seq"):
        await log.append("m-1", expected, [event(expected + 1)])


# --- reading ------------------------------------------------------------------------------


async def test_read_returns_the_records_after_a_seq_in_order_up_to_a_limit(log: EventLog) -> None:
    await log.append("m-1", 0, events(1, 4))
    await log.append("m-1", 4, events(5, 10))
    assert seqs(await log.read("m-1")) == list(range(1, 11))
    assert seqs(await log.read("m-1", after=6)) == [7, 8, 9, 10]
    assert seqs(await log.read("m-1", after=3, limit=4)) == [4, 5, 6, 7]
    assert seqs(await log.read("m-1", limit=2)) == [1, 2]
    assert await log.read("m-1", after=2, limit=0) == []
    assert await log.read("m-1", after=10) == []
    assert await log.read("m-1", after=99) == []
    assert seqs(await log.read("m-1", after=-5, limit=1)) == [1]


async def test_read_of_a_meeting_without_log_is_empty(log: EventLog) -> None:
    await log.append("m-1", 0, events(1, 2))
    assert await log.read("m-2") == []
    assert await log.read("m-2", after=1, limit=5) == []


async def test_a_negative_limit_is_a_value_error(log: EventLog) -> None:
    with pytest.raises(ValueError, match="limit"):
        await log.read("m-1", limit=-1)


async def test_meetings_lists_every_meeting_with_a_log_sorted(log: EventLog) -> None:
    for meeting in ["m-b", "m-c", "m-a"]:
        await log.append(meeting, 0, events(1, 1))
    with pytest.raises(SeqConflict):
        await log.append("m-d", 1, events(2, 2))
    assert await log.meetings() == ["m-a", "m-b", "m-c"]


ROUND_TRIPS = [
    pytest.param(
        {
            "type": "floor.granted",
            "by": "p-1",
            "at": 1764150000123,
            "data": {
                "floor": {
                    "participant": "p-2",
                    "request": None,
                    "kind": "speak",
                    "limit_s": 180,
                    "granted_at": 1764150000123,
                    "running_since": None,
                    "used_s": 12.5,
                },
                "interrupted": [],
            },
        },
        id="nested-maps-and-none",
    ),
    pytest.param(
        {"lists": [[1, [2, [3, []]]], [], {}, [{"a": [None, True, False]}]], "flag": True},
        id="lists",
    ),
    pytest.param(
        {
            "text": "مرحبا — 你好 — Здравствуйте — ¡Hola! — émoji 🎤",
            "ключ": "valeur",
            "quotes": 'a "b" \\ c\n\td',
            "controls": "\u0000\u001f\u2028",
            "empty": "",
        },
        id="unicode-and-escapes",
    ),
    pytest.param(
        {
            "floats": [12.5, 0.1, -3.75, 1e300, 5e-324, 2.0],
            "ints": [0, -1, 2**53 + 1, 2**63, 2**64 + 1, -(2**70), 10**40],
        },
        id="numbers",
    ),
]


@pytest.mark.parametrize("data", ROUND_TRIPS)
async def test_records_round_trip_exactly(log: EventLog, data: dict[str, Any]) -> None:
    record = {"seq": 1, **data}
    await log.append("m-1", 0, [record])
    (back,) = await log.read("m-1")
    assert back == record
    assert repr(back) == repr(record)  # same types (12.5 stays a float, True a bool), same order


async def test_read_gives_fresh_records_that_callers_cannot_alter_the_log_through(
    log: EventLog,
) -> None:
    record = event(1, tags=["a"])
    await log.append("m-1", 0, [record])
    record["data"]["tags"].append("changed after append")
    (first,) = await log.read("m-1")
    first["data"]["tags"].append("changed after read")
    assert await log.read("m-1") == [event(1, tags=["a"])]


# --- snapshots ----------------------------------------------------------------------------


async def test_a_saved_snapshot_is_loaded_back(log: EventLog) -> None:
    assert await log.load_snapshot("m-1") is None
    await log.save_snapshot("m-1", Snapshot(5, b"\x00state five\xff"))
    assert await log.load_snapshot("m-1") == Snapshot(5, b"\x00state five\xff")
    assert await log.load_snapshot("m-2") is None


async def test_an_older_snapshot_does_not_replace_a_newer_one(log: EventLog) -> None:
    await log.save_snapshot("m-1", Snapshot(9, b"nine"))
    await log.save_snapshot("m-1", Snapshot(3, b"three"))
    assert await log.load_snapshot("m-1") == Snapshot(9, b"nine")
    await log.save_snapshot("m-1", Snapshot(12, b"twelve"))
    assert await log.load_snapshot("m-1") == Snapshot(12, b"twelve")
    await log.save_snapshot("m-1", Snapshot(12, b"twelve again"))
    assert await log.load_snapshot("m-1") == Snapshot(12, b"twelve again")


# --- credentials --------------------------------------------------------------------------


async def test_a_credential_is_found_by_its_token_hash(log: EventLog) -> None:
    await log.put_credential("h-1", Credential("m-1", "p-1"))
    assert await log.find_credential("h-1") == Credential("m-1", "p-1")
    assert await log.find_credential("h-unknown") is None
    await log.put_credential("h-1", Credential("m-1", "p-9"))
    assert await log.find_credential("h-1") == Credential("m-1", "p-9")


async def test_revoke_removes_all_of_a_principals_credentials_in_that_meeting_only(
    log: EventLog,
) -> None:
    await log.put_credential("h-1", Credential("m-1", "p-1"))
    await log.put_credential("h-2", Credential("m-1", "p-1"))
    await log.put_credential("h-3", Credential("m-1", "p-2"))
    await log.put_credential("h-4", Credential("m-2", "p-1"))
    await log.revoke_credentials("m-1", "p-1")
    assert await log.find_credential("h-1") is None
    assert await log.find_credential("h-2") is None
    assert await log.find_credential("h-3") == Credential("m-1", "p-2")
    assert await log.find_credential("h-4") == Credential("m-2", "p-1")
    await log.revoke_credentials("m-3", "p-nobody")


# --- concurrency --------------------------------------------------------------------------


async def test_concurrent_appends_to_many_meetings_all_land_in_order(log: EventLog) -> None:
    meetings = [f"m-{i:02}" for i in range(30)]

    async def write(meeting: str) -> None:
        head = 0
        for size in [1, 3, 1, 2, 5, 1, 1, 4]:
            head = await log.append(meeting, head, events(head + 1, head + size, m=meeting))

    await asyncio.gather(*(write(meeting) for meeting in meetings))
    assert await log.meetings() == meetings
    for meeting in meetings:
        assert await log.read(meeting) == events(1, 18, m=meeting)
        assert await log.head(meeting) == 18


async def test_concurrent_appends_to_one_meeting_with_one_expected_seq_exactly_one_wins(
    log: EventLog,
) -> None:
    await log.append("m-1", 0, events(1, 2))
    outcomes = await asyncio.gather(
        *(log.append("m-1", 2, events(3, 4, writer=w)) for w in range(20)),
        return_exceptions=True,
    )
    winners = [w for w, outcome in enumerate(outcomes) if outcome == 4]
    assert len(winners) == 1
    conflicts = [outcome for outcome in outcomes if isinstance(outcome, SeqConflict)]
    assert len(conflicts) == 19
    assert {(c.expected, c.actual) for c in conflicts} == {(2, 4)}
    assert await log.read("m-1") == events(1, 2) + events(3, 4, writer=winners[0])


async def test_writers_racing_on_one_meeting_catch_up_and_all_get_in(log: EventLog) -> None:
    async def write(writer: int) -> None:
        for n in range(5):
            while True:
                head = await log.head("m-1")
                try:
                    await log.append("m-1", head, [event(head + 1, writer=writer, n=n)])
                    break
                except SeqConflict:
                    continue

    await asyncio.gather(*(write(w) for w in range(8)))
    records = await log.read("m-1")
    assert seqs(records) == list(range(1, 41))
    for w in range(8):
        assert [r["data"]["n"] for r in records if r["data"]["writer"] == w] == list(range(5))


# --- closing and reopening ----------------------------------------------------------------


async def test_a_closed_then_reopened_log_keeps_everything(backing: Backing) -> None:
    log = await backing.open()
    await log.append("m-1", 0, events(1, 3, text="é"))
    await log.append("m-2", 0, events(1, 1))
    await log.save_snapshot("m-1", Snapshot(3, b"three"))
    await log.put_credential("h-1", Credential("m-1", "p-1"))
    epochs = (await log.epoch("m-1"), await log.epoch("m-2"))
    await log.close()

    again = await backing.open()
    assert await again.meetings() == ["m-1", "m-2"]
    assert (await again.epoch("m-1"), await again.epoch("m-2")) == epochs
    assert await again.read("m-1") == events(1, 3, text="é")
    assert await again.head("m-2") == 1
    assert await again.load_snapshot("m-1") == Snapshot(3, b"three")
    assert await again.find_credential("h-1") == Credential("m-1", "p-1")
    assert await again.append("m-1", 3, events(4, 4)) == 4


async def test_close_is_idempotent_and_any_other_call_after_it_is_a_store_error(
    log: EventLog,
) -> None:
    await log.append("m-1", 0, events(1, 1))
    await log.close()
    await log.close()
    with pytest.raises(StoreError):
        await log.append("m-1", 1, events(2, 2))
    with pytest.raises(StoreError):
        await log.read("m-1")
    with pytest.raises(StoreError):
        await log.head("m-1")
    with pytest.raises(StoreError):
        await log.save_snapshot("m-1", Snapshot(1, b""))
    with pytest.raises(StoreError):
        await log.find_credential("h-1")
