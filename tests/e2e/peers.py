"""Helpers for the websocket protocol tests: a meeting with one client of each kind, clients
that record every message they read, and the events API filtered as each client sees it.

room = make_room(server)                       # chair, two delegates, observer, display, device
async with connect_room(server, room, "msgpack") as peers: …
await peers["d1"].until_seq(58)                # read (recording) until it has seen seq 58
visible_events(meeting.events(), viewer)       # what PROTOCOL.md says this viewer receives
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.server import Client, Meeting, Server

CODECS = ["json", "msgpack"]
LIVE = ("chair", "d1", "d2", "display", "device")


class Peer(Client):
    """A protocol client that keeps every message it has read, in order, in `log`."""

    name: str = ""

    @property
    def log(self) -> list[dict[str, Any]]:
        if not hasattr(self, "_log"):
            self._log: list[dict[str, Any]] = []
        return self._log

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        message = await super().recv(timeout)
        self.log.append(message)
        return message

    @property
    def events(self) -> list[dict[str, Any]]:
        return [m for m in self.log if m["t"] == "event"]

    @property
    def last_seq(self) -> int:
        """The seq this client is at: its welcome's, or its last event's."""
        seq: int = self.welcome.get("seq", 0)
        for m in self.log:
            if m["t"] == "event":
                seq = m["seq"]
        return seq

    async def until(
        self, found: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """Read (recording) until a message satisfies `found`, already read ones included."""
        for m in self.log:
            if found(m):
                return m
        deadline = time.monotonic() + timeout
        while True:
            message = await self.recv(max(0.01, deadline - time.monotonic()))
            if found(message):
                return message

    async def until_seq(self, seq: int, timeout: float = 10.0) -> None:
        """Read until this client has seen an event at or past `seq`."""
        if self.last_seq >= seq:
            return
        await self.until(lambda m: m["t"] == "event" and m["seq"] >= seq, timeout)

    async def quiet(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Whatever arrives within `seconds` (to check that nothing more comes)."""
        got: list[dict[str, Any]] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    got.append(await self.recv(seconds))
        return got

    async def read_until_closed(self, timeout: float = 10.0) -> int | None:
        """Read (recording) every message until the server closes; its close code."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.recv(timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None


@dataclass
class Room:
    meeting: Meeting
    members: dict[str, dict[str, Any]]
    """name → {id, token, link?, role}: chair, d1 (seat A1), d2 (seat A2), observer, display,
    device (seats A1 A2 A3)."""

    def id(self, name: str) -> str:
        pid: str = self.members[name]["id"]
        return pid

    def token(self, name: str) -> str:
        token: str = self.members[name]["token"]
        return token

    def role(self, name: str) -> str:
        role: str = self.members[name]["role"]
        return role


def make_room(server: Server, **settings: Any) -> Room:
    meeting = server.api.create_meeting("Committee", **settings)
    members: dict[str, dict[str, Any]] = {}
    members["chair"] = {**meeting.add("Chair", "UN", role="chair"), "role": "chair"}
    members["d1"] = {
        **meeting.add("Delegate One", "France", seat="A1", lang="fr"),
        "role": "delegate",
    }
    members["d2"] = {**meeting.add("Delegate Two", "Ghana", seat="A2"), "role": "delegate"}
    members["observer"] = {**meeting.add("Observer", "WHO", role="observer"), "role": "observer"}
    members["display"] = {**meeting.add("Screen", "Room", role="display"), "role": "display"}
    members["device"] = {**meeting.device("Room 1", ["A1", "A2", "A3"]), "role": "device"}
    return Room(meeting, members)


@contextlib.asynccontextmanager
async def connect_peer(
    server: Server, room: Room, name: str, codec: str, **hello: Any
) -> AsyncIterator[Peer]:
    async with Peer.connect(server, room.token(name), codec, **hello) as peer:
        assert isinstance(peer, Peer)
        peer.name = name
        yield peer


@contextlib.asynccontextmanager
async def connect_room(
    server: Server, room: Room, codec: str, names: tuple[str, ...] = LIVE
) -> AsyncIterator[dict[str, Peer]]:
    async with contextlib.AsyncExitStack() as stack:
        peers = {
            name: await stack.enter_async_context(connect_peer(server, room, name, codec))
            for name in names
        }
        if "device" in peers:
            await peers["device"].until(lambda m: m["t"] == "seats")
        yield peers


@contextlib.asynccontextmanager
async def raw_socket(server: Server, codec: str = "json", **options: Any) -> AsyncIterator[Any]:
    """A websocket to /ws with any client options (origin, max_queue, sock, …)."""
    async with connect(
        server.ws_url,
        subprotocols=[f"floor.v1.{codec}"],  # type: ignore[list-item]
        open_timeout=10,
        max_size=2**24,
        **options,
    ) as ws:
        yield ws


def small_receive_buffer_socket(server: Server, size: int = 4096) -> socket.socket:
    """A connected TCP socket whose receive window stays small (no autotuning)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    sock.connect(("127.0.0.1", server.port))
    sock.setblocking(False)
    return sock


# --- what each client may see (PROTOCOL.md sections 2, 5 and 6) -----------------------------


@dataclass(frozen=True)
class Viewer:
    id: str
    role: str
    """chair, delegate, observer, display or device."""


def viewer(room: Room, name: str) -> Viewer:
    return Viewer(room.id(name), room.role(name))


def _chat_visible(to: str, sender: str, v: Viewer) -> bool:
    if v.role == "device":
        return False
    if to == "all":
        return True
    if v.role == "display":
        return False
    if to == "chair":
        return v.role == "chair" or sender == v.id
    return v.id in (sender, to)


def visible_events(events: list[dict[str, Any]], v: Viewer) -> list[dict[str, Any]]:
    """The events of a log (oldest first, complete) that `v` receives."""
    audience: dict[str, tuple[str, str]] = {}
    seen: list[dict[str, Any]] = []
    for e in events:
        if e["name"] == "chat.posted":
            audience[e["data"]["message"]] = (e["data"]["to"], e["data"]["from"])
            if _chat_visible(e["data"]["to"], e["data"]["from"], v):
                seen.append(e)
        elif e["name"] == "chat.deleted":
            to, sender = audience[e["data"]["message"]]
            if _chat_visible(to, sender, v):
                seen.append(e)
        else:
            seen.append(e)
    return seen


def all_events(meeting: Meeting) -> list[dict[str, Any]]:
    """The whole log through the events API, page after page."""
    events: list[dict[str, Any]] = []
    while True:
        after = events[-1]["seq"] if events else 0
        r = meeting.api.http.get(f"/api/meetings/{meeting.id}/events", params={"after": after})
        assert r.status_code == 200, r.text
        body = r.json()
        events.extend(body["events"])
        if not body.get("more") or not body["events"]:
            return events


def seq_of(meeting: Meeting) -> int:
    seq: int = meeting.state()["seq"]
    return seq


def close_code(exc: ConnectionClosed) -> int | None:
    return exc.rcvd.code if exc.rcvd is not None else None
