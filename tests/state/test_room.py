"""Given/when/then tests of the room rules: microphones, chat, the meeting, settings,
seats, room devices and the admin roster (floor/state/room_rules.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from floor.state import Accepted, Rejection, decide, parse_command
from floor.state import commands as cmd
from floor.state.model import CHAT_KEPT, ChatMessage, Role, State
from floor.state.room_rules import chat_visible_to_role
from tests.state.scenario import T0, Scenario, data, names


@dataclass
class Room:
    """A meeting with a chair, two delegates, an observer and a room display."""

    m: Scenario
    chair: str
    ana: str
    ben: str
    obs: str
    screen: str


@pytest.fixture
def room() -> Room:
    m = Scenario()
    chair = m.add("Chair", "UN", role="chair")
    ana = m.add("Ana", "FR", lang="fr")
    ben = m.add("Ben", "DE")
    obs = m.add("Olga", "IGO", role="observer")
    screen = m.add("Screen", "Room", role="display")
    return Room(m, chair, ana, ben, obs, screen)


def participant(m: Scenario, pid: str) -> Any:
    return m.state.participants[pid]


def seats_consistent(state: State) -> bool:
    """`state.seats` and every `Participant.seat` say the same thing."""
    from_participants = {p.seat: p.id for p in state.participants.values() if p.seat is not None}
    return from_participants == dict(state.seats)


def admin_rejects(m: Scenario, name: str, body: dict[str, Any]) -> str:
    before = m.state
    outcome = m.admin_decide(name, body)
    assert isinstance(outcome, Rejection), f"accepted: {outcome}"
    assert m.state is before
    return outcome.code.value


# --- mute.set ------------------------------------------------------------------------------


def test_self_mute_and_unmute_are_soft(room: Room) -> None:
    """A delegate mutes and unmutes themself: mute.changed with self_muted only."""
    m = room.m
    (event,) = m.when(room.ana, "mute.set", {"muted": True})
    assert event.name == "mute.changed"
    assert event.by == room.ana
    assert data(event) == {"participant": room.ana, "self_muted": True, "hard_muted": False}
    (event,) = m.when(room.ana, "mute.set", {"muted": False, "participant": room.ana})
    assert data(event) == {"participant": room.ana, "self_muted": False, "hard_muted": False}
    assert not participant(m, room.ana).self_muted


def test_hard_muted_delegate_may_mute_but_not_unmute(room: Room) -> None:
    """A hard-muted delegate cannot unmute themself (forbidden) but may still self-mute."""
    m = room.m
    m.given(room.chair, "mute.set", {"muted": True, "participant": room.ana})
    assert m.rejects(room.ana, "mute.set", {"muted": False}) == "forbidden"
    (event,) = m.when(room.ana, "mute.set", {"muted": True})
    assert data(event) == {"participant": room.ana, "self_muted": True, "hard_muted": True}
    assert m.rejects(room.ana, "mute.set", {"muted": False}) == "forbidden"


def test_chair_hard_mutes_and_unmutes_another(room: Room) -> None:
    """The chair on another participant sets the hard mute and leaves self_muted alone."""
    m = room.m
    m.given(room.ana, "mute.set", {"muted": True})
    (event,) = m.when(room.chair, "mute.set", {"muted": True, "participant": room.ana})
    assert event.by == room.chair
    assert data(event) == {"participant": room.ana, "self_muted": True, "hard_muted": True}
    (event,) = m.when(room.chair, "mute.set", {"muted": False, "participant": room.ana})
    assert data(event) == {"participant": room.ana, "self_muted": True, "hard_muted": False}
    assert participant(m, room.ana).self_muted
    assert not participant(m, room.ana).hard_muted


def test_chair_may_hard_mute_an_observer_and_another_chair(room: Room) -> None:
    """The chair's hard mute applies to observers and to other chair-role participants."""
    m = room.m
    vice = m.add("Vice", "UN", role="chair")
    (event,) = m.when(room.chair, "mute.set", {"muted": True, "participant": room.obs})
    assert data(event)["hard_muted"] is True
    (event,) = m.when(room.chair, "mute.set", {"muted": True, "participant": vice})
    assert data(event) == {"participant": vice, "self_muted": True, "hard_muted": True}
    assert m.rejects(vice, "mute.set", {"muted": False}) == "forbidden"


def test_delegate_may_not_mute_another(room: Room) -> None:
    """Only the chair may mute someone else: a delegate naming another is forbidden."""
    m = room.m
    assert m.rejects(room.ana, "mute.set", {"muted": True, "participant": room.ben}) == "forbidden"
    assert m.rejects(room.obs, "mute.set", {"muted": True, "participant": room.ben}) == "forbidden"


def test_mute_unknown_participant_is_not_found(room: Room) -> None:
    """The chair muting an unknown participant id gets not_found."""
    assert room.m.rejects(room.chair, "mute.set", {"muted": True, "participant": "p-99"}) == (
        "not_found"
    )


def test_muting_a_display_is_a_conflict(room: Room) -> None:
    """A display has no microphone: muting it is a conflict."""
    m = room.m
    assert m.rejects(room.chair, "mute.set", {"muted": True, "participant": room.screen}) == (
        "conflict"
    )


def test_displays_may_not_mute(room: Room) -> None:
    """A display may not send mute.set at all."""
    assert room.m.rejects(room.screen, "mute.set", {"muted": True}) == "forbidden"


@pytest.mark.parametrize(
    ("first", "again"),
    [
        ({"muted": True}, {"muted": True}),
        ({"muted": False}, {"muted": False}),
    ],
)
def test_self_mute_without_change_emits_nothing(room: Room, first: Any, again: Any) -> None:
    """Muting a muted microphone (or unmuting an unmuted one) emits no event."""
    m = room.m
    m.given(room.ana, "mute.set", first)
    assert m.when(room.ana, "mute.set", again) == []


