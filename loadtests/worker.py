"""A load-generator process: many `Client`s on one event loop, driven over stdin/stdout.

`python -m loadtests.worker` reads one JSON request per line on stdin and answers each
with one JSON line on stdout, in order. Requests (`op`):

- `connect` {host, port, clients: [{token, codec, strict, keep, rcvbuf}], concurrency}
- `record` {on}: start (clearing) or stop recording receipts
- `wait` {seq, expect?, timeout}: until `expect` clients (default: the strict ones) have seq
  (counted from the receipts recorded); `wait_all` {seq, timeout}: until every strict
  client's last seq is at least `seq`
- `receipts`: per seq [count, first, last] receipt times (monotonic, comparable across
  processes on Linux), frames received, and this process's CPU seconds
- `check` {final}: every client's verdict: violations, how far each strict one got
- `drop` {indices?} / `reconnect` {resume, concurrency}: abort every connection (or the
  chosen ones) at once / reconnect those not connected
- `pause` {indices} / `unpause`: stop and restart reading (slow consumers)
- `commands` {at, spread, indices, name, args, per_client, timeout}: the chosen clients
  send commands at scheduled loop times; answers with [index, sent, seq, answered, code]
- `seqs`: every client's token, last seq, whether connected, and its violations
- `close`: close every connection, answer, exit

Every wait is bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import resource
import sys
import time
from typing import Any

from loadtests.machine import raise_open_files
from loadtests.wsclient import Answer, Client, Sink

ATTEMPTS = 8
"""Connection attempts per client (a dropped handshake is retried, and counted)."""


class Worker:
    def __init__(self) -> None:
        self.sink = Sink()
        self.clients: list[Client] = []

    async def connect(self, request: dict[str, Any]) -> dict[str, Any]:
        host, port = request["host"], request["port"]
        start = len(self.clients)
        for spec in request["clients"]:
            self.clients.append(
                Client(
                    host,
                    port,
                    spec["token"],
                    codec=spec.get("codec", "json"),
                    sink=self.sink,
                    strict=spec.get("strict", True),
                    keep=spec.get("keep", False),
                    rcvbuf=spec.get("rcvbuf"),
                    sampled=spec.get("sampled", True),
                )
            )
        return await self._connect_all(self.clients[start:], False, request.get("concurrency", 200))

    async def _connect_all(
        self, clients: list[Client], resume: bool, concurrency: int
    ) -> dict[str, Any]:
        gate = asyncio.Semaphore(concurrency)
        failures: collections.Counter[str] = collections.Counter()
        retried: collections.Counter[str] = collections.Counter()
        started = time.monotonic()
        last = [started]

        async def one(client: Client) -> None:
            async with gate:
                for attempt in range(ATTEMPTS):
                    try:
                        await client.connect(resume=resume, timeout=30)
                        last[0] = time.monotonic()
                        return
                    except (OSError, TimeoutError) as e:
                        retried[f"{type(e).__name__}: {str(e)[:60]}"] += 1
                        if attempt == ATTEMPTS - 1:
                            failures[type(e).__name__ + str(e)[:60]] += 1
                        await asyncio.sleep(0.05 * (attempt + 1) * (1 + random.random()))

        await asyncio.gather(*(one(c) for c in clients))
        return {
            "connected": sum(c.connected for c in clients),
            "resumed": sum(c.resumed and c.connected for c in clients),
            "failures": dict(failures),
            "retried": dict(retried),
            "started": started,
            "done": last[0],
        }

    async def wait(self, request: dict[str, Any]) -> dict[str, Any]:
        expect = request.get("expect")
        if expect is None:
            expect = sum(c.strict for c in self.clients)
        ok = await self.sink.wait_count(request["seq"], expect, request.get("timeout", 30))
        return {"ok": ok, "count": self.sink.count(request["seq"]), "expect": expect}

    def receipts(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "seqs": {str(k): v for k, v in self.sink.merged().items()},
            "frames": self.sink.frames,
            "cpu": usage.ru_utime + usage.ru_stime,
        }

    def check(self, request: dict[str, Any]) -> dict[str, Any]:
        final = request.get("final")
        violations: list[str] = []
        behind = 0
        missing = 0
        codes: collections.Counter[str] = collections.Counter()
        for client in self.clients:
            for code in client.closes:
                codes[str(code)] += 1
            if client.violations:
                violations.extend(f"{client.token[:6]}: {v}" for v in client.violations[:2])
            if client.strict and final is not None and client.last_seq < final:
                behind += 1
                missing += final - client.last_seq
        return {
            "clients": len(self.clients),
            "bad": sum(bool(c.violations) for c in self.clients),
            "violations": violations[:10],
            "behind": behind,
            "missing": missing,
            "closes": dict(codes),
            "connected": sum(c.connected for c in self.clients),
        }

    async def commands(self, request: dict[str, Any]) -> dict[str, Any]:
        """The chosen clients send commands on a schedule; then their answers are awaited.

        With `quiet`, every client of this process stops reading while the schedule
        runs, so that on a shared core the sends are not delayed by reading what they
        cause (answers and receipts then come late by up to the window: pessimistic)."""
        loop = asyncio.get_running_loop()
        at = request["at"]
        spread = request.get("spread", 0.0)
        indices: list[int] = request["indices"]
        per_client = request.get("per_client", 1)
        interval = request.get("interval", 0.0)
        timeout = request.get("timeout", 30)
        sent: list[tuple[int, float, asyncio.Future[Answer]]] = []
        total = max(1, len(indices))

        async def one(position: int, index: int) -> None:
            client = self.clients[index]
            start = at + spread * position / total
            for k in range(per_client):
                delay = start + k * interval - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                args = dict(request.get("args") or {})
                if "text" in args:
                    args["text"] = f"{args['text']} {index}.{k}"
                now = time.monotonic()
                sent.append((index, now, client.command(request["name"], args)))

        quiet = request.get("quiet", False)
        if quiet:
            await asyncio.sleep(max(0.0, at - 0.005 - loop.time()))
            for client in self.clients:
                client.pause()
        try:
            await asyncio.gather(*(one(p, i) for p, i in enumerate(indices)))
        finally:
            if quiet:
                for client in self.clients:
                    client.unpause()
        results: list[list[Any]] = []
        for index, when, future in sent:
            try:
                answer = await asyncio.wait_for(future, max(0.01, when + timeout - loop.time()))
            except (TimeoutError, ConnectionError) as e:
                results.append([index, when, None, None, type(e).__name__])
                continue
            message = answer.message
            code = message.get("code") if message["t"] == "error" else None
            results.append([index, when, message.get("seq"), answer.at, code])
        return {"results": results}

    async def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request["op"]
        if op == "connect":
            return await self.connect(request)
        if op == "record":
            self.sink.recording = bool(request.get("on", True))
            if self.sink.recording:
                self.sink.clear()
            return {}
        if op == "wait":
            return await self.wait(request)
        if op == "receipts":
            return self.receipts()
        if op == "check":
            return self.check(request)
        if op == "drop":  # every client, or the chosen `indices`
            chosen = self.clients
            if request.get("indices") is not None:
                chosen = [self.clients[i] for i in request["indices"]]
            for client in chosen:
                client.abort()
            await _until_lost(chosen, 5)
            return {"dropped": sum(c.transport is None for c in chosen)}
        if op == "reconnect":
            clients = [c for c in self.clients if not c.connected]
            return await self._connect_all(
                clients, request.get("resume", True), request.get("concurrency", 1000)
            )
        if op == "pause":
            for index in request["indices"]:
                self.clients[index].pause()
            return {}
        if op == "unpause":
            for client in self.clients:
                client.unpause()
            return {}
        if op == "wait_all":  # every strict client has `seq` (receipts recorded or not)
            deadline = time.monotonic() + request.get("timeout", 30)
            while time.monotonic() < deadline:
                if all(c.last_seq >= request["seq"] for c in self.clients if c.strict):
                    return {"ok": True}
                await asyncio.sleep(0.02)
            return {"ok": False}
        if op == "wait_closed":
            chosen = [self.clients[i] for i in request["indices"]]
            await _until_lost(chosen, request.get("timeout", 15))
            return {"closed": sum(not c.connected for c in chosen)}
        if op == "commands":
            return await self.commands(request)
        if op == "seqs":
            return {
                "clients": [[c.token, c.last_seq, c.connected, c.violations] for c in self.clients]
            }
        if op == "close":
            for client in self.clients:
                client.close()
            await asyncio.sleep(0.2)
            return {}
        raise ValueError(f"unknown op {op}")


async def _until_lost(clients: list[Client], timeout: float) -> None:
    waiting = [c.lost for c in clients if c.lost is not None and not c.lost.done()]
    if waiting:
        await asyncio.wait(waiting, timeout=timeout)


async def main() -> None:
    raise_open_files()
    worker = Worker()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**28)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        request = json.loads(line)
        try:
            answer = await worker.handle(request)
        except Exception as e:  # report, keep serving: the coordinator decides
            answer = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
        if request["op"] == "close":
            return


if __name__ == "__main__":
    asyncio.run(main())
