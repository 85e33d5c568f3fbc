"""A lean protocol v1 client over a raw asyncio socket: the load generator's unit.

The `websockets` client costs tens of microseconds per frame (a task wake-up, a queue, a
future per `recv`); thousands of them on one core would be the bottleneck of the very
server they measure. So this client is an `asyncio.Protocol` with its own minimal
websocket framing: one callback per socket read, however many frames it holds.

What it checks, on every event it sees: `seq` strictly increases (no duplicate, no
reordering) and, for `strict` clients (who may see every event of the scenario), never
skips (no loss). The first violations are kept in `violations`. It records each event's
receipt time into a shared `Sink` (per-seq count, first and last receipt) and tracks the
answers (`ack`/`error`) to its own commands.

JSON events take a fast path (their seq is read from the bytes) unless the client `keep`s
its messages; a JSON welcome's `state` is never parsed unless kept (only its head).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack
from websockets.frames import Frame, Opcode

EVENT_PREFIX = b'{"t":"event","seq":'
WELCOME_PREFIX = b'{"t":"welcome"'
_SEQ = re.compile(rb'"seq":(\d+)')
_EVENT_LINE = b'\n{"t":"event","seq":'
_EVENT_SEQS = re.compile(rb'\{"t":"event","seq":(\d+)')
"""(Inside a JSON string its quotes would be escaped: it only matches a line's start.)"""
_EPOCH = re.compile(rb'"epoch":(null|"[^"]*")')


@dataclass
class Sink:
    """Receipts of one process's clients: per seq, [count, first time, last time].

    Single events are counted as they come; a frame's run of consecutive events is kept
    as one span (first seq, last seq, time) and spread over its seqs only when asked
    (`merged`): a batch of 1,000 events to 5,000 clients costs 5,000 spans, not 5
    million updates on the generator's one core."""

    recording: bool = False
    seqs: dict[int, list[float]] = field(default_factory=dict)
    spans: list[tuple[int, int, float]] = field(default_factory=list)
    frames: int = 0
    waiting: int | None = None
    waiting_expect: int = 0
    waiting_count: int = 0
    reached: asyncio.Event = field(default_factory=asyncio.Event)

    def clear(self) -> None:
        self.seqs.clear()
        self.spans.clear()
        self.frames = 0

    def event(self, seq: int, t: float) -> None:
        entry = self.seqs.get(seq)
        if entry is None:
            self.seqs[seq] = [1, t, t]
        else:
            entry[0] += 1
            entry[2] = t
        if seq == self.waiting:
            self._seen_waited(1)

    def span(self, first: int, last: int, t: float) -> None:
        self.spans.append((first, last, t))
        waiting = self.waiting
        if waiting is not None and first <= waiting <= last:
            self._seen_waited(1)

    def _seen_waited(self, n: int) -> None:
        self.waiting_count += n
        if self.waiting_count >= self.waiting_expect:
            self.reached.set()

    def count(self, seq: int) -> int:
        entry = self.seqs.get(seq)
        counted = 0 if entry is None else int(entry[0])
        return counted + sum(1 for a, b, _ in self.spans if a <= seq <= b)

    def merged(self) -> dict[int, list[float]]:
        merged = {seq: list(entry) for seq, entry in self.seqs.items()}
        for first, last, t in self.spans:
            for seq in range(first, last + 1):
                entry = merged.get(seq)
                if entry is None:
                    merged[seq] = [1, t, t]
                else:
                    entry[0] += 1
                    entry[1] = min(entry[1], t)
                    entry[2] = max(entry[2], t)
        return merged

    async def wait_count(self, seq: int, expect: int, timeout: float) -> bool:
        self.waiting_count = self.count(seq)
        if self.waiting_count >= expect:
            return True
        self.waiting, self.waiting_expect = seq, expect
        self.reached.clear()
        try:
            async with asyncio.timeout(timeout):
                while self.waiting_count < expect:
                    await self.reached.wait()
                    self.reached.clear()
            return True
        except TimeoutError:
            return False
        finally:
            self.waiting = None


@dataclass
class Answer:
    message: dict[str, Any]
    at: float


class Client:
    """One protocol v1 connection (and its reconnections), with its checks."""

    def __init__(
        self,
        host: str,
        port: int,
        token: str,
        *,
        codec: str = "json",
        sink: Sink | None = None,
        strict: bool = True,
        keep: bool = False,
        rcvbuf: int | None = None,
        sampled: bool = True,
    ) -> None:
        self.host, self.port, self.token, self.codec = host, port, token, codec
        self.sink = sink if sink is not None else Sink()
        self.strict, self.keep, self.rcvbuf = strict, keep, rcvbuf
        self.sampled = sampled
        """Check every seq of a batched frame (else its first, last and count)."""
        self.transport: asyncio.Transport | None = None
        self.epoch: str | None = None
        self.last_seq = -1
        self.events = 0
        self.violations: list[str] = []
        self.inbox: list[dict[str, Any]] = []
        self.welcome: dict[str, Any] = {}
        self.resumed = False
        self.close_code: int | None = None
        self.closes: list[int | None] = []
        self._buffer = bytearray()
        self._chunks: list[bytes] = []
        self._have = 0
        self._need = 0
        self._upgraded = False
        self._partial: bytearray | None = None
        self._partial_opcode = 0
        self._welcomed: asyncio.Future[None] | None = None
        self._upgrade: asyncio.Future[None] | None = None
        self._answers: dict[str, asyncio.Future[Answer]] = {}
        self._ids = 0
        self._unpacker = msgpack.Unpacker(raw=False, max_buffer_size=2**30)
        self.lost: asyncio.Future[None] | None = None

    # --- connecting ----------------------------------------------------------------------

    async def connect(self, resume: bool = False, timeout: float = 30.0) -> None:
        """Open the websocket, send hello (with resume when asked), wait for welcome."""
        loop = asyncio.get_running_loop()
        self._buffer.clear()
        self._chunks = []
        self._upgraded = False
        self._partial = None
        self.close_code = None
        self._unpacker = msgpack.Unpacker(raw=False, max_buffer_size=2**30)
        self._welcomed = loop.create_future()
        self._upgrade = loop.create_future()
        self.lost = loop.create_future()
        async with asyncio.timeout(timeout):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            if self.rcvbuf is not None:  # a slow reader's small window and segments, set
                # before connect: on loopback (64 KiB segments) the server's kernel send
                # buffer would otherwise start at megabytes and hide the server's own queue
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
            try:
                await loop.sock_connect(sock, (self.host, self.port))
            except BaseException:
                sock.close()
                raise
            await loop.create_connection(lambda: _Protocol(self), sock=sock)
            await self._upgrade
            hello: dict[str, Any] = {"t": "hello", "v": 1, "token": self.token}
            if resume and self.epoch is not None and self.last_seq >= 0:
                hello["resume"] = {"epoch": self.epoch, "seq": self.last_seq}
            self.send(hello)
            await self._welcomed

    def _made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET /ws HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: floor.v1.{self.codec}\r\n"
                "\r\n"
            ).encode()
        )

    def _lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.closes.append(self.close_code)
        for waiting in (self._upgrade, self._welcomed):
            if waiting is not None and not waiting.done():
                waiting.set_exception(ConnectionError(f"closed {self.close_code}: {exc}"))
        for future in self._answers.values():
            if not future.done():
                future.set_exception(ConnectionError("connection lost"))
        self._answers.clear()
        if self.lost is not None and not self.lost.done():
            self.lost.set_result(None)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._write(Opcode.CLOSE, (1000).to_bytes(2, "big"))
            self.transport.close()

    @property
    def connected(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    # --- sending -------------------------------------------------------------------------

    def _write(self, opcode: Opcode, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(Frame(opcode, payload).serialize(mask=True))

    def send(self, message: dict[str, Any]) -> None:
        if self.codec == "json":
            self._write(Opcode.TEXT, json.dumps(message, separators=(",", ":")).encode())
        else:
            self._write(Opcode.BINARY, msgpack.packb(message))

    def command(self, name: str, args: dict[str, Any] | None = None) -> asyncio.Future[Answer]:
        """Send a command; a future of its answer (`ack` or `error`) and when it came."""
        self._ids += 1
        command_id = f"c-{self._ids}"
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._answers[command_id] = future
        self.send({"t": "cmd", "id": command_id, "name": name, "args": args or {}})
        return future

    def pause(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def unpause(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    # --- receiving -----------------------------------------------------------------------

    def _data(self, data: bytes) -> None:
        now = time.monotonic()
        if self._chunks:  # the rest of a frame: joined once, when it is all here
            self._chunks.append(data)
            self._have += len(data)
            if self._have < self._need:
                return
            data = b"".join(self._chunks)
            self._chunks = []
        if not self._upgraded:
            buffer = self._buffer
            buffer += data
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            if b" 101 " not in status:
                self.violations.append(f"handshake refused: {status!r}")
                if self.transport is not None:
                    self.transport.abort()
                return
            data = bytes(buffer[end + 4 :])
            buffer.clear()
            self._upgraded = True
            if self._upgrade is not None and not self._upgrade.done():
                self._upgrade.set_result(None)
        self._frames(data, now)

    def _frames(self, data: bytes, now: float) -> None:
        """Every whole frame in `data`; the start of an incomplete one is kept."""
        size = len(data)
        offset = 0
        keep = self.keep
        need = 0
        while size - offset >= 2:
            first = data[offset]
            length = data[offset + 1] & 0x7F
            start = offset + 2
            if length == 126:
                if size - start < 2:
                    need = 4
                    break
                length = int.from_bytes(data[start : start + 2], "big")
                start += 2
            elif length == 127:
                if size - start < 8:
                    need = 10
                    break
                length = int.from_bytes(data[start : start + 8], "big")
                start += 8
            end = start + length
            if end > size:
                need = end - offset
                break
            if (
                first == 0x81
                and not keep
                and data.startswith(EVENT_PREFIX, start)
                and data.find(b"\n", start, end) < 0
            ):  # one JSON event: the generator's hot path
                self.sink.frames += 1
                self._event(int(data[start + 19 : data.index(44, start + 19)]), now, None)
            elif not (
                first == 0x81 and not keep and not self.sampled and self._run(data, start, end, now)
            ):
                self._frame(first & 0x80, first & 0x0F, data[start:end], now)
            offset = end
        if offset < size:
            self._chunks = [data[offset:]]
            self._have = size - offset
            self._need = max(need, self._have + 1)

    def _frame(self, fin: int, opcode: int, payload: bytes, now: float) -> None:
        if opcode == 0:  # continuation
            if self._partial is None:
                self.violations.append("continuation without a first frame")
                return
            self._partial += payload
            if not fin:
                return
            payload, opcode, self._partial = bytes(self._partial), self._partial_opcode, None
        elif opcode in (1, 2) and not fin:
            self._partial, self._partial_opcode = bytearray(payload), opcode
            return
        if opcode == 1 or opcode == 2:
            self.sink.frames += 1
            if opcode == 1:
                self._json(payload, now)
            else:
                self._msgpack(payload, now)
        elif opcode == 9:
            self._write(Opcode.PONG, payload)
        elif opcode == 8:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self._write(Opcode.CLOSE, payload[:2])
            if self.transport is not None:
                self.transport.close()

    def _run(self, data: bytes, start: int, end: int, now: float) -> bool:
        """A batched JSON frame, checked in place (no copy) as a run of consecutive events:
        first, last and count. The frame's bytes are the same for every client of a codec
        (encoded once), and the sampled clients check each seq in it."""
        if not data.startswith(EVENT_PREFIX, start):
            return False
        lines = data.count(b"\n", start, end) + 1
        if data.count(_EVENT_LINE, start, end) + 1 != lines:
            return False
        first = int(data[start + 19 : data.index(44, start + 19)])
        last = first
        if lines > 1:
            at = data.rindex(_EVENT_LINE, start, end) + len(_EVENT_LINE)
            last = int(data[at : data.index(44, at)])
        if last - first + 1 != lines:
            return False
        self.sink.frames += 1
        self._events([first, last] if lines > 1 else [first], now, lines)
        return True

    def _json(self, payload: bytes, now: float) -> None:
        if not self.keep and payload.startswith(EVENT_PREFIX) and 10 in payload:
            lines = payload.count(b"\n") + 1
            if self.sampled:  # a batch: when every line is an event, all seqs at C speed
                seqs = [int(s) for s in _EVENT_SEQS.findall(payload)]
                if len(seqs) == lines:
                    self._events(seqs, now)
                    return
            elif payload.count(_EVENT_LINE) + 1 == lines:
                # The frame's bytes are the same for every client of a codec (encoded
                # once): the sampled clients check each seq in it; the others check
                # that it holds the next run (first, last and count).
                first = int(payload[19 : payload.index(44, 19)])
                at = payload.rindex(_EVENT_LINE) + len(_EVENT_LINE)
                last = int(payload[at : payload.index(44, at)])
                if last - first + 1 == lines:
                    self._events([first, last] if lines > 1 else [first], now, lines)
                    return
        for line in payload.split(b"\n"):
            if not self.keep:
                if line.startswith(EVENT_PREFIX):
                    self._event(int(line[19 : line.index(b",", 19)]), now, None)
                    continue
                if line.startswith(WELCOME_PREFIX):
                    self._welcome_head(line[: line.find(b',"state":') % (len(line) + 1)])
                    continue
            self._message(json.loads(line), now)

    def _welcome_head(self, head: bytes) -> None:
        seq = _SEQ.search(head)
        epoch = _EPOCH.search(head)
        message: dict[str, Any] = {
            "t": "welcome",
            "seq": int(seq.group(1)) if seq else -1,
            "epoch": json.loads(epoch.group(1)) if epoch else None,
        }
        if b'"resumed":true' in head:
            message["resumed"] = True
        self._on_welcome(message)

    def _msgpack(self, payload: bytes, now: float) -> None:
        self._unpacker.feed(payload)
        for message in self._unpacker:
            self._message(message, now)

    def _message(self, message: dict[str, Any], now: float) -> None:
        kind = message.get("t")
        if kind == "event":
            self._event(message["seq"], now, message)
        elif kind == "welcome":
            self._on_welcome(message)
        elif kind in ("ack", "error"):
            future = self._answers.pop(message.get("id", ""), None)
            if future is not None and not future.done():
                future.set_result(Answer(message, now))
            if self.keep:
                self.inbox.append(message)
        elif self.keep:
            self.inbox.append(message)

    def _on_welcome(self, message: dict[str, Any]) -> None:
        seq = int(message["seq"])
        self.resumed = bool(message.get("resumed"))
        if self.resumed:
            if seq != self.last_seq:
                self.violations.append(f"resumed at {seq}, not at {self.last_seq}")
        else:
            if self.last_seq >= 0 and seq != self.last_seq and self.strict:
                # a fresh welcome after a break: what was missed is in the state, not events
                self.violations.append(f"not resumed: welcome at {seq} after {self.last_seq}")
            self.last_seq = seq
        self.epoch = message.get("epoch")
        self.welcome = message
        if self._welcomed is not None and not self._welcomed.done():
            self._welcomed.set_result(None)

    def _event(self, seq: int, now: float, message: dict[str, Any] | None) -> None:
        last = self.last_seq
        if seq <= last:
            self._violation(f"event {seq} after {last} (duplicate or reordered)")
            return
        if self.strict and seq != last + 1:
            self._violation(f"event {seq} after {last}: {seq - last - 1} missing")
        self.last_seq = seq
        self.events += 1
        if self.sink.recording and self.strict:
            self.sink.event(seq, now)
        if message is not None and self.keep:
            self.inbox.append(message)

    def _events(self, seqs: list[int], now: float, run: int | None = None) -> None:
        """Several events of one frame (the checks of `_event`, in bulk); `run`: `seqs`
        holds only the first and last of that many consecutive seqs."""
        first, last = seqs[0], seqs[-1]
        if run is not None:
            fine = first == self.last_seq + 1 or (not self.strict and first > self.last_seq)
            seqs = list(range(first, last + 1)) if not fine else seqs
        elif self.strict:
            fine = first == self.last_seq + 1 and seqs == list(range(first, last + 1))
        else:
            fine = first > self.last_seq and all(a < b for a, b in itertools.pairwise(seqs))
        if not fine:
            for seq in seqs:
                self._event(seq, now, None)
            return
        self.last_seq = last
        self.events += last - first + 1 if run is not None else len(seqs)
        if self.sink.recording and self.strict:
            self.sink.span(first, last, now)

    def _violation(self, text: str) -> None:
        if len(self.violations) < 5:
            self.violations.append(text)
        else:
            self.violations[-1] = f"… and more ({text})"


class _Protocol(asyncio.Protocol):
    __slots__ = ("_data", "client")

    def __init__(self, client: Client) -> None:
        self.client = client
        self._data: Callable[[bytes], None] = client._data

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.client._made(transport)

    def data_received(self, data: bytes) -> None:
        self._data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client._lost(exc)
