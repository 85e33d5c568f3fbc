"""Holding the floor: floor.grant, floor.release and the interrupted stack."""

from __future__ import annotations

import pytest

from tests.state.floor_cast import cast, floor_of, speaking
from tests.state.scenario import data, names

# --- floor.grant -----------------------------------------------------------------------------


def test_grant_gives_the_floor_to_the_head() -> None:
    """Without arguments the head of the queue gets the floor, and leaves the queue."""
    c = cast()
    rid = c.request(c.ana)
    c.request(c.bob)
    c.m.tick(500)
    (event,) = c.m.when(c.chair, "floor.grant")
    assert event.name == "floor.granted"
    assert event.by == c.chair
    assert floor_of(event) == {
        "participant": c.ana,
        "request": rid,
        "kind": "speak",
        "lang": "fr",
        "limit_s": 180,
        "granted_at": c.m.now,
        "running_since": c.m.now,
        "used_s": 0,
        "expired": False,
    }
    assert c.m.speaker() == c.ana
    assert c.m.queue() == [c.bob]


def test_grant_a_named_request() -> None:
    """`request` grants that request, wherever it stands in the queue."""
    c = cast()
    c.request(c.ana)
    rid = c.request(c.bob, kind="reply", lang="de")
    (event,) = c.m.when(c.chair, "floor.grant", {"request": rid})
    floor = floor_of(event)
    assert (floor["participant"], floor["request"], floor["kind"], floor["lang"]) == (
        c.bob,
        rid,
        "reply",
        "de",
    )
    assert c.m.queue() == [c.ana]


def test_grant_a_named_participant_with_an_open_request() -> None:
    """`participant` with an open request grants that request."""
    c = cast()
    c.request(c.ana)
    rid = c.request(c.bob, kind="reply")
    (event,) = c.m.when(c.chair, "floor.grant", {"participant": c.bob})
    assert (floor_of(event)["request"], floor_of(event)["kind"]) == (rid, "reply")
    assert c.m.queue() == [c.ana]


def test_grant_a_named_participant_without_a_request() -> None:
    """A participant with no open request gets a floor with request null and kind speak."""
    c = cast()
    c.request(c.bob)
    (event,) = c.m.when(c.chair, "floor.grant", {"participant": c.ana})
    floor = floor_of(event)
    assert (floor["participant"], floor["request"], floor["kind"], floor["lang"]) == (
        c.ana,
        None,
        "speak",
        "fr",
    )
    assert c.m.queue() == [c.bob]


def test_grant_without_request_defaults_the_language_to_english() -> None:
    """A participant with no request and no language speaks `en`."""
    c = cast()
    (event,) = c.m.when(c.chair, "floor.grant", {"participant": c.bob})
    assert floor_of(event)["lang"] == "en"


def test_grant_request_and_participant_must_agree() -> None:
    """Naming a request and someone else's participant id is invalid_args on `participant`."""
    c = cast()
    rid = c.request(c.ana)
    c.request(c.bob)
    rejection = c.m.rejection(c.chair, "floor.grant", {"request": rid, "participant": c.bob})
    assert (rejection.code.value, rejection.field) == ("invalid_args", "participant")


def test_grant_request_and_matching_participant() -> None:
    """Naming a request together with its owner is fine."""
    c = cast()
    rid = c.request(c.ana)
    (event,) = c.m.when(c.chair, "floor.grant", {"request": rid, "participant": c.ana})
    assert floor_of(event)["request"] == rid


def test_grant_on_an_empty_queue() -> None:
    """Nothing named and nobody waiting: not_found."""
    c = cast()
    assert c.m.rejects(c.chair, "floor.grant") == "not_found"


def test_grant_unknown_request_or_participant() -> None:
    """Naming an unknown request or participant is not_found."""
    c = cast()
    c.request(c.ana)
    assert c.m.rejects(c.chair, "floor.grant", {"request": "r-404"}) == "not_found"
    assert c.m.rejects(c.chair, "floor.grant", {"participant": "p-404"}) == "not_found"


