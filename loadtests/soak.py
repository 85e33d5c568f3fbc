"""The soak: a long meeting day compressed, on a two-node cluster, with a Redis crash and a
node crash in the middle.

    python -m loadtests.soak                 # 50 meetings x 40 = 2,000 clients, 120 rounds
    python -m loadtests.soak --smoke         # 5 meetings x 10, 12 rounds (the test suite's)

Two `floor serve --redis` nodes share one durable redis-server (AOF, `appendfsync
always`). Every meeting has a chair and delegates, spread over both nodes. Each round, in
every meeting, the chair ends the current speech and gives the floor to the next speaker,
a few delegates ask for the floor and a few post chat. A third of the way through, Redis
is SIGKILLed while a round is in flight and started again three seconds later; two thirds
of the way through, the second node is SIGKILLed likewise, started again, and its clients
reconnect with `resume`.

At the end, nothing may be lost: every command acknowledged with a seq is in its meeting's
log at that seq (read back through the admin API), as the event that command makes; every
client holds its meeting's last seq, having seen every event in order (or, once, a fresh
welcome from a node that restarted); and the first node's memory, sampled every round,
must not grow with the rounds. It prints its figures and exits 1 on any loss.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from loadtests.load import Load
from loadtests.machine import ProcStat, describe
from loadtests.servers import ADMIN_TOKEN, FloorServer, Redis, free_port, provision, workdir

MADE_BY = {
    "chat.send": {"chat.posted"},
    "floor.request": {"floor.requested"},
    "floor.grant": {"floor.granted"},
    "floor.release": {"floor.released", "floor.resumed"},
}
"""The event an acknowledged command's seq must name, by command."""

NOT_RESUMED = "not resumed"
"""A client's complaint when a restarted node welcomes it with the state instead of the
missed events: allowed by the protocol, counted apart."""


@dataclass
class Plan:
    meetings: int = 50
    delegates: int = 39
    rounds: int = 120
    round_s: float = 2.5
    chatters: int = 3
    requesters: int = 2
    workers: int = 2


@dataclass
class Member:
    meeting: str
    token: str
    node: int
    chair: bool


@dataclass
class Tally:
    sent: int = 0
    acked: list[tuple[int, str, int]] = field(default_factory=list)
    """(client index, command, seq) of every acknowledged command."""
    refused: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))


def say(text: str) -> None:
    print(text, flush=True)


def _round_robin(members: list[Member], node: int) -> list[Member]:
    return [m for m in members if m.node == node]


async def _traffic(load: Load, members: list[Member], plan: Plan, r: int, tally: Tally) -> None:
    """One round: the chairs end the speech and grant the next; some delegates request the
    floor, some chat, spread over the round."""
    by_meeting: dict[str, list[int]] = defaultdict(list)
    chairs: list[int] = []
    for index, member in enumerate(members):
        (chairs if member.chair else by_meeting[member.meeting]).append(index)
    chatters: list[int] = []
    requesters: list[int] = []
    for delegates in by_meeting.values():
        start = (r * (plan.chatters + plan.requesters)) % len(delegates)
        chosen = [delegates[(start + k) % len(delegates)] for k in range(len(delegates))]
        chatters += chosen[: plan.chatters]
        requesters += chosen[plan.chatters : plan.chatters + plan.requesters]
    steps: list[tuple[str, list[int], dict[str, Any]]] = [
        ("floor.release", chairs, {}),
        ("floor.request", requesters, {}),
        ("floor.grant", chairs, {}),
        ("chat.send", chatters, {"to": "all", "text": f"soak {r}"}),
    ]
    for name, indices, args in steps:
        answers = await load.per_client(
            "commands",
            indices,
            name=name,
            args=args,
            at=time.monotonic() + 0.02,
            spread=plan.round_s / 8,
            timeout=15,
        )
        for w, answer in enumerate(answers):
            for local, _when, seq, _at, code in answer["results"]:
                tally.sent += 1
                if seq is not None and code is None:
                    tally.acked.append((local * load.size + w, name, int(seq)))
                else:
                    tally.refused[str(code)] += 1


