"""The Sans-I/O per-connection protocol: client frames in, one action out, no sockets."""

from __future__ import annotations

import json
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from floor.protocol.codecs import JSON, MSGPACK, Codec
from floor.protocol.limits import Limits
from floor.protocol.session import Close, Hello, Phase, Reply, Resume, Session, Submit
from floor.state import commands as cmd
from floor.state import parsing
from floor.state.model import Kind

BOTH = pytest.mark.parametrize("codec", [JSON, MSGPACK], ids=["json", "msgpack"])
LIMITS = Limits()
T0 = 1000.0
EPOCH_MS = 1764150000123


def wire(codec: Codec, message: Any) -> str | bytes:
    """What a client of `codec` sends for `message` (any value, not only maps)."""
    if codec is JSON:
        return json.dumps(message)
    packed: bytes = msgpack.packb(message)
    return packed


def ready(codec: Codec, limits: Limits = LIMITS) -> Session:
    session = Session(codec, limits, T0)
    assert isinstance(session.hello(wire(codec, {"t": "hello", "v": 1, "token": "tok"})), Hello)
    assert session.phase is Phase.READY
    return session


def receive(session: Session, message: Any, now: float = T0) -> Any:
    return session.receive(wire(session.codec, message), now, EPOCH_MS)


def error_of(action: object) -> dict[str, Any]:
    assert isinstance(action, Reply), action
    assert action.message["t"] == "error", action
    assert isinstance(action.message["message"], str)
    return action.message


# --- hello ---------------------------------------------------------------------------------


@BOTH
def test_a_valid_hello_without_resume(codec: Codec) -> None:
    session = Session(codec, LIMITS, T0)
    action = session.hello(
        wire(codec, {"t": "hello", "v": 1, "token": "secret", "client": "acme-bridge/2.1"})
    )
    assert action == Hello("secret", None, "acme-bridge/2.1")
    assert session.phase is Phase.READY


@BOTH
def test_a_valid_hello_with_resume(codec: Codec) -> None:
    session = Session(codec, LIMITS, T0)
    hello = {"t": "hello", "v": 1, "token": "secret", "resume": {"epoch": "e-1", "seq": 41}}
    assert session.hello(wire(codec, hello)) == Hello("secret", Resume("e-1", 41), None)


@BOTH
def test_a_hello_may_carry_unknown_fields_and_resume_from_zero(codec: Codec) -> None:
    hello = {"t": "hello", "v": 1, "token": "s", "resume": {"epoch": "e", "seq": 0}, "x": [1]}
    assert Session(codec, LIMITS, T0).hello(wire(codec, hello)) == Hello("s", Resume("e", 0), None)


