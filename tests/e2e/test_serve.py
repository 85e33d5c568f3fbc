"""`floor serve` as the README's first command runs it: a generated admin token, the demo."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from tests.e2e.server import Client, Server


def links(log: str) -> dict[str, str]:
    """The demo's printed links and tokens, by who they are for."""
    found = dict(re.findall(r"^\s+(chair|display|observer):\s+(\S+)$", log, re.MULTILINE))
    found["device"] = re.findall(r"room device d-\d+ token: (\S+)", log)[-1]
    found["delegates"] = str(len(re.findall(r"/join#token=", log)) - 1)  # minus the observer
    return found


def token(link: str) -> str:
    return link.split("#token=", 1)[1]


@pytest.mark.asyncio
async def test_the_demo_prints_working_links_and_a_generated_admin_token(tmp_path: Path) -> None:
    """Without an admin token the server makes one (kept 0600, as the database), and the
    demo's links admit."""
    server = Server(tmp_path / "data", "--demo", admin_token=None).start()
    try:
        log = server.log.read_text()
        generated = re.search(r"Admin token \(generated.*\): (\S+)", log)
        assert generated is not None, log
        kept = server.data / "admin-token"
        assert kept.read_text().strip() == generated.group(1)
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        for name in ("floor.db", "floor.db-wal"):
            assert stat.S_IMODE((server.data / name).stat().st_mode) == 0o600, name
        found = links(log)
        assert found["delegates"] == "12"
        assert "/display?overlay=1#token=" in log
        async with Client.connect(server, token(found["chair"])) as chair:
            state = chair.welcome["state"]
            assert chair.welcome["you"]["role"] == "chair"
            roles = sorted(p["role"] for p in state["participants"].values())
            assert roles.count("delegate") == 12
            assert {"chair", "observer", "display"} <= set(roles)
            assert len(state["devices"]) == 1
        async with Client.connect(server, token(found["display"])) as display:
            assert display.welcome["you"]["role"] == "display"
        async with Client.connect(server, found["device"], codec="msgpack") as device:
            assert device.welcome["you"]["role"] == "device"
            seats = await device.next("seats")
            assert seats["live"] == []
    finally:
        server.close()


@pytest.mark.asyncio
async def test_a_restart_keeps_the_demo_meeting_and_the_admin_token(tmp_path: Path) -> None:
    """The second start reuses the demo meeting (its links still work) and the kept token."""
    server = Server(tmp_path / "data", "--demo", admin_token=None).start()
    try:
        first = links(server.log.read_text())
        server.stop()
        server.start()
        log = server.log.read_text()
        assert "Admin token: in" in log
        again = links(log.split("Admin token: in", 1)[1])
        assert again["chair"] == first["chair"]
        assert len(re.findall(r"^Demo meeting m-", log, re.MULTILINE)) == 2
        meetings = set(re.findall(r"^Demo meeting (m-\S+)", log, re.MULTILINE))
        assert len(meetings) == 1
        async with Client.connect(server, token(again["chair"])) as chair:
            assert chair.welcome["state"]["meeting"]["id"] in meetings
    finally:
        server.close()


def test_a_second_server_on_the_same_data_directory_refuses_to_start(tmp_path: Path) -> None:
    """Two servers on one data directory would miss each other's events: the second stops
    at once saying the directory is in use; the first goes on, and once it has stopped
    (even killed) the directory can be served again."""
    first = Server(tmp_path / "data").start()
    try:
        second = Server(tmp_path / "data")
        with pytest.raises(RuntimeError, match="is in use by another Floor server"):
            second.start()
        second.close()
        assert first.api.create_meeting("Still here").id
        first.kill()
        first.start()
        assert first.api.create_meeting("Served again").id
    finally:
        first.close()
