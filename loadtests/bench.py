"""The benchmark: every scenario against Floor and against the raw baseline, in one run.

    .venv/bin/python -m loadtests.bench --full      # N = 2,000 and 5,000; writes docs/benchmarks.md
    .venv/bin/python -m loadtests.bench --smoke     # N = 200; asserts correctness only

Each scenario prints a table (p50/p99/max latency, throughput, delivered/expected, server
RSS per connection, server and generator CPU) with Floor's ratio to the baseline measured
by the same generator in the same run. Exit status 1 if any scenario lost, duplicated or
reordered an event (or failed its correctness checks); speed is reported, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests import scenarios as sc
from loadtests.load import Load
from loadtests.machine import describe, load_average
from loadtests.servers import (
    ROOT,
    BaselineServer,
    FloorServer,
    Process,
    Redis,
    Roster,
    fake_roster,
    provision,
    workdir,
)

NODE_SOCKETIO = {2000: 39.2, 5000: 165.0}
"""Node socket.io's p99 (ms) for the same broadcast, from the issue (same kind of machine)."""


@dataclass
class Plan:
    sizes: tuple[int, ...]
    rounds: int
    burst: int
    requesters: int
    storm_senders: int
    storm_per_sender: int
    missed: int
    slow_n: int
    slow_rounds: int
    slow_text: int
    send_buffer: int
    workers: int
    cluster_n: int
    broadcast: bool
    devices: int = 2


FULL = Plan((2000, 5000), 100, 100, 1000, 50, 4, 10, 2000, 200, 1500, 16384, 2, 2000, True)
SMOKE = Plan((200,), 20, 20, 100, 10, 3, 5, 200, 150, 1500, 16384, 2, 200, False)


async def open_session(
    target: str,
    n: int,
    plan: Plan,
    scratch: Path,
    env: dict[str, str] | None = None,
    rcvbuf_for: set[int] | None = None,
    servers: list[Process] | None = None,
) -> tuple[sc.Session, list[Process], int]:
    """A server (or the given cluster nodes) with a chair and `n` clients connected."""
    if servers is None:
        if target == "floor":
            servers = [FloorServer(scratch, env).start()]
        else:
            mode = "broadcast" if target == "baseline-broadcast" else "direct"
            servers = [BaselineServer(scratch, mode).start()]
    try:
        return await _connected(target, n, plan, servers, env, rcvbuf_for)
    except BaseException:
        for server in servers:
            server.stop()
        raise


async def _connected(
    target: str,
    n: int,
    plan: Plan,
    servers: list[Process],
    env: dict[str, str] | None,
    rcvbuf_for: set[int] | None,
) -> tuple[sc.Session, list[Process], int]:
    first = servers[0]
    roster = (
        provision(f"http://127.0.0.1:{first.port}", n, devices=plan.devices)
        if target.startswith("floor")
        else fake_roster(n, plan.devices)
    )
    load = Load(plan.workers)
    await load.start()
    try:
        return await _clients(target, n, plan, servers, roster, load, rcvbuf_for)
    except BaseException:
        await load.close()
        raise


async def _clients(
    target: str,
    n: int,
    plan: Plan,
    servers: list[Process],
    roster: Roster,
    load: Load,
    rcvbuf_for: set[int] | None,
) -> tuple[sc.Session, list[Process], int]:
    first = servers[0]
    await load.connect_chair("127.0.0.1", first.port, roster.chair)
    session = sc.Session(
        target, "127.0.0.1", first.port, [s.pid for s in servers], roster, load, n, []
    )
    await asyncio.sleep(0.5)
    rss_before = session.server_rss()
    specs: list[dict[str, Any]] = []
    for i, token in enumerate(roster.delegates):
        server = servers[i % len(servers)]
        spec: dict[str, Any] = {
            "token": token,
            "codec": "msgpack" if i % 10 == 9 else "json",
            "sampled": i % 10 == 0,  # checks each seq of batched frames (see wsclient)
        }
        if rcvbuf_for is not None and i in rcvbuf_for:
            spec["rcvbuf"] = 4096
        spec["port"] = server.port
        specs.append(spec)
    for i, token in enumerate(roster.devices):  # consoles: msgpack, no chat
        port = servers[i % len(servers)].port
        specs.append({"token": token, "codec": "msgpack", "strict": False, "port": port})
    gate = 50 if target.startswith("floor-") else 200  # Redis: fewer handshakes at once
    by_port: dict[int, list[dict[str, Any]]] = {}
    for spec in specs:
        by_port.setdefault(spec.pop("port"), []).append(spec)
    if len(by_port) == 1:
        summary = await load.connect("127.0.0.1", first.port, specs, concurrency=gate)
    else:  # cluster: clients of each node in turn (indices stay round-robin by node)
        summary = {"connected": 0, "failures": [], "retried": []}
        for port, part in by_port.items():
            s = await load.connect("127.0.0.1", port, part, concurrency=gate)
            summary["connected"] += s["connected"]
            summary["failures"] += s["failures"]
            summary["retried"] += s["retried"]
    say(
        f"   connected {summary['connected']} of {n} in {summary.get('seconds', 0):.1f} s; "
        f"failures {summary['failures']}; retried {summary.get('retried')}"
    )
    if summary["connected"] != len(specs):
        raise RuntimeError(f"{target}: {summary['connected']} of {n} connected: {summary}")
    await asyncio.sleep(1.0)  # let the welcomes drain before measuring memory
    return session, servers, rss_before


