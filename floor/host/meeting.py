"""The meeting host: one task per live meeting on a node, the only writer of its state.

A host is three parts, one module each, and the loop that drives them:
- the commit loop (floor.host.commit): the queue of commands, decide, group commit,
  adopt, answer; catching up with other writers;
- the fan-out (floor.host.fanout): the connections, the resume ring, encode once,
  seats for devices;
- presence (floor.host.presence): who is online here and at the other nodes.

`run()` loads the state, then waits for work and does it: repairs when behind, the
speaking-time timer (the speaker's deadline, from the state, is a wake-up time: the host
then issues `ExpireTime` as `system`; rebuilt from the state on every start), presence
changes sent to chairs at most once a second, and batches of commands. Nothing else
mutates a meeting, so there are no locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from floor.errors import Unavailable
from floor.host.commit import BATCH, CommitLoop, Outcome, Submission
from floor.host.fanout import RING, FanOut, Subscriber
from floor.host.presence import Presence
from floor.host.snapshots import NoSnapshots
from floor.protocol.session import Resume
from floor.state import Code, Command, Rejection, State, next_deadline
from floor.state import commands as cmd
from floor.state.model import SYSTEM
from floor.store.port import EventLog, Snapshots


def epoch_ms() -> int:
    """Wall-clock time in epoch milliseconds: the core's `now`."""
    return time.time_ns() // 1_000_000


class MeetingHost:
    """Owns one meeting's state on this node. Run `run()` as a task; use the rest."""

    def __init__(
        self,
        meeting: str,
        log: EventLog,
        *,
        snapshots: Snapshots | None = None,
        clock: Callable[[], int] = epoch_ms,
        queue_limit: int = 10_000,
    ) -> None:
        self.meeting = meeting
        self.clock = clock
        self._wake = asyncio.Event()
        self._loaded = asyncio.Event()
        self.failure: BaseException | None = None
        self.present = Presence(self._wake.set)
        self.fanout = FanOut(meeting, self.present)
        self.commits = CommitLoop(
            meeting,
            log,
            snapshots if snapshots is not None else NoSnapshots(),
            self.fanout.publish,
            self._wake.set,
            clock=clock,
            queue_limit=queue_limit,
        )

    # --- what the others read ------------------------------------------------------------

    @property
    def state(self) -> State:
        return self.commits.state

    @property
    def epoch(self) -> str | None:
        return self.commits.epoch

    @property
    def subscribers(self) -> set[Subscriber]:
        return self.fanout.subscribers

    @property
    def stats(self) -> dict[str, int]:
        return self.commits.stats

    @property
    def repair_every_s(self) -> float | None:
        return self.commits.repair_every_s

    @repair_every_s.setter
    def repair_every_s(self, every_s: float | None) -> None:
        self.commits.repair_every_s = every_s

    @property
    def on_fanout(self) -> Callable[[int, int, float], None] | None:
        return self.fanout.on_fanout

    @on_fanout.setter
    def on_fanout(self, observe: Callable[[int, int, float], None] | None) -> None:
        self.fanout.on_fanout = observe

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
        self.commits.reject_all(Rejection(Code.INTERNAL, "The meeting is unavailable."))

    async def run(self) -> None:
        self.fanout.remember(await self.commits.load(RING))
        self._loaded.set()
        commits, queue = self.commits, self.commits.queue
        while True:
            await self._wait_for_work()
            if commits.repair_due():
                await commits.repair()
            deadline = next_deadline(commits.state)
            if deadline is not None and self.clock() >= deadline:
                queue.appendleft(Submission(cmd.ExpireTime(), SYSTEM))
            due = self.present.due
            if due is not None and time.monotonic() >= due:
                self.fanout.send_presence(self.present.take_changes())
            if queue:
                batch = [queue.popleft() for _ in range(min(BATCH, len(queue)))]
                await commits.process(batch)

    async def _wait_for_work(self) -> None:
        commits = self.commits
        if commits.queue or commits.behind:
            return
        timeouts: list[float] = []
        if commits.repair_every_s is not None:
            timeouts.append(max(0.0, commits.next_repair - time.monotonic()))
        deadline = next_deadline(commits.state)
        if deadline is not None:
            timeouts.append(max(0.0, (deadline - self.clock()) / 1000))
        if self.present.due is not None:
            timeouts.append(max(0.0, self.present.due - time.monotonic()))
        self._wake.clear()
        if timeouts:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(timeouts))
        else:
            await self._wake.wait()

    # --- commands and other writers --------------------------------------------------------

    def submit(self, submission: Submission) -> bool:
        """Queue a command; False (and nothing queued) when the host is saturated."""
        return self.commits.submit(submission)

    async def call(self, command: Command, actor: str, command_id: str | None = None) -> Outcome:
        """Submit and wait for the outcome (the admin API's way in)."""
        return await self.commits.call(command, actor, command_id)

    def notify(self, seq: int) -> None:
        """Another writer moved the log to `seq` (a bus notice): catch up soon."""
        self.commits.notify(seq)

    def repair_soon(self) -> None:
        """Notices may have been lost (the bus (re)subscribed): compare with the log soon."""
        self.commits.repair_soon()

    async def catch_up(self) -> None:
        """Read and apply what other writers appended after our seq, fanning it out."""
        await self.commits.catch_up()

    async def wait_caught_up(self, timeout: float = 2.0) -> None:
        """With other writers: wait until this host has applied what the log holds now,
        so a client resuming here from another node is never ahead of it. Best effort."""
        await self.commits.wait_caught_up(timeout)

    # --- connections and presence ----------------------------------------------------------

    def attach(self, sub: Subscriber, resume: Resume | None = None) -> None:
        """Welcome a connection (full state, or the events it missed) and subscribe it."""
        self.fanout.attach(sub, self.state, self.epoch, self.clock(), resume)

    def detach(self, sub: Subscriber) -> None:
        self.fanout.detach(sub)

    def close_all(self, code: int, reason: str) -> None:
        self.fanout.close_all(code, reason)

    def set_remote_online(self, pids: frozenset[str]) -> None:
        """Who is online at the other nodes now; chairs hear of the merged changes."""
        self.present.set_remote(pids)

    def local_online(self) -> set[str]:
        """Participants with a connection open on this node."""
        return self.present.local()

    def online(self) -> set[str]:
        """Participants online anywhere (this node, and others in a cluster)."""
        return self.present.online()

    def presence(self) -> dict[str, bool]:
        """Every participant's presence, as the chair's welcome state carries it."""
        return self.present.of(self.state.participants)
