"""Command parsing (floor/state/commands.py): shapes, types, ranges and lengths.

Every wire command of `WIRE_COMMANDS` and every admin command is described once in
`SPECS` (its fields, their kinds and limits, and a valid set of arguments); the bad and
good values of each field kind are generated from that table, so a new field or command
is tested as soon as it is described there.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pytest

from floor.state import commands as cmd
from floor.state.commands import (
    MAX_CHAT,
    MAX_EXTEND_S,
    MAX_ID,
    MAX_LANG,
    MAX_LIMIT_S,
    MAX_NAME,
    MAX_SEATS,
)
from floor.state.model import Attendance, FloorMode, Kind, Role, Status
from floor.state.parsing import WIRE_COMMANDS, parse_admin, parse_command
from floor.state.rejection import Code, Rejection

Parser = Callable[..., Any]

# --- the table of commands -----------------------------------------------------------------


@dataclass(frozen=True)
class F:
    """One argument: its kind (ident, text, int, bool, choice, lang, idents) and limits."""

    kind: str
    required: bool = False
    max_len: int = MAX_ID
    low: int = 0
    high: int = 0
    values: tuple[str, ...] = ()
    max_items: int = 0


def ident(required: bool = False) -> F:
    return F("ident", required)


def text(max_len: int, required: bool = False) -> F:
    return F("text", required, max_len=max_len)


def integer(low: int, high: int, required: bool = False) -> F:
    return F("int", required, low=low, high=high)


def boolean(required: bool = False) -> F:
    return F("bool", required)


def choice(enum: Any, required: bool = False) -> F:
    return F("choice", required, values=tuple(e.value for e in enum))


LANG = F("lang", max_len=MAX_LANG)


@dataclass(frozen=True)
class Spec:
    parse: Parser
    base: dict[str, Any]
    fields: dict[str, F] = field(default_factory=dict)


def settings_fields(prefix: str = "") -> dict[str, F]:
    return {
        f"{prefix}default_limit_s": integer(0, MAX_LIMIT_S),
        f"{prefix}floor_mode": choice(FloorMode),
        f"{prefix}cut_at_limit": boolean(),
        f"{prefix}observers_may_speak": boolean(),
        f"{prefix}one_request_per_delegation": boolean(),
    }


WIRE = parse_command
ADMIN = parse_admin

SPECS: dict[str, Spec] = {
    # floor and list of speakers
    "floor.request": Spec(WIRE, {}, {"kind": choice(Kind), "lang": LANG, "participant": ident()}),
    "floor.withdraw": Spec(WIRE, {}, {"request": ident()}),
    "floor.move": Spec(
        WIRE,
        {"request": "r-1", "position": 0},
        {"request": ident(True), "position": integer(0, 2**31, True)},
    ),
    "floor.grant": Spec(
        WIRE,
        {},
        {"request": ident(), "participant": ident(), "limit_s": integer(0, MAX_LIMIT_S)},
    ),
    "floor.release": Spec(WIRE, {}),
    "floor.extend": Spec(WIRE, {"seconds": 60}, {"seconds": integer(1, MAX_EXTEND_S, True)}),
    "floor.pause": Spec(WIRE, {}),
    "floor.unpause": Spec(WIRE, {}),
    "list.close": Spec(WIRE, {}),
    "list.open": Spec(WIRE, {}),
    "queue.clear": Spec(WIRE, {}),
    # microphones
    "mute.set": Spec(WIRE, {"muted": True}, {"muted": boolean(True), "participant": ident()}),
    "mute.all": Spec(WIRE, {}, {"except": F("idents", max_items=100_000)}),
    # chat
    "chat.send": Spec(
        WIRE,
        {"to": "all", "text": "Hello"},
        {"to": ident(True), "text": text(MAX_CHAT, True)},
    ),
    "chat.delete": Spec(WIRE, {"message": "x-1"}, {"message": ident(True)}),
    # meeting, seats, settings
    "meeting.set_status": Spec(WIRE, {"status": "open"}, {"status": choice(Status, True)}),
    "settings.update": Spec(WIRE, {}, settings_fields()),
    "seat.assign": Spec(
        WIRE, {"seat": "A1", "participant": "p-2"}, {"seat": ident(True), "participant": ident()}
    ),
    # room devices
    "seat.request": Spec(WIRE, {"seat": "A1"}, {"seat": ident(True), "kind": choice(Kind)}),
    "seat.release": Spec(WIRE, {"seat": "A1"}, {"seat": ident(True)}),
    "seat.mute": Spec(
        WIRE, {"seat": "A1", "muted": False}, {"seat": ident(True), "muted": boolean(True)}
    ),
    # admin
    "meeting.create": Spec(
        ADMIN,
        {"meeting": "m-1", "title": "Committee", "settings": {}},
        {
            "meeting": ident(True),
            "title": text(MAX_NAME, True),
            **settings_fields("settings."),
        },
    ),
    "participant.add": Spec(
        ADMIN,
        {"name": "Ana", "delegation": "FR", "role": "delegate"},
        {
            "name": text(MAX_NAME, True),
            "delegation": text(MAX_NAME, True),
            "role": choice(Role, True),
            "attendance": choice(Attendance),
            "seat": ident(),
            "lang": LANG,
        },
    ),
    "participant.update": Spec(
        ADMIN,
        {"participant": "p-2"},
        {
            "participant": ident(True),
            "name": text(MAX_NAME),
            "delegation": text(MAX_NAME),
            "role": choice(Role),
            "attendance": choice(Attendance),
            "seat": ident(),
            "lang": LANG,
        },
    ),
    "participant.remove": Spec(ADMIN, {"participant": "p-2"}, {"participant": ident(True)}),
    "device.add": Spec(
        ADMIN,
        {"name": "North room"},
        {"name": text(MAX_NAME, True), "seats": F("idents", max_items=MAX_SEATS)},
    ),
}

ADMIN_COMMANDS = frozenset(c.name for c in typing.get_args(cmd.AdminCommand))


def test_the_table_describes_every_command() -> None:
    """SPECS describes exactly the wire commands and the admin commands."""
    assert {n for n, s in SPECS.items() if s.parse is WIRE} == WIRE_COMMANDS
    assert {n for n, s in SPECS.items() if s.parse is ADMIN} == ADMIN_COMMANDS


# --- generated bad and good values ---------------------------------------------------------

NOT_A_STRING = [("int", 5), ("bool", True), ("float", 1.5), ("list", ["a"]), ("map", {"a": 1})]
NOT_AN_INT = [
    ("string", "5"),
    ("bool_true", True),
    ("bool_false", False),
    ("float", 1.5),
    ("whole_float", 5.0),
    ("list", [5]),
]
NOT_A_BOOL = [("string", "true"), ("int_1", 1), ("int_0", 0), ("list", [True])]
BAD_LANGS = [
    "fr_FR",
    "fr FR",
    "français",
    "f",
    "-",
    "-fr",
    "fr-",
    "fr--ca",
    "12",
    "fr-abcdefghi",
    "fr\n",
    "x" * (MAX_LANG + 1),
    "fr-" + "-".join(["abcdefgh"] * 4),
]
GOOD_LANGS = ["fr", "en-GB", "zh-Hans-CN", "es-419", "ast", "de-CH-1901", "en-" + "a" * 8]


def bad_values(f: F) -> Iterator[tuple[str, Any]]:
    """(label, value) pairs every one of which the field must refuse."""
    if f.kind in ("ident", "text", "lang"):
        yield from NOT_A_STRING
        yield "empty", ""
        yield "too_long", "x" * (f.max_len + 1)
        if f.kind != "lang":
            yield "nul", "a\x00b"
            yield "too_long_emoji", "\U0001f600" * (f.max_len + 1)
        else:
            yield "nul", "fr\x00"
            yield from ((f"tag_{i}", v) for i, v in enumerate(BAD_LANGS))
    elif f.kind == "int":
        yield from NOT_AN_INT
        yield "below", f.low - 1
        yield "above", f.high + 1
    elif f.kind == "bool":
        yield from NOT_A_BOOL
    elif f.kind == "choice":
        yield "unknown", "nope"
        yield "upper_case", f.values[0].upper()
        yield "int", 1
        yield "list", [f.values[0]]
        yield "bool", True
    else:
        assert f.kind == "idents"
        yield "string", "p-2"
        yield "int", 5
        yield "map", {"0": "p-2"}
        yield "too_many", ["p-2"] * (f.max_items + 1)


def bad_items() -> Iterator[tuple[str, list[Any]]]:
    """Lists with one bad item at index 2 (its field is dotted: `except.2`)."""
    for label, value in [
        ("int", 5),
        ("none", None),
        ("empty", ""),
        ("too_long", "x" * (MAX_ID + 1)),
        ("nul", "p\x00"),
        ("list", ["p-3"]),
    ]:
        yield label, ["p-2", "p-3", value, "p-4"]


def good_values(f: F) -> Iterator[tuple[str, Any]]:
    """(label, value) pairs the field must accept, as given."""
    if f.kind in ("ident", "text"):
        yield "one", "x"
        yield "longest", "x" * f.max_len
        yield "longest_emoji", "\U0001f600" * f.max_len
        yield "unicode", "Łódź, 東京"
    elif f.kind == "lang":
        yield from ((v, v) for v in GOOD_LANGS)
        yield "longest", "en-" + "-".join(["abcdefgh"] * 3) + "-abcd"
    elif f.kind == "int":
        yield "low", f.low
        yield "high", f.high
    elif f.kind == "bool":
        yield "true", True
        yield "false", False
    elif f.kind == "choice":
        yield from ((v, v) for v in f.values)
    else:
        yield "empty", []
        yield "most", [f"s-{i}" for i in range(f.max_items)]
        yield "tuple", ("p-2", "p-3")


def with_field(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """`base` with the (dotted) field set to `value`."""
    args = copy.deepcopy(base)
    *parents, key = path.split(".")
    target = args
    for parent in parents:
        target = target.setdefault(parent, {})
    target[key] = value
    return args


def without_field(base: dict[str, Any], path: str) -> dict[str, Any]:
    args = copy.deepcopy(base)
    *parents, key = path.split(".")
    target = args
    for parent in parents:
        target = target[parent]
    target.pop(key, None)
    return args


def cases(which: Callable[[F], Iterator[tuple[str, Any]]]) -> list[Any]:
    return [
        pytest.param(name, path, value, id=f"{name}-{path}-{label}")
        for name, spec in SPECS.items()
        for path, f in spec.fields.items()
        for label, value in which(f)
    ]


def rejected(name: str, args: object) -> Rejection:
    outcome = SPECS[name].parse(name, args)
    assert isinstance(outcome, Rejection), f"accepted: {outcome}"
    return outcome


def accepted(name: str, args: object) -> Any:
    outcome = SPECS[name].parse(name, args)
    assert not isinstance(outcome, Rejection), outcome
    assert outcome.name == name
    return outcome


@pytest.mark.parametrize("name", sorted(SPECS))
def test_base_arguments_parse(name: str) -> None:
    """Each command's valid base arguments parse to that command."""
    accepted(name, SPECS[name].base)


