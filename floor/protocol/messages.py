"""Every message the server sends (PROTOCOL.md sections 3 to 7), and only here.

Each outgoing message has a `TypedDict` naming its fields and one function that builds
it: `welcome` (its head; the state is spliced in by the fan-out, encoded once per
audience), `event`, `ack`, `error` (and `rejection`, an error from the core's rejection),
`pong`, `seats` (for room devices) and `presence` (for chairs). Values come from the core
(`floor.state`): its views decide what a viewer sees, its `wire` module the shapes of
values and events; this module adds the envelope of each message and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, NotRequired, TypedDict, cast

from floor.state import Event, Rejection, views, wire
from floor.state.rejection import Code

PROTOCOL_VERSION: Final = 1


class You(TypedDict, total=False):
    participant: str
    device: str
    role: str


class WelcomeHead(TypedDict):
    t: Literal["welcome"]
    v: int
    session: str
    meeting: str
    epoch: str | None
    seq: int
    now: int
    you: You
    resumed: NotRequired[bool]


class EventMessage(TypedDict):
    t: Literal["event"]
    seq: int
    at: int
    by: str
    name: str
    data: dict[str, Any]


class Ack(TypedDict):
    t: Literal["ack"]
    id: str
    seq: int


class Error(TypedDict):
    t: Literal["error"]
    code: str
    message: str
    id: NotRequired[Any]
    field: NotRequired[str]


class Pong(TypedDict):
    t: Literal["pong"]
    id: Any
    now: int


class SeatsMessage(TypedDict):
    t: Literal["seats"]
    seq: int
    live: list[str]
    waiting: list[str]
    live_participants: list[str]


class PresenceMessage(TypedDict):
    t: Literal["presence"]
    online: list[str]
    offline: list[str]


def you(viewer: views.Viewer) -> You:
    if viewer.role is None:
        return {"device": viewer.id, "role": "device"}
    return {"participant": viewer.id, "role": viewer.role.value}


def welcome(
    session: str,
    meeting: str,
    epoch: str | None,
    seq: int,
    now: int,
    viewer: views.Viewer,
    *,
    resumed: bool = False,
) -> WelcomeHead:
    """A welcome without its `state` (a full welcome splices the state in; a resumed one
    has none: the missed events follow it)."""
    head: WelcomeHead = {
        "t": "welcome",
        "v": PROTOCOL_VERSION,
        "session": session,
        "meeting": meeting,
        "epoch": epoch,
        "seq": seq,
        "now": now,
        "you": you(viewer),
    }
    if resumed:
        head["resumed"] = True
    return head


def welcome_state(snapshot: wire.Plain, presence: Mapping[str, bool] | None = None) -> wire.Plain:
    """A welcome's `state`: the viewer's snapshot, with `presence` for chairs."""
    if presence is not None:
        snapshot["presence"] = dict(presence)
    return snapshot


def event(e: Event) -> EventMessage:
    """The `event` message (its fields are the core's: the log's records share them)."""
    return cast(EventMessage, wire.event_to_wire(e))


def ack(command_id: str, seq: int) -> Ack:
    return {"t": "ack", "id": command_id, "seq": seq}


def error(
    code: Code | str, message: str, command_id: Any = None, field: str | None = None
) -> Error:
    body: Error = {"t": "error", "code": str(code), "message": message}
    if command_id is not None:
        body["id"] = command_id
    if field is not None:
        body["field"] = field
    return body


def rejection(refused: Rejection, command_id: str | None) -> Error:
    return error(refused.code, refused.message, command_id, refused.field)


def pong(ping_id: Any, now: int) -> Pong:
    return {"t": "pong", "id": ping_id, "now": now}


def seats(plan: views.SeatPlan, seq: int) -> SeatsMessage:
    return {
        "t": "seats",
        "seq": seq,
        "live": list(plan.live),
        "waiting": list(plan.waiting),
        "live_participants": list(plan.live_participants),
    }


def presence(changes: Mapping[str, bool]) -> PresenceMessage:
    return {
        "t": "presence",
        "online": sorted(p for p, on in changes.items() if on),
        "offline": sorted(p for p, on in changes.items() if not on),
    }
