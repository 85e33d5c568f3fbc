"""A small given/when/then harness for the pure core.

    m = Scenario()                                 # a meeting, created by admin
    chair = m.add("Chair", "UN", role="chair")    # participants by the admin API
    ana = m.add("Ana", "FR", seat="A1")
    room = m.device("Room", ["A1", "A2"])
    m.given(ana, "floor.request")                  # applied; must be accepted
    events = m.when(chair, "floor.grant", {})      # decided and applied; returns the events
    assert names(events) == ["floor.granted"]
    assert m.rejects(ana, "floor.grant") == "forbidden"

Commands go through the wire parser (`parse_command`), exactly as a client's would.
Time is explicit: `m.now` (ms) advances only with `m.tick(ms)` or `now=`.
"""

from __future__ import annotations

from typing import Any

from floor.state import (
    Accepted,
    Event,
    Rejection,
    State,
    decide,
    evolve,
    parse_admin,
    parse_command,
    wire,
)
from floor.state import commands as cmd

T0 = 1_764_150_000_000


def names(events: list[Event]) -> list[str]:
    return [e.name for e in events]


def data(event: Event) -> dict[str, Any]:
    """An event's wire data (what clients see)."""
    return wire.data_to_wire(event.data)


class Scenario:
    def __init__(self, title: str = "Test meeting", **settings: Any) -> None:
        self.state = State()
        self.now = T0
        self.log: list[Event] = []
        self.admin("meeting.create", {"meeting": "m-1", "title": title, "settings": settings})

    # --- time ---
    def tick(self, ms: int) -> int:
        self.now += ms
        return self.now

    # --- applying ---
    def _apply(self, outcome: Accepted | Rejection) -> list[Event]:
        assert isinstance(outcome, Accepted), f"rejected: {outcome}"
        for event in outcome.events:
            self.state = evolve(self.state, event)
            self.log.append(event)
        return list(outcome.events)

    def decide(
        self,
        actor: str,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        now: int | None = None,
        cid: str | None = None,
    ) -> Accepted | Rejection:
        """Decide a wire command without applying it."""
        command = parse_command(name, args if args is not None else {})
        if isinstance(command, Rejection):
            return command
        return decide(self.state, command, actor, self.now if now is None else now, cid)

    def when(
        self,
        actor: str,
        name: str,
        args: dict[str, Any] | None = None,
        *,
        now: int | None = None,
        cid: str | None = None,
    ) -> list[Event]:
        """Decide and apply a wire command that must be accepted; its events."""
        return self._apply(self.decide(actor, name, args, now=now, cid=cid))

    given = when

    def rejects(self, actor: str, name: str, args: dict[str, Any] | None = None, **kw: Any) -> str:
        """Decide a command that must be rejected; its code. Asserts the state is unchanged."""
        before = self.state
        outcome = self.decide(actor, name, args, **kw)
        assert isinstance(outcome, Rejection), f"accepted: {outcome}"
        assert self.state is before
        return outcome.code.value

    def rejection(self, actor: str, name: str, args: dict[str, Any] | None = None) -> Rejection:
        outcome = self.decide(actor, name, args)
        assert isinstance(outcome, Rejection), f"accepted: {outcome}"
        return outcome

    def admin(self, name: str, body: dict[str, Any]) -> list[Event]:
        command = parse_admin(name, body)
        assert not isinstance(command, Rejection), command
        return self._apply(decide(self.state, command, "admin", self.now))

    def admin_decide(self, name: str, body: dict[str, Any]) -> Accepted | Rejection:
        command = parse_admin(name, body)
        if isinstance(command, Rejection):
            return command
        return decide(self.state, command, "admin", self.now)

    def expire(self, now: int | None = None) -> list[Event]:
        """The host's timer fires (by system)."""
        return self._apply(
            decide(self.state, cmd.ExpireTime(), "system", self.now if now is None else now)
        )

    # --- roster ---
    def add(
        self,
        name: str,
        delegation: str,
        role: str = "delegate",
        attendance: str = "remote",
        seat: str | None = None,
        lang: str | None = None,
    ) -> str:
        body: dict[str, Any] = {
            "name": name,
            "delegation": delegation,
            "role": role,
            "attendance": attendance,
        }
        if seat is not None:
            body["seat"] = seat
            body["attendance"] = "onsite"
        if lang is not None:
            body["lang"] = lang
        (event,) = self.admin("participant.add", body)
        return event.data.participant.id  # type: ignore[union-attr]

    def device(self, name: str, seats: list[str]) -> str:
        (event,) = self.admin("device.add", {"name": name, "seats": seats})
        return event.data.device.id  # type: ignore[union-attr]

    # --- reading ---
    def queue(self) -> list[str]:
        """The queue as participant ids, in order."""
        return [r.participant for r in self.state.queue]

    def speaker(self) -> str | None:
        return self.state.floor.participant if self.state.floor is not None else None
