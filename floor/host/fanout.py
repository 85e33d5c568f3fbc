"""Fan-out: one meeting's connections on this node, and what reaches each of them.

The fan-out keeps the subscribers (every connection attached to the meeting), the resume
ring (the last `RING` events with their wire forms, encoded at most once per codec), the
welcomes encoded once per codec, role and visible chat, and each device's last `seats`.

Invariants (ARCHITECTURE laws 2 to 4):
- never awaits: every method is synchronous, and each connection's `Outbox` buffers or
  closes a client that falls behind, so no client slows the others;
- encode once: an event is encoded once per codec, and a frame of a batch's events once
  per codec and visible subset, whatever the number of connections;
- one order: `attach` welcomes (full state, or exactly the missed events) and subscribes
  in one synchronous step, so a client misses nothing and sees nothing twice;
- visibility: each connection gets only the events its viewer may see (`views`); a
  removed participant is closed (4003) and a participant whose role changed is re-viewed.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, Protocol

from floor.host.presence import Presence
from floor.protocol import messages
from floor.protocol.close import CloseCode
from floor.protocol.codecs import Codec
from floor.protocol.session import Resume
from floor.state import Event, State, views
from floor.state import events as ev
from floor.state.model import Role
from floor.state.room_rules import CHAT_ALL, chat_visible_to_role

RING: Final = 20_000
"""Events kept in memory for resume; an older resume gets a full welcome."""


class Outbox(Protocol):
    """A connection's sending side, as the host sees it: synchronous, never blocking."""

    def send(self, frame: bytes) -> None:
        """Queue one complete websocket frame (closes the connection on overflow)."""

    def close(self, code: int, reason: str = "") -> None:
        """Send a close frame after what is queued; later sends are dropped."""


@dataclass(eq=False)
class Subscriber:
    """One connection attached to a meeting."""

    viewer: views.Viewer
    codec: Codec
    outbox: Outbox
    session: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    seats: views.SeatPlan | None = None


@dataclass(slots=True)
class _Logged:
    """A recent event with its wire form and its encodings, made at most once each."""

    event: Event
    message: messages.EventMessage
    encoded: dict[str, bytes] = field(default_factory=dict)

    def encode(self, codec: Codec) -> bytes:
        found = self.encoded.get(codec.name)
        if found is None:
            found = self.encoded[codec.name] = codec.encode(self.message)
        return found


