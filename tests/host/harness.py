"""What the meeting-host tests drive a host with: no sockets, no server, no subprocess.

This is the one module that imports the host (`floor.host`):
the tests import `MeetingHost`, `Submission`, `Subscriber`, `Resume`, `Outcome` and the
host's constants from here, so that moving the host changes this file's imports only.
Everything else the tests use is the host's public surface (submit, call, attach,
detach, run, notify, catch_up, state, epoch, subscribers, stats, wait_loaded and the
constructor's keywords), the pure core, the in-memory log and the codecs.

- `FakeClock`: the host's injected clock (epoch milliseconds), moved by the test.
- `FakeOutbox`: a connection's sending side as the host sees it (`send`, `close`). It
  records the frames delivered and decodes them as a client would; stalled, it queues
  frames instead and, past its byte limit, closes itself with 4008 like the real
  bounded outbox (floor.transport.wsprotocol.DirectOutbox).
- `RecordingLog`: a `MemoryLog` that records every append and can hold one (until an
  `asyncio.Event` the test controls is set), fail appends or reads with `StoreError`.
- `running(...)`: runs hosts' tasks inside a task group for a block, then cancels and
  awaits them (an exception in a host fails the test).
- `new_meeting`, `act`, `subscribe`, `acking`: a meeting with a chair and two delegates,
  commands with outcomes, connections attached with fake outboxes.
- `wait_until`: wait for a condition with a deadline (the tests never sleep for time).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import msgpack
from websockets.frames import Opcode

from floor.host import BATCH, RING, MeetingHost, Outcome, Resume, Submission, Subscriber
from floor.protocol.codecs import JSON, Codec
from floor.state import Accepted, Command, Event, Rejection, State, decide, fold, wire
from floor.state import commands as cmd
from floor.state import events as ev
from floor.state.model import ADMIN, Role
from floor.state.persist import state_to_record
from floor.state.views import Viewer
from floor.store.memory import MemoryLog, MemoryStorage
from floor.store.port import Record, Snapshot, StoreError
from tests.cluster.hosts import wait_until
from tests.frames import parse_frame

__all__ = [
    "BATCH",
    "MEETING",
    "RING",
    "START_MS",
    "Append",
    "Client",
    "FakeClock",
    "FakeOutbox",
    "MeetingHost",
    "Outcome",
    "RecordingLog",
    "Replies",
    "Resume",
    "Submission",
    "Subscriber",
    "accepted",
    "acking",
    "act",
    "decode_frame",
    "let_the_loop_run",
    "new_host",
    "new_meeting",
    "parse_frame",
    "rejected",
    "running",
    "seed_log",
    "subscribe",
    "wait_until",
]

MEETING = "m-host"
START_MS = 1_700_000_000_000
"""The fake clock's first reading (epoch milliseconds)."""


# --- time ----------------------------------------------------------------------------------


class FakeClock:
    """The host's clock (epoch milliseconds); it moves only when the test moves it."""

    def __init__(self, now: int = START_MS) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


async def let_the_loop_run(turns: int = 20) -> None:
    """Give every ready task some turns (to show that something does *not* happen)."""
    for _ in range(turns):
        await asyncio.sleep(0)


# --- the outbox ----------------------------------------------------------------------------


def decode_frame(data: bytes) -> list[dict[str, Any]]:
    """The messages of one server frame: JSON documents split on newlines, or msgpack."""
    frame = parse_frame(data)
    if frame.opcode is Opcode.TEXT:
        return [json.loads(line) for line in bytes(frame.data).split(b"\n")]
    assert frame.opcode is Opcode.BINARY, frame.opcode
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(frame.data)
    return list(unpacker)


