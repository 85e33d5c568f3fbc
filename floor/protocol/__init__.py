"""The wire of protocol v1, pure and Sans-I/O: no sockets, no asyncio, no clock.

- `codecs`: the two encodings (JSON, MessagePack) and websocket frames built once for
  many clients;
- `messages`: every outgoing message's fields, in one place;
- `session`: one connection's protocol both ways — client frames in → actions (`Hello`,
  `Submit`, `Reply`, `Close`); outgoing messages → frames; `Resume`;
- `close`: the close codes (`CloseCode`);
- `limits`: the per-connection protections.

Imports only the standard library, msgpack and `floor.state` (a test checks it). The
I/O drivers that move these bytes are in `floor.transport`; the meeting host, which
decides what goes to whom, is in `floor.host`.
"""

from floor.protocol.close import CloseCode
from floor.protocol.codecs import CODECS, JSON, MSGPACK, BadFrame, Codec
from floor.protocol.limits import Limits
from floor.protocol.session import Close, Hello, Reply, Resume, Session, Submit

__all__ = [
    "CODECS",
    "JSON",
    "MSGPACK",
    "BadFrame",
    "Close",
    "CloseCode",
    "Codec",
    "Hello",
    "Limits",
    "Reply",
    "Resume",
    "Session",
    "Submit",
]