async def close_session(session: sc.Session, servers: list[Process]) -> None:
    await session.load.close()
    for server in servers:
        server.stop()


def say(text: str) -> None:
    print(text, flush=True)


# --- the run -------------------------------------------------------------------------------


async def run_main_scenarios(plan: Plan, scratch: Path, results: list[sc.Result]) -> None:
    text = sc.text_of(60)
    targets = ["baseline", "floor"] + (["baseline-broadcast"] if plan.broadcast else [])
    for n in plan.sizes:
        for target in targets:
            say(f"\n== {target}, N={n}: connecting")
            session, servers, rss_before = await open_session(target, n, plan, scratch)
            try:
                results.append(sc.idle(session, rss_before))
                rounds, published = await sc.fan_out_rounds(session, plan.rounds, text)
                results.append(await sc.verify(session, rounds, published[-1][1]))
                say(f"   fan-out p99 {rounds.pct(0.99)} ms")
                results.append(await sc.fan_out_burst(session, plan.burst, text))
                if target == "baseline-broadcast":
                    continue
                results.append(
                    await sc.chat_storm(
                        session, plan.storm_senders, plan.storm_per_sender, 2.0, text
                    )
                )
                if target == "floor":  # the raw broadcast has no group commit: 1,000
                    # requests would be 1,000 x N frames; the targets here are absolute
                    results.append(await sc.opening_burst(session, min(plan.requesters, n)))
                results.append(await sc.reconnect_storm(session, plan.missed, text))
            finally:
                await close_session(session, servers)
            say(table([r for r in results if r.n == n], n))


async def run_slow(plan: Plan, scratch: Path, results: list[sc.Result]) -> None:
    n = plan.slow_n
    slow = list(range(5, n, 10))  # 10%, spread over both codecs' clients and workers
    text = sc.text_of(plan.slow_text)
    for target in ("baseline", "floor"):
        say(f"\n== slow consumers: {target}, N={n}")
        env = {"FLOOR_SEND_BUFFER": str(plan.send_buffer)}
        session, servers, _ = await open_session(target, n, plan, scratch, env, set(slow))
        try:
            healthy, published = await sc.fan_out_rounds(session, plan.slow_rounds, text)
            healthy.scenario = "slow consumers: none slow"
            results.append(await sc.verify(session, healthy, published[-1][1]))
            # the same clients, minus the slow ones, for a like-for-like p99
            results.append(await sc.slow_consumers(session, slow, plan.slow_rounds, text, healthy))
        finally:
            await close_session(session, servers)


