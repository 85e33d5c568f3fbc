"""Rules of procedure for microphones, chat, the meeting, seats and the roster.

Soft mute is the participant's own; a hard mute is the chair's and only the chair
lifts it (or a grant of the floor). Chat goes to all, to the chair role, or to one
participant. Seats map consoles to participants; a device acts on its room's seats
only, as the participant seated there would. The roster changes through the admin API.
"""

from __future__ import annotations

from dataclasses import replace

from floor.state import commands as cmd
from floor.state import events as ev
from floor.state import floor_rules
from floor.state.decision import Draft
from floor.state.model import (
    ChatMessage,
    Device,
    Meeting,
    Participant,
    ReleaseReason,
    Role,
    Settings,
    State,
    Via,
)
from floor.state.rejection import Rejection, conflict, forbidden, invalid, not_found

CHAT_ALL = "all"
CHAT_CHAIR = "chair"

# --- microphones ---------------------------------------------------------------------------


def _self_mute(d: Draft, who: Participant, muted: bool) -> Rejection | None:
    if not muted and who.hard_muted:
        return forbidden("The chair has muted this microphone.")
    if who.self_muted != muted:
        d.emit(ev.MuteChanged(who.id, self_muted=muted, hard_muted=who.hard_muted))
    return None


def set_mute(d: Draft, actor: Participant, c: cmd.SetMute) -> Rejection | None:
    if c.participant is None or c.participant == actor.id:
        return _self_mute(d, actor, c.muted)
    if actor.role is not Role.CHAIR:
        return forbidden("Only the chair may mute another participant.")
    target = d.state.participants.get(c.participant)
    if target is None:
        return not_found(f"No participant {c.participant}.")
    if not target.may_speak:
        return conflict(f"{target.name} has no microphone.")
    if target.hard_muted != c.muted:
        d.emit(ev.MuteChanged(target.id, self_muted=target.self_muted, hard_muted=c.muted))
    return None


def mute_all(d: Draft, c: cmd.MuteAll) -> Rejection | None:
    state = d.state
    for pid in c.exceptions:
        if pid not in state.participants:
            return not_found(f"No participant {pid}.")
    speaker = state.floor.participant if state.floor is not None else None
    spared = {*c.exceptions, speaker}
    muted = tuple(
        p.id
        for p in state.participants.values()
        if p.role in (Role.DELEGATE, Role.OBSERVER) and not p.hard_muted and p.id not in spared
    )
    if muted:
        d.emit(ev.MuteAllSet(participants=muted))
    return None


# --- chat ----------------------------------------------------------------------------------


def send_chat(d: Draft, actor: Participant, c: cmd.SendChat) -> Rejection | None:
    if c.to not in (CHAT_ALL, CHAT_CHAIR):
        if c.to == actor.id:
            return invalid("to", "A message to yourself goes nowhere.")
        recipient = d.state.participants.get(c.to)
        if recipient is None or recipient.role is Role.DISPLAY:
            return not_found(f"No participant {c.to} to write to.")
    if not c.text.strip():
        return invalid("text", "`text` must not be blank.")
    d.emit(ev.ChatPosted(f"x-{d.next_seq}", actor.id, c.to, c.text, d.now))
    return None


def chat_visible_to_role(
    message: ChatMessage | ev.ChatPosted | ev.ChatDeleted, viewer: str, role: Role | None
) -> bool:
    """Whether `viewer` (of `role`; None for a device) may see a chat message."""
    if role is None:
        return False
    if message.to == CHAT_ALL:
        return True
    if role is Role.DISPLAY:
        return False
    if message.to == CHAT_CHAIR:
        return role is Role.CHAIR or message.sender == viewer
    return viewer in (message.sender, message.to)


def delete_chat(d: Draft, actor: Participant, c: cmd.DeleteChat) -> Rejection | None:
    for message in d.state.chat:
        if message.id == c.message and chat_visible_to_role(message, actor.id, actor.role):
            d.emit(ev.ChatDeleted(message.id, message.sender, message.to))
            return None
    return not_found(f"No chat message {c.message}.")


# --- meeting and settings ------------------------------------------------------------------


def _settings(base: Settings, change: cmd.UpdateSettings) -> Settings:
    return Settings(
        default_limit_s=base.default_limit_s
        if change.default_limit_s is None
        else change.default_limit_s,
        floor_mode=base.floor_mode if change.floor_mode is None else change.floor_mode,
        cut_at_limit=base.cut_at_limit if change.cut_at_limit is None else change.cut_at_limit,
        observers_may_speak=base.observers_may_speak
        if change.observers_may_speak is None
        else change.observers_may_speak,
        one_request_per_delegation=base.one_request_per_delegation
        if change.one_request_per_delegation is None
        else change.one_request_per_delegation,
    )


def create_meeting(d: Draft, c: cmd.CreateMeeting) -> Rejection | None:
    if d.state.meeting is not None:
        return conflict(f"The meeting {d.state.meeting.id} exists already.")
    d.emit(
        ev.MeetingCreated(Meeting(c.meeting, c.title, settings=_settings(Settings(), c.settings)))
    )
    return None


def set_status(d: Draft, c: cmd.SetStatus) -> None:
    assert d.state.meeting is not None
    if d.state.meeting.status is not c.status:
        d.emit(ev.MeetingStatusChanged(status=c.status))


