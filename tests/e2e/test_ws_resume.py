"""Resume, idempotent retries and presence, over a real server (PROTOCOL.md 3, 5, 6)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from tests.e2e.peers import (
    CODECS,
    Peer,
    all_events,
    connect_peer,
    make_room,
    seq_of,
    viewer,
    visible_events,
)
from tests.e2e.server import Server

pytestmark = pytest.mark.asyncio


def resume_of(peer: Peer) -> dict[str, Any]:
    return {"epoch": peer.welcome["epoch"], "seq": peer.last_seq}


async def chat(peer: Peer, to: str, text: str) -> int:
    reply = await peer.command("chat.send", {"to": to, "text": text})
    assert reply["t"] == "ack", reply
    seq: int = reply["seq"]
    return seq


@pytest.mark.parametrize("codec", CODECS)
async def test_a_resumed_client_gets_exactly_the_events_it_missed_then_live_ones(
    shared_server: Server, codec: str
) -> None:
    room = make_room(shared_server)
    async with connect_peer(shared_server, room, "chair", codec) as chair:
        async with connect_peer(shared_server, room, "d2", codec) as d2:
            resume = resume_of(d2)
        # missed: chat to all, to the chair, between d1 and d2 and between d1 and the chair
        async with connect_peer(shared_server, room, "d1", codec) as d1:
            await chat(d1, "all", "one")
            await chat(d1, "chair", "two")
            await chat(d1, room.id("d2"), "three")
            await chat(d1, room.id("chair"), "four")
            assert (await d1.command("floor.request"))["t"] == "ack"
        async with connect_peer(shared_server, room, "d2", codec, resume=resume) as d2:
            welcome = d2.welcome
            assert welcome["resumed"] is True
            assert welcome["seq"] == resume["seq"]
            assert welcome["epoch"] == resume["epoch"]
            assert "state" not in welcome
            assert welcome["you"] == {"participant": room.id("d2"), "role": "delegate"}
            head = seq_of(room.meeting)
            await d2.until_seq(head)
            expected = [
                e
                for e in visible_events(all_events(room.meeting), viewer(room, "d2"))
                if e["seq"] > resume["seq"]
            ]
            assert [e["data"].get("text") for e in expected] == ["one", "three", None]
            assert d2.events == expected
            # then live events, and nothing twice
            live = await chat(chair, "all", "live")
            await d2.until_seq(live)
            assert [e["seq"] for e in d2.events] == [e["seq"] for e in expected] + [live]


@pytest.mark.parametrize("codec", CODECS)
async def test_resuming_at_the_head_resumes_with_no_events(
    shared_server: Server, codec: str
) -> None:
    room = make_room(shared_server)
    async with connect_peer(shared_server, room, "d1", codec) as d1:
        resume = resume_of(d1)
    async with connect_peer(shared_server, room, "d1", codec, resume=resume) as d1:
        assert d1.welcome["resumed"] is True
        assert d1.welcome["seq"] == resume["seq"]
        assert await d1.quiet(0.3) == []


@pytest.mark.parametrize("codec", CODECS)
async def test_resuming_from_zero_replays_the_whole_visible_log(
    shared_server: Server, codec: str
) -> None:
    room = make_room(shared_server)
    async with connect_peer(shared_server, room, "d1", codec) as d1:
        epoch = d1.welcome["epoch"]
        await chat(d1, "chair", "hidden from the display")
    async with connect_peer(
        shared_server, room, "display", codec, resume={"epoch": epoch, "seq": 0}
    ) as display:
        assert display.welcome["resumed"] is True
        head = seq_of(room.meeting)
        await display.until_seq(head - 1)
        await display.quiet(0.2)
        log = all_events(room.meeting)
        assert display.events == visible_events(log, viewer(room, "display"))
        assert [e["seq"] for e in display.events] == list(range(1, head))


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize(
    "resume",
    [
        {"epoch": "not-this-log", "seq": 3},
        {"epoch": None, "seq": 10**9},  # epoch filled in: a seq beyond the server's
    ],
    ids=["unknown-epoch", "future-seq"],
)
async def test_an_unresumable_resume_gets_a_full_welcome(
    shared_server: Server, codec: str, resume: dict[str, Any]
) -> None:
    room = make_room(shared_server)
    async with connect_peer(shared_server, room, "d1", codec) as d1:
        epoch = d1.welcome["epoch"]
        seq = d1.welcome["seq"]
    resume = {**resume, "epoch": resume["epoch"] or epoch}
    async with connect_peer(shared_server, room, "d1", codec, resume=resume) as d1:
        assert "resumed" not in d1.welcome
        assert d1.welcome["seq"] == seq
        assert d1.welcome["epoch"] == epoch
        assert d1.welcome["state"]["participants"][room.id("d1")]["name"] == "Delegate One"
        assert await d1.quiet(0.2) == []


@pytest.mark.parametrize("seed", range(4))
async def test_clients_disconnected_at_random_points_resume_without_gap_or_duplicate(
    shared_server: Server, seed: int
) -> None:
    """Three delegates read a stream of events, each dropping its connection after a random
    number of them (mid-frame too) and resuming; each ends with exactly its visible log."""
    rng = random.Random(seed)
    room = make_room(shared_server)
    names = ("d1", "d2", "observer")
    codecs = {name: rng.choice(CODECS) for name in names}
    received: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    first_seq: dict[str, int] = {}
    done = asyncio.Event()
    all_connected = asyncio.Event()

    async def reader(name: str) -> None:
        resume: dict[str, Any] | None = None
        while True:
            hello = {"resume": resume} if resume else {}
            async with connect_peer(shared_server, room, name, codecs[name], **hello) as peer:
                if resume is None:
                    first_seq[name] = peer.welcome["seq"]
                    if len(first_seq) == len(names):
                        all_connected.set()
                else:
                    assert peer.welcome.get("resumed") is True
                    assert peer.welcome["seq"] == resume["seq"]
                budget = rng.randint(1, 25)
                while budget > 0:
                    if done.is_set() and not peer.inbox:
                        got = await peer.quiet(0.3)
                        received[name].extend(m for m in got if m["t"] == "event")
                        if not got:
                            return
                        continue
                    try:
                        message = await peer.recv(0.2)
                    except TimeoutError:
                        continue
                    if message["t"] == "event":
                        received[name].append(message)
                        budget -= 1
                resume = {
                    "epoch": peer.welcome["epoch"],
                    "seq": received[name][-1]["seq"] if received[name] else peer.welcome["seq"],
                }
                # leaving the block drops the connection with whatever is still unread

    async def writer(k: int) -> None:
        # two chair connections, each within its burst of commands (rate limits are per
        # connection), writing concurrently
        async with connect_peer(shared_server, room, "chair", "json") as chair:
            await all_connected.wait()
            for i in range(36):
                if i % 12 == 11:
                    reply = await chair.command("list.close" if (i + k) % 2 else "list.open")
                    assert reply["t"] == "ack", reply
                    continue
                to = rng.choice(["all", "chair", room.id("d1"), room.id("d2")])
                await chat(chair, to, f"message {k}.{i}")

    async def writers() -> None:
        await asyncio.gather(writer(0), writer(1))
        done.set()

    async with asyncio.timeout(60):
        await asyncio.gather(writers(), *(reader(name) for name in names))
    log = all_events(room.meeting)
    for name in names:
        expected = [
            e for e in visible_events(log, viewer(room, name)) if e["seq"] > first_seq[name]
        ]
        assert received[name] == expected, name


# --- idempotent retries -------------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS)
async def test_a_retried_command_id_is_acked_with_its_original_seq_and_not_applied_again(
    shared_server: Server, codec: str
) -> None:
    room = make_room(shared_server)
    command = {"t": "cmd", "id": "retry-1", "name": "floor.request", "args": {}}
    async with connect_peer(shared_server, room, "d1", codec) as d1:
        resume = resume_of(d1)
        await d1.send(command)
        await d1.send({"t": "ping", "id": "sync"})
        await d1.next("pong")  # the command reached the server before we hang up
    # the connection dropped before we read the ack: did it go through?
    async with connect_peer(shared_server, room, "d1", codec, resume=resume) as d1:
        head = seq_of(room.meeting)
        assert head == resume["seq"] + 1
        reply = await d1.command("floor.request", {}, id="retry-1")
        assert reply == {"t": "ack", "id": "retry-1", "seq": head}
        requested = [e for e in d1.log if e["t"] == "event"]
        assert [e["name"] for e in requested] == ["floor.requested"]  # once, from the resume
        assert seq_of(room.meeting) == head
        # and again, on another connection of the same participant
        async with connect_peer(shared_server, room, "d1", codec) as again:
            assert await again.command("floor.request", {}, id="retry-1") == reply
        assert seq_of(room.meeting) == head
        assert await d1.quiet(0.2) == []
        # the same id from someone else is their own command
        async with connect_peer(shared_server, room, "d2", codec) as d2:
            other = await d2.command("floor.request", {}, id="retry-1")
            assert other["t"] == "ack"
            assert other["seq"] == head + 1


@pytest.mark.parametrize("codec", CODECS)
async def test_a_rejected_command_is_decided_again_when_retried(
    shared_server: Server, codec: str
) -> None:
    room = make_room(shared_server)
    async with connect_peer(shared_server, room, "chair", codec) as chair:
        assert (await chair.command("list.close"))["t"] == "ack"
        async with connect_peer(shared_server, room, "d1", codec) as d1:
            first = await d1.command("floor.request", {}, id="again")
            assert first["code"] == "list_closed"
            assert (await chair.command("list.open"))["t"] == "ack"
            second = await d1.command("floor.request", {}, id="again")
            assert second["t"] == "ack"
            assert second["seq"] == seq_of(room.meeting)


# --- presence ------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS)
async def test_presence_reaches_chairs_coalesced_and_no_one_else(
    shared_server: Server, codec: str
) -> None:
    room = make_room(shared_server)
    d1, d2, observer = room.id("d1"), room.id("d2"), room.id("observer")
    async with connect_peer(shared_server, room, "chair", codec) as chair:
        assert chair.welcome["state"]["presence"][d1] is False
        own = await chair.next("presence", timeout=5)  # its own connection, coalesced
        assert own == {"t": "presence", "online": [room.id("chair")], "offline": []}
        async with connect_peer(shared_server, room, "display", codec) as display:
            async with (
                connect_peer(shared_server, room, "d1", codec) as p1,
                connect_peer(shared_server, room, "d2", codec),
                connect_peer(shared_server, room, "observer", codec),
            ):
                presence = await chair.next("presence", timeout=5)
                assert presence == {  # a display is a participant too
                    "t": "presence",
                    "online": sorted([d1, d2, observer, room.id("display")]),
                    "offline": [],
                }
                # a second connection of someone online changes nothing
                async with connect_peer(shared_server, room, "d1", codec):
                    await asyncio.sleep(0)
                assert [m for m in await chair.quiet(1.5) if m["t"] == "presence"] == []
                assert all(m["t"] != "presence" for m in p1.log)
            presence = await chair.next("presence", timeout=5)
            assert presence == {
                "t": "presence",
                "online": [],
                "offline": sorted([d1, d2, observer]),
            }
            assert all(m["t"] != "presence" for m in display.log + await display.quiet(0.1))
        async with connect_peer(shared_server, room, "chair", codec) as chair2:
            presence = chair2.welcome["state"]["presence"]
            assert presence[room.id("chair")] is True
            assert presence[d1] is False
