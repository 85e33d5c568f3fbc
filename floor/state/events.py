"""Events: the facts of a meeting, in the past tense, as its log records them.

An `Event` is the envelope the log keeps: its `seq` (1, 2, 3 … per meeting), when
(`at`), who acted (`by`: a participant, a device, `admin` or `system`), the command
that caused it (`cause`, for idempotent retries; None for automatic follow-ups of
nobody's command) and its `data`, one of the frozen payloads below. Each payload's
`name` is its wire name. `floor.state.wire` turns them into plain maps and back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from floor.state.model import (
    Device,
    Floor,
    Kind,
    Meeting,
    Participant,
    ReleaseReason,
    Settings,
    Status,
    Via,
)


@dataclass(frozen=True, slots=True)
class MeetingCreated:
    name: ClassVar[str] = "meeting.created"
    meeting: Meeting


@dataclass(frozen=True, slots=True)
class ParticipantAdded:
    name: ClassVar[str] = "participant.added"
    participant: Participant


@dataclass(frozen=True, slots=True)
class ParticipantUpdated:
    name: ClassVar[str] = "participant.updated"
    participant: Participant


@dataclass(frozen=True, slots=True)
class ParticipantRemoved:
    name: ClassVar[str] = "participant.removed"
    participant: str


@dataclass(frozen=True, slots=True)
class DeviceAdded:
    name: ClassVar[str] = "device.added"
    device: Device


@dataclass(frozen=True, slots=True)
class FloorRequested:
    name: ClassVar[str] = "floor.requested"
    request: str
    participant: str
    kind: Kind
    lang: str
    at: int
    via: Via
    position: int


@dataclass(frozen=True, slots=True)
class FloorWithdrawn:
    name: ClassVar[str] = "floor.withdrawn"
    request: str
    participant: str


@dataclass(frozen=True, slots=True)
class FloorMoved:
    name: ClassVar[str] = "floor.moved"
    request: str
    position: int


@dataclass(frozen=True, slots=True)
class FloorGranted:
    name: ClassVar[str] = "floor.granted"
    floor: Floor


@dataclass(frozen=True, slots=True)
class FloorReleased:
    name: ClassVar[str] = "floor.released"
    participant: str
    reason: ReleaseReason
    spoke_ms: int


@dataclass(frozen=True, slots=True)
class FloorInterrupted:
    name: ClassVar[str] = "floor.interrupted"
    floor: Floor


@dataclass(frozen=True, slots=True)
class FloorResumed:
    name: ClassVar[str] = "floor.resumed"
    floor: Floor


@dataclass(frozen=True, slots=True)
class FloorExtended:
    name: ClassVar[str] = "floor.extended"
    floor: Floor


@dataclass(frozen=True, slots=True)
class FloorPaused:
    name: ClassVar[str] = "floor.paused"
    floor: Floor


@dataclass(frozen=True, slots=True)
class FloorUnpaused:
    name: ClassVar[str] = "floor.unpaused"
    floor: Floor


@dataclass(frozen=True, slots=True)
class FloorTimeExpired:
    name: ClassVar[str] = "floor.time_expired"
    participant: str


@dataclass(frozen=True, slots=True)
class ListClosed:
    name: ClassVar[str] = "list.closed"


@dataclass(frozen=True, slots=True)
class ListOpened:
    name: ClassVar[str] = "list.opened"


@dataclass(frozen=True, slots=True)
class QueueCleared:
    name: ClassVar[str] = "queue.cleared"


@dataclass(frozen=True, slots=True)
class MuteChanged:
    name: ClassVar[str] = "mute.changed"
    participant: str
    self_muted: bool
    hard_muted: bool


@dataclass(frozen=True, slots=True)
class MuteAllSet:
    name: ClassVar[str] = "mute.all_set"
    participants: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChatPosted:
    name: ClassVar[str] = "chat.posted"
    message: str
    sender: str
    to: str
    text: str
    at: int


@dataclass(frozen=True, slots=True)
class ChatDeleted:
    """Carries the deleted message's audience (`sender`, `to`) so it can be routed."""

    name: ClassVar[str] = "chat.deleted"
    message: str
    sender: str
    to: str


@dataclass(frozen=True, slots=True)
class MeetingStatusChanged:
    name: ClassVar[str] = "meeting.status_changed"
    status: Status


@dataclass(frozen=True, slots=True)
class SettingsChanged:
    name: ClassVar[str] = "settings.changed"
    settings: Settings


@dataclass(frozen=True, slots=True)
class SeatAssigned:
    name: ClassVar[str] = "seat.assigned"
    seat: str
    participant: str | None


EventData = (
    MeetingCreated
    | ParticipantAdded
    | ParticipantUpdated
    | ParticipantRemoved
    | DeviceAdded
    | FloorRequested
    | FloorWithdrawn
    | FloorMoved
    | FloorGranted
    | FloorReleased
    | FloorInterrupted
    | FloorResumed
    | FloorExtended
    | FloorPaused
    | FloorUnpaused
    | FloorTimeExpired
    | ListClosed
    | ListOpened
    | QueueCleared
    | MuteChanged
    | MuteAllSet
    | ChatPosted
    | ChatDeleted
    | MeetingStatusChanged
    | SettingsChanged
    | SeatAssigned
)

EVENT_TYPES: tuple[type[EventData], ...] = (
    MeetingCreated,
    ParticipantAdded,
    ParticipantUpdated,
    ParticipantRemoved,
    DeviceAdded,
    FloorRequested,
    FloorWithdrawn,
    FloorMoved,
    FloorGranted,
    FloorReleased,
    FloorInterrupted,
    FloorResumed,
    FloorExtended,
    FloorPaused,
    FloorUnpaused,
    FloorTimeExpired,
    ListClosed,
    ListOpened,
    QueueCleared,
    MuteChanged,
    MuteAllSet,
    ChatPosted,
    ChatDeleted,
    MeetingStatusChanged,
    SettingsChanged,
    SeatAssigned,
)


@dataclass(frozen=True, slots=True)
class Cause:
    """The acknowledged command an event came from: its actor and the client's id."""

    actor: str
    command: str


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    at: int
    by: str
    data: EventData
    cause: Cause | None = None

    @property
    def name(self) -> str:
        return self.data.name
