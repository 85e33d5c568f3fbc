"""One server per data directory: an exclusive lock on `DATA/floor.lock`, held while the
server runs.

Two servers on one SQLite file would both write one consistent log, but neither would
hear of the other's events (there is no bus between them), so their clients would miss
events. The second server refuses to start instead, saying why. (Several nodes share
meetings through Redis, `--redis`, not through a data directory.) The lock is the
operating system's (`flock`): it goes with the process, even one killed with SIGKILL.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from floor.errors import ConfigError

LOCK_FILE = "floor.lock"


class DataLock:
    """The lock of one data directory; `release` (idempotent) gives it back."""

    def __init__(self, data: Path) -> None:
        self.path = data / LOCK_FILE
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise ConfigError(
                f"{data} is in use by another Floor server: give each server its own --data "
                "(several nodes share meetings through --redis, not a data directory)"
            ) from None

    async def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
