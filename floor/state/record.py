"""The record of proceedings: every speech, from the log.

A speech runs from its `floor.granted` to its `floor.released`; an interruption by a
point of order pauses it (the point-of-order speaker is listed in `interrupted_by`)
and `floor.resumed` picks it up again. `seconds` is the time actually spoken (the
clock's, pauses and interruptions excluded). Only finished speeches are listed; names
and delegations are as they were when the speech began.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from floor.state import events as ev
from floor.state.evolve import evolve
from floor.state.model import Kind, State
from floor.state.wire import Plain, seconds


@dataclass(frozen=True, slots=True)
class Speech:
    participant: str
    name: str
    delegation: str
    kind: Kind
    lang: str
    start: int
    end: int
    spoke_ms: int
    interrupted_by: tuple[str, ...]

    def to_wire(self) -> Plain:
        return {
            "participant": self.participant,
            "name": self.name,
            "delegation": self.delegation,
            "kind": self.kind.value,
            "lang": self.lang,
            "start": self.start,
            "end": self.end,
            "seconds": seconds(self.spoke_ms),
            "interrupted_by": list(self.interrupted_by),
        }


@dataclass(slots=True)
class _Open:
    participant: str
    name: str
    delegation: str
    kind: Kind
    lang: str
    start: int
    interrupted_by: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Record:
    speeches: tuple[Speech, ...]

    def by_delegation(self) -> dict[str, int]:
        """Milliseconds spoken per delegation, in order of first speech."""
        totals: dict[str, int] = {}
        for speech in self.speeches:
            totals[speech.delegation] = totals.get(speech.delegation, 0) + speech.spoke_ms
        return totals

    def to_wire(self) -> Plain:
        return {
            "speeches": [s.to_wire() for s in self.speeches],
            "delegations": [
                {"delegation": d, "seconds": seconds(ms)} for d, ms in self.by_delegation().items()
            ],
        }


def record(events: Iterable[ev.Event]) -> Record:
    """The record of proceedings of a meeting's whole log, speeches in order of start."""
    state = State()
    current: _Open | None = None
    stack: list[_Open] = []
    speeches: list[Speech] = []
    just_interrupted = False
    for event in events:
        data = event.data
        match data:
            case ev.FloorGranted(floor=floor):
                who = state.participants[floor.participant]
                if just_interrupted:
                    stack[-1].interrupted_by.append(who.id)
                    just_interrupted = False
                current = _Open(
                    who.id, who.name, who.delegation, floor.kind, floor.lang, floor.granted_at
                )
            case ev.FloorInterrupted():
                assert current is not None
                stack.append(current)
                current = None
                just_interrupted = True  # until the point of order's grant (a mute may come first)
            case ev.FloorResumed():
                current = stack.pop()
            case ev.FloorReleased():
                assert current is not None
                speeches.append(
                    Speech(
                        current.participant,
                        current.name,
                        current.delegation,
                        current.kind,
                        current.lang,
                        current.start,
                        event.at,
                        data.spoke_ms,
                        tuple(current.interrupted_by),
                    )
                )
                current = None
            case ev.ParticipantRemoved(participant=pid):
                stack = [s for s in stack if s.participant != pid]
            case _:
                pass
        state = evolve(state, event)
    speeches.sort(key=lambda s: s.start)
    return Record(tuple(speeches))
