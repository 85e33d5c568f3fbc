"""The two codecs: frames built once for many clients, splicing, and decoding client frames."""

from __future__ import annotations

import json
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.frames import Opcode

from floor.protocol import codecs
from floor.protocol.codecs import JSON, MSGPACK, BadFrame, Codec
from tests.frames import parse_frame

BOTH = pytest.mark.parametrize("codec", [JSON, MSGPACK], ids=["json", "msgpack"])


def messages_of(codec: Codec, payload: bytes) -> list[Any]:
    """Every message of a server frame's payload, as PROTOCOL.md section 1 says to read it."""
    if codec is JSON:
        return [json.loads(line) for line in payload.decode().split("\n")]
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(payload)
    return list(unpacker)


def encoded(codec: Codec, value: Any) -> bytes:
    if codec is JSON:
        return json.dumps(value).encode()
    packed: bytes = msgpack.packb(value)
    return packed


def client_payload(codec: Codec, value: Any) -> str | bytes:
    """What a client of this codec sends for `value`."""
    return encoded(codec, value).decode() if codec is JSON else encoded(codec, value)


@BOTH
def test_frame_is_one_unmasked_websocket_frame_of_the_codecs_opcode(codec: Codec) -> None:
    frame = parse_frame(codec.frame_of({"t": "pong", "id": "x", "now": 1}))
    assert frame.fin
    assert frame.opcode is (Opcode.BINARY if codec.binary else Opcode.TEXT)
    assert messages_of(codec, frame.data) == [{"t": "pong", "id": "x", "now": 1}]


@BOTH
@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_frame_length_encodings_parse_back(codec: Codec, size: int) -> None:
    message = {"t": "event", "data": {"text": "é" * (size // 2)}}
    frame = parse_frame(codec.frame_of(message))
    assert messages_of(codec, frame.data) == [message]


@BOTH
def test_a_frame_carries_several_messages_in_order(codec: Codec) -> None:
    sent = [{"t": "event", "seq": i, "data": {"text": f"line\n{i}"}} for i in range(1, 6)]
    frame = parse_frame(codec.frame([codec.encode(m) for m in sent]))
    assert messages_of(codec, frame.data) == sent


def test_json_frames_hold_one_document_per_line_even_with_newlines_in_strings() -> None:
    sent = [{"t": "chat", "text": "a\nb\r\n\u2028c"}, {"t": "x"}]
    payload = parse_frame(JSON.frame([JSON.encode(m) for m in sent])).data
    lines = payload.split(b"\n")
    assert len(lines) == 2
    assert [json.loads(line) for line in lines] == sent


def test_json_is_utf8_text() -> None:
    frame = parse_frame(JSON.frame_of({"t": "x", "text": "مرحبا 你好"}))
    assert frame.opcode is Opcode.TEXT
    assert "مرحبا 你好".encode() in frame.data


@BOTH
@pytest.mark.parametrize(
    "head",
    [
        {},
        {"t": "welcome"},
        {"t": "welcome", "v": 1, "session": "s", "seq": 57, "now": 1764150000123},
        {f"k{i}": i for i in range(20)},  # a msgpack map16 header
        {"t": "welcome", "you": {"participant": "p-7", "role": "delegate"}, "x": None},
    ],
)
def test_splice_equals_encoding_the_whole_map(codec: Codec, head: dict[str, Any]) -> None:
    value = {"meeting": {"id": "m-1", "title": "Tïtle"}, "queue": [1, 2.5, None, True]}
    spliced = codec.splice(head, "state", codec.encode(value))
    assert messages_of(codec, spliced) == [{**head, "state": value}]
    if codec is JSON:
        assert spliced == codec.encode({**head, "state": value})


@BOTH
@given(
    head=st.dictionaries(
        st.text(max_size=8).filter(lambda k: k != "state"),
        st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=20),
        max_size=20,
    ),
    value=st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=12,
    ),
)
@settings(max_examples=150, deadline=None)
def test_splice_equals_encoding_the_whole_map_for_any_map(
    codec: Codec, head: dict[str, Any], value: Any
) -> None:
    spliced = codec.splice(head, "state", codec.encode(value))
    assert messages_of(codec, spliced) == [{**head, "state": value}]


@BOTH
def test_decode_returns_the_message(codec: Codec) -> None:
    message = {"t": "cmd", "id": "c-1", "name": "chat.send", "args": {"to": "all", "text": "x"}}
    assert codec.decode(client_payload(codec, message)) == message


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "not json",
        "{",
        '{"t":"x"} {"t":"y"}',
        "[]",
        "42",
        "null",
        '"hello"',
        "{}",
        '{"t":1}',
        '{"t":null}',
        '{"T":"hello"}',
        "\ud800",
        "NaN",
    ],
)
def test_json_decode_errors_are_bad_frames(payload: str) -> None:
    with pytest.raises(BadFrame):
        JSON.decode(payload)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\xc1",  # never used
        b"\x81",  # a map with its entry missing
        b"\x81\xa1t",  # a key without a value
        msgpack.packb([1, 2]),
        msgpack.packb(7),
        msgpack.packb({"t": 1}),
        msgpack.packb({1: "x", "t": "ping"}),  # a non-string key
        msgpack.packb({b"t": b"ping"}),  # bytes, not a string
        msgpack.packb({"t": "x"}) + msgpack.packb({"t": "y"}),  # two messages in one frame
        b"\xdd\xff\xff\xff\xff",  # an array claiming 4 billion items
        b"\xdf\xff\xff\xff\xff",  # a map claiming 4 billion entries
        b"\xdb\xff\xff\xff\xff",  # a string claiming 4 GiB
        b"\xa3\xff\xfe\xfd",  # invalid UTF-8
        b"\xd4\x01\x00",  # an ext type
        b"\xd6\xff\x00\x00\x00\x00",  # a timestamp ext
    ],
)
def test_msgpack_decode_errors_are_bad_frames(payload: bytes) -> None:
    with pytest.raises(BadFrame):
        MSGPACK.decode(payload)