REQUIRED = [
    pytest.param(name, path, id=f"{name}-{path}")
    for name, spec in SPECS.items()
    for path, f in spec.fields.items()
    if f.required
]


@pytest.mark.parametrize(("name", "path"), REQUIRED)
def test_missing_required_field_is_invalid(name: str, path: str) -> None:
    """A missing required argument, or one given as null, is invalid_args naming it."""
    for args in (
        without_field(SPECS[name].base, path),
        with_field(SPECS[name].base, path, None),
    ):
        rejection = rejected(name, args)
        assert (rejection.code, rejection.field) == (Code.INVALID_ARGS, path)
        assert rejection.message


OPTIONAL = [
    pytest.param(name, path, id=f"{name}-{path}")
    for name, spec in SPECS.items()
    for path, f in spec.fields.items()
    if not f.required
]


@pytest.mark.parametrize(("name", "path"), OPTIONAL)
def test_optional_field_may_be_missing_or_null(name: str, path: str) -> None:
    """An optional argument may be left out or given as null."""
    accepted(name, without_field(SPECS[name].base, path))
    accepted(name, with_field(SPECS[name].base, path, None))


@pytest.mark.parametrize(("name", "path", "value"), cases(bad_values))
def test_bad_field_is_invalid_and_named(name: str, path: str, value: Any) -> None:
    """A bad argument (type, enum value, range, length, NUL, tag) is invalid_args naming it."""
    rejection = rejected(name, with_field(SPECS[name].base, path, value))
    assert (rejection.code, rejection.field) == (Code.INVALID_ARGS, path)
    assert rejection.message


