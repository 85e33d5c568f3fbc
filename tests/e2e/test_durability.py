"""Acked means durable (ARCHITECTURE law 1): SIGKILL the server in the middle of a burst of
commands from several clients; after a restart on the same data, every acked command is in
the log, without gaps, and clients that resume converge to the state a fresh welcome gives."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.e2e.peers import Peer, all_events, seq_of
from tests.e2e.server import Meeting, Server

pytestmark = pytest.mark.asyncio

DELEGATES = 6
WINDOW = 8
"""Commands each client keeps in flight."""
KILL_AFTER = 300
"""Acked commands (over all clients) after which the server is killed."""


@dataclass
class Sender:
    name: str
    pid: str
    token: str
    codec: str
    acked: dict[str, tuple[int, str, dict[str, Any]]] = field(default_factory=dict)
    """command id → (ack seq, command name, args)."""
    seen: list[dict[str, Any]] = field(default_factory=list)
    """Every event this client received before the kill."""
    epoch: str = ""
    last_seq: int = 0
    unanswered: int = 0
    """Commands sent but not answered when the connection died."""


def commands_of(sender: Sender, i: int) -> tuple[str, dict[str, Any]]:
    """Delegates alternate: request the floor, chat, withdraw, chat; the chair chats."""
    chat = ("chat.send", {"to": "all", "text": f"{sender.name} says {i}"})
    if sender.name == "chair":
        return chat
    return [("floor.request", {}), chat, ("floor.withdraw", {}), chat][i % 4]


async def burst(server: Server, sender: Sender, total: list[int], enough: asyncio.Event) -> None:
    """Send commands, WINDOW at a time, recording acks, until the connection dies."""
    pending: dict[str, tuple[str, dict[str, Any]]] = {}
    with contextlib.suppress(ConnectionClosed, OSError, TimeoutError):
        async with Peer.connect(server, sender.token, sender.codec) as peer:
            sender.epoch = peer.welcome["epoch"]
            sender.last_seq = peer.welcome["seq"]
            i = 0
            while True:
                for _ in range(WINDOW):
                    name, args = commands_of(sender, i)
                    cid = f"{sender.name}-{i}"
                    pending[cid] = (name, args)
                    i += 1
                    await peer.send({"t": "cmd", "id": cid, "name": name, "args": args})
                while pending:
                    message = await peer.recv(timeout=5)
                    if message["t"] == "event":
                        sender.seen.append(message)
                        sender.last_seq = message["seq"]
                    elif message["t"] in ("ack", "error"):
                        name, args = pending.pop(message["id"])
                        if message["t"] == "ack":
                            sender.acked[message["id"]] = (message["seq"], name, args)
                            total[0] += 1
                            if total[0] >= KILL_AFTER:
                                enough.set()
                        else:
                            assert message["code"] in ("conflict", "not_found"), message
    sender.unanswered = len(pending)


def fold(
    queue: list[dict[str, Any]], chat: list[dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    """Apply the events of this test's commands to a client's queue and chat, in place."""
    for e in events:
        data = e["data"]
        if e["name"] == "floor.requested":
            request = {k: data[k] for k in ("participant", "kind", "lang", "at", "via")}
            queue.insert(data["position"], {"id": data["request"], **request})
        elif e["name"] == "floor.withdrawn":
            queue[:] = [r for r in queue if r["id"] != data["request"]]
        elif e["name"] == "chat.posted":
            chat.append(
                {k: data[k] for k in ("from", "to", "text", "at")} | {"id": data["message"]}
            )
        else:  # pragma: no cover - nothing else happens in this meeting
            raise AssertionError(e)


def normal(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(sorted(item.items())) for item in items]


async def test_every_acked_command_survives_sigkill_and_resumed_clients_converge(
    tmp_path: Path,
) -> None:
    server = Server(
        tmp_path / "data",
        env={"FLOOR_COMMANDS_PER_S": "100000", "FLOOR_COMMAND_BURST": "100000"},
    ).start()
    try:
        meeting: Meeting = server.api.create_meeting("Durable")
        chair = meeting.add("Chair", "UN", role="chair")
        senders = [Sender("chair", chair["id"], chair["token"], "json")]
        for k in range(DELEGATES):
            added = meeting.add(f"Delegate {k}", f"Country {k}")
            senders.append(Sender(f"d{k}", added["id"], added["token"], ["json", "msgpack"][k % 2]))
        welcome_seq = seq_of(meeting)
        total = [0]
        enough = asyncio.Event()
        tasks = [asyncio.create_task(burst(server, s, total, enough)) for s in senders]
        async with asyncio.timeout(30):
            await enough.wait()
        await asyncio.to_thread(server.kill)
        async with asyncio.timeout(30):
            await asyncio.gather(*tasks)
        assert all(len(s.acked) > 0 for s in senders)
        assert sum(s.unanswered for s in senders) > 0  # killed mid-burst

        server.start()
        log = all_events(meeting)
        by_seq = {e["seq"]: e for e in log}
        # no gaps, no reuse
        assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
        # every acked command's event is there, by its sender, as the command said
        for s in senders:
            for cid, (seq, name, args) in s.acked.items():
                event = by_seq[seq]
                assert event["by"] == s.pid, (cid, event)
                expected = {
                    "floor.request": "floor.requested",
                    "floor.withdraw": "floor.withdrawn",
                    "chat.send": "chat.posted",
                }[name]
                assert event["name"] == expected, (cid, event)
                if name == "chat.send":
                    assert event["data"]["text"] == args["text"]
        # every chat text is in the log once
        texts = [e["data"]["text"] for e in log if e["name"] == "chat.posted"]
        assert len(texts) == len(set(texts))
        # no client saw an event that is not durable, or saw it differently
        for s in senders:
            for e in s.seen:
                assert by_seq[e["seq"]] == e
        assert len(log) >= welcome_seq + sum(len(s.acked) for s in senders)

        # resumed clients converge to the state of a fresh welcome
        async with connect_peer_by_token(server, chair["token"], "json") as fresh:
            truth = fresh.welcome["state"]
            head = fresh.welcome["seq"]
        assert head == len(log)
        first = log[welcome_seq - 1]
        assert first["seq"] == welcome_seq
        for s in senders:
            async with connect_peer_by_token(
                server, s.token, s.codec, resume={"epoch": s.epoch, "seq": s.last_seq}
            ) as peer:
                assert peer.welcome.get("resumed") is True, s.name
                assert peer.welcome["seq"] == s.last_seq
                await peer.until_seq(head)
                events = s.seen + peer.events
                assert [e["seq"] for e in events] == list(range(welcome_seq + 1, head + 1))
                queue: list[dict[str, Any]] = []
                chat: list[dict[str, Any]] = []
                fold(queue, chat, events)
                assert normal(queue) == normal(truth["queue"]), s.name
                window = len(truth["chat"])
                assert normal(chat[-window:]) == normal(truth["chat"]), s.name
        api = meeting.state()
        assert api["seq"] == head
        assert api["state"]["queue"] == truth["queue"]
    finally:
        server.close()


@contextlib.asynccontextmanager
async def connect_peer_by_token(server: Server, token: str, codec: str, **hello: Any) -> Any:
    async with Peer.connect(server, token, codec, **hello) as peer:
        yield peer