def test_a_binary_frame_on_json_is_a_bad_frame() -> None:
    with pytest.raises(BadFrame, match="text"):
        JSON.decode(b'{"t":"ping"}')


def test_a_text_frame_on_msgpack_is_a_bad_frame() -> None:
    with pytest.raises(BadFrame, match="binary"):
        MSGPACK.decode('{"t":"ping"}')


def test_deeply_nested_json_is_a_bad_frame_not_a_crash() -> None:
    with pytest.raises(BadFrame):
        JSON.decode("[" * 100_000 + "]" * 100_000)
    with pytest.raises(BadFrame):
        JSON.decode('{"t":"cmd","args":' + '{"a":' * 100_000 + "1" + "}" * 100_001)


def test_deeply_nested_msgpack_is_a_bad_frame_not_a_crash() -> None:
    with pytest.raises(BadFrame):
        MSGPACK.decode(b"\x91" * 100_000 + b"\xc0")
    nested_map = b"\x82\xa1t\xa3cmd\xa4args" + b"\x81\xa1a" * 100_000 + b"\xc0"
    with pytest.raises(BadFrame):
        MSGPACK.decode(nested_map)


def test_moderately_nested_arguments_still_decode() -> None:
    args: Any = 1
    for _ in range(50):
        args = {"a": args}
    message = {"t": "cmd", "args": args}
    assert JSON.decode(json.dumps(message)) == message
    assert MSGPACK.decode(msgpack.packb(message)) == message


@given(st.binary(max_size=200))
@settings(max_examples=300)
def test_msgpack_decode_of_any_bytes_is_a_message_or_bad_frame(data: bytes) -> None:
    try:
        message = MSGPACK.decode(data)
    except BadFrame:
        return
    assert isinstance(message, dict)
    assert isinstance(message["t"], str)


@given(st.text(max_size=200))
@settings(max_examples=300)
def test_json_decode_of_any_text_is_a_message_or_bad_frame(data: str) -> None:
    try:
        message = JSON.decode(data)
    except BadFrame:
        return
    assert isinstance(message, dict)
    assert isinstance(message["t"], str)


def test_choose_picks_the_first_spoken_subprotocol_and_json_by_default() -> None:
    assert codecs.choose([]) is JSON
    assert codecs.choose(["floor.v1.msgpack"]) is MSGPACK
    assert codecs.choose(["floor.v2", "floor.v1.json", "floor.v1.msgpack"]) is JSON
    assert codecs.choose(["chat", "floor.v2"]) is None
