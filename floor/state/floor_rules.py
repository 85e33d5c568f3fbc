"""Rules of procedure for the list of speakers and the floor.

One single ordered queue per meeting; points of order go before every other kind;
one open request per participant (and per delegation when the setting is on); a
point of order granted over a speaker interrupts them onto a stack, and each later
release resumes the top of that stack; in auto floor mode the head is granted as soon
as the floor is free. Each rule reads the draft's state, emits events, or returns the
rejection that stops the whole command.
"""

from __future__ import annotations

from dataclasses import replace

from floor.state import commands as cmd
from floor.state import events as ev
from floor.state.decision import Draft
from floor.state.model import (
    SYSTEM,
    Floor,
    FloorMode,
    Kind,
    Participant,
    ReleaseReason,
    Request,
    Role,
    State,
    Status,
    Via,
)
from floor.state.rejection import Code, Rejection, conflict, forbidden, not_found

DEFAULT_LANG = "en"


def _position(state: State, kind: Kind) -> int:
    """Where a new request of `kind` goes: points of order after the last point of order."""
    if kind is not Kind.POINT_OF_ORDER:
        return len(state.queue)
    return points_of_order(state)


def points_of_order(state: State) -> int:
    """How many points of order lead the queue."""
    count = 0
    for request in state.queue:
        if request.kind is not Kind.POINT_OF_ORDER:
            break
        count += 1
    return count


def request_floor(
    d: Draft, who: Participant, kind: Kind, lang: str | None, via: Via, *, by_chair: bool
) -> Rejection | None:
    """Put `who` on the list of speakers."""
    state = d.state
    if not who.may_speak:
        return conflict(f"{who.name} cannot take the floor (role {who.role}).")
    if who.role is Role.OBSERVER and not state.settings.observers_may_speak and not by_chair:
        return forbidden("Observers may not ask for the floor in this meeting.")
    if state.holds_or_awaits_floor(who.id):
        return conflict(f"{who.name} already has the floor.")
    if state.request_of(who.id) is not None:
        return conflict(f"{who.name} is already on the list of speakers.")
    if state.settings.one_request_per_delegation:
        for request in state.queue:
            if state.participants[request.participant].delegation == who.delegation:
                return conflict(f"The delegation {who.delegation} is already on the list.")
    if not state.list_open and kind is Kind.SPEAK:
        return Rejection(Code.LIST_CLOSED, "The list of speakers is closed.")
    d.emit(
        ev.FloorRequested(
            request=f"r-{d.next_seq}",
            participant=who.id,
            kind=kind,
            lang=lang or who.lang or DEFAULT_LANG,
            at=d.now,
            via=via,
            position=_position(state, kind),
        )
    )
    return None


def withdraw(d: Draft, request: Request) -> None:
    d.emit(ev.FloorWithdrawn(request=request.id, participant=request.participant))


def withdraw_floor(d: Draft, actor: Participant, c: cmd.WithdrawFloor) -> Rejection | None:
    state = d.state
    if c.request is None:
        request = state.request_of(actor.id)
        if request is None:
            return not_found("You have no open request.")
    else:
        request = state.find_request(c.request)
        if request is None:
            return not_found(f"No open request {c.request}.")
        if request.participant != actor.id and actor.role is not Role.CHAIR:
            return forbidden("Only the chair may withdraw another participant's request.")
    withdraw(d, request)
    return None


def move_request(d: Draft, c: cmd.MoveRequest) -> Rejection | None:
    state = d.state
    request = state.find_request(c.request)
    if request is None:
        return not_found(f"No open request {c.request}.")
    rest = [r for r in state.queue if r.id != request.id]
    leading = sum(1 for r in rest if r.kind is Kind.POINT_OF_ORDER)
    if request.kind is Kind.POINT_OF_ORDER:
        position = min(c.position, leading)
    else:
        position = max(leading, min(c.position, len(rest)))
    if state.queue.index(request) != position:
        d.emit(ev.FloorMoved(request=request.id, position=position))
    return None


def grant(
    d: Draft, who: Participant, request: Request | None, limit_s: int, *, by: str | None = None
) -> None:
    """Give `who` the floor: end (or interrupt) the current one, lift a hard mute, grant."""
    kind = request.kind if request is not None else Kind.SPEAK
    current = d.state.floor
    if current is not None:
        if kind is Kind.POINT_OF_ORDER:
            d.emit(ev.FloorInterrupted(floor=current.stopped(d.now)), by=by)
        else:
            spoke = current.spoken_ms(d.now)
            d.emit(ev.FloorReleased(current.participant, ReleaseReason.NEXT, spoke), by=by)
    if who.hard_muted:
        d.emit(ev.MuteChanged(who.id, who.self_muted, hard_muted=False), by=by)
    floor = Floor(
        participant=who.id,
        request=request.id if request is not None else None,
        kind=kind,
        lang=request.lang if request is not None else who.lang or DEFAULT_LANG,
        limit_s=limit_s,
        granted_at=d.now,
        running_since=d.now,
    )
    d.emit(ev.FloorGranted(floor=floor), by=by)


