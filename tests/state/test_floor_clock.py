"""The speaking clock: floor.extend, floor.pause, floor.unpause and the time limit."""

from __future__ import annotations

import pytest

from floor.state import next_deadline
from tests.state.floor_cast import cast, floor_of, speaking
from tests.state.scenario import data, names

# --- floor.extend ----------------------------------------------------------------------------


def test_extend_adds_to_the_limit() -> None:
    """floor.extend raises limit_s by `seconds`, clock untouched."""
    c = speaking()
    c.m.tick(1_000)
    (event,) = c.m.when(c.chair, "floor.extend", {"seconds": 60})
    assert event.name == "floor.extended"
    floor = floor_of(event)
    assert (floor["limit_s"], floor["used_s"], floor["running_since"]) == (240, 0, c.m.now - 1000)
    assert c.m.state.floor is not None
    assert c.m.state.floor.limit_s == 240


@pytest.mark.parametrize("seconds", [1, 3600])
def test_extend_bounds_accepted(seconds: int) -> None:
    """1 and 3600 seconds are the bounds of an extension."""
    c = speaking()
    (event,) = c.m.when(c.chair, "floor.extend", {"seconds": seconds})
    assert floor_of(event)["limit_s"] == 180 + seconds


@pytest.mark.parametrize("seconds", [0, 3601, -5, None, 1.5])
def test_extend_out_of_bounds(seconds: object) -> None:
    """An extension outside 1 to 3600 seconds (or none) is invalid_args on `seconds`."""
    c = speaking()
    rejection = c.m.rejection(c.chair, "floor.extend", {"seconds": seconds})
    assert (rejection.code.value, rejection.field) == ("invalid_args", "seconds")


def test_extend_a_floor_without_limit() -> None:
    """A floor with no limit cannot be extended (conflict)."""
    c = cast()
    c.m.given(c.chair, "floor.grant", {"participant": c.ana, "limit_s": 0})
    assert c.m.rejects(c.chair, "floor.extend", {"seconds": 60}) == "conflict"


def test_extend_with_nobody_on_the_floor() -> None:
    """Extending with nobody on the floor is a conflict."""
    c = cast()
    assert c.m.rejects(c.chair, "floor.extend", {"seconds": 60}) == "conflict"


def test_extend_is_for_the_chair() -> None:
    """The speaker may not extend their own time (forbidden)."""
    c = speaking()
    assert c.m.rejects(c.ana, "floor.extend", {"seconds": 60}) == "forbidden"


def test_expired_floor_extended_past_its_used_time_can_expire_again() -> None:
    """An extension beyond the time used re-arms the expiry notice."""
    c = cast()
    c.m.given(c.chair, "floor.grant", {"participant": c.ana, "limit_s": 10})
    c.m.tick(12_000)
    assert names(c.m.expire()) == ["floor.time_expired"]
    (event,) = c.m.when(c.chair, "floor.extend", {"seconds": 5})
    assert floor_of(event)["expired"] is False
    assert next_deadline(c.m.state) == c.m.now + 3_000
    assert c.m.expire(now=c.m.now + 2_999) == []
    assert names(c.m.expire(now=c.m.now + 3_000)) == ["floor.time_expired"]


def test_expired_floor_extended_short_of_its_used_time_stays_expired() -> None:
    """An extension that does not cover the time used gives no second notice."""
    c = cast()
    c.m.given(c.chair, "floor.grant", {"participant": c.ana, "limit_s": 10})
    c.m.tick(20_000)
    c.m.expire()
    (event,) = c.m.when(c.chair, "floor.extend", {"seconds": 5})
    assert floor_of(event)["expired"] is True
    assert next_deadline(c.m.state) is None
    assert c.m.expire(now=c.m.now + 60_000) == []


# --- floor.pause, floor.unpause --------------------------------------------------------------


def test_pause_stops_the_clock() -> None:
    """floor.pause banks the running stretch into used_s and clears running_since."""
    c = speaking()
    c.m.tick(5_250)
    (event,) = c.m.when(c.chair, "floor.pause")
    assert event.name == "floor.paused"
    floor = floor_of(event)
    assert (floor["running_since"], floor["used_s"]) == (None, 5.25)


def test_unpause_restarts_the_clock() -> None:
    """floor.unpause runs the clock again from now, used time kept."""
    c = speaking()
    c.m.tick(5_250)
    c.m.given(c.chair, "floor.pause")
    c.m.tick(100_000)
    (event,) = c.m.when(c.chair, "floor.unpause")
    assert event.name == "floor.unpaused"
    floor = floor_of(event)
    assert (floor["running_since"], floor["used_s"]) == (c.m.now, 5.25)


def test_pause_when_paused_and_unpause_when_running() -> None:
    """Pausing a paused clock or unpausing a running one is a conflict."""
    c = speaking()
    assert c.m.rejects(c.chair, "floor.unpause") == "conflict"
    c.m.given(c.chair, "floor.pause")
    assert c.m.rejects(c.chair, "floor.pause") == "conflict"


@pytest.mark.parametrize("name", ["floor.pause", "floor.unpause"])
def test_pause_with_nobody_on_the_floor(name: str) -> None:
    """Pausing or unpausing with nobody on the floor is a conflict."""
    c = cast()
    assert c.m.rejects(c.chair, name) == "conflict"