@pytest.mark.parametrize(("name", "path", "value"), cases(good_values))
def test_good_field_is_accepted_as_given(name: str, path: str, value: Any) -> None:
    """Every boundary and enum value a field allows parses, its value kept."""
    command = accepted(name, with_field(SPECS[name].base, path, value))
    attribute = {
        "except": "exceptions",
        "name": "participant_name" if name.startswith("participant.") else "device_name",
    }.get(path, path)
    if path.startswith("settings."):
        parsed = getattr(command.settings, path.removeprefix("settings."))
    else:
        parsed = getattr(command, attribute)
    expected = tuple(value) if isinstance(value, list | tuple) else value
    assert parsed == expected


IDENT_LISTS = [("mute.all", "except"), ("device.add", "seats")]


@pytest.mark.parametrize(("name", "key"), IDENT_LISTS)
@pytest.mark.parametrize(("label", "items"), list(bad_items()))
def test_bad_list_item_names_its_index(name: str, key: str, label: str, items: list[Any]) -> None:
    """A bad item of a list of ids is invalid_args with a dotted field: `except.2`."""
    rejection = rejected(name, with_field(SPECS[name].base, key, items))
    assert (rejection.code, rejection.field) == (Code.INVALID_ARGS, f"{key}.2")


# --- the envelope: names and args ----------------------------------------------------------