def test_hard_mute_without_change_emits_nothing(room: Room) -> None:
    """The chair re-applying a hard mute, or lifting one that is not there, emits nothing."""
    m = room.m
    assert m.when(room.chair, "mute.set", {"muted": False, "participant": room.ana}) == []
    m.given(room.chair, "mute.set", {"muted": True, "participant": room.ana})
    assert m.when(room.chair, "mute.set", {"muted": True, "participant": room.ana}) == []


def test_chair_muting_themself_is_soft(room: Room) -> None:
    """The chair naming themself sets their own soft mute, not a hard mute."""
    m = room.m
    (event,) = m.when(room.chair, "mute.set", {"muted": False, "participant": room.chair})
    assert data(event) == {"participant": room.chair, "self_muted": False, "hard_muted": False}
    (event,) = m.when(room.chair, "mute.set", {"muted": True})
    assert data(event) == {"participant": room.chair, "self_muted": True, "hard_muted": False}


def test_chairs_join_self_muted(room: Room) -> None:
    """Chair-role participants join self-muted; delegates, observers and displays do not."""
    m = room.m
    assert participant(m, room.chair).self_muted
    for pid in (room.ana, room.ben, room.obs, room.screen):
        assert not participant(m, pid).self_muted


# --- mute.all ------------------------------------------------------------------------------


def test_mute_all_spares_speaker_exceptions_chairs_and_displays(room: Room) -> None:
    """mute.all hard-mutes delegates and observers but the speaker and the `except` list."""
    m = room.m
    cleo = m.add("Cleo", "IT")
    dan = m.add("Dan", "ES")
    m.given(room.chair, "mute.set", {"muted": True, "participant": dan})  # already muted
    m.given(room.ana, "floor.request")
    m.given(room.chair, "floor.grant")
    (event,) = m.when(room.chair, "mute.all", {"except": [room.ben]})
    assert event.name == "mute.all_set"
    assert data(event) == {"participants": [room.obs, cleo]}
    hard = {pid for pid, p in m.state.participants.items() if p.hard_muted}
    assert hard == {room.obs, cleo, dan}


def test_mute_all_without_exceptions(room: Room) -> None:
    """With nobody speaking and no exceptions, every delegate and observer is muted."""
    (event,) = room.m.when(room.chair, "mute.all")
    assert data(event) == {"participants": [room.ana, room.ben, room.obs]}


def test_mute_all_unknown_exception_is_not_found(room: Room) -> None:
    """An unknown id in `except` rejects the whole command with not_found."""
    assert room.m.rejects(room.chair, "mute.all", {"except": [room.ana, "p-99"]}) == "not_found"


def test_mute_all_with_nobody_left_emits_nothing(room: Room) -> None:
    """When everyone is spared or muted already, mute.all emits no event."""
    m = room.m
    m.given(room.chair, "mute.all", {"except": [room.ana]})
    assert m.when(room.chair, "mute.all", {"except": [room.ana]}) == []
    assert m.when(room.chair, "mute.all") != []
    assert m.when(room.chair, "mute.all") == []


def test_mute_all_is_for_the_chair(room: Room) -> None:
    """A delegate may not mute everyone."""
    assert room.m.rejects(room.ana, "mute.all") == "forbidden"


# --- the live-microphone rule ----------------------------------------------------------------


def test_unmuted_speaker_is_live(room: Room) -> None:
    """The speaker's microphone is live when unmuted; a muted speaker's is not."""
    m = room.m
    m.given(room.ana, "floor.request")
    m.given(room.chair, "floor.grant")
    assert m.state.is_live(participant(m, room.ana))
    assert m.state.live_participants() == (room.ana,)
    m.given(room.ana, "mute.set", {"muted": True})
    assert not m.state.is_live(participant(m, room.ana))
    assert m.state.live_participants() == ()
    m.given(room.ana, "mute.set", {"muted": False})
    m.given(room.chair, "mute.set", {"muted": True, "participant": room.ana})
    assert not m.state.is_live(participant(m, room.ana))


def test_unmuted_chair_is_live_without_the_floor(room: Room) -> None:
    """A chair-role participant is live when unmuted; a delegate without the floor never."""
    m = room.m
    assert not m.state.is_live(participant(m, room.chair))
    assert not m.state.is_live(participant(m, room.ben))
    m.given(room.chair, "mute.set", {"muted": False})
    assert m.state.is_live(participant(m, room.chair))
    assert m.state.live_participants() == (room.chair,)


def test_live_participants_lists_the_speaker_first(room: Room) -> None:
    """live_participants: the live speaker first, then the live chairs in roster order."""
    m = room.m
    vice = m.add("Vice", "UN", role="chair")
    m.given(vice, "mute.set", {"muted": False})
    m.given(room.chair, "mute.set", {"muted": False})
    m.given(room.ben, "floor.request")
    m.given(room.chair, "floor.grant")
    assert m.state.live_participants() == (room.ben, room.chair, vice)
    m.given(room.chair, "floor.request")
    m.given(room.chair, "floor.grant")
    assert m.state.live_participants() == (room.chair, vice)


# --- chat.send -----------------------------------------------------------------------------


@pytest.mark.parametrize("to", ["all", "chair"])
def test_chat_to_all_and_to_chair(room: Room, to: str) -> None:
    """A delegate writes to all or to the chair: chat.posted with the message's data."""
    m = room.m
    m.tick(1234)
    (event,) = m.when(room.ana, "chat.send", {"to": to, "text": "Bonjour"})
    assert event.name == "chat.posted"
    assert event.by == room.ana
    assert data(event) == {
        "message": f"x-{event.seq}",
        "from": room.ana,
        "to": to,
        "text": "Bonjour",
        "at": T0 + 1234,
    }
    (message,) = m.state.chat
    assert (message.id, message.sender, message.to, message.text) == (
        f"x-{event.seq}",
        room.ana,
        to,
        "Bonjour",
    )


