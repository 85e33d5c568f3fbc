"""The reconciler drives the hardware to the server's `seats`: close before open, in full
after a reconnect, never two live seats the server did not ask for."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from floor.devices.hardware import BadSeats, Reconciler, Seats
from tests.devices.recording import Recording

ROOM = ("A1", "A2", "A3")


def seats(seq: int, live: tuple[str, ...] = (), waiting: tuple[str, ...] = ()) -> Seats:
    return Seats(seq, live, waiting)


def test_the_first_seats_sets_every_console_of_the_room() -> None:
    """Before any belief, every seat is set: mics closed, request LEDs, then the live mic."""
    hw = Recording()
    r = Reconciler(hw, ROOM)
    r.apply(seats(5, live=("A2",), waiting=("A3",)))
    assert hw.calls == [
        ("mic", "A1", False),
        ("mic", "A3", False),
        ("request", "A1", None),
        ("request", "A2", None),
        ("request", "A3", 0),
        ("mic", "A2", True),
    ]
    assert r.in_step


def test_the_floor_moving_closes_the_old_mic_before_opening_the_new() -> None:
    """A → B: A's microphone closes first; nothing else is touched."""
    hw = Recording()
    r = Reconciler(hw, ROOM)
    r.apply(seats(1, live=("A1",), waiting=("A2",)))
    hw.calls.clear()
    r.apply(seats(2, live=("A2",)))
    assert hw.calls == [("mic", "A1", False), ("request", "A2", None), ("mic", "A2", True)]
    assert hw.max_live == 1


def test_an_unchanged_seats_makes_no_call() -> None:
    hw = Recording()
    r = Reconciler(hw, ROOM)
    r.apply(seats(1, live=("A1",), waiting=("A2", "A3")))
    hw.calls.clear()
    r.apply(seats(2, live=("A1",), waiting=("A2", "A3")))
    assert hw.calls == []


def test_request_leds_follow_the_queue_positions() -> None:
    """The waiting seats' positions are the queue order; a granted seat's LED goes out."""
    hw = Recording()
    r = Reconciler(hw, ROOM)
    r.apply(seats(1, waiting=("A3", "A1")))
    assert hw.waiting == ["A3", "A1"]
    hw.calls.clear()
    r.apply(seats(2, live=("A3",), waiting=("A1",)))
    assert ("request", "A3", None) in hw.calls
    assert ("request", "A1", 0) in hw.calls
    assert hw.waiting == ["A1"]


def test_after_forget_every_console_is_driven_again() -> None:
    """A reconnect: whatever the consoles show now, they end as the server says."""
    hw = Recording()
    r = Reconciler(hw, ROOM)
    r.apply(seats(1, live=("A1",)))
    hw.live = {"A1", "A3"}  # someone opened A3 locally while the bridge was offline
    r.forget()
    assert not r.in_step
    r.apply(seats(9, live=("A1",)))
    assert hw.live == {"A1"}
    assert ("mic", "A3", False) in hw.calls


def test_seats_outside_the_known_room_are_driven_too() -> None:
    """A room not known yet (no welcome state): the seats named are still driven."""
    hw = Recording()
    Reconciler(hw).apply(seats(1, live=("B7",), waiting=("B2",)))
    assert hw.live == {"B7"}
    assert hw.waiting == ["B2"]


def test_a_hardware_fault_is_logged_and_the_next_drive_is_full(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hw = Recording(fail_on="A2")
    r = Reconciler(hw, ROOM)
    with caplog.at_level(logging.ERROR, "floor.devices"):
        r.apply(seats(1, live=("A1",)))
    assert "hardware failed" in caplog.text
    assert not r.in_step
    hw.fail_on = None
    hw.calls.clear()
    r.drive()
    assert {c[1] for c in hw.calls if c[0] == "mic"} == set(ROOM)
    assert r.in_step


def test_nothing_is_driven_before_the_first_seats() -> None:
    hw = Recording()
    Reconciler(hw, ROOM).drive()
    assert hw.calls == []


@given(
    st.lists(
        st.tuples(
            st.sampled_from([(), ("A1",), ("A2",), ("A3",), ("B9",)]),
            st.permutations(["A1", "A2", "A3"]).map(tuple),
            st.integers(0, 3),
            st.booleans(),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_never_two_live_mics_for_one_floor_and_always_in_step(
    steps: list[tuple[tuple[str, ...], tuple[str, ...], int, bool]],
) -> None:
    """Any sequence of one-speaker `seats`, with reconnects between: never two live
    microphones at once, and the consoles end exactly as the last `seats` says."""
    hw = Recording()
    r = Reconciler(hw, ROOM)
    last = seats(0)
    for seq, (live, order, n_waiting, reconnect) in enumerate(steps, 1):
        waiting = tuple(s for s in order if s not in live)[:n_waiting]
        if reconnect:
            r.forget()
        last = seats(seq, live, waiting)
        r.apply(last)
        assert hw.max_live <= 1
    assert hw.live == set(last.live)
    assert hw.waiting == list(last.waiting)


@pytest.mark.parametrize(
    "message",
    [
        {"t": "seats", "live": [], "waiting": []},
        {"t": "seats", "seq": "1", "live": [], "waiting": []},
        {"t": "seats", "seq": True, "live": [], "waiting": []},
        {"t": "seats", "seq": 1, "live": "A1", "waiting": []},
        {"t": "seats", "seq": 1, "live": [], "waiting": [3]},
        {"t": "seats", "seq": 1, "live": [], "waiting": [], "live_participants": None},
    ],
)
def test_a_malformed_seats_message_is_refused(message: dict[str, Any]) -> None:
    with pytest.raises(BadSeats):
        Seats.from_wire(message)


def test_a_seats_message_is_read() -> None:
    message = {
        "t": "seats",
        "seq": 7,
        "live": ["A1"],
        "waiting": ["A2"],
        "live_participants": ["p-1"],
    }
    assert Seats.from_wire(message) == Seats(7, ("A1",), ("A2",), ("p-1",))
    assert Seats.from_wire({**message, "live_participants": []}).position("A2") == 0
