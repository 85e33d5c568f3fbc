"""The commit loop: batches decided in order, one append per batch, acks after the append,
seq conflicts repaired by catching up and deciding again, a failing log changing nothing,
and retried no-op commands answered as duplicates."""

from __future__ import annotations

import asyncio

import pytest

from floor.state import Accepted, Code, Rejection
from floor.state import commands as cmd
from floor.store.memory import MemoryLog, MemoryStorage
from tests.host.harness import (
    BATCH,
    MEETING,
    Outcome,
    RecordingLog,
    Replies,
    Submission,
    accepted,
    acking,
    act,
    let_the_loop_run,
    new_host,
    new_meeting,
    rejected,
    running,
    subscribe,
    wait_until,
)

pytestmark = pytest.mark.asyncio


# --- batching and group commit ---------------------------------------------------------------


async def test_commands_submitted_together_are_decided_in_one_batch_in_order() -> None:
    """Commands queued together form one batch, decided in submission order, each seeing
    the effects of those before it."""
    log = RecordingLog()
    host = new_host(log)
    async with running(host):
        ids = await new_meeting(host)
        ana, bo, chair = ids["ana"], ids["bo"], ids["chair"]
        head, batches = host.state.seq, host.stats["batches"]

        # when: five commands are queued with no await in between
        replies = Replies()
        replies.submit(host, cmd.RequestFloor(), ana)  # 0: ana joins the list
        replies.submit(host, cmd.RequestFloor(), bo)  # 1: bo joins behind her
        replies.submit(host, cmd.RequestFloor(), ana)  # 2: ana again: she is on the list
        replies.submit(host, cmd.GrantFloor(), chair)  # 3: the head of the list: ana
        replies.submit(host, cmd.RequestFloor(), ana)  # 4: ana again: she has the floor
        await replies.wait(5)

    # then: one batch, answered in order, each decision saw the ones before
    assert host.stats["batches"] == batches + 1
    assert replies.order == [0, 1, 2, 3, 4]
    first, second, third, grant, fifth = (replies[i] for i in range(5))
    assert isinstance(first, Accepted)
    assert isinstance(second, Accepted)
    assert [e.seq for e in first.events] == [head + 1]
    assert [e.seq for e in second.events] == [head + 2]
    assert second.events[0].data.position == 1  # type: ignore[union-attr]
    assert rejected(third) == "conflict"
    assert isinstance(grant, Accepted)
    assert [e.name for e in grant.events] == ["floor.granted"]
    assert grant.events[0].data.floor.participant == ana  # type: ignore[union-attr]
    assert rejected(fifth) == "conflict"
    assert host.state.floor is not None
    assert host.state.floor.participant == ana
    assert [r.participant for r in host.state.queue] == [bo]


async def test_a_batch_is_written_with_one_append() -> None:
    """All the events of a batch go to the log in one append, numbered from the host's seq."""
    log = RecordingLog()
    host = new_host(log)
    async with running(host):
        ids = await new_meeting(host)
        head = host.state.seq
        appends = len(log.appends)

        replies = Replies()
        for n in range(10):
            replies.submit(host, cmd.SendChat("all", f"hello {n}"), ids["ana"])
        await replies.wait(10)

    assert len(log.appends) == appends + 1
    append = log.appends[-1]
    assert append.expected_seq == head
    assert append.names == ["chat.posted"] * 10
    assert append.result == "written"
    assert host.state.seq == log.head_now() == head + 10


async def test_a_batch_without_events_writes_nothing() -> None:
    """A batch of rejections and no-ops is answered without touching the log."""
    log = RecordingLog()
    host = new_host(log)
    async with running(host):
        ids = await new_meeting(host)
        head, appends = host.state.seq, len(log.appends)

        replies = Replies()
        replies.submit(host, cmd.OpenList(), ids["chair"])  # already open: no event
        replies.submit(host, cmd.ReleaseFloor(), ids["ana"])  # nobody speaks: conflict
        replies.submit(host, cmd.GrantFloor(), ids["ana"])  # not the chair: forbidden
        await replies.wait(3)

    assert len(log.appends) == appends
    assert host.state.seq == head
    assert replies[0] == Accepted((), head)
    assert [rejected(replies[1]), rejected(replies[2])] == ["conflict", "forbidden"]