def test_chat_to_a_participant(room: Room) -> None:
    """A private message names its recipient; observers and chairs may write too."""
    m = room.m
    (event,) = m.when(room.ana, "chat.send", {"to": room.ben, "text": "Hi"})
    assert data(event)["to"] == room.ben
    (event,) = m.when(room.obs, "chat.send", {"to": room.chair, "text": "Hi"})
    assert data(event)["from"] == room.obs
    (event,) = m.when(room.chair, "chat.send", {"to": room.obs, "text": "Hello"})
    assert data(event)["to"] == room.obs


def test_chat_to_yourself_is_invalid(room: Room) -> None:
    """Writing to yourself is invalid_args naming `to`."""
    rejection = room.m.rejection(room.ana, "chat.send", {"to": room.ana, "text": "me"})
    assert (rejection.code.value, rejection.field) == ("invalid_args", "to")


@pytest.mark.parametrize("to", ["p-99", "screen"])
def test_chat_to_unknown_or_display_is_not_found(room: Room, to: str) -> None:
    """Writing to an unknown participant or to a display is not_found."""
    recipient = room.screen if to == "screen" else to
    assert room.m.rejects(room.ana, "chat.send", {"to": recipient, "text": "x"}) == "not_found"


@pytest.mark.parametrize("text", [" ", "\n\t ", "\u3000"])
def test_blank_chat_is_invalid(room: Room, text: str) -> None:
    """A message of only white space is invalid_args naming `text`."""
    rejection = room.m.rejection(room.ana, "chat.send", {"to": "all", "text": text})
    assert (rejection.code.value, rejection.field) == ("invalid_args", "text")


def test_displays_and_devices_may_not_chat(room: Room) -> None:
    """Displays and room devices may not send chat (forbidden)."""
    m = room.m
    console = m.device("Room", ["A1"])
    assert m.rejects(room.screen, "chat.send", {"to": "all", "text": "x"}) == "forbidden"
    assert m.rejects(console, "chat.send", {"to": "all", "text": "x"}) == "forbidden"


def test_chat_allowed_while_suspended_not_while_closed(room: Room) -> None:
    """Chat goes on while the meeting is suspended; a closed meeting takes none."""
    m = room.m
    m.given(room.chair, "meeting.set_status", {"status": "suspended"})
    assert names(m.when(room.ana, "chat.send", {"to": "all", "text": "x"})) == ["chat.posted"]
    m.given(room.chair, "meeting.set_status", {"status": "closed"})
    assert m.rejects(room.ana, "chat.send", {"to": "all", "text": "x"}) == "meeting_closed"
    assert m.rejects(room.chair, "chat.send", {"to": "all", "text": "x"}) == "meeting_closed"


def test_state_keeps_the_last_chat_messages(room: Room) -> None:
    """The state keeps only the most recent model.CHAT_KEPT chat messages."""
    m = room.m
    first = m.when(room.ana, "chat.send", {"to": "all", "text": "0"})[0].seq
    for i in range(1, CHAT_KEPT + 1):
        m.given(room.ana, "chat.send", {"to": "all", "text": str(i)})
    assert len(m.state.chat) == CHAT_KEPT
    assert m.state.chat[0].text == "1"
    assert m.state.chat[-1].text == str(CHAT_KEPT)
    assert all(msg.id != f"x-{first}" for msg in m.state.chat)


@pytest.mark.parametrize(
    ("to", "viewer", "role", "sees"),
    [
        ("all", "p-9", Role.DELEGATE, True),
        ("all", "p-9", Role.DISPLAY, True),
        ("all", "d-9", None, False),
        ("chair", "p-9", Role.CHAIR, True),
        ("chair", "p-3", Role.DELEGATE, True),
        ("chair", "p-9", Role.DELEGATE, False),
        ("chair", "p-9", Role.DISPLAY, False),
        ("p-4", "p-3", Role.DELEGATE, True),
        ("p-4", "p-4", Role.OBSERVER, True),
        ("p-4", "p-9", Role.CHAIR, False),
        ("p-4", "p-9", Role.DISPLAY, False),
    ],
)
def test_chat_audience(to: str, viewer: str, role: Role | None, sees: bool) -> None:
    """Who sees a message from p-3: all but devices; chair role and sender; the two parties."""
    message = ChatMessage("x-1", "p-3", to, "text", T0)
    assert chat_visible_to_role(message, viewer, role) is sees


# --- chat.delete ---------------------------------------------------------------------------


@pytest.mark.parametrize("to", ["all", "chair", "private"])
def test_chair_deletes_a_message_it_can_see(room: Room, to: str) -> None:
    """The chair deletes a message to all, to the chair, or private with this chair."""
    m = room.m
    recipient = room.chair if to == "private" else to
    (posted,) = m.when(room.ana, "chat.send", {"to": recipient, "text": "oops"})
    message = data(posted)["message"]
    (event,) = m.when(room.chair, "chat.delete", {"message": message})
    assert event.name == "chat.deleted"
    assert data(event) == {"message": message, "from": room.ana, "to": recipient}
    assert m.state.chat == ()


def test_chair_deletes_its_own_private_message(room: Room) -> None:
    """A private message the chair sent is the chair's to delete."""
    m = room.m
    (posted,) = m.when(room.chair, "chat.send", {"to": room.ben, "text": "psst"})
    (event,) = m.when(room.chair, "chat.delete", {"message": data(posted)["message"]})
    assert data(event) == {"message": data(posted)["message"], "from": room.chair, "to": room.ben}