@pytest.mark.parametrize("name", ["floor.pause", "floor.unpause"])
def test_pause_is_for_the_chair(name: str) -> None:
    """The speaker may not stop or start the clock (forbidden)."""
    c = speaking()
    assert c.m.rejects(c.ana, name) == "forbidden"


# --- time ------------------------------------------------------------------------------------


def test_expire_before_the_deadline_does_nothing() -> None:
    """The timer firing early emits nothing."""
    c = speaking()
    assert c.m.expire(now=c.m.now + 179_999) == []
    assert c.m.state.floor is not None
    assert c.m.state.floor.expired is False


@pytest.mark.parametrize("late", [0, 1, 3_600_000])
def test_expire_at_or_after_the_deadline(late: int) -> None:
    """At or after the deadline: floor.time_expired {participant}, by system, floor kept."""
    c = speaking()
    (event,) = c.m.expire(now=c.m.now + 180_000 + late)
    assert (event.name, event.by, data(event)) == (
        "floor.time_expired",
        "system",
        {"participant": c.ana},
    )
    assert c.m.speaker() == c.ana
    assert c.m.state.floor is not None
    assert c.m.state.floor.expired is True


def test_time_expires_once_per_floor() -> None:
    """A second timer firing on the same floor emits nothing."""
    c = speaking()
    c.m.expire(now=c.m.now + 180_000)
    assert c.m.expire(now=c.m.now + 999_000) == []


def test_each_floor_expires_on_its_own() -> None:
    """A new floor gets its own notice."""
    c = speaking()
    c.m.tick(180_000)
    c.m.expire()
    c.m.given(c.chair, "floor.grant", {"participant": c.bob, "limit_s": 1})
    assert names(c.m.expire(now=c.m.now + 1_000)) == ["floor.time_expired"]


def test_cut_at_limit_releases_the_floor() -> None:
    """With cut_at_limit the notice is followed by floor.released, reason time."""
    c = speaking(cut_at_limit=True)
    c.m.tick(180_400)
    events = c.m.expire()
    assert names(events) == ["floor.time_expired", "floor.released"]
    assert data(events[1]) == {"participant": c.ana, "reason": "time", "spoke_s": 180.4}
    assert all(e.by == "system" for e in events)
    assert c.m.state.floor is None


def test_cut_at_limit_resumes_the_stack() -> None:
    """A point of order cut at its limit gives the floor back to the interrupted speaker."""
    c = speaking(cut_at_limit=True)
    c.request(c.bob, kind="point_of_order")
    c.m.given(c.chair, "floor.grant", {"limit_s": 30})
    c.m.tick(30_000)
    events = c.m.expire()
    assert names(events) == ["floor.time_expired", "floor.released", "floor.resumed"]
    assert floor_of(events[2])["participant"] == c.ana
    assert floor_of(events[2])["running_since"] == c.m.now
    assert c.m.speaker() == c.ana


def test_no_limit_never_expires() -> None:
    """A floor with limit 0 has no deadline and never expires."""
    c = cast()
    c.m.given(c.chair, "floor.grant", {"participant": c.ana, "limit_s": 0})
    assert next_deadline(c.m.state) is None
    assert c.m.expire(now=c.m.now + 10**10) == []


def test_paused_clock_does_not_expire() -> None:
    """While paused there is no deadline and the timer does nothing."""
    c = speaking()
    c.m.tick(100_000)
    c.m.given(c.chair, "floor.pause")
    assert next_deadline(c.m.state) is None
    assert c.m.expire(now=c.m.now + 10**9) == []


def test_expire_with_nobody_on_the_floor() -> None:
    """The timer firing on a free floor does nothing."""
    c = cast()
    assert c.m.expire() == []


def test_next_deadline_values() -> None:
    """next_deadline follows grants, pauses, interruptions, resumption and expiry."""
    c = cast()
    assert next_deadline(c.m.state) is None
    t0 = c.m.now
    c.m.given(c.chair, "floor.grant", {"participant": c.ana, "limit_s": 60})
    assert next_deadline(c.m.state) == t0 + 60_000
    c.m.tick(10_000)
    c.m.given(c.chair, "floor.pause")
    assert next_deadline(c.m.state) is None
    c.m.tick(5_000)
    c.m.given(c.chair, "floor.unpause")
    assert next_deadline(c.m.state) == t0 + 65_000
    c.m.given(c.chair, "floor.extend", {"seconds": 30})
    assert next_deadline(c.m.state) == t0 + 95_000
    c.m.given(c.chair, "floor.grant", {"participant": c.bob, "limit_s": 0})
    assert next_deadline(c.m.state) is None
    c.m.given(c.chair, "floor.grant", {"participant": c.cleo, "limit_s": 20})
    c.m.given(c.chair, "floor.request", {"participant": c.ana, "kind": "point_of_order"})
    c.m.tick(2_000)
    c.m.given(c.chair, "floor.grant", {"limit_s": 5})
    assert next_deadline(c.m.state) == c.m.now + 5_000
    c.m.tick(1_000)
    c.m.given(c.ana, "floor.release")
    assert next_deadline(c.m.state) == c.m.now + 18_000
    c.m.tick(18_000)
    c.m.expire()
    assert next_deadline(c.m.state) is None
