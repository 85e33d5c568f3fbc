"""The web client's event folding (web_client/js/state.js) gives exactly the server's snapshot.

A meeting is built through the pure core (decide/evolve), exercising every event type; for
several viewers (chair, delegate, display) the events each may see are recorded as wire
messages, and `node --test web_client/tests/` folds them from the welcome snapshot (and from
the empty state) and compares the result with `views.snapshot` at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from floor.state import Event, wire
from floor.state.events import EVENT_TYPES
from floor.state.model import Role
from floor.state.views import Viewer, event_visible, snapshot
from tests.state.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")


def meeting() -> tuple[Scenario, dict[str, Viewer], int]:
    """A meeting whose log holds every event type; the viewers; the seq of the mid-snapshot."""
    m = Scenario("Committee", default_limit_s=60)
    chair = m.add("Chair", "Bureau", role="chair", lang="en")
    ana = m.add("Ana <b>", "France", seat="A1", lang="fr")
    bo = m.add("Bo", "Germany", seat="A2", lang="de")
    cy = m.add("Cy", "Chile", lang="es")
    dee = m.add("Dee", "Denmark")
    obs = m.add("Olga", "NGO", role="observer")
    screen = m.add("Screen", "Secretariat", role="display")
    m.device("Hall", ["A1", "A2", "A3"])
    m.admin("participant.update", {"participant": cy, "seat": "A3", "attendance": "onsite"})
    m.given(chair, "seat.assign", {"seat": "A2", "participant": dee})  # Bo loses A2
    m.given(chair, "seat.assign", {"seat": "A3", "participant": None})
    m.given(chair, "chat.send", {"to": "all", "text": "Welcome, <i>delegates</i>"})
    mid = m.state.seq

    m.given(ana, "floor.request", {"lang": "fr"})
    m.given(bo, "floor.request")
    m.given(cy, "floor.request", {"kind": "reply"})
    m.given(dee, "floor.request")
    m.given(chair, "floor.move", {"request": m.state.queue[2].id, "position": 0})
    m.given(dee, "floor.withdraw")
    m.given(chair, "floor.grant", {})
    m.tick(5_000)
    m.given(chair, "floor.pause")
    m.tick(1_234)
    m.given(chair, "floor.unpause")
    m.given(chair, "floor.extend", {"seconds": 30})
    m.tick(2_000)
    m.given(dee, "floor.request", {"kind": "point_of_order"})
    m.given(chair, "floor.grant", {})  # the point of order interrupts
    m.tick(3_000)
    m.given(ana, "chat.send", {"to": bo, "text": "<img src=x onerror=alert(1)>"})
    m.given(ana, "chat.send", {"to": cy, "text": "between us"})
    m.given(bo, "chat.send", {"to": "chair", "text": "to the chair"})
    m.given(chair, "chat.send", {"to": ana, "text": "chair to Ana"})
    public = m.when(obs, "chat.send", {"to": "all", "text": "observer to all"})[0]
    m.given(chair, "chat.delete", {"message": public.data.message})  # type: ignore[union-attr]
    m.given(dee, "floor.release")  # the interrupted speaker resumes
    m.tick(120_000)
    m.expire()
    m.given(chair, "list.close")
    m.given(dee, "floor.request", {"kind": "reply"})
    m.given(chair, "list.open")
    m.given(chair, "queue.clear")
    m.given(ana, "mute.set", {"muted": True})
    m.given(chair, "mute.set", {"participant": bo, "muted": True})
    m.given(chair, "mute.all", {"except": [dee]})
    m.given(chair, "meeting.set_status", {"status": "suspended"})
    m.given(chair, "meeting.set_status", {"status": "open"})
    m.given(dee, "floor.request")
    m.given(bo, "floor.request")
    m.admin("participant.remove", {"participant": bo})  # queued: withdrawn with them
    m.given(chair, "settings.update", {"floor_mode": "auto", "observers_may_speak": True})
    m.admin("participant.remove", {"participant": m.speaker()})  # the speaker leaves
    m.given(obs, "floor.request")
    m.admin("participant.add", {"name": "Eve", "delegation": "Estonia", "role": "delegate"})

    viewers = {
        "chair": Viewer(chair, Role.CHAIR),
        "delegate": Viewer(ana, Role.DELEGATE),
        "other": Viewer(cy, Role.DELEGATE),
        "display": Viewer(screen, Role.DISPLAY),
    }
    return m, viewers, mid


def fixture(m: Scenario, viewer: Viewer, mid: int) -> dict[str, Any]:
    from floor.state import fold

    def visible(events: list[Event]) -> list[dict[str, Any]]:
        return [wire.event_to_wire(e) for e in events if event_visible(e.data, viewer)]

    at_mid = fold(m.log[:mid])
    return {
        "viewer": viewer.id,
        "from_empty": visible(m.log),
        "state": snapshot(at_mid, viewer),
        "seq": mid,
        "events": visible(m.log[mid:]),
        "expected": snapshot(m.state, viewer),
    }


def test_the_recorded_meeting_has_every_event_type() -> None:
    m, _, _ = meeting()
    seen = {e.name for e in m.log}
    assert seen == {cls.name for cls in EVENT_TYPES}


def test_node_folds_every_event_to_the_servers_snapshot(tmp_path: Path) -> None:
    """state.js applied in Node to each viewer's events gives the server's snapshot."""
    m, viewers, mid = meeting()
    fixtures = {name: fixture(m, viewer, mid) for name, viewer in viewers.items()}
    assert fixtures["chair"]["expected"]["chat"] != fixtures["delegate"]["expected"]["chat"]
    path = tmp_path / "streams.json"
    path.write_text(json.dumps(fixtures, ensure_ascii=False))
    assert NODE is not None, "node is needed (scripts/install installs it)"
    result = subprocess.run(
        [NODE, "--test", str(ROOT / "web_client" / "tests")],
        env={**os.environ, "FLOOR_STATE_FIXTURE": str(path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout
    assert "# skipped 0" in result.stdout
    for name in fixtures:
        assert f"- {name}: welcome snapshot + events = server snapshot" in result.stdout
        assert f"- {name}: empty state + every event = server snapshot" in result.stdout