PARSERS = [pytest.param(parse_command, id="wire"), pytest.param(parse_admin, id="admin")]


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(
    "name",
    [
        "floor.nope",
        "",
        "FLOOR.REQUEST",
        " floor.request",
        "floor.expire",
        None,
        5,
        True,
        ["floor.request"],
        {"name": "floor.request"},
        b"floor.request",
    ],
)
def test_unknown_command(parse: Parser, name: object) -> None:
    """Unknown or non-string command names are unknown_command."""
    rejection = parse(name, {})
    assert isinstance(rejection, Rejection)
    assert rejection.code is Code.UNKNOWN_COMMAND
    assert rejection.field is None


def test_unknown_command_message_is_bounded() -> None:
    """An enormous unknown name is not echoed whole."""
    rejection = parse_command("x" * 100_000, {})
    assert isinstance(rejection, Rejection)
    assert len(rejection.message) < 100


@pytest.mark.parametrize("name", sorted(ADMIN_COMMANDS))
def test_admin_commands_are_unknown_on_the_wire(name: str) -> None:
    """A client cannot send an admin command: unknown_command."""
    rejection = parse_command(name, SPECS[name].base)
    assert isinstance(rejection, Rejection)
    assert rejection.code is Code.UNKNOWN_COMMAND


@pytest.mark.parametrize("name", sorted(WIRE_COMMANDS))
def test_wire_commands_are_unknown_to_the_admin_api(name: str) -> None:
    """The admin parser knows only admin commands."""
    rejection = parse_admin(name, SPECS[name].base)
    assert isinstance(rejection, Rejection)
    assert rejection.code is Code.UNKNOWN_COMMAND


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("args", [[], ["a"], "args", 5, True, 1.5, ("a", 1)])
def test_args_not_a_map(name: str, args: object) -> None:
    """`args` that is not a map is invalid_args naming `args`."""
    rejection = rejected(name, args)
    assert (rejection.code, rejection.field) == (Code.INVALID_ARGS, "args")


@pytest.mark.parametrize("name", sorted(SPECS))
def test_args_none_is_an_empty_map(name: str) -> None:
    """`args` null is read as {}: the same outcome as an empty map."""
    assert SPECS[name].parse(name, None) == SPECS[name].parse(name, {})


@pytest.mark.parametrize("name", sorted(SPECS))
def test_unknown_extra_args_are_ignored(name: str) -> None:
    """Arguments a command does not know are ignored (later protocol versions)."""
    base = SPECS[name].base
    extra = {**base, "zz_future": [1, {"x": None}], "t": "cmd", "id": 7}
    assert SPECS[name].parse(name, extra) == SPECS[name].parse(name, base)


def test_args_may_be_any_mapping() -> None:
    """Any mapping will do as `args`, not only a dict."""
    parsed = parse_command("chat.send", MappingProxyType({"to": "all", "text": "x"}))
    assert parsed == cmd.SendChat(to="all", text="x")


def test_first_bad_field_is_the_one_named() -> None:
    """With several bad arguments, one error names the first one read."""
    rejection = parse_command("chat.send", {"to": 5, "text": 5})
    assert isinstance(rejection, Rejection)
    assert rejection.field == "to"


# --- nested settings of meeting.create -----------------------------------------------------


