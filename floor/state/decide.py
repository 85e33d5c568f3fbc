"""decide(state, command, actor, now) -> Accepted | Rejection: the rules of procedure.

The checks run in a fixed order, and the first that fails rejects the whole command:

1. a retried command id already acknowledged for this actor: `Accepted(duplicate)`;
2. the meeting must exist (`not_found`), and the actor must be known (`forbidden`);
3. who may (`forbidden`): the command's family decides which actors may send it —
   participants by role, devices, the admin API or the system timer;
4. the meeting's status: while closed only the chair's `meeting.set_status`
   (`meeting_closed`); while suspended only the chair, points of order and chat
   (`meeting_suspended`);
5. the command's own rule (floor_rules, room_rules), which emits events or rejects;
6. automatic follow-ups (auto floor mode), in the same write, by `system`.
"""

from __future__ import annotations

from typing import Final

from floor.state import commands as cmd
from floor.state import floor_rules, room_rules
from floor.state.decision import Accepted, Draft
from floor.state.events import Cause
from floor.state.model import ADMIN, SYSTEM, Device, Kind, Participant, Role, State, Status, Via
from floor.state.rejection import Code, Rejection, forbidden, not_found

_CHAIR: Final = frozenset({Role.CHAIR})
_SPEAKERS: Final = frozenset({Role.CHAIR, Role.DELEGATE, Role.OBSERVER})

PARTICIPANT_COMMANDS: Final[dict[type[cmd.Command], frozenset[Role]]] = {
    cmd.RequestFloor: _SPEAKERS,
    cmd.WithdrawFloor: _SPEAKERS,
    cmd.MoveRequest: _CHAIR,
    cmd.GrantFloor: _CHAIR,
    cmd.ReleaseFloor: _SPEAKERS,
    cmd.ExtendFloor: _CHAIR,
    cmd.PauseFloor: _CHAIR,
    cmd.UnpauseFloor: _CHAIR,
    cmd.CloseList: _CHAIR,
    cmd.OpenList: _CHAIR,
    cmd.ClearQueue: _CHAIR,
    cmd.SetMute: _SPEAKERS,
    cmd.MuteAll: _CHAIR,
    cmd.SendChat: _SPEAKERS,
    cmd.DeleteChat: _CHAIR,
    cmd.SetStatus: _CHAIR,
    cmd.UpdateSettings: _CHAIR,
    cmd.AssignSeat: _CHAIR,
}
"""Which participant roles may send each participant command."""

DEVICE_COMMANDS: Final = frozenset({cmd.SeatRequest, cmd.SeatRelease, cmd.SeatMute})


def decide(
    state: State, command: cmd.Command, actor: str, now: int, command_id: str | None = None
) -> Accepted | Rejection:
    """The events `command` by `actor` at `now` produces, or why it changes nothing."""
    if command_id is not None:
        seq = state.acked(actor, command_id)
        if seq is not None:
            return Accepted((), seq, duplicate=True, state=state)
    cause = Cause(actor, command_id) if command_id is not None else None
    d = Draft(state, actor, now, cause)
    rejection = _dispatch(d, command)
    if rejection is not None:
        return rejection
    floor_rules.grant_automatically(d)
    return d.accepted()


def _dispatch(d: Draft, command: cmd.Command) -> Rejection | None:
    state = d.state
    if isinstance(command, cmd.CreateMeeting):
        if d.actor != ADMIN:
            return forbidden("Only the admin API creates meetings.")
        return room_rules.create_meeting(d, command)
    if state.meeting is None:
        return not_found("No such meeting.")
    if d.actor == ADMIN:
        return _admin(d, command)
    if d.actor == SYSTEM:
        if not isinstance(command, cmd.ExpireTime):
            return forbidden("The system only keeps time.")
        floor_rules.expire_time(d)
        return None
    participant = state.participants.get(d.actor)
    if participant is not None:
        return _participant(d, participant, command)
    device = state.devices.get(d.actor)
    if device is not None:
        return _device(d, device, command)
    return forbidden("Unknown participant or device.")


