"""The cast of the floor tests: a meeting with a chair, delegates, an observer, a display."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from floor.state import Event
from tests.state.scenario import Scenario, data


@dataclass(frozen=True)
class Cast:
    m: Scenario
    chair: str
    ana: str
    """Delegate of FR, speaks French (`lang` fr)."""
    bob: str
    """Delegate of DE, no preferred language."""
    cleo: str
    """Delegate of FR, like Ana."""
    olga: str
    """Observer (an NGO)."""
    screen: str
    """The room display."""

    def request(self, who: str, **args: Any) -> str:
        """`who` asks for the floor (must be accepted); the new request's id."""
        events = self.m.when(who, "floor.request", args)
        request = events[0].data.request  # type: ignore[union-attr]
        assert isinstance(request, str)
        return request


def cast(**settings: Any) -> Cast:
    m = Scenario(**settings)
    return Cast(
        m=m,
        chair=m.add("Chair", "UN", role="chair"),
        ana=m.add("Ana", "FR", lang="fr"),
        bob=m.add("Bob", "DE"),
        cleo=m.add("Cleo", "FR"),
        olga=m.add("Olga", "NGO", role="observer"),
        screen=m.add("Screen", "Room", role="display"),
    )


def floor_of(event: Event) -> dict[str, Any]:
    """The FLOOR map of a floor.granted / interrupted / resumed / … event."""
    floor = data(event)["floor"]
    assert isinstance(floor, dict)
    return floor


def speaking(**settings: Any) -> Cast:
    """A meeting where Ana holds the floor (granted at the scenario's start time)."""
    c = cast(**settings)
    c.request(c.ana)
    c.m.given(c.chair, "floor.grant")
    return c
