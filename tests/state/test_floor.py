"""The list of speakers: floor.request, floor.withdraw, floor.move, list.close/open, queue.clear."""

from __future__ import annotations

import pytest

from floor.state.model import Kind
from tests.state.floor_cast import cast
from tests.state.scenario import data, names

# --- floor.request ---------------------------------------------------------------------------


def test_request_defaults_to_speak_in_own_language_via_browser() -> None:
    """A bare floor.request asks to speak, in the participant's language, via the browser."""
    c = cast()
    (event,) = c.m.when(c.ana, "floor.request")
    assert event.name == "floor.requested"
    assert event.by == c.ana
    assert data(event) == {
        "request": f"r-{event.seq}",
        "participant": c.ana,
        "kind": "speak",
        "lang": "fr",
        "at": c.m.now,
        "via": "browser",
        "position": 0,
    }


def test_request_language_defaults_to_english() -> None:
    """A participant without a preferred language requests in `en`."""
    c = cast()
    (event,) = c.m.when(c.bob, "floor.request")
    assert data(event)["lang"] == "en"


def test_request_explicit_language_wins() -> None:
    """An explicit `lang` overrides the participant's own."""
    c = cast()
    (event,) = c.m.when(c.ana, "floor.request", {"lang": "es"})
    assert data(event)["lang"] == "es"


def test_request_records_its_time_and_joins_the_queue() -> None:
    """The request carries the command's time and is stored in the queue as announced."""
    c = cast()
    c.m.tick(4321)
    rid = c.request(c.ana)
    (request,) = c.m.state.queue
    assert (request.id, request.participant, request.at) == (rid, c.ana, c.m.now)
    assert request.kind is Kind.SPEAK


def test_speeches_are_appended_in_order() -> None:
    """Each speak request goes to the end of the queue, with its position."""
    c = cast()
    positions = [data(c.m.when(p, "floor.request")[0])["position"] for p in (c.ana, c.bob, c.cleo)]
    assert positions == [0, 1, 2]
    assert c.m.queue() == [c.ana, c.bob, c.cleo]


def test_point_of_order_goes_before_the_first_speech() -> None:
    """A point of order is inserted ahead of every request that is not a point of order."""
    c = cast()
    c.request(c.ana)
    c.request(c.bob)
    (event,) = c.m.when(c.cleo, "floor.request", {"kind": "point_of_order"})
    assert data(event)["position"] == 0
    assert data(event)["kind"] == "point_of_order"
    assert c.m.queue() == [c.cleo, c.ana, c.bob]


def test_point_of_order_goes_after_earlier_points_of_order() -> None:
    """Points of order keep their own order among themselves."""
    c = cast()
    c.request(c.ana)
    c.request(c.bob, kind="point_of_order")
    (event,) = c.m.when(c.cleo, "floor.request", {"kind": "point_of_order"})
    assert data(event)["position"] == 1
    assert c.m.queue() == [c.bob, c.cleo, c.ana]


def test_point_of_order_on_an_empty_queue_is_at_the_head() -> None:
    """A point of order on an empty list has position 0."""
    c = cast()
    (event,) = c.m.when(c.ana, "floor.request", {"kind": "point_of_order"})
    assert data(event)["position"] == 0


def test_reply_is_appended() -> None:
    """A right of reply goes to the end of the queue, behind speeches."""
    c = cast()
    c.request(c.ana, kind="point_of_order")
    c.request(c.bob)
    (event,) = c.m.when(c.cleo, "floor.request", {"kind": "reply"})
    assert data(event)["position"] == 2
    assert data(event)["kind"] == "reply"
    assert c.m.queue() == [c.ana, c.bob, c.cleo]


@pytest.mark.parametrize("kind", ["speak", "point_of_order", "reply"])
def test_one_open_request_per_participant(kind: str) -> None:
    """A participant with an open request cannot open another, whatever its kind."""
    c = cast()
    c.request(c.ana)
    assert c.m.rejects(c.ana, "floor.request", {"kind": kind}) == "conflict"