def test_grant_is_for_the_chair() -> None:
    """Delegates, observers and displays may not grant the floor (forbidden)."""
    c = cast()
    c.request(c.ana)
    for who in (c.ana, c.bob, c.olga, c.screen):
        assert c.m.rejects(who, "floor.grant") == "forbidden"


def test_grant_limit_defaults_to_the_meeting_setting() -> None:
    """limit_s defaults to the meeting's default_limit_s."""
    c = cast(default_limit_s=90)
    c.request(c.ana)
    (event,) = c.m.when(c.chair, "floor.grant")
    assert floor_of(event)["limit_s"] == 90


@pytest.mark.parametrize("limit", [0, 1, 45, 86_400])
def test_grant_with_an_explicit_limit(limit: int) -> None:
    """An explicit limit_s is used as is; 0 means no limit."""
    c = cast()
    c.request(c.ana)
    (event,) = c.m.when(c.chair, "floor.grant", {"limit_s": limit})
    assert floor_of(event)["limit_s"] == limit


@pytest.mark.parametrize("limit", [-1, 86_401, "60", True])
def test_grant_with_a_bad_limit(limit: object) -> None:
    """limit_s must be an integer from 0 to a day."""
    c = cast()
    c.request(c.ana)
    rejection = c.m.rejection(c.chair, "floor.grant", {"limit_s": limit})
    assert (rejection.code.value, rejection.field) == ("invalid_args", "limit_s")


def test_grant_releases_the_current_speaker() -> None:
    """A new speech ends the current one: floor.released (next, spoke_s), then floor.granted."""
    c = speaking()
    c.request(c.bob)
    c.m.tick(61_250)
    events = c.m.when(c.chair, "floor.grant")
    assert names(events) == ["floor.released", "floor.granted"]
    assert data(events[0]) == {"participant": c.ana, "reason": "next", "spoke_s": 61.25}
    assert all(e.by == c.chair for e in events)
    assert c.m.speaker() == c.bob
    assert c.m.state.interrupted == ()


def test_point_of_order_interrupts_the_speaker() -> None:
    """A point of order grant interrupts: the speaker's floor, clock stopped, goes on the stack."""
    c = speaking()
    start = c.m.now
    c.request(c.bob, kind="point_of_order")
    c.m.tick(30_500)
    events = c.m.when(c.chair, "floor.grant")
    assert names(events) == ["floor.interrupted", "floor.granted"]
    assert floor_of(events[0]) | {"request": None} == {
        "participant": c.ana,
        "request": None,
        "kind": "speak",
        "lang": "fr",
        "limit_s": 180,
        "granted_at": start,
        "running_since": None,
        "used_s": 30.5,
        "expired": False,
    }
    assert floor_of(events[1])["kind"] == "point_of_order"
    assert c.m.speaker() == c.bob
    (waiting,) = c.m.state.interrupted
    assert (waiting.participant, waiting.used_ms, waiting.running_since) == (c.ana, 30_500, None)


def test_points_of_order_stack_up() -> None:
    """A point of order during a point of order interrupts again, onto the stack."""
    c = speaking()
    c.request(c.bob, kind="point_of_order")
    c.m.given(c.chair, "floor.grant")
    c.request(c.cleo, kind="point_of_order")
    c.m.tick(2000)
    events = c.m.when(c.chair, "floor.grant")
    assert names(events) == ["floor.interrupted", "floor.granted"]
    assert floor_of(events[0])["participant"] == c.bob
    assert [f.participant for f in c.m.state.interrupted] == [c.ana, c.bob]
    assert c.m.speaker() == c.cleo


@pytest.mark.parametrize("kind", ["speak", "reply"])
def test_speech_while_the_stack_waits_releases_and_keeps_the_stack(kind: str) -> None:
    """A speak or reply grant over a point of order releases it (next); the stack stays."""
    c = speaking()
    c.request(c.bob, kind="point_of_order")
    c.m.given(c.chair, "floor.grant")
    c.request(c.cleo, kind=kind)
    c.m.tick(4000)
    events = c.m.when(c.chair, "floor.grant")
    assert names(events) == ["floor.released", "floor.granted"]
    assert data(events[0]) == {"participant": c.bob, "reason": "next", "spoke_s": 4}
    assert [f.participant for f in c.m.state.interrupted] == [c.ana]
    assert c.m.speaker() == c.cleo