async def run_cluster(plan: Plan, scratch: Path, results: list[sc.Result]) -> str | None:
    """Three nodes on one Redis vs one node on it; None, or why it could not run."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    n = plan.cluster_n
    text = sc.text_of(60)
    redis = Redis("redis", _port(), scratch / "redis").start()
    try:
        for nodes in (1, 3):
            say(f"\n== cluster: {nodes} node(s) on one Redis, N={n}")
            servers: list[Process] = [
                FloorServer(scratch, redis=redis.url).start() for _ in range(nodes)
            ]
            session, servers, _ = await open_session(
                f"floor-{nodes}-node", n, plan, scratch, servers=servers
            )
            try:
                rounds, published = await sc.fan_out_rounds(session, plan.rounds, text)
                rounds.scenario = f"cluster fan-out ({nodes} node{'s' if nodes > 1 else ''})"
                results.append(await sc.verify(session, rounds, published[-1][1]))
                burst = await sc.fan_out_burst(session, plan.burst, text)
                burst.scenario = f"cluster burst ({nodes} node{'s' if nodes > 1 else ''})"
                per_cpu = burst.delivered / max(1e-6, _cpu_s(burst))
                burst.extra["deliveries_per_server_cpu_s"] = per_cpu
                results.append(await sc.verify(session, burst, None))
            finally:
                await close_session(session, servers)
    finally:
        redis.stop()
    return None


def _cpu_s(result: sc.Result) -> float:
    burst_s = result.extra.get("burst_ms", 0) / 1000
    return (result.server_cpu or 0) / 100 * burst_s


def _port() -> int:
    from loadtests.servers import free_port

    return free_port()


# --- tables --------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _k(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.1f}k" if value >= 10_000 else f"{value:.0f}"


def _cost(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def baseline_of(results: list[sc.Result], r: sc.Result) -> sc.Result | None:
    if r.target == "baseline" or not r.target.startswith("floor"):
        return None
    scenario = r.scenario
    for other in results:
        if other.target == "baseline" and other.n == r.n and other.scenario == scenario:
            return other
    return None


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}x"


HEADER = (
    "| scenario | server | N | p50 ms | p99 ms | max ms | throughput | delivered/expected "
    "| RSS/conn | server CPU | load CPU | server µs/delivery | p99 vs baseline "
    "| throughput vs baseline | cost vs baseline | correct |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def row(results: list[sc.Result], r: sc.Result) -> str:
    base = baseline_of(results, r)
    rss = "—" if r.rss_per_conn is None else f"{r.rss_per_conn / 1024:.1f} KB"
    cpu = "—" if r.server_cpu is None else f"{r.server_cpu:.0f}%"
    load = "—" if r.load_cpu is None else f"{r.load_cpu:.0f}%"
    throughput = "—" if r.throughput is None else f"{_k(r.throughput)} {r.unit}"
    delivered = f"{r.delivered}/{r.expected}" if r.expected else "—"
    p99_ratio = ratio(r.pct(0.99), base.pct(0.99)) if base else "—"
    thr_ratio = ratio(r.throughput, base.throughput) if base else "—"
    if base and r.rss_per_conn is not None:
        thr_ratio = f"RSS {ratio(r.rss_per_conn, base.rss_per_conn)}"
    ok = "yes" if r.correct else "**NO**: " + "; ".join(r.problems)[:300]
    return (
        f"| {r.scenario} | {r.target} | {r.n} | {_ms(r.pct(0.5))} | {_ms(r.pct(0.99))} "
        f"| {_ms(r.pct(1.0))} | {throughput} | {delivered} | {rss} | {cpu} | {load} "
        f"| {_cost(r.cost_us)} | {p99_ratio} | {thr_ratio} "
        f"| {ratio(r.cost_us, base.cost_us) if base else '—'} | {ok} |"
    )


def table(results: list[sc.Result], n: int | None = None) -> str:
    chosen = [r for r in results if n is None or r.n == n]
    return "\n".join([HEADER, *(row(results, r) for r in chosen)])


def extras(results: list[sc.Result]) -> str:
    lines = []
    for r in results:
        shown = {k: (round(v, 1) if isinstance(v, float) else v) for k, v in r.extra.items()}
        if shown:
            lines.append(f"- {r.scenario}, {r.target}, N={r.n}: {shown}")
    return "\n".join(lines)


def find(results: list[sc.Result], scenario: str, target: str, n: int) -> sc.Result | None:
    for r in results:
        if r.scenario == scenario and r.target == target and r.n == n:
            return r
    return None


def targets(results: list[sc.Result], plan: Plan) -> str:
    """Each target of issue 7 with its figure, ratio and verdict."""
    lines = ["| target | figure | ratio | met |", "|---|---|---|---|"]

    def add(name: str, figure: str, rat: str, met: bool | None) -> None:
        verdict = "—" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {name} | {figure} | {rat} | {verdict} |")

    for n in plan.sizes:
        f, b = find(results, "fan-out", "floor", n), find(results, "fan-out", "baseline", n)
        if f and b:
            fp, bp = f.pct(0.99), b.pct(0.99)
            met = fp is not None and bp is not None and fp <= 1.25 * bp
            add(
                f"fan-out p99 ≤ 1.25x baseline, N={n}",
                f"{_ms(fp)} ms vs {_ms(bp)} ms",
                ratio(fp, bp),
                met,
            )
            if f.cost_us is not None and b.cost_us is not None:
                add(
                    f"fan-out server CPU per delivery vs baseline, N={n} (generator-independent)",
                    f"{f.cost_us:.2f} µs vs {b.cost_us:.2f} µs",
                    ratio(f.cost_us, b.cost_us),
                    None,
                )
            node = NODE_SOCKETIO.get(n)
            if node is not None and fp is not None:
                add(
                    f"fan-out p99 < Node socket.io (issue: {node} ms), N={n}",
                    f"{_ms(fp)} ms",
                    f"{fp / node:.2f}x socket.io",
                    fp < node,
                )
        f, b = (
            find(results, "fan-out burst", "floor", n),
            find(results, "fan-out burst", "baseline", n),
        )
        if f and b and f.throughput and b.throughput:
            add(
                f"burst throughput ≥ 0.8x baseline, N={n}",
                f"{_k(f.throughput)} vs {_k(b.throughput)} events/s",
                ratio(f.throughput, b.throughput),
                f.throughput >= 0.8 * b.throughput,
            )
        f, b = (
            find(results, "idle connections", "floor", n),
            find(results, "idle connections", "baseline", n),
        )
        if f and f.rss_per_conn is not None:
            add(
                f"idle connection ≤ 20 KB RSS, N={n}",
                f"{f.rss_per_conn / 1024:.1f} KB",
                ratio(f.rss_per_conn, b.rss_per_conn if b else None) + " baseline",
                f.rss_per_conn <= 20 * 1024,
            )
        f = find(results, "opening burst", "floor", n)
        if f:
            e = f.extra
            met = (
                f.correct
                and (e.get("all_acked_ms") or 9e9) <= 1000
                and (e.get("everyone_final_ms") or 9e9) <= 1000
                and e.get("order_inversions") == 0
            )
            add(
                f"opening burst ({min(plan.requesters, n)} requests in "
                f"{_ms(e.get('sent_within_ms'))} ms), N={n}",
                f"all acked in {_ms(e.get('all_acked_ms'))} ms, everyone has the list in "
                f"{_ms(e.get('everyone_final_ms'))} ms, order inversions "
                f"{e.get('order_inversions')}",
                "—",
                met,
            )
        f = find(results, "reconnect storm", "floor", n)
        b = find(results, "reconnect storm", "baseline", n)
        if f:
            secs = f.extra.get("all_resumed_s")
            add(
                f"reconnect storm, N={n}: all resumed, zero loss, ≤ 10 s",
                f"{f.extra.get('resumed')}/{n + plan.devices} resumed in {secs:.2f} s, "
                f"{f.delivered}/{f.expected} missed events delivered",
                ratio(secs, b.extra.get("all_resumed_s") if b else None) + " baseline",
                f.correct and f.extra.get("resumed") == n + plan.devices and (secs or 99) <= 10,
            )
    f = find(results, "slow consumers", "floor", plan.slow_n)
    if f:
        change = f.extra.get("p99_change_pct")
        closed = f.extra.get("slow_closed")
        slow_n = len(range(5, plan.slow_n, 10))
        add(
            f"slow consumers (10%), N={plan.slow_n}: others' p99 moves < 10%",
            f"{_ms(f.extra.get('others_p99_without_slow_ms'))} → {_ms(f.pct(0.99))} ms "
            f"({change:+.1f}%)"
            if change is not None
            else "—",
            "—",
            change is not None and change < 10,
        )
        codes = f.extra.get("closes", {})
        add(
            "slow ones closed 4008, resume cleanly",
            f"{codes.get('4008', 0)} of {slow_n} closed 4008; "
            f"{f.extra.get('slow_resumed')} resumed; zero loss: {f.correct}",
            "—",
            codes.get("4008", 0) == slow_n and f.correct and closed == slow_n,
        )
    one = find(results, "cluster fan-out (1 node)", "floor-1-node", plan.cluster_n)
    three = find(results, "cluster fan-out (3 nodes)", "floor-3-node", plan.cluster_n)
    if one and three and one.cost_us and three.cost_us:
        # each node's capacity is 1 / its CPU per delivery; on separate machines the
        # cluster's is the sum (here all nodes share the one server core)
        growth = 3 * one.cost_us / three.cost_us
        add(
            "three nodes on one Redis: one order; capacity (server CPU per delivery)",
            f"{three.cost_us:.2f} µs per delivery per node (3 nodes) vs {one.cost_us:.2f} µs "
            f"(1 node): {growth:.2f}x one node's capacity on 3 machines; one order: "
            f"{one.correct and three.correct}",
            ratio(three.cost_us, one.cost_us),
            growth >= 2.4 and one.correct and three.correct,
        )
    return "\n".join(lines)


# --- the report ------------------------------------------------------------------------------


def report(
    results: list[sc.Result], plan: Plan, command: str, loads: dict[str, Any], notes: list[str]
) -> str:
    today = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    notes_file = ROOT / "loadtests" / "NOTES.md"
    analysis = notes_file.read_text() if notes_file.exists() else ""
    return f"""# Benchmarks

