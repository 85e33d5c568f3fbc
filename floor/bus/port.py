"""The bus port: what a meeting host needs to hear about other nodes' writes.

A node subscribes ONCE per meeting it serves (not per client) with a `Notice` callback.
The callback is called, synchronously, from the bus's reader task:

- `notice(seq)` when another writer (or this node) moved the meeting's log to `seq`: a
  host behind `seq` reads what it misses from the log, in order, before going on;
- `notice(None)` when notices may have been missed: the subscription was just established
  or re-established after the connection dropped. The host then compares its seq with
  the log's. (Anything appended before a subscription is confirmed is read that way;
  anything after it is notified.)

Invariants: notices are hints, never data — losing one delays a host, never misorders
it (the log is the only source of truth; hosts also repair every `repair_every_s`).
`run()` is the bus's one long-lived task; it belongs to the app's task group and returns
once `close()` was called. `subscribe` and `unsubscribe` are synchronous and never block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Notice = Callable[[int | None], None]
"""The log of the meeting moved to this seq; None: compare with the log (notices lost)."""


class Bus(Protocol):
    repair_every_s: float | None
    """How often hosts should compare their seq with the log's (None: never needed)."""

    @property
    def connected(self) -> bool:
        """False while the bus cannot hear notices (a node then is not ready)."""
        ...

    def subscribe(self, meeting: str, notice: Notice) -> None:
        """Hear the meeting's notices (replaces any previous callback for it)."""
        ...

    def unsubscribe(self, meeting: str) -> None: ...

    async def run(self) -> None:
        """Deliver notices until `close()`; reconnects by itself after failures."""
        ...

    async def close(self) -> None:
        """Stop `run()` and release connections; idempotent."""
        ...
