"""Snapshots: a whole State as a plain map and back, exactly."""

from __future__ import annotations

import json

import pytest

from floor.state import fold
from floor.state.persist import state_from_record, state_to_record
from tests.state.scenario import Scenario


def busy_meeting() -> Scenario:
    m = Scenario(floor_mode="manual", default_limit_s=60)
    chair = m.add("Chair", "UN", role="chair")
    ana = m.add("Ana", "FR", seat="A1", lang="fr")
    bo = m.add("Bo", "DE")
    cy = m.add("Cy", "BR")
    m.device("Room", ["A1", "A2"])
    m.given(ana, "floor.request", cid="c1")
    m.given(bo, "floor.request", {"kind": "reply"})
    m.given(chair, "floor.grant", {})
    m.tick(5_000)
    m.given(cy, "floor.request", {"kind": "point_of_order"})
    m.given(chair, "floor.grant", {})
    m.given(chair, "mute.set", {"participant": bo, "muted": True})
    m.given(ana, "chat.send", {"to": "all", "text": "Bonjour"})
    m.given(bo, "chat.send", {"to": chair, "text": "privately"})
    m.given(chair, "list.close")
    return m


def test_a_snapshot_round_trips_exactly() -> None:
    """state_from_record(state_to_record(s)) == s, through JSON, for a busy meeting."""
    m = busy_meeting()
    record = json.loads(json.dumps(state_to_record(m.state)))
    assert state_from_record(record) == m.state


def test_folding_the_tail_after_a_snapshot_gives_the_same_state() -> None:
    """Starting from a snapshot at seq N and folding the rest equals folding everything."""
    m = busy_meeting()
    middle = fold(m.log[:10])
    restored = state_from_record(json.loads(json.dumps(state_to_record(middle))))
    assert fold(m.log[10:], restored) == m.state


def test_the_empty_state_round_trips() -> None:
    """A state before the meeting exists (no meeting, no floor) round-trips too."""
    empty = fold([])
    assert state_from_record(state_to_record(empty)) == empty


def test_an_unknown_snapshot_format_is_refused() -> None:
    """A snapshot written by another format version is not misread."""
    record = state_to_record(busy_meeting().state)
    record["format"] = 99
    with pytest.raises(ValueError, match="format"):
        state_from_record(record)
