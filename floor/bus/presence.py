"""Presence across nodes: each node shares, per meeting it hosts, who is online at it.

In Redis, per meeting, one hash (hash-tagged like the meeting's other keys):

    PREFIX:{m}:presence   field NODE → "<expires at, ms of Redis's clock> <JSON list of ids>"

`exchange` is one Lua script: it writes this node's entry (expiring `ttl_s` from now, by
Redis's own clock, so node clocks do not matter), drops expired entries, and returns the
other nodes' lists. `PresenceSharing.run` does it for every meeting hosted here every
`every_s` seconds and hands the union to the host, which merges it into what chairs see
(floor.host.presence). A node that dies stops refreshing: its entries expire after `ttl_s`
and its participants go offline on the other nodes. A node that stops cleanly removes
its entries at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Collection
from typing import Final

from floor.errors import StoreError
from floor.host import presence
from floor.host.hosts import Hosts
from floor.redis.connection import RedisConnection, Script

logger = logging.getLogger("floor.presence")

EXCHANGE: Final = Script(
    """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  local expires = string.format('%d', now + tonumber(ARGV[2]))
  redis.call('HSET', KEYS[1], ARGV[1], expires .. ' ' .. ARGV[3])
end
local others = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local value = all[i + 1]
  local space = string.find(value, ' ', 1, true)
  if tonumber(string.sub(value, 1, space - 1)) <= now then
    redis.call('HDEL', KEYS[1], all[i])
  elseif all[i] ~= ARGV[1] then
    table.insert(others, string.sub(value, space + 1))
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return others
"""
)
"""KEYS: the meeting's presence hash. ARGV: node, ttl in ms, JSON ids ('' to leave)."""


class RedisPresence:
    """This node's side of the shared presence of meetings, on the node's Redis connection."""

    def __init__(
        self, connection: RedisConnection, *, node: str | None = None, ttl_s: float = 5.0
    ) -> None:
        self.connection = connection
        self.node = node or secrets.token_hex(6)
        self.ttl_s = ttl_s

    async def exchange(self, meeting: str, online: Collection[str] | None) -> frozenset[str]:
        """Share who is online here (None: leave) and learn who is at the other nodes."""
        keys = (self.connection.keys.of(meeting, "presence"),)
        shared_here = "" if online is None else presence.encode(online)
        args = (self.node, int(self.ttl_s * 1000), shared_here)
        shared = await self.connection.script(EXCHANGE, keys, args)
        return presence.union_of(shared)


class PresenceSharing:
    """The loop that keeps every hosted meeting's presence shared (one app task)."""

    def __init__(self, board: RedisPresence, hosts: Hosts, *, every_s: float = 1.0) -> None:
        self.board = board
        self.hosts = hosts
        self.every_s = every_s
        self._closed = asyncio.Event()

    async def run(self) -> None:
        while not self._closed.is_set():
            for host in self.hosts.running():
                try:
                    others = await self.board.exchange(host.meeting, host.local_online())
                except StoreError:
                    logger.debug("meeting %s: cannot share presence", host.meeting, exc_info=True)
                    continue
                host.set_remote_online(others)
            try:
                async with asyncio.timeout(self.every_s):
                    await self._closed.wait()
            except TimeoutError:
                pass
        for host in self.hosts.running():
            with contextlib.suppress(StoreError):
                await self.board.exchange(host.meeting, None)

    async def close(self) -> None:
        self._closed.set()