HELLO = {"t": "hello", "v": 1, "token": "secret"}
BAD_HELLOS: list[tuple[str, Any]] = [
    ("a command first", {"t": "cmd", "id": "c-1", "name": "list.close", "args": {}}),
    ("a ping first", {"t": "ping", "id": 1}),
    ("not a map", ["hello", 1, "secret"]),
    ("a string", "hello"),
    ("no t", {"v": 1, "token": "secret"}),
    ("t not a string", {**HELLO, "t": 1}),
    ("no v", {"t": "hello", "token": "secret"}),
    ("v 2", {**HELLO, "v": 2}),
    ("v 0", {**HELLO, "v": 0}),
    ("v true", {**HELLO, "v": True}),
    ("v '1'", {**HELLO, "v": "1"}),
    ("v null", {**HELLO, "v": None}),
    ("v list", {**HELLO, "v": [1]}),
    ("no token", {"t": "hello", "v": 1}),
    ("token null", {**HELLO, "token": None}),
    ("token int", {**HELLO, "token": 12345}),
    ("token list", {**HELLO, "token": ["secret"]}),
    ("token map", {**HELLO, "token": {"token": "secret"}}),
    ("token bool", {**HELLO, "token": True}),
    ("token empty", {**HELLO, "token": ""}),
    ("token too long", {**HELLO, "token": "x" * 257}),
    ("client int", {**HELLO, "client": 7}),
    ("client too long", {**HELLO, "client": "x" * 201}),
    ("resume a string", {**HELLO, "resume": "e-1:41"}),
    ("resume a list", {**HELLO, "resume": ["e-1", 41]}),
    ("resume empty", {**HELLO, "resume": {}}),
    ("resume without seq", {**HELLO, "resume": {"epoch": "e-1"}}),
    ("resume without epoch", {**HELLO, "resume": {"seq": 41}}),
    ("resume seq negative", {**HELLO, "resume": {"epoch": "e-1", "seq": -1}}),
    ("resume seq string", {**HELLO, "resume": {"epoch": "e-1", "seq": "41"}}),
    ("resume seq float", {**HELLO, "resume": {"epoch": "e-1", "seq": 41.5}}),
    ("resume seq bool", {**HELLO, "resume": {"epoch": "e-1", "seq": True}}),
    ("resume epoch int", {**HELLO, "resume": {"epoch": 1, "seq": 41}}),
    ("resume epoch too long", {**HELLO, "resume": {"epoch": "e" * 257, "seq": 41}}),
]


@BOTH
@pytest.mark.parametrize(("why", "hello"), BAD_HELLOS, ids=[why for why, _ in BAD_HELLOS])
def test_a_bad_hello_closes_4000(codec: Codec, why: str, hello: Any) -> None:
    session = Session(codec, LIMITS, T0)
    action = session.hello(wire(codec, hello))
    assert isinstance(action, Close), why
    assert action.code == 4000
    assert session.phase is Phase.CLOSED


@pytest.mark.parametrize(
    ("codec", "payload"),
    [
        (JSON, ""),
        (JSON, "{not json"),
        (JSON, b'{"t":"hello","v":1,"token":"secret"}'),  # binary on JSON
        (MSGPACK, b"\xc1"),
        (MSGPACK, '{"t":"hello","v":1,"token":"secret"}'),  # text on msgpack
        (MSGPACK, b""),
    ],
    ids=["json-empty", "json-garbage", "json-binary", "msgpack-garbage", "msgpack-text", "empty"],
)
def test_an_undecodable_hello_closes_4000(codec: Codec, payload: str | bytes) -> None:
    action = Session(codec, LIMITS, T0).hello(payload)
    assert isinstance(action, Close)
    assert action.code == 4000


# --- commands ------------------------------------------------------------------------------


@BOTH
def test_a_valid_command_is_submitted_with_its_id(codec: Codec) -> None:
    session = ready(codec)
    action = receive(
        session,
        {
            "t": "cmd",
            "id": "c-19",
            "name": "floor.request",
            "args": {"kind": "reply", "lang": "fr"},
        },
    )
    assert action == Submit(cmd.RequestFloor(kind=Kind.REPLY, lang="fr"), "c-19")


@BOTH
def test_args_may_be_left_out_and_unknown_fields_are_ignored(codec: Codec) -> None:
    session = ready(codec)
    action = receive(session, {"t": "cmd", "id": "c-1", "name": "list.close", "extra": {"x": 1}})
    assert action == Submit(cmd.CloseList(), "c-1")
    action = receive(
        session,
        {"t": "cmd", "id": "c-2", "name": "chat.send", "args": {"to": "all", "text": "hi", "z": 1}},
    )
    assert action == Submit(cmd.SendChat(to="all", text="hi"), "c-2")


@BOTH
@pytest.mark.parametrize("command_id", ["c", "x" * 64, "é" * 64, "🎤"])
def test_command_ids_of_1_to_64_characters_are_accepted(codec: Codec, command_id: str) -> None:
    action = receive(ready(codec), {"t": "cmd", "id": command_id, "name": "list.open"})
    assert action == Submit(cmd.OpenList(), command_id)


