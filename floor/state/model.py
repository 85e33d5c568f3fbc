"""The meeting's state: frozen values, nothing else.

Everything a meeting is lives in one `State`: the meeting and its settings, the
participants, the room devices, the single ordered queue of floor requests, who
holds the floor (and the stack of interrupted speakers), the list's open/closed
state, the recent chat, the seat plan and the recent command ids of each actor.

Invariants (kept by `decide` and `evolve`, checked by the property tests):
- the speaker and the interrupted speakers are never in the queue;
- a participant has at most one open request;
- points of order precede every other kind in the queue;
- `seats[s] == p` exactly when `participants[p].seat == s`.

Times are integers, Unix epoch milliseconds; durations on the clock are integer
milliseconds (the wire shows seconds). Mappings are never mutated: `evolve` builds
new ones.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final

CHAT_KEPT: Final = 1000
"""How many of the most recent chat messages the state keeps (the snapshot's window)."""

COMMANDS_REMEMBERED: Final = 256
"""How many acknowledged command ids the state remembers per actor (idempotent retries)."""

ADMIN: Final = "admin"
SYSTEM: Final = "system"


class Role(enum.StrEnum):
    CHAIR = "chair"
    DELEGATE = "delegate"
    OBSERVER = "observer"
    DISPLAY = "display"


class Attendance(enum.StrEnum):
    ONSITE = "onsite"
    REMOTE = "remote"


class Status(enum.StrEnum):
    OPEN = "open"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class FloorMode(enum.StrEnum):
    MANUAL = "manual"
    AUTO = "auto"


class Kind(enum.StrEnum):
    """The kind of a floor request."""

    SPEAK = "speak"
    POINT_OF_ORDER = "point_of_order"
    REPLY = "reply"


class Via(enum.StrEnum):
    BROWSER = "browser"
    SEAT = "seat"


class ReleaseReason(enum.StrEnum):
    YIELDED = "yielded"
    CHAIR = "chair"
    NEXT = "next"
    TIME = "time"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Settings:
    default_limit_s: int = 180
    floor_mode: FloorMode = FloorMode.MANUAL
    cut_at_limit: bool = False
    observers_may_speak: bool = False
    one_request_per_delegation: bool = False


@dataclass(frozen=True, slots=True)
class Meeting:
    id: str
    title: str
    status: Status = Status.OPEN
    settings: Settings = Settings()


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    name: str
    delegation: str
    role: Role
    attendance: Attendance = Attendance.REMOTE
    seat: str | None = None
    lang: str | None = None
    self_muted: bool = False
    hard_muted: bool = False

    @property
    def may_speak(self) -> bool:
        """Whether this participant can hold the floor at all (displays cannot)."""
        return self.role is not Role.DISPLAY


@dataclass(frozen=True, slots=True)
class Device:
    """A room-integration client: acts on the seats of its room."""

    id: str
    name: str
    seats: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Request:
    """An open request for the floor, waiting in the queue."""

    id: str
    participant: str
    kind: Kind
    lang: str
    at: int
    via: Via


@dataclass(frozen=True, slots=True)
class Floor:
    """A speaker's hold on the floor and its clock.

    `used_ms` is the time spoken before the current stretch; `running_since` is when
    the current stretch began, None while paused or interrupted. `limit_s` 0 is no limit.
    `expired` records that the time-expired notice was given for this floor.
    """

    participant: str
    request: str | None
    kind: Kind
    lang: str
    limit_s: int
    granted_at: int
    running_since: int | None
    used_ms: int = 0
    expired: bool = False

    def spoken_ms(self, now: int) -> int:
        """Milliseconds spoken so far, the running stretch included."""
        if self.running_since is None:
            return self.used_ms
        return self.used_ms + max(0, now - self.running_since)

    def deadline(self) -> int | None:
        """When the limit runs out, if the clock runs and there is a limit."""
        if self.running_since is None or self.limit_s == 0:
            return None
        return self.running_since + self.limit_s * 1000 - self.used_ms

    def stopped(self, now: int) -> Floor:
        """This floor with its clock stopped at `now`."""
        return replace(self, used_ms=self.spoken_ms(now), running_since=None)

    def started(self, now: int) -> Floor:
        """This stopped floor with its clock running again from `now`."""
        assert self.running_since is None, "the clock runs already"
        return replace(self, running_since=now)


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: str
    sender: str
    to: str
    """`all`, `chair`, or a participant id."""
    text: str
    at: int


@dataclass(frozen=True, slots=True)
class State:
    """One meeting, as folded from its log up to `seq`. `meeting` is None before creation."""

    meeting: Meeting | None = None
    seq: int = 0
    participants: Mapping[str, Participant] = field(default_factory=dict)
    devices: Mapping[str, Device] = field(default_factory=dict)
    queue: tuple[Request, ...] = ()
    floor: Floor | None = None
    interrupted: tuple[Floor, ...] = ()
    """A stack: the last one resumes first."""
    list_open: bool = True
    chat: tuple[ChatMessage, ...] = ()
    seats: Mapping[str, str] = field(default_factory=dict)
    recent: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    """Per actor, its last acknowledged (command id, seq of its last event), oldest first."""

    @property
    def settings(self) -> Settings:
        return self.meeting.settings if self.meeting is not None else Settings()

    def request_of(self, participant: str) -> Request | None:
        """The open request of a participant, if any."""
        for request in self.queue:
            if request.participant == participant:
                return request
        return None

    def find_request(self, request_id: str) -> Request | None:
        for request in self.queue:
            if request.id == request_id:
                return request
        return None

    def holds_or_awaits_floor(self, participant: str) -> bool:
        """Whether the participant speaks now or waits on the interrupted stack."""
        if self.floor is not None and self.floor.participant == participant:
            return True
        return any(f.participant == participant for f in self.interrupted)

    def is_live(self, participant: Participant) -> bool:
        """A microphone is live when unmuted and either holding the floor or a chair."""
        if participant.self_muted or participant.hard_muted:
            return False
        if participant.role is Role.CHAIR:
            return True
        return self.floor is not None and self.floor.participant == participant.id

    def live_participants(self) -> tuple[str, ...]:
        """Every live participant: the speaker first, then live chairs in roster order."""
        live: list[str] = []
        if self.floor is not None:
            speaker = self.participants.get(self.floor.participant)
            if speaker is not None and self.is_live(speaker):
                live.append(speaker.id)
        for p in self.participants.values():
            if p.role is Role.CHAIR and p.id not in live and self.is_live(p):
                live.append(p.id)
        return tuple(live)

    def acked(self, actor: str, command_id: str) -> int | None:
        """The seq an already-acknowledged command of this actor ended at, if remembered."""
        for cid, seq in self.recent.get(actor, ()):
            if cid == command_id:
                return seq
        return None
