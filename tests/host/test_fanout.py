"""Fan-out: welcomes and resumes from the ring, encode once per codec, slow subscribers
closed without slowing anyone, visibility of chat, detached connections."""

from __future__ import annotations

import pytest

from floor.protocol.codecs import JSON, MSGPACK
from floor.state import commands as cmd
from tests.host.harness import (
    RING,
    Client,
    FakeOutbox,
    MeetingHost,
    RecordingLog,
    Replies,
    Resume,
    accepted,
    new_host,
    new_meeting,
    running,
    seed_log,
    subscribe,
)

pytestmark = pytest.mark.asyncio


def assert_full_welcome(client: Client, host: MeetingHost) -> None:
    """The client got the whole state at the host's seq, and nothing after it."""
    messages = client.outbox.messages()
    assert [m["t"] for m in messages] == ["welcome"]
    welcome = messages[0]
    assert "resumed" not in welcome
    assert welcome["seq"] == host.state.seq
    assert welcome["epoch"] == host.epoch
    assert welcome["state"]["participants"].keys() == host.state.participants.keys()


# --- resume --------------------------------------------------------------------------------


async def test_a_resume_gets_exactly_the_events_after_its_seq_that_it_may_see() -> None:
    """Attach with Resume(epoch, seq): a welcome marked resumed at that seq, then the
    events after it in order, without those the viewer may not see; later events follow."""
    host = new_host(RecordingLog())
    async with running(host):
        ids = await new_meeting(host)
        ana, bo, chair = ids["ana"], ids["bo"], ids["chair"]
        seen = host.state.seq
        await accepted(host, ana, cmd.RequestFloor())  # seen + 1
        await accepted(host, ana, cmd.SendChat("chair", "to the chair only"))  # seen + 2
        await accepted(host, bo, cmd.RequestFloor())  # seen + 3
        assert host.epoch is not None

        # when: bo and the chair come back from `seen`
        bo_back = subscribe(host, bo, resume=Resume(host.epoch, seen))
        chair_back = subscribe(host, chair, codec=MSGPACK, resume=Resume(host.epoch, seen))

        # then: exactly what each missed and may see
        for client, seqs in [
            (bo_back, [seen + 1, seen + 3]),
            (chair_back, [seen + 1, seen + 2, seen + 3]),
        ]:
            welcome = client.welcome()
            assert welcome["resumed"] is True
            assert welcome["seq"] == seen
            assert "state" not in welcome
            assert client.seqs() == seqs

        # and: the next event follows, once
        await accepted(host, chair, cmd.GrantFloor())
    assert bo_back.seqs() == [seen + 1, seen + 3, seen + 4]
    assert chair_back.seqs() == [seen + 1, seen + 2, seen + 3, seen + 4]


async def test_a_resume_at_the_head_gets_nothing_more() -> None:
    """Resume at the host's seq: a resumed welcome and no events, then only new ones."""
    host = new_host(RecordingLog())
    async with running(host):
        ids = await new_meeting(host)
        assert host.epoch is not None
        head = host.state.seq
        client = subscribe(host, ids["ana"], resume=Resume(host.epoch, head))
        assert [m["t"] for m in client.outbox.messages()] == ["welcome"]
        assert client.welcome()["resumed"] is True
        assert client.welcome()["seq"] == head

        await accepted(host, ids["bo"], cmd.RequestFloor())
    assert client.seqs() == [head + 1]


@pytest.mark.parametrize(
    ("epoch", "back"),
    [("another-log", 2), (None, 1)],
    ids=["unknown-epoch", "ahead-of-the-host"],
)
async def test_a_resume_the_host_cannot_serve_gets_a_full_welcome(
    epoch: str | None, back: int
) -> None:
    """A resume from another log (unknown epoch), or from a seq the host has not reached,
    gets the full state instead."""
    host = new_host(RecordingLog())
    async with running(host):
        ids = await new_meeting(host)
        assert host.epoch is not None
        resume = (
            Resume(epoch, host.state.seq - back)
            if epoch is not None
            else Resume(host.epoch, host.state.seq + back)
        )
        client = subscribe(host, ids["ana"], resume=resume)
    assert_full_welcome(client, host)


async def test_a_resume_older_than_the_ring_gets_a_full_welcome() -> None:
    """The ring keeps the last RING events: a resume from just before its oldest event
    is served from it; one older gets the full state."""
    log = RecordingLog()
    await seed_log(log, RING)  # seqs 1 … RING, all in the ring after loading
    host = new_host(log)
    async with running(host):
        ids = {p.name: p.id for p in host.state.participants.values()}
        assert host.state.seq == RING
        for n in range(5):  # seqs RING + 1 … RING + 5: the ring now starts at 6
            await accepted(host, ids["ana"], cmd.SendChat("all", f"late {n}"))
        assert host.epoch is not None

        served = subscribe(host, ids["bo"], resume=Resume(host.epoch, 5))
        too_old = subscribe(host, ids["bo"], resume=Resume(host.epoch, 4))

    welcome, *missed = served.outbox.messages()  # decoded once: 20,000 messages
    assert welcome["t"] == "welcome"
    assert welcome["resumed"] is True
    assert welcome["seq"] == 5
    assert [m["seq"] for m in missed] == list(range(6, RING + 6))
    assert_full_welcome(too_old, host)


