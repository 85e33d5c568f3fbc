"""What the SQLite adapter promises beyond the contract: group commit, WAL and
synchronous=FULL, an event loop never blocked by the database, faults reported as
StoreError, and durability across a SIGKILL.

To hold a batch back deterministically, a test takes the database's write lock from a
connection of its own (`write_lock`): the writer thread then waits on it in SQLite while
appends pile up in its queue, and commits them together once the lock is released.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import stat
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from floor.app import open_sqlite
from floor.settings import ServerSettings
from floor.store.port import SeqConflict, Snapshot, StoreError
from floor.store.sqlite import SqliteLog
from tests.contracts.crash_writer import payload

pytestmark = pytest.mark.asyncio

REPO = Path(__file__).resolve().parents[2]
CRASH_WRITER = Path(__file__).with_name("crash_writer.py")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "floor.db"


@pytest_asyncio.fixture
async def log(path: Path) -> AsyncIterator[SqliteLog]:
    opened = await SqliteLog.open(path)
    try:
        yield opened
    finally:
        await opened.close()


@contextmanager
def write_lock(path: Path) -> Iterator[Callable[[], None]]:
    """Hold the database's write lock until the yielded `release` is called (or the end)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    def release() -> None:
        if other.in_transaction:
            other.execute("ROLLBACK")

    try:
        yield release
    finally:
        release()
        other.close()


async def wait_until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Poll `condition` until it holds; TimeoutError after `within` seconds."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 -- state moved by another thread: poll it
            await asyncio.sleep(0.001)


async def outcome(append: Awaitable[int]) -> int | StoreError:
    """The append's new head, or the StoreError it raised."""
    try:
        return await append
    except StoreError as error:
        return error


def one(seq: int, **data: Any) -> list[dict[str, Any]]:
    return [{"seq": seq, "type": "test", "data": data}]


# --- group commit -------------------------------------------------------------------------


async def test_appends_queued_during_a_transaction_commit_together(
    log: SqliteLog, path: Path
) -> None:
    before = log.stats
    with write_lock(path) as release:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(log.append(f"m-{i}", 0, one(1))) for i in range(200)]
            await wait_until(lambda: log.stats.pending == 200)
            release()
    assert [task.result() for task in tasks] == [1] * 200
    after = log.stats
    assert after.appends - before.appends == 200
    assert after.transactions - before.transactions <= 2
    assert after.largest_batch >= 100  # 200 appends in at most two transactions
    assert after.pending == 0


async def test_many_concurrent_appends_take_fewer_transactions_than_appends(
    log: SqliteLog,
) -> None:
    before = log.stats
    heads = await asyncio.gather(*(log.append(f"m-{i}", 0, one(1)) for i in range(500)))
    assert heads == [1] * 500
    after = log.stats
    assert after.appends - before.appends == 500
    assert after.transactions - before.transactions < 250


async def test_a_batch_holds_at_most_max_batch_appends(path: Path) -> None:
    log = await SqliteLog.open(path, max_batch=10)
    try:
        with write_lock(path) as release:
            async with asyncio.TaskGroup() as group:
                for i in range(55):
                    group.create_task(log.append(f"m-{i}", 0, one(1)))
                await wait_until(lambda: log.stats.pending == 55)
                release()
        assert log.stats.appends == 55
        assert log.stats.largest_batch == 10
        assert log.stats.transactions >= 6
        assert len(await log.meetings()) == 55
    finally:
        await log.close()


async def test_a_batch_holds_at_most_about_max_batch_bytes(path: Path) -> None:
    log = await SqliteLog.open(path, max_batch_bytes=1000)
    try:
        before = log.stats
        with write_lock(path) as release:
            async with asyncio.TaskGroup() as group:
                for i in range(8):
                    group.create_task(log.append(f"m-{i}", 0, one(1, pad="x" * 600)))
                group.create_task(log.append("m-big", 0, one(1, pad="y" * 5000)))
                await wait_until(lambda: log.stats.pending == 9)
                release()
        after = log.stats
        assert after.transactions - before.transactions == 9
        assert after.largest_batch == 1
        assert (await log.read("m-big"))[0]["data"]["pad"] == "y" * 5000
    finally:
        await log.close()


