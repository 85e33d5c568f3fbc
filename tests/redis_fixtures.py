"""Real redis-server processes for the tests: one server, or a local 3-master Cluster.

Each server runs in its own temporary directory on a free port (never the machine's own
Redis on 6379). Durable by default: `--appendonly yes --appendfsync always`, no RDB, so a
SIGKILLed server restarted on the same directory has every acked write.

    server = RedisServer(tmp_path / "redis").start()
    server.url          redis://127.0.0.1:PORT
    server.kill()       SIGKILL; server.start() again on the same directory and port
    server.cli("CLIENT", "KILL", "TYPE", "pubsub")

    cluster = RedisCluster3(tmp_path / "cluster").start()
    cluster.url         redis+cluster://127.0.0.1:PORT
"""

from __future__ import annotations

import contextlib
import ctypes
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_cluster_port() -> int:
    """A free port P whose cluster bus port, P + 10000, is free too (so P <= 55535)."""
    while True:
        port = free_port()
        if port + 10000 <= 65535 and _free(port + 10000):
            return port
        port = random.randrange(20000, 30000)
        if _free(port) and _free(port + 10000):
            return port


def wait_for(condition: object, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll `condition()` until true, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not met within {timeout}s")
        time.sleep(0.02)


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the test process dies (no orphaned servers)."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


PR_SET_PDEATHSIG = 1


class RedisServer:
    def __init__(
        self, directory: Path, *extra: str, port: int | None = None, durable: bool = True
    ) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.extra = extra
        self.durable = durable
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> RedisServer:
        assert REDIS_SERVER is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.durable
            else ["--appendonly", "no"]
        )
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--save",
                "",
                *persistence,
                *self.extra,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        log.close()
        wait_for(lambda: self._alive() and _ping(self.port), 10, f"redis on {self.port}")
        return self

    def _alive(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            tail = (self.directory / "redis.log").read_text()[-1500:]
            raise RuntimeError(f"redis-server exited: {tail}")
        return True

    def cli(self, *args: str) -> str:
        assert REDIS_CLI is not None
        done = subprocess.run(
            [REDIS_CLI, "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return done.stdout

    def kill(self) -> None:
        """SIGKILL: what was fsynced (every acked append) stays."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    def close(self) -> None:
        if self.process is not None:
            with contextlib.suppress(Exception):
                self.process.terminate()
                self.process.wait(10)
            with contextlib.suppress(Exception):
                self.process.kill()
            self.process = None


class RedisCluster3:
    """A local Redis Cluster: three masters, no replicas, slots spread by redis-cli."""

    def __init__(self, directory: Path) -> None:
        self.nodes = [
            RedisServer(
                directory / f"node{i}",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "3000",
                port=free_cluster_port(),
            )
            for i in range(3)
        ]

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def start(self) -> RedisCluster3:
        assert REDIS_CLI is not None
        try:
            for node in self.nodes:
                node.start()
            self._create()
        except BaseException:
            self.close()
            raise
        return self

    def _create(self) -> None:
        assert REDIS_CLI is not None
        subprocess.run(
            [
                REDIS_CLI,
                "--cluster",
                "create",
                *(f"127.0.0.1:{node.port}" for node in self.nodes),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            capture_output=True,
            check=True,
            timeout=30,
        )
        wait_for(self._ok, 20, "cluster_state:ok on every node")

    def _ok(self) -> bool:
        for node in self.nodes:
            info = node.cli("CLUSTER", "INFO")
            if "cluster_state:ok" not in info or "cluster_known_nodes:3" not in info:
                return False
        return True

    def close(self) -> None:
        for node in self.nodes:
            node.close()


def _need_redis() -> None:
    if REDIS_SERVER is None or REDIS_CLI is None:
        pytest.fail("redis-server and redis-cli are needed (scripts/install installs them)")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One durable Redis for the session; tests keep apart by key prefix (`redis_prefix`)."""
    _need_redis()
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster3]:
    """One local 3-master Redis Cluster for the session."""
    _need_redis()
    cluster = RedisCluster3(tmp_path_factory.mktemp("redis-cluster")).start()
    yield cluster
    cluster.close()


@pytest.fixture
def fresh_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of the test's own, to kill and restart at will."""
    _need_redis()
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.close()


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of the test's own, so tests can share a Redis."""
    return f"t{secrets.token_hex(4)}"