def test_chair_cannot_delete_private_chat_between_delegates(room: Room) -> None:
    """A private message between two delegates is invisible to the chair: not_found."""
    m = room.m
    (posted,) = m.when(room.ana, "chat.send", {"to": room.ben, "text": "secret"})
    assert m.rejects(room.chair, "chat.delete", {"message": data(posted)["message"]}) == (
        "not_found"
    )


def test_delete_unknown_message_is_not_found(room: Room) -> None:
    """Deleting a message id that is not in the chat is not_found."""
    m = room.m
    m.given(room.ana, "chat.send", {"to": "all", "text": "x"})
    assert m.rejects(room.chair, "chat.delete", {"message": "x-999"}) == "not_found"


def test_only_the_chair_deletes_chat(room: Room) -> None:
    """Delegates, even the author, may not delete chat messages."""
    m = room.m
    (posted,) = m.when(room.ana, "chat.send", {"to": "all", "text": "x"})
    assert m.rejects(room.ana, "chat.delete", {"message": data(posted)["message"]}) == ("forbidden")


# --- meeting.set_status --------------------------------------------------------------------


def test_status_goes_through_every_value_and_back(room: Room) -> None:
    """The chair sets the status to suspended, closed and open again, one event each."""
    m = room.m
    for status in ("suspended", "closed", "open", "closed", "suspended", "open"):
        (event,) = m.when(room.chair, "meeting.set_status", {"status": status})
        assert event.name == "meeting.status_changed"
        assert data(event) == {"status": status}
        assert m.state.meeting is not None
        assert m.state.meeting.status.value == status


@pytest.mark.parametrize("status", ["open", "suspended", "closed"])
def test_unchanged_status_emits_nothing(room: Room, status: str) -> None:
    """Setting the status the meeting already has emits no event."""
    m = room.m
    if status != "open":
        m.given(room.chair, "meeting.set_status", {"status": status})
    assert m.when(room.chair, "meeting.set_status", {"status": status}) == []


def test_only_the_chair_sets_the_status(room: Room) -> None:
    """A delegate may not change the meeting's status."""
    assert room.m.rejects(room.ana, "meeting.set_status", {"status": "closed"}) == "forbidden"


def test_closed_meeting_takes_only_the_chairs_status_change(room: Room) -> None:
    """While closed: every command but the chair's meeting.set_status is meeting_closed."""
    m = room.m
    m.given(room.chair, "meeting.set_status", {"status": "closed"})
    assert m.rejects(room.chair, "mute.all") == "meeting_closed"
    assert m.rejects(room.ana, "mute.set", {"muted": True}) == "meeting_closed"
    assert m.rejects(room.ana, "meeting.set_status", {"status": "open"}) == "forbidden"


# --- settings.update -----------------------------------------------------------------------


def test_settings_update_is_partial_and_carries_all_settings(room: Room) -> None:
    """A partial settings.update changes what it names; settings.changed carries them all."""
    m = room.m
    (event,) = m.when(room.chair, "settings.update", {"default_limit_s": 60})
    assert event.name == "settings.changed"
    assert data(event) == {
        "settings": {
            "default_limit_s": 60,
            "floor_mode": "manual",
            "cut_at_limit": False,
            "observers_may_speak": False,
            "one_request_per_delegation": False,
        }
    }
    (event,) = m.when(
        room.chair,
        "settings.update",
        {
            "floor_mode": "auto",
            "cut_at_limit": True,
            "observers_may_speak": True,
            "one_request_per_delegation": True,
        },
    )
    assert data(event) == {
        "settings": {
            "default_limit_s": 60,
            "floor_mode": "auto",
            "cut_at_limit": True,
            "observers_may_speak": True,
            "one_request_per_delegation": True,
        }
    }
    assert m.state.settings.default_limit_s == 60
    assert m.state.settings.observers_may_speak


@pytest.mark.parametrize(
    "args", [{}, {"default_limit_s": 180}, {"floor_mode": "manual", "cut_at_limit": False}]
)
def test_unchanged_settings_emit_nothing(room: Room, args: dict[str, Any]) -> None:
    """A settings.update that changes nothing emits no event."""
    assert room.m.when(room.chair, "settings.update", args) == []


def test_only_the_chair_updates_settings(room: Room) -> None:
    """A delegate may not change the settings."""
    assert room.m.rejects(room.ana, "settings.update", {"cut_at_limit": True}) == "forbidden"


# --- seat.assign ---------------------------------------------------------------------------


def test_assign_a_seat(room: Room) -> None:
    """The chair seats a participant: seat.assigned, and seats and Participant.seat agree."""
    m = room.m
    (event,) = m.when(room.chair, "seat.assign", {"seat": "A1", "participant": room.ana})
    assert event.name == "seat.assigned"
    assert data(event) == {"seat": "A1", "participant": room.ana}
    assert m.state.seats == {"A1": room.ana}
    assert participant(m, room.ana).seat == "A1"
    assert seats_consistent(m.state)


def test_reassign_a_seat(room: Room) -> None:
    """Seating someone else takes the seat from its occupant; moving frees the old seat."""
    m = room.m
    m.given(room.chair, "seat.assign", {"seat": "A1", "participant": room.ana})
    m.given(room.chair, "seat.assign", {"seat": "A2", "participant": room.ben})
    m.when(room.chair, "seat.assign", {"seat": "A1", "participant": room.ben})
    assert m.state.seats == {"A1": room.ben}
    assert participant(m, room.ana).seat is None
    assert participant(m, room.ben).seat == "A1"
    assert seats_consistent(m.state)
    m.when(room.chair, "seat.assign", {"seat": "B7", "participant": room.ben})
    assert m.state.seats == {"B7": room.ben}
    assert seats_consistent(m.state)


