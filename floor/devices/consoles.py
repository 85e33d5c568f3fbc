"""Simulated consoles: a `Hardware` that keeps LEDs in memory, and their terminal view.

`SimConsoles` is what a real adapter would be, minus the conference system: it records
each console's microphone and request LED as the bridge drives them, and counts how many
microphones were ever live at once (a check of the reconciler's promise). `render` draws
one room as plain text, with ANSI colours unless asked not to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from floor.devices.roster import Roster

RESET: Final = "\x1b[0m"
LIVE_STYLE: Final = "\x1b[1;37;41m"
WAITING_STYLE: Final = "\x1b[1;30;43m"
DIM: Final = "\x1b[2m"


@dataclass(slots=True)
class Console:
    seat: str
    live: bool = False
    position: int | None = None

    @property
    def showing(self) -> str:
        if self.live:
            return "live"
        return "idle" if self.position is None else "waiting"


@dataclass(slots=True)
class SimConsoles:
    """A room of consoles driven by a bridge (implements `Hardware`)."""

    consoles: dict[str, Console] = field(default_factory=dict)
    fixed: bool = False
    """Only the consoles added with `add` exist; the bridge's calls for others are ignored."""
    calls: int = 0
    max_live: int = 0
    """The most microphones live at once, ever."""

    def console(self, seat: str) -> Console:
        found = self.consoles.get(seat)
        if found is None:
            found = self.consoles[seat] = Console(seat)
        return found

    def add(self, seats: Iterable[str]) -> None:
        for seat in seats:
            self.console(seat)

    def restrict(self, seats: Iterable[str]) -> None:
        """Simulate only these consoles (in this order); ignore the bridge's other calls."""
        self.consoles = {s: self.consoles.get(s) or Console(s) for s in seats}
        self.fixed = True

    def _accepts(self, seat: str) -> bool:
        return not self.fixed or seat in self.consoles

    def set_microphone(self, seat: str, live: bool) -> None:
        self.calls += 1
        if self._accepts(seat):
            self.console(seat).live = live
        self.max_live = max(self.max_live, len(self.live))

    def set_request(self, seat: str, position: int | None) -> None:
        self.calls += 1
        if self._accepts(seat):
            self.console(seat).position = position

    @property
    def live(self) -> list[str]:
        return [s for s, c in self.consoles.items() if c.live]

    @property
    def waiting(self) -> list[str]:
        queued = [c for c in self.consoles.values() if c.position is not None]
        return [c.seat for c in sorted(queued, key=lambda c: c.position or 0)]

    def showing(self, seat: str) -> str:
        found = self.consoles.get(seat)
        return found.showing if found is not None else "idle"


def _cell(console: Console, roster: Roster, colour: bool, width: int) -> str:
    mic = "MIC" if console.live else "mic"
    request = "   " if console.position is None else f"R{console.position + 1:<2}"
    who = roster.occupant(console.seat)
    name = who.name if who is not None else "—"
    if who is not None and who.muted:
        name = f"(muted) {name}"
    text = f"{console.seat:>5} {mic} {request} {name}"[:width].ljust(width)
    if not colour:
        return text
    if console.live:
        return f"{LIVE_STYLE}{text}{RESET}"
    if console.position is not None:
        return f"{WAITING_STYLE}{text}{RESET}"
    return f"{DIM}{text}{RESET}" if who is None else text


def render(
    title: str,
    consoles: SimConsoles,
    roster: Roster,
    *,
    columns: int = 3,
    width: int = 32,
    colour: bool = True,
) -> list[str]:
    """The room as lines of text: a title, then the consoles in a grid."""
    lines = [title]
    cells = [_cell(c, roster, colour, width) for c in consoles.consoles.values()]
    for start in range(0, len(cells), columns):
        lines.append(" ".join(cells[start : start + columns]))
    return lines
