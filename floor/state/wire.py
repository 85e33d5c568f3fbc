"""The protocol's plain-map shapes of the core's values, and back.

Everything the wire and the log carry is a plain map of strings, numbers, booleans,
None and lists (JSON and msgpack alike). This module is the one place that knows the
field names of PROTOCOL.md: FLOOR, participants, requests, chat messages, settings,
event messages. Decoding (`event_from_record`) trusts its input: it reads the log,
which only ever holds what `event_to_record` wrote.

Clock durations are integer milliseconds inside the core and seconds (with millisecond
precision) on the wire: `used_s`, `spoke_s`.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final

from floor.state import events as ev
from floor.state.model import (
    Attendance,
    ChatMessage,
    Device,
    Floor,
    FloorMode,
    Kind,
    Meeting,
    Participant,
    Request,
    Role,
    Settings,
    Status,
)

Plain = dict[str, Any]


def seconds(ms: int) -> float | int:
    """Milliseconds as wire seconds: an int when whole, else a float."""
    whole, rest = divmod(ms, 1000)
    return whole if rest == 0 else ms / 1000


def millis(s: float) -> int:
    return round(s * 1000)


# --- values --------------------------------------------------------------------------------


def settings_to_wire(s: Settings) -> Plain:
    return {
        "default_limit_s": s.default_limit_s,
        "floor_mode": s.floor_mode.value,
        "cut_at_limit": s.cut_at_limit,
        "observers_may_speak": s.observers_may_speak,
        "one_request_per_delegation": s.one_request_per_delegation,
    }


def settings_from_wire(p: Mapping[str, Any]) -> Settings:
    return Settings(
        default_limit_s=p["default_limit_s"],
        floor_mode=FloorMode(p["floor_mode"]),
        cut_at_limit=p["cut_at_limit"],
        observers_may_speak=p["observers_may_speak"],
        one_request_per_delegation=p["one_request_per_delegation"],
    )


def meeting_to_wire(m: Meeting) -> Plain:
    return {
        "id": m.id,
        "title": m.title,
        "status": m.status.value,
        "settings": settings_to_wire(m.settings),
    }


def meeting_from_wire(p: Mapping[str, Any]) -> Meeting:
    return Meeting(p["id"], p["title"], Status(p["status"]), settings_from_wire(p["settings"]))


def participant_to_wire(p: Participant) -> Plain:
    return {
        "id": p.id,
        "name": p.name,
        "delegation": p.delegation,
        "role": p.role.value,
        "attendance": p.attendance.value,
        "seat": p.seat,
        "lang": p.lang,
        "self_muted": p.self_muted,
        "hard_muted": p.hard_muted,
    }


def participant_from_wire(p: Mapping[str, Any]) -> Participant:
    return Participant(
        id=p["id"],
        name=p["name"],
        delegation=p["delegation"],
        role=Role(p["role"]),
        attendance=Attendance(p["attendance"]),
        seat=p["seat"],
        lang=p["lang"],
        self_muted=p["self_muted"],
        hard_muted=p["hard_muted"],
    )


def device_to_wire(d: Device) -> Plain:
    return {"id": d.id, "name": d.name, "seats": list(d.seats)}


def device_from_wire(p: Mapping[str, Any]) -> Device:
    return Device(p["id"], p["name"], tuple(p["seats"]))


def floor_to_wire(f: Floor) -> Plain:
    return {
        "participant": f.participant,
        "request": f.request,
        "kind": f.kind.value,
        "lang": f.lang,
        "limit_s": f.limit_s,
        "granted_at": f.granted_at,
        "running_since": f.running_since,
        "used_s": seconds(f.used_ms),
        "expired": f.expired,
    }


def floor_from_wire(p: Mapping[str, Any]) -> Floor:
    return Floor(
        participant=p["participant"],
        request=p["request"],
        kind=Kind(p["kind"]),
        lang=p["lang"],
        limit_s=p["limit_s"],
        granted_at=p["granted_at"],
        running_since=p["running_since"],
        used_ms=millis(p["used_s"]),
        expired=p["expired"],
    )


def request_to_wire(r: Request) -> Plain:
    return {
        "id": r.id,
        "participant": r.participant,
        "kind": r.kind.value,
        "lang": r.lang,
        "at": r.at,
        "via": r.via.value,
    }


def chat_to_wire(m: ChatMessage) -> Plain:
    return {"id": m.id, "from": m.sender, "to": m.to, "text": m.text, "at": m.at}


# --- events --------------------------------------------------------------------------------

_RENAMED: Final = {"sender": "from", "spoke_ms": "spoke_s"}

_ENCODERS: Final[dict[Any, Callable[[Any], Any]]] = {
    Meeting: meeting_to_wire,
    Participant: participant_to_wire,
    Device: device_to_wire,
    Floor: floor_to_wire,
    Settings: settings_to_wire,
}
_DECODERS: Final[dict[Any, Callable[[Any], Any]]] = {
    Meeting: meeting_from_wire,
    Participant: participant_from_wire,
    Device: device_from_wire,
    Floor: floor_from_wire,
    Settings: settings_from_wire,
}


def _field_codec(annotation: Any) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """(encode, decode) for one event field, by its type."""
    if annotation in _ENCODERS:
        return _ENCODERS[annotation], _DECODERS[annotation]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return (lambda v: v.value), annotation
    if typing.get_origin(annotation) is tuple:
        return list, tuple
    assert annotation in (str, int, bool) or (
        isinstance(annotation, types.UnionType) and type(None) in typing.get_args(annotation)
    ), annotation
    return (lambda v: v), (lambda v: v)


_Codec = tuple[str, str, Callable[[Any], Any], Callable[[Any], Any]]


def _codecs(cls: type[ev.EventData]) -> tuple[_Codec, ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        (f.name, _RENAMED.get(f.name, f.name), *_field_codec(hints[f.name]))
        for f in dataclasses.fields(cls)
    )


_BY_NAME: Final = {cls.name: cls for cls in ev.EVENT_TYPES}
_CODECS: Final = {cls: _codecs(cls) for cls in ev.EVENT_TYPES}


def data_to_wire(data: ev.EventData) -> Plain:
    plain = {key: encode(getattr(data, attr)) for attr, key, encode, _ in _CODECS[type(data)]}
    if isinstance(data, ev.FloorReleased):
        plain["spoke_s"] = seconds(data.spoke_ms)
    return plain


def data_from_wire(name: str, plain: Mapping[str, Any]) -> ev.EventData:
    cls = _BY_NAME[name]
    values = {attr: decode(plain[key]) for attr, key, _, decode in _CODECS[cls]}
    if cls is ev.FloorReleased:
        values["spoke_ms"] = millis(plain["spoke_s"])
    return cls(**values)


def event_to_wire(event: ev.Event) -> Plain:
    """The `event` message of PROTOCOL.md section 4."""
    return {
        "t": "event",
        "seq": event.seq,
        "at": event.at,
        "by": event.by,
        "name": event.data.name,
        "data": data_to_wire(event.data),
    }


def event_to_record(event: ev.Event) -> Plain:
    """The event as the log stores it: the wire message plus the command that caused it."""
    record = event_to_wire(event)
    if event.cause is not None:
        record["cause"] = [event.cause.actor, event.cause.command]
    return record


def event_from_record(record: Mapping[str, Any]) -> ev.Event:
    cause = record.get("cause")
    return ev.Event(
        seq=record["seq"],
        at=record["at"],
        by=record["by"],
        data=data_from_wire(record["name"], record["data"]),
        cause=ev.Cause(cause[0], cause[1]) if cause is not None else None,
    )