class FanOut:
    """The connections of one meeting on this node. `presence` counts them."""

    def __init__(self, meeting: str, presence: Presence) -> None:
        self.meeting = meeting
        self.presence = presence
        self.subscribers: set[Subscriber] = set()
        self._devices: set[Subscriber] = set()
        """The room devices among the subscribers (they alone get `seats`)."""
        self._ring: deque[_Logged] = deque(maxlen=RING)
        self._welcomes: dict[tuple[object, ...], bytes] = {}
        self.on_fanout: Callable[[int, int, float], None] | None = None
        """Called after each fan-out with (events, frames written, seconds since decided)."""

    def remember(self, events: Iterable[Event]) -> None:
        """Keep events for resume (loaded from the log, or just adopted)."""
        for event in events:
            self._ring.append(_Logged(event, messages.event(event)))
        self._welcomes.clear()

    # --- events ------------------------------------------------------------------------

    def publish(self, events: list[Event], state: State, started: float) -> None:
        """Send events just adopted (the state after them) to every connection that may
        see them; then seats for devices, removals and role changes."""
        self.remember(events)
        ring = self._ring  # the batch's entries are its last (not a copy of 20,000)
        logged = [ring[-k] for k in range(len(events), 0, -1)]
        everyone = tuple(range(len(events)))
        chats = [e.data for e in events if isinstance(e.data, ev.ChatPosted | ev.ChatDeleted)]
        # Chat to all is seen by every role but devices: then what a connection gets
        # depends on whether it is a device only, not on who it is (decided once each).
        by_kind = all(c.to == CHAT_ALL for c in chats)
        chosen_by_kind: dict[bool, tuple[int, ...]] = {}
        frames: dict[tuple[str, tuple[int, ...]], bytes] = {}
        written = 0
        for sub in list(self.subscribers):
            chosen = everyone
            if chats:
                viewer = sub.viewer
                found = chosen_by_kind.get(viewer.role is None) if by_kind else None
                if found is None:
                    found = tuple(
                        i for i, e in enumerate(events) if views.event_visible(e.data, viewer)
                    )
                    if by_kind:
                        chosen_by_kind[viewer.role is None] = found
                chosen = found
                if not chosen:
                    continue
            codec = sub.codec
            frame = frames.get((codec.name, chosen))
            if frame is None:
                parts = [logged[i].encode(codec) for i in chosen]
                frame = frames[(codec.name, chosen)] = codec.frame(parts)
            sub.outbox.send(frame)
            written += 1
        self._after(events, state)
        if self.on_fanout is not None:
            self.on_fanout(len(events), written, time.perf_counter() - started)

    def _after(self, events: Iterable[Event], state: State) -> None:
        """Seats for devices, removed participants closed, changed roles re-viewed."""
        removed: set[str] = set()
        updated: set[str] = set()
        only_chat = True
        for event in events:
            only_chat = only_chat and isinstance(event.data, ev.ChatPosted | ev.ChatDeleted)
            if isinstance(event.data, ev.ParticipantRemoved):
                removed.add(event.data.participant)
            elif isinstance(event.data, ev.ParticipantUpdated):
                updated.add(event.data.participant.id)
        # Only removals and role changes need a walk over every connection; seats go to
        # devices alone (a chat to a thousand delegates must not cost a second walk),
        # and chat never moves a seat (no need to recompute every device's seats).
        if only_chat:
            return
        seats_of: dict[str, views.SeatPlan] = {}
        watched = self.subscribers if removed or updated else self._devices
        for sub in list(watched):
            pid = sub.viewer.id
            if pid in removed:
                sub.outbox.close(CloseCode.REMOVED, "participant removed")
                self.detach(sub)
                continue
            if pid in updated:
                sub.viewer = views.Viewer(pid, state.participants[pid].role)
            if sub.viewer.role is None:
                device = state.devices.get(pid)
                if device is not None:
                    seats = seats_of.get(pid)
                    if seats is None:
                        seats = seats_of[pid] = views.seats(state, device)
                    self._send_seats(sub, seats, state.seq)

    def _send_seats(self, sub: Subscriber, seats: views.SeatPlan, seq: int) -> None:
        if seats != sub.seats:
            sub.seats = seats
            sub.outbox.send(sub.codec.frame_of(messages.seats(seats, seq)))

    def send_presence(self, changes: dict[str, bool]) -> None:
        """Tell the chairs' connections whose presence changed."""
        if not changes:
            return
        message = messages.presence(changes)
        frames: dict[str, bytes] = {}
        for sub in self.subscribers:
            if sub.viewer.role is Role.CHAIR:
                frame = frames.get(sub.codec.name)
                if frame is None:
                    frame = frames[sub.codec.name] = sub.codec.frame_of(message)
                sub.outbox.send(frame)

    # --- connections ---------------------------------------------------------------------

    def attach(
        self, sub: Subscriber, state: State, epoch: str | None, now: int, resume: Resume | None
    ) -> None:
        """Welcome a connection (full state, or the events it missed) and subscribe it.

        Synchronous: nothing can happen to the meeting between the welcome and the
        subscription, so the client misses nothing and sees nothing twice.
        """
        if sub.viewer.role is not None:  # before the welcome: a chair sees itself online
            self.presence.count(sub.viewer.id, +1)
        missed = self._missed(resume, state.seq, epoch)
        if missed is not None:
            assert resume is not None
            head = messages.welcome(
                sub.session, self.meeting, epoch, resume.seq, now, sub.viewer, resumed=True
            )
            parts = [sub.codec.encode(head)]
            parts.extend(
                entry.encode(sub.codec)
                for entry in missed
                if views.event_visible(entry.event.data, sub.viewer)
            )
            sub.outbox.send(sub.codec.frame(parts))
        else:
            head = messages.welcome(sub.session, self.meeting, epoch, state.seq, now, sub.viewer)
            sub.outbox.send(sub.codec.frame([self._welcome(sub, head, state)]))
        self.subscribers.add(sub)
        if sub.viewer.role is None:
            self._devices.add(sub)
            device = state.devices.get(sub.viewer.id)
            if device is not None:
                self._send_seats(sub, views.seats(state, device), state.seq)

    def detach(self, sub: Subscriber) -> None:
        if sub in self.subscribers:
            self.subscribers.discard(sub)
            self._devices.discard(sub)
            if sub.viewer.role is not None:
                self.presence.count(sub.viewer.id, -1)

    def close_all(self, code: int, reason: str) -> None:
        for sub in list(self.subscribers):
            sub.outbox.close(code, reason)
            self.detach(sub)

    def _missed(self, resume: Resume | None, seq: int, epoch: str | None) -> list[_Logged] | None:
        """The events after the client's seq, if we can resume it; None if not."""
        if resume is None or resume.epoch != epoch or resume.seq > seq:
            return None
        if resume.seq == seq:
            return []
        if not self._ring or self._ring[0].event.seq > resume.seq + 1:
            return None
        skip = resume.seq + 1 - self._ring[0].event.seq
        return list(itertools.islice(self._ring, skip, None))  # not a copy of the whole ring

    def _welcome(self, sub: Subscriber, head: messages.WelcomeHead, state: State) -> bytes:
        viewer = sub.viewer
        chat_ids = tuple(
            m.id for m in state.chat if chat_visible_to_role(m, viewer.id, viewer.role)
        )
        key = (sub.codec.name, viewer.role, chat_ids)
        encoded = self._welcomes.get(key)
        if encoded is None:
            chair = viewer.role is Role.CHAIR
            presence = self.presence.of(state.participants) if chair else None
            encoded = sub.codec.encode(
                messages.welcome_state(views.snapshot(state, viewer), presence)
            )
            if not chair:  # presence changes without a seq
                self._welcomes[key] = encoded
        return sub.codec.splice(head, "state", encoded)
