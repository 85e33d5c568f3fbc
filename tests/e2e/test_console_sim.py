"""`floor console-sim` against a real server, alongside browsers: one meeting, one list.

The simulator (a subprocess, `--quiet`) plays a scenario on Room A's consoles while a
remote delegate asks for the floor from a browser-like JSON client and the chair grants
it from another; the console's microphone goes live when the chair gives it the floor,
and its microphone button yields.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests.e2e.halls import make_hall, named
from tests.e2e.peers import all_events
from tests.e2e.server import Client, Server

pytestmark = pytest.mark.asyncio

SCENARIO = """\
# Ana and Bo press request-to-speak; Ana waits for the floor, speaks, yields.
0     press A01 request
+0    wait A01 waiting 20
+0.1  press A02 request
+0    wait A02 waiting 20
+0    wait A01 live 30          # the chair's grant
+0.2  press A01 mic             # yields
+0    wait A01 idle 20
+0    press A03 request         # an empty seat: not_found, counted
"""


async def test_console_sim_and_browsers_run_one_meeting_with_one_list(
    shared_server: Server, tmp_path: Path
) -> None:
    hall = make_hall(shared_server)
    scenario = tmp_path / "room-a.txt"
    scenario.write_text(SCENARIO)
    sim = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "floor",
        "console-sim",
        "--url",
        shared_server.ws_url,
        f"--token={hall.token('A')}",  # `=`: a token may begin with "-"
        "--scenario",
        str(scenario),
        "--quiet",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with (
            Client.connect(shared_server, hall.token("chair")) as chair,
            Client.connect(shared_server, hall.token("remote")) as remote,
        ):
            # the remote delegate asks once the room's first request is in the list
            await remote.next("event", timeout=20, name="floor.requested")
            assert (await remote.command("floor.request", {}))["t"] == "ack"
            queue_seen: list[tuple[str, str]] = []
            while len(queue_seen) < 3:
                event = await chair.next("event", timeout=20, name="floor.requested")
                queue_seen.append((event["data"]["participant"], event["data"]["via"]))
            assert queue_seen[0] == (hall.id("ana"), "seat")
            assert sorted(queue_seen[1:]) == sorted(
                [(hall.id("remote"), "browser"), (hall.id("bo"), "seat")]
            )
            state = hall.meeting.state()["state"]
            assert [r["participant"] for r in state["queue"]] == [p for p, _ in queue_seen]
            assert (await chair.command("floor.grant", {}))["t"] == "ack"  # Ana, the head
            released = await chair.next("event", timeout=20, name="floor.released")
            assert released["by"] == hall.id("A")
            assert released["data"]["reason"] == "yielded"
        out, err = await asyncio.wait_for(sim.communicate(), 30)
    finally:
        if sim.returncode is None:
            sim.kill()
            await sim.wait()
    assert sim.returncode == 0, err.decode()
    summary = json.loads(out.decode().strip().splitlines()[-1])
    (room,) = summary["rooms"]
    assert summary["ok"] is True
    assert room["device"] == hall.id("A")
    assert room["presses"] == 4
    assert room["acked"] == 3
    assert room["refused"] == {"not_found": 1}
    assert room["live"] == []
    assert room["waiting"] == ["A02"]
    assert room["max_live"] == 1
    events = all_events(hall.meeting)
    by_room = [e for e in events if e["by"] == hall.id("A")]
    assert [e["name"] for e in by_room] == ["floor.requested", "floor.requested", "floor.released"]
    assert all(e["data"]["via"] == "seat" for e in named(by_room, "floor.requested"))
    (browser,) = named(events, "floor.requested", via="browser")
    assert browser["by"] == hall.id("remote")
    remaining = hall.meeting.state()["state"]["queue"]
    assert {r["participant"] for r in remaining} == {hall.id("remote"), hall.id("bo")}


async def test_console_sim_is_a_load_source_for_several_rooms(
    shared_server: Server, tmp_path: Path
) -> None:
    """Two rooms at 20 presses/s each for a second: every press answered, one floor."""
    hall = make_hall(shared_server)
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{hall.token('A')}\n{hall.token('B')}\n")
    sim = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "floor.devices.sim",
        "--url",
        shared_server.ws_url,
        "--tokens-file",
        str(tokens),
        "--rate",
        "20",
        "--duration",
        "1",
        "--seed",
        "7",
        "--quiet",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(sim.communicate(), 60)
    assert sim.returncode == 0, err.decode()
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert [room["device"] for room in summary["rooms"]] == [hall.id("A"), hall.id("B")]
    for room in summary["rooms"]:
        assert room["presses"] >= 15
        assert room["acked"] + sum(room["refused"].values()) == room["presses"]
        assert set(room["refused"]) <= {"not_found", "conflict"}
        assert room["pending"] == 0
    requested = named(all_events(hall.meeting), "floor.requested")
    assert {e["by"] for e in requested} == {hall.id("A"), hall.id("B")}


async def test_console_sim_draws_the_room_and_follows_the_meeting_until_terminated(
    shared_server: Server,
) -> None:
    """Without a scenario or load, the simulator shows the room's consoles (ANSI redraw)
    and follows the meeting; SIGTERM ends it cleanly with its summary."""
    hall = make_hall(shared_server)
    sim = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "floor",
        "console-sim",
        "--url",
        shared_server.ws_url,
        f"--token={hall.token('A')}",  # `=`: a token may begin with "-"
        "--consoles",
        "2",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout = sim.stdout
    assert stdout is not None
    seen = b""

    async def read_until(*wanted: bytes) -> None:
        nonlocal seen
        async with asyncio.timeout(20):
            while not all(w in seen for w in wanted):
                chunk = await stdout.read(4096)
                assert chunk, "the simulator ended early"
                seen += chunk

    try:
        await read_until(b"Ana", b"online")
        async with Client.connect(shared_server, hall.token("chair")) as chair:
            answer = await chair.command("floor.request", {"participant": hall.id("bo")})
            assert answer["t"] == "ack"
            await read_until(b"R1")
        sim.terminate()
        out, err = await asyncio.wait_for(sim.communicate(), 20)
    finally:
        if sim.returncode is None:
            sim.kill()
            await sim.wait()
    assert sim.returncode == 0, err.decode()
    assert b"\x1b[H\x1b[2J" in seen
    assert b"A03" not in seen  # --consoles 2: A01 and A02 only
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["rooms"][0]["waiting"] == ["A02"]


async def test_sigterm_cuts_a_scenario_short_with_a_failure(
    shared_server: Server, tmp_path: Path
) -> None:
    """A scenario waiting for a grant that never comes: SIGTERM ends it at once, status 1.
    (The token comes from the environment, out of the process list.)"""
    hall = make_hall(shared_server)
    scenario = tmp_path / "never.txt"
    scenario.write_text("0 press A01 request\n+0 wait A01 live 120\n")
    sim = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "floor.devices.sim",
        "--url",
        shared_server.ws_url,
        "--scenario",
        str(scenario),
        "--quiet",
        "--log-level",
        "info",
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "FLOOR_DEVICE_TOKEN": hall.token("A")},
    )
    stderr = sim.stderr
    assert stderr is not None
    said = b""
    try:
        async with asyncio.timeout(20):
            while b"online as" not in (line := await stderr.readline()):
                said += line
                assert line, f"the simulator ended early: {said.decode()}"
        sim.terminate()
        assert await asyncio.wait_for(sim.wait(), 20) == 1
    finally:
        if sim.returncode is None:
            sim.kill()
            await sim.wait()
