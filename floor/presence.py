"""Presence across nodes, the pure part: merging what each node says is online.

A participant is online when at least one connection of theirs is open on any node. Each
node knows its own connections (counted by the meeting host) and learns the other nodes'
online sets through Redis (floor.bus.presence), where each node's set expires unless it
is refreshed, so the connections of a node that died go offline by themselves.

Invariants: the merged set is the union of the local set and the remote ones; a change
is reported for a participant only when their merged state changes (a participant who
moves from one node to another never blinks offline, as long as one node still has them).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable


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