def test_one_request_per_delegation_when_on() -> None:
    """With one_request_per_delegation on, a second member of a delegation is refused."""
    c = cast(one_request_per_delegation=True)
    c.request(c.ana)
    assert c.m.rejects(c.cleo, "floor.request") == "conflict"
    assert c.m.rejects(c.cleo, "floor.request", {"kind": "point_of_order"}) == "conflict"
    c.request(c.bob)
    assert c.m.queue() == [c.ana, c.bob]


def test_one_request_per_delegation_frees_up_on_withdrawal() -> None:
    """Once the delegation's request is gone, another member may ask."""
    c = cast(one_request_per_delegation=True)
    c.request(c.ana)
    c.m.given(c.ana, "floor.withdraw")
    c.request(c.cleo)
    assert c.m.queue() == [c.cleo]


def test_delegation_members_may_both_request_by_default() -> None:
    """Without the setting, two members of a delegation may both be on the list."""
    c = cast()
    c.request(c.ana)
    c.request(c.cleo)
    assert c.m.queue() == [c.ana, c.cleo]


def test_speaker_cannot_request() -> None:
    """The participant holding the floor cannot ask for it (conflict)."""
    c = cast()
    c.request(c.ana)
    c.m.given(c.chair, "floor.grant")
    assert c.m.rejects(c.ana, "floor.request") == "conflict"
    assert c.m.rejects(c.ana, "floor.request", {"kind": "point_of_order"}) == "conflict"


def test_interrupted_speaker_cannot_request() -> None:
    """A speaker waiting on the interrupted stack cannot ask for the floor (conflict)."""
    c = cast()
    c.request(c.ana)
    c.m.given(c.chair, "floor.grant")
    c.request(c.bob, kind="point_of_order")
    c.m.given(c.chair, "floor.grant")
    assert [f.participant for f in c.m.state.interrupted] == [c.ana]
    assert c.m.rejects(c.ana, "floor.request") == "conflict"


def test_chair_cannot_inscribe_the_speaker() -> None:
    """The chair cannot inscribe the participant holding the floor (conflict)."""
    c = cast()
    c.m.given(c.chair, "floor.grant", {"participant": c.ana})
    assert c.m.rejects(c.chair, "floor.request", {"participant": c.ana}) == "conflict"


def test_closed_list_rejects_speeches() -> None:
    """While the list is closed a speak request is rejected with list_closed."""
    c = cast()
    c.m.given(c.chair, "list.close")
    assert c.m.rejects(c.ana, "floor.request") == "list_closed"
    assert c.m.rejects(c.chair, "floor.request", {"participant": c.ana}) == "list_closed"


@pytest.mark.parametrize("kind", ["point_of_order", "reply"])
def test_closed_list_accepts_points_of_order_and_replies(kind: str) -> None:
    """While the list is closed points of order and replies are still accepted."""
    c = cast()
    c.m.given(c.chair, "list.close")
    (event,) = c.m.when(c.ana, "floor.request", {"kind": kind})
    assert data(event)["kind"] == kind
    assert c.m.queue() == [c.ana]


def test_observer_may_not_request_by_default() -> None:
    """An observer asking for the floor is forbidden unless observers_may_speak is on."""
    c = cast()
    assert c.m.rejects(c.olga, "floor.request") == "forbidden"
    assert c.m.rejects(c.olga, "floor.request", {"kind": "point_of_order"}) == "forbidden"


def test_observer_may_request_when_allowed() -> None:
    """With observers_may_speak on, an observer asks for the floor like a delegate."""
    c = cast(observers_may_speak=True)
    c.request(c.olga)
    assert c.m.queue() == [c.olga]


