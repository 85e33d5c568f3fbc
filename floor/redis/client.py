"""Connecting to Redis: one URL, a plain server or a Redis Cluster, the same code above it.

URLs (`--redis` / `FLOOR_REDIS`):

    redis://[user:password@]host:port[/db]        one Redis server (or a proxy in front of one)
    rediss://…                                   the same over TLS
    unix:///path/to/redis.sock                   a local server on a Unix socket
    redis+cluster://host:port                    a Redis Cluster, through any of its nodes
    rediss+cluster://host:port                   the same over TLS

Floor needs Redis 7 or later (sharded pub/sub, SPUBLISH/SSUBSCRIBE, is used on a single
server and on a Cluster alike, so there is one code path). Every client made here talks
RESP2, has a connect and read timeout, and does NOT retry on its own: a failed call
surfaces at once as an error the caller turns into `StoreError`, so a command is refused
quickly with a clear error while Redis is unreachable, never held for tens of seconds.

Every key and channel of a meeting carries the meeting in a hash tag (floor.redis.keys),
so a meeting's keys live in one Cluster slot, and its append script and its notice
channel stay on one node.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from floor.errors import ConfigError

Client = Redis | RedisCluster
"""A client of a single Redis server or of a Redis Cluster (same command API)."""

MIN_VERSION = (7, 0)
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
PLAIN_SCHEMES = {"redis", "rediss", "unix"}


def connect(url: str, *, timeout: float = 5.0) -> Client:
    """A client for `url` (no I/O yet). ConfigError for a URL that is not Redis's."""
    parts = urlsplit(url)
    options: dict[str, Any] = {
        "protocol": 2,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
    }
    if parts.scheme in CLUSTER_SCHEMES:
        plain = urlunsplit(parts._replace(scheme=CLUSTER_SCHEMES[parts.scheme]))
        # redis-py's cluster client fails at once (no waiting) past max_connections per
        # node, 100 by default: a join storm of hundreds of hellos would exceed it
        cluster: RedisCluster = RedisCluster.from_url(plain, max_connections=1024, **options)
        return cluster
    if parts.scheme in PLAIN_SCHEMES:
        client: Redis = Redis.from_url(url, **options)
        return client
    raise ConfigError(
        f"not a Redis URL: {url!r} (use redis://, rediss://, unix:// or redis+cluster://)"
    )


def dedicated_connection(client: Client, key: str, *, timeout: float) -> AbstractConnection:
    """A new connection, outside the client's pool, to the server that owns `key`
    (on a Cluster: the primary of its slot), with `timeout` for connecting and reading."""
    connection_class: type[AbstractConnection]
    kwargs: dict[str, Any]
    if isinstance(client, RedisCluster):
        node = _node(client, key)
        connection_class, kwargs = node.connection_class, dict(node.connection_kwargs)
        kwargs.update(host=node.host, port=node.port)
    else:
        pool = client.connection_pool
        connection_class, kwargs = pool.connection_class, dict(pool.connection_kwargs)
    kwargs.pop("retry", None)
    kwargs.update(socket_timeout=timeout, socket_connect_timeout=timeout, protocol=2)
    connection: AbstractConnection = connection_class(**kwargs)
    return connection


def server_of(client: Client, key: str) -> str:
    """Which server a key's dedicated connection goes to ("host:port"; "" when single)."""
    if isinstance(client, RedisCluster):
        node = _node(client, key)
        return f"{node.host}:{node.port}"
    return ""


def _node(client: RedisCluster, key: str) -> ClusterNode:
    node = client.get_node_from_key(key)
    if node is None:
        raise ConnectionError(f"no Redis Cluster node serves the slot of {key}")
    return node


async def check_server(client: Client) -> list[str]:
    """Initialise the client (a Cluster's slot map) and check the server: ConfigError
    below Redis 7.0; the warnings about durability to print."""
    infos: list[dict[str, str]] = []
    if isinstance(client, RedisCluster):
        await client.initialize()  # the slot map: without it every command is MOVED
        for node in client.get_primaries():
            infos.append(await _facts(client, node))
    else:
        infos.append(await _facts(client, None))
    warnings: list[str] = []
    for facts in infos:
        where = facts["where"]
        version = tuple(int(p) for p in facts["version"].split(".")[:2])
        if version < MIN_VERSION:
            raise ConfigError(f"Redis {facts['version']} at {where}: Floor needs Redis 7.0+")
        if facts["appendonly"] == "?":
            warnings.append(
                f"Redis at {where}: cannot read its persistence settings (CONFIG is "
                "disabled?); make sure AOF is on (appendonly yes, appendfsync always)."
            )
        elif facts["appendonly"] != "yes" and not facts["save"]:
            warnings.append(
                f'Redis at {where} has persistence OFF (appendonly no, save ""): '
                "a Redis restart loses every meeting. Set appendonly yes."
            )
        elif facts["appendonly"] != "yes":
            warnings.append(
                f"Redis at {where} keeps only RDB snapshots (save {facts['save']!r}): "
                "a Redis crash loses acked events since the last one. Set appendonly yes."
            )
        elif facts["appendfsync"] != "always":
            warnings.append(
                f"Redis at {where} has appendfsync {facts['appendfsync']}: a Redis crash "
                "may lose about a second of acked events. Set appendfsync always."
            )
    return warnings


async def _facts(client: Client, node: object) -> dict[str, str]:
    """version, appendonly, appendfsync and save of one server ("?" where unreadable)."""
    target = {} if node is None else {"target_nodes": node}
    info = await client.execute_command("INFO", "server", **target)
    where = "redis" if node is None else f"{getattr(node, 'host', '')}:{getattr(node, 'port', '')}"
    facts = {"where": where, "version": _text(info.get("redis_version", "0.0"))}
    try:
        for name in ("appendonly", "appendfsync", "save"):
            reply = await client.execute_command("CONFIG", "GET", name, **target)
            facts[name] = _text(_pairs(reply).get(name, ""))
    except Exception:  # managed Redis often disables CONFIG
        facts.update(appendonly="?", appendfsync="?", save="?")
    return facts


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _pairs(reply: object) -> dict[str, object]:
    """A CONFIG GET reply (a flat list of names and values, or a map) as a dict."""
    if isinstance(reply, dict):
        return {_text(k): v for k, v in reply.items()}
    if isinstance(reply, list | tuple):
        return {_text(reply[i]): reply[i + 1] for i in range(0, len(reply) - 1, 2)}
    return {}
