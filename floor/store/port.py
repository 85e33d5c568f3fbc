"""The storage ports: the event log, snapshots and credentials — three small Protocols.

The meeting host needs the `EventLog` (and `Snapshots`, to start fast); the websocket
endpoint and the admin service need `Credentials`. Every adapter (memory, SQLite, Redis)
implements all three on one store, but each user is given only the port it needs.

A meeting's log is an append-only sequence of records (plain maps, JSON-serialisable,
string keys, each with an integer `seq`: 1, 2, 3 …, no gaps, no reuse). The log is named
by an `epoch` (an opaque string, random per log), fixed when its first records are
appended; it changes only if the log is recreated. Before that the meeting has no log:
`head` is 0, `epoch` is None, `read` is [] and `meetings()` does not list it.

Invariants every adapter keeps (the contract suite, tests/contracts/, checks them):
- `append(meeting, expected_seq, records)` succeeds only if the log's head is exactly
  `expected_seq`; otherwise it raises `SeqConflict` carrying the actual head, and writes
  nothing. This optimistic check is what keeps one single order when several nodes write
  one meeting. It returns the new head, `expected_seq + len(records)`.
- The records must be numbered `expected_seq + 1 …` (their `seq` an int, not a bool), be
  at least one, and be JSON-serialisable (no NaN or infinity, no lone surrogates).
  Anything else is the caller's fault: `ValueError`, raised before the log is touched,
  whatever the head (so it is never a `SeqConflict`), and nothing is written.
- When `append` returns, the records are durable (they survive a SIGKILL of the process
  and, for the SQLite adapter, a power loss). An append whose caller is cancelled may or
  may not be written, possibly after the cancellation: the next append's `SeqConflict`
  (or a later `head`) tells.
- Appends made concurrently may be committed together (group commit); each succeeds or
  fails on its own. Of several appends to one meeting with the same `expected_seq`,
  exactly one wins; the others get `SeqConflict`.
- `read(meeting, after)` returns the records with seq > after, in order, as fresh maps
  equal to what was appended (JSON round trip: tuples come back as lists).
- `meetings()` is sorted.

Snapshots: one per meeting; saving one whose `seq` is lower than the kept one's does
nothing (equal or higher replaces it).

Credentials: join tokens are kept only as hashes. `put_credential` maps a token hash to
the meeting and principal (participant or device id) it admits (replacing any previous
mapping of that hash); `revoke_credentials(meeting, principal)` removes every credential
of that principal in that meeting, and no other.

Errors: `StoreError` is a local fault (I/O, a lost connection, a closed log); its
subclass `SeqConflict` means another writer came first. `close()` finishes pending work
and releases resources; calling it again does nothing; any other call after it raises
`StoreError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from floor.errors import SeqConflict, StoreError

__all__ = [
    "Credential",
    "Credentials",
    "EventLog",
    "Record",
    "SeqConflict",
    "Snapshot",
    "Snapshots",
    "Store",
    "StoreError",
]

Record = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Credential:
    meeting: str
    principal: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A meeting's folded state as of `seq`, serialised by the host (opaque here)."""

    seq: int
    blob: bytes


class EventLog(Protocol):
    async def append(self, meeting: str, expected_seq: int, records: Sequence[Record]) -> int:
        """Append records after `expected_seq`; the new head. Raises SeqConflict."""
        ...

    async def read(self, meeting: str, after: int = 0, limit: int | None = None) -> list[Record]:
        """Records with seq > after, in order, at most `limit` (>= 0) of them."""
        ...

    async def head(self, meeting: str) -> int:
        """The seq of the meeting's last record; 0 for a meeting with no log."""
        ...

    async def epoch(self, meeting: str) -> str | None:
        """The name of the meeting's log; None for a meeting with no log."""
        ...

    async def meetings(self) -> list[str]:
        """Every meeting that has a log, sorted."""
        ...

    async def close(self) -> None:
        """Finish pending work and release resources; idempotent. Later calls: StoreError."""
        ...


class Snapshots(Protocol):
    async def save_snapshot(self, meeting: str, snapshot: Snapshot) -> None:
        """Keep a snapshot (replacing an older one; never one older than kept)."""
        ...

    async def load_snapshot(self, meeting: str) -> Snapshot | None: ...


class Credentials(Protocol):
    async def put_credential(self, token_hash: str, credential: Credential) -> None: ...

    async def find_credential(self, token_hash: str) -> Credential | None: ...

    async def revoke_credentials(self, meeting: str, principal: str) -> None:
        """Remove every credential of `principal` in `meeting` (and only there)."""
        ...


class Store(EventLog, Snapshots, Credentials, Protocol):
    """All three ports on one store: what an adapter is, and what app.py opens."""
