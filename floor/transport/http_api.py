"""The admin HTTP API (PROTOCOL.md section 8)."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    return []