async def test_a_loaded_host_resumes_clients_of_its_previous_life() -> None:
    """A host started on an existing log keeps its epoch and serves resumes from what it
    read at start."""
    log = RecordingLog()
    first = new_host(log)
    async with running(first):
        ids = await new_meeting(first)
        await accepted(first, ids["ana"], cmd.RequestFloor())
    epoch, head = first.epoch, first.state.seq
    assert epoch is not None

    second = new_host(log)
    async with running(second):
        client = subscribe(second, ids["bo"], resume=Resume(epoch, head - 2))
    assert second.epoch == epoch
    assert second.state == first.state
    assert client.seqs() == [head - 1, head]


# --- live fan-out --------------------------------------------------------------------------


async def test_an_event_is_encoded_once_per_codec() -> None:
    """Subscribers of one codec and audience get the very same frame bytes object; the
    other codec its own encoding of the same event."""
    host = new_host(RecordingLog())
    async with running(host):
        ids = await new_meeting(host)
        clients = [
            subscribe(host, ids["ana"]),
            subscribe(host, ids["bo"]),
            subscribe(host, ids["chair"]),
            subscribe(host, ids["ana"], codec=MSGPACK),
            subscribe(host, ids["bo"], codec=MSGPACK),
        ]
        await accepted(host, ids["ana"], cmd.RequestFloor())
    json_frames = [c.outbox.frames[-1] for c in clients[:3]]
    msgpack_frames = [c.outbox.frames[-1] for c in clients[3:]]
    assert all(f is json_frames[0] for f in json_frames)
    assert all(f is msgpack_frames[0] for f in msgpack_frames)
    assert clients[0].events() == clients[3].events()


async def test_a_slow_subscriber_is_closed_and_the_others_get_every_event() -> None:
    """One subscriber that stops reading overflows its outbox and is closed with 4008;
    the meeting goes on and every other subscriber receives every event, in order."""
    host = new_host(RecordingLog())
    async with running(host):
        ids = await new_meeting(host)
        fast = [subscribe(host, ids["chair"]), subscribe(host, ids["ana"], codec=MSGPACK)]
        slow = subscribe(host, ids["bo"], outbox=FakeOutbox(limit=2_000))
        lagging = subscribe(host, ids["bo"], outbox=FakeOutbox(limit=1_000_000))
        slow.outbox.stalled = lagging.outbox.stalled = True
        head = host.state.seq

        # when: a burst of chat, one command at a time and in batches
        replies = Replies()
        for n in range(60):
            replies.submit(host, cmd.SendChat("all", f"message number {n} " + "x" * 40), ids["ana"])
            if n % 20 == 0:  # some alone, some in a batch of 19
                await replies.wait(n + 1)
        await replies.wait(60)

    # then: the slow one was closed for being slow, the others missed nothing
    assert slow.outbox.closed
    assert slow.outbox.close_code == 4008
    assert slow.outbox.overflowed
    assert slow.outbox.dropped > 0
    expected = list(range(head + 1, head + 61))
    for client in fast:
        assert client.seqs() == expected
        assert not client.outbox.closed
    # a client behind but within its limit gets everything once it reads again
    assert not lagging.outbox.closed
    lagging.outbox.drain()
    assert lagging.seqs() == expected


async def test_private_chat_reaches_only_its_parties() -> None:
    """Chat to the chair reaches the chair role and its sender; others get the events
    they may see of the same batch, still in order."""
    host = new_host(RecordingLog())
    async with running(host):
        ids = await new_meeting(host)
        chair, ana, bo = (subscribe(host, ids[n]) for n in ("chair", "ana", "bo"))
        head = host.state.seq
        replies = Replies()
        replies.submit(host, cmd.RequestFloor(), ids["ana"])
        replies.submit(host, cmd.SendChat("chair", "a word"), ids["ana"])
        replies.submit(host, cmd.SendChat(ids["bo"], "psst"), ids["chair"])
        replies.submit(host, cmd.RequestFloor(), ids["bo"])
        await replies.wait(4)
    assert chair.seqs() == [head + 1, head + 2, head + 3, head + 4]
    assert ana.seqs() == [head + 1, head + 2, head + 4]
    assert bo.seqs() == [head + 1, head + 3, head + 4]


async def test_a_detached_connection_gets_nothing_more() -> None:
    """After detach a connection is no subscriber and no event reaches its outbox."""
    host = new_host(RecordingLog())
    async with running(host):
        ids = await new_meeting(host)
        client = subscribe(host, ids["ana"])
        assert client.subscriber in host.subscribers
        host.detach(client.subscriber)
        assert client.subscriber not in host.subscribers
        await accepted(host, ids["bo"], cmd.RequestFloor())
    assert client.events() == []


async def test_a_removed_participant_is_closed_4003() -> None:
    """Removing a participant closes their connections (4003) and detaches them."""
    host = new_host(RecordingLog())
    async with running(host):
        ids = await new_meeting(host)
        gone = subscribe(host, ids["bo"])
        staying = subscribe(host, ids["ana"], codec=JSON)
        await accepted(host, "admin", cmd.RemoveParticipant(ids["bo"]))
        await accepted(host, ids["ana"], cmd.RequestFloor())
    assert gone.outbox.close_code == 4003
    assert gone.subscriber not in host.subscribers
    assert staying.names() == ["participant.removed", "floor.requested"]