@BOTH
@pytest.mark.parametrize(
    "command_id", [None, "", "x" * 65, 19, 1.5, True, ["c-1"], {"id": "c-1"}], ids=repr
)
def test_a_command_without_a_valid_id_is_a_bad_message(codec: Codec, command_id: Any) -> None:
    message: dict[str, Any] = {"t": "cmd", "name": "list.open", "args": {}}
    if command_id is not None:
        message["id"] = command_id
    error = error_of(receive(ready(codec), message))
    assert error["code"] == "bad_message"
    assert "id" not in error


@BOTH
@pytest.mark.parametrize(
    ("name", "args", "code", "field"),
    [
        ("floor.fly", {}, "unknown_command", None),
        (None, {}, "unknown_command", None),
        (7, {}, "unknown_command", None),
        ("expire", {}, "unknown_command", None),
        ("floor.expire", {}, "unknown_command", None),  # the system's, not a client's
        ("participant.add", {"name": "x"}, "unknown_command", None),  # the admin API's
        ("list.close", [], "invalid_args", "args"),
        ("list.close", "x", "invalid_args", "args"),
        ("floor.request", {"kind": "shout"}, "invalid_args", "kind"),
        ("floor.request", {"kind": 1}, "invalid_args", "kind"),
        ("floor.request", {"lang": "not a tag!"}, "invalid_args", "lang"),
        ("floor.request", {"participant": ""}, "invalid_args", "participant"),
        ("floor.move", {"position": 0}, "invalid_args", "request"),
        ("floor.move", {"request": "r-1"}, "invalid_args", "position"),
        ("floor.move", {"request": "r-1", "position": -1}, "invalid_args", "position"),
        ("floor.move", {"request": "r-1", "position": True}, "invalid_args", "position"),
        ("floor.grant", {"limit_s": "60"}, "invalid_args", "limit_s"),
        ("floor.grant", {"limit_s": 1.5}, "invalid_args", "limit_s"),
        ("floor.extend", {}, "invalid_args", "seconds"),
        ("floor.extend", {"seconds": 0}, "invalid_args", "seconds"),
        ("floor.extend", {"seconds": 3601}, "invalid_args", "seconds"),
        ("mute.set", {}, "invalid_args", "muted"),
        ("mute.set", {"muted": "yes"}, "invalid_args", "muted"),
        ("mute.all", {"except": "p-1"}, "invalid_args", "except"),
        ("mute.all", {"except": ["p-1", 2]}, "invalid_args", "except.1"),
        ("chat.send", {"to": "all"}, "invalid_args", "text"),
        ("chat.send", {"to": "all", "text": ""}, "invalid_args", "text"),
        ("chat.send", {"to": "all", "text": "x" * 2001}, "invalid_args", "text"),
        ("chat.send", {"text": "hi"}, "invalid_args", "to"),
        ("chat.delete", {}, "invalid_args", "message"),
        ("meeting.set_status", {"status": "adjourned"}, "invalid_args", "status"),
        ("meeting.set_status", {}, "invalid_args", "status"),
        ("settings.update", {"floor_mode": "random"}, "invalid_args", "floor_mode"),
        ("settings.update", {"default_limit_s": -1}, "invalid_args", "default_limit_s"),
        ("settings.update", {"cut_at_limit": 1}, "invalid_args", "cut_at_limit"),
        ("seat.assign", {"participant": "p-1"}, "invalid_args", "seat"),
        ("seat.request", {"seat": 12}, "invalid_args", "seat"),
        ("seat.mute", {"seat": "A1"}, "invalid_args", "muted"),
    ],
)
def test_a_bad_command_is_answered_with_its_id_code_and_field(
    codec: Codec, name: Any, args: Any, code: str, field: str | None
) -> None:
    error = error_of(receive(ready(codec), {"t": "cmd", "id": "c-7", "name": name, "args": args}))
    assert error["id"] == "c-7"
    assert error["code"] == code
    assert error.get("field") == field


