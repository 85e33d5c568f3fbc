"""The per-connection protocol, Sans-I/O, both ways. No sockets, no clock.

In: a `Session` starts awaiting `hello` and turns each client frame into one action:
- `Hello` (the handshake to authenticate) or `Close(4000)` for a bad first message;
- then `Submit` (a valid command for the meeting host), `Reply` (a message to send
  straight back: pong, or an error), or `Close` (a flood of bad or rate-limited
  messages: 1008).

Out: `frame(message)` turns any outgoing message (floor.protocol.messages) into the
bytes of one websocket frame in the connection's codec; `ack` and `rejection` are the
answers to a submitted command.

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

from floor.protocol import messages
from floor.protocol.close import CloseCode
from floor.protocol.codecs import BadFrame, Codec, Message
from floor.protocol.limits import Limits
from floor.protocol.messages import PROTOCOL_VERSION
from floor.state import Rejection, parse_command
from floor.state.commands import MAX_ID, WireCommand
from floor.state.rejection import Code

MAX_TOKEN: Final = 256


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a reconnecting client was: its log's epoch and the last seq it holds."""

    epoch: str
    seq: int


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
    """A message to send straight back (a pong, or an error)."""

    message: messages.Pong | messages.Error


@dataclass(frozen=True, slots=True)
class Close:
    code: CloseCode
    reason: str


Action = Hello | Submit | Reply | Close


class Phase(enum.Enum):
    AWAITING_HELLO = "awaiting hello"
    READY = "ready"
    CLOSED = "closed"


def error(code: Code, message: str, command_id: Any = None, field: str | None = None) -> Reply:
    return Reply(messages.error(code, message, command_id, field))


class Session:
    def __init__(self, codec: Codec, limits: Limits, now: float) -> None:
        self.codec = codec
        self.limits = limits
        self.phase = Phase.AWAITING_HELLO
        self._tokens = float(limits.command_burst)
        self._refilled = now
        self._strikes: deque[float] = deque()

    # --- out -----------------------------------------------------------------------------

    def frame(self, message: Message) -> bytes:
        """One outgoing message as a websocket frame of this connection's codec."""
        return self.codec.frame_of(message)

    def ack(self, command_id: str, seq: int) -> bytes:
        return self.frame(messages.ack(command_id, seq))

    def rejection(self, refused: Rejection, command_id: str | None) -> bytes:
        return self.frame(messages.rejection(refused, command_id))

    # --- in ------------------------------------------------------------------------------

    def hello(self, payload: str | bytes) -> Hello | Close:
        """The first client frame: a valid hello, or the close for a bad one (4000)."""
        assert self.phase is Phase.AWAITING_HELLO
        try:
            message = self.codec.decode(payload)
        except BadFrame as bad:
            return self._close(CloseCode.BAD_HELLO, f"hello expected: {bad}")
        if message["t"] != "hello":
            return self._close(CloseCode.BAD_HELLO, "hello expected")
        if message.get("v") != PROTOCOL_VERSION or isinstance(message.get("v"), bool):
            return self._close(CloseCode.BAD_HELLO, "unsupported protocol version")
        token = message.get("token")
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
            return self._close(CloseCode.BAD_HELLO, "malformed token")
        client = message.get("client")
        if client is not None and (not isinstance(client, str) or len(client) > 200):
            return self._close(CloseCode.BAD_HELLO, "malformed client")
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
                return self._close(CloseCode.BAD_HELLO, "malformed resume")
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
            return Reply(messages.pong(message.get("id"), epoch_ms))
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
            return self._strike(now, Reply(messages.rejection(command, command_id)))
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
            return self._close(CloseCode.POLICY, "too many bad messages")
        return reply

    def _close(self, code: CloseCode, reason: str) -> Close:
        self.phase = Phase.CLOSED
        return Close(code, reason)
