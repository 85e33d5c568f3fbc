"""The Redis event log: Streams, for a cluster of Floor nodes sharing one order per meeting.

Keys are floor.redis.keys's (the log, meta, snapshot, creds and cred keys, the meetings
set, and the notices channel its append publishes on). One `RedisConnection`
(floor.redis) is shared with the bus and the presence board of the node.

The append is ONE Lua script (EVALSHA, falling back to EVAL when the server does not
have it yet): it checks the expected seq against `meta.head`, adds the records, moves
the head (setting the epoch on the first append) and SPUBLISHes the new head, atomically.
So `meta.head` is always the seq of the stream's last entry, and a notice is never
published for a write that did not happen.

`meetings()`: the set `PREFIX:meetings` lives in another slot than the meeting's keys, so
it cannot be written by the append script. A meeting is added to it BEFORE its first
append is tried, and `meetings()` lists only members whose head is > 0: a failed first
append leaves a member that is not listed. Credentials are keyed by token hash (found
without knowing the meeting); the per-principal index is added to before the credential
is written, so a credential is never findable without being revocable.

Errors: every network call has a timeout; connection errors, timeouts and server errors
become `StoreError` (a seq conflict `SeqConflict`). Durability is Redis's: with
`appendonly yes` and `appendfsync always` an acked append survives a crash of Redis.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from typing import Any, Final

from floor.redis.connection import RedisConnection, Script, text
from floor.store.port import Credential, Record, SeqConflict, Snapshot, StoreError
from floor.store.records import check_limit, decode, encode_batch

APPEND: Final = """
local head = tonumber(redis.call('HGET', KEYS[1], 'head') or '0')
local expected = tonumber(ARGV[1])
if head ~= expected then return {0, head} end
for i = 3, #ARGV do
  redis.call('XADD', KEYS[2], string.format('%d-0', expected + i - 2), 'r', ARGV[i])
end
local new = expected + #ARGV - 2
if head == 0 then redis.call('HSET', KEYS[1], 'epoch', ARGV[2]) end
redis.call('HSET', KEYS[1], 'head', string.format('%d', new))
redis.call('SPUBLISH', KEYS[3], string.format('%d', new))
return {1, new}
"""
"""KEYS: meta, log, notices. ARGV: expected seq, epoch if first, then the records' JSON."""

SAVE_SNAPSHOT: Final = """
local kept = redis.call('HGET', KEYS[1], 'seq')
if kept and tonumber(kept) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'blob', ARGV[2])
return 1
"""
"""KEYS: snapshot. ARGV: seq, blob. Keeps the snapshot with the highest seq."""


APPEND_SCRIPT: Final = Script(APPEND)
SNAPSHOT_SCRIPT: Final = Script(SAVE_SNAPSHOT)


class RedisLog:
    """A `Store` (log, snapshots, credentials) on Redis Streams.

    Built on a node's shared `RedisConnection`, or opened on its own with
    `await RedisLog.open(url)` (then closing the log closes its connection).
    """

    def __init__(self, connection: RedisConnection, *, owns_connection: bool = False) -> None:
        self.connection = connection
        self.keys = connection.keys
        self._owns = owns_connection
        self._closed = False

    @classmethod
    async def open(cls, url: str, *, prefix: str = "floor", timeout: float = 5.0) -> RedisLog:
        """Connect and check the server (Redis 7+); StoreError if it cannot be reached."""
        connection = await RedisConnection.open(url, prefix=prefix, timeout=timeout)
        return cls(connection, owns_connection=True)

    @property
    def warnings(self) -> list[str]:
        """What opening the connection found about the server's durability."""
        return self.connection.warnings

    async def _run(self, *command: str | int | bytes) -> Any:
        if self._closed:
            raise StoreError("the log is closed")
        return await self.connection.run(*command)

    async def _script(self, script: Script, keys: Sequence[str], args: Sequence[Any]) -> Any:
        if self._closed:
            raise StoreError("the log is closed")
        return await self.connection.script(script, keys, args)

    # --- the log -------------------------------------------------------------------------

    async def append(self, meeting: str, expected_seq: int, records: Sequence[Record]) -> int:
        texts = encode_batch(expected_seq, records)
        if expected_seq == 0:
            await self._run("SADD", self.keys.meetings, meeting)
        keys = (
            self.keys.of(meeting, "meta"),
            self.keys.of(meeting, "log"),
            self.keys.notices(meeting),
        )
        args = (expected_seq, secrets.token_hex(8), *texts)
        done, head = await self._script(APPEND_SCRIPT, keys, args)
        if not done:
            raise SeqConflict(meeting, expected_seq, int(head))
        return int(head)

    async def read(self, meeting: str, after: int = 0, limit: int | None = None) -> list[Record]:
        check_limit(limit)
        if limit == 0:
            if self._closed:
                raise StoreError("the log is closed")
            return []
        start = "-" if after < 0 else str(after + 1)
        count = () if limit is None else ("COUNT", limit)
        entries = await self._run("XRANGE", self.keys.of(meeting, "log"), start, "+", *count)
        return [decode(text(fields[b"r"])) for _, fields in entries]

    async def head(self, meeting: str) -> int:
        head = await self._run("HGET", self.keys.of(meeting, "meta"), "head")
        return int(head) if head is not None else 0

    async def epoch(self, meeting: str) -> str | None:
        epoch = await self._run("HGET", self.keys.of(meeting, "meta"), "epoch")
        return text(epoch) if epoch is not None else None

    async def meetings(self) -> list[str]:
        members = await self._run("SMEMBERS", self.keys.meetings)
        names = sorted(text(m) for m in members)
        heads = await asyncio.gather(*(self.head(name) for name in names))
        return [name for name, head in zip(names, heads, strict=True) if head > 0]

    # --- snapshots -----------------------------------------------------------------------

    async def save_snapshot(self, meeting: str, snapshot: Snapshot) -> None:
        keys = (self.keys.of(meeting, "snapshot"),)
        await self._script(SNAPSHOT_SCRIPT, keys, (snapshot.seq, bytes(snapshot.blob)))

    async def load_snapshot(self, meeting: str) -> Snapshot | None:
        seq, blob = await self._run("HMGET", self.keys.of(meeting, "snapshot"), "seq", "blob")
        return Snapshot(int(seq), bytes(blob)) if seq is not None else None

    # --- credentials ---------------------------------------------------------------------

    async def put_credential(self, token_hash: str, credential: Credential) -> None:
        meeting, principal = credential.meeting, credential.principal
        await self._run("SADD", self.keys.of(meeting, f"creds:{principal}"), token_hash)
        await self._run(
            "HSET", self.keys.credential(token_hash), "meeting", meeting, "principal", principal
        )

    async def find_credential(self, token_hash: str) -> Credential | None:
        meeting, principal = await self._run(
            "HMGET", self.keys.credential(token_hash), "meeting", "principal"
        )
        if meeting is None or principal is None:
            return None
        return Credential(text(meeting), text(principal))

    async def revoke_credentials(self, meeting: str, principal: str) -> None:
        index = self.keys.of(meeting, f"creds:{principal}")
        for raw in await self._run("SMEMBERS", index):
            token_hash = text(raw)
            if await self.find_credential(token_hash) == Credential(meeting, principal):
                await self._run("DEL", self.keys.credential(token_hash))
            await self._run("SREM", index, token_hash)

    # --- closing -------------------------------------------------------------------------

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._owns:
            await self.connection.close()