def test_chair_may_inscribe_an_observer() -> None:
    """The chair inscribes an observer even where observers may not ask themselves."""
    c = cast()
    (event,) = c.m.when(c.chair, "floor.request", {"participant": c.olga})
    assert data(event)["participant"] == c.olga
    assert c.m.queue() == [c.olga]


def test_chair_inscribes_another_participant() -> None:
    """The chair's `participant` puts someone else on the list, by the chair, via browser."""
    c = cast()
    (event,) = c.m.when(c.chair, "floor.request", {"participant": c.ana, "kind": "reply"})
    assert event.by == c.chair
    assert data(event) | {"request": None, "at": None} == {
        "request": None,
        "participant": c.ana,
        "kind": "reply",
        "lang": "fr",
        "at": None,
        "via": "browser",
        "position": 0,
    }


def test_chair_may_request_the_floor_for_themself() -> None:
    """A chair may ask for the floor like anyone else."""
    c = cast()
    c.request(c.chair)
    assert c.m.queue() == [c.chair]


def test_naming_oneself_is_a_plain_request() -> None:
    """A delegate naming themself in `participant` simply requests the floor."""
    c = cast()
    c.request(c.ana, participant=c.ana)
    assert c.m.queue() == [c.ana]


def test_delegate_cannot_inscribe_someone_else() -> None:
    """Only the chair may request the floor for another participant (forbidden)."""
    c = cast()
    assert c.m.rejects(c.ana, "floor.request", {"participant": c.bob}) == "forbidden"
    assert c.m.rejects(c.ana, "floor.request", {"participant": "p-404"}) == "forbidden"


def test_chair_inscribing_an_unknown_participant() -> None:
    """The chair naming nobody known gets not_found."""
    c = cast()
    assert c.m.rejects(c.chair, "floor.request", {"participant": "p-404"}) == "not_found"


def test_display_cannot_request() -> None:
    """A display is read only: floor.request is forbidden by its role."""
    c = cast()
    assert c.m.rejects(c.screen, "floor.request") == "forbidden"


def test_chair_cannot_inscribe_a_display() -> None:
    """A display can never hold the floor, so inscribing it is a conflict."""
    c = cast()
    assert c.m.rejects(c.chair, "floor.request", {"participant": c.screen}) == "conflict"


def test_request_with_a_bad_kind_is_invalid() -> None:
    """An unknown kind is rejected by the parser, naming the field."""
    c = cast()
    rejection = c.m.rejection(c.ana, "floor.request", {"kind": "filibuster"})
    assert (rejection.code.value, rejection.field) == ("invalid_args", "kind")


# --- floor.withdraw --------------------------------------------------------------------------


def test_withdraw_own_request_by_default() -> None:
    """Without `request`, floor.withdraw takes back the actor's own request."""
    c = cast()
    rid = c.request(c.ana)
    c.request(c.bob)
    (event,) = c.m.when(c.ana, "floor.withdraw")
    assert event.name == "floor.withdrawn"
    assert data(event) == {"request": rid, "participant": c.ana}
    assert c.m.queue() == [c.bob]


def test_withdraw_own_request_by_id() -> None:
    """A participant may name their own request."""
    c = cast()
    rid = c.request(c.ana)
    assert names(c.m.when(c.ana, "floor.withdraw", {"request": rid})) == ["floor.withdrawn"]
    assert c.m.queue() == []


def test_chair_withdraws_any_request() -> None:
    """The chair may withdraw anyone's request; the event names its owner."""
    c = cast()
    rid = c.request(c.ana)
    (event,) = c.m.when(c.chair, "floor.withdraw", {"request": rid})
    assert event.by == c.chair
    assert data(event) == {"request": rid, "participant": c.ana}
    assert c.m.queue() == []


def test_delegate_cannot_withdraw_anothers_request() -> None:
    """A delegate naming someone else's request is forbidden."""
    c = cast()
    rid = c.request(c.ana)
    assert c.m.rejects(c.bob, "floor.withdraw", {"request": rid}) == "forbidden"


