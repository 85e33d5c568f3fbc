"""The offline press queue: bounded, ordered, with ids that survive reconnects."""

from __future__ import annotations

import logging

import pytest

from floor.devices.hardware import Button
from floor.devices.presses import PressQueue, command_for


def test_each_button_becomes_its_seat_command() -> None:
    assert command_for("A1", Button.REQUEST, kind=None, muted=None) == (
        "seat.request",
        {"seat": "A1"},
    )
    assert command_for("A1", Button.REQUEST, kind="reply", muted=None) == (
        "seat.request",
        {"seat": "A1", "kind": "reply"},
    )
    assert command_for("A1", Button.MIC, kind=None, muted=None) == ("seat.release", {"seat": "A1"})
    assert command_for("A1", Button.MUTE, kind=None, muted=True) == (
        "seat.mute",
        {"seat": "A1", "muted": True},
    )
    with pytest.raises(ValueError, match="muted"):
        command_for("A1", Button.MUTE, kind=None, muted=None)


def test_ids_are_unique_within_and_across_queues() -> None:
    """A random prefix per queue: a restarted bridge never reuses an acknowledged id."""
    a, b = PressQueue(), PressQueue()
    ids = [a.add("A1", Button.REQUEST).id for _ in range(3)] + [b.add("A1", Button.REQUEST).id]
    assert len(set(ids)) == 4
    assert a.prefix != b.prefix
    assert all(0 < len(i) <= 64 for i in ids)


def test_presses_wait_in_order_until_answered() -> None:
    q = PressQueue(prefix="t")
    first = q.add("A1", Button.REQUEST)
    second = q.add("A2", Button.MIC)
    assert [p.id for p in q.unsent()] == ["t-1", "t-2"]
    first.sent = True
    assert [p.id for p in q.unsent()] == ["t-2"]
    assert q.settle("t-1") is first
    assert q.settle("t-1") is None
    assert "t-2" in q
    assert [p.id for p in q] == [second.id]
    assert first.message() == {
        "t": "cmd",
        "id": "t-1",
        "name": "seat.request",
        "args": {"seat": "A1"},
    }


def test_a_disconnect_makes_every_unanswered_press_unsent_again() -> None:
    q = PressQueue(prefix="t")
    for seat in ("A1", "A2"):
        q.add(seat, Button.REQUEST).sent = True
    q.disconnected()
    assert [p.id for p in q.unsent()] == ["t-1", "t-2"]


def test_past_the_bound_the_oldest_press_is_dropped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    q = PressQueue(limit=2, prefix="t")
    with caplog.at_level(logging.WARNING, "floor.devices"):
        for seat in ("A1", "A2", "A3"):
            q.add(seat, Button.REQUEST)
    assert [p.seat for p in q] == ["A2", "A3"]
    assert q.dropped == 1
    assert "dropped the press t-1 at seat A1" in caplog.text


def test_a_queue_holds_at_least_one_press() -> None:
    with pytest.raises(ValueError, match="at least one"):
        PressQueue(limit=0)
