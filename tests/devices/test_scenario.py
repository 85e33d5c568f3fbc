"""Scenario files: every step form reads; every mistake names its line."""

from __future__ import annotations

import pytest

from floor.devices.hardware import Button
from floor.devices.scenario import (
    DEFAULT_WAIT_S,
    ScenarioError,
    ScriptedPress,
    Showing,
    Wait,
    parse,
)

EXAMPLE = """
# a committee morning
0     press A01 request
0.5   press A02 request point_of_order   # a point of order
+0    wait A01 waiting
+0    wait A01 live 60
+3    press A01 mic
+0.2  press A03 mute on
+0.2  press A03 mute off
+0    wait settled 5
"""


def test_every_step_form_reads() -> None:
    assert parse(EXAMPLE) == [
        ScriptedPress(0.0, False, "A01", Button.REQUEST),
        ScriptedPress(0.5, False, "A02", Button.REQUEST, kind="point_of_order"),
        Wait(0.0, True, "A01", Showing.WAITING, DEFAULT_WAIT_S),
        Wait(0.0, True, "A01", Showing.LIVE, 60.0),
        ScriptedPress(3.0, True, "A01", Button.MIC),
        ScriptedPress(0.2, True, "A03", Button.MUTE, muted=True),
        ScriptedPress(0.2, True, "A03", Button.MUTE, muted=False),
        Wait(0.0, True, None, None, 5.0),
    ]


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("0", "TIME press|wait"),
        ("soon press A01 request", "not a time"),
        ("-1 press A01 request", "not a time"),
        ("nan press A01 request", "not a time"),
        ("1 shout A01", "unknown step"),
        ("1 press A01", "seat and a button"),
        ("1 press A01 pedal", "unknown button"),
        ("1 press A01 request loudly", "optional kind"),
        ("1 press A01 mic now", "no argument"),
        ("1 press A01 mute", "on or off"),
        ("1 wait A01", "live, waiting or idle"),
        ("1 wait A01 speaking", "live, waiting or idle"),
        ("1 wait A01 live +3", "not a timeout"),
        ("1 wait A01 live 0", "not a timeout"),
        ("1 wait settled 3 4", "unexpected"),
    ],
)
def test_a_bad_line_is_refused_with_its_number(line: str, says: str) -> None:
    with pytest.raises(ScenarioError, match=f"line 2: .*{says}"):
        parse(f"# first\n{line}\n")
