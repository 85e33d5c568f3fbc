"""The websocket close codes of protocol v1 (PROTOCOL.md section 7), named once.

Codes below 4000 are the websocket standard's (RFC 6455 section 7.4.1); 4000 and up are
Floor's. What a client should do after each is in the table of PROTOCOL.md section 7 (and
`floor.devices.link` follows it for room bridges).
"""

from __future__ import annotations

import enum


class CloseCode(enum.IntEnum):
    GOING_AWAY = 1001
    """Server shutdown or redeploy: reconnect (elsewhere) with resume."""
    PROTOCOL_ERROR = 1002
    """The client offered only subprotocols we do not speak."""
    POLICY = 1008
    """Origin not allowed, or a flood of bad messages: do not retry blindly."""
    TOO_BIG = 1009
    """An inbound frame over the limit (closed by the websocket layer)."""
    INTERNAL_ERROR = 1011
    """The meeting's host stopped, or the server is misconfigured."""
    TRY_AGAIN_LATER = 1013
    """The meeting's log is unavailable now: reconnect after a while."""
    BAD_HELLO = 4000
    """Protocol violation in the handshake: fix the client."""
    BAD_TOKEN = 4001
    """Bad or revoked token: ask for a new link."""
    NO_HELLO = 4002
    """No hello in time: reconnect."""
    REMOVED = 4003
    """The participant or device was removed, or its token revoked, while connected."""
    TOO_SLOW = 4008
    """The client fell too far behind: reconnect with resume."""