async def test_more_commands_than_a_batch_holds_take_several_appends() -> None:
    """At most BATCH commands are decided and written together; the rest follow in order."""
    log = RecordingLog()
    host = new_host(log)
    async with running(host):
        ids = await new_meeting(host)
        appends = len(log.appends)

        replies = Replies()
        for n in range(BATCH + 1):
            replies.submit(host, cmd.SendChat("all", f"m{n}"), ids["bo"])
        await replies.wait(BATCH + 1)

    assert [len(a.names) for a in log.appends[appends:]] == [BATCH, 1]
    assert replies.order == list(range(BATCH + 1))
    assert [m.text for m in host.state.chat[-2:]] == [f"m{BATCH - 1}", f"m{BATCH}"]


async def test_a_full_queue_refuses_commands() -> None:
    """Past its queue limit the host refuses a submission and `call` answers rate_limited."""
    host = new_host(MemoryLog(), queue_limit=2)  # not running: nothing leaves the queue
    assert host.submit(Submission(cmd.OpenList(), "p-1"))
    assert host.submit(Submission(cmd.OpenList(), "p-2"))
    assert not host.submit(Submission(cmd.OpenList(), "p-3"))
    outcome = await act(host, "p-4", cmd.OpenList())
    assert rejected(outcome) == "rate_limited"


# --- acked means durable ---------------------------------------------------------------------


async def test_the_ack_comes_after_the_append_returned_and_after_the_events() -> None:
    """While the append is in flight nothing is acked, fanned out or adopted; once it
    returns the events reach subscribers, then the command's ack."""
    log = RecordingLog()
    host = new_host(log)
    async with running(host):
        ids = await new_meeting(host)
        ana = subscribe(host, ids["ana"])
        chair = subscribe(host, ids["chair"])
        head = host.state.seq
        logged_at_reply: list[int] = []

        def reply(outcome: Outcome) -> None:
            logged_at_reply.append(log.head_now())
            acking(ana, "c-1")(outcome)

        # given: the log holds the next append until we release it
        log.hold = asyncio.Event()
        host.submit(Submission(cmd.RequestFloor(), ids["ana"], "c-1", reply))
        await wait_until(lambda: log.held() == 1)
        await let_the_loop_run()

        # then: no ack, no event out, the state not moved
        assert logged_at_reply == []
        assert ana.outbox.messages()[1:] == []
        assert chair.outbox.messages()[1:] == []
        assert host.state.seq == head

        # when: the append returns
        log.hold.set()
        await wait_until(lambda: bool(logged_at_reply))

    # then: acked after the events were in the log; the event before the ack
    assert logged_at_reply == [head + 1]
    assert [(m["t"], m.get("seq")) for m in ana.outbox.messages()[1:]] == [
        ("event", head + 1),
        ("ack", head + 1),
    ]
    assert chair.seqs() == [head + 1]


# --- seq conflicts ---------------------------------------------------------------------------


