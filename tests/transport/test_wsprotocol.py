"""The uvicorn internals that `FloorWebSocketProtocol` (floor/transport/wsprotocol.py) relies
on: uvicorn's websockets-sansio protocol is not a public API, so pyproject.toml pins uvicorn
to the releases checked here, and this test fails as soon as an upgrade changes what the
outbox touches. The end-to-end suite then checks the behaviour through real sockets."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.server import ServerProtocol

from floor.transport.wsprotocol import DirectOutbox, FloorWebSocketProtocol, with_limit

OVERRIDDEN = ("handle_connect", "pause_writing", "resume_writing", "shutdown", "connection_lost")
"""The protocol's methods that FloorWebSocketProtocol extends (each calls super())."""
ATTRIBUTES = {
    "transport": object,
    "conn": ServerProtocol,
    "close_sent": bool,
    "queue": asyncio.Queue,
    "read_paused": bool,
    "close_timer": type(None),
    "loop": asyncio.AbstractEventLoop,
    "handshake_complete": bool,
}
"""What the outbox reads or writes on the protocol, and its type before a connection."""


async def _app(scope: object, receive: object, send: object) -> None:  # pragma: no cover
    pass


@pytest.mark.asyncio
async def test_the_sansio_protocol_has_what_the_outbox_uses() -> None:
    """A fresh protocol has every attribute the outbox touches, with the expected types,
    and the connection's outbox with the configured limit."""
    config = Config(_app, ws=with_limit(1234), lifespan="off")
    config.load()
    protocol = config.ws_protocol_class(  # type: ignore[misc]
        config=config, server_state=ServerState(), app_state={}
    )
    assert isinstance(protocol, FloorWebSocketProtocol)
    for name, kind in ATTRIBUTES.items():
        assert hasattr(protocol, name), f"uvicorn's protocol has no `{name}` any more"
        if name != "transport":  # set by connection_made
            assert isinstance(getattr(protocol, name), kind), name
    assert isinstance(protocol.outbox, DirectOutbox)
    assert protocol.outbox._limit == 1234


@pytest.mark.parametrize("method", OVERRIDDEN)
def test_the_methods_extended_still_exist_with_their_signatures(method: str) -> None:
    """Each method FloorWebSocketProtocol extends exists on the base with the same parameters."""
    base = FloorWebSocketProtocol.__mro__[1]
    assert method in vars(base), f"uvicorn's protocol no longer defines {method}"
    ours = inspect.signature(getattr(FloorWebSocketProtocol, method))
    theirs = inspect.signature(getattr(base, method))
    assert list(ours.parameters) == list(theirs.parameters)
