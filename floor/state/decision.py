"""The outcome of deciding one command, and the draft that rules write it into.

A rule reads `Draft.state`, which already includes the events it has emitted so far
(each `emit` folds its event in at once), so that follow-up rules — resuming an
interrupted speaker, granting the head in auto floor mode — see what came before.
The draft numbers events from the state's seq and stamps them with the command's time,
actor and cause; the meeting host appends them with the seq the draft started from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from floor.state.events import Cause, Event, EventData
from floor.state.evolve import evolve
from floor.state.model import State


@dataclass(frozen=True, slots=True)
class Accepted:
    """A command's events (maybe none) and the seq to acknowledge it with.

    `duplicate` marks a retried command id that was acknowledged before: no events,
    and `seq` is the original acknowledgement's.
    """

    events: tuple[Event, ...]
    seq: int
    duplicate: bool = False
    state: State | None = field(default=None, compare=False, repr=False)
    """The state after the events (what folding them gives; the host keeps it)."""


class Draft:
    """Events being decided for one command, folded into `state` as they are emitted."""

    def __init__(self, state: State, actor: str, now: int, cause: Cause | None) -> None:
        self.state = state
        self.actor = actor
        self.now = now
        self.cause = cause
        self.events: list[Event] = []

    def emit(self, data: EventData, *, by: str | None = None) -> None:
        event = Event(
            seq=self.state.seq + 1,
            at=self.now,
            by=self.actor if by is None else by,
            data=data,
            cause=self.cause,
        )
        self.state = evolve(self.state, event)
        self.events.append(event)

    @property
    def next_seq(self) -> int:
        """The seq the next emitted event will have (ids are derived from it)."""
        return self.state.seq + 1

    def accepted(self) -> Accepted:
        return Accepted(tuple(self.events), self.state.seq, state=self.state)
