"""The two encodings of protocol v1, and websocket frames built once for many clients.

- `floor.v1.json`: text frames, one JSON document per message; a frame of several
  messages separates them with `\\n` (JSON never holds a raw newline).
- `floor.v1.msgpack`: binary frames, MessagePack; a frame of several messages is the
  objects one after another (a msgpack stream is self-delimiting).

`Codec.frame(parts)` returns a complete, unmasked server websocket frame (header and
payload) ready to write to any connection's transport: an event is encoded once per
codec and audience and the same bytes go to every connection (ARCHITECTURE law 4).

Decoding a client frame returns the message (a map with a string `t`) or raises
`BadFrame`; it never raises anything else.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import msgpack

JSON_SUBPROTOCOL: Final = "floor.v1.json"
MSGPACK_SUBPROTOCOL: Final = "floor.v1.msgpack"

Message = Mapping[str, Any]


class BadFrame(Exception):
    """A client frame that is not a protocol message (undecodable, not a map, no `t`)."""


TEXT: Final = 0x1
BINARY: Final = 0x2


def server_frame(opcode: int, payload: bytes) -> bytes:
    """One complete, final, unmasked websocket frame (RFC 6455 section 5.2), as a server
    sends it: FIN and the opcode, the payload length (7 bits, or 16 or 64 more), the payload."""
    size = len(payload)
    if size < 126:
        header = bytes((0x80 | opcode, size))
    elif size < 1 << 16:
        header = bytes((0x80 | opcode, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 127)) + size.to_bytes(8, "big")
    return header + payload


class Codec:
    """One encoding. Stateless; one instance of each is shared by all connections."""

    name: str
    binary: bool
    _opcode: int

    def encode(self, message: Message) -> bytes:
        """One message, as the bytes of one document of a frame."""
        raise NotImplementedError

    def join(self, parts: Sequence[bytes]) -> bytes:
        raise NotImplementedError

    def frame(self, parts: Sequence[bytes]) -> bytes:
        """A complete websocket frame carrying the encoded messages, in order."""
        return server_frame(self._opcode, self.join(parts))

    def frame_of(self, *messages: Message) -> bytes:
        return self.frame([self.encode(m) for m in messages])

    def decode(self, data: str | bytes) -> dict[str, Any]:
        """A client message from a frame's payload. Raises BadFrame."""
        raise NotImplementedError

    def splice(self, head: Message, key: str, encoded_value: bytes) -> bytes:
        """The encoding of `{**head, key: value}` where `value` is already encoded.

        Lets a large shared part (a welcome's `state`) be encoded once for many clients.
        """
        raise NotImplementedError


def _checked(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadFrame("A message must be a map.")
    if not isinstance(value.get("t"), str):
        raise BadFrame("A message must have a string `t`.")
    return value


_ESCAPED_SURROGATE: Final = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:20]} is out of range")
    return number


def _has_lone_surrogate(value: object) -> bool:
    """Whether a decoded JSON value holds a string that cannot be encoded as UTF-8
    (an escaped lone surrogate, `\\ud800`): echoed or stored, it would fail to encode."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def load_json(data: str) -> Any:
    """A JSON document that Floor can store and echo: no NaN or infinity, no number out of
    range, no lone surrogate in a string. Raises BadFrame (the admin API's bodies too)."""
    try:
        value = json.loads(data, parse_constant=_no_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as e:
        raise BadFrame(f"Not JSON: {str(e)[:100]}") from None
    if _ESCAPED_SURROGATE.search(data) and _has_lone_surrogate(value):
        raise BadFrame("Not JSON: a string holds a lone surrogate (not Unicode text).")
    return value


class JsonCodec(Codec):
    name = JSON_SUBPROTOCOL
    binary = False
    _opcode = TEXT

    def encode(self, message: Message) -> bytes:
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()

    def join(self, parts: Sequence[bytes]) -> bytes:
        return b"\n".join(parts)

    def decode(self, data: str | bytes) -> dict[str, Any]:
        if not isinstance(data, str):
            raise BadFrame("This connection speaks JSON in text frames.")
        return _checked(load_json(data))

    def splice(self, head: Message, key: str, encoded_value: bytes) -> bytes:
        start = self.encode(head)
        assert start.endswith(b"}")
        separator = b"," if len(head) else b""
        return start[:-1] + separator + self.encode_key(key) + b":" + encoded_value + b"}"

    @staticmethod
    def encode_key(key: str) -> bytes:
        return json.dumps(key).encode()


def _pack(value: object) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


class MsgpackCodec(Codec):
    name = MSGPACK_SUBPROTOCOL
    binary = True
    _opcode = BINARY

    def encode(self, message: Message) -> bytes:
        return _pack(message)

    def join(self, parts: Sequence[bytes]) -> bytes:
        return b"".join(parts)

    def decode(self, data: str | bytes) -> dict[str, Any]:
        if not isinstance(data, bytes):
            raise BadFrame("This connection speaks MessagePack in binary frames.")
        try:
            value = msgpack.unpackb(data, raw=False, strict_map_key=True)
        except (ValueError, TypeError, msgpack.ExtraData, msgpack.StackError) as e:
            raise BadFrame(f"Not MessagePack: {type(e).__name__}") from None
        except Exception as e:  # msgpack raises a few undocumented kinds on garbage
            raise BadFrame(f"Not MessagePack: {type(e).__name__}") from None
        return _checked(value)

    def splice(self, head: Message, key: str, encoded_value: bytes) -> bytes:
        size = len(head) + 1
        if size < 16:
            header = bytes([0x80 | size])
        elif size < 2**16:
            header = b"\xde" + size.to_bytes(2, "big")
        else:  # pragma: no cover - a message head is never that large
            header = b"\xdf" + size.to_bytes(4, "big")
        body = b"".join(_pack(k) + _pack(v) for k, v in head.items())
        return header + body + _pack(key) + encoded_value


JSON: Final = JsonCodec()
MSGPACK: Final = MsgpackCodec()
CODECS: Final = {JSON.name: JSON, MSGPACK.name: MSGPACK}


def choose(offered: Sequence[str]) -> Codec | None:
    """The codec for the offered subprotocols: the first we speak; JSON when none offered.

    None when only subprotocols we do not speak were offered.
    """
    if not offered:
        return JSON
    for name in offered:
        if name in CODECS:
            return CODECS[name]
    return None