async def _until_ready(nodes: list[FloorServer], timeout: float = 60) -> float:
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=2) as http:
        for node in nodes:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{node.base}/readyz")).status_code == 200:
                        break
                if time.monotonic() - started > timeout:
                    raise TimeoutError(f"{node.name} not ready after {timeout}s")
                await asyncio.sleep(0.1)
    return time.monotonic() - started


def _log_of(base: str, meeting: str) -> dict[int, dict[str, Any]]:
    """The meeting's whole log by seq (empty if the meeting itself is gone)."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    events: dict[int, dict[str, Any]] = {}
    after = 0
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        while True:
            page = http.get(f"/api/meetings/{meeting}/events", params={"after": after})
            if page.status_code == 404:
                return events
            page.raise_for_status()
            body = page.json()
            for event in body["events"]:
                events[event["seq"]] = event
            if not body["more"] or not body["events"]:
                return events
            after = body["events"][-1]["seq"]


def _mib(pid: int) -> float:
    return ProcStat.read(pid).rss / 2**20


async def soak(plan: Plan, scratch: Path) -> list[str]:
    """Runs the soak; answers the problems found (none: nothing lost)."""
    redis = Redis("redis", free_port(), scratch / "redis", durable=True).start()
    nodes = [FloorServer(scratch, redis=redis.url).start() for _ in range(2)]
    load = Load(plan.workers)
    problems: list[str] = []
    try:
        members: list[Member] = []
        for m in range(plan.meetings):
            roster = provision(nodes[m % 2].base, plan.delegates, title=f"Meeting {m}")
            members.append(Member(roster.meeting, roster.chair, 0, True))
            members += [
                Member(roster.meeting, token, (i + m) % 2, False)
                for i, token in enumerate(roster.delegates)
            ]
        await load.start()
        ordered = _round_robin(members, 0) + _round_robin(members, 1)
        started = time.monotonic()
        for n, part in enumerate((_round_robin(members, 0), _round_robin(members, 1))):
            specs = [
                {"token": m.token, "codec": ("json", "msgpack")[i % 2]} for i, m in enumerate(part)
            ]
            joined = await load.connect("127.0.0.1", nodes[n].port, specs, concurrency=400)
            if joined["connected"] != len(part):
                problems.append(f"node {n}: {joined['connected']}/{len(part)} connected")
        say(
            f"soak: {plan.meetings} meetings, {len(members)} clients on 2 nodes, "
            f"{plan.rounds} rounds of {plan.round_s}s; joined in {time.monotonic() - started:.1f}s"
        )
        tally = Tally()
        rss: list[float] = []
        disrupted: dict[str, float] = {}
        for r in range(plan.rounds):
            began = time.monotonic()
            if r == plan.rounds // 3:
                traffic = asyncio.create_task(_traffic(load, ordered, plan, r, tally))
                await asyncio.sleep(0.3)
                redis.kill()
                await asyncio.sleep(3)
                redis.start()
                restarted = time.monotonic()
                await traffic
                await _until_ready(nodes)
                disrupted["Redis restarted → both nodes ready (s)"] = round(
                    time.monotonic() - restarted, 2
                )
            elif r == 2 * plan.rounds // 3:
                traffic = asyncio.create_task(_traffic(load, ordered, plan, r, tally))
                await asyncio.sleep(0.3)
                nodes[1].kill()
                await traffic
                nodes[1].start()
                restarted = time.monotonic()
                back = await load.all({"op": "reconnect", "resume": True, "concurrency": 400})
                disrupted["node restarted → its clients resumed (s)"] = round(
                    time.monotonic() - restarted, 2
                )
                disrupted["clients reconnected"] = sum(a["connected"] for a in back)
            else:
                await _traffic(load, ordered, plan, r, tally)
            rss.append(_mib(nodes[0].pid))
            await asyncio.sleep(max(0.0, plan.round_s - (time.monotonic() - began)))
            if r % 10 == 9:
                say(f"  round {r + 1}: {len(tally.acked)} acked, node 1 RSS {rss[-1]:.0f} MiB")
        await asyncio.sleep(3)  # the last events reach everyone
        problems += await _verify(load, nodes[0].base, ordered, tally)
        idle_before = _mib(nodes[0].pid)
        await asyncio.sleep(10)
        figures = {
            "commands sent": tally.sent,
            "acknowledged": len(tally.acked),
            "refused or unanswered": dict(tally.refused),
            **disrupted,
            "node 1 RSS after round 10 / half / last (MiB)": (
                f"{rss[min(9, len(rss) - 1)]:.0f} / {rss[len(rss) // 2]:.0f} / {rss[-1]:.0f}"
            ),
            "node 1 RSS growth, second half (MiB per 100 rounds)": (
                f"{_slope(rss[len(rss) // 2 :]) * 100:.1f}"
            ),
            "node 1 RSS idle, 10 s after the load (MiB)": (
                f"{idle_before:.0f} → {_mib(nodes[0].pid):.0f}"
            ),
        }
        for name, value in figures.items():
            say(f"  {name}: {value}")
    finally:
        await load.close()
        for node in nodes:
            node.stop()
        redis.stop()
    return problems


def _slope(values: list[float]) -> float:
    """Least-squares growth per step."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    return num / sum((x - mean_x) ** 2 for x in range(n))


