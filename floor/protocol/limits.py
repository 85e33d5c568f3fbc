"""The per-connection protections of protocol v1 (ARCHITECTURE laws 3 and 5).

One frozen value, read by the Sans-I/O session (rates, strikes), the websocket driver
(frame size, hello timeout, keepalive, send buffer) and the meeting host (its queue).
`floor.settings` fills it from flags and the environment (`FLOOR_` + the field in capitals).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-connection protections (ARCHITECTURE law 3 and 5)."""

    max_frame: int = 64 * 1024
    """Inbound frame limit in bytes; larger frames are closed with 1009."""
    hello_timeout_s: float = 10.0
    ping_interval_s: float = 20.0
    ping_timeout_s: float = 20.0
    send_buffer: int = 4 * 1024 * 1024
    """Bytes queued for one client beyond which it is too slow and closed with 4008."""
    commands_per_s: float = 20.0
    command_burst: int = 40
    bad_messages_per_10s: int = 20
    """More bad messages than this within ten seconds: the connection is closed (1008)."""
    host_queue: int = 10_000
    """Commands waiting for one meeting host; past it, `rate_limited`."""