@pytest.mark.parametrize("settings", [[], ["x"], "auto", 0, 5, False, True])
def test_meeting_create_settings_not_a_map(settings: object) -> None:
    """meeting.create `settings` that is not a map (even a falsy one) names `settings`."""
    rejection = rejected("meeting.create", {"meeting": "m-1", "title": "T", "settings": settings})
    assert (rejection.code, rejection.field) == (Code.INVALID_ARGS, "settings")


def test_meeting_create_nested_field_names() -> None:
    """A bad setting of meeting.create is named with its dotted path."""
    rejection = rejected(
        "meeting.create",
        {"meeting": "m-1", "title": "T", "settings": {"floor_mode": "auto", "cut_at_limit": 1}},
    )
    assert rejection.field == "settings.cut_at_limit"


# --- typed values and defaults -------------------------------------------------------------

PARSED: list[Any] = [
    ("floor.request", {}, cmd.RequestFloor(kind=Kind.SPEAK, lang=None, participant=None)),
    (
        "floor.request",
        {"kind": "point_of_order", "lang": "fr-CA", "participant": "p-2"},
        cmd.RequestFloor(kind=Kind.POINT_OF_ORDER, lang="fr-CA", participant="p-2"),
    ),
    ("floor.request", {"kind": "reply"}, cmd.RequestFloor(kind=Kind.REPLY)),
    ("floor.withdraw", {}, cmd.WithdrawFloor(request=None)),
    ("floor.withdraw", {"request": "r-4"}, cmd.WithdrawFloor(request="r-4")),
    ("floor.move", {"request": "r-4", "position": 3}, cmd.MoveRequest("r-4", 3)),
    ("floor.grant", {}, cmd.GrantFloor(request=None, participant=None, limit_s=None)),
    (
        "floor.grant",
        {"request": "r-4", "participant": "p-2", "limit_s": 0},
        cmd.GrantFloor(request="r-4", participant="p-2", limit_s=0),
    ),
    ("floor.release", {}, cmd.ReleaseFloor()),
    ("floor.extend", {"seconds": 30}, cmd.ExtendFloor(30)),
    ("floor.pause", {}, cmd.PauseFloor()),
    ("floor.unpause", {}, cmd.UnpauseFloor()),
    ("list.close", {}, cmd.CloseList()),
    ("list.open", {}, cmd.OpenList()),
    ("queue.clear", {}, cmd.ClearQueue()),
    ("mute.set", {"muted": False}, cmd.SetMute(muted=False, participant=None)),
    ("mute.set", {"muted": True, "participant": "p-2"}, cmd.SetMute(True, "p-2")),
    ("mute.all", {}, cmd.MuteAll(exceptions=())),
    ("mute.all", {"except": ["p-2", "p-3"]}, cmd.MuteAll(exceptions=("p-2", "p-3"))),
    ("chat.send", {"to": "chair", "text": " hi "}, cmd.SendChat(to="chair", text=" hi ")),
    ("chat.delete", {"message": "x-9"}, cmd.DeleteChat("x-9")),
    ("meeting.set_status", {"status": "suspended"}, cmd.SetStatus(Status.SUSPENDED)),
    (
        "settings.update",
        {},
        cmd.UpdateSettings(
            default_limit_s=None,
            floor_mode=None,
            cut_at_limit=None,
            observers_may_speak=None,
            one_request_per_delegation=None,
        ),
    ),
    (
        "settings.update",
        {"default_limit_s": 0, "floor_mode": "auto", "cut_at_limit": False},
        cmd.UpdateSettings(default_limit_s=0, floor_mode=FloorMode.AUTO, cut_at_limit=False),
    ),
    ("seat.assign", {"seat": "A1", "participant": "p-2"}, cmd.AssignSeat("A1", "p-2")),
    ("seat.assign", {"seat": "A1", "participant": None}, cmd.AssignSeat("A1", None)),
    ("seat.request", {"seat": "A1"}, cmd.SeatRequest("A1", Kind.SPEAK)),
    (
        "seat.request",
        {"seat": "A1", "kind": "point_of_order"},
        cmd.SeatRequest("A1", Kind.POINT_OF_ORDER),
    ),
    ("seat.release", {"seat": "A1"}, cmd.SeatRelease("A1")),
    ("seat.mute", {"seat": "A1", "muted": True}, cmd.SeatMute("A1", True)),
    (
        "meeting.create",
        {"meeting": "m-1", "title": "Committee"},
        cmd.CreateMeeting("m-1", "Committee", cmd.UpdateSettings()),
    ),
    (
        "meeting.create",
        {"meeting": "m-1", "title": "T", "settings": None},
        cmd.CreateMeeting("m-1", "T", cmd.UpdateSettings()),
    ),
    (
        "meeting.create",
        {"meeting": "m-1", "title": "T", "settings": {"floor_mode": "auto", "zz": 1}},
        cmd.CreateMeeting("m-1", "T", cmd.UpdateSettings(floor_mode=FloorMode.AUTO)),
    ),
    (
        "participant.add",
        {"name": "Ana", "delegation": "FR", "role": "observer"},
        cmd.AddParticipant(
            participant_name="Ana",
            delegation="FR",
            role=Role.OBSERVER,
            attendance=Attendance.REMOTE,
            seat=None,
            lang=None,
        ),
    ),
    (
        "participant.add",
        {
            "name": "Ana",
            "delegation": "FR",
            "role": "chair",
            "attendance": "onsite",
            "seat": "A1",
            "lang": "fr",
        },
        cmd.AddParticipant("Ana", "FR", Role.CHAIR, Attendance.ONSITE, "A1", "fr"),
    ),
    (
        "participant.update",
        {"participant": "p-2"},
        cmd.UpdateParticipant(
            participant="p-2",
            participant_name=None,
            delegation=None,
            role=None,
            attendance=None,
            seat=cmd.UNSET,
            lang=cmd.UNSET,
        ),
    ),
    (
        "participant.update",
        {"participant": "p-2", "seat": None, "lang": None},
        cmd.UpdateParticipant("p-2", seat=None, lang=None),
    ),
    (
        "participant.update",
        {
            "participant": "p-2",
            "name": "Ana",
            "delegation": "BE",
            "role": "display",
            "attendance": "onsite",
            "seat": "B2",
            "lang": "nl-BE",
        },
        cmd.UpdateParticipant("p-2", "Ana", "BE", Role.DISPLAY, Attendance.ONSITE, "B2", "nl-BE"),
    ),
    ("participant.remove", {"participant": "p-2"}, cmd.RemoveParticipant("p-2")),
    ("device.add", {"name": "North"}, cmd.AddDevice("North", ())),
    ("device.add", {"name": "North", "seats": ["A1", "A1"]}, cmd.AddDevice("North", ("A1", "A1"))),
]


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(PARSED)],
)
def test_parsed_values_are_typed_commands(name: str, args: dict[str, Any], expected: Any) -> None:
    """Arguments parse to the typed, frozen command with its defaults filled in."""
    parsed = SPECS[name].parse(name, args)
    assert parsed == expected
    assert type(parsed) is type(expected)


