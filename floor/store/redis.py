"""The Redis event log: Streams, for a cluster of Floor nodes sharing one order per meeting.

Keys (PREFIX defaults to "floor"; `{m-…}` is a hash tag, so one meeting's keys and its
notice channel are in one Cluster slot, and the same code runs on a server and a Cluster):

    PREFIX:{m}:log        stream; a record's entry id is `<seq>-0`, one field `r`: its JSON
    PREFIX:{m}:meta       hash: head (the last seq), epoch (set by the first append)
    PREFIX:{m}:snapshot   hash: seq, blob
    PREFIX:{m}:notices    shard channel: the new head, published by every append
    PREFIX:{m}:creds:P    set: the token hashes of principal P in meeting m
    PREFIX:cred:H         hash: meeting, principal (the credential of token hash H)
    PREFIX:meetings       set: every meeting id whose first append was attempted

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
import hashlib
import secrets
from collections.abc import Awaitable, Sequence
from typing import Any, Final, TypeVar

from redis.exceptions import NoScriptError, RedisError

from floor.store.port import Credential, Record, SeqConflict, Snapshot, StoreError
from floor.store.records import check_limit, decode, encode_batch
from floor.store.redis_client import Client, check_server, connect, meeting_tag

T = TypeVar("T")

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


class Script:
    """A Lua script, run by EVALSHA, loaded (by EVAL) only when the server lacks it."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    async def __call__(self, client: Client, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await client.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await client.execute_command("EVAL", self.source, len(keys), *keys, *args)


APPEND_SCRIPT: Final = Script(APPEND)
SNAPSHOT_SCRIPT: Final = Script(SAVE_SNAPSHOT)


class RedisLog:
    """An `EventLog` on Redis Streams; open it with `await RedisLog.open(url)`.

    `prefix` namespaces every key (several Floors, or tests, may share one Redis);
    `timeout` bounds every call, in seconds.
    """

    def __init__(self, client: Client, *, prefix: str = "floor", timeout: float = 5.0) -> None:
        self.client = client
        self.prefix = prefix
        self.timeout = timeout
        self.warnings: list[str] = []
        """What `open` found about the server's durability (persistence off, …)."""
        self._closed = False

    @classmethod
    async def open(cls, url: str, *, prefix: str = "floor", timeout: float = 5.0) -> RedisLog:
        """Connect and check the server (Redis 7+); StoreError if it cannot be reached."""
        log = cls(connect(url, timeout=timeout), prefix=prefix, timeout=timeout)
        try:
            log.warnings = await log.call(check_server(log.client))
        except BaseException:
            await log.close()
            raise
        return log

    # --- keys ----------------------------------------------------------------------------

    def key(self, meeting: str, name: str) -> str:
        return f"{meeting_tag(self.prefix, meeting)}:{name}"

    def notices(self, meeting: str) -> str:
        """The shard channel of a meeting's change notices (payload: the new head)."""
        return self.key(meeting, "notices")

    def _cred(self, token_hash: str) -> str:
        return f"{self.prefix}:cred:{token_hash}"

    # --- calls ---------------------------------------------------------------------------

    async def call(self, call: Awaitable[T]) -> T:
        """Await one Redis call with the timeout; its failures as StoreError."""
        if self._closed:
            if asyncio.iscoroutine(call):
                call.close()
            raise StoreError("the log is closed")
        try:
            async with asyncio.timeout(self.timeout):
                return await call
        except TimeoutError as exc:
            raise StoreError(f"Redis did not answer within {self.timeout}s") from exc
        except (RedisError, OSError) as exc:
            raise StoreError(f"Redis: {exc}") from exc

    async def _run(self, *command: str | int | bytes) -> Any:
        """One Redis command (routed by its key on a Cluster), as by `call`."""
        return await self.call(self.client.execute_command(*command))

    # --- the log -------------------------------------------------------------------------

    async def append(self, meeting: str, expected_seq: int, records: Sequence[Record]) -> int:
        texts = encode_batch(expected_seq, records)
        if expected_seq == 0:
            await self._run("SADD", f"{self.prefix}:meetings", meeting)
        keys = (self.key(meeting, "meta"), self.key(meeting, "log"), self.notices(meeting))
        args = (expected_seq, secrets.token_hex(8), *texts)
        done, head = await self.call(APPEND_SCRIPT(self.client, keys, args))
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
        entries = await self._run("XRANGE", self.key(meeting, "log"), start, "+", *count)
        return [decode(_text(fields[b"r"])) for _, fields in entries]

    async def head(self, meeting: str) -> int:
        head = await self._run("HGET", self.key(meeting, "meta"), "head")
        return int(head) if head is not None else 0

    async def epoch(self, meeting: str) -> str | None:
        epoch = await self._run("HGET", self.key(meeting, "meta"), "epoch")
        return _text(epoch) if epoch is not None else None

    async def meetings(self) -> list[str]:
        members = await self._run("SMEMBERS", f"{self.prefix}:meetings")
        names = sorted(_text(m) for m in members)
        heads = await asyncio.gather(*(self.head(name) for name in names))
        return [name for name, head in zip(names, heads, strict=True) if head > 0]

    # --- snapshots -----------------------------------------------------------------------

    async def save_snapshot(self, meeting: str, snapshot: Snapshot) -> None:
        keys = (self.key(meeting, "snapshot"),)
        await self.call(SNAPSHOT_SCRIPT(self.client, keys, (snapshot.seq, bytes(snapshot.blob))))

    async def load_snapshot(self, meeting: str) -> Snapshot | None:
        seq, blob = await self._run("HMGET", self.key(meeting, "snapshot"), "seq", "blob")
        return Snapshot(int(seq), bytes(blob)) if seq is not None else None

    # --- credentials ---------------------------------------------------------------------

    async def put_credential(self, token_hash: str, credential: Credential) -> None:
        meeting, principal = credential.meeting, credential.principal
        await self._run("SADD", self.key(meeting, f"creds:{principal}"), token_hash)
        await self._run("HSET", self._cred(token_hash), "meeting", meeting, "principal", principal)

    async def find_credential(self, token_hash: str) -> Credential | None:
        meeting, principal = await self._run(
            "HMGET", self._cred(token_hash), "meeting", "principal"
        )
        if meeting is None or principal is None:
            return None
        return Credential(_text(meeting), _text(principal))

    async def revoke_credentials(self, meeting: str, principal: str) -> None:
        index = self.key(meeting, f"creds:{principal}")
        for raw in await self._run("SMEMBERS", index):
            token_hash = _text(raw)
            if await self.find_credential(token_hash) == Credential(meeting, principal):
                await self._run("DEL", self._cred(token_hash))
            await self._run("SREM", index, token_hash)

    # --- closing -------------------------------------------------------------------------

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            async with asyncio.timeout(self.timeout):
                await self.client.aclose()
        except (TimeoutError, RedisError, OSError):
            pass


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
