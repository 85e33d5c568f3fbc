"""The `/ws` endpoint: moves bytes between a websocket, its Session and its meeting host.

All protocol decisions are the `Session`'s (Sans-I/O, floor.protocol) and the host's;
this driver only accepts the connection (subprotocol, origin), waits for `hello`,
authenticates, attaches the connection to its meeting's host, then feeds frames in and
the session's answers out until the connection ends, and detaches.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from floor.errors import StoreError, Unavailable, UnknownMeeting
from floor.host import MeetingHost, Outcome, Submission, Subscriber, epoch_ms
from floor.protocol import codecs, messages
from floor.protocol.close import CloseCode
from floor.protocol.session import Close, Hello, Reply, Session, Submit
from floor.services import Services
from floor.state import Accepted
from floor.state.rejection import Code
from floor.state.views import Viewer
from floor.tokens import token_hash
from floor.transport.wsprotocol import OUTBOX, DirectOutbox

logger = logging.getLogger("floor.ws")

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


class WebSocketEndpoint:
    """/ws as a raw ASGI app (it speaks ASGI, not Starlette's WebSocket)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services: Services = scope["app"].state.services
        await websocket_endpoint(services, scope, receive, send)


async def websocket_endpoint(
    services: Services, scope: Scope, receive: Receive, send: Send
) -> None:
    outbox: DirectOutbox | None = scope.get("extensions", {}).get(OUTBOX)
    first = await receive()
    if first["type"] != "websocket.connect":  # pragma: no cover - ASGI guarantees it
        return
    if outbox is None:
        logger.error("/ws needs floor's websocket protocol (uvicorn ws=FloorWebSocketProtocol)")
        await send({"type": "websocket.close", "code": CloseCode.INTERNAL_ERROR})
        return
    offered = list(scope.get("subprotocols", []))
    codec = codecs.choose(offered)
    if codec is None:
        await send({"type": "websocket.close", "code": CloseCode.PROTOCOL_ERROR})
        return
    accept: dict[str, Any] = {"type": "websocket.accept"}
    if offered:
        accept["subprotocol"] = codec.name
    await send(accept)
    metrics = services.metrics
    origin = _header(scope, b"origin")
    if not origin_allowed(origin, _header(scope, b"host"), services.settings.origins):
        outbox.close(CloseCode.POLICY, "origin not allowed")
        return
    metrics.connections.inc()
    try:
        await _serve(
            services, Session(codec, services.settings.limits, time.monotonic()), outbox, receive
        )
    finally:
        metrics.connections.dec()
        if outbox.overflowed:
            metrics.send_overflows.inc()


async def _serve(
    services: Services, session: Session, outbox: DirectOutbox, receive: Receive
) -> None:
    try:
        message = await asyncio.wait_for(receive(), session.limits.hello_timeout_s)
    except TimeoutError:
        outbox.close(CloseCode.NO_HELLO, "no hello in time")
        return
    if message["type"] != "websocket.receive":
        return
    payload = _payload(message)
    hello = session.hello(payload if payload is not None else b"")
    if isinstance(hello, Close):
        outbox.close(hello.code, hello.reason)
        return
    try:
        attached = await _attach(services, hello, session, outbox)
    except UnknownMeeting:  # a credential whose meeting has no log any more
        outbox.close(CloseCode.BAD_TOKEN, "bad or revoked token")
        return
    except (StoreError, Unavailable) as e:
        logger.warning("cannot admit a client now: %s", e)
        outbox.close(CloseCode.TRY_AGAIN_LATER, "try again later")  # the log is unavailable
        return
    if attached is None:
        return
    host, subscriber = attached
    try:
        await _converse(services, session, outbox, receive, host, subscriber)
    finally:
        host.detach(subscriber)


async def _converse(
    services: Services,
    session: Session,
    outbox: DirectOutbox,
    receive: Receive,
    host: MeetingHost,
    subscriber: Subscriber,
) -> None:
    """Client frames in, the session's actions carried out, until the connection ends."""
    metrics = services.metrics
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
                metrics.commands.inc()
                reply = _replier(session, outbox, command_id)
                submission = Submission(command, subscriber.viewer.id, command_id, reply)
                if not host.submit(submission):
                    busy = messages.error(
                        Code.RATE_LIMITED, "The meeting is busy; retry.", command_id
                    )
                    outbox.send(session.frame(busy))
            case Reply(message=answer):
                if answer["t"] == "error":
                    metrics.bad_messages.inc()
                outbox.send(session.frame(answer))
            case Close(code=code, reason=reason):
                outbox.close(code, reason)
                break
            case Hello():  # pragma: no cover - receive() never returns Hello
                raise AssertionError(action)


def _replier(session: Session, outbox: DirectOutbox, command_id: str) -> Callable[[Outcome], None]:
    def reply(outcome: Outcome) -> None:
        if isinstance(outcome, Accepted):
            outbox.send(session.ack(command_id, outcome.seq))
        else:
            outbox.send(session.rejection(outcome, command_id))

    return reply


async def _attach(
    services: Services, hello: Hello, session: Session, outbox: DirectOutbox
) -> tuple[MeetingHost, Subscriber] | None:
    credential = await services.credentials.find_credential(token_hash(hello.token))
    if credential is None:
        outbox.close(CloseCode.BAD_TOKEN, "bad or revoked token")
        return None
    host = await services.hosts.get(credential.meeting)
    state = host.state
    participant = state.participants.get(credential.principal)
    if participant is not None:
        viewer = Viewer(participant.id, participant.role)
    elif credential.principal in state.devices:
        viewer = Viewer(credential.principal, None)
    else:
        outbox.close(CloseCode.BAD_TOKEN, "bad or revoked token")
        return None
    if outbox.closed:  # the client went away while we looked it up
        return None
    subscriber = Subscriber(viewer, session.codec, outbox)
    host.attach(subscriber, hello.resume)
    return host, subscriber
