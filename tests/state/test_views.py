"""Views: who sees which event, the welcome snapshot per viewer, and the seats projection.

PROTOCOL.md sections 3, 5 (chat audiences) and 6 (`seats`).
"""

from __future__ import annotations

from typing import Any

import pytest

from floor.state import events as ev
from floor.state import views
from floor.state.model import Role
from floor.state.views import Viewer, event_visible, snapshot
from tests.state.scenario import Scenario


class Room:
    """A meeting with two chairs, two delegates, an observer, a display and a device."""

    def __init__(self) -> None:
        m = self.m = Scenario()
        self.chair = m.add("Chair", "UN", role="chair")
        self.vice = m.add("Vice", "UN", role="chair")
        self.ana = m.add("Ana", "FR")
        self.bo = m.add("Bo", "DE")
        self.obs = m.add("Olga", "NGO", role="observer")
        self.disp = m.add("Screen", "-", role="display")
        self.dev = m.device("Hall", ["A1"])

    def viewers(self) -> dict[str, Viewer]:
        return {
            "chair": Viewer(self.chair, Role.CHAIR),
            "vice": Viewer(self.vice, Role.CHAIR),
            "ana": Viewer(self.ana, Role.DELEGATE),
            "bo": Viewer(self.bo, Role.DELEGATE),
            "obs": Viewer(self.obs, Role.OBSERVER),
            "disp": Viewer(self.disp, Role.DISPLAY),
            "dev": Viewer(self.dev, None),
        }

    def post(self, sender: str, to: str, text: str = "hello") -> ev.ChatPosted:
        (event,) = self.m.when(sender, "chat.send", {"to": to, "text": text})
        assert isinstance(event.data, ev.ChatPosted)
        return event.data


def who_sees(room: Room, data: ev.EventData) -> set[str]:
    return {name for name, viewer in room.viewers().items() if event_visible(data, viewer)}


EVERYONE_BUT_DEVICE = {"chair", "vice", "ana", "bo", "obs", "disp"}


@pytest.mark.parametrize(
    ("sender", "to", "seen_by"),
    [
        ("ana", "all", EVERYONE_BUT_DEVICE),
        ("chair", "all", EVERYONE_BUT_DEVICE),
        ("ana", "chair", {"chair", "vice", "ana"}),
        ("obs", "chair", {"chair", "vice", "obs"}),
        ("chair", "chair", {"chair", "vice"}),
        ("ana", "bo", {"ana", "bo"}),
        ("bo", "obs", {"bo", "obs"}),
        ("chair", "ana", {"chair", "ana"}),
        ("ana", "vice", {"ana", "vice"}),
        ("chair", "vice", {"chair", "vice"}),
    ],
)
def test_chat_audiences(sender: str, to: str, seen_by: set[str]) -> None:
    """chat.posted and chat.deleted reach exactly the message's audience."""
    room = Room()
    ids = {name: viewer.id for name, viewer in room.viewers().items()}
    posted = room.post(ids[sender], to if to in ("all", "chair") else ids[to])
    assert who_sees(room, posted) == seen_by
    deleted = ev.ChatDeleted(posted.message, posted.sender, posted.to)
    assert who_sees(room, deleted) == seen_by
    if "chair" in seen_by:
        (event,) = room.m.when(room.chair, "chat.delete", {"message": posted.message})
        assert event.data == deleted


def test_chair_does_not_see_private_chat_between_delegates() -> None:
    """The chair role sees chat to `chair` but not a private message between two others."""
    room = Room()
    private = room.post(room.ana, room.bo)
    chair = Viewer(room.chair, Role.CHAIR)
    assert not event_visible(private, chair)
    assert event_visible(room.post(room.ana, "chair"), chair)
    assert room.m.rejects(room.chair, "chat.delete", {"message": private.message}) == "not_found"


def test_display_sees_only_chat_to_all() -> None:
    """A display sees chat to `all` and no other chat, even chat to the chair."""
    room = Room()
    disp = Viewer(room.disp, Role.DISPLAY)
    assert event_visible(room.post(room.ana, "all"), disp)
    assert not event_visible(room.post(room.ana, "chair"), disp)
    assert not event_visible(ev.ChatPosted("x-1", "p-9", room.disp, "psst", 1), disp)
    assert not event_visible(ev.ChatPosted("x-1", room.disp, "chair", "hi", 1), disp)


