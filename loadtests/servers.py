"""The servers under test, as subprocesses pinned to the server core, and their meetings.

- `FloorServer`: `python -m floor serve` on a free port with its own data directory (or
  `--redis URL`), the admin token known, rate limits lifted for the load (a benchmark
  sends far more commands per connection than a person), any `FLOOR_*` setting passed.
- `BaselineServer`: `python -m loadtests.baseline`.
- `Redis`: a throw-away redis-server for the cluster scenario.

`provision(server, n)` creates a meeting with a chair and `n` delegates (CSV import) and
answers their tokens; the baseline needs none and gets made-up ones.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from loadtests.machine import server_core

ADMIN_TOKEN = "bench-admin-token"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pinned() -> None:  # in the child, before exec: every thread it starts inherits it
    core = server_core()
    if core is not None:
        os.sched_setaffinity(0, {core})


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port} after {timeout}s")


@dataclass
class Process:
    name: str
    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.workdir / f"{self.name}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _start(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                cwd=ROOT,
                preexec_fn=_pinned,
            )
        _wait_port(self.port, self.process, self.log, 30)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind (a crashed machine)."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(10)
        self.process = None


class FloorServer(Process):
    kind = "floor"

    def __init__(
        self, workdir: Path, env: dict[str, str] | None = None, redis: str | None = None
    ) -> None:
        super().__init__(f"floor-{free_port()}", free_port(), workdir)
        self.env = {
            "FLOOR_COMMANDS_PER_S": "1000000",
            "FLOOR_COMMAND_BURST": "1000000",
            "FLOOR_BAD_MESSAGES_PER_10S": "1000000",
            **(env or {}),
        }
        self.redis = redis

    def start(self) -> FloorServer:
        argv = [sys.executable, "-m", "floor", "serve", "--port", str(self.port)]
        argv += ["--data", str(self.workdir / self.name), "--admin-token", ADMIN_TOKEN]
        argv += ["--log-level", "warning"]
        if self.redis:
            argv += ["--redis", self.redis]
        self._start(argv, self.env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return self
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class BaselineServer(Process):
    kind = "baseline"

    def __init__(self, workdir: Path, mode: str = "direct") -> None:
        super().__init__(f"baseline-{mode}", free_port(), workdir)
        self.mode = mode

    def start(self) -> BaselineServer:
        argv = [sys.executable, "-m", "loadtests.baseline", "--port", str(self.port)]
        self._start([*argv, "--mode", self.mode])
        return self


class Redis(Process):
    """`durable`: every write fsynced before it is answered (AOF, `appendfsync always`), so
    a SIGKILLed server started again on its directory has every acknowledged write."""

    def __init__(self, name: str, port: int, workdir: Path, durable: bool = False) -> None:
        super().__init__(name, port, workdir)
        self.durable = durable

    def start(self) -> Redis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self._start(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                *(
                    ["--appendonly", "yes", "--appendfsync", "always"]
                    if self.durable
                    else ["--appendonly", "no"]
                ),
                "--dir",
                str(self.workdir),
            ]
        )
        return self

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"


@dataclass
class Roster:
    meeting: str
    chair: str
    delegates: list[str]
    devices: list[str] = field(default_factory=list)


def provision(
    base: str, n: int, title: str = "Plenary", devices: int = 0, seats: int = 20
) -> Roster:
    """A meeting with a chair and `n` delegates (imported as CSV, 1,000 rows a request);
    the first `devices` x `seats` delegates sit in the room, at the consoles of `devices`
    room devices (conference-microphone bridges)."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        r = http.post("/api/meetings", json={"title": title})
        r.raise_for_status()
        meeting = r.json()["id"]
        r = http.post(
            f"/api/meetings/{meeting}/participants",
            json={"name": "Chair", "delegation": "UN", "role": "chair"},
        )
        r.raise_for_status()
        chair = r.json()["token"]
        tokens: list[str] = []
        for start in range(0, n, 1000):
            rows = ["name,delegation,role,attendance,seat"]
            rows += [
                f"Delegate {i},State {i % 193},delegate,onsite,S{i}"
                if i < devices * seats
                else f"Delegate {i},State {i % 193},delegate,remote,"
                for i in range(start, min(n, start + 1000))
            ]
            r = http.post(
                f"/api/meetings/{meeting}/participants/import",
                content="\n".join(rows).encode(),
                headers={"Content-Type": "text/csv"},
            )
            r.raise_for_status()
            body = r.json()
            assert not body["errors"], body["errors"][:3]
            tokens += [c["token"] for c in body["created"]]
        consoles: list[str] = []
        for d in range(devices):
            room = [f"S{i}" for i in range(d * seats, min(n, (d + 1) * seats))]
            r = http.post(
                f"/api/meetings/{meeting}/devices", json={"name": f"Room {d}", "seats": room}
            )
            r.raise_for_status()
            consoles.append(r.json()["token"])
    return Roster(meeting, chair, tokens, consoles)


def fake_roster(n: int, devices: int = 0) -> Roster:
    return Roster(
        "m-baseline",
        "chair-token",
        [f"tok{i:06d}" for i in range(n)],
        [f"dev{i:03d}" for i in range(devices)],
    )


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="floor-bench-"))
