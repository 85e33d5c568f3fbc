"""Uvicorn's websockets-sansio protocol, plus a synchronous outbox for pre-built frames.

Starlette's `await websocket.send(...)` costs a task switch and a flow-control wait per
connection per message; a broadcast to thousands must not await anyone (ARCHITECTURE
law 3). So each connection exposes, in its ASGI scope under `extensions["floor.outbox"]`,
an `Outbox` whose `send(frame)` writes an already-serialised websocket frame — the same
bytes for every client — straight to the transport, or queues it while the transport
is paused by flow control. The queue is bounded in bytes: a client that falls that far
behind is sent a close frame 4008 (after what it already has) and the connection is
aborted if it does not finish closing in time.

Everything else — handshake, inbound frames, pings, size limits, the ASGI receive side —
is uvicorn's `WebSocketsSansIOProtocol`, unchanged. Pass this class as uvicorn's `ws`.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Final

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

from floor.protocol.close import CloseCode

OUTBOX: Final = "floor.outbox"
CLOSE_TIMEOUT_S: Final = 10.0
DEFAULT_LIMIT: Final = 4 * 1024 * 1024


class DirectOutbox:
    """The sending side of one websocket connection: synchronous, bounded, never blocking."""

    def __init__(self, protocol: FloorWebSocketProtocol, limit: int) -> None:
        self._protocol = protocol
        self._limit = limit
        self._pending: deque[bytes] = deque()
        self._pending_bytes = 0
        self._paused = False
        self.closed = False
        self.close_code: int | None = None
        self.overflowed = False

    @property
    def buffered(self) -> int:
        """Bytes waiting for this client: ours plus the transport's."""
        transport = self._protocol.transport
        return self._pending_bytes + (transport.get_write_buffer_size() if transport else 0)

    def send(self, frame: bytes) -> None:
        if self.closed:
            return
        if not self._paused and not self._pending:
            self._protocol.transport.write(frame)
            return
        self._pending.append(frame)
        self._pending_bytes += len(frame)
        if self._pending_bytes > self._limit:
            self.overflowed = True
            self._pending.clear()
            self._pending_bytes = 0
            self.close(CloseCode.TOO_SLOW, "too slow")

    def close(self, code: int, reason: str = "") -> None:
        """Send a close frame after what is queued; drop all later sends."""
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        protocol = self._protocol
        if protocol.close_sent or protocol.transport.is_closing():
            return
        protocol.conn.send_close(code, reason)
        data = b"".join(protocol.conn.data_to_send())
        protocol.close_sent = True
        protocol.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        if self._paused or self._pending:
            self._pending.append(data)
        else:
            protocol.transport.write(data)
        if protocol.read_paused:  # read the peer's close reply (later frames are discarded)
            protocol.read_paused = False
            protocol.transport.resume_reading()
        if protocol.close_timer is None:
            protocol.close_timer = protocol.loop.call_later(
                CLOSE_TIMEOUT_S, protocol.transport.abort
            )

    # flow control, from the protocol
    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        transport = self._protocol.transport
        while self._pending and not self._paused and not transport.is_closing():
            frame = self._pending.popleft()
            self._pending_bytes -= len(frame)
            transport.write(frame)  # may call pause() again, synchronously

    def lost(self) -> None:
        self.closed = True
        self._pending.clear()
        self._pending_bytes = 0


class FloorWebSocketProtocol(WebSocketsSansIOProtocol):
    """`WebSocketsSansIOProtocol` with a `DirectOutbox` in each connection's scope."""

    outbox_limit: int = DEFAULT_LIMIT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outbox = DirectOutbox(self, self.outbox_limit)

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:  # the handshake was accepted; the app has not run yet
            scope["extensions"][OUTBOX] = self.outbox

    def pause_writing(self) -> None:
        super().pause_writing()
        self.outbox.pause()

    def resume_writing(self) -> None:
        super().resume_writing()
        self.outbox.resume()

    def shutdown(self) -> None:
        """Server shutdown: tell the client it may reconnect elsewhere (1001), then close."""
        if self.handshake_complete and not self.close_sent:
            self.outbox.close(CloseCode.GOING_AWAY, "server going away")
        super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self.outbox.lost()
        super().connection_lost(exc)


def with_limit(limit: int) -> type[FloorWebSocketProtocol]:
    """The protocol class with another outbox limit (uvicorn takes a class)."""
    return type("FloorWebSocketProtocol", (FloorWebSocketProtocol,), {"outbox_limit": limit})