def test_device_sees_no_chat() -> None:
    """A device sees no chat at all, not even chat to `all` or addressed to its id."""
    room = Room()
    dev = Viewer(room.dev, None)
    assert not event_visible(room.post(room.ana, "all"), dev)
    assert not event_visible(ev.ChatPosted("x-1", room.ana, room.dev, "hi", 1), dev)
    assert not event_visible(ev.ChatDeleted("x-1", room.ana, "all"), dev)


@pytest.mark.parametrize(
    "data",
    [
        ev.ListClosed(),
        ev.QueueCleared(),
        ev.FloorTimeExpired("p-3"),
        ev.MuteChanged("p-3", self_muted=True, hard_muted=False),
        ev.ParticipantRemoved("p-3"),
        ev.SeatAssigned("A1", None),
    ],
    ids=lambda d: d.name,
)
def test_non_chat_events_reach_everyone(data: ev.EventData) -> None:
    """Every event that is not chat reaches every viewer, devices and displays included."""
    room = Room()
    assert who_sees(room, data) == {*EVERYONE_BUT_DEVICE, "dev"}


# --- snapshot ------------------------------------------------------------------------------

STATE_KEYS = {
    "meeting",
    "participants",
    "queue",
    "floor",
    "interrupted",
    "list_open",
    "chat",
    "seats",
}


def busy_room() -> Room:
    """A room with a speaker, an interrupted speaker, a queue, seats and chat of all kinds."""
    room = Room()
    m = room.m
    m.given(room.chair, "seat.assign", {"seat": "A1", "participant": room.ana})
    m.given(room.ana, "floor.request", {"lang": "fr"})
    m.given(room.chair, "floor.grant", {"limit_s": 120})
    m.tick(2_500)
    m.given(room.bo, "floor.request", {"kind": "point_of_order"})
    m.given(room.chair, "floor.grant", {})
    m.given(room.chair, "floor.request", {"participant": room.obs})
    m.given(room.chair, "list.close")
    for sender, to in [
        (room.ana, "all"),
        (room.ana, "chair"),
        (room.ana, room.bo),
        (room.chair, room.obs),
    ]:
        room.post(sender, to, f"{sender}->{to}")
    return room


def test_snapshot_shape() -> None:
    """The snapshot has PROTOCOL.md section 3's `state` keys, with wire shapes, no presence."""
    room = busy_room()
    state = snapshot(room.m.state, Viewer(room.chair, Role.CHAIR))
    assert set(state) >= STATE_KEYS
    assert "presence" not in state
    assert state["meeting"]["id"] == "m-1"
    assert state["meeting"]["status"] == "open"
    assert set(state["meeting"]["settings"]) == {
        "default_limit_s",
        "floor_mode",
        "cut_at_limit",
        "observers_may_speak",
        "one_request_per_delegation",
    }
    assert set(state["participants"]) == {
        room.chair,
        room.vice,
        room.ana,
        room.bo,
        room.obs,
        room.disp,
    }
    assert state["participants"][room.ana]["seat"] == "A1"
    assert state["participants"][room.ana]["attendance"] == "remote"
    assert state["queue"] == [
        {
            "id": state["queue"][0]["id"],
            "participant": room.obs,
            "kind": "speak",
            "lang": "en",
            "at": room.m.now,
            "via": "browser",
        }
    ]
    assert state["floor"]["participant"] == room.bo
    assert state["floor"]["kind"] == "point_of_order"
    assert state["floor"]["used_s"] == 0
    assert [f["participant"] for f in state["interrupted"]] == [room.ana]
    assert state["interrupted"][0]["used_s"] == 2.5
    assert state["interrupted"][0]["running_since"] is None
    assert state["interrupted"][0]["limit_s"] == 120
    assert state["list_open"] is False
    assert state["seats"] == {"A1": room.ana}
    assert state["devices"] == {room.dev: {"id": room.dev, "name": "Hall", "seats": ["A1"]}}


def chat_texts(state: dict[str, Any]) -> list[str]:
    return [m["text"] for m in state["chat"]]


