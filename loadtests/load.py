"""The load generator's coordinator: worker processes, the chair, and their receipts.

`Load` starts `workers` processes of `loadtests.worker` (pinned, like this process, to
the load core), spreads the clients over them round-robin, and talks to all of them at
once. The chair (the publisher) is a kept `Client` in this process. `merge` combines the
workers' receipts: per seq, how many clients got it, first and last receipt time.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

from loadtests.machine import LOAD_CORE, ProcStat, pin_self, raise_open_files
from loadtests.servers import ROOT
from loadtests.wsclient import Client


@dataclass
class Receipts:
    seqs: dict[int, list[float]]
    frames: int

    def deliveries(self) -> int:
        return int(sum(v[0] for v in self.seqs.values()))


class Load:
    def __init__(self, workers: int = 2) -> None:
        self.size = workers
        self.processes: list[asyncio.subprocess.Process] = []
        self.n = 0
        self.chair: Client | None = None
        self.strict_per_worker: list[int] = []

    async def start(self) -> None:
        pin_self(LOAD_CORE)
        raise_open_files()
        for _ in range(self.size):
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "loadtests.worker",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                cwd=ROOT,
                limit=2**28,
            )
            self.processes.append(process)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def cpu(self) -> float:
        """CPU seconds of the whole generator: workers and this process."""
        import os

        return sum(ProcStat.read(pid).cpu_s for pid in [*self.pids, os.getpid()])

    async def _ask(self, process: asyncio.subprocess.Process, request: dict[str, Any]) -> Any:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write((json.dumps(request) + "\n").encode())
        await process.stdin.drain()
        line = await asyncio.wait_for(process.stdout.readline(), request.get("timeout", 60) + 120)
        if not line:
            raise RuntimeError("a load worker died")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"load worker: {answer['error']}")
        return answer

    async def each(self, requests: list[dict[str, Any]]) -> list[Any]:
        return list(
            await asyncio.gather(
                *(self._ask(p, r) for p, r in zip(self.processes, requests, strict=True))
            )
        )

    async def all(self, request: dict[str, Any]) -> list[Any]:
        return await self.each([request] * self.size)

    def where(self, index: int) -> tuple[int, int]:
        """Worker and index within it of global client `index`."""
        return index % self.size, index // self.size

    async def connect(
        self, host: str, port: int, specs: list[dict[str, Any]], concurrency: int = 200
    ) -> dict[str, Any]:
        parts: list[list[dict[str, Any]]] = [[] for _ in range(self.size)]
        for i, spec in enumerate(specs):
            parts[self.where(self.n + i)[0]].append(spec)
        self.n += len(specs)
        self.strict_per_worker = [
            (self.strict_per_worker[w] if self.strict_per_worker else 0)
            + sum(s.get("strict", True) for s in parts[w])
            for w in range(self.size)
        ]
        answers = await self.each(
            [
                {
                    "op": "connect",
                    "host": host,
                    "port": port,
                    "clients": part,
                    "concurrency": max(1, concurrency // self.size),
                    "timeout": 300,
                }
                for part in parts
            ]
        )
        return {
            "connected": sum(a["connected"] for a in answers),
            "failures": [a["failures"] for a in answers if a["failures"]],
            "retried": [a["retried"] for a in answers if a["retried"]],
            "seconds": max(a["done"] for a in answers) - min(a["started"] for a in answers),
        }

    async def connect_chair(self, host: str, port: int, token: str) -> Client:
        self.chair = Client(host, port, token, keep=True)
        await self.chair.connect()
        return self.chair

    async def record(self, on: bool = True) -> None:
        await self.all({"op": "record", "on": on})

    async def wait(self, seq: int, timeout: float = 30, expect: list[int] | None = None) -> bool:
        answers = await self.each(
            [
                {
                    "op": "wait",
                    "seq": seq,
                    "timeout": timeout,
                    "expect": None if expect is None else expect[w],
                }
                for w in range(self.size)
            ]
        )
        return all(a["ok"] for a in answers)

    async def wait_all(self, seq: int, timeout: float = 30) -> bool:
        answers = await self.all({"op": "wait_all", "seq": seq, "timeout": timeout})
        return all(a["ok"] for a in answers)

    async def receipts(self) -> Receipts:
        merged: dict[int, list[float]] = {}
        frames = 0
        for answer in await self.all({"op": "receipts"}):
            frames += answer["frames"]
            for key, (count, first, last) in answer["seqs"].items():
                seq = int(key)
                entry = merged.get(seq)
                if entry is None:
                    merged[seq] = [count, first, last]
                else:
                    entry[0] += count
                    entry[1] = min(entry[1], first)
                    entry[2] = max(entry[2], last)
        return Receipts(merged, frames)

    async def check(self, final: int | None) -> dict[str, Any]:
        answers = await self.all({"op": "check", "final": final})
        closes: dict[str, int] = {}
        for a in answers:
            for code, count in a["closes"].items():
                closes[code] = closes.get(code, 0) + count
        return {
            "clients": sum(a["clients"] for a in answers),
            "bad": sum(a["bad"] for a in answers),
            "violations": [v for a in answers for v in a["violations"]][:10],
            "behind": sum(a["behind"] for a in answers),
            "missing": sum(a["missing"] for a in answers),
            "closes": closes,
            "connected": sum(a["connected"] for a in answers),
        }

    async def per_client(self, op: str, indices: list[int], **fields: Any) -> list[Any]:
        """An op for chosen global clients, each worker told its own local indices."""
        local: list[list[int]] = [[] for _ in range(self.size)]
        for index in indices:
            w, i = self.where(index)
            local[w].append(i)
        return await self.each(
            [{"op": op, "indices": local[w], **fields} for w in range(self.size)]
        )

    async def close(self) -> None:
        if self.chair is not None:
            self.chair.close()
        for process in self.processes:
            if process.returncode is None:
                try:
                    await self._ask(process, {"op": "close", "timeout": 5})
                except (RuntimeError, TimeoutError, ConnectionError):
                    process.kill()
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
        self.processes.clear()


def now() -> float:
    return time.monotonic()