def test_assigning_the_same_seat_again_emits_nothing(room: Room) -> None:
    """Seating a participant where they already sit emits no event."""
    m = room.m
    m.given(room.chair, "seat.assign", {"seat": "A1", "participant": room.ana})
    assert m.when(room.chair, "seat.assign", {"seat": "A1", "participant": room.ana}) == []


def test_clear_a_seat(room: Room) -> None:
    """participant null empties the seat; clearing an empty seat emits nothing."""
    m = room.m
    m.given(room.chair, "seat.assign", {"seat": "A1", "participant": room.ana})
    (event,) = m.when(room.chair, "seat.assign", {"seat": "A1", "participant": None})
    assert data(event) == {"seat": "A1", "participant": None}
    assert m.state.seats == {}
    assert participant(m, room.ana).seat is None
    assert seats_consistent(m.state)
    assert m.when(room.chair, "seat.assign", {"seat": "A1", "participant": None}) == []
    assert m.when(room.chair, "seat.assign", {"seat": "Z9"}) == []


def test_assign_seat_to_unknown_is_not_found(room: Room) -> None:
    """Seating an unknown participant is not_found."""
    assert room.m.rejects(room.chair, "seat.assign", {"seat": "A1", "participant": "p-99"}) == (
        "not_found"
    )


def test_assign_seat_to_display_is_a_conflict(room: Room) -> None:
    """A display cannot have a seat: conflict."""
    assert room.m.rejects(
        room.chair, "seat.assign", {"seat": "A1", "participant": room.screen}
    ) == ("conflict")


def test_only_the_chair_assigns_seats(room: Room) -> None:
    """A delegate may not assign seats."""
    assert room.m.rejects(room.ana, "seat.assign", {"seat": "A1", "participant": room.ana}) == (
        "forbidden"
    )


# --- room devices --------------------------------------------------------------------------


@dataclass
class Rooms:
    """Two rooms, each with its conference-microphone device; Ana at A1, Ben at B1."""

    m: Scenario
    chair: str
    ana: str
    ben: str
    cleo: str
    north: str
    south: str


@pytest.fixture
def rooms() -> Rooms:
    m = Scenario()
    chair = m.add("Chair", "UN", role="chair")
    ana = m.add("Ana", "FR", seat="A1", lang="fr")
    ben = m.add("Ben", "DE", seat="B1")
    cleo = m.add("Cleo", "IT")
    north = m.device("North room", ["A1", "A2", "A3"])
    south = m.device("South room", ["B1", "B2"])
    return Rooms(m, chair, ana, ben, cleo, north, south)


def test_seat_request_requests_the_floor_for_the_seated_participant(rooms: Rooms) -> None:
    """seat.request asks the floor for whoever sits there, via seat, by the device."""
    m = rooms.m
    (event,) = m.when(rooms.north, "seat.request", {"seat": "A1"})
    assert event.name == "floor.requested"
    assert event.by == rooms.north
    assert data(event) == {
        "request": f"r-{event.seq}",
        "participant": rooms.ana,
        "kind": "speak",
        "lang": "fr",
        "at": T0,
        "via": "seat",
        "position": 0,
    }
    assert m.queue() == [rooms.ana]


def test_second_seat_press_withdraws(rooms: Rooms) -> None:
    """A second press of the request button withdraws the open request (a toggle)."""
    m = rooms.m
    (requested,) = m.when(rooms.north, "seat.request", {"seat": "A1"})
    (event,) = m.when(rooms.north, "seat.request", {"seat": "A1"})
    assert event.name == "floor.withdrawn"
    assert event.by == rooms.north
    assert data(event) == {"request": data(requested)["request"], "participant": rooms.ana}
    assert m.queue() == []


def test_seat_press_withdraws_a_request_made_in_the_browser(rooms: Rooms) -> None:
    """The console button also withdraws a request the participant made from a browser."""
    m = rooms.m
    m.given(rooms.ana, "floor.request")
    assert names(m.when(rooms.north, "seat.request", {"seat": "A1"})) == ["floor.withdrawn"]


def test_seat_request_point_of_order(rooms: Rooms) -> None:
    """seat.request with kind point_of_order goes before the speeches."""
    m = rooms.m
    m.given(rooms.cleo, "floor.request")
    (event,) = m.when(rooms.south, "seat.request", {"seat": "B1", "kind": "point_of_order"})
    assert data(event)["kind"] == "point_of_order"
    assert data(event)["position"] == 0
    assert data(event)["lang"] == "en"
    assert m.queue() == [rooms.ben, rooms.cleo]


def test_seat_of_another_room_is_forbidden(rooms: Rooms) -> None:
    """A device acting on a seat outside its room is forbidden, for every seat command."""
    m = rooms.m
    assert m.rejects(rooms.north, "seat.request", {"seat": "B1"}) == "forbidden"
    assert m.rejects(rooms.north, "seat.release", {"seat": "B1"}) == "forbidden"
    assert m.rejects(rooms.north, "seat.mute", {"seat": "B1", "muted": True}) == "forbidden"
    assert m.rejects(rooms.south, "seat.request", {"seat": "Z9"}) == "forbidden"


def test_empty_seat_is_not_found(rooms: Rooms) -> None:
    """A seat of the device's room where nobody sits is not_found."""
    m = rooms.m
    assert m.rejects(rooms.north, "seat.request", {"seat": "A2"}) == "not_found"
    assert m.rejects(rooms.north, "seat.release", {"seat": "A2"}) == "not_found"
    assert m.rejects(rooms.north, "seat.mute", {"seat": "A2", "muted": True}) == "not_found"