def test_withdraw_without_an_open_request() -> None:
    """Withdrawing with no open request of one's own is not_found (the chair's too)."""
    c = cast()
    c.request(c.ana)
    assert c.m.rejects(c.bob, "floor.withdraw") == "not_found"
    assert c.m.rejects(c.chair, "floor.withdraw") == "not_found"


def test_withdraw_unknown_request() -> None:
    """Naming a request that is not in the queue is not_found."""
    c = cast()
    rid = c.request(c.ana)
    c.m.given(c.chair, "floor.grant")
    assert c.m.rejects(c.ana, "floor.withdraw", {"request": rid}) == "not_found"
    assert c.m.rejects(c.chair, "floor.withdraw", {"request": "r-404"}) == "not_found"


def test_display_cannot_withdraw() -> None:
    """A display may not withdraw anything (forbidden)."""
    c = cast()
    rid = c.request(c.ana)
    assert c.m.rejects(c.screen, "floor.withdraw", {"request": rid}) == "forbidden"


# --- floor.move ------------------------------------------------------------------------------


def test_move_is_for_the_chair() -> None:
    """A delegate may not reorder the list (forbidden)."""
    c = cast()
    c.request(c.ana)
    rid = c.request(c.bob)
    assert c.m.rejects(c.bob, "floor.move", {"request": rid, "position": 0}) == "forbidden"


def test_move_to_the_head() -> None:
    """Position 0 puts the request at the head of the queue."""
    c = cast()
    c.request(c.ana)
    c.request(c.bob)
    rid = c.request(c.cleo)
    (event,) = c.m.when(c.chair, "floor.move", {"request": rid, "position": 0})
    assert event.name == "floor.moved"
    assert data(event) == {"request": rid, "position": 0}
    assert c.m.queue() == [c.cleo, c.ana, c.bob]


def test_move_to_the_middle() -> None:
    """A position inside the queue is where the request ends up."""
    c = cast()
    rid = c.request(c.ana)
    c.request(c.bob)
    c.request(c.cleo)
    (event,) = c.m.when(c.chair, "floor.move", {"request": rid, "position": 1})
    assert data(event) == {"request": rid, "position": 1}
    assert c.m.queue() == [c.bob, c.ana, c.cleo]


def test_move_past_the_end_goes_last() -> None:
    """A position past the end puts the request last; the event gives the real position."""
    c = cast()
    rid = c.request(c.ana)
    c.request(c.bob)
    c.request(c.cleo)
    (event,) = c.m.when(c.chair, "floor.move", {"request": rid, "position": 99})
    assert data(event) == {"request": rid, "position": 2}
    assert c.m.queue() == [c.bob, c.cleo, c.ana]


def test_speech_cannot_move_ahead_of_points_of_order() -> None:
    """A speech moved to the head lands right after the points of order."""
    c = cast()
    c.request(c.ana, kind="point_of_order")
    c.request(c.bob)
    rid = c.request(c.cleo)
    (event,) = c.m.when(c.chair, "floor.move", {"request": rid, "position": 0})
    assert data(event) == {"request": rid, "position": 1}
    assert c.m.queue() == [c.ana, c.cleo, c.bob]


def test_point_of_order_cannot_move_behind_a_speech() -> None:
    """A point of order moved past the end stays ahead of every speech."""
    c = cast()
    first = c.request(c.ana, kind="point_of_order")
    c.request(c.bob, kind="point_of_order")
    c.request(c.cleo)
    (event,) = c.m.when(c.chair, "floor.move", {"request": first, "position": 99})
    assert data(event) == {"request": first, "position": 1}
    assert c.m.queue() == [c.bob, c.ana, c.cleo]


def test_point_of_order_moves_among_points_of_order() -> None:
    """Points of order can be reordered among themselves."""
    c = cast()
    c.request(c.ana, kind="point_of_order")
    second = c.request(c.bob, kind="point_of_order")
    c.request(c.cleo)
    (event,) = c.m.when(c.chair, "floor.move", {"request": second, "position": 0})
    assert data(event) == {"request": second, "position": 0}
    assert c.m.queue() == [c.bob, c.ana, c.cleo]