def test_chat_text_is_counted_in_code_points() -> None:
    text = "🎤" * 2000  # 2000 code points, 4000 UTF-16 units, 8000 bytes
    action = receive(
        ready(JSON),
        {"t": "cmd", "id": "c", "name": "chat.send", "args": {"to": "all", "text": text}},
    )
    assert action == Submit(cmd.SendChat(to="all", text=text), "c")


# --- other messages ------------------------------------------------------------------------


@BOTH
@pytest.mark.parametrize("ping_id", ["p-1", 42, None])
def test_ping_is_answered_with_pong_and_the_server_time(codec: Codec, ping_id: Any) -> None:
    action = receive(ready(codec), {"t": "ping", "id": ping_id})
    assert action == Reply({"t": "pong", "id": ping_id, "now": EPOCH_MS})


@BOTH
@pytest.mark.parametrize(
    "kind", ["hello", "welcome", "event", "ack", "pong", "", "PING", "x" * 1000]
)
def test_an_unknown_message_type_is_a_bad_message(codec: Codec, kind: str) -> None:
    error = error_of(receive(ready(codec), {"t": kind, "id": "c-1"}))
    assert error["code"] == "bad_message"
    assert len(error["message"]) < 200


@BOTH
@pytest.mark.parametrize(
    "value", [[], [1, 2], "cmd", 42, None, True, {}, {"t": 5}, {"type": "cmd"}]
)
def test_a_message_that_is_not_a_map_with_a_string_t_is_a_bad_message(
    codec: Codec, value: Any
) -> None:
    assert error_of(receive(ready(codec), value))["code"] == "bad_message"


def test_a_binary_frame_on_json_is_a_bad_message() -> None:
    action = ready(JSON).receive(b'{"t":"ping","id":1}', T0, EPOCH_MS)
    assert error_of(action)["code"] == "bad_message"


def test_a_text_frame_on_msgpack_is_a_bad_message() -> None:
    action = ready(MSGPACK).receive('{"t":"ping","id":1}', T0, EPOCH_MS)
    assert error_of(action)["code"] == "bad_message"


@pytest.mark.parametrize(
    ("codec", "payload"),
    [
        (JSON, "[" * 100_000 + "]" * 100_000),
        (JSON, '{"t":"cmd","id":"c","name":"chat.send","args":' + "[" * 100_000),
        (MSGPACK, b"\x91" * 100_000 + b"\xc0"),
        (MSGPACK, b"\x84\xa1t\xa3cmd\xa2id\xa1c\xa4name\xa4ping\xa4args" + b"\x91" * 100_000),
    ],
    ids=["json", "json-in-args", "msgpack", "msgpack-in-args"],
)
def test_deep_nesting_is_a_bad_message(codec: Codec, payload: str | bytes) -> None:
    assert error_of(ready(codec).receive(payload, T0, EPOCH_MS))["code"] == "bad_message"


# --- rate limits and floods ----------------------------------------------------------------


def limits(**overrides: Any) -> Limits:
    return Limits(**{"commands_per_s": 10.0, "command_burst": 5, **overrides})


def command(i: int) -> dict[str, Any]:
    return {"t": "cmd", "id": f"c-{i}", "name": "list.open"}


def test_commands_beyond_the_burst_are_rate_limited_with_their_id() -> None:
    session = ready(JSON, limits())
    assert all(isinstance(receive(session, command(i)), Submit) for i in range(5))
    error = error_of(receive(session, command(5)))
    assert error == {**error, "code": "rate_limited", "id": "c-5"}


