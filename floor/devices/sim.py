"""The console simulator: a room (or several) of conference consoles on reference bridges.

    floor console-sim --url ws://HOST:PORT/ws --token DEVICE_TOKEN [--scenario FILE]
    python -m floor.devices.sim …                       (the same)

Each `--token` is one room: a `Bridge` over msgpack driving `SimConsoles`, its consoles the
seats of the device's room (the first `--consoles N` of them, if given). It then
- plays a scenario file (`floor.devices.scenario`: presses and waits with timings), and/or
- generates load: `--rate R` presses per second per room for `--duration S` seconds,
  random request-to-speak toggles and microphone releases on the room's consoles,
- or, with neither, follows the meeting until interrupted;
while drawing the rooms in the terminal (plain ANSI redraw), or nothing with `--quiet`.
At the end it waits until every press is answered and prints one JSON summary line.

Exit status: 0 when every wait was met, every press answered and no bridge was stopped by
its close code; 1 otherwise (or when interrupted during a scenario or a load run: SIGTERM
ends a follower cleanly); 2 for a bad command line or scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TextIO

from floor.devices.bridge import Backoff, Bridge
from floor.devices.consoles import SimConsoles, render
from floor.devices.hardware import Button
from floor.devices.scenario import ScenarioError, ScriptedPress, Step, Wait, parse

logger = logging.getLogger("floor.devices.sim")

CLIENT: Final = "floor-console-sim/1"
CLEAR: Final = "\x1b[H\x1b[2J"
REDRAW_S: Final = 0.1


@dataclass(eq=False)
class SimRoom:
    """One simulated room: its bridge and its consoles."""

    number: int
    bridge: Bridge
    consoles: SimConsoles
    presses: int = 0

    @property
    def stopped(self) -> bool:
        return self.bridge.stopped is not None

    def online_or_stopped(self) -> bool:
        return self.bridge.online or self.stopped

    def settled_or_stopped(self) -> bool:
        return self.bridge.link.settled or self.stopped

    def title(self) -> str:
        link = self.bridge.link
        return (
            f"Room {self.number} · device {link.device or '?'} · {link.phase.value}"
            f" · seq {link.seq} · presses {self.presses} · pending {len(link.presses)}"
            f" · refused {sum(link.refused.values())}"
        )

    def summary(self) -> dict[str, Any]:
        link = self.bridge.link
        return {
            "device": link.device,
            "presses": self.presses,
            "acked": link.acked,
            "refused": dict(link.refused),
            "dropped": link.presses.dropped,
            "pending": len(link.presses),
            "connections": self.bridge.connections,
            "live": self.consoles.live,
            "waiting": self.consoles.waiting,
            "max_live": self.consoles.max_live,
            "stopped": self.bridge.stopped.explanation if self.bridge.stopped else None,
        }


class Recent(logging.Handler):
    """Keeps the last log lines, for the terminal view."""

    def __init__(self, size: int = 5) -> None:
        super().__init__()
        self.lines: deque[str] = deque(maxlen=size)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


# --- the command line ------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="the server's websocket, ws://HOST:PORT/ws")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        help="a device token: one room (repeat; write --token=T, as a token may begin with -)",
    )
    parser.add_argument("--tokens-file", type=Path, help="device tokens, one per line")
    parser.add_argument("--scenario", type=Path, help="a scenario file to play")
    parser.add_argument(
        "--consoles", type=int, help="simulate the first N seats of each room (default: all)"
    )
    parser.add_argument("--rate", type=float, default=0.0, help="load: presses/s per room")
    parser.add_argument("--duration", type=float, default=10.0, help="load: seconds (10)")
    parser.add_argument("--seed", type=int, default=None, help="load: random seed")
    parser.add_argument(
        "--pace", type=float, default=15.0, help="commands/s sent per room at most (15)"
    )
    parser.add_argument("--queue", type=int, default=256, help="presses kept while offline")
    parser.add_argument(
        "--connect-timeout", type=float, default=15.0, help="seconds to get every room online"
    )
    parser.add_argument("--quiet", action="store_true", help="no terminal view")
    parser.add_argument("--no-colour", dest="colour", action="store_false", help="no ANSI colour")
    parser.add_argument("--log-level", default=None, help="log level (default warning)")


def _tokens(options: argparse.Namespace) -> list[str]:
    """The device tokens: --token, --tokens-file, and FLOOR_DEVICE_TOKEN (which keeps a
    token out of the process list)."""
    tokens: list[str] = list(options.token)
    from_environment = os.environ.get("FLOOR_DEVICE_TOKEN", "").strip()
    if from_environment:
        tokens.append(from_environment)
    if options.tokens_file is not None:
        text = options.tokens_file.read_text()
        tokens.extend(line.strip() for line in text.splitlines() if line.strip())
    return tokens


def run(options: argparse.Namespace) -> int:
    """`floor console-sim`: validate the options and simulate; the exit status."""
    try:
        tokens = _tokens(options)
        steps = parse(options.scenario.read_text()) if options.scenario is not None else []
    except (OSError, ScenarioError) as e:
        print(f"console-sim: {e}", file=sys.stderr)
        return 2
    if not tokens:
        print(
            "console-sim: a device token is needed (--token, --tokens-file, FLOOR_DEVICE_TOKEN)",
            file=sys.stderr,
        )
        return 2
    level = (options.log_level or "warning").upper()
    recent = Recent()
    if options.quiet:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    else:
        recent.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logging.basicConfig(level=level, handlers=[recent])
    try:
        return asyncio.run(simulate(options, tokens, steps, recent))
    except (KeyboardInterrupt, asyncio.CancelledError):
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m floor.devices.sim", description=__doc__.split("\n", 1)[0]
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


# --- the simulation ------------------------------------------------------------------------


async def simulate(
    options: argparse.Namespace, tokens: list[str], steps: list[Step], recent: Recent
) -> int:
    rooms = [
        SimRoom(
            number,
            Bridge(
                options.url,
                token,
                consoles := SimConsoles(),
                client=CLIENT,
                queue_limit=options.queue,
                backoff=Backoff(base_s=0.2, cap_s=10.0),
                commands_per_s=options.pace,
                burst=max(1, int(options.pace)),
            ),
            consoles,
        )
        for number, token in enumerate(tokens, 1)
    ]
    stop = asyncio.Event()
    following = not steps and options.rate <= 0
    main_task = asyncio.current_task()
    assert main_task is not None

    def terminate() -> None:
        """SIGTERM: a follower ends cleanly; a scenario or a load run is cut short."""
        stop.set()
        if not following:
            main_task.cancel()

    with contextlib.suppress(NotImplementedError):  # not on Windows
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminate)
    ok = False
    async with asyncio.TaskGroup() as tasks:
        for room in rooms:
            tasks.create_task(room.bridge.run())
        view = None
        if not options.quiet:
            view = tasks.create_task(_view(rooms, recent, sys.stdout, options.colour))
        try:
            ok = await _play(rooms, steps, options, stop)
        finally:
            for room in rooms:
                room.bridge.stop()
            if view is not None:
                view.cancel()
    if view is not None:
        _draw(rooms, recent, sys.stdout, options.colour)
    summary = {"ok": ok, "rooms": [room.summary() for room in rooms]}
    print(json.dumps(summary), flush=True)
    return 0 if ok else 1


async def _play(
    rooms: list[SimRoom], steps: list[Step], options: argparse.Namespace, stop: asyncio.Event
) -> bool:
    """Bring the rooms online, play the scenario and the load; whether all went well."""
    for room in rooms:
        bridge = room.bridge
        try:
            await bridge.wait_for(room.online_or_stopped, options.connect_timeout)
        except TimeoutError:
            logger.error("room %d: not online within %s s", room.number, options.connect_timeout)
            return False
        if room.stopped:
            return False
        if options.consoles is not None:
            room.consoles.restrict(bridge.link.room[: options.consoles])
        else:
            room.consoles.add(bridge.link.room)
    async with asyncio.TaskGroup() as tasks:
        played = tasks.create_task(_scenario(rooms, steps))
        if options.rate > 0:
            for room in rooms:
                seed = None if options.seed is None else options.seed + room.number
                tasks.create_task(_load(room, options.rate, options.duration, seed))
    ok = played.result()
    if not steps and options.rate <= 0:
        await stop.wait()  # follow the meeting until interrupted
    for room in rooms:
        try:
            await room.bridge.wait_for(room.settled_or_stopped, 30.0)
        except TimeoutError:
            logger.error(
                "room %d: %d presses unanswered", room.number, len(room.bridge.link.presses)
            )
            ok = False
    return ok and not any(room.stopped for room in rooms)


def _room_of(rooms: list[SimRoom], seat: str | None) -> SimRoom:
    for room in rooms:
        if seat in room.bridge.link.room:
            return room
    return rooms[0]


async def _scenario(rooms: list[SimRoom], steps: list[Step]) -> bool:
    loop = asyncio.get_running_loop()
    start = last = loop.time()
    for step in steps:
        due = (last if step.relative else start) + step.at
        if due > loop.time():
            await asyncio.sleep(due - loop.time())  # the scenario's timeline
        room = _room_of(rooms, step.seat)
        if isinstance(step, ScriptedPress):
            room.bridge.press(step.seat, step.button, kind=step.kind, muted=step.muted)
            room.presses += 1
        elif not await _wait(room, step):
            return False
        last = loop.time()
    return True


async def _wait(room: SimRoom, step: Wait) -> bool:
    seat, showing = step.seat, step.showing

    def met() -> bool:
        if room.stopped:
            return True
        if seat is None or showing is None:
            return room.bridge.link.settled
        return room.consoles.showing(seat) == showing.value

    try:
        await room.bridge.wait_for(met, step.timeout_s)
    except TimeoutError:
        what = "settled" if seat is None or showing is None else f"{seat} {showing.value}"
        logger.error("wait %s: not met within %s s", what, step.timeout_s)
        return False
    return not room.stopped


async def _load(room: SimRoom, rate: float, duration: float, seed: int | None) -> None:
    """Random presses at `rate` per second for `duration` seconds."""
    rng = random.Random(seed)
    seats = list(room.consoles.consoles)
    if not seats:
        logger.warning("room %d has no consoles to press", room.number)
        return
    loop = asyncio.get_running_loop()
    end = loop.time() + duration
    due = loop.time()
    while due < end:
        live = [s for s in room.consoles.live if s in seats]
        if live and rng.random() < 0.2:
            room.bridge.press(rng.choice(live), Button.MIC)
        else:
            room.bridge.press(rng.choice(seats), Button.REQUEST)
        room.presses += 1
        due += 1 / rate
        await asyncio.sleep(max(0.0, due - loop.time()))  # the load's timeline


# --- the terminal view -------------------------------------------------------------------------


def _draw(rooms: list[SimRoom], recent: Recent, out: TextIO, colour: bool) -> str:
    lines: list[str] = []
    for room in rooms:
        lines.extend(render(room.title(), room.consoles, room.bridge.link.roster, colour=colour))
        lines.append("")
    lines.extend(recent.lines)
    text = "\n".join(lines)
    out.write(CLEAR + text + "\n")
    out.flush()
    return text


async def _view(rooms: list[SimRoom], recent: Recent, out: TextIO, colour: bool) -> None:
    """Redraw the rooms whenever they change (at most every REDRAW_S seconds)."""
    shown = None
    while True:
        frame = "\n".join(
            [room.title() for room in rooms]
            + [repr(room.consoles.consoles) for room in rooms]
            + list(recent.lines)
        )
        if frame != shown:
            _draw(rooms, recent, out, colour)
            shown = frame
        await asyncio.sleep(REDRAW_S)  # a refresh tick, not a wait for a condition


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