async def _verify(load: Load, base: str, members: list[Member], tally: Tally) -> list[str]:
    problems: list[str] = []
    logs = {m.meeting: _log_of(base, m.meeting) for m in members if m.chair}
    heads = {meeting: max(log, default=0) for meeting, log in logs.items()}
    seen: set[tuple[str, int]] = set()
    for index, name, seq in tally.acked:
        meeting = members[index].meeting
        event = logs[meeting].get(seq)
        if event is None:
            problems.append(f"acked {name} at seq {seq} of {meeting} is not in the log")
        elif event["name"] not in MADE_BY[name]:
            problems.append(f"acked {name} at seq {seq} of {meeting} is a {event['name']}")
        if (meeting, seq) in seen and name != "floor.release":
            problems.append(f"two acks for seq {seq} of {meeting}")
        seen.add((meeting, seq))
    rejoined = 0
    diverged = 0
    clients = [c for a in await load.all({"op": "seqs"}) for c in a["clients"]]
    meeting_of = {m.token: m.meeting for m in members}
    for token, last_seq, connected, violations in clients:
        head = heads[meeting_of[token]]
        other = [v for v in violations if not v.startswith(NOT_RESUMED)]
        rejoined += len(violations) - len(other)
        if not connected:
            problems.append(f"client {token[:6]} not connected at the end")
        elif last_seq != head:
            problems.append(f"client {token[:6]} at seq {last_seq}, its meeting at {head}")
        elif other:
            problems.append(f"client {token[:6]}: {other[:2]}")
        else:
            continue
        diverged += 1
    say(
        f"  clients converged: {len(clients) - diverged}/{len(clients)}, "
        f"{rejoined} rejoined with a fresh welcome after the node restart"
    )
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="5 meetings x 10, 12 rounds")
    parser.add_argument("--meetings", type=int)
    parser.add_argument("--rounds", type=int)
    options = parser.parse_args()
    plan = Plan(meetings=5, delegates=9, rounds=12, round_s=1.0) if options.smoke else Plan()
    if options.meetings:
        plan.meetings = options.meetings
    if options.rounds:
        plan.rounds = options.rounds
    say(describe())
    problems = asyncio.run(soak(plan, workdir()))
    if problems:
        say(f"INCORRECT: {len(problems)} problems")
        for problem in problems[:20]:
            say(f"  {problem}")
        sys.exit(1)
    say("correct: nothing acknowledged was lost; every client converged")


if __name__ == "__main__":
    main()
