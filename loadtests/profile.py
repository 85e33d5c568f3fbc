"""Profile the server during the fan-out scenario with py-spy (`pip install py-spy`; root).

    .venv/bin/python -m loadtests.profile --n 2000 --target floor --out /tmp/floor-profile

Starts the server and N clients as the benchmark does, then records the server with
`py-spy record` while the chair publishes fan-out rounds and bursts; writes a flame graph
(`OUT.svg`) and collapsed stacks (`OUT.txt`), and prints the functions with the most
samples (own and inclusive).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
from pathlib import Path

from loadtests import scenarios as sc
from loadtests.bench import FULL, close_session, open_session
from loadtests.servers import workdir


def summarise(collapsed: Path, top: int = 25) -> str:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    lines = [f"{total} samples", "own:"]
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(top)]
    lines.append("inclusive:")
    lines += [f"  {100 * c / total:5.1f}%  {f}" for f, c in inclusive.most_common(top)]
    return "\n".join(lines)


async def amain(options: argparse.Namespace) -> None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    scratch = workdir()
    session, servers, _ = await open_session(options.target, options.n, FULL, scratch)
    out = Path(options.out)
    try:
        recorder = subprocess.Popen(  # noqa: ASYNC220 - py-spy runs beside the loop
            [
                spy,
                "record",
                "--pid",
                str(session.pids[0]),
                "--rate",
                "250",
                "--nonblocking",
                "--format",
                "raw",
                "-o",
                str(out.with_suffix(".txt")),
                "--duration",
                str(options.seconds),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        text = sc.text_of(60)
        for _ in range(100):  # bounded; stops when the recorder is done
            if recorder.poll() is not None:
                break
            if options.opening:
                opening = await sc.opening_burst(session, 1000)
                cpu = f"server {opening.server_cpu:.0f}%, load {opening.load_cpu:.0f}%"
                print(f"opening burst: {opening.extra}; {cpu}", flush=True)
            elif options.burst:
                burst = await sc.fan_out_burst(session, 100, text)
                print(f"burst {burst.throughput:.0f} events/s", flush=True)
            else:
                rounds, _ = await sc.fan_out_rounds(session, 50, text)
                print(f"rounds p50 {rounds.pct(0.5):.1f} p99 {rounds.pct(0.99):.1f} ms", flush=True)
        recorder.wait(60)
    finally:
        await close_session(session, servers)
        shutil.rmtree(scratch, ignore_errors=True)
    print(summarise(out.with_suffix(".txt")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--target", default="floor")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--burst", action="store_true", help="bursts instead of rounds")
    parser.add_argument("--opening", action="store_true", help="opening bursts instead")
    parser.add_argument("--out", default="/tmp/floor-profile")
    asyncio.run(amain(parser.parse_args()))


if __name__ == "__main__":
    main()