def _status_allows(state: State, command: cmd.Command, chair: bool) -> Rejection | None:
    assert state.meeting is not None
    status = state.meeting.status
    if status is Status.CLOSED and not (chair and isinstance(command, cmd.SetStatus)):
        return Rejection(Code.MEETING_CLOSED, "The meeting is closed.")
    if status is Status.SUSPENDED and not chair:
        point_of_order = (
            isinstance(command, cmd.RequestFloor | cmd.SeatRequest)
            and command.kind is Kind.POINT_OF_ORDER
        )
        if not point_of_order and not isinstance(command, cmd.SendChat):
            return Rejection(Code.MEETING_SUSPENDED, "The meeting is suspended.")
    return None


def _participant(d: Draft, actor: Participant, command: cmd.Command) -> Rejection | None:
    roles = PARTICIPANT_COMMANDS.get(type(command))
    if roles is None or actor.role not in roles:
        return forbidden(f"A {actor.role} may not {command.name}.")
    chair = actor.role is Role.CHAIR
    status = _status_allows(d.state, command, chair)
    if status is not None:
        return status
    match command:
        case cmd.RequestFloor():
            return _request_floor(d, actor, command)
        case cmd.WithdrawFloor():
            return floor_rules.withdraw_floor(d, actor, command)
        case cmd.MoveRequest():
            return floor_rules.move_request(d, command)
        case cmd.GrantFloor():
            return floor_rules.grant_floor(d, command)
        case cmd.ReleaseFloor():
            return floor_rules.release_floor(d, actor)
        case cmd.ExtendFloor():
            return floor_rules.extend_floor(d, command)
        case cmd.PauseFloor():
            return floor_rules.pause_floor(d)
        case cmd.UnpauseFloor():
            return floor_rules.unpause_floor(d)
        case cmd.CloseList() | cmd.OpenList():
            floor_rules.set_list_open(d, isinstance(command, cmd.OpenList))
            return None
        case cmd.ClearQueue():
            floor_rules.clear_queue(d)
            return None
        case cmd.SetMute():
            return room_rules.set_mute(d, actor, command)
        case cmd.MuteAll():
            return room_rules.mute_all(d, command)
        case cmd.SendChat():
            return room_rules.send_chat(d, actor, command)
        case cmd.DeleteChat():
            return room_rules.delete_chat(d, actor, command)
        case cmd.SetStatus():
            room_rules.set_status(d, command)
            return None
        case cmd.UpdateSettings():
            room_rules.update_settings(d, command)
            return None
        case cmd.AssignSeat():
            return room_rules.assign_seat(d, command)
        case _:  # pragma: no cover - the role table admits no other command
            raise AssertionError(command)


def _request_floor(d: Draft, actor: Participant, c: cmd.RequestFloor) -> Rejection | None:
    if c.participant is None or c.participant == actor.id:
        who = actor
    elif actor.role is not Role.CHAIR:
        return forbidden("Only the chair may inscribe another participant.")
    else:
        found = d.state.participants.get(c.participant)
        if found is None:
            return not_found(f"No participant {c.participant}.")
        who = found
    by_chair = actor.role is Role.CHAIR
    return floor_rules.request_floor(d, who, c.kind, c.lang, Via.BROWSER, by_chair=by_chair)


def _device(d: Draft, device: Device, command: cmd.Command) -> Rejection | None:
    if type(command) not in DEVICE_COMMANDS:
        return forbidden(f"A device may not {command.name}.")
    status = _status_allows(d.state, command, chair=False)
    if status is not None:
        return status
    match command:
        case cmd.SeatRequest():
            return room_rules.seat_request(d, device, command)
        case cmd.SeatRelease():
            return room_rules.seat_release(d, device, command)
        case cmd.SeatMute():
            return room_rules.seat_mute(d, device, command)
        case _:  # pragma: no cover - DEVICE_COMMANDS admits no other command
            raise AssertionError(command)


def _admin(d: Draft, command: cmd.Command) -> Rejection | None:
    match command:
        case cmd.AddParticipant():
            return room_rules.add_participant(d, command)
        case cmd.UpdateParticipant():
            return room_rules.update_participant(d, command)
        case cmd.RemoveParticipant():
            return room_rules.remove_participant(d, command)
        case cmd.AddDevice():
            return room_rules.add_device(d, command)
        case _:
            return forbidden(f"The admin API does not {command.name}.")