def test_the_bucket_refills_at_the_configured_rate() -> None:
    session = ready(JSON, limits())
    for i in range(5):
        receive(session, command(i))
    assert error_of(receive(session, command(5), T0 + 0.05))["code"] == "rate_limited"
    assert isinstance(receive(session, command(6), T0 + 0.1), Submit)  # one token back
    assert error_of(receive(session, command(7), T0 + 0.1))["code"] == "rate_limited"
    # a long pause refills to the burst, no further
    later = T0 + 60
    assert all(isinstance(receive(session, command(i), later), Submit) for i in range(10, 15))
    assert error_of(receive(session, command(15), later))["code"] == "rate_limited"


def test_pings_take_from_the_same_bucket() -> None:
    session = ready(JSON, limits())
    for i in range(5):
        assert receive(session, {"t": "ping", "id": i}).message["t"] == "pong"
    assert error_of(receive(session, {"t": "ping", "id": 5}))["code"] == "rate_limited"
    assert error_of(receive(session, command(6)))["code"] == "rate_limited"


def test_a_steady_rate_under_the_limit_is_never_refused() -> None:
    session = ready(JSON, limits(bad_messages_per_10s=0))
    for i in range(1000):
        assert isinstance(receive(session, command(i), T0 + i * 0.1), Submit)


def test_a_clock_going_backwards_does_not_mint_tokens() -> None:
    session = ready(JSON, limits())
    for i in range(5):
        receive(session, command(i), T0)
    assert error_of(receive(session, command(5), T0 - 100))["code"] == "rate_limited"


@BOTH
def test_a_flood_of_bad_messages_closes_1008(codec: Codec) -> None:
    session = ready(codec, limits(bad_messages_per_10s=20))
    for _ in range(20):
        assert error_of(receive(session, {"t": "nonsense"}))["code"] == "bad_message"
    action = receive(session, {"t": "nonsense"})
    assert isinstance(action, Close)
    assert action.code == 1008
    assert session.phase is Phase.CLOSED


def test_rejected_commands_and_rate_limiting_count_towards_the_flood() -> None:
    session = ready(JSON, limits(bad_messages_per_10s=3, command_burst=2))
    bad = {"t": "cmd", "id": "c", "name": "nope"}
    assert error_of(receive(session, bad))["code"] == "unknown_command"
    assert isinstance(receive(session, command(0)), Submit)
    assert error_of(receive(session, command(1)))["code"] == "rate_limited"
    assert error_of(session.receive(b"\xff", T0, EPOCH_MS))["code"] == "bad_message"
    assert isinstance(receive(session, {"t": "x"}), Close)


def test_bad_messages_spread_over_time_are_forgiven() -> None:
    session = ready(JSON, limits(bad_messages_per_10s=20))
    for i in range(200):
        action = receive(session, {"t": "nonsense"}, T0 + i * 0.6)
        assert error_of(action)["code"] == "bad_message"


def test_good_messages_do_not_count_towards_the_flood() -> None:
    session = ready(JSON, Limits(bad_messages_per_10s=2, command_burst=10_000))
    for i in range(1000):
        assert isinstance(receive(session, command(i)), Submit)
    for i in range(2):
        error_of(receive(session, {"t": "x", "i": i}))
    assert isinstance(receive(session, {"t": "x"}), Close)


# --- fuzz ----------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["cmd", "ping", "hello", "all", "chair", "speak", "floor.request", "c-1"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.sampled_from(["t", "id", "name", "args", "kind", "to", "text", "seconds"])
            | st.text(max_size=8),
            inner,
            max_size=6,
        )
    ),
    max_leaves=25,
)
commands_like = st.fixed_dictionaries(
    {
        "t": st.sampled_from(["cmd", "ping"]) | st.text(max_size=5),
        "id": values,
        "name": st.sampled_from(sorted(parsing.WIRE_COMMANDS)) | values,
        "args": st.dictionaries(
            st.sampled_from(
                [
                    "kind",
                    "lang",
                    "participant",
                    "request",
                    "position",
                    "limit_s",
                    "seconds",
                    "muted",
                    "except",
                    "to",
                    "text",
                    "message",
                    "status",
                    "seat",
                    "floor_mode",
                ]
            ),
            values,
        )
        | values,
    }
)