Generated by `{command}` on {today}.

- Machine: {describe()}. The server is pinned to core 1, the load generator (its
  worker processes and the publishing chair) to core 0 (`os.sched_setaffinity`), over
  loopback (127.0.0.1).
- Load average (1/5/15 min) before the run: {loads["before"]}; after: {loads["after"]}.
  The machine is shared; compare the ratios (Floor against the baseline measured by the
  same generator in the same run), not the absolute figures.
- Baseline: `loadtests/baseline.py`, the `websockets` library's asyncio server writing
  each event's frame, built once per codec, to every connection's transport (`baseline`);
  `baseline-broadcast` uses `websockets.broadcast()`. Nothing durable, no rules.
- Floor: `floor serve` with the SQLite log (durable before ack, as in production), rate
  limits lifted (`FLOOR_COMMANDS_PER_S`) since one chair publishes for everyone.
- Clients: 90% JSON delegates, 10% msgpack, plus the chair that publishes; each checks
  every event's seq (no loss, duplicate or reordering).
- Latency: from the publisher's send to the receipt by the last client. Fan-out: {plan.rounds}
  chats to all (~200-byte frames), one after another; burst: {plan.burst} back to back
  (Floor group-commits them, so it sends fewer, larger frames: throughput is events
  delivered per second). Chat storm: {plan.storm_senders} delegates x {plan.storm_per_sender}
  chats within 2 s.

