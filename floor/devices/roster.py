"""Who sits at which console: the part of the meeting state a console may show.

Folded from the welcome `state` and the events that change the seat plan or the roster
(`participant.added/updated/removed`, `seat.assigned`, `mute.changed`, `mute.all_set`).
A bridge needs none of it to drive microphones — `seats` says everything for that — but a
console with a screen shows the name of whoever sits there, and a muted indicator.

Invariant (as on the server): a seat has at most one occupant, and a participant sits at
one seat at most; seating someone at a taken seat unseats the one there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Occupant:
    id: str
    name: str
    delegation: str
    seat: str | None
    muted: bool = False


def _occupant(p: Mapping[str, Any]) -> Occupant | None:
    pid, name = p.get("id"), p.get("name")
    if not isinstance(pid, str) or not isinstance(name, str):
        return None
    seat = p.get("seat")
    return Occupant(
        pid,
        name,
        str(p.get("delegation", "")),
        seat if isinstance(seat, str) else None,
        bool(p.get("self_muted")) or bool(p.get("hard_muted")),
    )


class Roster:
    """The seat plan with names, kept from the welcome and the events."""

    def __init__(self) -> None:
        self.people: dict[str, Occupant] = {}

    def reset(self, state: Mapping[str, Any]) -> None:
        """Start again from a welcome's full `state`."""
        self.people = {}
        participants = state.get("participants")
        if isinstance(participants, Mapping):
            for p in participants.values():
                if isinstance(p, Mapping):
                    self._put(_occupant(p))

    def occupant(self, seat: str) -> Occupant | None:
        for person in self.people.values():
            if person.seat == seat:
                return person
        return None

    def _put(self, person: Occupant | None) -> None:
        if person is None:
            return
        if person.seat is not None:
            self._unseat(person.seat, keep=person.id)
        self.people[person.id] = person

    def _unseat(self, seat: str, keep: str | None = None) -> None:
        for pid, other in list(self.people.items()):
            if other.seat == seat and pid != keep:
                self.people[pid] = replace(other, seat=None)

    def apply(self, name: str, data: Mapping[str, Any]) -> None:
        """Fold one event (others are ignored)."""
        if name in ("participant.added", "participant.updated"):
            p = data.get("participant")
            if isinstance(p, Mapping):
                self._put(_occupant(p))
        elif name == "participant.removed":
            self.people.pop(str(data.get("participant")), None)
        elif name == "seat.assigned":
            seat, pid = data.get("seat"), data.get("participant")
            if isinstance(seat, str):
                self._unseat(seat)
                person = self.people.get(pid) if isinstance(pid, str) else None
                if person is not None:
                    self.people[person.id] = replace(person, seat=seat)
        elif name == "mute.changed":
            person = self.people.get(str(data.get("participant")))
            if person is not None:
                muted = bool(data.get("self_muted")) or bool(data.get("hard_muted"))
                self.people[person.id] = replace(person, muted=muted)
        elif name == "mute.all_set":
            for pid in data.get("participants") or ():
                person = self.people.get(str(pid))
                if person is not None:
                    self.people[person.id] = replace(person, muted=True)
