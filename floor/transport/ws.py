"""The `/ws` endpoint: moves frames between a websocket and its Session and meeting host.

All protocol decisions are the `Session`'s (Sans-I/O) and the host's; this driver only
accepts the connection (subprotocol, origin), waits for `hello` (10 s), authenticates,
attaches the connection to its meeting's host, then feeds frames in and actions out
until the connection ends, and detaches.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from floor.errors import Unavailable
from floor.hosts import UnknownMeeting
from floor.meeting import Outcome, Submission, Subscriber, epoch_ms
from floor.state import Accepted
from floor.state.rejection import Code
from floor.state.views import Viewer
from floor.store.port import StoreError
from floor.transport import codecs
from floor.transport.auth import token_hash
from floor.transport.session import Close, Hello, Reply, Session, Submit, error, rejection_message
from floor.transport.wsprotocol import OUTBOX, DirectOutbox

if TYPE_CHECKING:
    from floor.app import Floor

log = logging.getLogger("floor.ws")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _payload(message: dict[str, Any]) -> str | bytes | None:
    text = message.get("text")
    if text is not None:
        return str(text)
    data = message.get("bytes")
    return bytes(data) if data is not None else None


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return bytes(value).decode("latin-1")
    return None


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """Non-browser clients send no Origin; browsers may connect from our own pages or
    from an allowed origin."""
    if origin is None or "*" in allowed or origin in allowed:
        return True
    if host is None:
        return False
    return origin in (f"http://{host}", f"https://{host}")


async def websocket_endpoint(floor: Floor, scope: Scope, receive: Receive, send: Send) -> None:
    outbox: DirectOutbox | None = scope.get("extensions", {}).get(OUTBOX)
    first = await receive()
    if first["type"] != "websocket.connect":  # pragma: no cover - ASGI guarantees it
        return
    if outbox is None:
        log.error("/ws needs floor's websocket protocol (uvicorn ws=FloorWebSocketProtocol)")
        await send({"type": "websocket.close", "code": 1011})
        return
    offered = list(scope.get("subprotocols", []))
    codec = codecs.choose(offered)
    if codec is None:
        await send({"type": "websocket.close", "code": 1002})
        return
    accept: dict[str, Any] = {"type": "websocket.accept"}
    if offered:
        accept["subprotocol"] = codec.name
    await send(accept)
    metrics = floor.metrics
    if not origin_allowed(
        _header(scope, b"origin"), _header(scope, b"host"), floor.settings.origins
    ):
        outbox.close(1008, "origin not allowed")
        return
    metrics.connections.inc()
    try:
        await _serve(floor, codec, outbox, receive)
    finally:
        metrics.connections.dec()
        if outbox.overflowed:
            metrics.send_overflows.inc()


async def _serve(floor: Floor, codec: codecs.Codec, outbox: DirectOutbox, receive: Receive) -> None:
    limits = floor.settings.limits
    session = Session(codec, limits, time.monotonic())
    try:
        message = await asyncio.wait_for(receive(), limits.hello_timeout_s)
    except TimeoutError:
        outbox.close(4002, "no hello in time")
        return
    if message["type"] != "websocket.receive":
        return
    payload = _payload(message)
    hello = session.hello(payload if payload is not None else b"")
    if isinstance(hello, Close):
        outbox.close(hello.code, hello.reason)
        return
    try:
        attached = await _attach(floor, hello, codec, outbox)
    except UnknownMeeting:  # a credential whose meeting has no log any more
        outbox.close(4001, "bad or revoked token")
        return
    except (StoreError, Unavailable) as e:
        log.warning("cannot admit a client now: %s", e)
        outbox.close(1013, "try again later")  # the log or the meeting is unavailable
        return
    if attached is None:
        return
    host, subscriber = attached
    try:
        while not outbox.closed:
            message = await receive()
            if message["type"] != "websocket.receive":
                break
            payload = _payload(message)
            if payload is None:
                continue
            action = session.receive(payload, time.monotonic(), epoch_ms())
            match action:
                case Submit(command=command, command_id=command_id):
                    floor.metrics.commands.inc()
                    submission = Submission(
                        command,
                        subscriber.viewer.id,
                        command_id,
                        _replier(codec, outbox, command_id),
                    )
                    if not host.submit(submission):
                        busy = error(Code.RATE_LIMITED, "The meeting is busy; retry.", command_id)
                        outbox.send(codec.frame_of(busy.message))
                case Reply(message=reply):
                    if reply.get("t") == "error":
                        floor.metrics.bad_messages.inc()
                    outbox.send(codec.frame_of(reply))
                case Close(code=code, reason=reason):
                    outbox.close(code, reason)
                    break
                case Hello():  # pragma: no cover - receive() never returns Hello
                    raise AssertionError(action)
    finally:
        host.detach(subscriber)


def _replier(
    codec: codecs.Codec, outbox: DirectOutbox, command_id: str
) -> Callable[[Outcome], None]:
    def reply(outcome: Outcome) -> None:
        if isinstance(outcome, Accepted):
            message: dict[str, Any] = {"t": "ack", "id": command_id, "seq": outcome.seq}
        else:
            message = rejection_message(outcome, command_id)
        outbox.send(codec.frame_of(message))

    return reply


async def _attach(
    floor: Floor, hello: Hello, codec: codecs.Codec, outbox: DirectOutbox
) -> tuple[Any, Subscriber] | None:
    credential = await floor.log.find_credential(token_hash(hello.token))
    if credential is None:
        outbox.close(4001, "bad or revoked token")
        return None
    host = await floor.hosts.get(credential.meeting)
    state = host.state
    participant = state.participants.get(credential.principal)
    if participant is not None:
        viewer = Viewer(participant.id, participant.role)
    elif credential.principal in state.devices:
        viewer = Viewer(credential.principal, None)
    else:
        outbox.close(4001, "bad or revoked token")
        return None
    if outbox.closed:  # the client went away while we looked it up
        return None
    subscriber = Subscriber(viewer, codec, outbox)
    host.attach(subscriber, hello.resume)
    return host, subscriber
