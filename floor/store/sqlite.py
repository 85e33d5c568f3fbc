"""The SQLite event log: the embedded default, one database file, durable before ack.

The file (e.g. DATA_DIR/floor.db) is in WAL mode with `synchronous=FULL`: once a commit
returns, its records survive a SIGKILL and a power loss. Tables:

    meetings    (meeting PK, epoch, head)          one row per meeting that has a log
    records     (meeting, seq) PK, record          JSON text, see floor.store.records
    snapshots   (meeting PK, seq, blob)
    credentials (token_hash PK, meeting, principal), indexed by (meeting, principal)

No database work runs on the event loop. Every write (appends, snapshots, credentials,
the schema) goes to ONE writer thread that group-commits (floor.store.sqlite_thread); every
read goes to a second thread with its own query-only connection, which WAL lets read
committed data while the writer writes. Records are checked and encoded on the caller's
side first (ValueError for bad ones, before anything is queued).

Invariants: `meetings.head` is the seq of the meeting's last record, and it is read and
moved only in the same transaction as the records it counts, so the seq check in
`_append` is exact. A meeting's row, with its epoch, is created by its first append.

Use `log = await SqliteLog.open(path)` and `await log.close()`; the constructor alone
does no I/O and starts no thread.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import stat
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from floor.store.port import Credential, Record, SeqConflict, Snapshot, StoreError
from floor.store.records import check_limit, decode, encode_batch
from floor.store.sqlite_thread import Connect, Worker, Writer, WriterStats

SCHEMA_VERSION = 1
MAX_SEQ = 2**63 - 1  # SQLite's largest integer
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS meetings (
        meeting TEXT PRIMARY KEY, epoch TEXT NOT NULL, head INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS records (
        meeting TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL,
        PRIMARY KEY (meeting, seq))""",
    """CREATE TABLE IF NOT EXISTS snapshots (
        meeting TEXT PRIMARY KEY, seq INTEGER NOT NULL, blob BLOB NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS credentials (
        token_hash TEXT PRIMARY KEY, meeting TEXT NOT NULL, principal TEXT NOT NULL)""",
    """CREATE INDEX IF NOT EXISTS credentials_by_principal ON credentials (meeting, principal)""",
)


def _connector(path: str, busy_timeout: float, *, writer: bool) -> Connect:
    """How a thread opens its connection: WAL and synchronous=FULL, or query-only."""

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
        try:
            if writer:
                (mode,) = connection.execute("PRAGMA journal_mode=WAL").fetchone()
                if mode != "wal":
                    raise StoreError(f"{path}: cannot use WAL (journal_mode is {mode})")
                connection.execute("PRAGMA synchronous=FULL")
            else:
                connection.execute("PRAGMA query_only=ON")
        except BaseException:
            connection.close()
            raise
        return connection

    return connect


def _create_schema(connection: sqlite3.Connection) -> None:
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise StoreError(f"the database has schema {version}; this Floor knows {SCHEMA_VERSION}")
    for statement in SCHEMA:
        connection.execute(statement)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _append(connection: sqlite3.Connection, meeting: str, expected: int, texts: list[str]) -> int:
    """In the writer's transaction: check the head, add the records, move the head."""
    row = _row(connection, "SELECT head FROM meetings WHERE meeting = ?", meeting)
    head = row[0] if row is not None else 0
    if head != expected:
        raise SeqConflict(meeting, expected, head)
    new_head = expected + len(texts)
    if row is None:
        connection.execute(
            "INSERT INTO meetings (meeting, epoch, head) VALUES (?, ?, ?)",
            (meeting, secrets.token_hex(8), new_head),
        )
    else:
        connection.execute("UPDATE meetings SET head = ? WHERE meeting = ?", (new_head, meeting))
    connection.executemany(
        "INSERT INTO records (meeting, seq, record) VALUES (?, ?, ?)",
        [(meeting, expected + 1 + i, text) for i, text in enumerate(texts)],
    )
    return new_head


def _read(
    connection: sqlite3.Connection, meeting: str, after: int, limit: int | None
) -> list[Record]:
    rows = connection.execute(
        "SELECT record FROM records WHERE meeting = ? AND seq > ? ORDER BY seq LIMIT ?",
        (meeting, min(after, MAX_SEQ), -1 if limit is None else limit),
    ).fetchall()
    return [decode(text) for (text,) in rows]


def _execute(connection: sqlite3.Connection, sql: str, *args: Any) -> None:
    connection.execute(sql, args)


def _row(connection: sqlite3.Connection, sql: str, *args: Any) -> Any:
    """The first row, or None. (`fetchall`: a statement left open would keep the reader's
    read transaction, and its view of the log, open.)"""
    rows = connection.execute(sql, args).fetchall()
    return rows[0] if rows else None


def _one(connection: sqlite3.Connection, sql: str, *args: Any) -> Any:
    """The first column of the first row, or None."""
    row = _row(connection, sql, *args)
    return None if row is None else row[0]


