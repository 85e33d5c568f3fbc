"""Redis, shared by the Redis log (floor.store.redis), bus (floor.bus.redis) and presence
board (floor.bus.presence): the client of a URL (`client`), the key scheme (`keys`), and
one connection with its timeout and error translation (`connection`)."""

from floor.redis.connection import RedisConnection, Script
from floor.redis.keys import Keys

__all__ = ["Keys", "RedisConnection", "Script"]