class FakeOutbox:
    """A connection's sending side: records delivered frames; a stalled one queues them
    and closes itself (4008) once more than `limit` bytes wait, as the real one does."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.stalled = False
        """A client that reads nothing: frames wait in `pending` instead of arriving."""
        self.frames: list[bytes] = []
        self.pending: deque[bytes] = deque()
        self.pending_bytes = 0
        self.closed = False
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.overflowed = False
        self.dropped = 0
        """Frames sent after the close (discarded, as the real outbox does)."""

    def send(self, frame: bytes) -> None:
        if self.closed:
            self.dropped += 1
            return
        if not self.stalled and not self.pending:
            self.frames.append(frame)
            return
        self.pending.append(frame)
        self.pending_bytes += len(frame)
        if self.limit is not None and self.pending_bytes > self.limit:
            self.overflowed = True
            self.pending.clear()
            self.pending_bytes = 0
            self.close(4008, "too slow")

    def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        self.close_reason = reason

    def drain(self) -> None:
        """The client reads again: what waited arrives, in order."""
        self.stalled = False
        self.frames.extend(self.pending)
        self.pending.clear()
        self.pending_bytes = 0

    def messages(self) -> list[dict[str, Any]]:
        """Every message delivered so far, in order."""
        return [message for frame in self.frames for message in decode_frame(frame)]

    def of_type(self, t: str) -> list[dict[str, Any]]:
        return [m for m in self.messages() if m["t"] == t]

    def events(self) -> list[dict[str, Any]]:
        return self.of_type("event")

    def seqs(self) -> list[int]:
        return [e["seq"] for e in self.events()]

    def names(self) -> list[str]:
        return [e["name"] for e in self.events()]


@dataclass(eq=False)
class Client:
    """One attached connection: its subscription and its fake outbox."""

    subscriber: Subscriber
    outbox: FakeOutbox

    def welcome(self) -> dict[str, Any]:
        first = self.outbox.messages()[0]
        assert first["t"] == "welcome", first
        return first

    def events(self) -> list[dict[str, Any]]:
        return self.outbox.events()

    def seqs(self) -> list[int]:
        return self.outbox.seqs()

    def names(self) -> list[str]:
        return self.outbox.names()


def subscribe(
    host: MeetingHost,
    principal: str,
    *,
    codec: Codec = JSON,
    outbox: FakeOutbox | None = None,
    resume: Resume | None = None,
) -> Client:
    """Attach a connection of a participant (or device) of the meeting, as /ws does."""
    participant = host.state.participants.get(principal)
    role = participant.role if participant is not None else None
    assert role is not None or principal in host.state.devices, principal
    subscriber = Subscriber(Viewer(principal, role), codec, outbox or FakeOutbox())
    host.attach(subscriber, resume)
    assert isinstance(subscriber.outbox, FakeOutbox)
    return Client(subscriber, subscriber.outbox)


def acking(client: Client, command_id: str) -> Callable[[Outcome], None]:
    """A reply that writes `ack` or `error` to the client's outbox, as /ws does."""

    def reply(outcome: Outcome) -> None:
        if isinstance(outcome, Accepted):
            message: dict[str, Any] = {"t": "ack", "id": command_id, "seq": outcome.seq}
        else:
            message = {"t": "error", "id": command_id, "code": outcome.code.value}
        client.outbox.send(client.subscriber.codec.frame_of(message))

    return reply


class Replies:
    """Collects the outcomes of submitted commands, in the order the host replied."""

    def __init__(self) -> None:
        self.order: list[int] = []
        self.outcomes: dict[int, Outcome] = {}
        self._submitted = 0

    def submit(
        self, host: MeetingHost, command: Command, actor: str, command_id: str | None = None
    ) -> int:
        """Submit a command whose reply is recorded here; its index (submission order)."""
        index = self._submitted
        self._submitted += 1

        def reply(outcome: Outcome) -> None:
            assert index not in self.outcomes, f"command {index} answered twice"
            self.order.append(index)
            self.outcomes[index] = outcome

        assert host.submit(Submission(command, actor, command_id, reply))
        return index

    async def wait(self, count: int, timeout: float = 2.0) -> None:
        """Wait (with a deadline) until `count` commands have been answered."""
        await wait_until(lambda: len(self.outcomes) >= count, timeout)

    def __len__(self) -> int:
        return len(self.outcomes)

    def __getitem__(self, index: int) -> Outcome:
        return self.outcomes[index]


# --- the log -------------------------------------------------------------------------------


@dataclass(slots=True)
class Append:
    """One call of `append`: what was asked and how it ended."""

    meeting: str
    expected_seq: int
    names: list[str]
    result: str = "pending"
    """pending, written, conflict or failed."""


class RecordingLog(MemoryLog):
    """A MemoryLog that records its appends; it can hold them, or fail appends or reads."""

    def __init__(self, storage: MemoryStorage | None = None) -> None:
        super().__init__(storage)
        self.appends: list[Append] = []
        self.hold: asyncio.Event | None = None
        """While an unset event, each append waits for it before touching the log."""
        self.failing = False
        """Appends raise StoreError (the log is down)."""
        self.reads_failing = False
        """Reads raise StoreError."""

    async def append(self, meeting: str, expected_seq: int, records: Sequence[Record]) -> int:
        entry = Append(meeting, expected_seq, [r["name"] for r in records])
        self.appends.append(entry)
        if self.hold is not None:
            await self.hold.wait()
        if self.failing:
            entry.result = "failed"
            raise StoreError("the log is down (test)")
        try:
            head = await super().append(meeting, expected_seq, records)
        except StoreError:
            entry.result = "conflict"
            raise
        entry.result = "written"
        return head

    async def read(self, meeting: str, after: int = 0, limit: int | None = None) -> list[Record]:
        if self.reads_failing:
            raise StoreError("the log cannot be read (test)")
        return await super().read(meeting, after, limit)

    def held(self) -> int:
        """Appends waiting on `hold` now."""
        return sum(1 for a in self.appends if a.result == "pending")

    def written(self) -> list[Append]:
        return [a for a in self.appends if a.result == "written"]

    def head_now(self, meeting: str = MEETING) -> int:
        """The log's head, read synchronously from the storage."""
        log = self.storage.logs.get(meeting)
        return len(log.texts) if log is not None else 0