def test_seat_release_yields_the_speakers_floor(rooms: Rooms) -> None:
    """seat.release at the speaker's seat yields the floor (reason yielded, by the device)."""
    m = rooms.m
    m.given(rooms.north, "seat.request", {"seat": "A1"})
    m.given(rooms.chair, "floor.grant")
    m.tick(2500)
    (event,) = m.when(rooms.north, "seat.release", {"seat": "A1"})
    assert event.name == "floor.released"
    assert event.by == rooms.north
    assert data(event) == {"participant": rooms.ana, "reason": "yielded", "spoke_s": 2.5}
    assert m.speaker() is None


def test_seat_release_of_a_seat_without_the_floor_is_a_conflict(rooms: Rooms) -> None:
    """seat.release where the seated participant does not speak is a conflict."""
    m = rooms.m
    assert m.rejects(rooms.north, "seat.release", {"seat": "A1"}) == "conflict"
    m.given(rooms.ben, "floor.request")
    m.given(rooms.chair, "floor.grant")
    assert m.rejects(rooms.north, "seat.release", {"seat": "A1"}) == "conflict"


def test_seat_release_resumes_an_interrupted_speaker(rooms: Rooms) -> None:
    """Yielding a point of order at the console resumes the interrupted speaker."""
    m = rooms.m
    m.given(rooms.cleo, "floor.request")
    m.given(rooms.chair, "floor.grant")
    m.given(rooms.north, "seat.request", {"seat": "A1", "kind": "point_of_order"})
    m.given(rooms.chair, "floor.grant")
    events = m.when(rooms.north, "seat.release", {"seat": "A1"})
    assert names(events) == ["floor.released", "floor.resumed"]
    assert m.speaker() == rooms.cleo


def test_seat_mute_is_a_soft_mute(rooms: Rooms) -> None:
    """seat.mute sets and lifts the seated participant's soft mute."""
    m = rooms.m
    (event,) = m.when(rooms.north, "seat.mute", {"seat": "A1", "muted": True})
    assert event.by == rooms.north
    assert data(event) == {"participant": rooms.ana, "self_muted": True, "hard_muted": False}
    (event,) = m.when(rooms.north, "seat.mute", {"seat": "A1", "muted": False})
    assert data(event) == {"participant": rooms.ana, "self_muted": False, "hard_muted": False}
    assert m.when(rooms.north, "seat.mute", {"seat": "A1", "muted": False}) == []


def test_seat_mute_cannot_lift_a_hard_mute(rooms: Rooms) -> None:
    """The console cannot lift the chair's hard mute (forbidden), but it can still mute."""
    m = rooms.m
    m.given(rooms.chair, "mute.set", {"muted": True, "participant": rooms.ana})
    assert m.rejects(rooms.north, "seat.mute", {"seat": "A1", "muted": False}) == "forbidden"
    (event,) = m.when(rooms.north, "seat.mute", {"seat": "A1", "muted": True})
    assert data(event) == {"participant": rooms.ana, "self_muted": True, "hard_muted": True}


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("floor.request", {}),
        ("floor.release", {}),
        ("mute.set", {"muted": True}),
        ("chat.send", {"to": "all", "text": "x"}),
        ("seat.assign", {"seat": "A1", "participant": None}),
    ],
)
def test_device_may_not_send_participant_commands(
    rooms: Rooms, name: str, args: dict[str, Any]
) -> None:
    """A device sending a participant's command is forbidden."""
    assert rooms.m.rejects(rooms.north, name, args) == "forbidden"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("seat.request", {"seat": "A1"}),
        ("seat.release", {"seat": "A1"}),
        ("seat.mute", {"seat": "A1", "muted": True}),
    ],
)
@pytest.mark.parametrize("who", ["chair", "ana"])
def test_participant_may_not_send_seat_commands(
    rooms: Rooms, who: str, name: str, args: dict[str, Any]
) -> None:
    """A participant, even the chair or the one seated there, may not send seat commands."""
    assert rooms.m.rejects(getattr(rooms, who), name, args) == "forbidden"


def test_suspended_meeting_takes_only_seat_points_of_order(rooms: Rooms) -> None:
    """While suspended, a device may only request a point of order (else meeting_suspended)."""
    m = rooms.m
    m.given(rooms.chair, "meeting.set_status", {"status": "suspended"})
    assert m.rejects(rooms.north, "seat.request", {"seat": "A1"}) == "meeting_suspended"
    assert m.rejects(rooms.north, "seat.mute", {"seat": "A1", "muted": True}) == (
        "meeting_suspended"
    )
    assert m.rejects(rooms.north, "seat.release", {"seat": "A1"}) == "meeting_suspended"
    events = m.when(rooms.north, "seat.request", {"seat": "A1", "kind": "point_of_order"})
    assert names(events) == ["floor.requested"]


def test_closed_meeting_takes_no_seat_command(rooms: Rooms) -> None:
    """While closed, every seat command is meeting_closed."""
    m = rooms.m
    m.given(rooms.chair, "meeting.set_status", {"status": "closed"})
    assert m.rejects(rooms.north, "seat.request", {"seat": "A1"}) == "meeting_closed"
    assert m.rejects(rooms.north, "seat.request", {"seat": "A1", "kind": "point_of_order"}) == (
        "meeting_closed"
    )
    assert m.rejects(rooms.north, "seat.mute", {"seat": "A1", "muted": True}) == "meeting_closed"


def test_unknown_actor_is_forbidden(rooms: Rooms) -> None:
    """An actor that is neither a participant nor a device nor admin/system is forbidden."""
    assert rooms.m.rejects("d-99", "seat.request", {"seat": "A1"}) == "forbidden"


# --- the admin roster ----------------------------------------------------------------------