def test_grant_to_a_hard_muted_participant_lifts_the_mute() -> None:
    """Order: end of the current floor, then mute.changed lifting the hard mute, then granted."""
    c = speaking()
    c.m.given(c.chair, "mute.set", {"participant": c.bob, "muted": True})
    c.m.given(c.bob, "mute.set", {"muted": True})
    c.request(c.bob)
    events = c.m.when(c.chair, "floor.grant")
    assert names(events) == ["floor.released", "mute.changed", "floor.granted"]
    assert data(events[1]) == {"participant": c.bob, "self_muted": True, "hard_muted": False}
    assert events[1].by == c.chair
    assert [e.seq for e in events] == [events[0].seq, events[0].seq + 1, events[0].seq + 2]
    c.m.given(c.bob, "floor.release")
    assert c.m.state.participants[c.bob].hard_muted is False


def test_point_of_order_to_a_hard_muted_participant() -> None:
    """Interrupted first, then the mute lifted, then the point of order granted."""
    c = speaking()
    c.m.given(c.chair, "mute.all")
    c.request(c.bob, kind="point_of_order")
    events = c.m.when(c.chair, "floor.grant")
    assert names(events) == ["floor.interrupted", "mute.changed", "floor.granted"]
    assert data(events[1]) == {"participant": c.bob, "self_muted": False, "hard_muted": False}


def test_grant_to_a_hard_muted_participant_on_a_free_floor() -> None:
    """With nobody speaking, the mute is lifted just before the grant."""
    c = cast()
    c.m.given(c.chair, "mute.set", {"participant": c.ana, "muted": True})
    events = c.m.when(c.chair, "floor.grant", {"participant": c.ana})
    assert names(events) == ["mute.changed", "floor.granted"]


def test_grant_to_the_speaker_conflicts() -> None:
    """Granting the floor to whoever holds it is a conflict."""
    c = speaking()
    assert c.m.rejects(c.chair, "floor.grant", {"participant": c.ana}) == "conflict"


def test_grant_to_an_interrupted_speaker_conflicts() -> None:
    """Granting the floor to someone waiting on the stack is a conflict."""
    c = speaking()
    c.request(c.bob, kind="point_of_order")
    c.m.given(c.chair, "floor.grant")
    assert c.m.rejects(c.chair, "floor.grant", {"participant": c.ana}) == "conflict"


def test_grant_to_a_display_conflicts() -> None:
    """A display can never hold the floor."""
    c = cast()
    assert c.m.rejects(c.chair, "floor.grant", {"participant": c.screen}) == "conflict"


def test_grant_to_an_observer_by_the_chair() -> None:
    """The chair may give the floor to an observer even where observers may not ask."""
    c = cast()
    (event,) = c.m.when(c.chair, "floor.grant", {"participant": c.olga})
    assert floor_of(event)["participant"] == c.olga


# --- floor.release ---------------------------------------------------------------------------


def test_speaker_yields() -> None:
    """The speaker's floor.release is reason `yielded`, with the time spoken."""
    c = speaking()
    c.m.tick(42_000)
    (event,) = c.m.when(c.ana, "floor.release")
    assert event.name == "floor.released"
    assert event.by == c.ana
    assert data(event) == {"participant": c.ana, "reason": "yielded", "spoke_s": 42}
    assert c.m.state.floor is None


def test_chair_ends_the_floor() -> None:
    """The chair's floor.release is reason `chair`."""
    c = speaking()
    c.m.tick(7)
    (event,) = c.m.when(c.chair, "floor.release")
    assert data(event) == {"participant": c.ana, "reason": "chair", "spoke_s": 0.007}


