"""Parsing: a client's plain `name` and `args` map into a typed command, or a rejection.

`parse_command` reads the wire commands of PROTOCOL.md section 5, answering
`unknown_command` or `invalid_args` naming the field; `parse_admin` the admin commands of
the HTTP API from a request body. Parsing checks shape only (types, ranges, lengths,
known values); what depends on the meeting's state is `decide`'s.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from floor.state.commands import (
    MAX_CHAT,
    MAX_EXTEND_S,
    MAX_ID,
    MAX_LANG,
    MAX_LIMIT_S,
    MAX_NAME,
    MAX_SEATS,
    UNSET,
    AddDevice,
    AddParticipant,
    AdminCommand,
    AssignSeat,
    ClearQueue,
    CloseList,
    CreateMeeting,
    DeleteChat,
    ExtendFloor,
    GrantFloor,
    MoveRequest,
    MuteAll,
    OpenList,
    PauseFloor,
    ReleaseFloor,
    RemoveParticipant,
    RequestFloor,
    SeatMute,
    SeatRelease,
    SeatRequest,
    SendChat,
    SetMute,
    SetStatus,
    UnpauseFloor,
    UpdateParticipant,
    UpdateSettings,
    WireCommand,
    WithdrawFloor,
)
from floor.state.model import Attendance, FloorMode, Kind, Role, Status
from floor.state.rejection import Code, Rejection, invalid

_LANG_TAG: Final = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")


class _Invalid(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


E = TypeVar("E")


class _Args:
    """Typed reads of a plain argument map; each bad field raises `_Invalid` naming it."""

    def __init__(self, raw: Mapping[str, Any], prefix: str = "") -> None:
        self.raw = raw
        self.prefix = prefix

    def _field(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def _get(self, key: str, required: bool) -> Any:
        value = self.raw.get(key)
        if value is None and required:
            raise _Invalid(self._field(key), f"`{key}` is required.")
        return value

    def text(self, key: str, *, max_len: int, required: bool = False) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise _Invalid(self._field(key), f"`{key}` must be a string.")
        length = len(value)
        if length == 0 or length > max_len:
            raise _Invalid(self._field(key), f"`{key}` must be 1 to {max_len} characters long.")
        if "\x00" in value:
            raise _Invalid(self._field(key), f"`{key}` must not contain NUL characters.")
        return value

    def required_text(self, key: str, *, max_len: int) -> str:
        value = self.text(key, max_len=max_len, required=True)
        assert value is not None
        return value

    def ident(self, key: str, *, required: bool = False) -> str | None:
        return self.text(key, max_len=MAX_ID, required=required)

    def required_ident(self, key: str) -> str:
        return self.required_text(key, max_len=MAX_ID)

    def integer(self, key: str, *, low: int, high: int, required: bool = False) -> int | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(self._field(key), f"`{key}` must be an integer.")
        if not low <= value <= high:
            raise _Invalid(self._field(key), f"`{key}` must be between {low} and {high}.")
        return value

    def required_integer(self, key: str, *, low: int, high: int) -> int:
        value = self.integer(key, low=low, high=high, required=True)
        assert value is not None
        return value

    def boolean(self, key: str, *, required: bool = False) -> bool | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise _Invalid(self._field(key), f"`{key}` must be true or false.")
        return value

    def required_boolean(self, key: str) -> bool:
        value = self.boolean(key, required=True)
        assert value is not None
        return value

    def choice(self, key: str, enum: Callable[[str], E], *, required: bool = False) -> E | None:
        value = self._get(key, required)
        if value is None:
            return None
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return enum(value)
        except ValueError:
            raise _Invalid(self._field(key), f"`{key}` has an unknown value.") from None

    def lang(self, key: str) -> str | None:
        value = self.text(key, max_len=MAX_LANG)
        if value is not None and _LANG_TAG.fullmatch(value) is None:
            raise _Invalid(self._field(key), f"`{key}` must be a language tag such as `fr`.")
        return value

    def idents(self, key: str, *, max_items: int) -> tuple[str, ...]:
        value = self._get(key, False)
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            raise _Invalid(self._field(key), f"`{key}` must be a list.")
        if len(value) > max_items:
            raise _Invalid(self._field(key), f"`{key}` has more than {max_items} items.")
        items = _Args({str(i): item for i, item in enumerate(value)}, f"{self._field(key)}.")
        return tuple(items.required_ident(str(i)) for i in range(len(value)))

    def nested(self, key: str) -> _Args:
        """The map at `key` (absent or None: empty), its fields named `key.field`."""
        value = self._get(key, False)
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise _Invalid(self._field(key), f"`{key}` must be a map.")
        return _Args(value, f"{self._field(key)}.")

    def settings(self) -> UpdateSettings:
        return UpdateSettings(
            default_limit_s=self.integer("default_limit_s", low=0, high=MAX_LIMIT_S),
            floor_mode=self.choice("floor_mode", FloorMode),
            cut_at_limit=self.boolean("cut_at_limit"),
            observers_may_speak=self.boolean("observers_may_speak"),
            one_request_per_delegation=self.boolean("one_request_per_delegation"),
        )


def _nothing(cls: Callable[[], E]) -> Callable[[_Args], E]:
    return lambda _a: cls()


_WIRE: Final[dict[str, Callable[[_Args], WireCommand]]] = {
    RequestFloor.name: lambda a: RequestFloor(
        kind=a.choice("kind", Kind) or Kind.SPEAK,
        lang=a.lang("lang"),
        participant=a.ident("participant"),
    ),
    WithdrawFloor.name: lambda a: WithdrawFloor(request=a.ident("request")),
    MoveRequest.name: lambda a: MoveRequest(
        request=a.required_ident("request"),
        position=a.required_integer("position", low=0, high=2**31),
    ),
    GrantFloor.name: lambda a: GrantFloor(
        request=a.ident("request"),
        participant=a.ident("participant"),
        limit_s=a.integer("limit_s", low=0, high=MAX_LIMIT_S),
    ),
    ReleaseFloor.name: _nothing(ReleaseFloor),
    ExtendFloor.name: lambda a: ExtendFloor(
        seconds=a.required_integer("seconds", low=1, high=MAX_EXTEND_S)
    ),
    PauseFloor.name: _nothing(PauseFloor),
    UnpauseFloor.name: _nothing(UnpauseFloor),
    CloseList.name: _nothing(CloseList),
    OpenList.name: _nothing(OpenList),
    ClearQueue.name: _nothing(ClearQueue),
    SetMute.name: lambda a: SetMute(
        muted=a.required_boolean("muted"), participant=a.ident("participant")
    ),
    MuteAll.name: lambda a: MuteAll(exceptions=a.idents("except", max_items=100_000)),
    SendChat.name: lambda a: SendChat(
        to=a.required_ident("to"), text=a.required_text("text", max_len=MAX_CHAT)
    ),
    DeleteChat.name: lambda a: DeleteChat(message=a.required_ident("message")),
    SetStatus.name: lambda a: SetStatus(status=_required(a.choice("status", Status), "status")),
    UpdateSettings.name: lambda a: a.settings(),
    AssignSeat.name: lambda a: AssignSeat(
        seat=a.required_ident("seat"), participant=a.ident("participant")
    ),
    SeatRequest.name: lambda a: SeatRequest(
        seat=a.required_ident("seat"), kind=a.choice("kind", Kind) or Kind.SPEAK
    ),
    SeatRelease.name: lambda a: SeatRelease(seat=a.required_ident("seat")),
    SeatMute.name: lambda a: SeatMute(
        seat=a.required_ident("seat"), muted=a.required_boolean("muted")
    ),
}

WIRE_COMMANDS: Final = frozenset(_WIRE)
"""The names of every command a client may send."""


def _required(value: E | None, field: str) -> E:
    if value is None:
        raise _Invalid(field, f"`{field}` is required.")
    return value


def _parse(table: Mapping[str, Callable[[_Args], E]], name: object, args: object) -> E | Rejection:
    if not isinstance(name, str) or name not in table:
        return Rejection(Code.UNKNOWN_COMMAND, f"Unknown command {str(name)[:64]!r}.")
    if args is None:
        args = {}
    if not isinstance(args, Mapping):
        return invalid("args", "`args` must be a map.")
    try:
        return table[name](_Args(args))
    except _Invalid as bad:
        return invalid(bad.field, bad.message)


def parse_command(name: object, args: object) -> WireCommand | Rejection:
    """A client's command from its wire `name` and `args`, or why it is not one.

    Unknown arguments are ignored, so that clients of later protocol versions work.
    """
    return _parse(_WIRE, name, args)


def _update_participant(a: _Args) -> UpdateParticipant:
    return UpdateParticipant(
        participant=a.required_ident("participant"),
        participant_name=a.text("name", max_len=MAX_NAME),
        delegation=a.text("delegation", max_len=MAX_NAME),
        role=a.choice("role", Role),
        attendance=a.choice("attendance", Attendance),
        seat=a.ident("seat") if "seat" in a.raw else UNSET,
        lang=a.lang("lang") if "lang" in a.raw else UNSET,
    )


_ADMIN: Final[dict[str, Callable[[_Args], AdminCommand]]] = {
    CreateMeeting.name: lambda a: CreateMeeting(
        meeting=a.required_ident("meeting"),
        title=a.required_text("title", max_len=MAX_NAME),
        settings=a.nested("settings").settings(),
    ),
    AddParticipant.name: lambda a: AddParticipant(
        participant_name=a.required_text("name", max_len=MAX_NAME),
        delegation=a.required_text("delegation", max_len=MAX_NAME),
        role=_required(a.choice("role", Role, required=True), "role"),
        attendance=a.choice("attendance", Attendance) or Attendance.REMOTE,
        seat=a.ident("seat"),
        lang=a.lang("lang"),
    ),
    UpdateParticipant.name: _update_participant,
    RemoveParticipant.name: lambda a: RemoveParticipant(
        participant=a.required_ident("participant")
    ),
    AddDevice.name: lambda a: AddDevice(
        device_name=a.required_text("name", max_len=MAX_NAME),
        seats=a.idents("seats", max_items=MAX_SEATS),
    ),
}


def parse_admin(name: str, body: object) -> AdminCommand | Rejection:
    """An admin command from an HTTP body (a plain map), or why it is not one."""
    return _parse(_ADMIN, name, body)
