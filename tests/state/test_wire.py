"""The wire shapes of the core's values and events (PROTOCOL.md sections 3 to 5).

Every event type round-trips through the log's record and through JSON; the key names are
the protocol's; clock durations are milliseconds inside and exact seconds outside.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from floor.state import events as ev
from floor.state import wire
from floor.state.model import (
    Attendance,
    ChatMessage,
    Device,
    Floor,
    FloorMode,
    Kind,
    Meeting,
    Participant,
    ReleaseReason,
    Request,
    Role,
    Settings,
    Status,
    Via,
)

# --- strategies ----------------------------------------------------------------------------

ids = st.text(min_size=1, max_size=12)
texts = st.text(max_size=40)
times = st.integers(min_value=0, max_value=2**53)
durations = st.integers(min_value=0, max_value=10**12)
limits = st.integers(min_value=0, max_value=24 * 3600 * 10)
optional_ids = st.none() | ids

settings_values = st.builds(
    Settings,
    default_limit_s=limits,
    floor_mode=st.sampled_from(FloorMode),
    cut_at_limit=st.booleans(),
    observers_may_speak=st.booleans(),
    one_request_per_delegation=st.booleans(),
)
meetings = st.builds(
    Meeting, id=ids, title=texts, status=st.sampled_from(Status), settings=settings_values
)
participants = st.builds(
    Participant,
    id=ids,
    name=texts,
    delegation=texts,
    role=st.sampled_from(Role),
    attendance=st.sampled_from(Attendance),
    seat=optional_ids,
    lang=optional_ids,
    self_muted=st.booleans(),
    hard_muted=st.booleans(),
)
devices = st.builds(Device, id=ids, name=texts, seats=st.lists(ids, max_size=5).map(tuple))
floors = st.builds(
    Floor,
    participant=ids,
    request=optional_ids,
    kind=st.sampled_from(Kind),
    lang=ids,
    limit_s=limits,
    granted_at=times,
    running_since=st.none() | times,
    used_ms=durations,
    expired=st.booleans(),
)

PAYLOADS: dict[type[ev.EventData], st.SearchStrategy[Any]] = {
    ev.MeetingCreated: st.builds(ev.MeetingCreated, meeting=meetings),
    ev.ParticipantAdded: st.builds(ev.ParticipantAdded, participant=participants),
    ev.ParticipantUpdated: st.builds(ev.ParticipantUpdated, participant=participants),
    ev.ParticipantRemoved: st.builds(ev.ParticipantRemoved, participant=ids),
    ev.DeviceAdded: st.builds(ev.DeviceAdded, device=devices),
    ev.FloorRequested: st.builds(
        ev.FloorRequested,
        request=ids,
        participant=ids,
        kind=st.sampled_from(Kind),
        lang=ids,
        at=times,
        via=st.sampled_from(Via),
        position=st.integers(min_value=0, max_value=10_000),
    ),
    ev.FloorWithdrawn: st.builds(ev.FloorWithdrawn, request=ids, participant=ids),
    ev.FloorMoved: st.builds(
        ev.FloorMoved, request=ids, position=st.integers(min_value=0, max_value=10_000)
    ),
    ev.FloorGranted: st.builds(ev.FloorGranted, floor=floors),
    ev.FloorReleased: st.builds(
        ev.FloorReleased,
        participant=ids,
        reason=st.sampled_from(ReleaseReason),
        spoke_ms=durations,
    ),
    ev.FloorInterrupted: st.builds(ev.FloorInterrupted, floor=floors),
    ev.FloorResumed: st.builds(ev.FloorResumed, floor=floors),
    ev.FloorExtended: st.builds(ev.FloorExtended, floor=floors),
    ev.FloorPaused: st.builds(ev.FloorPaused, floor=floors),
    ev.FloorUnpaused: st.builds(ev.FloorUnpaused, floor=floors),
    ev.FloorTimeExpired: st.builds(ev.FloorTimeExpired, participant=ids),
    ev.ListClosed: st.builds(ev.ListClosed),
    ev.ListOpened: st.builds(ev.ListOpened),
    ev.QueueCleared: st.builds(ev.QueueCleared),
    ev.MuteChanged: st.builds(
        ev.MuteChanged, participant=ids, self_muted=st.booleans(), hard_muted=st.booleans()
    ),
    ev.MuteAllSet: st.builds(ev.MuteAllSet, participants=st.lists(ids, max_size=6).map(tuple)),
    ev.ChatPosted: st.builds(
        ev.ChatPosted, message=ids, sender=ids, to=ids, text=st.text(max_size=200), at=times
    ),
    ev.ChatDeleted: st.builds(ev.ChatDeleted, message=ids, sender=ids, to=ids),
    ev.MeetingStatusChanged: st.builds(ev.MeetingStatusChanged, status=st.sampled_from(Status)),
    ev.SettingsChanged: st.builds(ev.SettingsChanged, settings=settings_values),
    ev.SeatAssigned: st.builds(ev.SeatAssigned, seat=ids, participant=optional_ids),
}

causes = st.none() | st.builds(ev.Cause, actor=ids, command=ids)


def events_of(payload: st.SearchStrategy[Any]) -> st.SearchStrategy[ev.Event]:
    return st.builds(
        ev.Event,
        seq=st.integers(min_value=1, max_value=2**53),
        at=times,
        by=ids,
        data=payload,
        cause=causes,
    )


def assert_plain(value: Any, path: str = "record") -> None:
    """`value` is made only of what JSON and msgpack carry: maps with string keys, lists,
    strings, numbers, booleans and None."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{path}: key {key!r}"
            assert_plain(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_plain(item, f"{path}[{i}]")
    else:
        assert value is None or type(value) in (str, int, float, bool), f"{path}: {value!r}"


# --- round trips ---------------------------------------------------------------------------


def test_every_event_type_has_a_strategy() -> None:
    """The strategies cover exactly `events.EVENT_TYPES` (a new event needs one here)."""
    assert set(PAYLOADS) == set(ev.EVENT_TYPES)
    assert len(ev.EVENT_TYPES) == len({cls.name for cls in ev.EVENT_TYPES})


@pytest.mark.parametrize("cls", ev.EVENT_TYPES, ids=lambda cls: cls.name)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_event_round_trips_through_record_and_json(
    cls: type[ev.EventData], data: st.DataObject
) -> None:
    """event_from_record(event_to_record(e)) == e, also after json.dumps/json.loads."""
    event = data.draw(events_of(PAYLOADS[cls]))
    assert type(event.data) is cls
    record = wire.event_to_record(event)
    assert_plain(record)
    assert wire.event_from_record(record) == event
    reloaded = json.loads(json.dumps(record))
    assert reloaded == record
    assert wire.event_from_record(reloaded) == event


@settings(max_examples=100, deadline=None)
@given(event=events_of(st.one_of(*PAYLOADS.values())))
def test_event_message_shape(event: ev.Event) -> None:
    """The event message is {t, seq, at, by, name, data}; the record adds `cause` if any."""
    message = wire.event_to_wire(event)
    assert set(message) == {"t", "seq", "at", "by", "name", "data"}
    assert message["t"] == "event"
    assert message["name"] == event.name == type(event.data).name
    assert (message["seq"], message["at"], message["by"]) == (event.seq, event.at, event.by)
    record = wire.event_to_record(event)
    if event.cause is None:
        assert record == message
    else:
        assert record == {**message, "cause": [event.cause.actor, event.cause.command]}
    assert wire.data_from_wire(event.name, message["data"]) == event.data


@settings(max_examples=100, deadline=None)
@given(floor=floors)
def test_floor_round_trips(floor: Floor) -> None:
    """FLOOR survives floor_to_wire/floor_from_wire and JSON unchanged."""
    plain = json.loads(json.dumps(wire.floor_to_wire(floor)))
    assert wire.floor_from_wire(plain) == floor


@settings(max_examples=100, deadline=None)
@given(participant=participants, meeting=meetings, device=devices)
def test_values_round_trip(participant: Participant, meeting: Meeting, device: Device) -> None:
    """Participants, meetings (with settings) and devices survive the wire and JSON."""
    assert (
        wire.participant_from_wire(json.loads(json.dumps(wire.participant_to_wire(participant))))
        == participant
    )
    assert wire.meeting_from_wire(json.loads(json.dumps(wire.meeting_to_wire(meeting)))) == meeting
    assert wire.device_from_wire(json.loads(json.dumps(wire.device_to_wire(device)))) == device


# --- key names (PROTOCOL.md) ---------------------------------------------------------------

FLOOR_KEYS = {
    "participant",
    "request",
    "kind",
    "lang",
    "limit_s",
    "granted_at",
    "running_since",
    "used_s",
}
PARTICIPANT_KEYS = {
    "id",
    "name",
    "delegation",
    "role",
    "attendance",
    "seat",
    "lang",
    "self_muted",
    "hard_muted",
}
SETTINGS_KEYS = {
    "default_limit_s",
    "floor_mode",
    "cut_at_limit",
    "observers_may_speak",
    "one_request_per_delegation",
}

# The data of each event as PROTOCOL.md section 5 lists it (fields may be added).
PROTOCOL_DATA: dict[str, set[str]] = {
    "floor.requested": {"request", "participant", "kind", "lang", "at", "via", "position"},
    "floor.withdrawn": {"request", "participant"},
    "floor.moved": {"request", "position"},
    "floor.granted": {"floor"},
    "floor.released": {"participant", "reason", "spoke_s"},
    "floor.interrupted": {"floor"},
    "floor.resumed": {"floor"},
    "floor.extended": {"floor"},
    "floor.paused": {"floor"},
    "floor.unpaused": {"floor"},
    "floor.time_expired": {"participant"},
    "list.closed": set(),
    "list.opened": set(),
    "queue.cleared": set(),
    "mute.changed": {"participant", "self_muted", "hard_muted"},
    "mute.all_set": {"participants"},
    "chat.posted": {"message", "from", "to", "text", "at"},
    "chat.deleted": {"message"},
    "meeting.status_changed": {"status"},
    "settings.changed": {"settings"},
    "seat.assigned": {"seat", "participant"},
    "participant.added": {"participant"},
    "participant.updated": {"participant"},
    "participant.removed": {"participant"},
}

FLOOR = Floor("p-2", "r-1", Kind.SPEAK, "en", 180, 1_000, 5_000, used_ms=12_500)
PARTICIPANT = Participant("p-7", "Ana", "FR", Role.DELEGATE, Attendance.ONSITE, "A12", "fr")
SAMPLES: dict[type[ev.EventData], ev.EventData] = {
    ev.MeetingCreated: ev.MeetingCreated(Meeting("m-1", "Plenary")),
    ev.ParticipantAdded: ev.ParticipantAdded(PARTICIPANT),
    ev.ParticipantUpdated: ev.ParticipantUpdated(PARTICIPANT),
    ev.ParticipantRemoved: ev.ParticipantRemoved("p-7"),
    ev.DeviceAdded: ev.DeviceAdded(Device("d-1", "Room", ("A1", "A2"))),
    ev.FloorRequested: ev.FloorRequested("r-3", "p-7", Kind.REPLY, "fr", 9, Via.SEAT, 0),
    ev.FloorWithdrawn: ev.FloorWithdrawn("r-3", "p-7"),
    ev.FloorMoved: ev.FloorMoved("r-3", 2),
    ev.FloorGranted: ev.FloorGranted(FLOOR),
    ev.FloorReleased: ev.FloorReleased("p-2", ReleaseReason.TIME, 61_250),
    ev.FloorInterrupted: ev.FloorInterrupted(FLOOR),
    ev.FloorResumed: ev.FloorResumed(FLOOR),
    ev.FloorExtended: ev.FloorExtended(FLOOR),
    ev.FloorPaused: ev.FloorPaused(FLOOR),
    ev.FloorUnpaused: ev.FloorUnpaused(FLOOR),
    ev.FloorTimeExpired: ev.FloorTimeExpired("p-2"),
    ev.ListClosed: ev.ListClosed(),
    ev.ListOpened: ev.ListOpened(),
    ev.QueueCleared: ev.QueueCleared(),
    ev.MuteChanged: ev.MuteChanged("p-7", self_muted=False, hard_muted=True),
    ev.MuteAllSet: ev.MuteAllSet(("p-7", "p-9")),
    ev.ChatPosted: ev.ChatPosted("x-9", "p-7", "all", "Hello", 77),
    ev.ChatDeleted: ev.ChatDeleted("x-9", "p-7", "all"),
    ev.MeetingStatusChanged: ev.MeetingStatusChanged(Status.SUSPENDED),
    ev.SettingsChanged: ev.SettingsChanged(Settings(floor_mode=FloorMode.AUTO)),
    ev.SeatAssigned: ev.SeatAssigned("A12", None),
}


def test_samples_cover_every_event_type() -> None:
    """Every event type has a sample below, and every protocol event name exists."""
    assert set(SAMPLES) == set(ev.EVENT_TYPES)
    assert set(PROTOCOL_DATA) <= {cls.name for cls in ev.EVENT_TYPES}


@pytest.mark.parametrize("cls", ev.EVENT_TYPES, ids=lambda cls: cls.name)
def test_event_data_keys_match_the_protocol(cls: type[ev.EventData]) -> None:
    """Each event's data has at least the keys PROTOCOL.md lists, and no `_ms` key."""
    data = wire.data_to_wire(SAMPLES[cls])
    assert PROTOCOL_DATA.get(cls.name, set()) <= set(data)
    assert not any(key.endswith("_ms") or key == "sender" for key in data)


def test_floor_keys() -> None:
    """FLOOR has the protocol's fields; used_s is seconds; the extra `expired` is a bool."""
    plain = wire.floor_to_wire(FLOOR)
    assert set(plain) >= FLOOR_KEYS
    assert set(plain) - FLOOR_KEYS == {"expired"}
    assert plain == {
        "participant": "p-2",
        "request": "r-1",
        "kind": "speak",
        "lang": "en",
        "limit_s": 180,
        "granted_at": 1_000,
        "running_since": 5_000,
        "used_s": 12.5,
        "expired": False,
    }


def test_participant_keys() -> None:
    """A participant on the wire has exactly the protocol's fields, enums as strings."""
    plain = wire.participant_to_wire(PARTICIPANT)
    assert set(plain) == PARTICIPANT_KEYS
    assert plain == {
        "id": "p-7",
        "name": "Ana",
        "delegation": "FR",
        "role": "delegate",
        "attendance": "onsite",
        "seat": "A12",
        "lang": "fr",
        "self_muted": False,
        "hard_muted": False,
    }


def test_meeting_and_settings_keys() -> None:
    """The meeting is {id, title, status, settings} with the five protocol settings."""
    plain = wire.meeting_to_wire(Meeting("m-1", "Plenary"))
    assert plain == {
        "id": "m-1",
        "title": "Plenary",
        "status": "open",
        "settings": {
            "default_limit_s": 180,
            "floor_mode": "manual",
            "cut_at_limit": False,
            "observers_may_speak": False,
            "one_request_per_delegation": False,
        },
    }
    assert set(plain["settings"]) == SETTINGS_KEYS


def test_request_and_chat_keys() -> None:
    """A queued request and a chat message use the protocol's keys (`from`, not sender)."""
    request = Request("r-3", "p-7", Kind.POINT_OF_ORDER, "fr", 9, Via.BROWSER)
    assert wire.request_to_wire(request) == {
        "id": "r-3",
        "participant": "p-7",
        "kind": "point_of_order",
        "lang": "fr",
        "at": 9,
        "via": "browser",
    }
    message = ChatMessage("x-9", "p-7", "chair", "Hi", 12)
    assert wire.chat_to_wire(message) == {
        "id": "x-9",
        "from": "p-7",
        "to": "chair",
        "text": "Hi",
        "at": 12,
    }
    assert wire.device_to_wire(Device("d-1", "Room", ("A1",))) == {
        "id": "d-1",
        "name": "Room",
        "seats": ["A1"],
    }


def test_released_and_chat_data_on_the_wire() -> None:
    """floor.released carries spoke_s in seconds; chat.posted/deleted carry `from`."""
    assert wire.data_to_wire(SAMPLES[ev.FloorReleased]) == {
        "participant": "p-2",
        "reason": "time",
        "spoke_s": 61.25,
    }
    assert wire.data_to_wire(SAMPLES[ev.ChatPosted]) == {
        "message": "x-9",
        "from": "p-7",
        "to": "all",
        "text": "Hello",
        "at": 77,
    }
    assert wire.data_to_wire(SAMPLES[ev.ChatDeleted]) == {
        "message": "x-9",
        "from": "p-7",
        "to": "all",
    }
    assert wire.data_to_wire(SAMPLES[ev.MuteAllSet]) == {"participants": ["p-7", "p-9"]}
    assert wire.data_to_wire(SAMPLES[ev.SeatAssigned]) == {"seat": "A12", "participant": None}
    assert wire.data_to_wire(SAMPLES[ev.MeetingStatusChanged]) == {"status": "suspended"}


def test_event_record_example() -> None:
    """A recorded event, as PROTOCOL.md section 4 shows it, plus its cause."""
    event = ev.Event(
        58, 1_764_150_001_234, "p-7", SAMPLES[ev.FloorRequested], ev.Cause("p-7", "c-19")
    )
    assert wire.event_to_record(event) == {
        "t": "event",
        "seq": 58,
        "at": 1_764_150_001_234,
        "by": "p-7",
        "name": "floor.requested",
        "data": {
            "request": "r-3",
            "participant": "p-7",
            "kind": "reply",
            "lang": "fr",
            "at": 9,
            "via": "seat",
            "position": 0,
        },
        "cause": ["p-7", "c-19"],
    }


# --- seconds and milliseconds --------------------------------------------------------------


@pytest.mark.parametrize(
    ("ms", "s"),
    [(0, 0), (1, 0.001), (999, 0.999), (1000, 1), (1500, 1.5), (12_500, 12.5), (180_000, 180)],
)
def test_seconds_examples(ms: int, s: float) -> None:
    """seconds() gives whole seconds as int and the rest as float with ms precision."""
    assert wire.seconds(ms) == s
    assert type(wire.seconds(ms)) is type(s)
    assert wire.millis(s) == ms


@given(ms=st.integers(min_value=0, max_value=10**13))
def test_seconds_millis_exact(ms: int) -> None:
    """millis(seconds(ms)) == ms, through JSON too; whole seconds are ints."""
    s = wire.seconds(ms)
    assert wire.millis(s) == ms
    assert wire.millis(json.loads(json.dumps(s))) == ms
    assert isinstance(s, int) == (ms % 1000 == 0)
    assert s == ms / 1000


@given(ms=st.integers(min_value=0, max_value=10**13))
def test_millis_accepts_ints_and_floats(ms: int) -> None:
    """millis() reads both an int and a float number of seconds."""
    assert wire.millis(ms // 1000) == (ms // 1000) * 1000
    assert wire.millis(float(ms) / 1000) == ms
