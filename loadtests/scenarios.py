"""The scenarios: each drives a connected `Session` and returns a `Result` (one table row).

Every scenario ends with a check of every client: no event lost, duplicated or
reordered (`Result.correct`), and the delivered/expected count. Latencies are from the
moment the publisher sends to the moment the last client has the event (monotonic
clock, shared by all processes on Linux).
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from loadtests.load import Load
from loadtests.machine import ProcStat
from loadtests.servers import Roster
from loadtests.wsclient import Answer, Client

INVERSION_S = 0.010
"""Two requests sent closer than this may be read by the server in either order (it reads
every ready socket of a loop iteration, in the kernel's order): not an inversion."""
TEXT_200 = "Point of information: the delegation wishes to align itself with the statement"


@dataclass
class Result:
    scenario: str
    target: str
    n: int
    latencies_ms: list[float] = field(default_factory=list)
    throughput: float | None = None
    unit: str = ""
    delivered: int = 0
    expected: int = 0
    rss_per_conn: float | None = None
    server_cpu: float | None = None
    load_cpu: float | None = None
    server_cpu_s: float | None = None
    correct: bool = True
    problems: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cost_us(self) -> float | None:
        """Server CPU per event delivered (µs): the server's efficiency, whatever the
        generator's speed."""
        if self.server_cpu_s is None or not self.delivered:
            return None
        return 1e6 * self.server_cpu_s / self.delivered

    def pct(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Session:
    """A server under test with `n` clients connected through `load`."""

    target: str
    host: str
    port: int
    pids: list[int]
    roster: Roster
    load: Load
    n: int
    codecs: list[str]

    @property
    def chair(self) -> Client:
        assert self.load.chair is not None
        return self.load.chair

    def server_cpu(self) -> float:
        return sum(ProcStat.read(pid).cpu_s for pid in self.pids)

    def server_rss(self) -> int:
        return sum(ProcStat.read(pid).rss for pid in self.pids)


class Meter:
    """CPU of the server and of the generator, over the wall time between start and stop."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.wall = time.monotonic()
        self.server = session.server_cpu()
        self.load = session.load.cpu()

    def into(self, result: Result) -> Result:
        wall = max(1e-6, time.monotonic() - self.wall)
        result.server_cpu = 100 * (self.session.server_cpu() - self.server) / wall
        result.load_cpu = 100 * (self.session.load.cpu() - self.load) / wall
        result.server_cpu_s = self.session.server_cpu() - self.server
        return result


async def publish(chair: Client, text: str) -> tuple[float, int]:
    sent = time.monotonic()
    answer = await asyncio.wait_for(chair.command("chat.send", {"to": "all", "text": text}), 30)
    return sent, _seq(answer)


def _seq(answer: Answer) -> int:
    if answer.message["t"] != "ack":
        raise RuntimeError(f"publish refused: {answer.message}")
    return int(answer.message["seq"])


async def verify(session: Session, result: Result, final: int | None) -> Result:
    verdict = await session.load.check(final)
    if verdict["bad"] or verdict["behind"]:
        result.correct = False
        result.problems.append(
            f"{verdict['bad']} clients saw a violation, {verdict['behind']} behind "
            f"({verdict['missing']} events missing): {verdict['violations'][:3]}"
        )
    if session.chair.violations:
        result.correct = False
        result.problems.append(f"chair: {session.chair.violations[:3]}")
    result.extra["closes"] = verdict["closes"]
    result.extra["connected"] = verdict["connected"]
    return result


def text_of(size: int) -> str:
    return (TEXT_200 * (size // len(TEXT_200) + 1))[:size]


# --- idle connection cost --------------------------------------------------------------


def idle(session: Session, rss_before: int) -> Result:
    result = Result("idle connections", session.target, session.n)
    result.rss_per_conn = (session.server_rss() - rss_before) / max(1, session.n)
    result.extra["rss_total_mb"] = session.server_rss() / 2**20
    return result


# --- fan-out -----------------------------------------------------------------------------


async def fan_out_rounds(
    session: Session, rounds: int, text: str, expect: list[int] | None = None
) -> tuple[Result, list[tuple[float, int]]]:
    """`rounds` chats, one after another: each published once every client has the last."""
    load = session.load
    result = Result("fan-out", session.target, session.n)
    await load.record()
    meter = Meter(session)
    published: list[tuple[float, int]] = []
    for _ in range(rounds):
        sent, seq = await publish(session.chair, text)
        published.append((sent, seq))
        if not await load.wait(seq, timeout=30, expect=expect):
            result.correct = False
            result.problems.append(f"seq {seq} not delivered to every client within 30 s")
            break
    meter.into(result)
    receipts = await load.receipts()
    await load.record(False)
    receivers = sum(expect) if expect is not None else sum(load.strict_per_worker)
    for sent, seq in published:
        entry = receipts.seqs.get(seq)
        if entry is not None:
            result.latencies_ms.append(1000 * (entry[2] - sent))
    result.delivered = receipts.deliveries()
    result.expected = receivers * len(published)
    return result, published


async def fan_out_burst(session: Session, count: int, text: str) -> Result:
    """`count` chats sent back to back; throughput from first send to last receipt."""
    load = session.load
    result = Result("fan-out burst", session.target, session.n)
    await load.record()
    meter = Meter(session)
    first = time.monotonic()
    futures = [
        session.chair.command("chat.send", {"to": "all", "text": f"{text} {i}"})
        for i in range(count)
    ]
    answers = await asyncio.wait_for(asyncio.gather(*futures), 60)
    seqs = [_seq(a) for a in answers]
    ok = await load.wait(max(seqs), timeout=60)
    meter.into(result)
    receipts = await load.receipts()
    await load.record(False)
    if not ok:
        result.correct = False
        result.problems.append("the burst was not delivered to every client within 60 s")
    last = max((receipts.seqs[s][2] for s in seqs if s in receipts.seqs), default=first)
    seconds = max(1e-6, last - first)
    result.delivered = receipts.deliveries()
    result.expected = sum(load.strict_per_worker) * count
    result.throughput = result.delivered / seconds
    result.unit = "events/s"
    result.extra["frames_per_s"] = receipts.frames / seconds
    result.extra["burst_ms"] = 1000 * seconds
    result.latencies_ms = [1000 * (receipts.seqs[s][2] - first) for s in seqs if s in receipts.seqs]
    return result


# --- chat storm --------------------------------------------------------------------------


async def chat_storm(
    session: Session, senders: int, per_sender: int, seconds: float, text: str
) -> Result:
    """`senders` delegates each chat `per_sender` times to all, spread over `seconds`."""
    load = session.load
    result = Result("chat storm", session.target, session.n)
    indices = list(range(0, session.n, max(1, session.n // senders)))[:senders]
    await load.record()
    meter = Meter(session)
    at = time.monotonic() + 0.3
    answers = await load.per_client(
        "commands",
        indices,
        at=at,
        spread=seconds / per_sender,
        interval=seconds / per_sender,
        per_client=per_sender,
        name="chat.send",
        args={"to": "all", "text": text},
        timeout=60,
    )
    results = [r for a in answers for r in a["results"]]
    refused = [r for r in results if r[2] is None or r[4] is not None]
    seqs = [r[2] for r in results if r[4] is None and r[2] is not None]
    ok = bool(seqs) and await load.wait(max(seqs), timeout=60)
    meter.into(result)
    receipts = await load.receipts()
    await load.record(False)
    if refused or not ok:
        result.correct = False
        result.problems.append(f"{len(refused)} chats refused; delivered to all: {ok}")
    for _, sent, seq, _, code in results:
        if code is None and seq in receipts.seqs:
            result.latencies_ms.append(1000 * (receipts.seqs[seq][2] - sent))
    first = min(r[1] for r in results)
    last = max((receipts.seqs[s][2] for s in seqs if s in receipts.seqs), default=first)
    result.delivered = receipts.deliveries()
    result.expected = sum(load.strict_per_worker) * len(seqs)
    result.throughput = result.delivered / max(1e-6, last - first)
    result.unit = "events/s"
    result.extra["chats"] = len(results)
    return await verify(session, result, max(seqs) if seqs else None)


# --- opening burst -----------------------------------------------------------------------


async def fanouts(session: Session) -> tuple[float, float]:
    """How many batches the server has fanned out so far, and the seconds they took from
    decision to every frame handed to its connection (Floor's /metrics)."""
    import httpx

    async with httpx.AsyncClient(base_url=f"http://{session.host}:{session.port}") as http:
        r = await http.get("/metrics", timeout=30)
    count = seconds = 0.0
    for line in r.text.splitlines():
        if line.startswith("floor_fanout_seconds_count"):
            count = float(line.split()[-1])
        elif line.startswith("floor_fanout_seconds_sum"):
            seconds = float(line.split()[-1])
    return count, seconds


async def opening_burst(session: Session, requesters: int, window: float = 0.1) -> Result:
    """`requesters` delegates request the floor within `window` seconds."""
    load = session.load
    result = Result("opening burst", session.target, session.n)
    indices = list(range(min(requesters, session.n)))
    batches = await fanouts(session)
    await load.record()
    meter = Meter(session)
    at = time.monotonic() + 0.3
    answers = await load.per_client(
        "commands",
        indices,
        at=at,
        spread=window,
        name="floor.request",
        args={},
        timeout=20,
        quiet=True,
    )
    results = sorted((r for a in answers for r in a["results"]), key=lambda r: r[2] or 0)
    refused = [r for r in results if r[2] is None or r[4] is not None]
    seqs = [r[2] for r in results if r[4] is None]
    final = max(seqs) if seqs else None
    ok = final is not None and await load.wait(final, timeout=30)
    meter.into(result)
    receipts = await load.receipts()
    await load.record(False)
    sent_window = max(r[1] for r in results) - min(r[1] for r in results)
    acked = [1000 * (r[3] - r[1]) for r in results if r[3] is not None]
    result.latencies_ms = acked
    everyone_ms = (
        1000 * (max(receipts.seqs[s][2] for s in seqs if s in receipts.seqs) - at) if seqs else None
    )
    inversions = sum(1 for a, b in itertools.pairwise(results) if b[1] < a[1] - INVERSION_S)
    result.extra.update(
        batches=(await fanouts(session))[0] - batches[0],
        server_fanout_ms=1000 * ((await fanouts(session))[1] - batches[1]),
        frames=receipts.frames,
        sent_within_ms=1000 * sent_window,
        all_acked_ms=max(acked) if acked else None,
        everyone_final_ms=everyone_ms,
        order_inversions=inversions,
    )
    result.delivered = receipts.deliveries()
    result.expected = sum(load.strict_per_worker) * len(seqs)
    result.throughput = len(seqs) / max(1e-6, (max(acked) if acked else 1) / 1000)
    result.unit = "acks/s"
    if refused or not ok:
        result.correct = False
        result.problems.append(f"{len(refused)} refused ({refused[:2]}); all delivered: {ok}")
    if len(set(seqs)) != len(seqs) or (seqs and max(seqs) - min(seqs) + 1 != len(seqs)):
        result.correct = False
        result.problems.append("the requests' seqs are not one contiguous run")
    if session.target.startswith("floor"):
        queue = await floor_queue(session)
        if queue is not None and len(queue) < len(seqs):
            result.correct = False
            result.problems.append(f"queue holds {len(queue)} of {len(seqs)} requests")
        order = [
            e["data"]["request"]
            for e in session.chair.inbox
            if e.get("t") == "event" and e.get("name") == "floor.requested"
        ]
        if queue is not None and [q["id"] for q in queue][-len(order) :] != order[-len(queue) :]:
            result.correct = False
            result.problems.append("the final list is not in log (arrival) order")
    return await verify(session, result, final)


async def floor_queue(session: Session) -> list[dict[str, Any]] | None:
    import httpx

    from loadtests.servers import ADMIN_TOKEN

    async with httpx.AsyncClient(
        base_url=f"http://{session.host}:{session.port}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=30,
    ) as http:
        r = await http.get(f"/api/meetings/{session.roster.meeting}")
        if r.status_code != 200:
            return None
        queue: list[dict[str, Any]] = r.json()["state"]["queue"]
        return queue


# --- reconnect storm ---------------------------------------------------------------------


async def reconnect_storm(session: Session, missed: int, text: str) -> Result:
    """Every client dropped at once; `missed` events meanwhile; all reconnect with resume."""
    load = session.load
    result = Result("reconnect storm", session.target, session.n)
    meter = Meter(session)
    dropped_at = time.monotonic()
    await load.all({"op": "drop"})
    seq = 0
    for i in range(missed):
        _, seq = await publish(session.chair, f"{text} (while away {i})")
    answers = await load.all(
        {"op": "reconnect", "resume": True, "concurrency": 1000, "timeout": 120}
    )
    resumed = sum(a["resumed"] for a in answers)
    connected = sum(a["connected"] for a in answers)
    ok = await load.wait_all(seq, timeout=30) if seq else True
    verdict = await load.check(seq)
    done = max(a["done"] for a in answers)
    result.extra["all_resumed_s"] = done - dropped_at
    result.throughput = connected / max(1e-6, done - dropped_at)
    result.unit = "resumes/s"
    result.delivered = session.n * missed - verdict["missing"]
    result.expected = session.n * missed
    meter.into(result)
    result.extra["resumed"] = resumed
    if resumed != session.load.n or not ok:
        result.correct = False
        result.problems.append(
            f"{resumed} of {session.load.n} resumed ({connected} connected, "
            f"failures {[a['failures'] for a in answers if a['failures']][:2]})"
        )
    return await verify(session, result, seq or None)


# --- slow consumers ----------------------------------------------------------------------


async def slow_consumers(
    session: Session, slow: list[int], rounds: int, text: str, healthy: Result
) -> Result:
    """The `slow` clients stop reading; `rounds` chats go out; then they read again and
    are expected to find a 4008 close (Floor), reconnect with resume and miss nothing."""
    load = session.load
    result = Result("slow consumers", session.target, session.n)
    slow_set = set(slow)
    expect = [0] * load.size
    for index in range(session.n):
        if index not in slow_set:
            expect[load.where(index)[0]] += 1
    # Fresh connections (a resume: a small welcome) for the slow ones: the kernel grows a
    # socket's send buffer while it carries a large welcome (the whole roster), and would
    # then hide megabytes of backlog from the server's own bounded queue.
    await load.per_client("drop", slow)
    await load.all({"op": "reconnect", "resume": True, "timeout": 60})
    await load.per_client("pause", slow)
    measured, published = await fan_out_rounds(session, rounds, text, expect=expect)
    result.latencies_ms = measured.latencies_ms
    result.server_cpu, result.load_cpu = measured.server_cpu, measured.load_cpu
    result.correct = measured.correct
    result.problems = measured.problems
    await load.all({"op": "unpause"})
    closed = await load.per_client("wait_closed", slow, timeout=20)
    result.extra["slow_closed"] = sum(a["closed"] for a in closed)
    answers = await load.all({"op": "reconnect", "resume": True, "timeout": 60})
    result.extra["slow_resumed"] = sum(a["resumed"] for a in answers)
    final = published[-1][1] if published else None
    if final is not None and not await load.wait_all(final, timeout=30):
        result.correct = False
        result.problems.append("after resuming, not every client has every event")
    result.delivered = measured.delivered
    result.expected = measured.expected
    h99, s99 = healthy.pct(0.99), result.pct(0.99)
    if h99 and s99:
        result.extra["p99_change_pct"] = 100 * (s99 - h99) / h99
    result.extra["others_p99_without_slow_ms"] = h99
    return await verify(session, result, final)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None
