"""Views: who sees what of a meeting.

- `Viewer`: a connected client as the views see it — a participant with a role, or a
  device (role None).
- `event_visible`: whether an event reaches a viewer. Chat to `all` reaches everyone but
  devices; chat to `chair`, the chair role and its sender; a private message, its two
  parties only; displays see only chat to `all`; devices see no chat. Every other event
  reaches everyone.
- `snapshot`: the `welcome.state` a viewer gets (without `presence`, which is the
  shell's: it is not in the log).
- `admin_snapshot`: what the secretariat's admin API sees: a chair's view, with the chat
  of every chair (sent by one or to one) and chat to the chair role.
- `seats`: the projection a room device obeys — its live seats, its waiting seats in
  queue order, and every live participant of the meeting.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from floor.state import events as ev
from floor.state import wire
from floor.state.model import ChatMessage, Device, Role, State
from floor.state.room_rules import chat_visible_to_role

CHAT_WINDOW: Final = 200
"""How many of the most recent visible chat messages a snapshot carries."""


@dataclass(frozen=True, slots=True)
class Viewer:
    id: str
    role: Role | None
    """None for a room device."""


def event_visible(data: ev.EventData, viewer: Viewer) -> bool:
    if isinstance(data, ev.ChatPosted | ev.ChatDeleted):
        return chat_visible_to_role(data, viewer.id, viewer.role)
    return True


def snapshot(state: State, viewer: Viewer) -> wire.Plain:
    """The meeting as this viewer may see it (PROTOCOL.md section 3), presence aside."""
    assert state.meeting is not None
    chat = [m for m in state.chat if chat_visible_to_role(m, viewer.id, viewer.role)]
    return {
        "meeting": wire.meeting_to_wire(state.meeting),
        "participants": {pid: wire.participant_to_wire(p) for pid, p in state.participants.items()},
        "queue": [wire.request_to_wire(r) for r in state.queue],
        "floor": wire.floor_to_wire(state.floor) if state.floor is not None else None,
        "interrupted": [wire.floor_to_wire(f) for f in state.interrupted],
        "list_open": state.list_open,
        "chat": [wire.chat_to_wire(m) for m in chat[-CHAT_WINDOW:]],
        "seats": dict(state.seats),
        "devices": {did: wire.device_to_wire(d) for did, d in state.devices.items()},
    }


ADMIN_VIEWER: Final = Viewer("admin", Role.CHAIR)


def admin_chat_visible(message: ChatMessage, chairs: Collection[str]) -> bool:
    """Whether the admin API shows a chat message: anything a chair may see that is not
    someone else's private exchange — chat to all or to the chair role, and private
    messages sent by or to a chair."""
    return (
        message.sender in chairs
        or message.to in chairs
        or chat_visible_to_role(message, "", Role.CHAIR)
    )


def admin_snapshot(state: State) -> wire.Plain:
    """The meeting as the admin API shows it (presence aside, as in `snapshot`)."""
    plain = snapshot(state, ADMIN_VIEWER)
    chairs = {pid for pid, p in state.participants.items() if p.role is Role.CHAIR}
    plain["chat"] = [wire.chat_to_wire(m) for m in state.chat if admin_chat_visible(m, chairs)]
    return plain


@dataclass(frozen=True, slots=True)
class SeatPlan:
    """What a room device must drive its consoles to (the `seats` message carries it)."""

    live: tuple[str, ...]
    waiting: tuple[str, ...]
    live_participants: tuple[str, ...]


def seats(state: State, device: Device) -> SeatPlan:
    live_participants = state.live_participants()
    live_set = set(live_participants)
    room = set(device.seats)
    live = tuple(s for s in device.seats if state.seats.get(s) in live_set)
    waiting: list[str] = []
    for request in state.queue:
        seat = state.participants[request.participant].seat
        if seat is not None and seat in room:
            waiting.append(seat)
    return SeatPlan(live, tuple(waiting), live_participants)
