"""A real `floor serve` process on a free port, and protocol-speaking websocket clients.

server = Server(tmp_path); server.start()      # python -m floor serve …
meeting = server.api.create_meeting("Test")
chair = meeting.add("Chair", "UN", role="chair")   # → {id, token, link}
async with Client.connect(server, chair["token"]) as c: …
server.kill()     # SIGKILL; server.start() again on the same data directory
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgpack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ADMIN_TOKEN = "test-admin-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until(condition: Any, timeout: float = 10.0, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(interval)


class Api:
    """The admin HTTP API, synchronous (httpx)."""

    def __init__(self, base: str, token: str = ADMIN_TOKEN) -> None:
        self.http = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def create_meeting(self, title: str = "Test meeting", **settings: Any) -> Meeting:
        body: dict[str, Any] = {"title": title}
        if settings:
            body["settings"] = settings
        r = self.http.post("/api/meetings", json=body)
        assert r.status_code == 201, r.text
        return Meeting(self, r.json()["id"])


class Meeting:
    def __init__(self, api: Api, id: str) -> None:
        self.api = api
        self.id = id

    def add(
        self, name: str, delegation: str, role: str = "delegate", **fields: Any
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "delegation": delegation,
            "role": role,
            "attendance": "onsite" if fields.get("seat") else "remote",
            **fields,
        }
        r = self.api.http.post(f"/api/meetings/{self.id}/participants", json=body)
        assert r.status_code == 201, r.text
        result: dict[str, Any] = r.json()
        return result

    def device(self, name: str, seats: list[str]) -> dict[str, Any]:
        r = self.api.http.post(
            f"/api/meetings/{self.id}/devices", json={"name": name, "seats": seats}
        )
        assert r.status_code == 201, r.text
        result: dict[str, Any] = r.json()
        return result

    def state(self) -> dict[str, Any]:
        r = self.api.http.get(f"/api/meetings/{self.id}")
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        r = self.api.http.get(f"/api/meetings/{self.id}/events", params={"after": after})
        assert r.status_code == 200, r.text
        events: list[dict[str, Any]] = r.json()["events"]
        return events


class Server:
    def __init__(
        self,
        data: Path,
        *extra: str,
        env: dict[str, str] | None = None,
        admin_token: str | None = ADMIN_TOKEN,
    ) -> None:
        self.admin_token = admin_token
        self.data = data
        self.port = free_port()
        self.extra = extra
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data / "server.log"
        self._api: Api | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def api(self) -> Api:
        """The admin API client of this server (one, closed by `close()`)."""
        if self._api is None:
            self._api = Api(self.base)
        return self._api

    def start(self) -> Server:
        self.data.mkdir(parents=True, exist_ok=True)
        log = open(self.log, "ab")  # noqa: SIM115 - the child owns it
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "floor",
                "serve",
                "--port",
                str(self.port),
                "--data",
                str(self.data),
                *(("--admin-token", self.admin_token) if self.admin_token else ()),
                "--log-level",
                "warning",
                *self.extra,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()

        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                return httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=20)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    def stop(self) -> int:
        """SIGTERM, and the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(15)
        self.process = None
        return code

    def close(self) -> None:
        if self._api is not None:
            self._api.http.close()
            self._api = None
        if self.process is not None:
            # SIGTERM first: a clean exit also writes the subprocess's coverage data
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None


class Client:
    """A protocol v1 client: hello, messages out, every message of every frame in."""

    def __init__(self, ws: ClientConnection, codec: str) -> None:
        self.ws = ws
        self.codec = codec
        self.inbox: list[dict[str, Any]] = []
        self.welcome: dict[str, Any] = {}
        self._ids = 0

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls, server: Server, token: str | None = None, codec: str = "json", **hello: Any
    ) -> AsyncIterator[Client]:
        async with connect(
            server.ws_url,
            subprotocols=[f"floor.v1.{codec}"],  # type: ignore[list-item]
            open_timeout=10,
            max_size=2**24,
        ) as ws:
            client = cls(ws, codec)
            if token is not None:
                await client.hello(token, **hello)
            yield client

    def encode(self, message: dict[str, Any]) -> str | bytes:
        if self.codec == "json":
            return json.dumps(message)
        packed: bytes = msgpack.packb(message)
        return packed

    def decode(self, frame: str | bytes) -> list[dict[str, Any]]:
        if self.codec == "json":
            assert isinstance(frame, str), "JSON frames must be text"
            return [json.loads(line) for line in frame.split("\n")]
        assert isinstance(frame, bytes), "msgpack frames must be binary"
        unpacker = msgpack.Unpacker(raw=False)
        unpacker.feed(frame)
        return list(unpacker)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(self.encode(message))

    async def hello(self, token: str, **fields: Any) -> dict[str, Any]:
        await self.send({"t": "hello", "v": 1, "token": token, **fields})
        self.welcome = await self.next("welcome")
        return self.welcome

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next message (reading a new frame when the inbox is empty)."""
        while not self.inbox:
            frame = await asyncio.wait_for(self.ws.recv(), timeout)
            self.inbox.extend(self.decode(frame))
        return self.inbox.pop(0)

    async def next(self, t: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        """The next message of type `t` (and matching fields), skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            message = await self.recv(max(0.01, deadline - time.monotonic()))
            if message["t"] == t and all(message.get(k) == v for k, v in match.items()):
                return message

    async def command(
        self, name: str, args: dict[str, Any] | None = None, id: str | None = None
    ) -> dict[str, Any]:
        """Send a command; its ack or error (events before it stay in `seen`)."""
        if id is None:
            self._ids += 1
            id = f"c-{self._ids}"
        await self.send({"t": "cmd", "id": id, "name": name, "args": args or {}})
        while True:
            message = await self.recv()
            self.seen.append(message)
            if message["t"] in ("ack", "error") and message.get("id") == id:
                return message

    @property
    def seen(self) -> list[dict[str, Any]]:
        if not hasattr(self, "_seen"):
            self._seen: list[dict[str, Any]] = []
        return self._seen

    async def closed(self, timeout: float = 5.0) -> int | None:
        """Read until the server closes; the close code."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.ws.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