def test_participant_add_ids_and_data() -> None:
    """participant.add creates p-<seq> by admin, with the fields given and the defaults."""
    m = Scenario()
    (event,) = m.admin(
        "participant.add",
        {"name": "Ana", "delegation": "FR", "role": "delegate", "seat": "A1", "lang": "fr"},
    )
    assert event.name == "participant.added"
    assert event.by == "admin"
    assert data(event) == {
        "participant": {
            "id": f"p-{event.seq}",
            "name": "Ana",
            "delegation": "FR",
            "role": "delegate",
            "attendance": "remote",
            "seat": "A1",
            "lang": "fr",
            "self_muted": False,
            "hard_muted": False,
        }
    }
    assert m.state.seats == {"A1": f"p-{event.seq}"}
    (event,) = m.admin("participant.add", {"name": "Bo", "delegation": "UN", "role": "chair"})
    assert data(event)["participant"]["id"] == f"p-{event.seq}"
    assert data(event)["participant"]["self_muted"] is True


def test_participant_add_on_a_taken_seat_is_a_conflict() -> None:
    """Adding a participant on an occupied seat is a conflict."""
    m = Scenario()
    m.add("Ana", "FR", seat="A1")
    body = {"name": "Ben", "delegation": "DE", "role": "delegate", "seat": "A1"}
    assert admin_rejects(m, "participant.add", body) == "conflict"


def test_participant_add_display_with_a_seat_is_a_conflict() -> None:
    """A display added with a seat is a conflict."""
    m = Scenario()
    body = {"name": "Screen", "delegation": "Room", "role": "display", "seat": "A1"}
    assert admin_rejects(m, "participant.add", body) == "conflict"


def test_participant_update_partial(room: Room) -> None:
    """participant.update changes only the fields given; the event carries the whole one."""
    m = room.m
    (event,) = m.admin(
        "participant.update",
        {"participant": room.ana, "name": "Ana B.", "attendance": "onsite", "seat": "A1"},
    )
    assert event.name == "participant.updated"
    assert event.by == "admin"
    assert data(event) == {
        "participant": {
            "id": room.ana,
            "name": "Ana B.",
            "delegation": "FR",
            "role": "delegate",
            "attendance": "onsite",
            "seat": "A1",
            "lang": "fr",
            "self_muted": False,
            "hard_muted": False,
        }
    }
    (event,) = m.admin(
        "participant.update", {"participant": room.ana, "delegation": "BE", "role": "observer"}
    )
    p = participant(m, room.ana)
    assert (p.name, p.delegation, p.role, p.seat, p.lang) == (
        "Ana B.",
        "BE",
        Role.OBSERVER,
        "A1",
        "fr",
    )


def test_participant_update_seat_frees_the_old_seat(room: Room) -> None:
    """Moving a participant to another seat frees the old one."""
    m = room.m
    m.admin("participant.update", {"participant": room.ana, "seat": "A1"})
    m.admin("participant.update", {"participant": room.ana, "seat": "A2"})
    assert m.state.seats == {"A2": room.ana}
    assert seats_consistent(m.state)


def test_participant_update_to_a_taken_seat_is_a_conflict(room: Room) -> None:
    """Moving a participant onto someone else's seat is a conflict."""
    m = room.m
    m.admin("participant.update", {"participant": room.ben, "seat": "A1"})
    assert admin_rejects(m, "participant.update", {"participant": room.ana, "seat": "A1"}) == (
        "conflict"
    )


def test_participant_update_clears_seat_and_lang(room: Room) -> None:
    """seat and lang set to None clear them."""
    m = room.m
    m.admin("participant.update", {"participant": room.ana, "seat": "A1"})
    m.admin("participant.update", {"participant": room.ana, "seat": None, "lang": None})
    p = participant(m, room.ana)
    assert (p.seat, p.lang) == (None, None)
    assert m.state.seats == {}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "Ana", "lang": "fr", "role": "delegate"},
        {"seat": None, "delegation": "FR", "attendance": "remote"},
    ],
)
def test_participant_update_without_change_emits_nothing(room: Room, body: dict[str, Any]) -> None:
    """An update that changes nothing emits no event."""
    outcome = room.m.admin_decide("participant.update", {"participant": room.ana, **body})
    assert isinstance(outcome, Accepted)
    assert outcome.events == ()


@pytest.mark.parametrize("where", ["floor", "queue", "interrupted"])
def test_participant_on_the_floor_cannot_become_a_display(room: Room, where: str) -> None:
    """A speaker, an interrupted speaker or someone queued cannot become a display."""
    m = room.m
    m.given(room.ana, "floor.request")
    if where != "queue":
        m.given(room.chair, "floor.grant")
    if where == "interrupted":
        m.given(room.ben, "floor.request", {"kind": "point_of_order"})
        m.given(room.chair, "floor.grant")
    body = {"participant": room.ana, "role": "display"}
    assert admin_rejects(m, "participant.update", body) == "conflict"


def test_participant_becomes_a_display(room: Room) -> None:
    """A participant off the floor becomes a display once their seat is cleared."""
    m = room.m
    m.admin("participant.update", {"participant": room.ana, "seat": "A1"})
    body = {"participant": room.ana, "role": "display"}
    assert admin_rejects(m, "participant.update", body) == "conflict"
    m.admin("participant.update", {**body, "seat": None})
    assert participant(m, room.ana).role is Role.DISPLAY
    assert m.state.seats == {}


def test_delegate_promoted_to_chair_is_self_muted(room: Room) -> None:
    """A role change to chair never opens a microphone: the new chair is self-muted."""
    m = room.m
    (event,) = m.admin("participant.update", {"participant": room.ben, "role": "chair"})
    assert data(event)["participant"]["self_muted"] is True
    assert not m.state.is_live(participant(m, room.ben))


def test_speaker_promoted_to_chair_stays_live(room: Room) -> None:
    """A speaker promoted to chair keeps the open microphone they had."""
    m = room.m
    m.given(room.ben, "floor.request")
    m.given(room.chair, "floor.grant")
    (event,) = m.admin("participant.update", {"participant": room.ben, "role": "chair"})
    assert data(event)["participant"]["self_muted"] is False
    assert m.state.is_live(participant(m, room.ben))