@pytest.mark.parametrize("position", [1, 5])
def test_move_to_the_same_place_emits_nothing(position: int) -> None:
    """A move that leaves the request where it is (after clamping) changes nothing."""
    c = cast()
    c.request(c.ana)
    rid = c.request(c.bob)
    assert c.m.when(c.chair, "floor.move", {"request": rid, "position": position}) == []
    assert c.m.queue() == [c.ana, c.bob]


def test_clamped_point_of_order_move_emits_nothing() -> None:
    """A lone point of order pushed behind the speeches stays at the head, silently."""
    c = cast()
    rid = c.request(c.ana, kind="point_of_order")
    c.request(c.bob)
    assert c.m.when(c.chair, "floor.move", {"request": rid, "position": 3}) == []
    assert c.m.queue() == [c.ana, c.bob]


def test_move_unknown_request() -> None:
    """Moving a request that is not in the queue is not_found."""
    c = cast()
    c.request(c.ana)
    assert c.m.rejects(c.chair, "floor.move", {"request": "r-404", "position": 0}) == "not_found"


def test_move_needs_a_position() -> None:
    """floor.move without a position is invalid_args naming `position`."""
    c = cast()
    rid = c.request(c.ana)
    rejection = c.m.rejection(c.chair, "floor.move", {"request": rid})
    assert (rejection.code.value, rejection.field) == ("invalid_args", "position")


# --- list.close, list.open, queue.clear ------------------------------------------------------


def test_close_and_reopen_the_list() -> None:
    """list.close and list.open flip the list's state, each with its event."""
    c = cast()
    assert names(c.m.when(c.chair, "list.close")) == ["list.closed"]
    after_close = c.m.state.list_open
    assert names(c.m.when(c.chair, "list.open")) == ["list.opened"]
    assert (after_close, c.m.state.list_open) == (False, True)
    c.request(c.ana)


def test_closing_a_closed_list_emits_nothing() -> None:
    """list.close on a closed list is accepted without an event."""
    c = cast()
    c.m.given(c.chair, "list.close")
    assert c.m.when(c.chair, "list.close") == []


def test_opening_an_open_list_emits_nothing() -> None:
    """list.open on an open list is accepted without an event."""
    c = cast()
    assert c.m.when(c.chair, "list.open") == []


def test_closing_the_list_keeps_the_queue() -> None:
    """Closing the list stops new speeches, not those already inscribed."""
    c = cast()
    c.request(c.ana)
    c.m.given(c.chair, "list.close")
    assert c.m.queue() == [c.ana]


def test_clear_the_queue() -> None:
    """queue.clear empties the list of speakers, leaving the floor and the stack alone."""
    c = cast()
    c.request(c.ana)
    c.m.given(c.chair, "floor.grant")
    c.request(c.bob, kind="point_of_order")
    c.m.given(c.chair, "floor.grant")
    c.request(c.cleo)
    c.request(c.chair)
    assert names(c.m.when(c.chair, "queue.clear")) == ["queue.cleared"]
    assert c.m.queue() == []
    assert c.m.speaker() == c.bob
    assert [f.participant for f in c.m.state.interrupted] == [c.ana]


def test_clearing_an_empty_queue_emits_nothing() -> None:
    """queue.clear on an empty queue is accepted without an event."""
    c = cast()
    assert c.m.when(c.chair, "queue.clear") == []


@pytest.mark.parametrize("name", ["list.close", "list.open", "queue.clear"])
def test_list_commands_are_for_the_chair(name: str) -> None:
    """Delegates may not close, open or clear the list (forbidden)."""
    c = cast()
    assert c.m.rejects(c.ana, name) == "forbidden"
    assert c.m.rejects(c.screen, name) == "forbidden"
