"""The machine side of a measurement: cores, limits, a process's CPU and memory, the load.

The server runs on one core (`SERVER_CORE`), the load generator on the other
(`LOAD_CORE`); a measurement is a difference of two `ProcStat` readings taken around it.
Everything is read from /proc (Linux only).
"""

from __future__ import annotations

import os
import platform
import resource
from dataclasses import dataclass
from pathlib import Path

LOAD_CORE = 0
SERVER_CORE = 1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cores() -> int:
    return os.cpu_count() or 1


def pin_self(core: int) -> None:
    """Pin this process (and the threads and children it starts later) to one core."""
    if cores() > core:
        os.sched_setaffinity(0, {core})


def server_core() -> int | None:
    return SERVER_CORE if cores() > SERVER_CORE else None


def raise_open_files(wanted: int = 20_000) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass(frozen=True)
class ProcStat:
    """CPU seconds (user + system, all threads) and resident memory of one process."""

    cpu_s: float
    rss: int

    @classmethod
    def read(cls, pid: int) -> ProcStat:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            statm = Path(f"/proc/{pid}/statm").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            return cls(0.0, 0)
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
        return cls(cpu, int(statm[1]) * PAGE)


def cpu_of(pids: list[int]) -> float:
    return sum(ProcStat.read(pid).cpu_s for pid in pids)


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def describe() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        memory = f", {int(first.split()[1]) // 1024 // 1024 + 1} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cores()} x {model}{memory}; Linux {platform.release()}; "
        f"Python {platform.python_version()}"
    )
