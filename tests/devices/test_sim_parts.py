"""The bridge's and the simulator's socket-free parts: backoff, frame decoding, the
simulated consoles and their view, and the simulator's command line refusals."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import msgpack
import pytest

from floor.devices.bridge import Backoff, decode, encode
from floor.devices.consoles import SimConsoles, render
from floor.devices.roster import Roster
from floor.devices.sim import main


def test_backoff_grows_exponentially_with_jitter_up_to_its_cap() -> None:
    backoff = Backoff(base_s=0.5, cap_s=8.0)
    rng = random.Random(1)
    for attempt, step in enumerate([0.5, 1, 2, 4, 8, 8, 8]):
        delays = [backoff.delay(attempt, rng) for _ in range(50)]
        assert all(step / 2 <= d <= step for d in delays)
        assert len(set(delays)) > 1  # jitter: a room of bridges does not reconnect in step
    assert backoff.delay(10_000, rng) <= 8.0


def test_a_frame_of_several_messages_decodes_to_all_of_them() -> None:
    frame = encode({"t": "event", "seq": 1}) + encode({"t": "seats", "seq": 1})
    assert [m["t"] for m in decode(frame)] == ["event", "seats"]


def test_bad_frames_are_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "floor.devices"):
        assert decode("text") == []
        assert decode(msgpack.packb([1, 2]) + encode({"t": "ack"})) == [{"t": "ack"}]
        assert decode(encode({"t": "ack"}) + b"\xc1") == [{"t": "ack"}]
    assert "text frame" in caplog.text
    assert "not a map" in caplog.text
    assert "undecodable" in caplog.text


def test_simulated_consoles_show_what_they_are_driven_to() -> None:
    consoles = SimConsoles()
    consoles.add(["A1", "A2", "A3"])
    consoles.set_microphone("A2", True)
    consoles.set_request("A3", 0)
    consoles.set_request("A1", 1)
    assert consoles.live == ["A2"]
    assert consoles.waiting == ["A3", "A1"]
    assert [consoles.showing(s) for s in ("A1", "A2", "A3", "Z9")] == [
        "waiting",
        "live",
        "waiting",
        "idle",
    ]
    consoles.restrict(["A2"])
    consoles.set_microphone("A1", True)  # not simulated any more: ignored
    assert list(consoles.consoles) == ["A2"]
    assert consoles.max_live == 1


def test_the_view_draws_each_console_with_its_occupant() -> None:
    consoles = SimConsoles()
    consoles.add(["A1", "A2", "A3"])
    consoles.set_microphone("A1", True)
    consoles.set_request("A2", 0)
    roster = Roster()
    roster.reset(
        {
            "participants": {
                "p-1": {"id": "p-1", "name": "Ana", "seat": "A1"},
                "p-2": {"id": "p-2", "name": "Bo", "seat": "A2", "self_muted": True},
            }
        }
    )
    plain = render("Room 1", consoles, roster, columns=2, colour=False)
    assert plain[0] == "Room 1"
    assert len(plain) == 3
    assert "A1 MIC" in plain[1]
    assert "Ana" in plain[1]
    assert "A2 mic R1" in plain[1]
    assert "(muted) Bo" in plain[1]
    assert "A3 mic" in plain[2]
    assert "—" in plain[2]
    coloured = render("Room 1", consoles, roster, colour=True)
    assert "\x1b[" in coloured[1]


def test_the_simulator_refuses_a_bad_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No token, a missing or bad scenario: exit status 2 and a message, before connecting."""
    monkeypatch.delenv("FLOOR_DEVICE_TOKEN", raising=False)
    bad = tmp_path / "bad.txt"
    bad.write_text("0 press A1 request\n1 jump\n")
    assert main(["--url", "ws://127.0.0.1:9/ws"]) == 2
    assert "a device token is needed" in capsys.readouterr().err
    assert main(["--url", "ws://127.0.0.1:9/ws", "--token", "t", "--scenario", str(bad)]) == 2
    assert "line 2: unknown step" in capsys.readouterr().err
    missing = tmp_path / "none.txt"
    assert main(["--url", "ws://127.0.0.1:9/ws", "--token", "t", "--scenario", str(missing)]) == 2
    assert "none.txt" in capsys.readouterr().err