async def seed_log(
    log: MemoryLog, count: int, *, meeting: str = MEETING, at: int = START_MS
) -> None:
    """Write a meeting of `count` events, and a snapshot at its head, straight to the log,
    cheaply enough for a whole ring's worth: the meeting, a chair and two delegates
    (decided by the core), then the chair closing and reopening the list, which leaves
    the state as it was but for its seq. `count` - 4 must be even."""
    state = State()
    events: list[Event] = []
    roster: list[Command] = [
        cmd.CreateMeeting(meeting, "Seeded"),
        cmd.AddParticipant("chair", "CHAIR", Role.CHAIR),
        cmd.AddParticipant("ana", "ANA", Role.DELEGATE),
        cmd.AddParticipant("bo", "BO", Role.DELEGATE),
    ]
    for command in roster:
        outcome = decide(state, command, ADMIN, at)
        assert isinstance(outcome, Accepted), outcome
        assert outcome.state is not None
        events.extend(outcome.events)
        state = outcome.state
    start = state.seq
    assert (count - start) % 2 == 0, "the list must end open"
    chair = next(p.id for p in state.participants.values() if p.role is Role.CHAIR)
    toggles = [
        Event(seq, at, chair, ev.ListClosed() if (seq - start) % 2 else ev.ListOpened())
        for seq in range(start + 1, count + 1)
    ]
    # what folding the toggles gives, checked on a sample (folding them all is slow)
    assert fold(toggles[:4], state) == replace(state, seq=start + 4)
    snapshot = json.dumps(state_to_record(replace(state, seq=count))).encode()
    await log.append(meeting, 0, [wire.event_to_record(e) for e in events + toggles])
    await log.save_snapshot(meeting, Snapshot(count, snapshot))


# --- hosts ---------------------------------------------------------------------------------


def new_host(log: MemoryLog, clock: FakeClock | None = None, **keywords: Any) -> MeetingHost:
    """A host of the test meeting on `log`, with a fake clock."""
    return MeetingHost(MEETING, log, snapshots=log, clock=clock or FakeClock(), **keywords)


@asynccontextmanager
async def running(*hosts: MeetingHost) -> AsyncIterator[None]:
    """Run the hosts' tasks in a task group for the block; cancel and await them after."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(host.run()) for host in hosts]
        try:
            async with asyncio.timeout(2.0):
                for host in hosts:
                    await host.wait_loaded()
            yield
        finally:
            for task in tasks:
                task.cancel()


async def act(
    host: MeetingHost, actor: str, command: Command, command_id: str | None = None
) -> Outcome:
    """Submit a command and wait (with a deadline) for its outcome."""
    async with asyncio.timeout(2.0):
        return await host.call(command, actor, command_id)


async def accepted(
    host: MeetingHost, actor: str, command: Command, command_id: str | None = None
) -> Accepted:
    outcome = await act(host, actor, command, command_id)
    assert isinstance(outcome, Accepted), outcome
    return outcome


async def new_meeting(
    host: MeetingHost, *, settings: cmd.UpdateSettings | None = None
) -> dict[str, str]:
    """Create the host's meeting with a chair and two delegates (ana, bo): ids by name."""
    await accepted(
        host, ADMIN, cmd.CreateMeeting(host.meeting, "Test", settings or cmd.UpdateSettings())
    )
    ids = {}
    for name, role in [("chair", Role.CHAIR), ("ana", Role.DELEGATE), ("bo", Role.DELEGATE)]:
        outcome = await accepted(host, ADMIN, cmd.AddParticipant(name, name.upper(), role))
        added = outcome.events[0].data
        assert isinstance(added, ev.ParticipantAdded)
        ids[name] = added.participant.id
    return ids


def rejected(outcome: Outcome) -> str:
    """The code of a rejection (fails on an acceptance)."""
    assert isinstance(outcome, Rejection), outcome
    return outcome.code.value
