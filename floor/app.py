"""The composition root: builds the Starlette app from settings and real adapters.

The lifespan owns everything long-lived: it opens the event log, runs every meeting
host inside one task group, and on shutdown stops the hosts and closes (flushes) the log.
Only this module wires concrete adapters; everything else takes ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from floor.admin import Admin
from floor.bus.local import LocalBus
from floor.bus.port import Bus
from floor.cluster import Node, open_redis
from floor.hosts import Hosts
from floor.meeting import MeetingHost
from floor.metrics import Metrics
from floor.settings import Settings
from floor.store.port import EventLog
from floor.transport import http_api
from floor.transport.auth import admin_token
from floor.transport.ws import websocket_endpoint

log = logging.getLogger("floor")

WEB_CLIENT = Path(__file__).resolve().parent.parent / "web_client"

LogFactory = Callable[[Settings], Awaitable[EventLog]]


@dataclass
class Floor:
    """Everything a request handler may need, built once by the lifespan."""

    settings: Settings
    log: EventLog
    hosts: Hosts
    admin: Admin
    metrics: Metrics
    admin_token: str
    admin_token_generated: bool = False
    started: dict[str, Any] = field(default_factory=dict)
    bus: Bus = field(default_factory=LocalBus)


async def open_sqlite(settings: Settings) -> EventLog:
    from floor.store.sqlite import SqliteLog

    settings.data.mkdir(parents=True, exist_ok=True)
    return await SqliteLog.open(settings.data / "floor.db")


async def open_configured(settings: Settings) -> EventLog:
    """The Redis log with `--redis URL` (a cluster of nodes), else SQLite in the data dir."""
    if settings.redis:
        return await open_redis(settings)
    return await open_sqlite(settings)


class _WebSocket:
    """/ws as a raw ASGI app (the endpoint speaks ASGI, not Starlette's WebSocket)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        floor: Floor = scope["app"].state.floor
        await websocket_endpoint(floor, scope, receive, send)


def _page(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        return FileResponse(WEB_CLIENT / f"{name}.html", headers={"Cache-Control": "no-cache"})

    return page


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    floor: Floor = request.app.state.floor
    try:
        await asyncio.wait_for(floor.log.meetings(), 2.0)
    except Exception:
        return PlainTextResponse("log unavailable", status_code=503)
    if not floor.bus.connected:
        return PlainTextResponse("bus unavailable", status_code=503)
    return PlainTextResponse("ready")


async def metrics(request: Request) -> Response:
    floor: Floor = request.app.state.floor
    floor.metrics.meetings.set(len(floor.hosts))
    return Response(floor.metrics.render(), media_type="text/plain; version=0.0.4")


def build_app(
    settings: Settings,
    *,
    open_log: LogFactory = open_configured,
    on_started: Callable[[Floor], Awaitable[None]] | None = None,
) -> Starlette:
    """The ASGI app. `on_started` runs once the log and hosts are up (the demo uses it)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        event_log = await open_log(settings)
        token, generated = admin_token(settings.admin_token, settings.data)
        measures = Metrics()
        node = Node(event_log)

        def configure(host: MeetingHost) -> None:
            host.on_fanout = measures.observe_fanout
            node.configure(host)

        try:
            async with asyncio.TaskGroup() as group:
                hosts = Hosts(
                    event_log,
                    group,
                    queue_limit=settings.limits.host_queue,
                    configure=configure,
                    forget=node.forget,
                )
                node.start(group, hosts)
                floor = Floor(
                    settings,
                    event_log,
                    hosts,
                    Admin(event_log, hosts, settings.base_url),
                    measures,
                    token,
                    generated,
                    bus=node.bus,
                )
                app.state.floor = floor
                if on_started is not None:
                    await on_started(floor)
                try:
                    yield
                finally:
                    await node.stop()
                    await hosts.stop()
        finally:
            await event_log.close()

    routes: list[BaseRoute] = [
        WebSocketRoute("/ws", _WebSocket()),
        Mount("/api", routes=http_api.routes()),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/chair", _page("chair")),
        Route("/join", _page("join")),
        Route("/display", _page("display")),
    ]
    if WEB_CLIENT.is_dir():
        routes.append(Mount("/static", StaticFiles(directory=WEB_CLIENT), name="static"))
    return Starlette(routes=routes, lifespan=lifespan)
