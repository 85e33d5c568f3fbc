"""The device protocol without sockets: hello and resume, presses queued offline and sent
with their ids once welcomed, answers, reconciliation on every welcome, close codes."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from floor.devices.hardware import Button
from floor.devices.link import CLOSE_POLICY, RETRIES, Link, LinkPhase, Next, after_close
from tests.devices.recording import Recording

STATE: dict[str, Any] = {
    "participants": {
        "p-2": {"id": "p-2", "name": "Ana", "delegation": "Chile", "seat": "A1"},
        "p-3": {"id": "p-3", "name": "Bo", "delegation": "Fiji", "seat": None},
    },
    "devices": {"d-9": {"id": "d-9", "name": "Room", "seats": ["A1", "A2"]}},
}


def welcome(seq: int = 10, **extra: Any) -> dict[str, Any]:
    return {
        "t": "welcome",
        "v": 1,
        "epoch": "e-1",
        "seq": seq,
        "you": {"device": "d-9", "role": "device"},
        "state": STATE,
        **extra,
    }


def seats(seq: int, live: list[str], waiting: list[str]) -> dict[str, Any]:
    return {"t": "seats", "seq": seq, "live": live, "waiting": waiting, "live_participants": []}


def sent_all(link: Link) -> list[dict[str, Any]]:
    out = []
    while (press := link.next_unsent()) is not None:
        out.append(link.sent(press))
    return out


def online(hw: Recording | None = None) -> Link:
    link = Link("tok", hw or Recording(), prefix="x")
    link.hello()
    link.receive(welcome())
    return link


def test_the_first_hello_has_no_resume_later_ones_resume_from_the_last_event() -> None:
    link = Link("tok", Recording(), client="acme/2")
    assert link.hello() == {"t": "hello", "v": 1, "token": "tok", "client": "acme/2"}
    assert link.phase is LinkPhase.AWAITING_WELCOME
    link.receive(welcome(seq=10))
    link.receive({"t": "event", "seq": 12, "name": "floor.requested", "by": "d-9", "data": {}})
    link.receive({"t": "event", "seq": 11, "name": "x", "data": {}})  # never goes back
    link.disconnected()
    assert link.hello()["resume"] == {"epoch": "e-1", "seq": 12}


def test_presses_wait_offline_and_go_once_welcomed_in_order() -> None:
    link = Link("tok", Recording(), prefix="x")
    link.press("A1", Button.REQUEST)
    link.press("A2", Button.MUTE, muted=True)
    assert link.next_unsent() is None  # offline
    link.hello()
    assert link.next_unsent() is None  # not welcomed yet
    link.receive(welcome())
    assert sent_all(link) == [
        {"t": "cmd", "id": "x-1", "name": "seat.request", "args": {"seat": "A1"}},
        {"t": "cmd", "id": "x-2", "name": "seat.mute", "args": {"seat": "A2", "muted": True}},
    ]
    assert link.next_unsent() is None
    assert not link.settled


def test_unanswered_presses_are_sent_again_with_the_same_ids_after_a_reconnect() -> None:
    link = online()
    link.press("A1", Button.REQUEST)
    link.press("A1", Button.REQUEST)
    first = sent_all(link)
    link.receive({"t": "ack", "id": "x-1", "seq": 11})
    link.disconnected()
    link.hello()
    link.receive(welcome(seq=11, resumed=True, state=None))
    again = sent_all(link)
    assert [m["id"] for m in first] == ["x-1", "x-2"]
    assert [m["id"] for m in again] == ["x-2"]
    assert link.sends == 3
    assert link.resumes == 1
    link.receive({"t": "ack", "id": "x-2", "seq": 11})  # a duplicate's ack: the original seq
    link.receive({"t": "ack", "id": "x-2", "seq": 11})  # answered twice: counted once
    assert link.settled
    assert link.acked == 2


def test_a_refused_press_is_counted_logged_and_forgotten(caplog: pytest.LogCaptureFixture) -> None:
    link = online()
    link.press("Z9", Button.REQUEST)
    sent_all(link)
    with caplog.at_level(logging.WARNING, "floor.devices"):
        link.receive({"t": "error", "id": "x-1", "code": "forbidden", "message": "Not yours."})
    assert link.settled
    assert link.refused == {"forbidden": 1}
    assert "seat.request at seat Z9 refused: forbidden" in caplog.text


def test_an_error_without_our_id_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    link = online()
    with caplog.at_level(logging.WARNING, "floor.devices"):
        link.receive({"t": "error", "code": "bad_message", "message": "Not MessagePack"})
    assert "bad_message" in caplog.text
    assert link.refused == {}


@pytest.mark.parametrize("code", ["rate_limited", "internal"])
def test_a_press_refused_for_now_is_sent_again_a_few_times(code: str) -> None:
    link = online()
    link.press("A1", Button.REQUEST)
    for _ in range(RETRIES - 1):
        assert [m["id"] for m in sent_all(link)] == ["x-1"]
        link.receive({"t": "error", "id": "x-1", "code": code, "message": "later"})
        assert link.throttled
        link.throttled = False
    sent_all(link)
    link.receive({"t": "error", "id": "x-1", "code": code, "message": "later"})
    assert link.settled
    assert link.refused == {code: 1}


def test_every_welcome_drives_every_console_from_the_next_seats() -> None:
    """Reconciliation: after a reconnect the consoles end as the server says."""
    hw = Recording()
    link = online(hw)
    assert link.room == ("A1", "A2")
    link.receive(seats(10, ["A1"], []))
    assert hw.live == {"A1"}
    link.disconnected()
    hw.live.add("A2")  # opened locally while offline
    link.hello()
    link.receive(welcome(seq=14, resumed=True, state=None))
    hw.calls.clear()
    link.receive(seats(14, ["A1"], ["A2"]))  # the same as before the cut: driven anyway
    assert hw.live == {"A1"}
    assert hw.waiting == ["A2"]
    assert ("mic", "A2", False) in hw.calls
    assert link.seats is not None
    assert link.seats.seq == 14


def test_malformed_server_messages_are_ignored(caplog: pytest.LogCaptureFixture) -> None:
    hw = Recording()
    link = Link("tok", hw)
    link.hello()
    with caplog.at_level(logging.WARNING, "floor.devices"):
        link.receive({"t": "welcome", "you": "me", "seq": "x"})
        assert link.phase is LinkPhase.AWAITING_WELCOME
        link.receive(welcome())
        link.receive({"t": "seats", "seq": 3, "live": "A1", "waiting": []})
        link.receive({"t": "event", "seq": None, "name": 3, "data": []})
        link.receive({"t": "pong", "id": 1, "now": 5})
    assert "malformed welcome" in caplog.text
    assert "malformed seats" in caplog.text
    assert hw.calls == []
    assert link.phase is LinkPhase.ONLINE


def test_the_roster_names_who_sits_where() -> None:
    link = online()
    roster = link.roster
    occupant = roster.occupant("A1")
    assert occupant is not None
    assert occupant.name == "Ana"
    for name, data in [
        ("seat.assigned", {"seat": "A2", "participant": "p-3"}),
        ("mute.changed", {"participant": "p-3", "self_muted": True, "hard_muted": False}),
        ("participant.added", {"participant": {"id": "p-4", "name": "Cy", "seat": "A1"}}),
        ("seat.assigned", {"seat": "A1", "participant": None}),
        ("mute.all_set", {"participants": ["p-2", "p-404"]}),
    ]:
        link.receive({"t": "event", "seq": 20, "name": name, "data": data})
    bo = roster.occupant("A2")
    assert bo is not None
    assert (bo.name, bo.muted) == ("Bo", True)
    assert roster.occupant("A1") is None
    assert roster.people["p-2"].seat is None  # displaced by Cy, who then left the seat
    assert roster.people["p-2"].muted
    link.receive(
        {"t": "event", "seq": 21, "name": "participant.removed", "data": {"participant": "p-3"}}
    )
    assert roster.occupant("A2") is None


@pytest.mark.parametrize(
    ("code", "next_"),
    [
        (1001, Next.RECONNECT),
        (1006, Next.RECONNECT),
        (4002, Next.RECONNECT),
        (4008, Next.RECONNECT),
        (None, Next.RECONNECT),
        (1011, Next.RECONNECT),
        (4001, Next.STOP),
        (4003, Next.STOP),
        (1008, Next.STOP),
        (1009, Next.STOP),
        (4000, Next.STOP),
    ],
)
def test_each_close_code_of_section_7_is_handled_as_it_says(code: int | None, next_: Next) -> None:
    decision = after_close(code)
    assert decision.next is next_
    assert decision.fault == (code in (1008, 1009, 4000))


def test_the_close_policy_covers_every_code_of_the_protocol() -> None:
    assert set(CLOSE_POLICY) >= {1001, 1008, 1009, 4000, 4001, 4002, 4003, 4008}
