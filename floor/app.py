"""The composition root: builds the Starlette app from settings and real adapters.

Only this module picks adapters: the SQLite store in the data directory, or — with
`--redis URL` — one Redis connection shared by the Redis store, bus and presence board.
The lifespan owns everything long-lived: it opens the store, runs every meeting host
inside one task group, and on shutdown stops the hosts and closes (flushes) the store.
Handlers get the `Services` bundle (floor.services), never this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, WebSocketRoute

from floor.admin.service import Admin
from floor.bus.local import LocalBus
from floor.bus.port import Bus
from floor.bus.presence import RedisPresence
from floor.cluster import Node
from floor.host.hosts import Hosts
from floor.host.meeting import MeetingHost
from floor.metrics import Metrics
from floor.services import Services
from floor.settings import ServerSettings
from floor.store.lock import DataLock
from floor.store.port import Store
from floor.tokens import admin_token
from floor.transport import http_api, pages
from floor.transport.ws import WebSocketEndpoint

logger = logging.getLogger("floor")


@dataclass
class Adapters:
    """What a node runs on: its store, its bus, its presence board (None when alone),
    and what to close after the store."""

    store: Store
    bus: Bus
    board: RedisPresence | None = None
    close: Callable[[], Awaitable[None]] | None = None


AdapterFactory = Callable[[ServerSettings], Awaitable[Adapters]]


async def open_sqlite(settings: ServerSettings) -> Adapters:
    from floor.store.sqlite import SqliteLog

    settings.data.mkdir(mode=0o700, parents=True, exist_ok=True)  # private chat is kept there
    lock = DataLock(settings.data)  # one server per data directory
    try:
        store = await SqliteLog.open(settings.data / "floor.db")
    except BaseException:
        await lock.release()
        raise
    return Adapters(store, LocalBus(), close=lock.release)


async def open_redis(settings: ServerSettings) -> Adapters:
    """One Redis connection for the store, the bus and presence; its warnings logged."""
    from floor.bus.redis import RedisBus
    from floor.redis.connection import RedisConnection
    from floor.store.redis import RedisLog

    assert settings.redis is not None
    connection = await RedisConnection.open(settings.redis)
    for warning in connection.warnings:
        logger.warning("%s", warning)
    return Adapters(
        RedisLog(connection),
        RedisBus(connection),
        RedisPresence(connection),
        close=connection.close,
    )


async def open_configured(settings: ServerSettings) -> Adapters:
    """Redis with `--redis URL` (a cluster of nodes), else SQLite in the data directory."""
    if settings.redis:
        return await open_redis(settings)
    return await open_sqlite(settings)


def build_app(
    settings: ServerSettings,
    *,
    open_adapters: AdapterFactory = open_configured,
    on_started: Callable[[Services], Awaitable[None]] | None = None,
) -> Starlette:
    """The ASGI app. `on_started` runs once the store and hosts are up (the demo uses it)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        adapters = await open_adapters(settings)
        store = adapters.store
        try:
            token, generated = admin_token(settings.admin_token, settings.data)
            measures = Metrics()
            node = Node(adapters.bus, adapters.board)

            def configure(host: MeetingHost) -> None:
                host.on_fanout = measures.observe_fanout
                node.configure(host)

            async with asyncio.TaskGroup() as group:
                hosts = Hosts(
                    store,
                    group,
                    snapshots=store,
                    queue_limit=settings.limits.host_queue,
                    configure=configure,
                    forget=node.forget,
                )
                node.start(group, hosts)
                services = Services(
                    settings=settings,
                    log=store,
                    credentials=store,
                    hosts=hosts,
                    admin=Admin(store, hosts, settings.base_url),
                    metrics=measures,
                    bus=node.bus,
                    admin_token=token,
                    admin_token_generated=generated,
                )
                app.state.services = services
                if on_started is not None:
                    await on_started(services)
                try:
                    yield
                finally:
                    await node.stop()
                    await hosts.stop()
        finally:
            await store.close()
            if adapters.close is not None:
                await adapters.close()

    routes: list[BaseRoute] = [
        WebSocketRoute("/ws", WebSocketEndpoint()),
        Mount("/api", routes=http_api.routes()),
        *pages.routes(),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
