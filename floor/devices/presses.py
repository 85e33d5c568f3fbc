"""Button presses on their way to the server: a bounded queue of commands with ids.

A press becomes a command with an id the moment it happens, and stays in the queue until
the server answers it (`ack` or `error`). While the bridge is offline presses wait here;
on reconnect every unanswered one is sent again, in order, with its original id — the
server applies an id at most once (PROTOCOL.md section 5, idempotent retries), so a press
whose ack was lost in a network cut is not applied twice.

Invariants:
- At most `limit` presses wait; a new press past the bound drops the oldest, with a
  warning (a console held down must not grow memory without bound).
- Command ids are unique across bridge processes: a random prefix per queue and a
  counter. (A restarted bridge reusing `c-1` would see its new press taken for a retry of
  an old one and silently not applied.)
- Order is kept: presses are sent in the order they happened.
"""

from __future__ import annotations

import itertools
import logging
import secrets
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from floor.devices.hardware import Button

logger = logging.getLogger("floor.devices")

DEFAULT_LIMIT: Final = 256
RETRIES: Final = 5
"""How many times a press refused as `rate_limited` or `internal` is sent again."""


@dataclass(slots=True)
class Press:
    """One button press, as the command it becomes."""

    id: str
    seat: str
    button: Button
    name: str
    args: dict[str, Any]
    sent: bool = False
    """Sent on the current connection (reset by a disconnect)."""
    attempts: int = 0

    def message(self) -> dict[str, Any]:
        return {"t": "cmd", "id": self.id, "name": self.name, "args": self.args}


def command_for(
    seat: str, button: Button, *, kind: str | None, muted: bool | None
) -> tuple[str, dict[str, Any]]:
    """The command name and args a press of `button` at `seat` becomes."""
    if button is Button.REQUEST:
        args: dict[str, Any] = {"seat": seat}
        if kind is not None:
            args["kind"] = kind
        return "seat.request", args
    if button is Button.MIC:
        return "seat.release", {"seat": seat}
    if muted is None:
        raise ValueError("a mute press needs `muted`")
    return "seat.mute", {"seat": seat, "muted": muted}


class PressQueue:
    """Presses not yet answered by the server, oldest first (see the module's invariants)."""

    def __init__(self, limit: int = DEFAULT_LIMIT, prefix: str | None = None) -> None:
        if limit < 1:
            raise ValueError("the queue must hold at least one press")
        self.limit = limit
        self.prefix = prefix if prefix is not None else secrets.token_hex(4)
        self._counter = itertools.count(1)
        self._pending: OrderedDict[str, Press] = OrderedDict()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._pending)

    def __iter__(self) -> Iterator[Press]:
        return iter(list(self._pending.values()))

    def __contains__(self, command_id: object) -> bool:
        return command_id in self._pending

    def add(
        self, seat: str, button: Button, *, kind: str | None = None, muted: bool | None = None
    ) -> Press:
        """Queue a press; past the bound the oldest press is dropped (with a warning)."""
        name, args = command_for(seat, button, kind=kind, muted=muted)
        press = Press(f"{self.prefix}-{next(self._counter)}", seat, button, name, args)
        while len(self._pending) >= self.limit:
            _, oldest = self._pending.popitem(last=False)
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                logger.warning(
                    "press queue full (%d): dropped the press %s at seat %s (%d dropped in all)",
                    self.limit,
                    oldest.id,
                    oldest.seat,
                    self.dropped,
                )
        self._pending[press.id] = press
        return press

    def settle(self, command_id: str) -> Press | None:
        """The server answered this press: forget it. None if it is not ours (any more)."""
        return self._pending.pop(command_id, None)

    def get(self, command_id: str) -> Press | None:
        return self._pending.get(command_id)

    def unsent(self) -> Iterator[Press]:
        """Presses not yet sent on the current connection, oldest first."""
        return (p for p in list(self._pending.values()) if not p.sent)

    def disconnected(self) -> None:
        """The connection ended: every unanswered press is to be sent again."""
        for press in self._pending.values():
            press.sent = False
