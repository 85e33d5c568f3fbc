"""Every close code of PROTOCOL.md section 7, over a real server."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.e2e.peers import (
    CODECS,
    Peer,
    Room,
    all_events,
    close_code,
    connect_peer,
    connect_room,
    make_room,
    raw_socket,
    seq_of,
    small_receive_buffer_socket,
    viewer,
    visible_events,
)
from tests.e2e.server import Client, Server

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def limits_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with a 1 s hello timeout."""
    s = Server(
        tmp_path_factory.mktemp("close") / "data", env={"FLOOR_HELLO_TIMEOUT_S": "1"}
    ).start()
    yield s
    s.close()


@pytest.fixture(scope="module")
def room(limits_server: Server) -> Room:
    return make_room(limits_server)


async def closed_with(ws: Any, timeout: float = 5.0) -> int | None:
    """Read until the server closes the websocket; its close code."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return close_code(closed)


def encode(codec: str, message: Any) -> str | bytes:
    return Client(None, codec).encode(message)  # type: ignore[arg-type]


@pytest.mark.parametrize("codec", CODECS)
async def test_a_frame_over_64_kib_closes_1009(
    limits_server: Server, room: Room, codec: str
) -> None:
    async with connect_peer(limits_server, room, "d1", codec) as d1:
        text = "x" * (64 * 1024)
        await d1.send({"t": "cmd", "id": "big", "name": "chat.send", "args": {"text": text}})
        assert await d1.closed() == 1009


@pytest.mark.parametrize("codec", CODECS)
async def test_a_frame_just_under_64_kib_is_answered(
    limits_server: Server, room: Room, codec: str
) -> None:
    async with connect_peer(limits_server, room, "d1", codec) as d1:
        await d1.send({"t": "ping", "id": "y" * (64 * 1024 - 100)})
        assert (await d1.next("pong"))["id"] == "y" * (64 * 1024 - 100)


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize(
    "hello",
    [
        {"t": "cmd", "id": "c-1", "name": "list.close"},
        {"t": "hello", "v": 2, "token": "x"},
        {"t": "hello", "v": "1", "token": "x"},
        {"t": "hello", "v": True, "token": "x"},
        {"t": "hello", "v": 1, "token": 5},
        {"t": "hello", "v": 1, "token": "x", "resume": {"epoch": "e"}},
        ["hello"],
    ],
    ids=["cmd-first", "v2", "v-string", "v-true", "token-int", "resume-no-seq", "not-a-map"],
)
async def test_a_bad_hello_closes_4000(limits_server: Server, codec: str, hello: Any) -> None:
    async with raw_socket(limits_server, codec) as ws:
        await ws.send(encode(codec, hello))
        assert await closed_with(ws) == 4000


@pytest.mark.parametrize("codec", CODECS)
async def test_garbage_or_the_wrong_frame_type_as_hello_closes_4000(
    limits_server: Server, codec: str
) -> None:
    async with raw_socket(limits_server, codec) as ws:
        await ws.send(b"\xc1\xff" if codec == "msgpack" else "{nope")
        assert await closed_with(ws) == 4000
    wrong = (
        '{"t":"hello","v":1,"token":"x"}'
        if codec == "msgpack"
        else b'{"t":"hello","v":1,"token":"x"}'
    )
    async with raw_socket(limits_server, codec) as ws:
        await ws.send(wrong)
        assert await closed_with(ws) == 4000


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("token", ["not-a-token", "x" * 256])
async def test_an_unknown_token_closes_4001(limits_server: Server, codec: str, token: str) -> None:
    async with raw_socket(limits_server, codec) as ws:
        await ws.send(encode(codec, {"t": "hello", "v": 1, "token": token}))
        assert await closed_with(ws) == 4001


@pytest.mark.parametrize("codec", CODECS)
async def test_no_hello_in_time_closes_4002(limits_server: Server, codec: str) -> None:
    async with raw_socket(limits_server, codec) as ws:
        assert await closed_with(ws, timeout=5) == 4002


async def test_a_ping_is_not_a_hello(limits_server: Server) -> None:
    async with raw_socket(limits_server, "json") as ws:
        await ws.send('{"t":"ping","id":1}')
        assert await closed_with(ws) == 4000


@pytest.mark.parametrize("codec", CODECS)
async def test_removing_a_connected_participant_closes_4003_and_revokes_the_token(
    limits_server: Server, codec: str
) -> None:
    room = make_room(limits_server)
    async with connect_room(limits_server, room, codec, ("chair", "d1", "d2")) as peers:
        r = room.meeting.api.http.delete(
            f"/api/meetings/{room.meeting.id}/participants/{room.id('d2')}"
        )
        assert r.status_code == 204, r.text
        assert await peers["d2"].read_until_closed() == 4003
        removed = await peers["chair"].next("event", name="participant.removed")
        assert removed["data"]["participant"] == room.id("d2")
        assert removed["by"] == "admin"
        await peers["d1"].next("event", name="participant.removed")
        # the others carry on
        assert (await peers["d1"].command("floor.request"))["t"] == "ack"
    async with raw_socket(limits_server, codec) as ws:
        await ws.send(encode(codec, {"t": "hello", "v": 1, "token": room.token("d2")}))
        assert await closed_with(ws) == 4001


@pytest.mark.parametrize("codec", CODECS)
async def test_a_flood_of_bad_messages_closes_1008_and_others_carry_on(
    limits_server: Server, room: Room, codec: str
) -> None:
    async with (
        connect_peer(limits_server, room, "d2", codec) as other,
        connect_peer(limits_server, room, "d1", codec) as d1,
    ):
        for i in range(30):
            await d1.send({"t": "nonsense", "i": i})
        assert (
            await d1.read_until_closed(timeout=5) == 1008
        )  # promptly: the close handshake completes
        errors = [m for m in d1.log if m["t"] == "error"]
        assert len(errors) == 20  # bad_messages_per_10s, each answered
        assert {e["code"] for e in errors} == {"bad_message"}
        await other.send({"t": "ping", "id": "still"})
        assert (await other.next("pong"))["id"] == "still"


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1"])
async def test_a_browser_origin_not_allowed_closes_1008(
    limits_server: Server, room: Room, origin: str
) -> None:
    async with raw_socket(limits_server, "json", origin=origin) as ws:
        assert await closed_with(ws) == 1008


async def test_the_servers_own_origin_is_allowed(limits_server: Server, room: Room) -> None:
    async with raw_socket(limits_server, "json", origin=limits_server.base) as ws:
        await ws.send(encode("json", {"t": "hello", "v": 1, "token": room.token("d1")}))
        welcome = Client(ws, "json").decode(await ws.recv())[0]
        assert welcome["t"] == "welcome"


async def test_no_subprotocol_speaks_json(limits_server: Server, room: Room) -> None:
    from websockets.asyncio.client import connect

    async with connect(limits_server.ws_url, open_timeout=10) as ws:
        assert ws.subprotocol is None
        await ws.send(encode("json", {"t": "hello", "v": 1, "token": room.token("d1")}))
        frame = await ws.recv()
        assert isinstance(frame, str)
        assert Client(ws, "json").decode(frame)[0]["t"] == "welcome"


# --- shutdown and slow consumers: a server each ---------------------------------------------


async def test_sigterm_closes_every_connection_1001_and_they_resume_after_restart(
    server: Server,
) -> None:
    room = make_room(server)
    async with (
        connect_peer(server, room, "chair", "json") as chair,
        connect_peer(server, room, "d1", "msgpack") as d1,
        connect_peer(server, room, "device", "msgpack") as device,
    ):
        assert (await d1.command("floor.request"))["t"] == "ack"
        await chair.until_seq(d1.last_seq)
        await device.until_seq(d1.last_seq)
        stopping = asyncio.create_task(asyncio.to_thread(server.stop))
        codes = await asyncio.gather(
            chair.read_until_closed(), d1.read_until_closed(), device.read_until_closed()
        )
        assert codes == [1001, 1001, 1001]
        # uvicorn re-raises the SIGTERM it handled once shut down: a clean stop by signal
        assert await stopping in (0, -signal.SIGTERM)
        resumes = {p.name: {"epoch": p.welcome["epoch"], "seq": p.last_seq} for p in (chair, d1)}
    server.start()
    async with connect_peer(server, room, "d1", "msgpack", resume=resumes["d1"]) as d1:
        assert d1.welcome["resumed"] is True
        assert d1.welcome["seq"] == resumes["d1"]["seq"] == seq_of(room.meeting)
        assert (await d1.command("chat.send", {"to": "all", "text": "back"}))["t"] == "ack"


def send_overflows(server: Server) -> float:
    """The server's count of connections closed 4008 (from /metrics)."""
    text = httpx.get(f"{server.base}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith("floor_send_overflows_total "):
            return float(line.split()[1])
    raise AssertionError("no floor_send_overflows_total in /metrics")


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[Server]:
    s = Server(
        tmp_path / "data",
        env={
            "FLOOR_SEND_BUFFER": "65536",
            "FLOOR_COMMANDS_PER_S": "100000",
            "FLOOR_COMMAND_BURST": "100000",
        },
    ).start()
    yield s
    s.close()


@pytest.mark.parametrize("codec", CODECS)
async def test_a_slow_consumer_is_closed_4008_while_the_others_get_everything_and_it_resumes(
    slow_server: Server, codec: str
) -> None:
    room = make_room(slow_server)
    batch = 500
    text = "€" * 2000  # 6 KB a message
    async with connect_room(slow_server, room, codec, ("chair", "d1", "display")) as peers:
        sock = small_receive_buffer_socket(slow_server)
        async with raw_socket(slow_server, codec, sock=sock, max_queue=1) as ws:
            slow = Peer(ws, codec)
            await slow.hello(room.token("d2"))
            start = slow.welcome["seq"]
            overflows = send_overflows(slow_server)
            # the slow client reads nothing from now on

            async def send(first: int) -> None:
                for i in range(first, first + batch):
                    await peers["d1"].send(
                        {"t": "cmd", "id": f"s-{i}", "name": "chat.send",
                         "args": {"to": "all", "text": text}}
                    )  # fmt: skip

            # rounds of chat until the slow one overflows (sockets buffer a few MB, how
            # much varies); everyone else reads all along, the sender too
            chats = 0
            async with asyncio.timeout(60):
                while send_overflows(slow_server) == overflows:
                    assert chats < 20 * batch, "the slow client never overflowed"
                    head = start + chats + batch
                    await asyncio.gather(
                        send(chats), *(p.until_seq(head, timeout=30) for p in peers.values())
                    )
                    chats += batch
                await peers["d1"].until(lambda m: m.get("id") == f"s-{chats - 1}")
            # now the slow one reads what it had been sent, then the close (within the
            # server's 10 s close timeout, after which it would abort the connection)
            assert await slow.read_until_closed(timeout=9) == 4008
            received = [e["seq"] for e in slow.events]
            assert received == list(range(start + 1, start + 1 + len(received)))
            assert len(received) < chats
            resume = {"epoch": slow.welcome["epoch"], "seq": slow.last_seq}
        answers = [m for m in peers["d1"].log if str(m.get("id", "")).startswith("s-")]
        assert [m["t"] for m in answers] == ["ack"] * chats
        assert answers[-1]["seq"] == head
        log = all_events(room.meeting)
        assert len(log) == head
        for name, peer in peers.items():
            expected = visible_events(log, viewer(room, name))
            assert peer.events == [e for e in expected if e["seq"] > start], name
        async with connect_peer(slow_server, room, "d2", codec, resume=resume) as again:
            assert again.welcome["resumed"] is True
            assert again.welcome["seq"] == resume["seq"]
            await again.until_seq(head, timeout=20)
            assert again.events == [e for e in log if e["seq"] > resume["seq"]]