def test_snapshot_chat_per_viewer() -> None:
    """Each viewer's snapshot holds only the chat it may see, in order, with `from`."""
    room = busy_room()
    a, b, c, o = room.ana, room.bo, room.chair, room.obs
    expect = {
        Viewer(c, Role.CHAIR): [f"{a}->all", f"{a}->chair", f"{c}->{o}"],
        Viewer(room.vice, Role.CHAIR): [f"{a}->all", f"{a}->chair"],
        Viewer(a, Role.DELEGATE): [f"{a}->all", f"{a}->chair", f"{a}->{b}"],
        Viewer(b, Role.DELEGATE): [f"{a}->all", f"{a}->{b}"],
        Viewer(o, Role.OBSERVER): [f"{a}->all", f"{c}->{o}"],
        Viewer(room.disp, Role.DISPLAY): [f"{a}->all"],
        Viewer(room.dev, None): [],
    }
    for viewer, texts in expect.items():
        state = snapshot(room.m.state, viewer)
        assert chat_texts(state) == texts, viewer
        for message in state["chat"]:
            assert set(message) == {"id", "from", "to", "text", "at"}
    first = snapshot(room.m.state, Viewer(a, Role.DELEGATE))["chat"][0]
    assert first["from"] == a
    assert first["to"] == "all"


def test_admin_snapshot_shows_every_chairs_chat_but_no_private_exchange_of_others() -> None:
    """The admin API sees chat to all and to the chair, and private chat sent by or to any
    chair — never a private exchange between two other participants."""
    room = busy_room()
    room.post(room.bo, room.vice, f"{room.bo}->{room.vice}")
    a, b, c, o = room.ana, room.bo, room.chair, room.obs
    state = views.admin_snapshot(room.m.state)
    assert chat_texts(state) == [f"{a}->all", f"{a}->chair", f"{c}->{o}", f"{b}->{room.vice}"]
    assert {k: v for k, v in state.items() if k != "chat"} == {
        k: v for k, v in snapshot(room.m.state, Viewer(c, Role.CHAIR)).items() if k != "chat"
    }


def test_snapshot_differs_only_in_chat() -> None:
    """Apart from chat, every viewer gets the same state (the public part)."""
    room = busy_room()
    states = [snapshot(room.m.state, viewer) for viewer in room.viewers().values()]
    for state in states:
        state.pop("chat")
    assert all(state == states[0] for state in states)


def test_snapshot_chat_window() -> None:
    """The snapshot carries the CHAT_WINDOW most recent messages that viewer may see."""
    room = Room()
    total = views.CHAT_WINDOW + 30
    seen_by_bo: list[str] = []
    for i in range(total):
        room.post(room.ana, "all", f"all {i}")
        seen_by_bo.append(f"all {i}")
        if i % 3 == 0:
            room.post(room.chair, room.bo, f"private {i}")
            seen_by_bo.append(f"private {i}")
    ana = snapshot(room.m.state, Viewer(room.ana, Role.DELEGATE))
    assert chat_texts(ana) == [f"all {i}" for i in range(total - views.CHAT_WINDOW, total)]
    bo = chat_texts(snapshot(room.m.state, Viewer(room.bo, Role.DELEGATE)))
    assert bo == seen_by_bo[-views.CHAT_WINDOW :]
    assert views.CHAT_WINDOW >= 100


def test_snapshot_of_a_quiet_meeting() -> None:
    """No floor, no queue, no chat: floor null and empty lists."""
    m = Scenario()
    state = snapshot(m.state, Viewer("p-1", Role.DELEGATE))
    assert state["floor"] is None
    assert state["interrupted"] == []
    assert state["queue"] == []
    assert state["chat"] == []
    assert state["participants"] == {}
    assert state["seats"] == {}
    assert state["list_open"] is True


# --- seats ---------------------------------------------------------------------------------


class Hall:
    """Two rooms, each with its own device, and participants seated in both."""

    def __init__(self) -> None:
        m = self.m = Scenario()
        self.chair = m.add("Chair", "UN", role="chair", seat="A1")
        self.vice = m.add("Vice", "UN", role="chair", seat="B1")
        self.ana = m.add("Ana", "FR", seat="A2")
        self.bo = m.add("Bo", "DE", seat="A3")
        self.cy = m.add("Cy", "IT", seat="B2")
        self.di = m.add("Di", "ES", seat="B3")
        self.remote = m.add("Eve", "PT")
        self.room_a = m.device("Room A", ["A1", "A2", "A3", "A4"])
        self.room_b = m.device("Room B", ["B1", "B2", "B3"])

    def seats(self, device: str) -> views.SeatPlan:
        return views.seats(self.m.state, self.m.state.devices[device])