## Targets (issue 7)

{targets(results, plan)}

## All figures

{table(results)}

Other measurements:

{extras(results)}

{chr(10).join(f"- {n}" for n in notes)}

{analysis}
"""


async def amain(options: argparse.Namespace) -> int:
    plan = SMOKE if options.smoke else FULL
    if options.sizes:
        plan.sizes = tuple(int(s) for s in options.sizes.split(","))
    scratch = workdir()
    results: list[sc.Result] = []
    notes: list[str] = []
    loads = {"before": "{:.2f} {:.2f} {:.2f}".format(*load_average())}
    say(f"load average before: {loads['before']}; scratch {scratch}")
    started = time.monotonic()
    try:
        only = set(options.only.split(",")) if options.only else None
        if only is None or "main" in only:
            await run_main_scenarios(plan, scratch, results)
        if only is None or "slow" in only:
            await run_slow(plan, scratch, results)
            say(table([r for r in results if r.scenario.startswith("slow")]))
        if (only is None or "cluster" in only) and not options.no_cluster:
            try:
                why = await run_cluster(plan, scratch, results)
            except Exception as e:  # optional: the Redis mode may not be ready
                why = f"failed: {type(e).__name__}: {e}"
            if why:
                notes.append(f"Cluster scenario not run: {why}")
                say(f"cluster scenario skipped: {why}")
            else:
                say(table([r for r in results if r.scenario.startswith("cluster")]))
    except BaseException:
        say(f"failed: the servers' logs are in {scratch}")
        raise
    shutil.rmtree(scratch, ignore_errors=True)
    loads["after"] = "{:.2f} {:.2f} {:.2f}".format(*load_average())
    say(f"\nAll figures ({time.monotonic() - started:.0f} s; load after: {loads['after']})\n")
    say(table(results))
    say("\n" + targets(results, plan))
    say("\n" + extras(results))
    if options.write:
        command = "python -m loadtests.bench " + " ".join(sys.argv[1:])
        text = report(results, plan, command, loads, notes)
        await asyncio.to_thread(Path(options.write).write_text, text)
        say(f"wrote {options.write}")
    failed = [r for r in results if not r.correct]
    for r in failed:
        say(f"INCORRECT: {r.scenario} {r.target} N={r.n}: {r.problems}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--full", action="store_true", help="N = 2,000 and 5,000")
    size.add_argument("--smoke", action="store_true", help="N = 200, correctness only")
    parser.add_argument("--sizes", help="override N, comma-separated")
    parser.add_argument("--only", help="main,slow,cluster (default: all)")
    parser.add_argument("--no-cluster", action="store_true", help="skip the Redis cluster")
    parser.add_argument("--write", help="write the report here (--full: docs/benchmarks.md)")
    options = parser.parse_args()
    if options.full and options.write is None and not options.only and not options.sizes:
        options.write = str(ROOT / "docs" / "benchmarks.md")
    return asyncio.run(amain(options))


if __name__ == "__main__":
    sys.exit(main())
