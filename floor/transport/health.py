"""Operations: `/healthz` (the process answers), `/readyz` (the log and the bus work: take
this node into the load balancer) and `/metrics` (Prometheus)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from floor.services import Services


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    services = services_of(request)
    try:
        await asyncio.wait_for(services.log.meetings(), 2.0)
    except Exception:
        return PlainTextResponse("log unavailable", status_code=503)
    if not services.bus.connected:
        return PlainTextResponse("bus unavailable", status_code=503)
    return PlainTextResponse("ready")


async def metrics(request: Request) -> Response:
    services = services_of(request)
    services.metrics.meetings.set(len(services.hosts))
    return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")


def routes() -> list[BaseRoute]:
    return [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]
