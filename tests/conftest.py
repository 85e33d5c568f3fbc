"""Fixtures shared by every test package: real Redis servers (tests/redis_fixtures.py)."""

from tests.redis_fixtures import fresh_redis, redis_cluster, redis_prefix, redis_server

__all__ = ["fresh_redis", "redis_cluster", "redis_prefix", "redis_server"]
