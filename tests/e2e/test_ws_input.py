"""Bad input over a real connection: each bad frame is answered, changes nothing, and neither
the connection nor anyone else is affected (ARCHITECTURE law 5); and a fuzz of it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from tests.e2e.peers import CODECS, Room, close_code, connect_peer, make_room, seq_of
from tests.e2e.server import Server


@pytest.fixture(scope="module")
def room(shared_server: Server) -> Room:
    return make_room(shared_server)


def packed(value: Any) -> bytes:
    data: bytes = msgpack.packb(value)
    return data


CMD = {"t": "cmd", "id": "c-1", "name": "floor.request", "args": {}}
DEEP_JSON = '{"t":"cmd","id":"c-1","name":"chat.send","args":' + "[" * 30_000 + "]" * 30_000 + "}"
HUGE_INT = '{"t":"cmd","id":"c-1","name":"floor.move","args":{"position":' + "9" * 5000 + "}}"
DEEP_MSGPACK = (
    b"\x84\xa1t\xa3cmd\xa2id\xa3c-1\xa4name\xa9chat.send\xa4args" + b"\x91" * 60_000 + b"\xc0"
)

# (frame as sent, the error code expected, whether the reply carries the command's id)
BAD_JSON: list[tuple[str | bytes, str, bool]] = [
    ("{not json", "bad_message", False),
    ("", "bad_message", False),
    ('{"t":"cmd"} trailing', "bad_message", False),
    ("[1,2,3]", "bad_message", False),
    ('"cmd"', "bad_message", False),
    ("null", "bad_message", False),
    ('{"type":"cmd"}', "bad_message", False),
    ('{"t":42}', "bad_message", False),
    ('{"t":"cmd","id":7,"name":"floor.request"}', "bad_message", False),
    ('{"t":"cmd","id":"","name":"floor.request"}', "bad_message", False),
    ('{"t":"cmd","id":"c-1","name":"floor.request","args":[1]}', "invalid_args", True),
    ('{"t":"cmd","id":"c-1","name":"floor.request","args":{"kind":7}}', "invalid_args", True),
    ('{"t":"cmd","id":"c-1","name":["floor.request"]}', "unknown_command", True),
    ('{"t":"cmd","id":"c-1","name":"chat.send","args":{"to":"all","text":"\\ud800"}}',
     "bad_message", False),
    ('{"t":"ping","id":NaN}', "bad_message", False),
    ('{"t":"cmd","id":"c-1","name":"floor.move","args":{"request":"r","position":1e999}}',
     "bad_message", False),
    (HUGE_INT, "bad_message", False),
    (DEEP_JSON, "bad_message", False),
    (json.dumps(CMD).encode(), "bad_message", False),  # a binary frame on the JSON subprotocol
    (b"\x00\xff", "bad_message", False),
]  # fmt: skip
BAD_MSGPACK: list[tuple[str | bytes, str, bool]] = [
    (b"\xc1", "bad_message", False),
    (b"", "bad_message", False),
    (b"\x81", "bad_message", False),
    (packed([1, 2]), "bad_message", False),
    (packed({"t": 1}), "bad_message", False),
    (packed({1: "x"}), "bad_message", False),
    (packed({b"t": b"cmd"}), "bad_message", False),
    (packed(CMD) + packed(CMD), "bad_message", False),  # one message a frame
    (packed({**CMD, "id": 7}), "bad_message", False),
    (packed({**CMD, "args": "x"}), "invalid_args", True),
    (packed({**CMD, "args": {"lang": b"fr"}}), "invalid_args", True),
    (packed({**CMD, "name": None}), "unknown_command", True),
    (b"\xdd\xff\xff\xff\xff", "bad_message", False),
    (b"\xa3\xff\xfe\xfd", "bad_message", False),
    (b"\xd6\xff\x00\x00\x00\x00", "bad_message", False),
    (DEEP_MSGPACK, "bad_message", False),
    (json.dumps(CMD), "bad_message", False),  # a text frame on the msgpack subprotocol
]


def cases(codec: str) -> list[tuple[str, str | bytes, str, bool]]:
    table = BAD_JSON if codec == "json" else BAD_MSGPACK
    return [(codec, frame, code, with_id) for frame, code, with_id in table]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("codec", "frame", "code", "with_id"),
    cases("json") + cases("msgpack"),
    ids=[f"json-{i}" for i in range(len(BAD_JSON))]
    + [f"msgpack-{i}" for i in range(len(BAD_MSGPACK))],
)
async def test_a_bad_frame_is_answered_and_changes_nothing(
    shared_server: Server, room: Room, codec: str, frame: str | bytes, code: str, with_id: bool
) -> None:
    before = seq_of(room.meeting)
    async with (
        connect_peer(shared_server, room, "d2", codec) as other,
        connect_peer(shared_server, room, "d1", codec) as d1,
    ):
        await d1.ws.send(frame)
        error = await d1.next("error")
        assert error["code"] == code
        assert isinstance(error["message"], str)
        assert (error.get("id") == "c-1") if with_id else ("id" not in error)
        # the connection carries on
        await d1.send({"t": "ping", "id": "after"})
        assert (await d1.next("pong"))["id"] == "after"
        # and so does everyone else; nothing happened
        await other.send({"t": "ping", "id": "other"})
        assert (await other.next("pong"))["id"] == "other"
        assert [m for m in other.log if m["t"] == "event"] == []
    assert seq_of(room.meeting) == before


@pytest.mark.asyncio
@pytest.mark.parametrize("codec", CODECS)
async def test_unknown_fields_are_ignored(shared_server: Server, codec: str) -> None:
    room = make_room(shared_server)
    async with connect_peer(shared_server, room, "d1", codec) as d1:
        await d1.send(
            {"t": "cmd", "id": "u-1", "name": "chat.send", "future": [1, {"x": None}],
             "args": {"to": "all", "text": "hi", "colour": "blue"}}
        )  # fmt: skip
        ack = await d1.next("ack")
        assert ack["id"] == "u-1"
        event = next(m for m in d1.log if m["t"] == "event")
        assert event["data"]["text"] == "hi"
        await d1.send({"t": "ping", "id": 1, "extra": "x"})
        assert (await d1.next("pong"))["id"] == 1


# --- fuzz --------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["all", "chair", "speak", "point_of_order", "reply", "open", "p-3", "r-9"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=15,
)
NAMES = [
    "floor.request", "floor.withdraw", "floor.move", "floor.grant", "floor.release",
    "floor.extend", "floor.pause", "floor.unpause", "list.close", "list.open", "queue.clear",
    "mute.set", "mute.all", "chat.send", "chat.delete", "meeting.set_status",
    "settings.update", "seat.assign", "seat.request", "seat.release", "seat.mute",
]  # fmt: skip
ARG_NAMES = [
    "kind", "lang", "participant", "request", "position", "limit_s", "seconds", "muted",
    "except", "to", "text", "message", "status", "seat", "floor_mode", "default_limit_s",
]  # fmt: skip
messages = st.one_of(
    st.fixed_dictionaries(
        {
            "t": st.just("cmd"),
            "id": st.text(min_size=1, max_size=10) | values,
            "name": st.sampled_from(NAMES) | values,
            "args": st.dictionaries(st.sampled_from(ARG_NAMES), values, max_size=4) | values,
        }
    ),
    st.fixed_dictionaries({"t": st.sampled_from(["ping", "hello", "pong", "x"]), "id": values}),
    values,
)
frames = st.one_of(
    messages.map(lambda m: ("message", m)),
    st.binary(max_size=64).map(lambda b: ("raw", b)),
    st.text(max_size=64).map(lambda t: ("raw", t)),
)
ANSWERS = {"ack", "error", "pong"}


async def exchange(
    server: Server, room: Room, who: str, codec: str, sent: list[tuple[str, Any]]
) -> None:
    """Send the frames; each gets exactly one answer (ack, error, pong) or the connection
    is closed 1008 for a flood; then the server still serves this client and the others."""
    async with (
        connect_peer(server, room, "observer", "json") as bystander,
        connect_peer(server, room, who, codec) as peer,
    ):
        for kind, frame in sent:
            await peer.ws.send(peer.encode(frame) if kind == "message" else frame)
        answers: list[dict[str, Any]] = []
        closed: int | None = None
        try:
            while len(answers) < len(sent):
                message = await peer.recv()
                assert message["t"] in ANSWERS | {"event", "seats", "presence"}, message
                if message["t"] in ANSWERS:
                    answers.append(message)
        except ConnectionClosed as e:  # the only acceptable end: a flood closed 1008
            closed = close_code(e)
        if closed is None:
            await peer.send({"t": "ping", "id": "alive"})
            assert (await peer.next("pong"))["id"] == "alive"
        else:
            assert closed == 1008
            assert len([a for a in answers if a["t"] == "error"]) >= 20
        await bystander.send({"t": "ping", "id": "bystander"})
        assert (await bystander.next("pong"))["id"] == "bystander"


@given(
    who=st.sampled_from(["chair", "d1", "display", "device"]),
    codec=st.sampled_from(CODECS),
    sent=st.lists(frames, min_size=1, max_size=25),
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_fuzzed_frames_are_answered_or_closed_as_the_protocol_says(
    shared_server: Server, room: Room, who: str, codec: str, sent: list[tuple[str, Any]]
) -> None:
    asyncio.run(asyncio.wait_for(exchange(shared_server, room, who, codec, sent), 30))
    assert httpx.get(f"{shared_server.base}/healthz", timeout=5).status_code == 200


def test_the_fuzzed_meeting_still_folds_to_its_state(shared_server: Server, room: Room) -> None:
    """After everything above, a fresh welcome agrees with the API (nothing was corrupted)."""

    async def check() -> None:
        async with connect_peer(shared_server, room, "chair", "msgpack") as chair:
            api = room.meeting.state()
            state = dict(chair.welcome["state"])
            api_state = dict(api["state"])
            state.pop("presence")
            api_state.pop("presence")
            assert chair.welcome["seq"] == api["seq"]
            assert state == api_state

    asyncio.run(check())