def test_every_command_has_a_typed_value_case() -> None:
    """PARSED covers every command of SPECS."""
    assert {case[0] for case in PARSED} == set(SPECS)


def test_enum_values_are_enum_members() -> None:
    """Choices parse to enum members, not plain strings."""
    parsed = parse_command("floor.request", {"kind": "reply"})
    assert isinstance(parsed, cmd.RequestFloor)
    assert parsed.kind is Kind.REPLY
    parsed_status = parse_command("meeting.set_status", {"status": "closed"})
    assert isinstance(parsed_status, cmd.SetStatus)
    assert parsed_status.status is Status.CLOSED


def test_chat_length_counts_code_points() -> None:
    """Chat text is limited in Unicode code points, not bytes: 2000 emoji fit, 2001 do not."""
    emoji = "\U0001f44d"
    assert len(emoji.encode()) == 4
    ok = parse_command("chat.send", {"to": "all", "text": emoji * MAX_CHAT})
    assert isinstance(ok, cmd.SendChat)
    assert len(ok.text) == 2000
    bad = parse_command("chat.send", {"to": "all", "text": emoji * (MAX_CHAT + 1)})
    assert isinstance(bad, Rejection)
    assert (bad.code, bad.field) == (Code.INVALID_ARGS, "text")


def test_limits_are_the_protocols() -> None:
    """The limits are the protocol's: ids 1 to 64, chat 1 to 2000, extension 1 to 3600 s."""
    assert (MAX_ID, MAX_CHAT, MAX_EXTEND_S) == (64, 2000, 3600)
