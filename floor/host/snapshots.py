"""A meeting's state as a snapshot blob, and back: so that a host starts without folding
the whole log. The blob is opaque to the store (floor.store.port.Snapshots); an
unreadable one is ignored (the host then folds the log from the start).
"""

from __future__ import annotations

import json
import logging

from floor.state import State
from floor.state.persist import state_from_record, state_to_record
from floor.store.port import Snapshot

logger = logging.getLogger("floor.host")


def snapshot_blob(state: State) -> bytes:
    return json.dumps(state_to_record(state), separators=(",", ":")).encode()


def state_from_snapshot(snapshot: Snapshot | None) -> State:
    if snapshot is None:
        return State()
    try:
        return state_from_record(json.loads(snapshot.blob))
    except (ValueError, KeyError, TypeError):
        logger.warning("ignoring an unreadable snapshot at seq %s", snapshot.seq)
        return State()


class NoSnapshots:
    """A `Snapshots` that keeps none (a host without a snapshot store folds the log)."""

    async def save_snapshot(self, meeting: str, snapshot: Snapshot) -> None:
        pass

    async def load_snapshot(self, meeting: str) -> Snapshot | None:
        return None
