"""A device's side of protocol v1, Sans-I/O: messages in, hardware driven, commands out.

`Link` holds everything a bridge keeps across connections — the resume point
(`epoch`, `seq`), the presses not yet answered, what the hardware should show — and knows
nothing of sockets or clocks; `floor.devices.bridge` moves its messages over a websocket.

    link = Link(token, hardware)
    send(link.hello())                 # on every (re)connect
    link.receive(message)              # every message of every frame, in order
    link.press("A03", Button.REQUEST)  # from the console; queued while offline
    while (p := link.next_unsent()) is not None: send(link.sent(p))
    link.disconnected()                # then `after_close(code)` says what to do

Invariants:
- The hardware follows `seats` only (through the `Reconciler`); a welcome makes it forget
  what it believed, so the `seats` that follows every welcome drives every console.
- Presses are sent only once welcomed, oldest first, each with its id; after a disconnect
  all unanswered presses are sent again with the same ids (the server dedupes).
- `seq` is the last event seq received: `hello` resumes from it (PROTOCOL.md section 3).
- A malformed server message is logged and ignored; nothing here raises on input.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from floor.devices.hardware import BadSeats, Button, Hardware, Reconciler, Seats
from floor.devices.presses import DEFAULT_LIMIT, RETRIES, Press, PressQueue
from floor.devices.roster import Roster
from floor.protocol.close import CloseCode

logger = logging.getLogger("floor.devices")

CLIENT: Final = "floor-bridge/1"
RETRYABLE: Final = frozenset({"rate_limited", "internal"})
"""Refusals that say "not now" rather than "no": the press is sent again later."""


class LinkPhase(enum.Enum):
    OFFLINE = "offline"
    AWAITING_WELCOME = "awaiting welcome"
    ONLINE = "online"


class Next(enum.Enum):
    RECONNECT = "reconnect"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class AfterClose:
    """What a bridge does when its connection closed with a code (PROTOCOL.md section 7)."""

    next: Next
    explanation: str
    fault: bool = False
    """The bridge (or its configuration) is at fault: log it as an error."""


CONNECTION_LOST: Final = 1006
"""No close frame came (RFC 6455's code for a connection lost)."""

CLOSE_POLICY: Final[Mapping[int, AfterClose]] = {
    CloseCode.GOING_AWAY: AfterClose(Next.RECONNECT, "the server is going away; resuming"),
    CONNECTION_LOST: AfterClose(Next.RECONNECT, "the connection was lost; resuming"),
    CloseCode.NO_HELLO: AfterClose(Next.RECONNECT, "no hello in time; reconnecting"),
    CloseCode.TOO_SLOW: AfterClose(Next.RECONNECT, "too slow, fell behind; resuming"),
    CloseCode.BAD_TOKEN: AfterClose(
        Next.STOP, "bad or revoked token: the bridge needs a new device token"
    ),
    CloseCode.REMOVED: AfterClose(Next.STOP, "the device was removed or its token revoked"),
    CloseCode.POLICY: AfterClose(
        Next.STOP, "closed by policy (origin or abuse); not retrying", True
    ),
    CloseCode.TOO_BIG: AfterClose(
        Next.STOP, "a frame was too large; the bridge must be fixed", True
    ),
    CloseCode.BAD_HELLO: AfterClose(
        Next.STOP, "protocol violation in the handshake; fix the bridge", True
    ),
}


def after_close(code: int | None) -> AfterClose:
    """The policy for a close code; None (no close frame, a network error) reconnects."""
    if code is None:
        return CLOSE_POLICY[CONNECTION_LOST]
    return CLOSE_POLICY.get(code, AfterClose(Next.RECONNECT, f"closed ({code}); resuming"))


class Link:
    """One device's protocol state across connections (see the module's invariants)."""

    def __init__(
        self,
        token: str,
        hardware: Hardware,
        *,
        client: str = CLIENT,
        queue_limit: int = DEFAULT_LIMIT,
        prefix: str | None = None,
    ) -> None:
        self.token = token
        self.client = client
        self.phase = LinkPhase.OFFLINE
        self.epoch: str | None = None
        self.seq = 0
        self.device: str | None = None
        self.room: tuple[str, ...] = ()
        self.presses = PressQueue(queue_limit, prefix)
        self.reconciler = Reconciler(hardware)
        self.roster = Roster()
        self.acked = 0
        self.refused: Counter[str] = Counter()
        """Codes of presses the server refused for good, counted."""
        self.throttled = False
        """The server asked to slow down: the driver pauses before sending again."""
        self.welcomes = 0
        self.resumes = 0
        """Welcomes that resumed (`resumed: true`) rather than sent the full state."""
        self.sends = 0
        """Commands sent, retries included."""

    @property
    def seats(self) -> Seats | None:
        """The last `seats` received: what the hardware must show."""
        return self.reconciler.desired

    # --- connection ------------------------------------------------------------------------

    def hello(self) -> dict[str, Any]:
        """The first message of a connection; resumes once a welcome gave an epoch."""
        self.phase = LinkPhase.AWAITING_WELCOME
        message: dict[str, Any] = {"t": "hello", "v": 1, "token": self.token, "client": self.client}
        if self.epoch is not None:
            message["resume"] = {"epoch": self.epoch, "seq": self.seq}
        return message

    def disconnected(self) -> None:
        self.phase = LinkPhase.OFFLINE
        self.presses.disconnected()
        self.throttled = False

    # --- presses -----------------------------------------------------------------------------

    def press(
        self, seat: str, button: Button, *, kind: str | None = None, muted: bool | None = None
    ) -> Press:
        """A console button was pressed: queue its command (sent when online)."""
        return self.presses.add(seat, button, kind=kind, muted=muted)

    def next_unsent(self) -> Press | None:
        """The oldest press to send now, if online."""
        if self.phase is not LinkPhase.ONLINE:
            return None
        return next(self.presses.unsent(), None)

    def sent(self, press: Press) -> dict[str, Any]:
        """Mark a press sent on this connection; its command message."""
        press.sent = True
        press.attempts += 1
        self.sends += 1
        return press.message()

    @property
    def settled(self) -> bool:
        """Every press has been answered."""
        return len(self.presses) == 0

    # --- server messages ---------------------------------------------------------------------

    def receive(self, message: Mapping[str, Any]) -> None:
        """One server message (any type; unknown ones are ignored)."""
        kind = message.get("t")
        if kind == "welcome":
            self._welcome(message)
        elif kind == "event":
            self._event(message)
        elif kind == "seats":
            try:
                seats = Seats.from_wire(message)
            except BadSeats as bad:
                logger.warning("ignoring a malformed seats message: %s", bad)
                return
            self.reconciler.apply(seats)
        elif kind == "ack":
            if self.presses.settle(str(message.get("id"))) is not None:
                self.acked += 1
        elif kind == "error":
            self._error(message)

    def _welcome(self, message: Mapping[str, Any]) -> None:
        you = message.get("you")
        device = you.get("device") if isinstance(you, Mapping) else None
        epoch, seq = message.get("epoch"), message.get("seq")
        if not isinstance(device, str) or not isinstance(seq, int):
            logger.warning("ignoring a malformed welcome")
            return
        self.device = device
        self.epoch = epoch if isinstance(epoch, str) else None
        self.seq = seq
        state = message.get("state")
        if not message.get("resumed") and isinstance(state, Mapping):
            self.roster.reset(state)
            devices = state.get("devices")
            mine = devices.get(device) if isinstance(devices, Mapping) else None
            seats = mine.get("seats") if isinstance(mine, Mapping) else None
            if isinstance(seats, list):
                self.room = tuple(str(s) for s in seats)
                self.reconciler.set_room(self.room)
        elif message.get("resumed"):
            self.resumes += 1
        self.reconciler.forget()
        self.phase = LinkPhase.ONLINE
        self.welcomes += 1

    def _event(self, message: Mapping[str, Any]) -> None:
        seq, name, data = message.get("seq"), message.get("name"), message.get("data")
        if isinstance(seq, int) and seq > self.seq:
            self.seq = seq
        if isinstance(name, str) and isinstance(data, Mapping):
            self.roster.apply(name, data)

    def _error(self, message: Mapping[str, Any]) -> None:
        code, text = str(message.get("code")), message.get("message")
        command_id = message.get("id")
        press = self.presses.get(command_id) if isinstance(command_id, str) else None
        if press is None:
            logger.warning("the server answered an error: %s: %s", code, text)
            return
        if code in RETRYABLE and press.attempts < RETRIES:
            press.sent = False
            self.throttled = True
            return
        self.presses.settle(press.id)
        self.refused[code] += 1
        logger.warning("%s at seat %s refused: %s: %s", press.name, press.seat, code, text)