class SqliteLog:
    """An `EventLog` in one SQLite file; open it with `await SqliteLog.open(path)`.

    `max_batch` and `max_batch_bytes` bound one group-commit transaction; `max_pending`
    bounds the write jobs in flight (more callers wait); `busy_timeout` is how long to
    wait, in seconds, for a lock held by another connection before failing.
    """

    def __init__(
        self,
        path: str | PathLike[str],
        *,
        max_batch: int = 1000,
        max_batch_bytes: int = 4 << 20,
        max_pending: int = 10_000,
        busy_timeout: float = 10.0,
    ) -> None:
        self.path = str(path)
        self._writer = Writer(
            f"floor-sqlite-writer:{self.path}",
            _connector(self.path, busy_timeout, writer=True),
            max_pending=max_pending,
            max_jobs=max_batch,
            max_bytes=max_batch_bytes,
        )
        self._reader = Worker(
            f"floor-sqlite-reader:{self.path}",
            _connector(self.path, busy_timeout, writer=False),
            max_pending=max_pending,
        )

    @classmethod
    async def open(
        cls,
        path: str | PathLike[str],
        *,
        max_batch: int = 1000,
        max_batch_bytes: int = 4 << 20,
        max_pending: int = 10_000,
        busy_timeout: float = 10.0,
    ) -> SqliteLog:
        """Open (creating if need be) the log in `path`; StoreError if it cannot.

        The database holds private chat: it is created readable by its owner only (SQLite
        gives its -wal and -shm files the same mode), and an older one readable by others
        is made private."""
        _private(Path(path))
        log = cls(
            path,
            max_batch=max_batch,
            max_batch_bytes=max_batch_bytes,
            max_pending=max_pending,
            busy_timeout=busy_timeout,
        )
        log._writer.start()
        try:
            await log._writer.call(_create_schema)
            log._reader.start()
        except BaseException:
            await log.close()
            raise
        return log

    @property
    def stats(self) -> WriterStats:
        """Counts of transactions and appends so far (group commit at work)."""
        return self._writer.stats

    async def pragmas(self) -> dict[str, Any]:
        """The writer connection's journal_mode and synchronous (2 is FULL)."""

        def read(connection: sqlite3.Connection) -> dict[str, Any]:
            return {
                "journal_mode": _one(connection, "PRAGMA journal_mode"),
                "synchronous": _one(connection, "PRAGMA synchronous"),
            }

        return await self._writer.call(read)

    async def append(self, meeting: str, expected_seq: int, records: Sequence[Record]) -> int:
        texts = encode_batch(expected_seq, records)
        size = sum(len(text) for text in texts)
        return await self._writer.call(
            lambda c: _append(c, meeting, expected_seq, texts), size=size, is_append=True
        )

    async def read(self, meeting: str, after: int = 0, limit: int | None = None) -> list[Record]:
        check_limit(limit)
        return await self._reader.call(lambda c: _read(c, meeting, after, limit))

    async def head(self, meeting: str) -> int:
        sql = "SELECT head FROM meetings WHERE meeting = ?"
        head = await self._reader.call(lambda c: _one(c, sql, meeting))
        return int(head) if head is not None else 0

    async def epoch(self, meeting: str) -> str | None:
        sql = "SELECT epoch FROM meetings WHERE meeting = ?"
        epoch = await self._reader.call(lambda c: _one(c, sql, meeting))
        return str(epoch) if epoch is not None else None

    async def meetings(self) -> list[str]:
        sql = "SELECT meeting FROM meetings ORDER BY meeting"
        return await self._reader.call(lambda c: [m for (m,) in c.execute(sql)])

    async def save_snapshot(self, meeting: str, snapshot: Snapshot) -> None:
        sql = """INSERT INTO snapshots (meeting, seq, blob) VALUES (?, ?, ?)
                 ON CONFLICT (meeting) DO UPDATE SET seq = excluded.seq, blob = excluded.blob
                 WHERE excluded.seq >= snapshots.seq"""
        blob = bytes(snapshot.blob)
        await self._writer.call(
            lambda c: _execute(c, sql, meeting, snapshot.seq, blob), size=len(blob)
        )

    async def load_snapshot(self, meeting: str) -> Snapshot | None:
        sql = "SELECT seq, blob FROM snapshots WHERE meeting = ?"
        row = await self._reader.call(lambda c: _row(c, sql, meeting))
        return Snapshot(int(row[0]), bytes(row[1])) if row is not None else None

    async def put_credential(self, token_hash: str, credential: Credential) -> None:
        sql = """INSERT INTO credentials (token_hash, meeting, principal) VALUES (?, ?, ?)
                 ON CONFLICT (token_hash) DO UPDATE
                 SET meeting = excluded.meeting, principal = excluded.principal"""
        meeting, principal = credential.meeting, credential.principal
        await self._writer.call(lambda c: _execute(c, sql, token_hash, meeting, principal))

    async def find_credential(self, token_hash: str) -> Credential | None:
        sql = "SELECT meeting, principal FROM credentials WHERE token_hash = ?"
        row = await self._reader.call(lambda c: _row(c, sql, token_hash))
        return Credential(str(row[0]), str(row[1])) if row is not None else None

    async def revoke_credentials(self, meeting: str, principal: str) -> None:
        sql = "DELETE FROM credentials WHERE meeting = ? AND principal = ?"
        await self._writer.call(lambda c: _execute(c, sql, meeting, principal))

    async def close(self) -> None:
        """Finish pending writes and reads, close both connections, join both threads."""
        try:
            await self._writer.stop()
        finally:
            await self._reader.stop()


def _private(path: Path) -> None:
    """Create `path` with mode 0600, or take group and other permissions off it. (Where it
    cannot be created, SQLite's own attempt then fails with its own error.)"""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError:
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(mode & 0o700)
