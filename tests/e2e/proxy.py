"""A TCP relay in front of the server that a test can cut, as a network fault would.

proxy = await Proxy(server.port).start()       # clients connect to proxy.ws_url
await proxy.cut()           # every relayed connection reset; new ones refused
await proxy.restore()       # listening again, on the same port
proxy.deaf = True           # server → client bytes are dropped (lost acks)
"""

from __future__ import annotations

import asyncio
import contextlib

from tests.e2e.server import free_port


class Proxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.deaf = False
        """Drop everything the server sends (the client's bytes still reach it)."""
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def start(self) -> Proxy:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        return self

    async def restore(self) -> None:
        self.deaf = False
        await self.start()

    async def cut(self) -> None:
        """Stop listening and reset every relayed connection (both sides)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        await self.cut()

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_w.transport.abort()
            return
        self._writers.update((client_w, server_w))
        try:
            async with asyncio.TaskGroup() as pipes:
                pipes.create_task(self._pipe(client_r, server_w, downstream=False))
                pipes.create_task(self._pipe(server_r, client_w, downstream=True))
        finally:
            for w in (client_w, server_w):
                self._writers.discard(w)
                w.transport.abort()

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, downstream: bool
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                if downstream and self.deaf:
                    continue
                sink.write(data)
                await sink.drain()
        sink.transport.abort()
