"""The hardware side of a bridge: what a conference system must offer, and reconciliation.

- `Hardware`: the small interface a bridge drives — open or close a console's microphone
  (and its microphone LED), light a console's request LED (with its place in the list).
  Its methods are synchronous and must not block: an adapter to a real conference system
  queues the I/O in its own task. The last call for a seat wins.
- `Seats`: the desired state, as the server's `seats` message says it (PROTOCOL.md
  section 6): the live seats of the room and the waiting seats in queue order.
- `Reconciler`: drives a `Hardware` to match the last `Seats`, with as few calls as it
  can, from what it believes the hardware shows.

Invariants of the reconciler:
- Microphones are closed before any is opened, in every drive: two seats are never live at
  the same time unless the server's `seats` says both are (ARCHITECTURE: one floor).
- After `forget()` (a reconnect, a hardware fault) it believes nothing: the next drive
  sets every seat of the room (and every seat it ever drove), so the consoles end
  exactly as the server says, whatever happened to them meanwhile.
- A hardware call that raises is logged and makes the reconciler forget, never crashes it.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

logger = logging.getLogger("floor.devices")


class Button(enum.Enum):
    """The buttons of a delegate's console, and the command each becomes."""

    REQUEST = "request"
    """Request-to-speak: `seat.request` (a toggle: a second press withdraws)."""
    MIC = "mic"
    """The microphone button while speaking: `seat.release` (yields the floor)."""
    MUTE = "mute"
    """The mute (cough) button: `seat.mute` with `muted`."""


class Hardware(Protocol):
    """A room's consoles, as a bridge drives them. Methods must return at once."""

    def set_microphone(self, seat: str, live: bool) -> None:
        """Open (live) or close the seat's microphone, and its microphone LED with it."""

    def set_request(self, seat: str, position: int | None) -> None:
        """Light the seat's request LED with its place in the list (0: next), or put it
        out (None)."""


class BadSeats(ValueError):
    """A `seats` message that does not have the protocol's shape."""


def _seat_list(message: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = message.get(key)
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise BadSeats(f"`{key}` must be a list of strings")
    return tuple(value)


@dataclass(frozen=True, slots=True)
class Seats:
    """What the consoles of a room must show (a `seats` message)."""

    seq: int
    live: tuple[str, ...]
    waiting: tuple[str, ...]
    live_participants: tuple[str, ...] = ()

    @classmethod
    def from_wire(cls, message: Mapping[str, Any]) -> Seats:
        """Parse a `seats` message. Raises BadSeats."""
        seq = message.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise BadSeats("`seq` must be an integer")
        live_participants: tuple[str, ...] = ()
        if "live_participants" in message:
            live_participants = _seat_list(message, "live_participants")
        return cls(
            seq, _seat_list(message, "live"), _seat_list(message, "waiting"), live_participants
        )

    def position(self, seat: str) -> int | None:
        """The seat's place among the waiting seats of its room (0: next), or None."""
        try:
            return self.waiting.index(seat)
        except ValueError:
            return None


class Reconciler:
    """Keeps a `Hardware` in step with the server's `Seats` (see the module's invariants)."""

    def __init__(self, hardware: Hardware, room: Iterable[str] = ()) -> None:
        self.hardware = hardware
        self.room: tuple[str, ...] = tuple(room)
        self.desired: Seats | None = None
        self._shown_live: set[str] | None = None
        """The seats we believe are live on the hardware; None: unknown."""
        self._shown_requests: dict[str, int | None] = {}
        self._touched: dict[str, None] = {}
        """Every seat ever driven (ordered): a full drive covers them all, room or not."""

    def set_room(self, room: Sequence[str]) -> None:
        """The seats of this device's room (from the welcome)."""
        self.room = tuple(room)

    def forget(self) -> None:
        """Believe nothing about the hardware: the next drive sets every seat."""
        self._shown_live = None
        self._shown_requests = {}

    @property
    def in_step(self) -> bool:
        """Whether the hardware is believed to show the desired state."""
        return self.desired is not None and self._shown_live == set(self.desired.live)

    def apply(self, seats: Seats) -> None:
        """Make `seats` the desired state and drive the hardware to it."""
        self.desired = seats
        self.drive()

    def drive(self) -> None:
        """Drive the hardware to the desired state (nothing before the first `seats`)."""
        seats = self.desired
        if seats is None:
            return
        try:
            self._drive(seats)
        except Exception:
            logger.exception("the hardware failed; it will be driven in full next time")
            self.forget()

    def _drive(self, seats: Seats) -> None:
        everything = self._shown_live is None
        shown_live = set() if self._shown_live is None else self._shown_live
        live = set(seats.live)
        self._touched.update(dict.fromkeys((*self.room, *seats.live, *seats.waiting)))
        seats_known = list(self._touched)
        # 1. close: never two live seats that the server did not ask for
        for seat in seats_known if everything else sorted(shown_live - live):
            if seat not in live:
                self.hardware.set_microphone(seat, False)
                shown_live.discard(seat)
        # 2. request LEDs
        positions = {seat: seats.position(seat) for seat in seats_known}
        for seat in dict.fromkeys((*self._shown_requests, *positions)):
            position = positions.get(seat)
            if everything or self._shown_requests.get(seat) != position:
                self.hardware.set_request(seat, position)
        self._shown_requests = {s: p for s, p in positions.items() if p is not None}
        # 3. open
        for seat in seats.live:
            if everything or seat not in shown_live:
                self.hardware.set_microphone(seat, True)
        self._shown_live = live
