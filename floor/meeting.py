"""The meeting host: one task per live meeting on a node, the only writer of its state.

Commands queue to the host (bounded); the host takes them in batches, decides each
against the state (each seeing the ones before), appends all resulting events to the log
in one write (group commit) with the seq it started from, then — with no await in
between — adopts the new state, fans the events out, and answers each command (its events
reach its connection before its ack). Nothing else mutates a meeting, so there are no
locks; a seq conflict means another node wrote first: the host catches up from the log
and decides the batch again.

Fan-out never awaits a client: each event is encoded once per codec (and once per chat
audience), and the same bytes are handed to every subscriber's `Outbox`, which buffers
and closes a client that falls too far behind (ARCHITECTURE laws 3 and 4).

Timers: the speaker's deadline (`next_deadline`) is the host's wake-up time, when it
issues `ExpireTime` as `system`; rebuilt from the state on every start. Presence is
counted here, per participant, and sent to chair connections at most once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from floor import presence
from floor.errors import Unavailable
from floor.state import (
    Accepted,
    Code,
    Command,
    Event,
    Rejection,
    State,
    decide,
    fold,
    next_deadline,
    views,
    wire,
)
from floor.state import commands as cmd
from floor.state import events as ev
from floor.state.model import COMMANDS_REMEMBERED, SYSTEM, Role
from floor.state.persist import state_from_record, state_to_record
from floor.state.room_rules import CHAT_ALL, chat_visible_to_role
from floor.store.port import EventLog, SeqConflict, Snapshot, StoreError
from floor.transport.codecs import Codec

log = logging.getLogger("floor.meeting")

RING: Final = 20_000
"""Events kept in memory for resume; an older resume gets a full welcome."""
BATCH: Final = 500
"""Commands decided and written together at most."""
SNAPSHOT_EVERY: Final = 1000
"""Events between snapshots."""
PRESENCE_EVERY_S: Final = 1.0

Outcome = Accepted | Rejection
LOG_DOWN: Final = Rejection(Code.INTERNAL, "The meeting's log is unavailable; try again.")
Reply = Callable[[Outcome], None]


def epoch_ms() -> int:
    return time.time_ns() // 1_000_000


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
    seats: views.Seats | None = None


@dataclass(frozen=True, slots=True)
class Resume:
    epoch: str
    seq: int


@dataclass(slots=True)
class Submission:
    command: Command
    actor: str
    command_id: str | None = None
    reply: Reply | None = None


@dataclass(slots=True)
class _Logged:
    """A recent event with its wire form and its encodings, made at most once each."""

    event: Event
    message: dict[str, Any]
    encoded: dict[str, bytes] = field(default_factory=dict)

    def encode(self, codec: Codec) -> bytes:
        found = self.encoded.get(codec.name)
        if found is None:
            found = self.encoded[codec.name] = codec.encode(self.message)
        return found


class MeetingHost:
    """Owns one meeting's state on this node. Run `run()` as a task; use the rest."""

    def __init__(
        self,
        meeting: str,
        log: EventLog,
        *,
        clock: Callable[[], int] = epoch_ms,
        queue_limit: int = 10_000,
    ) -> None:
        self.meeting = meeting
        self.log = log
        self.clock = clock
        self.state = State()
        self.epoch: str | None = None
        self.subscribers: set[Subscriber] = set()
        self._devices: set[Subscriber] = set()
        """The room devices among the subscribers (they alone get `seats`)."""
        self._queue: deque[Submission] = deque()
        self._queue_limit = queue_limit
        self._wake = asyncio.Event()
        self._loaded = asyncio.Event()
        self.failure: BaseException | None = None
        self._ring: deque[_Logged] = deque(maxlen=RING)
        self._welcomes: dict[tuple[object, ...], bytes] = {}
        self._online: dict[str, int] = {}
        self._remote_online: frozenset[str] = frozenset()
        """Who is online at other nodes (a cluster; floor.bus.presence): merged in."""
        self._presence_changes: dict[str, bool] = {}
        self._presence_due: float | None = None
        self._snapshot_seq = 0
        self._noops: dict[str, dict[str, int]] = {}
        self._behind = False
        self._log_down = False
        self.repair_every_s: float | None = None
        """With other writers (a cluster), how often to compare our seq with the log's."""
        self._next_repair = 0.0
        self._moved = asyncio.Event()
        """Set whenever the state moves (for `wait_caught_up`)."""
        self.stats = {"commands": 0, "events": 0, "batches": 0, "conflicts": 0}
        self.on_fanout: Callable[[int, int, float], None] | None = None
        """Called after each fan-out with (events, frames written, seconds since decided)."""

    # --- the task ------------------------------------------------------------------------

    async def wait_loaded(self) -> None:
        """Wait until the state is loaded from the log. Raises Unavailable if it failed."""
        await self._loaded.wait()
        if self.failure is not None:
            raise Unavailable(f"meeting {self.meeting} is unavailable") from self.failure

    def fail(self, failure: BaseException) -> None:
        """The host task died: release everyone waiting for it."""
        self.failure = failure
        self._loaded.set()
        for submission in self._queue:
            if submission.reply is not None:
                submission.reply(Rejection(Code.INTERNAL, "The meeting is unavailable."))
        self._queue.clear()

    async def run(self) -> None:
        await self._load()
        self._loaded.set()
        while True:
            await self._wait_for_work()
            if self._behind or self._repair_due():
                await self._repair()
            now = self.clock()
            deadline = next_deadline(self.state)
            if deadline is not None and now >= deadline:
                self._queue.appendleft(Submission(cmd.ExpireTime(), SYSTEM))
            if self._presence_due is not None and time.monotonic() >= self._presence_due:
                self._flush_presence()
            if self._queue:
                batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
                await self._process(batch)

    def notify(self, seq: int) -> None:
        """Another writer moved the log to `seq` (a bus notice): catch up soon."""
        if seq > self.state.seq:
            self._behind = True
            self._wake.set()

    def repair_soon(self) -> None:
        """Notices may have been lost (the bus (re)subscribed): compare with the log soon."""
        self._behind = True
        self._wake.set()

    async def wait_caught_up(self, timeout: float = 2.0) -> None:
        """With other writers: wait until this host has applied what the log holds now,
        so a client resuming here from another node is never ahead of it. Best effort:
        gives up quietly when the log cannot be read or after `timeout` seconds."""
        if self.repair_every_s is None:
            return
        with contextlib.suppress(StoreError, TimeoutError):
            async with asyncio.timeout(timeout):
                head = await self.log.head(self.meeting)
                self.notify(head)
                while self.state.seq < head:
                    self._moved.clear()
                    await self._moved.wait()

    def _repair_due(self) -> bool:
        return self.repair_every_s is not None and time.monotonic() >= self._next_repair

    async def _repair(self) -> None:
        """Catch up with the log (notices may be lost: also done periodically)."""
        self._behind = False
        if self.repair_every_s is not None:
            self._next_repair = time.monotonic() + self.repair_every_s
        try:
            await self.catch_up()
        except StoreError:
            if not self._log_down:
                log.warning("meeting %s: cannot read the log to catch up", self.meeting)
            self._log_down = True
            self._behind = True
            await asyncio.sleep(0.2)
        else:
            if self._log_down:
                log.warning("meeting %s: the log is back", self.meeting)
            self._log_down = False

    async def _wait_for_work(self) -> None:
        if self._queue or self._behind:
            return
        timeouts: list[float] = []
        if self.repair_every_s is not None:
            timeouts.append(max(0.0, self._next_repair - time.monotonic()))
        deadline = next_deadline(self.state)
        if deadline is not None:
            timeouts.append(max(0.0, (deadline - self.clock()) / 1000))
        if self._presence_due is not None:
            timeouts.append(max(0.0, self._presence_due - time.monotonic()))
        self._wake.clear()
        if timeouts:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(timeouts))
        else:
            await self._wake.wait()

    async def _load(self) -> None:
        snapshot = await self.log.load_snapshot(self.meeting)
        state = state_from_snapshot(snapshot)
        head = await self.log.head(self.meeting)
        start = min(state.seq, max(0, head - RING))
        records = await self.log.read(self.meeting, after=start)
        for record in records:
            event = wire.event_from_record(record)
            if event.seq > state.seq:
                state = fold([event], state)
            self._ring.append(_Logged(event, wire.event_to_wire(event)))
        self.state = state
        self.epoch = await self.log.epoch(self.meeting)
        self._snapshot_seq = snapshot.seq if snapshot is not None else 0

    # --- commands ------------------------------------------------------------------------

    def submit(self, submission: Submission) -> bool:
        """Queue a command; False (and nothing queued) when the host is saturated."""
        if len(self._queue) >= self._queue_limit:
            return False
        self._queue.append(submission)
        self._wake.set()
        return True

    async def call(self, command: Command, actor: str, command_id: str | None = None) -> Outcome:
        """Submit and wait for the outcome (the admin API's way in)."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()

        def reply(outcome: Outcome) -> None:
            if not future.done():
                future.set_result(outcome)

        if not self.submit(Submission(command, actor, command_id, reply)):
            return Rejection(Code.RATE_LIMITED, "The meeting is too busy; try again.")
        return await future

    async def _process(self, batch: list[Submission]) -> None:
        started = time.perf_counter()
        while True:
            state = self.state
            outcomes: list[Outcome] = []
            events: list[Event] = []
            now = self.clock()
            for submission in batch:
                outcome: Outcome | None = self._noop_retry(submission)
                if outcome is None:
                    try:
                        outcome = decide(
                            state, submission.command, submission.actor, now, submission.command_id
                        )
                    except Exception:  # a bug in the core must not stop the meeting
                        log.exception("decide failed for %s", submission.command)
                        outcome = Rejection(Code.INTERNAL, "Internal error.")
                if isinstance(outcome, Accepted) and outcome.events:
                    assert outcome.state is not None
                    state = outcome.state
                    events.extend(outcome.events)
                outcomes.append(outcome)
            if not events:
                break
            try:
                await self.log.append(
                    self.meeting, self.state.seq, [wire.event_to_record(e) for e in events]
                )
            except SeqConflict:
                self.stats["conflicts"] += 1
                try:
                    await self.catch_up()
                    continue
                except StoreError as e:
                    log.warning("meeting %s: cannot catch up with the log: %s", self.meeting, e)
                    outcomes = [LOG_DOWN] * len(batch)
                    events = []
                    break
            except (StoreError, ValueError) as e:
                if isinstance(e, ValueError):  # a bug: records the log cannot take
                    log.exception("meeting %s: the log refused a write", self.meeting)
                else:
                    log.warning("meeting %s: the log refused a write: %s", self.meeting, e)
                outcomes = [LOG_DOWN] * len(batch)
                events = []
                await asyncio.sleep(0.2)  # do not spin on a failing log
                break
            if self.epoch is None:  # the first write named the log: learn its epoch
                with contextlib.suppress(StoreError):  # before anyone sees the new seq
                    self.epoch = await self.log.epoch(self.meeting)
            break
        self.stats["commands"] += len(batch)
        self.stats["batches"] += 1
        if events:
            self._adopt(events, state)
            self._fan_out(events, started)
        for submission, outcome in zip(batch, outcomes, strict=True):
            self._remember_noop(submission, outcome)
            if submission.reply is not None:
                submission.reply(outcome)
        if self.state.seq - self._snapshot_seq >= SNAPSHOT_EVERY:
            await self._save_snapshot()

    def _noop_retry(self, submission: Submission) -> Accepted | None:
        """A retried id of a command that was acknowledged without events (see below)."""
        if submission.command_id is None:
            return None
        seq = self._noops.get(submission.actor, {}).get(submission.command_id)
        return None if seq is None else Accepted((), seq, duplicate=True)

    def _remember_noop(self, submission: Submission, outcome: Outcome) -> None:
        """Commands acknowledged without events leave nothing in the log for the core to
        remember their id by; the host remembers the last ones of each actor, so that a
        retry is not applied later, when it might change something. (In memory only: a
        retry after a restart, or to another node, is decided again.)"""
        if (
            submission.command_id is None
            or not isinstance(outcome, Accepted)
            or outcome.events
            or outcome.duplicate
        ):
            return
        remembered = self._noops.setdefault(submission.actor, {})
        remembered[submission.command_id] = outcome.seq
        if len(remembered) > COMMANDS_REMEMBERED:
            del remembered[next(iter(remembered))]

    async def catch_up(self) -> None:
        """Read and apply what other writers appended after our seq, fanning it out."""
        records = await self.log.read(self.meeting, after=self.state.seq)
        events = [wire.event_from_record(r) for r in records]
        if events:
            self._adopt(events, fold(events, self.state))
            self._fan_out(events, time.perf_counter())

    def _adopt(self, events: list[Event], state: State) -> None:
        self.state = state
        self._moved.set()
        self.stats["events"] += len(events)
        for event in events:
            self._ring.append(_Logged(event, wire.event_to_wire(event)))
        self._welcomes.clear()

    async def _save_snapshot(self) -> None:
        snapshot = Snapshot(self.state.seq, snapshot_blob(self.state))
        try:
            await self.log.save_snapshot(self.meeting, snapshot)
            self._snapshot_seq = snapshot.seq
        except StoreError:
            log.warning("meeting %s: could not save a snapshot", self.meeting, exc_info=True)

    # --- fan-out ---------------------------------------------------------------------------

    def _fan_out(self, events: list[Event], started: float) -> None:
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
        self._after_events(events)
        if self.on_fanout is not None:
            self.on_fanout(len(events), written, time.perf_counter() - started)

    def _after_events(self, events: Iterable[Event]) -> None:
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
        seats_of: dict[str, views.Seats] = {}
        # Only removals and role changes need a walk over every connection; seats go to
        # devices alone (a chat to a thousand delegates must not cost a second walk),
        # and chat never moves a seat (no need to recompute every device's seats).
        if only_chat:
            return
        watched = self.subscribers if removed or updated else self._devices
        for sub in list(watched):
            pid = sub.viewer.id
            if pid in removed:
                sub.outbox.close(4003, "participant removed")
                self.detach(sub)
                continue
            if pid in updated:
                sub.viewer = views.Viewer(pid, self.state.participants[pid].role)
            if sub.viewer.role is None:
                device = self.state.devices.get(pid)
                if device is not None:
                    seats = seats_of.get(pid)
                    if seats is None:
                        seats = seats_of[pid] = views.seats(self.state, device)
                    self._send_seats(sub, seats)

    def _send_seats(self, sub: Subscriber, seats: views.Seats) -> None:
        if seats != sub.seats:
            sub.seats = seats
            sub.outbox.send(sub.codec.frame_of(seats.to_wire(self.state.seq)))

    # --- connections ---------------------------------------------------------------------

    def attach(self, sub: Subscriber, resume: Resume | None = None) -> None:
        """Welcome a connection (full state, or the events it missed) and subscribe it.

        Synchronous: nothing can happen to the meeting between the welcome and the
        subscription, so the client misses nothing and sees nothing twice.
        """
        state = self.state
        head: dict[str, Any] = {
            "t": "welcome",
            "v": 1,
            "session": sub.session,
            "meeting": self.meeting,
            "epoch": self.epoch,
            "seq": state.seq,
            "now": self.clock(),
            "you": _you(sub.viewer),
        }
        if sub.viewer.role is not None:  # before the welcome: a chair sees itself online
            self._count_presence(sub.viewer.id, +1)
        missed = self._missed(resume)
        if missed is not None:
            assert resume is not None
            head["seq"] = resume.seq
            head["resumed"] = True
            parts = [sub.codec.encode(head)]
            parts.extend(
                entry.encode(sub.codec)
                for entry in missed
                if views.event_visible(entry.event.data, sub.viewer)
            )
            sub.outbox.send(sub.codec.frame(parts))
        else:
            sub.outbox.send(sub.codec.frame([self._welcome(sub, head)]))
        self.subscribers.add(sub)
        if sub.viewer.role is None:
            self._devices.add(sub)
            device = state.devices.get(sub.viewer.id)
            if device is not None:
                self._send_seats(sub, views.seats(state, device))

    def detach(self, sub: Subscriber) -> None:
        if sub in self.subscribers:
            self.subscribers.discard(sub)
            self._devices.discard(sub)
            if sub.viewer.role is not None:
                self._count_presence(sub.viewer.id, -1)

    def _missed(self, resume: Resume | None) -> list[_Logged] | None:
        """The events after the client's seq, if we can resume it; None if not."""
        if resume is None or resume.epoch != self.epoch or resume.seq > self.state.seq:
            return None
        if resume.seq == self.state.seq:
            return []
        if not self._ring or self._ring[0].event.seq > resume.seq + 1:
            return None
        skip = resume.seq + 1 - self._ring[0].event.seq
        return list(itertools.islice(self._ring, skip, None))  # not a copy of the whole ring

    def _welcome(self, sub: Subscriber, head: dict[str, Any]) -> bytes:
        state = self.state
        viewer = sub.viewer
        chat_ids = tuple(
            m.id for m in state.chat if chat_visible_to_role(m, viewer.id, viewer.role)
        )
        key = (sub.codec.name, viewer.role, chat_ids)
        encoded = self._welcomes.get(key)
        if encoded is None:
            snapshot = views.snapshot(state, viewer)
            if viewer.role is Role.CHAIR:
                snapshot["presence"] = self.presence()
            encoded = sub.codec.encode(snapshot)
            if viewer.role is not Role.CHAIR:  # presence changes without a seq
                self._welcomes[key] = encoded
        return sub.codec.splice(head, "state", encoded)

    # --- presence ------------------------------------------------------------------------

    def _count_presence(self, pid: str, delta: int) -> None:
        before = self._online.get(pid, 0)
        after = before + delta
        if after <= 0:
            self._online.pop(pid, None)
        else:
            self._online[pid] = after
        if (before > 0) != (after > 0) and pid not in self._remote_online:
            self._note_presence(pid, after > 0)

    def _note_presence(self, pid: str, online: bool) -> None:
        self._presence_changes[pid] = online
        if self._presence_due is None:
            self._presence_due = time.monotonic() + PRESENCE_EVERY_S
            self._wake.set()

    def set_remote_online(self, pids: frozenset[str]) -> None:
        """Who is online at the other nodes now; chairs hear of the merged changes."""
        changes = presence.remote_changes(self.local_online(), self._remote_online, pids)
        self._remote_online = pids
        for pid, online in changes.items():
            self._note_presence(pid, online)

    def local_online(self) -> set[str]:
        """Participants with a connection open on this node."""
        return {pid for pid, n in self._online.items() if n > 0}

    def online(self) -> set[str]:
        """Participants online anywhere (this node, and others in a cluster)."""
        return self.local_online() | self._remote_online

    def presence(self) -> dict[str, bool]:
        """Every participant's presence, as the chair's welcome state carries it."""
        online = self.online()
        return {pid: pid in online for pid in self.state.participants}

    def _flush_presence(self) -> None:
        self._presence_due = None
        changes, self._presence_changes = self._presence_changes, {}
        if not changes:
            return
        message = {
            "t": "presence",
            "online": sorted(p for p, on in changes.items() if on),
            "offline": sorted(p for p, on in changes.items() if not on),
        }
        frames: dict[str, bytes] = {}
        for sub in self.subscribers:
            if sub.viewer.role is Role.CHAIR:
                frame = frames.get(sub.codec.name)
                if frame is None:
                    frame = frames[sub.codec.name] = sub.codec.frame_of(message)
                sub.outbox.send(frame)

    def close_all(self, code: int, reason: str) -> None:
        for sub in list(self.subscribers):
            sub.outbox.close(code, reason)
            self.detach(sub)


def _you(viewer: views.Viewer) -> dict[str, Any]:
    if viewer.role is None:
        return {"device": viewer.id, "role": "device"}
    return {"participant": viewer.id, "role": viewer.role.value}


def snapshot_blob(state: State) -> bytes:
    return json.dumps(state_to_record(state), separators=(",", ":")).encode()


def state_from_snapshot(snapshot: Snapshot | None) -> State:
    if snapshot is None:
        return State()
    try:
        return state_from_record(json.loads(snapshot.blob))
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring an unreadable snapshot at seq %s", snapshot.seq)
        return State()
