"""evolve(state, event) -> state: how each fact changes a meeting. No rules here.

`evolve` trusts its events: they were decided against the state they follow, so it
neither checks nor rejects. Every state transition lives here and nowhere else;
`fold` replays a log from the empty state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TypeVar, assert_never

from floor.state import events as ev
from floor.state.model import (
    CHAT_KEPT,
    COMMANDS_REMEMBERED,
    ChatMessage,
    Participant,
    Request,
    State,
)

K = TypeVar("K")
V = TypeVar("V")


def _with(mapping: Mapping[K, V], key: K, value: V) -> dict[K, V]:
    updated = dict(mapping)
    updated[key] = value
    return updated


def _without(mapping: Mapping[K, V], key: K) -> dict[K, V]:
    updated = dict(mapping)
    updated.pop(key, None)
    return updated


def _insert(queue: tuple[Request, ...], request: Request, position: int) -> tuple[Request, ...]:
    return (*queue[:position], request, *queue[position:])


def _seated(state: State, participant: Participant, seat: str | None) -> State:
    """State with `participant` (as given) stored and seated at `seat` (None: unseated).

    Whoever sat at `seat` before loses it.
    """
    seats = dict(state.seats)
    participants = dict(state.participants)
    old = state.participants.get(participant.id)
    if old is not None and old.seat is not None and seats.get(old.seat) == participant.id:
        del seats[old.seat]
    if seat is not None:
        displaced = seats.get(seat)
        if displaced is not None and displaced != participant.id:
            participants[displaced] = replace(participants[displaced], seat=None)
        seats[seat] = participant.id
    participants[participant.id] = replace(participant, seat=seat)
    return replace(state, participants=participants, seats=seats)


def _apply(state: State, data: ev.EventData) -> State:
    match data:
        case ev.MeetingCreated(meeting=meeting):
            return replace(state, meeting=meeting)
        case ev.ParticipantAdded(participant=p) | ev.ParticipantUpdated(participant=p):
            return _seated(state, p, p.seat)
        case ev.ParticipantRemoved(participant=pid):
            gone = state.participants[pid]
            seats = state.seats
            if gone.seat is not None and seats.get(gone.seat) == pid:
                seats = _without(seats, gone.seat)
            return replace(
                state,
                participants=_without(state.participants, pid),
                seats=seats,
                queue=tuple(r for r in state.queue if r.participant != pid),
                interrupted=tuple(f for f in state.interrupted if f.participant != pid),
            )
        case ev.DeviceAdded(device=device):
            return replace(state, devices=_with(state.devices, device.id, device))
        case ev.FloorRequested():
            request = Request(
                data.request, data.participant, data.kind, data.lang, data.at, data.via
            )
            return replace(state, queue=_insert(state.queue, request, data.position))
        case ev.FloorWithdrawn(request=rid):
            return replace(state, queue=tuple(r for r in state.queue if r.id != rid))
        case ev.FloorMoved(request=rid, position=position):
            moved = state.find_request(rid)
            assert moved is not None
            rest = tuple(r for r in state.queue if r.id != rid)
            return replace(state, queue=_insert(rest, moved, position))
        case ev.FloorGranted(floor=floor):
            queue = state.queue
            if floor.request is not None:
                queue = tuple(r for r in queue if r.id != floor.request)
            return replace(state, floor=floor, queue=queue)
        case ev.FloorReleased():
            return replace(state, floor=None)
        case ev.FloorInterrupted(floor=floor):
            return replace(state, floor=None, interrupted=(*state.interrupted, floor))
        case ev.FloorResumed(floor=floor):
            return replace(state, floor=floor, interrupted=state.interrupted[:-1])
        case (
            ev.FloorExtended(floor=floor)
            | ev.FloorPaused(floor=floor)
            | ev.FloorUnpaused(floor=floor)
        ):
            return replace(state, floor=floor)
        case ev.FloorTimeExpired():
            assert state.floor is not None
            return replace(state, floor=replace(state.floor, expired=True))
        case ev.ListClosed():
            return replace(state, list_open=False)
        case ev.ListOpened():
            return replace(state, list_open=True)
        case ev.QueueCleared():
            return replace(state, queue=())
        case ev.MuteChanged(participant=pid, self_muted=self_muted, hard_muted=hard_muted):
            p = replace(state.participants[pid], self_muted=self_muted, hard_muted=hard_muted)
            return replace(state, participants=_with(state.participants, pid, p))
        case ev.MuteAllSet(participants=muted):
            participants = dict(state.participants)
            for pid in muted:
                participants[pid] = replace(participants[pid], hard_muted=True)
            return replace(state, participants=participants)
        case ev.ChatPosted():
            message = ChatMessage(data.message, data.sender, data.to, data.text, data.at)
            return replace(state, chat=(*state.chat[-(CHAT_KEPT - 1) :], message))
        case ev.ChatDeleted(message=mid):
            return replace(state, chat=tuple(m for m in state.chat if m.id != mid))
        case ev.MeetingStatusChanged(status=status):
            assert state.meeting is not None
            return replace(state, meeting=replace(state.meeting, status=status))
        case ev.SettingsChanged(settings=settings):
            assert state.meeting is not None
            return replace(state, meeting=replace(state.meeting, settings=settings))
        case ev.SeatAssigned(seat=seat, participant=pid):
            if pid is None:
                occupant = state.seats[seat]  # decide frees only a taken seat
                p = replace(state.participants[occupant], seat=None)
                return replace(
                    state,
                    participants=_with(state.participants, occupant, p),
                    seats=_without(state.seats, seat),
                )
            return _seated(state, state.participants[pid], seat)
        case _:
            assert_never(data)


def _remember(state: State, event: ev.Event) -> State:
    cause = event.cause
    if cause is None:
        return state
    kept = tuple(entry for entry in state.recent.get(cause.actor, ()) if entry[0] != cause.command)
    kept = (*kept[-(COMMANDS_REMEMBERED - 1) :], (cause.command, event.seq))
    return replace(state, recent=_with(state.recent, cause.actor, kept))


def evolve(state: State, event: ev.Event) -> State:
    """The state after one logged event."""
    assert event.seq == state.seq + 1, f"event {event.seq} does not follow {state.seq}"
    return replace(_remember(_apply(state, event.data), event), seq=event.seq)


def fold(events: Iterable[ev.Event], state: State | None = None) -> State:
    """The state after replaying `events` in order (from the empty state by default)."""
    state = State() if state is None else state
    for event in events:
        state = evolve(state, event)
    return state