async def test_a_seq_conflict_is_repaired_by_catching_up_and_deciding_again() -> None:
    """When another writer appends first, the host gets SeqConflict, catches up, decides
    the batch again against the new state, and every event reaches subscribers once, in
    log order, without gaps."""
    storage = MemoryStorage()
    log = RecordingLog(storage)
    here = new_host(log)
    there = new_host(MemoryLog(storage))  # another node's host of the same meeting
    async with running(here):
        ids = await new_meeting(here)
    async with running(here, there):
        ana, bo, chair = ids["ana"], ids["bo"], ids["chair"]
        watcher = subscribe(here, chair)
        head = here.state.seq
        assert there.state.seq == head

        # given: this host's append is in flight, decided at `head`
        log.hold = asyncio.Event()
        replies = Replies()
        replies.submit(here, cmd.RequestFloor(), ana)
        replies.submit(here, cmd.RequestFloor(), bo)
        await wait_until(lambda: log.held() == 1)

        # when: the other node writes first (ana asks for the floor there, chat follows)
        await accepted(there, ana, cmd.RequestFloor())
        await accepted(there, chair, cmd.SendChat("all", "welcome"))
        log.hold.set()
        await replies.wait(2)

    # then: one conflict, then a write decided on the caught-up state
    assert here.stats["conflicts"] == 1
    assert [(a.expected_seq, a.result) for a in log.appends[-2:]] == [
        (head, "conflict"),
        (head + 2, "written"),
    ]
    assert rejected(replies[0]) == "conflict"  # ana is already on the list (from there)
    second = replies[1]
    assert isinstance(second, Accepted)
    assert [e.seq for e in second.events] == [head + 3]
    assert second.events[0].data.position == 1  # type: ignore[union-attr]
    # every event once, in log order, no gaps
    records = await MemoryLog(storage).read(MEETING, after=head)
    assert watcher.seqs() == [r["seq"] for r in records] == [head + 1, head + 2, head + 3]
    assert watcher.names() == ["floor.requested", "chat.posted", "floor.requested"]
    assert watcher.events()[0]["by"] == ana
    assert watcher.events()[2]["by"] == bo
    assert [r.participant for r in here.state.queue] == [ana, bo]


async def test_a_notice_from_another_writer_is_caught_up_and_fanned_out() -> None:
    """`notify` after another writer appended: the host reads the new events and its
    subscribers get them, once and in order."""
    storage = MemoryStorage()
    here = new_host(MemoryLog(storage))
    there = new_host(MemoryLog(storage))
    async with running(here):
        ids = await new_meeting(here)
    async with running(here, there):
        watcher = subscribe(here, ids["bo"])
        head = here.state.seq
        for n in range(3):
            await accepted(there, ids["ana"], cmd.SendChat("all", f"from there {n}"))
        assert watcher.seqs() == []  # no notice yet

        here.notify(there.state.seq)
        await wait_until(lambda: here.state.seq == there.state.seq)

    assert watcher.seqs() == [head + 1, head + 2, head + 3]
    assert here.state == there.state


async def test_a_conflict_whose_catch_up_fails_rejects_the_batch() -> None:
    """When the log cannot be read to repair a conflict, every command of the batch is
    answered internal and nothing is fanned out or adopted."""
    storage = MemoryStorage()
    log = RecordingLog(storage)
    here = new_host(log)
    there = new_host(MemoryLog(storage))
    async with running(here):
        ids = await new_meeting(here)
    async with running(here, there):
        watcher = subscribe(here, ids["chair"])
        before = here.state
        await accepted(there, ids["bo"], cmd.SendChat("all", "first"))

        log.reads_failing = True
        replies = Replies()
        replies.submit(here, cmd.RequestFloor(), ids["ana"])
        replies.submit(here, cmd.OpenList(), ids["chair"])
        await replies.wait(2)

    assert [rejected(replies[0]), rejected(replies[1])] == ["internal", "internal"]
    assert here.state is before
    assert watcher.events() == []


async def test_a_log_behind_the_host_is_a_failing_log_not_a_retry_loop() -> None:
    """When the log lost events the host applied (recreated, or failed over to a replica
    behind it), catching up brings nothing: the batch is rejected internal instead of
    conflicting again forever, and the host keeps answering."""
    storage = MemoryStorage()
    log = RecordingLog(storage)
    host = new_host(log)
    async with running(host):
        ids = await new_meeting(host)
        before = host.state
        watcher = subscribe(host, ids["chair"])

        # given: the meeting's log is gone (a Redis restarted without persistence)
        del storage.logs[MEETING]

        replies = Replies()
        replies.submit(host, cmd.RequestFloor(), ids["ana"])
        replies.submit(host, cmd.SendChat("all", "hello"), ids["bo"])
        await replies.wait(2)
        later = await act(host, ids["bo"], cmd.RequestFloor())

    assert [rejected(replies[0]), rejected(replies[1]), rejected(later)] == ["internal"] * 3
    assert len(log.appends) < 10  # one conflict per batch, not a loop
    assert host.state is before
    assert watcher.events() == []