def grant_floor(d: Draft, c: cmd.GrantFloor) -> Rejection | None:
    state = d.state
    request: Request | None
    if c.request is not None:
        request = state.find_request(c.request)
        if request is None:
            return not_found(f"No open request {c.request}.")
        if c.participant is not None and c.participant != request.participant:
            return Rejection(Code.INVALID_ARGS, "Request of someone else.", "participant")
        who = state.participants[request.participant]
    elif c.participant is not None:
        found = state.participants.get(c.participant)
        if found is None:
            return not_found(f"No participant {c.participant}.")
        who, request = found, state.request_of(found.id)
    elif state.queue:
        request = state.queue[0]
        who = state.participants[request.participant]
    else:
        return not_found("The list of speakers is empty.")
    if not who.may_speak:
        return conflict(f"{who.name} cannot take the floor (role {who.role}).")
    if state.holds_or_awaits_floor(who.id):
        return conflict(f"{who.name} already has the floor.")
    limit = state.settings.default_limit_s if c.limit_s is None else c.limit_s
    grant(d, who, request, limit)
    return None


def end_floor(d: Draft, reason: ReleaseReason, *, by: str | None = None) -> None:
    """Release the current floor; the top interrupted speaker, if any, resumes."""
    floor = d.state.floor
    assert floor is not None
    d.emit(ev.FloorReleased(floor.participant, reason, floor.spoken_ms(d.now)), by=by)
    if d.state.interrupted:
        d.emit(ev.FloorResumed(floor=d.state.interrupted[-1].started(d.now)), by=by)


def release_floor(d: Draft, actor: Participant) -> Rejection | None:
    floor = d.state.floor
    if floor is None:
        return conflict("Nobody holds the floor.")
    if floor.participant == actor.id:
        end_floor(d, ReleaseReason.YIELDED)
    elif actor.role is Role.CHAIR:
        end_floor(d, ReleaseReason.CHAIR)
    else:
        return forbidden("Only the speaker or the chair may end the floor.")
    return None


def extend_floor(d: Draft, c: cmd.ExtendFloor) -> Rejection | None:
    floor = d.state.floor
    if floor is None:
        return conflict("Nobody holds the floor.")
    if floor.limit_s == 0:
        return conflict("The floor has no time limit.")
    limit = floor.limit_s + c.seconds
    still_expired = floor.expired and floor.spoken_ms(d.now) >= limit * 1000
    d.emit(ev.FloorExtended(floor=replace(floor, limit_s=limit, expired=still_expired)))
    return None


def pause_floor(d: Draft) -> Rejection | None:
    floor = d.state.floor
    if floor is None:
        return conflict("Nobody holds the floor.")
    if floor.running_since is None:
        return conflict("The clock is already paused.")
    d.emit(ev.FloorPaused(floor=floor.stopped(d.now)))
    return None


def unpause_floor(d: Draft) -> Rejection | None:
    floor = d.state.floor
    if floor is None:
        return conflict("Nobody holds the floor.")
    if floor.running_since is not None:
        return conflict("The clock is not paused.")
    d.emit(ev.FloorUnpaused(floor=floor.started(d.now)))
    return None


def set_list_open(d: Draft, is_open: bool) -> None:
    if d.state.list_open != is_open:
        d.emit(ev.ListOpened() if is_open else ev.ListClosed())


def clear_queue(d: Draft) -> None:
    if d.state.queue:
        d.emit(ev.QueueCleared())


def expire_time(d: Draft) -> None:
    """The host's timer fired: note the expiry once per floor; cut if the meeting says so."""
    floor = d.state.floor
    deadline = next_deadline(d.state)
    if floor is None or deadline is None or d.now < deadline:
        return
    d.emit(ev.FloorTimeExpired(participant=floor.participant), by=SYSTEM)
    if d.state.settings.cut_at_limit:
        end_floor(d, ReleaseReason.TIME, by=SYSTEM)


def next_deadline(state: State) -> int | None:
    """When the host should next issue `ExpireTime` for this meeting, if ever."""
    floor = state.floor
    if floor is None or floor.expired:
        return None
    return floor.deadline()


def grant_automatically(d: Draft) -> None:
    """Auto floor mode: the head of the queue takes a free floor at once."""
    state = d.state
    if (
        state.meeting is None
        or state.settings.floor_mode is not FloorMode.AUTO
        or state.meeting.status is not Status.OPEN
        or state.floor is not None
        or state.interrupted
        or not state.queue
    ):
        return
    head = state.queue[0]
    grant(d, state.participants[head.participant], head, state.settings.default_limit_s, by=SYSTEM)
