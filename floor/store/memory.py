"""The in-memory event log: for tests, and the reference behaviour of the port.

Everything a log keeps lives in a `MemoryStorage`, the in-memory equivalent of a
database file: a `MemoryLog` closed and another opened on the same storage see the same
logs, snapshots and credentials. Records are kept as JSON text (floor.store.records), so
they round-trip exactly as they do through SQLite or Redis and no caller can mutate what
was appended.

Invariants: every method runs its check and its write with no await in between, so an
append is atomic against every other coroutine; `append` first yields once to the loop,
as a real adapter would, so callers cannot come to rely on it finishing synchronously.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from floor.store.port import Credential, Record, SeqConflict, Snapshot, StoreError
from floor.store.records import check_limit, decode, encode_batch


@dataclass(slots=True)
class MeetingLog:
    """One meeting's log: its epoch and its records' JSON texts (seq i at index i - 1)."""

    epoch: str
    texts: list[str] = field(default_factory=list)


@dataclass(slots=True)
class MemoryStorage:
    """What outlives a `MemoryLog`: its logs, snapshots and credentials."""

    logs: dict[str, MeetingLog] = field(default_factory=dict)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    credentials: dict[str, Credential] = field(default_factory=dict)


class MemoryLog:
    """An `EventLog` kept in memory (in `storage`, a fresh one if none is given)."""

    def __init__(self, storage: MemoryStorage | None = None) -> None:
        self.storage = storage if storage is not None else MemoryStorage()
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the log is closed")

    async def append(self, meeting: str, expected_seq: int, records: Sequence[Record]) -> int:
        texts = encode_batch(expected_seq, records)
        await asyncio.sleep(0)
        self._check_open()
        log = self.storage.logs.get(meeting)
        head = len(log.texts) if log is not None else 0
        if head != expected_seq:
            raise SeqConflict(meeting, expected_seq, head)
        if log is None:
            log = self.storage.logs[meeting] = MeetingLog(epoch=secrets.token_hex(8))
        log.texts.extend(texts)
        return len(log.texts)

    async def read(self, meeting: str, after: int = 0, limit: int | None = None) -> list[Record]:
        check_limit(limit)
        self._check_open()
        log = self.storage.logs.get(meeting)
        if log is None:
            return []
        start = max(after, 0)
        stop = None if limit is None else start + limit
        return [decode(text) for text in log.texts[start:stop]]

    async def head(self, meeting: str) -> int:
        self._check_open()
        log = self.storage.logs.get(meeting)
        return len(log.texts) if log is not None else 0

    async def epoch(self, meeting: str) -> str | None:
        self._check_open()
        log = self.storage.logs.get(meeting)
        return log.epoch if log is not None else None

    async def meetings(self) -> list[str]:
        self._check_open()
        return sorted(self.storage.logs)

    async def save_snapshot(self, meeting: str, snapshot: Snapshot) -> None:
        self._check_open()
        kept = self.storage.snapshots.get(meeting)
        if kept is None or snapshot.seq >= kept.seq:
            self.storage.snapshots[meeting] = Snapshot(snapshot.seq, bytes(snapshot.blob))

    async def load_snapshot(self, meeting: str) -> Snapshot | None:
        self._check_open()
        return self.storage.snapshots.get(meeting)

    async def put_credential(self, token_hash: str, credential: Credential) -> None:
        self._check_open()
        self.storage.credentials[token_hash] = credential

    async def find_credential(self, token_hash: str) -> Credential | None:
        self._check_open()
        return self.storage.credentials.get(token_hash)

    async def revoke_credentials(self, meeting: str, principal: str) -> None:
        self._check_open()
        revoked = Credential(meeting, principal)
        credentials = self.storage.credentials
        for token_hash in [h for h, c in credentials.items() if c == revoked]:
            del credentials[token_hash]

    async def close(self) -> None:
        self._closed = True