# --- a failing log ---------------------------------------------------------------------------


async def test_a_failing_append_rejects_the_whole_batch_and_changes_nothing() -> None:
    """When the append raises StoreError every command of the batch is rejected with
    code internal, the state is unchanged and nothing is fanned out; later commands
    are written once the log is back, with no gap in the seqs."""
    log = RecordingLog()
    host = new_host(log)
    async with running(host):
        ids = await new_meeting(host)
        watcher = subscribe(host, ids["chair"])
        before, head = host.state, host.state.seq

        # given: the log is down
        log.failing = True
        replies = Replies()
        replies.submit(host, cmd.RequestFloor(), ids["ana"], "a-1")
        replies.submit(host, cmd.SendChat("all", "hello"), ids["bo"], "b-1")
        replies.submit(host, cmd.CloseList(), ids["chair"], "c-1")
        await replies.wait(3)

        # then: all three rejected internal, nothing adopted, nothing sent
        assert all(isinstance(replies[i], Rejection) for i in range(3))
        assert {replies[i].code for i in range(3)} == {Code.INTERNAL}  # type: ignore[union-attr]
        assert host.state is before
        assert watcher.outbox.messages()[1:] == []
        assert log.head_now() == head

        # when: the log is back, the same command id is retried
        log.failing = False
        retried = await accepted(host, ids["ana"], cmd.RequestFloor(), "a-1")

    assert not retried.duplicate
    assert [e.seq for e in retried.events] == [head + 1]
    assert watcher.seqs() == [head + 1]


# --- no-op retries ---------------------------------------------------------------------------


async def test_a_retried_no_op_is_answered_as_a_duplicate_and_not_applied_again() -> None:
    """A command acked without events, retried with the same id, is answered duplicate
    (with the first ack's seq) and not decided again."""
    log = RecordingLog()
    host = new_host(log)
    async with running(host):
        ids = await new_meeting(host)
        chair = ids["chair"]
        watcher = subscribe(host, ids["ana"])

        # given: list.open acked as a no-op (the list is open), then the list closed
        first = await accepted(host, chair, cmd.OpenList(), "open-1")
        assert first.events == ()
        assert not first.duplicate
        closed = await accepted(host, chair, cmd.CloseList(), "close-1")
        seen = len(watcher.outbox.frames)

        # when: the first command is retried
        retry = await accepted(host, chair, cmd.OpenList(), "open-1")

        # then: a duplicate of the first ack; the list stays closed; nothing sent
        assert retry == Accepted((), first.seq, duplicate=True)
        assert not host.state.list_open
        assert len(watcher.outbox.frames) == seen
        assert host.state.seq == closed.seq

        # and: the same command under a new id is decided (and opens the list)
        fresh = await accepted(host, chair, cmd.OpenList(), "open-2")
    assert [e.name for e in fresh.events] == ["list.opened"]


async def test_a_retry_of_a_command_with_events_is_a_duplicate() -> None:
    """A retried command id whose events are in the log is answered duplicate with the
    seq of its last event and writes nothing."""
    log = RecordingLog()
    host = new_host(log)
    async with running(host):
        ids = await new_meeting(host)
        first = await accepted(host, ids["ana"], cmd.RequestFloor(), "r-1")
        await accepted(host, ids["bo"], cmd.RequestFloor())
        appends = len(log.appends)
        retry = await accepted(host, ids["ana"], cmd.RequestFloor(), "r-1")
    assert retry == Accepted((), first.seq, duplicate=True)
    assert len(log.appends) == appends