def test_seats_of_a_quiet_hall() -> None:
    """Chairs join self-muted: nothing is live, nobody waits."""
    hall = Hall()
    for device in (hall.room_a, hall.room_b):
        assert hall.seats(device) == views.SeatPlan((), (), ())


def test_seats_live_and_waiting_per_room() -> None:
    """Live seats are the room's seats of live participants; waiting ones in queue order."""
    hall = Hall()
    m = hall.m
    m.given(hall.vice, "mute.set", {"muted": False})
    m.given(hall.cy, "floor.request")
    m.given(hall.bo, "floor.request")
    m.given(hall.remote, "floor.request")
    m.given(hall.di, "floor.request")
    m.given(hall.ana, "floor.request")
    m.given(hall.chair, "floor.grant", {})
    a, b = hall.seats(hall.room_a), hall.seats(hall.room_b)
    assert a.live == ()
    assert b.live == ("B1", "B2")
    assert a.waiting == ("A3", "A2")
    assert b.waiting == ("B3",)
    assert a.live_participants == b.live_participants == (hall.cy, hall.vice)
    (moved,) = m.when(hall.chair, "floor.move", {"request": m.state.queue[-1].id, "position": 0})
    assert moved.name == "floor.moved"
    a, b = hall.seats(hall.room_a), hall.seats(hall.room_b)
    assert a.waiting == ("A2", "A3")
    assert b.waiting == ("B3",)
    m.given(hall.chair, "queue.clear")
    assert hall.seats(hall.room_a).waiting == hall.seats(hall.room_b).waiting == ()
    assert hall.seats(hall.room_b).live == ("B1", "B2")


def test_live_participants_speaker_first_then_live_chairs() -> None:
    """live_participants lists the speaker first, then the live chairs in roster order."""
    hall = Hall()
    m = hall.m
    m.given(hall.vice, "mute.set", {"muted": False})
    m.given(hall.chair, "mute.set", {"muted": False})
    m.given(hall.chair, "floor.grant", {"participant": hall.remote})
    a = hall.seats(hall.room_a)
    assert a.live == ("A1",)
    assert a.live_participants == (hall.remote, hall.chair, hall.vice)
    m.given(hall.chair, "floor.grant", {"participant": hall.vice})
    assert hall.seats(hall.room_a).live_participants == (hall.vice, hall.chair)
    assert hall.seats(hall.room_b).live == ("B1",)


def test_muted_speaker_is_not_live() -> None:
    """A self-muted speaker's seat is not live, and they are not a live participant."""
    hall = Hall()
    m = hall.m
    m.given(hall.chair, "floor.grant", {"participant": hall.ana})
    assert hall.seats(hall.room_a).live == ("A2",)
    m.given(hall.room_a, "seat.mute", {"seat": "A2", "muted": True})
    assert hall.seats(hall.room_a) == views.SeatPlan((), (), ())


def test_seats_follow_reassignment() -> None:
    """Giving a taken seat to another moves it in the projection; unassigning empties it."""
    hall = Hall()
    m = hall.m
    m.given(hall.ana, "floor.request")
    m.given(hall.chair, "seat.assign", {"seat": "A2", "participant": hall.cy})
    assert m.state.participants[hall.ana].seat is None
    assert m.state.participants[hall.cy].seat == "A2"
    assert m.state.seats["A2"] == hall.cy
    assert "B2" not in m.state.seats
    assert hall.seats(hall.room_a).waiting == ()
    m.given(hall.cy, "floor.request")
    assert hall.seats(hall.room_a).waiting == ("A2",)
    assert hall.seats(hall.room_b).waiting == ()
    m.given(hall.chair, "seat.assign", {"seat": "A2", "participant": None})
    assert "A2" not in m.state.seats
    assert m.state.participants[hall.cy].seat is None
    assert hall.seats(hall.room_a).waiting == ()
    assert m.when(hall.chair, "seat.assign", {"seat": "A2", "participant": None}) == []
