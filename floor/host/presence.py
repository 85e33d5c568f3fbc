"""Presence: who is online in a meeting, counted here and merged across nodes.

A participant is online when at least one connection of theirs is open on any node. This
node counts its own connections (`Presence.count`, called by the fan-out as connections
attach and detach); the other nodes' online sets come in through the shared presence
board (floor.bus.presence), where each node's set expires unless refreshed, so the
connections of a node that died go offline by themselves.

Invariants: the merged set is the union of the local set and the remote ones; a change
is reported for a participant only when their merged state changes (a participant who
moves from one node to another never blinks offline while one node still has them);
changes are coalesced and sent to chairs at most once every `PRESENCE_EVERY_S`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Iterable
from typing import Final

PRESENCE_EVERY_S: Final = 1.0


def union_of(shared: Iterable[str | bytes]) -> frozenset[str]:
    """The participants online at other nodes, from their shared JSON lists (bad ones skipped)."""
    online: set[str] = set()
    for text in shared:
        try:
            ids = json.loads(text)
        except ValueError:
            continue
        if isinstance(ids, list):
            online.update(i for i in ids if isinstance(i, str))
    return frozenset(online)


def encode(online: Collection[str]) -> str:
    """A node's online set as it is shared (sorted JSON list)."""
    return json.dumps(sorted(online), separators=(",", ":"))


def remote_changes(
    local: Collection[str], before: frozenset[str], after: frozenset[str]
) -> dict[str, bool]:
    """Whose merged presence changes when the remote set goes from `before` to `after`
    (participants online here stay online whatever other nodes say): id → now online."""
    return {pid: pid in after for pid in before ^ after if pid not in local}


class Presence:
    """One meeting's presence on this node: local counts, the remote set, pending changes.

    `wake` is called when changes become due for sending (the host's loop then calls
    `take_changes` once `due` has passed)."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        self._online: dict[str, int] = {}
        self._remote: frozenset[str] = frozenset()
        self._changes: dict[str, bool] = {}
        self.due: float | None = None
        """When the pending changes are to be sent (monotonic seconds); None: none pending."""

    def count(self, pid: str, delta: int) -> None:
        """A connection of `pid` opened (+1) or closed (-1) on this node."""
        before = self._online.get(pid, 0)
        after = before + delta
        if after <= 0:
            self._online.pop(pid, None)
        else:
            self._online[pid] = after
        if (before > 0) != (after > 0) and pid not in self._remote:
            self._note(pid, after > 0)

    def set_remote(self, pids: frozenset[str]) -> None:
        """Who is online at the other nodes now."""
        changes = remote_changes(self.local(), self._remote, pids)
        self._remote = pids
        for pid, online in changes.items():
            self._note(pid, online)

    def local(self) -> set[str]:
        """Participants with a connection open on this node."""
        return {pid for pid, n in self._online.items() if n > 0}

    def online(self) -> set[str]:
        """Participants online anywhere (this node, and others in a cluster)."""
        return self.local() | self._remote

    def of(self, participants: Iterable[str]) -> dict[str, bool]:
        """Every participant's presence, as the chair's welcome state carries it."""
        online = self.online()
        return {pid: pid in online for pid in participants}

    def take_changes(self) -> dict[str, bool]:
        """The pending changes (id → online), now sent; none pending after."""
        self.due = None
        changes, self._changes = self._changes, {}
        return changes

    def _note(self, pid: str, online: bool) -> None:
        self._changes[pid] = online
        if self.due is None:
            self.due = time.monotonic() + PRESENCE_EVERY_S
            self._wake()
