"""Scenario files for the console simulator: presses and waits with timings.

One step per line; blank lines and `#` comments are ignored. TIME is in seconds, from the
start of the scenario (`2.5`) or after the previous step (`+0.5`).

    TIME press SEAT request [speak|point_of_order|reply]   # request-to-speak (a toggle)
    TIME press SEAT mic                                    # microphone button: yields
    TIME press SEAT mute on|off                            # mute button
    TIME wait SEAT live|waiting|idle [TIMEOUT]             # until the consoles show it
    TIME wait settled [TIMEOUT]                            # until every press is answered

A `wait` holds the timeline: later absolute times that have passed run at once; the
simulator fails (exit 1) if a wait times out (default 30 s). Example:

    0     press A01 request
    0.5   press A02 request
    +0    wait A01 waiting
    +0    wait A01 live 60      # until the chair gives A01 the floor
    +3    press A01 mic         # three seconds of speech, then yield

Parsing is pure: `parse(text)` returns the steps or raises `ScenarioError` naming the line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from floor.devices.hardware import Button

DEFAULT_WAIT_S: Final = 30.0
KINDS: Final = ("speak", "point_of_order", "reply")


class ScenarioError(ValueError):
    """A scenario line that cannot be read; the message names the line."""


class Showing(enum.Enum):
    """What a console shows, as a `wait` step names it."""

    LIVE = "live"
    WAITING = "waiting"
    IDLE = "idle"


@dataclass(frozen=True, slots=True)
class ScriptedPress:
    at: float
    relative: bool
    seat: str
    button: Button
    kind: str | None = None
    muted: bool | None = None


@dataclass(frozen=True, slots=True)
class Wait:
    at: float
    relative: bool
    seat: str | None
    """None: wait until every press is answered (`wait settled`)."""
    showing: Showing | None
    timeout_s: float = DEFAULT_WAIT_S


Step = ScriptedPress | Wait


def _time(word: str) -> tuple[float, bool]:
    relative = word.startswith("+")
    try:
        value = float(word[1:] if relative else word)
    except ValueError:
        raise ScenarioError(f"{word!r} is not a time in seconds") from None
    if not value >= 0 or value == float("inf"):
        raise ScenarioError(f"{word!r} is not a time in seconds")
    return value, relative


def _timeout(words: list[str]) -> float:
    if not words:
        return DEFAULT_WAIT_S
    if len(words) > 1:
        raise ScenarioError(f"unexpected {' '.join(words[1:])!r}")
    value, relative = _time(words[0])
    if relative or value <= 0:
        raise ScenarioError(f"{words[0]!r} is not a timeout in seconds")
    return value


def _press(at: float, relative: bool, words: list[str]) -> ScriptedPress:
    if len(words) < 2:
        raise ScenarioError("press needs a seat and a button (request, mic or mute)")
    seat, button, rest = words[0], words[1], words[2:]
    if button == "request":
        if len(rest) > 1 or (rest and rest[0] not in KINDS):
            raise ScenarioError(f"request takes an optional kind: {', '.join(KINDS)}")
        return ScriptedPress(at, relative, seat, Button.REQUEST, kind=rest[0] if rest else None)
    if button == "mic":
        if rest:
            raise ScenarioError("mic takes no argument")
        return ScriptedPress(at, relative, seat, Button.MIC)
    if button == "mute":
        if rest not in (["on"], ["off"]):
            raise ScenarioError("mute takes on or off")
        return ScriptedPress(at, relative, seat, Button.MUTE, muted=rest[0] == "on")
    raise ScenarioError(f"unknown button {button!r} (request, mic or mute)")


def _wait(at: float, relative: bool, words: list[str]) -> Wait:
    if words[:1] == ["settled"]:
        return Wait(at, relative, None, None, _timeout(words[1:]))
    if len(words) < 2:
        raise ScenarioError("wait needs a seat and live, waiting or idle (or `settled`)")
    try:
        showing = Showing(words[1])
    except ValueError:
        raise ScenarioError(f"{words[1]!r}: a console is live, waiting or idle") from None
    return Wait(at, relative, words[0], showing, _timeout(words[2:]))


def parse_line(line: str) -> Step | None:
    """One line: a step, or None for a blank or comment line. Raises ScenarioError."""
    words = line.split("#", 1)[0].split()
    if not words:
        return None
    if len(words) < 2:
        raise ScenarioError("a step is TIME press|wait …")
    at, relative = _time(words[0])
    verb, rest = words[1], words[2:]
    if verb == "press":
        return _press(at, relative, rest)
    if verb == "wait":
        return _wait(at, relative, rest)
    raise ScenarioError(f"unknown step {verb!r} (press or wait)")


def parse(text: str) -> list[Step]:
    """Every step of a scenario, in order. Raises ScenarioError with the line number."""
    steps: list[Step] = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            step = parse_line(line)
        except ScenarioError as e:
            raise ScenarioError(f"line {number}: {e}") from None
        if step is not None:
            steps.append(step)
    return steps
