"""The per-connection protocol, Sans-I/O: frames in, actions out. No sockets, no clock.

A `Session` starts awaiting `hello` and turns each client frame into one action:
- `Hello` (the handshake to authenticate) or `Close(4000)` for a bad first message;
- then `Submit` (a valid command for the meeting host), `Reply` (a message to send
  straight back: pong, or an error), or `Close` (a flood of bad or rate-limited
  messages: 1008).

A bad message is answered and changes nothing (ARCHITECTURE law 5). Commands are
rate-limited with a token bucket; more than `bad_messages_per_10s` bad or refused
messages within ten seconds close the connection. Times are passed in: `now` in
monotonic seconds, `epoch_ms` for the pong.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from typing import Any, Final

from floor.meeting import Resume
from floor.settings import Limits
from floor.state import Rejection, parse_command
from floor.state.commands import MAX_ID, WireCommand
from floor.state.rejection import Code
from floor.transport.codecs import BadFrame, Codec

PROTOCOL_VERSION: Final = 1
MAX_TOKEN: Final = 256


@dataclass(frozen=True, slots=True)
class Hello:
    token: str
    resume: Resume | None
    client: str | None


@dataclass(frozen=True, slots=True)
class Submit:
    command: WireCommand
    command_id: str


@dataclass(frozen=True, slots=True)
class Reply:
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Close:
    code: int
    reason: str


Action = Hello | Submit | Reply | Close


class Phase(enum.Enum):
    AWAITING_HELLO = "awaiting hello"
    READY = "ready"
    CLOSED = "closed"


def error(code: Code, message: str, command_id: Any = None, field: str | None = None) -> Reply:
    body: dict[str, Any] = {"t": "error", "code": code.value, "message": message}
    if command_id is not None:
        body["id"] = command_id
    if field is not None:
        body["field"] = field
    return Reply(body)


def rejection_message(rejection: Rejection, command_id: str | None) -> dict[str, Any]:
    return error(rejection.code, rejection.message, command_id, rejection.field).message


class Session:
    def __init__(self, codec: Codec, limits: Limits, now: float) -> None:
        self.codec = codec
        self.limits = limits
        self.phase = Phase.AWAITING_HELLO
        self._tokens = float(limits.command_burst)
        self._refilled = now
        self._strikes: deque[float] = deque()

    def hello(self, payload: str | bytes) -> Hello | Close:
        """The first client frame: a valid hello, or the close for a bad one (4000)."""
        assert self.phase is Phase.AWAITING_HELLO
        try:
            message = self.codec.decode(payload)
        except BadFrame as bad:
            return self._close(4000, f"hello expected: {bad}")
        if message["t"] != "hello":
            return self._close(4000, "hello expected")
        if message.get("v") != PROTOCOL_VERSION or isinstance(message.get("v"), bool):
            return self._close(4000, "unsupported protocol version")
        token = message.get("token")
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
            return self._close(4000, "malformed token")
        client = message.get("client")
        if client is not None and (not isinstance(client, str) or len(client) > 200):
            return self._close(4000, "malformed client")
        resume = message.get("resume")
        parsed: Resume | None = None
        if resume is not None:
            epoch = resume.get("epoch") if isinstance(resume, dict) else None
            seq = resume.get("seq") if isinstance(resume, dict) else None
            if (
                not isinstance(epoch, str)
                or len(epoch) > MAX_TOKEN
                or not isinstance(seq, int)
                or isinstance(seq, bool)
                or seq < 0
            ):
                return self._close(4000, "malformed resume")
            parsed = Resume(epoch, seq)
        self.phase = Phase.READY
        return Hello(token, parsed, client)

    def receive(self, payload: str | bytes, now: float, epoch_ms: int) -> Action:
        """A client frame after the welcome."""
        assert self.phase is Phase.READY
        try:
            message = self.codec.decode(payload)
        except BadFrame as bad:
            return self._strike(now, error(Code.BAD_MESSAGE, str(bad)))
        kind = message["t"]
        if kind == "ping":
            if not self._take_token(now):
                return self._strike(now, error(Code.RATE_LIMITED, "Slow down."))
            return Reply({"t": "pong", "id": message.get("id"), "now": epoch_ms})
        if kind != "cmd":
            return self._strike(
                now, error(Code.BAD_MESSAGE, f"Unknown message type {kind[:32]!r}.")
            )
        command_id = message.get("id")
        if not isinstance(command_id, str) or not 0 < len(command_id) <= MAX_ID:
            return self._strike(
                now, error(Code.BAD_MESSAGE, "A command needs an `id` of 1 to 64 characters.")
            )
        if not self._take_token(now):
            return self._strike(now, error(Code.RATE_LIMITED, "Slow down.", command_id))
        command = parse_command(message.get("name"), message.get("args"))
        if isinstance(command, Rejection):
            return self._strike(now, Reply(rejection_message(command, command_id)))
        return Submit(command, command_id)

    def _take_token(self, now: float) -> bool:
        elapsed = max(0.0, now - self._refilled)
        self._refilled = now
        rate = self.limits.commands_per_s
        self._tokens = min(float(self.limits.command_burst), self._tokens + elapsed * rate)
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def _strike(self, now: float, reply: Reply) -> Reply | Close:
        """Answer a bad or refused message; close on a flood of them."""
        strikes = self._strikes
        strikes.append(now)
        while strikes and strikes[0] < now - 10:
            strikes.popleft()
        if len(strikes) > self.limits.bad_messages_per_10s:
            return self._close(1008, "too many bad messages")
        return reply

    def _close(self, code: int, reason: str) -> Close:
        self.phase = Phase.CLOSED
        return Close(code, reason)