def test_participant_update_unknown_is_not_found(room: Room) -> None:
    """Updating an unknown participant is not_found."""
    assert admin_rejects(room.m, "participant.update", {"participant": "p-99", "name": "X"}) == (
        "not_found"
    )


def test_removing_the_speaker_releases_the_floor(room: Room) -> None:
    """Removing the speaker releases the floor (reason removed) and resumes the stack."""
    m = room.m
    m.given(room.ana, "floor.request")
    m.given(room.chair, "floor.grant")
    m.tick(10_000)
    m.given(room.ben, "floor.request", {"kind": "point_of_order"})
    m.given(room.chair, "floor.grant")
    m.tick(3_000)
    events = m.admin("participant.remove", {"participant": room.ben})
    assert names(events) == ["floor.released", "floor.resumed", "participant.removed"]
    assert all(e.by == "admin" for e in events)
    assert data(events[0]) == {"participant": room.ben, "reason": "removed", "spoke_s": 3}
    assert data(events[2]) == {"participant": room.ben}
    assert m.speaker() == room.ana
    assert m.state.interrupted == ()
    assert room.ben not in m.state.participants


def test_removing_someone_queued_withdraws_their_request(room: Room) -> None:
    """Removing a queued participant withdraws their request in the same write."""
    m = room.m
    (requested,) = m.when(room.ana, "floor.request")
    m.given(room.ben, "floor.request")
    events = m.admin("participant.remove", {"participant": room.ana})
    assert names(events) == ["floor.withdrawn", "participant.removed"]
    assert data(events[0]) == {"request": data(requested)["request"], "participant": room.ana}
    assert m.queue() == [room.ben]


def test_removing_an_interrupted_speaker_drops_them_from_the_stack(room: Room) -> None:
    """Removing someone on the interrupted stack drops them; the floor stays."""
    m = room.m
    m.given(room.ana, "floor.request")
    m.given(room.chair, "floor.grant")
    m.given(room.ben, "floor.request", {"kind": "point_of_order"})
    m.given(room.chair, "floor.grant")
    assert names(m.admin("participant.remove", {"participant": room.ana})) == [
        "participant.removed"
    ]
    assert m.state.interrupted == ()
    assert m.speaker() == room.ben
    assert names(m.when(room.ben, "floor.release")) == ["floor.released"]
    assert m.speaker() is None


def test_removing_a_participant_frees_their_seat(room: Room) -> None:
    """A removed participant's seat is free again."""
    m = room.m
    m.admin("participant.update", {"participant": room.ana, "seat": "A1"})
    m.admin("participant.remove", {"participant": room.ana})
    assert m.state.seats == {}
    assert seats_consistent(m.state)
    m.admin("participant.update", {"participant": room.ben, "seat": "A1"})
    assert m.state.seats == {"A1": room.ben}


def test_removing_an_unknown_participant_is_not_found(room: Room) -> None:
    """Removing an unknown participant is not_found."""
    assert admin_rejects(room.m, "participant.remove", {"participant": "p-99"}) == "not_found"


def test_device_add_ids_and_seats() -> None:
    """device.add creates d-<seq> with its seats, duplicates collapsed in order."""
    m = Scenario()
    (event,) = m.admin("device.add", {"name": "North", "seats": ["A2", "A1", "A2", "A1"]})
    assert event.name == "device.added"
    assert event.by == "admin"
    assert data(event) == {
        "device": {"id": f"d-{event.seq}", "name": "North", "seats": ["A2", "A1"]}
    }
    (event,) = m.admin("device.add", {"name": "Mobile"})
    assert data(event)["device"]["seats"] == []


def test_device_add_with_a_seat_of_another_room_is_a_conflict() -> None:
    """A seat can be in one device's room only."""
    m = Scenario()
    m.device("North", ["A1", "A2"])
    assert admin_rejects(m, "device.add", {"name": "South", "seats": ["B1", "A2"]}) == "conflict"


def test_meeting_create_twice_is_a_conflict() -> None:
    """A meeting is created once."""
    m = Scenario()
    assert admin_rejects(m, "meeting.create", {"meeting": "m-2", "title": "Again"}) == "conflict"


def test_commands_before_the_meeting_exists_are_not_found() -> None:
    """Without a meeting, every command but meeting.create is not_found."""
    command = cmd.AddParticipant("Ana", "FR", Role.DELEGATE)
    outcome = decide(State(), command, "admin", T0)
    assert isinstance(outcome, Rejection)
    assert outcome.code.value == "not_found"


def test_only_the_admin_creates_meetings(room: Room) -> None:
    """A participant deciding meeting.create directly is forbidden."""
    outcome = decide(room.m.state, cmd.CreateMeeting("m-2", "Other"), room.chair, T0)
    assert isinstance(outcome, Rejection)
    assert outcome.code.value == "forbidden"


def test_admin_may_not_send_wire_commands(room: Room) -> None:
    """The admin API does not take wire commands (forbidden)."""
    assert room.m.rejects("admin", "floor.request", {"participant": room.ana}) == "forbidden"
    assert room.m.rejects("admin", "mute.all") == "forbidden"


def test_participants_cannot_send_admin_commands(room: Room) -> None:
    """Admin command names are unknown to the wire parser; decided directly, forbidden."""
    for name in ("participant.add", "participant.remove", "device.add", "meeting.create"):
        rejection = parse_command(name, {"participant": room.ana})
        assert isinstance(rejection, Rejection)
        assert rejection.code.value == "unknown_command"
    outcome = decide(room.m.state, cmd.RemoveParticipant(room.ana), room.chair, T0)
    assert isinstance(outcome, Rejection)
    assert outcome.code.value == "forbidden"
