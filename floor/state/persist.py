"""A whole `State` as one plain map and back: the meeting host's snapshots.

A snapshot lets a host start from `seq` N and fold only the log's tail after it. It
holds everything `fold` would give, including what no client sees (the remembered
command ids), so `state_from_record(state_to_record(s)) == s` for every state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from floor.state import wire
from floor.state.model import ChatMessage, Kind, Request, State, Via

FORMAT: Final = 1


def _request_from(p: Mapping[str, Any]) -> Request:
    return Request(p["id"], p["participant"], Kind(p["kind"]), p["lang"], p["at"], Via(p["via"]))


def _chat_from(p: Mapping[str, Any]) -> ChatMessage:
    return ChatMessage(p["id"], p["from"], p["to"], p["text"], p["at"])


def state_to_record(state: State) -> wire.Plain:
    return {
        "format": FORMAT,
        "seq": state.seq,
        "meeting": wire.meeting_to_wire(state.meeting) if state.meeting is not None else None,
        "participants": [wire.participant_to_wire(p) for p in state.participants.values()],
        "devices": [wire.device_to_wire(d) for d in state.devices.values()],
        "queue": [wire.request_to_wire(r) for r in state.queue],
        "floor": wire.floor_to_wire(state.floor) if state.floor is not None else None,
        "interrupted": [wire.floor_to_wire(f) for f in state.interrupted],
        "list_open": state.list_open,
        "chat": [wire.chat_to_wire(m) for m in state.chat],
        "seats": dict(state.seats),
        "recent": {actor: [list(entry) for entry in kept] for actor, kept in state.recent.items()},
    }


def state_from_record(record: Mapping[str, Any]) -> State:
    if record.get("format") != FORMAT:
        raise ValueError(f"unknown snapshot format {record.get('format')!r}")
    meeting = record["meeting"]
    floor = record["floor"]
    participants = (wire.participant_from_wire(p) for p in record["participants"])
    devices = (wire.device_from_wire(d) for d in record["devices"])
    return State(
        meeting=wire.meeting_from_wire(meeting) if meeting is not None else None,
        seq=record["seq"],
        participants={p.id: p for p in participants},
        devices={d.id: d for d in devices},
        queue=tuple(_request_from(r) for r in record["queue"]),
        floor=wire.floor_from_wire(floor) if floor is not None else None,
        interrupted=tuple(wire.floor_from_wire(f) for f in record["interrupted"]),
        list_open=record["list_open"],
        chat=tuple(_chat_from(m) for m in record["chat"]),
        seats=dict(record["seats"]),
        recent={
            actor: tuple((cid, seq) for cid, seq in kept)
            for actor, kept in record["recent"].items()
        },
    )