def update_settings(d: Draft, c: cmd.UpdateSettings) -> None:
    settings = _settings(d.state.settings, c)
    if settings != d.state.settings:
        d.emit(ev.SettingsChanged(settings=settings))


# --- seats and devices ---------------------------------------------------------------------


def assign_seat(d: Draft, c: cmd.AssignSeat) -> Rejection | None:
    state = d.state
    if c.participant is None:
        if c.seat in state.seats:
            d.emit(ev.SeatAssigned(seat=c.seat, participant=None))
        return None
    who = state.participants.get(c.participant)
    if who is None:
        return not_found(f"No participant {c.participant}.")
    if not who.may_speak:
        return conflict(f"{who.name} cannot have a seat (role {who.role}).")
    if state.seats.get(c.seat) != who.id:
        d.emit(ev.SeatAssigned(seat=c.seat, participant=who.id))
    return None


def _seated(state: State, device: Device, seat: str) -> Participant | Rejection:
    if seat not in device.seats:
        return forbidden(f"Seat {seat} is not in the room of {device.name}.")
    occupant = state.seats.get(seat)
    if occupant is None:
        return not_found(f"Nobody sits at seat {seat}.")
    return state.participants[occupant]


def seat_request(d: Draft, device: Device, c: cmd.SeatRequest) -> Rejection | None:
    """The request-to-speak button: a toggle."""
    who = _seated(d.state, device, c.seat)
    if isinstance(who, Rejection):
        return who
    open_request = d.state.request_of(who.id)
    if open_request is not None:
        floor_rules.withdraw(d, open_request)
        return None
    return floor_rules.request_floor(d, who, c.kind, None, Via.SEAT, by_chair=False)


def seat_release(d: Draft, device: Device, c: cmd.SeatRelease) -> Rejection | None:
    who = _seated(d.state, device, c.seat)
    if isinstance(who, Rejection):
        return who
    floor = d.state.floor
    if floor is None or floor.participant != who.id:
        return conflict(f"Seat {c.seat} does not hold the floor.")
    floor_rules.end_floor(d, ReleaseReason.YIELDED)
    return None


def seat_mute(d: Draft, device: Device, c: cmd.SeatMute) -> Rejection | None:
    who = _seated(d.state, device, c.seat)
    if isinstance(who, Rejection):
        return who
    return _self_mute(d, who, c.muted)


def add_device(d: Draft, c: cmd.AddDevice) -> Rejection | None:
    seats = tuple(dict.fromkeys(c.seats))
    for other in d.state.devices.values():
        shared = set(seats) & set(other.seats)
        if shared:
            return conflict(f"Seat {min(shared)} is in the room of {other.name} already.")
    d.emit(ev.DeviceAdded(Device(f"d-{d.next_seq}", c.device_name, seats)))
    return None


# --- the roster ----------------------------------------------------------------------------


def _seat_free(state: State, seat: str | None, pid: str | None) -> Rejection | None:
    occupant = state.seats.get(seat) if seat is not None else None
    if occupant is not None and occupant != pid:
        return conflict(f"Seat {seat} is taken by {state.participants[occupant].name}.")
    return None


def add_participant(d: Draft, c: cmd.AddParticipant) -> Rejection | None:
    taken = _seat_free(d.state, c.seat, None)
    if taken is not None:
        return taken
    if c.role is Role.DISPLAY and c.seat is not None:
        return conflict("A display cannot have a seat.")
    participant = Participant(
        id=f"p-{d.next_seq}",
        name=c.participant_name,
        delegation=c.delegation,
        role=c.role,
        attendance=c.attendance,
        seat=c.seat,
        lang=c.lang,
        self_muted=c.role is Role.CHAIR,
    )
    d.emit(ev.ParticipantAdded(participant))
    return None


def update_participant(d: Draft, c: cmd.UpdateParticipant) -> Rejection | None:
    state = d.state
    old = state.participants.get(c.participant)
    if old is None:
        return not_found(f"No participant {c.participant}.")
    new = replace(
        old,
        name=old.name if c.participant_name is None else c.participant_name,
        delegation=old.delegation if c.delegation is None else c.delegation,
        role=old.role if c.role is None else c.role,
        attendance=old.attendance if c.attendance is None else c.attendance,
        seat=old.seat if c.seat == cmd.UNSET else c.seat,
        lang=old.lang if c.lang == cmd.UNSET else c.lang,
    )
    if new.role is Role.CHAIR and old.role is not Role.CHAIR and not state.is_live(old):
        # Chairs join self-muted: becoming one must not open a closed microphone.
        new = replace(new, self_muted=True)
    taken = _seat_free(state, new.seat, new.id)
    if taken is not None:
        return taken
    if not new.may_speak:
        if new.seat is not None:
            return conflict("A display cannot have a seat.")
        if state.holds_or_awaits_floor(new.id) or state.request_of(new.id) is not None:
            return conflict(f"{new.name} is on the floor or the list of speakers.")
    if new != old:
        d.emit(ev.ParticipantUpdated(new))
    return None


def remove_participant(d: Draft, c: cmd.RemoveParticipant) -> Rejection | None:
    state = d.state
    if c.participant not in state.participants:
        return not_found(f"No participant {c.participant}.")
    request = state.request_of(c.participant)
    if request is not None:
        floor_rules.withdraw(d, request)
    if state.floor is not None and state.floor.participant == c.participant:
        floor_rules.end_floor(d, ReleaseReason.REMOVED)
    d.emit(ev.ParticipantRemoved(participant=c.participant))
    return None