@BOTH
@given(
    frames=st.lists(
        st.binary(max_size=100)
        | st.text(max_size=100)
        | values.map(lambda v: ("encoded", v))
        | commands_like.map(lambda v: ("encoded", v)),
        max_size=30,
    ),
    times=st.lists(st.floats(0, 5), min_size=30, max_size=30),
)
@settings(max_examples=200, deadline=None)
def test_receive_always_returns_an_action_and_never_raises(
    codec: Codec, frames: list[Any], times: list[float]
) -> None:
    session = ready(codec, Limits(bad_messages_per_10s=10))
    now = T0
    for frame, step in zip(frames, times, strict=False):
        now += step
        payload = wire(codec, frame[1]) if isinstance(frame, tuple) else frame
        action = session.receive(payload, now, EPOCH_MS)
        assert isinstance(action, Hello | Submit | Reply | Close)
        if isinstance(action, Reply):
            # every answer is encodable in the connection's codec
            assert codec.frame_of(action.message)
            assert action.message["t"] in ("error", "pong")
        if isinstance(action, Submit):
            assert 1 <= len(action.command_id) <= 64
        if isinstance(action, Close):
            assert action.code == 1008
            break


@BOTH
@given(payload=st.binary(max_size=200) | st.text(max_size=200) | values.map(lambda v: ("v", v)))
@settings(max_examples=200, deadline=None)
def test_hello_of_anything_is_hello_or_close_4000(codec: Codec, payload: Any) -> None:
    session = Session(codec, LIMITS, T0)
    data = wire(codec, payload[1]) if isinstance(payload, tuple) else payload
    action = session.hello(data)
    assert isinstance(action, Hello) or (isinstance(action, Close) and action.code == 4000)


@pytest.mark.parametrize(
    "payload",
    [
        '{"t":"\\ud800"}',
        '{"t":"cmd","id":"c-1","name":"chat.send","args":{"to":"all","text":"a\\udfffb"}}',
        '{"t":"cmd","id":"\\ud83c","name":"list.open"}',
        '{"t":"cmd","id":"c-1","name":"\\udc00"}',
        '{"t":"cmd","id":"c-1","name":"list.open","args":{"\\ud800":1}}',
        '{"t":"ping","id":"\\ud800"}',
    ],
)
def test_lone_surrogates_in_json_are_a_bad_message_that_can_be_answered(payload: str) -> None:
    action = ready(JSON).receive(payload, T0, EPOCH_MS)
    assert error_of(action)["code"] == "bad_message"
    JSON.frame_of(action.message)  # the answer itself is valid UTF-8


def test_escaped_surrogate_pairs_are_ordinary_text() -> None:
    payload = (
        '{"t":"cmd","id":"c-1","name":"chat.send","args":{"to":"all","text":"\\ud83c\\udfa4"}}'
    )
    assert ready(JSON).receive(payload, T0, EPOCH_MS) == Submit(
        cmd.SendChat(to="all", text="🎤"), "c-1"
    )


def test_a_literal_backslash_u_is_ordinary_text() -> None:
    payload = '{"t":"cmd","id":"c-1","name":"chat.send","args":{"to":"all","text":"\\\\ud800"}}'
    assert ready(JSON).receive(payload, T0, EPOCH_MS) == Submit(
        cmd.SendChat(to="all", text="\\ud800"), "c-1"
    )


@pytest.mark.parametrize(
    "payload",
    ['{"t":"ping","id":NaN}', '{"t":"ping","id":Infinity}', '{"t":"ping","id":-1e400}'],
)
def test_non_finite_numbers_are_not_json_and_never_echoed(payload: str) -> None:
    """A pong echoing NaN would not be JSON for the client."""
    action = ready(JSON).receive(payload, T0, EPOCH_MS)
    assert error_of(action)["code"] == "bad_message"
