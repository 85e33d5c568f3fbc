"""One Redis connection shared by the Redis log, bus and presence of a node.

`RedisConnection.open(url)` connects (a server or a Cluster: floor.redis.client), checks
the server (Redis 7+) and keeps its durability warnings; `call` awaits one Redis call
with the timeout and turns its failures into `StoreError`; `Script` runs a Lua script by
EVALSHA, loading it only when the server lacks it. The app opens one connection and
hands it to the log, the bus and the presence board (floor.app); it closes it last.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from redis.exceptions import NoScriptError, RedisError

from floor.errors import StoreError
from floor.redis.client import Client, check_server, connect
from floor.redis.keys import Keys

T = TypeVar("T")


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


class RedisConnection:
    """A Redis client, Floor's key scheme on it, and the timeout of every call."""

    def __init__(self, client: Client, *, prefix: str = "floor", timeout: float = 5.0) -> None:
        self.client = client
        self.keys = Keys(prefix)
        self.timeout = timeout
        self.warnings: list[str] = []
        """What `open` found about the server's durability (persistence off, …)."""
        self.closed = False

    @classmethod
    async def open(
        cls, url: str, *, prefix: str = "floor", timeout: float = 5.0
    ) -> RedisConnection:
        """Connect and check the server (Redis 7+); StoreError if it cannot be reached."""
        connection = cls(connect(url, timeout=timeout), prefix=prefix, timeout=timeout)
        try:
            connection.warnings = await connection.call(check_server(connection.client))
        except BaseException:
            await connection.close()
            raise
        return connection

    async def call(self, call: Awaitable[T]) -> T:
        """Await one Redis call with the timeout; its failures as StoreError."""
        if self.closed:
            if asyncio.iscoroutine(call):
                call.close()
            raise StoreError("the Redis connection is closed")
        try:
            async with asyncio.timeout(self.timeout):
                return await call
        except TimeoutError as exc:
            raise StoreError(f"Redis did not answer within {self.timeout}s") from exc
        except (RedisError, OSError) as exc:
            raise StoreError(f"Redis: {exc}") from exc

    async def run(self, *command: str | int | bytes) -> Any:
        """One Redis command (routed by its key on a Cluster), as by `call`."""
        return await self.call(self.client.execute_command(*command))

    async def script(self, script: Script, keys: Sequence[str], args: Sequence[Any]) -> Any:
        return await self.call(script(self.client, keys, args))

    async def close(self) -> None:
        """Release the client; idempotent. Later calls raise StoreError."""
        if self.closed:
            return
        self.closed = True
        try:
            async with asyncio.timeout(self.timeout):
                await self.client.aclose()
        except (TimeoutError, RedisError, OSError):
            pass


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
