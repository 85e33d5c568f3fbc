"""The baseline: the raw limit of the Python websocket stack, speaking enough of protocol v1.

`python -m loadtests.baseline --port P [--mode direct|broadcast]` serves `/ws` with the
`websockets` library's own asyncio server (no ASGI, no Starlette, no log, no rules) and
answers the load generator exactly as Floor would, so both are measured by the same
clients in the same run:

- `hello` → a `welcome` (JSON or msgpack, by subprotocol; `resume` honoured from a ring
  of recent events, in the same frame, as Floor does);
- any `cmd` → an `event` with the next seq (`chat.send` → `chat.posted`, any other name →
  its name + "ed", the args as data, ~ the size of Floor's), sent to every connection,
  then an `ack` to the sender.

`direct` (the default) builds the event's frame once per codec and writes those bytes to
each connection's transport: a pre-framed broadcast. `broadcast` uses
`websockets.broadcast()`, which frames per connection. Neither bounds a slow client's
buffer (Floor does: 4008). Nothing is durable: this is the stack's limit, not a server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import signal
import time
import traceback
from collections import deque
from typing import Any

import msgpack
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

JSON = "floor.v1.json"
MSGPACK = "floor.v1.msgpack"
RING = 20_000


def _json(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


class Baseline:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.epoch = secrets.token_urlsafe(8)
        self.seq = 0
        self.ring: deque[tuple[int, bytes, bytes]] = deque(maxlen=RING)
        self.connections: dict[ServerConnection, str] = {}
        self.frames = 0

    def _event(self, name: str, by: str, args: dict[str, Any]) -> tuple[bytes, bytes]:
        self.seq += 1
        now = time.time_ns() // 1_000_000
        event_name = "chat.posted" if name == "chat.send" else name + "ed"
        data = {"message": f"x-{self.seq}", "from": by, **args, "at": now}
        message = {"t": "event", "seq": self.seq, "at": now, "by": by, "name": event_name}
        message["data"] = data
        encoded = (_json(message), msgpack.packb(message))
        self.ring.append((self.seq, *encoded))
        return encoded

    def fan_out(self, as_json: bytes, as_msgpack: bytes) -> None:
        if self.mode == "broadcast":
            json_text = as_json.decode()
            broadcast([c for c, p in self.connections.items() if p == JSON], json_text)
            broadcast([c for c, p in self.connections.items() if p == MSGPACK], as_msgpack)
            return
        frames = {
            JSON: Frame(Opcode.TEXT, as_json).serialize(mask=False),
            MSGPACK: Frame(Opcode.BINARY, as_msgpack).serialize(mask=False),
        }
        for connection, protocol in self.connections.items():
            try:  # noqa: SIM105 - cheaper than suppress() in the hot loop
                connection.transport.write(frames[protocol])
            except RuntimeError:  # closing (write_eof done); its handler removes it
                pass

    async def handler(self, connection: ServerConnection) -> None:
        protocol = connection.subprotocol or JSON
        binary = protocol == MSGPACK

        def encode(message: dict[str, Any]) -> bytes:
            return msgpack.packb(message) if binary else _json(message)

        def decode(data: str | bytes) -> dict[str, Any]:
            value: dict[str, Any] = msgpack.unpackb(data) if binary else json.loads(data)
            return value

        async def send(parts: list[bytes]) -> None:
            payload = b"".join(parts) if binary else b"\n".join(parts)
            await connection.send(payload if binary else payload.decode())

        try:
            hello = decode(await connection.recv())
            who = f"p-{str(hello.get('token', ''))[:6]}"
            welcome: dict[str, Any] = {
                "t": "welcome",
                "v": 1,
                "session": secrets.token_urlsafe(12),
                "meeting": "m-baseline",
                "epoch": self.epoch,
                "seq": self.seq,
                "now": time.time_ns() // 1_000_000,
                "you": {"participant": who, "role": "delegate"},
            }
            resume = hello.get("resume")
            parts: list[bytes]
            if (
                isinstance(resume, dict)
                and resume.get("epoch") == self.epoch
                and self.ring
                and self.ring[0][0] <= int(resume["seq"]) + 1
            ):
                welcome["seq"] = int(resume["seq"])
                welcome["resumed"] = True
                parts = [encode(welcome)]
                parts.extend(e[2 if binary else 1] for e in self.ring if e[0] > welcome["seq"])
            else:
                welcome["state"] = {}
                parts = [encode(welcome)]
            await send(parts)  # nothing runs between the welcome and the subscription
            self.connections[connection] = protocol
            async for data in connection:
                message = decode(data)
                if message.get("t") != "cmd":
                    continue
                args = message.get("args") or {}
                self.fan_out(*self._event(str(message.get("name")), who, args))
                ack = {"t": "ack", "id": message.get("id"), "seq": self.seq}
                with contextlib.suppress(RuntimeError):
                    connection.transport.write(
                        Frame(Opcode.BINARY if binary else Opcode.TEXT, encode(ack)).serialize(
                            mask=False
                        )
                    )
        except ConnectionClosed:
            pass
        except Exception:
            traceback.print_exc()
            raise
        finally:
            self.connections.pop(connection, None)


async def main(port: int, mode: str) -> None:
    baseline = Baseline(mode)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        baseline.handler,
        "127.0.0.1",
        port,
        subprotocols=[JSON, MSGPACK],  # type: ignore[list-item]
        compression=None,
        max_size=64 * 1024,
        ping_interval=20,
        ping_timeout=20,
        backlog=4096,
    ):
        print(f"baseline listening on 127.0.0.1:{port} ({mode})", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("direct", "broadcast"), default="direct")
    options = parser.parse_args()
    asyncio.run(main(options.port, options.mode))