async def test_a_conflicting_append_in_a_batch_fails_alone(log: SqliteLog, path: Path) -> None:
    with write_lock(path) as release:
        async with asyncio.TaskGroup() as group:
            first = group.create_task(log.append("m-a", 0, one(1, w="first")))
            late = group.create_task(outcome(log.append("m-a", 0, one(1, w="late"))))
            other = group.create_task(log.append("m-b", 0, one(1)))
            follow = group.create_task(log.append("m-a", 1, one(2, w="follow")))
            await wait_until(lambda: log.stats.pending == 4)
            release()
    conflict = late.result()
    assert isinstance(conflict, SeqConflict)
    assert conflict.actual == 1
    assert (first.result(), other.result(), follow.result()) == (1, 1, 2)
    assert [r["data"] for r in await log.read("m-a")] == [{"w": "first"}, {"w": "follow"}]
    assert log.stats.conflicts == 1
    assert log.stats.transactions <= 3  # the schema's, then at most two batches


# --- settings -----------------------------------------------------------------------------


async def test_the_database_is_in_wal_mode_with_synchronous_full(
    log: SqliteLog, path: Path
) -> None:
    assert await log.pragmas() == {"journal_mode": "wal", "synchronous": 2}  # 2 is FULL
    other = sqlite3.connect(path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        other.close()


# --- the event loop is never blocked --------------------------------------------------------


async def test_the_loop_keeps_running_while_an_append_waits_for_the_database(
    log: SqliteLog, path: Path
) -> None:
    with write_lock(path) as release:
        async with asyncio.TaskGroup() as group:
            append = group.create_task(log.append("m-1", 0, one(1)))
            await wait_until(lambda: log.stats.pending == 1)
            for _ in range(20):
                await asyncio.sleep(0.001)  # a ticker: the loop runs while the writer waits
            assert not append.done()
            assert await log.read("m-1") == []  # and reads go on past the locked writer
            release()
    assert append.result() == 1


async def test_the_loop_keeps_running_while_a_large_append_is_written(log: SqliteLog) -> None:
    ticks: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            await asyncio.sleep(0)

    records = [{"seq": s, "type": "test", "data": {"pad": "x" * 2000}} for s in range(1, 2001)]
    async with asyncio.TaskGroup() as group:
        group.create_task(ticker())
        await asyncio.sleep(0)
        sent = len(ticks)
        assert await log.append("m-1", 0, records) == 2000
        during = len(ticks) - sent
        stop.set()
    assert during > 0
    assert await log.head("m-1") == 2000


async def test_a_cancelled_append_already_queued_is_written_and_the_writer_serves_on(
    log: SqliteLog, path: Path
) -> None:
    with write_lock(path) as release:
        async with asyncio.TaskGroup() as group:
            cancelled = group.create_task(log.append("m-1", 0, one(1)))
            await wait_until(lambda: log.stats.pending == 1)
            cancelled.cancel()
            await wait_until(lambda: log.stats.pending == 0)
            release()
    assert cancelled.cancelled()
    with pytest.raises(SeqConflict) as conflict:  # it was queued, so it was written first
        await log.append("m-1", 0, one(1))
    assert conflict.value.actual == 1
    assert await log.append("m-1", 1, one(2)) == 2


# --- faults -------------------------------------------------------------------------------


async def test_a_database_error_reaches_the_caller_as_store_error_and_writes_nothing(
    path: Path,
) -> None:
    log = await SqliteLog.open(path, busy_timeout=0.05)
    try:
        with write_lock(path):
            with pytest.raises(StoreError, match="locked") as error:
                await log.append("m-1", 0, one(1))
            assert not isinstance(error.value, SeqConflict)
        assert await log.head("m-1") == 0
        assert await log.append("m-1", 0, one(1)) == 1
    finally:
        await log.close()


async def test_a_write_failing_in_the_database_fails_alone_in_its_batch(
    log: SqliteLog, path: Path
) -> None:
    other = sqlite3.connect(path, isolation_level=None)  # a row where m-1's record 1 will go
    other.execute("INSERT INTO records (meeting, seq, record) VALUES ('m-1', 1, '{}')")
    other.close()
    with write_lock(path) as release:
        async with asyncio.TaskGroup() as group:
            broken = group.create_task(outcome(log.append("m-1", 0, one(1))))
            fine = group.create_task(log.append("m-2", 0, one(1)))
            await wait_until(lambda: log.stats.pending == 2)
            release()
    error = broken.result()
    assert isinstance(error, StoreError)
    assert not isinstance(error, SeqConflict)
    assert "IntegrityError" in str(error)
    assert fine.result() == 1
    assert await log.head("m-1") == 0
    assert await log.meetings() == ["m-2"]


async def test_a_corrupt_record_reaches_the_reader_as_store_error(
    log: SqliteLog, path: Path
) -> None:
    await log.append("m-1", 0, one(1))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("UPDATE records SET record = '{not json' WHERE meeting = 'm-1'")
    other.close()
    with pytest.raises(StoreError, match="JSONDecodeError"):
        await log.read("m-1")
    assert await log.head("m-1") == 1


async def test_a_fault_of_the_writer_thread_fails_its_callers_and_every_later_call(
    log: SqliteLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(connection: sqlite3.Connection, batch: list[Any]) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(log._writer, "_run", explode)
    with pytest.raises(StoreError, match="boom"):
        await log.append("m-1", 0, one(1))
    with pytest.raises(StoreError, match="boom"):
        await log.save_snapshot("m-1", Snapshot(1, b""))
    await log.close()
    assert not log._writer.alive


async def test_a_file_that_cannot_be_opened_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="stopped"):
        await SqliteLog.open(tmp_path / "missing-directory" / "floor.db")


async def test_a_database_with_a_newer_schema_is_refused(path: Path) -> None:
    other = sqlite3.connect(path)
    other.execute("PRAGMA user_version = 99")
    other.close()
    with pytest.raises(StoreError, match="schema 99"):
        await SqliteLog.open(path)


async def test_a_log_only_constructed_refuses_calls_until_opened(path: Path) -> None:
    log = SqliteLog(path)
    with pytest.raises(StoreError, match="not open"):
        await log.append("m-1", 0, one(1))
    await log.close()
    assert not await asyncio.to_thread(path.exists)  # the constructor did no I/O


async def test_close_finishes_the_appends_already_made_and_joins_the_threads(
    log: SqliteLog, path: Path
) -> None:
    with write_lock(path) as release:
        async with asyncio.TaskGroup() as group:
            appends = [group.create_task(log.append(f"m-{i}", 0, one(1))) for i in range(50)]
            await wait_until(lambda: log.stats.pending == 50)
            closing = group.create_task(log.close())
            await asyncio.sleep(0)
            assert not closing.done()
            release()
    assert [task.result() for task in appends] == [1] * 50
    assert not log._writer.alive
    assert not log._reader.alive
    again = await SqliteLog.open(path)
    try:
        assert len(await again.meetings()) == 50
    finally:
        await again.close()


# --- durability ---------------------------------------------------------------------------


async def test_every_acked_append_survives_a_sigkill_and_the_log_has_no_gaps(path: Path) -> None:
    writers = 4
    for _round in range(3):  # each child carries on from where the last one was killed
        acked = await run_and_kill(path, writers, acks=150)
        log = await SqliteLog.open(path)
        try:
            assert await log.meetings() == sorted(acked)
            for meeting, seq in acked.items():
                head = await log.head(meeting)
                assert head >= seq
                assert await log.read(meeting) == [payload(meeting, s) for s in range(1, head + 1)]
        finally:
            await log.close()


async def run_and_kill(path: Path, writers: int, acks: int) -> dict[str, int]:
    """Run crash_writer.py until it printed `acks` acks, SIGKILL it: the highest acked seqs."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CRASH_WRITER),
        str(path),
        str(writers),
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    assert child.stderr is not None
    acked: dict[str, int] = {}
    seen = 0
    try:
        async with asyncio.timeout(30):
            while seen < acks:
                line = await child.stdout.readline()
                assert line, (await child.stderr.read()).decode()
                seen += note_ack(line, acked)
    finally:
        child.send_signal(signal.SIGKILL)
        rest, _ = await child.communicate()
    assert child.returncode == -signal.SIGKILL
    for line in rest.splitlines(keepends=True):
        if line.endswith(b"\n"):  # a line cut short by the kill was never fully printed
            note_ack(line, acked)
    return acked


def note_ack(line: bytes, acked: dict[str, int]) -> int:
    """Record `<meeting> <seq>` in `acked`; 1 if the line was an ack, 0 if not."""
    words = line.decode().split()
    if len(words) != 2:
        return 0
    meeting, seq = words[0], int(words[1])
    assert seq > acked.get(meeting, 0)
    acked[meeting] = seq
    return 1


async def test_the_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """A new database is created 0600 (it holds private chat); an older one readable by
    others is made private when opened."""
    fresh = tmp_path / "fresh.db"
    log = await SqliteLog.open(fresh)
    await log.append("m-1", 0, one(1))
    await log.close()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    old = tmp_path / "old.db"
    old.touch(mode=0o644)
    old.chmod(0o644)
    log = await SqliteLog.open(old)
    await log.close()
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


async def test_the_server_creates_its_data_directory_private(tmp_path: Path) -> None:
    """`floor serve` makes a missing data directory readable by its owner only."""
    settings = ServerSettings(data=tmp_path / "new" / "data")
    adapters = await open_sqlite(settings)
    await adapters.store.close()
    assert stat.S_IMODE(settings.data.stat().st_mode) == 0o700
    assert stat.S_IMODE((settings.data / "floor.db").stat().st_mode) == 0o600
