"""A `Hardware` that records every call and checks the one-floor promise as it goes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Recording:
    calls: list[tuple[str, str, object]] = field(default_factory=list)
    live: set[str] = field(default_factory=set)
    requests: dict[str, int] = field(default_factory=dict)
    max_live: int = 0
    fail_on: str | None = None
    """A seat whose microphone call raises (a hardware fault)."""

    def set_microphone(self, seat: str, live: bool) -> None:
        if seat == self.fail_on:
            raise OSError(f"console {seat} does not answer")
        self.calls.append(("mic", seat, live))
        if live:
            self.live.add(seat)
        else:
            self.live.discard(seat)
        self.max_live = max(self.max_live, len(self.live))

    def set_request(self, seat: str, position: int | None) -> None:
        self.calls.append(("request", seat, position))
        if position is None:
            self.requests.pop(seat, None)
        else:
            self.requests[seat] = position

    @property
    def waiting(self) -> list[str]:
        return sorted(self.requests, key=self.requests.__getitem__)
