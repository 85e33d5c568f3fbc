"""The services a request handler may need, built once by the app's lifespan (floor.app).

Handlers (the websocket endpoint, the admin API, health) take this bundle; they never
import the composition root. Each field is a port or a service, not an adapter.
"""

from __future__ import annotations

from dataclasses import dataclass

from floor.admin.service import Admin
from floor.bus.port import Bus
from floor.host.hosts import Hosts
from floor.metrics import Metrics
from floor.settings import ServerSettings
from floor.store.port import Credentials, EventLog


@dataclass(frozen=True, slots=True)
class Services:
    settings: ServerSettings
    log: EventLog
    """The event log, read by the admin API's exports and readiness."""
    credentials: Credentials
    hosts: Hosts
    admin: Admin
    metrics: Metrics
    bus: Bus
    admin_token: str
    admin_token_generated: bool = False
