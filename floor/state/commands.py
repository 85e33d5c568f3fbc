"""Commands: what an actor asks of a meeting, as typed, validated, frozen values.

Three families:
- wire commands, the catalogue of PROTOCOL.md section 5, parsed from a client's plain
  `name` and `args` map by `parse_command` (floor.state.parsing), which answers `unknown_command` or
  `invalid_args` naming the field;
- admin commands, issued by the HTTP API (`by: admin`), built through `parse_admin`
  from a request body, or directly;
- the system command `ExpireTime`, issued by the meeting host when a speaker's
  deadline passes.

Parsing checks shape only (types, ranges, lengths, known values); what depends on the
meeting's state is `decide`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from floor.state.model import Attendance, FloorMode, Kind, Role, Status

MAX_ID: Final = 64
MAX_NAME: Final = 200
MAX_CHAT: Final = 2000
MAX_LIMIT_S: Final = 24 * 3600
MAX_EXTEND_S: Final = 3600
MAX_SEATS: Final = 10_000
MAX_LANG: Final = 35

"""A BCP 47 language tag's shape: a language subtag, then `-`-separated subtags."""

# --- floor and list of speakers ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestFloor:
    name: ClassVar[str] = "floor.request"
    kind: Kind = Kind.SPEAK
    lang: str | None = None
    participant: str | None = None


@dataclass(frozen=True, slots=True)
class WithdrawFloor:
    name: ClassVar[str] = "floor.withdraw"
    request: str | None = None


@dataclass(frozen=True, slots=True)
class MoveRequest:
    name: ClassVar[str] = "floor.move"
    request: str
    position: int


@dataclass(frozen=True, slots=True)
class GrantFloor:
    name: ClassVar[str] = "floor.grant"
    request: str | None = None
    participant: str | None = None
    limit_s: int | None = None


@dataclass(frozen=True, slots=True)
class ReleaseFloor:
    name: ClassVar[str] = "floor.release"


@dataclass(frozen=True, slots=True)
class ExtendFloor:
    name: ClassVar[str] = "floor.extend"
    seconds: int


@dataclass(frozen=True, slots=True)
class PauseFloor:
    name: ClassVar[str] = "floor.pause"


@dataclass(frozen=True, slots=True)
class UnpauseFloor:
    name: ClassVar[str] = "floor.unpause"


@dataclass(frozen=True, slots=True)
class CloseList:
    name: ClassVar[str] = "list.close"


@dataclass(frozen=True, slots=True)
class OpenList:
    name: ClassVar[str] = "list.open"


@dataclass(frozen=True, slots=True)
class ClearQueue:
    name: ClassVar[str] = "queue.clear"


# --- microphones and mute -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetMute:
    name: ClassVar[str] = "mute.set"
    muted: bool
    participant: str | None = None


@dataclass(frozen=True, slots=True)
class MuteAll:
    name: ClassVar[str] = "mute.all"
    exceptions: tuple[str, ...] = ()


# --- chat ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendChat:
    name: ClassVar[str] = "chat.send"
    to: str
    text: str


@dataclass(frozen=True, slots=True)
class DeleteChat:
    name: ClassVar[str] = "chat.delete"
    message: str


# --- meeting, seats, settings -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetStatus:
    name: ClassVar[str] = "meeting.set_status"
    status: Status


@dataclass(frozen=True, slots=True)
class UpdateSettings:
    """A partial change: None leaves a setting as it is."""

    name: ClassVar[str] = "settings.update"
    default_limit_s: int | None = None
    floor_mode: FloorMode | None = None
    cut_at_limit: bool | None = None
    observers_may_speak: bool | None = None
    one_request_per_delegation: bool | None = None


@dataclass(frozen=True, slots=True)
class AssignSeat:
    name: ClassVar[str] = "seat.assign"
    seat: str
    participant: str | None


# --- room devices -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeatRequest:
    name: ClassVar[str] = "seat.request"
    seat: str
    kind: Kind = Kind.SPEAK


@dataclass(frozen=True, slots=True)
class SeatRelease:
    name: ClassVar[str] = "seat.release"
    seat: str


@dataclass(frozen=True, slots=True)
class SeatMute:
    name: ClassVar[str] = "seat.mute"
    seat: str
    muted: bool


# --- admin (HTTP API) and system ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateMeeting:
    name: ClassVar[str] = "meeting.create"
    meeting: str
    title: str
    settings: UpdateSettings = UpdateSettings()


@dataclass(frozen=True, slots=True)
class AddParticipant:
    name: ClassVar[str] = "participant.add"
    participant_name: str
    delegation: str
    role: Role
    attendance: Attendance = Attendance.REMOTE
    seat: str | None = None
    lang: str | None = None


_UNSET: Final = "\x00unset"


@dataclass(frozen=True, slots=True)
class UpdateParticipant:
    """A partial change; for `seat` and `lang`, `UNSET` leaves it and None clears it."""

    name: ClassVar[str] = "participant.update"
    participant: str
    participant_name: str | None = None
    delegation: str | None = None
    role: Role | None = None
    attendance: Attendance | None = None
    seat: str | None = _UNSET
    lang: str | None = _UNSET


UNSET: Final = _UNSET


@dataclass(frozen=True, slots=True)
class RemoveParticipant:
    name: ClassVar[str] = "participant.remove"
    participant: str


@dataclass(frozen=True, slots=True)
class AddDevice:
    name: ClassVar[str] = "device.add"
    device_name: str
    seats: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ExpireTime:
    """The host's timer: the speaker's deadline may have passed (decide checks it)."""

    name: ClassVar[str] = "floor.expire"


WireCommand = (
    RequestFloor
    | WithdrawFloor
    | MoveRequest
    | GrantFloor
    | ReleaseFloor
    | ExtendFloor
    | PauseFloor
    | UnpauseFloor
    | CloseList
    | OpenList
    | ClearQueue
    | SetMute
    | MuteAll
    | SendChat
    | DeleteChat
    | SetStatus
    | UpdateSettings
    | AssignSeat
    | SeatRequest
    | SeatRelease
    | SeatMute
)
AdminCommand = CreateMeeting | AddParticipant | UpdateParticipant | RemoveParticipant | AddDevice
Command = WireCommand | AdminCommand | ExpireTime
