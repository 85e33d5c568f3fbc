"""The outgoing messages' shapes (PROTOCOL.md sections 3 to 7), built in one place, and the
websocket frames the codecs build without a websocket library."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from floor.protocol import messages
from floor.protocol.codecs import BINARY, TEXT, server_frame
from floor.state import Rejection, views
from floor.state import events as ev
from floor.state.model import Role
from floor.state.rejection import Code


def test_seats_message_shape() -> None:
    """A seat plan as PROTOCOL.md section 6's `seats` message."""
    plan = views.SeatPlan(("A2",), ("A3",), ("p-ana",))
    assert messages.seats(plan, 17) == {
        "t": "seats",
        "seq": 17,
        "live": ["A2"],
        "waiting": ["A3"],
        "live_participants": ["p-ana"],
    }


def test_presence_lists_changes_sorted() -> None:
    """`presence` lists who came online and who went offline, each sorted."""
    changes = {"p-2": True, "p-1": True, "p-3": False}
    assert messages.presence(changes) == {
        "t": "presence",
        "online": ["p-1", "p-2"],
        "offline": ["p-3"],
    }


def test_ack_error_and_pong() -> None:
    """ack carries the id and seq; an error its code, message, and id and field when known;
    a rejection is an error with the core's code; pong echoes the ping's id."""
    assert messages.ack("c-1", 9) == {"t": "ack", "id": "c-1", "seq": 9}
    assert messages.error(Code.BAD_MESSAGE, "Bad.") == {
        "t": "error",
        "code": "bad_message",
        "message": "Bad.",
    }
    refused = Rejection(Code.INVALID_ARGS, "No.", "limit_s")
    assert messages.rejection(refused, "c-2") == {
        "t": "error",
        "code": "invalid_args",
        "message": "No.",
        "id": "c-2",
        "field": "limit_s",
    }
    assert messages.pong(None, 5) == {"t": "pong", "id": None, "now": 5}


def test_welcome_head_for_a_participant_and_a_device() -> None:
    """The welcome names the viewer as `you`; a resumed one says so."""
    chair = views.Viewer("p-1", Role.CHAIR)
    head = messages.welcome("s", "m-1", "e-1", 4, 1000, chair)
    assert head == {
        "t": "welcome",
        "v": 1,
        "session": "s",
        "meeting": "m-1",
        "epoch": "e-1",
        "seq": 4,
        "now": 1000,
        "you": {"participant": "p-1", "role": "chair"},
    }
    device = messages.welcome("s", "m-1", "e-1", 4, 1000, views.Viewer("d-1", None), resumed=True)
    assert device["you"] == {"device": "d-1", "role": "device"}
    assert device["resumed"] is True


def test_event_message() -> None:
    """An event message carries its seq, time, author, name and data."""
    event = ev.Event(3, 1000, "p-1", ev.ListClosed())
    assert messages.event(event) == {
        "t": "event",
        "seq": 3,
        "at": 1000,
        "by": "p-1",
        "name": "list.closed",
        "data": {},
    }


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
@pytest.mark.parametrize(("opcode", "theirs"), [(TEXT, Opcode.TEXT), (BINARY, Opcode.BINARY)])
def test_server_frames_are_what_websockets_builds(size: int, opcode: int, theirs: Opcode) -> None:
    """A frame built here is byte for byte the websockets library's unmasked frame, at
    every payload length encoding (7, 16 and 64 bits)."""
    payload = bytes(i % 251 for i in range(size))
    assert server_frame(opcode, payload) == Frame(theirs, payload).serialize(mask=False)
