"""The commit loop: one meeting's commands decided, group-committed, adopted, answered.

Commands queue here (bounded); `process` takes a batch, decides each against the state
(each seeing the ones before), appends all resulting events to the log in ONE write with
the seq it started from, then — with no await in between — adopts the new state, hands
the events to `adopted` (the fan-out), and answers each command: its events reach its
connection before its ack, and the ack only once the events are durable (law 1).

Other writers (a cluster): a `SeqConflict` means another node wrote first: catch up from
the log and decide the batch again. Bus notices (`notify`) and a periodic check
(`repair_every_s`) tell the loop it is behind; `repair` catches up.

Invariants: `state.seq` is always the log's seq of the last adopted event; nothing but
`_adopt` changes the state; a failing log rejects the batch (`internal`) and changes
nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from floor.errors import SeqConflict, StoreError
from floor.host.snapshots import snapshot_blob, state_from_snapshot
from floor.state import Accepted, Code, Command, Event, Rejection, State, decide, fold, wire
from floor.state.model import COMMANDS_REMEMBERED
from floor.store.port import EventLog, Snapshot, Snapshots

logger = logging.getLogger("floor.host")

BATCH: Final = 500
"""Commands decided and written together at most."""
SNAPSHOT_EVERY: Final = 1000
"""Events between snapshots."""

Outcome = Accepted | Rejection
LOG_DOWN: Final = Rejection(Code.INTERNAL, "The meeting's log is unavailable; try again.")
Reply = Callable[[Outcome], None]
Adopted = Callable[[list[Event], State, float], None]
"""Called, synchronously, with events just adopted, the state after them, and when the
batch started (perf_counter)."""


@dataclass(slots=True)
class Submission:
    command: Command
    actor: str
    command_id: str | None = None
    reply: Reply | None = None


class CommitLoop:
    """One meeting's state and the only way it changes."""

    def __init__(
        self,
        meeting: str,
        log: EventLog,
        snapshots: Snapshots,
        adopted: Adopted,
        wake: Callable[[], None],
        *,
        clock: Callable[[], int],
        queue_limit: int,
    ) -> None:
        self.meeting = meeting
        self.log = log
        self.snapshots = snapshots
        self.clock = clock
        self.state = State()
        self.epoch: str | None = None
        self.queue: deque[Submission] = deque()
        self._queue_limit = queue_limit
        self._adopted = adopted
        self._wake = wake
        self._snapshot_seq = 0
        self._noops: dict[str, dict[str, int]] = {}
        self.behind = False
        self._log_down = False
        self.repair_every_s: float | None = None
        """With other writers (a cluster), how often to compare our seq with the log's."""
        self.next_repair = 0.0
        self._moved = asyncio.Event()
        """Set whenever the state moves (for `wait_caught_up`)."""
        self.stats = {"commands": 0, "events": 0, "batches": 0, "conflicts": 0}

    async def load(self, ring: int) -> list[Event]:
        """Load the state (snapshot, then the log after it); the last `ring` events."""
        snapshot = await self.snapshots.load_snapshot(self.meeting)
        state = state_from_snapshot(snapshot)
        head = await self.log.head(self.meeting)
        start = min(state.seq, max(0, head - ring))
        recent: list[Event] = []
        for record in await self.log.read(self.meeting, after=start):
            event = wire.event_from_record(record)
            if event.seq > state.seq:
                state = fold([event], state)
            recent.append(event)
        self.state = state
        self.epoch = await self.log.epoch(self.meeting)
        self._snapshot_seq = snapshot.seq if snapshot is not None else 0
        return recent

    # --- commands ------------------------------------------------------------------------

    def submit(self, submission: Submission) -> bool:
        """Queue a command; False (and nothing queued) when the host is saturated."""
        if len(self.queue) >= self._queue_limit:
            return False
        self.queue.append(submission)
        self._wake()
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

    def reject_all(self, outcome: Rejection) -> None:
        """The host died: answer everything queued."""
        for submission in self.queue:
            if submission.reply is not None:
                submission.reply(outcome)
        self.queue.clear()

    async def process(self, batch: list[Submission]) -> None:
        started = time.perf_counter()
        outcomes, events, state = await self._commit(batch)
        self.stats["commands"] += len(batch)
        self.stats["batches"] += 1
        if events:
            self._adopt(events, state, started)
        for submission, outcome in zip(batch, outcomes, strict=True):
            self._remember_noop(submission, outcome)
            if submission.reply is not None:
                submission.reply(outcome)
        if self.state.seq - self._snapshot_seq >= SNAPSHOT_EVERY:
            await self._save_snapshot()

    async def _commit(self, batch: list[Submission]) -> tuple[list[Outcome], list[Event], State]:
        """Decide the batch and append its events; again after a seq conflict."""
        while True:
            outcomes, events, state = self._decide(batch)
            if not events:
                return outcomes, events, state
            try:
                await self.log.append(
                    self.meeting, self.state.seq, [wire.event_to_record(e) for e in events]
                )
            except SeqConflict as conflict:
                self.stats["conflicts"] += 1
                seq = self.state.seq
                try:
                    await self.catch_up()
                except StoreError as e:
                    logger.warning("meeting %s: cannot catch up with the log: %s", self.meeting, e)
                    return [LOG_DOWN] * len(batch), [], state
                if self.state.seq > seq:
                    continue
                # Nothing to catch up with: the log lost events we applied (recreated, or
                # failed over to a replica behind us). Deciding again would conflict again,
                # forever: answer like a failing log.
                logger.error(
                    "meeting %s: the log is at seq %s, behind this host at %s",
                    self.meeting,
                    conflict.actual,
                    seq,
                )
                await asyncio.sleep(0.2)  # do not spin on a broken log
                return [LOG_DOWN] * len(batch), [], state
            except (StoreError, ValueError) as e:
                if isinstance(e, ValueError):  # a bug: records the log cannot take
                    logger.exception("meeting %s: the log refused a write", self.meeting)
                else:
                    logger.warning("meeting %s: the log refused a write: %s", self.meeting, e)
                await asyncio.sleep(0.2)  # do not spin on a failing log
                return [LOG_DOWN] * len(batch), [], state
            if self.epoch is None:  # the first write named the log: learn its epoch
                with contextlib.suppress(StoreError):  # before anyone sees the new seq
                    self.epoch = await self.log.epoch(self.meeting)
            return outcomes, events, state

    def _decide(self, batch: list[Submission]) -> tuple[list[Outcome], list[Event], State]:
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
                    logger.exception("decide failed for %s", submission.command)
                    outcome = Rejection(Code.INTERNAL, "Internal error.")
            if isinstance(outcome, Accepted) and outcome.events:
                assert outcome.state is not None
                state = outcome.state
                events.extend(outcome.events)
            outcomes.append(outcome)
        return outcomes, events, state

    def _noop_retry(self, submission: Submission) -> Accepted | None:
        """A retried id of a command that was acknowledged without events (see below)."""
        if submission.command_id is None:
            return None
        seq = self._noops.get(submission.actor, {}).get(submission.command_id)
        return None if seq is None else Accepted((), seq, duplicate=True)

    def _remember_noop(self, submission: Submission, outcome: Outcome) -> None:
        """Commands acknowledged without events leave nothing in the log for the core to
        remember their id by; the loop remembers the last ones of each actor, so that a
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

    def _adopt(self, events: list[Event], state: State, started: float) -> None:
        self.state = state
        self._moved.set()
        self.stats["events"] += len(events)
        self._adopted(events, state, started)

    async def _save_snapshot(self) -> None:
        snapshot = Snapshot(self.state.seq, snapshot_blob(self.state))
        try:
            await self.snapshots.save_snapshot(self.meeting, snapshot)
            self._snapshot_seq = snapshot.seq
        except StoreError:
            logger.warning("meeting %s: could not save a snapshot", self.meeting, exc_info=True)

    # --- other writers -------------------------------------------------------------------

    def notify(self, seq: int) -> None:
        """Another writer moved the log to `seq` (a bus notice): catch up soon."""
        if seq > self.state.seq:
            self.behind = True
            self._wake()

    def repair_soon(self) -> None:
        """Notices may have been lost (the bus (re)subscribed): compare with the log soon."""
        self.behind = True
        self._wake()

    def repair_due(self) -> bool:
        return self.behind or (
            self.repair_every_s is not None and time.monotonic() >= self.next_repair
        )

    async def repair(self) -> None:
        """Catch up with the log (notices may be lost: also done periodically)."""
        self.behind = False
        if self.repair_every_s is not None:
            self.next_repair = time.monotonic() + self.repair_every_s
        try:
            await self.catch_up()
        except StoreError:
            if not self._log_down:
                logger.warning("meeting %s: cannot read the log to catch up", self.meeting)
            self._log_down = True
            self.behind = True
            await asyncio.sleep(0.2)
        else:
            if self._log_down:
                logger.warning("meeting %s: the log is back", self.meeting)
            self._log_down = False

    async def catch_up(self) -> None:
        """Read and apply what other writers appended after our seq, fanning it out."""
        records = await self.log.read(self.meeting, after=self.state.seq)
        events = [wire.event_from_record(r) for r in records]
        if events:
            self._adopt(events, fold(events, self.state), time.perf_counter())

    async def wait_caught_up(self, timeout: float) -> None:
        """With other writers: wait until the state holds what the log holds now. Best
        effort: gives up quietly when the log cannot be read or after `timeout` seconds."""
        if self.repair_every_s is None:
            return
        with contextlib.suppress(StoreError, TimeoutError):
            async with asyncio.timeout(timeout):
                head = await self.log.head(self.meeting)
                self.notify(head)
                while self.state.seq < head:
                    self._moved.clear()
                    await self._moved.wait()