def test_chair_speaker_yields_rather_than_ends() -> None:
    """A chair who holds the floor and releases it yields."""
    c = cast()
    c.m.given(c.chair, "floor.grant", {"participant": c.chair})
    (event,) = c.m.when(c.chair, "floor.release")
    assert data(event)["reason"] == "yielded"


def test_another_delegate_cannot_release() -> None:
    """A delegate who does not hold the floor may not end it (forbidden)."""
    c = speaking()
    assert c.m.rejects(c.bob, "floor.release") == "forbidden"


def test_display_cannot_release() -> None:
    """A display is read only: floor.release is forbidden by its role, floor held or not."""
    c = cast()
    assert c.m.rejects(c.screen, "floor.release") == "forbidden"
    c.m.given(c.chair, "floor.grant", {"participant": c.ana})
    assert c.m.rejects(c.screen, "floor.release") == "forbidden"


def test_release_with_nobody_on_the_floor() -> None:
    """Nobody holds the floor: conflict, for the chair and delegates alike."""
    c = cast()
    assert c.m.rejects(c.chair, "floor.release") == "conflict"
    assert c.m.rejects(c.ana, "floor.release") == "conflict"


def test_release_resumes_the_interrupted_speaker() -> None:
    """Ending a point of order resumes the top of the stack, clock running from now."""
    c = speaking()
    c.m.tick(10_000)
    c.request(c.bob, kind="point_of_order")
    c.m.given(c.chair, "floor.grant")
    c.m.tick(3_000)
    events = c.m.when(c.bob, "floor.release")
    assert names(events) == ["floor.released", "floor.resumed"]
    assert data(events[0]) == {"participant": c.bob, "reason": "yielded", "spoke_s": 3}
    resumed = floor_of(events[1])
    assert resumed["participant"] == c.ana
    assert (resumed["running_since"], resumed["used_s"]) == (c.m.now, 10)
    assert resumed["granted_at"] == c.m.now - 13_000
    assert events[1].by == c.bob
    assert c.m.speaker() == c.ana
    assert c.m.state.interrupted == ()


def test_stacked_speakers_resume_last_first() -> None:
    """Each release resumes the most recently interrupted speaker."""
    c = speaking()
    c.request(c.bob, kind="point_of_order")
    c.m.given(c.chair, "floor.grant")
    c.request(c.cleo, kind="point_of_order")
    c.m.given(c.chair, "floor.grant")
    assert names(c.m.when(c.chair, "floor.release")) == ["floor.released", "floor.resumed"]
    assert c.m.speaker() == c.bob
    assert names(c.m.when(c.bob, "floor.release")) == ["floor.released", "floor.resumed"]
    assert c.m.speaker() == c.ana
    assert names(c.m.when(c.ana, "floor.release")) == ["floor.released"]
    assert c.m.state.floor is None


def test_spoken_time_excludes_pauses_and_interruptions() -> None:
    """spoke_s counts only running stretches, to the millisecond."""
    c = speaking()
    c.m.tick(12_345)
    c.m.given(c.chair, "floor.pause")
    c.m.tick(60_000)
    c.m.given(c.chair, "floor.unpause")
    c.m.tick(1_001)
    c.request(c.bob, kind="point_of_order")
    c.m.given(c.chair, "floor.grant")
    c.m.tick(20_002)
    (released, resumed) = c.m.when(c.bob, "floor.release")
    assert data(released)["spoke_s"] == 20.002
    assert floor_of(resumed)["used_s"] == 13.346
    c.m.tick(654)
    (event,) = c.m.when(c.ana, "floor.release")
    assert data(event) == {"participant": c.ana, "reason": "yielded", "spoke_s": 14}


def test_spoken_time_of_a_paused_floor() -> None:
    """Released while paused, spoke_s is the time used before the pause."""
    c = speaking()
    c.m.tick(1_999)
    c.m.given(c.chair, "floor.pause")
    c.m.tick(5_000)
    (event,) = c.m.when(c.chair, "floor.release")
    assert data(event)["spoke_s"] == 1.999
