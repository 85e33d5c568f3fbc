"""Floor's exceptions, for the shell (the pure core returns rejections as values).

    FloorError
    ├── ConfigError            bad settings or command-line arguments (a local fault)
    ├── StoreError             the event log failed (floor.store.port)
    │   └── SeqConflict        another writer appended first: catch up and decide again
    └── Unavailable            the meeting cannot take commands now (log down, shutting down)

Client faults are not exceptions: they are answered with a protocol error code.
"""

from __future__ import annotations


class FloorError(Exception):
    """Base of Floor's own exceptions."""


class ConfigError(FloorError):
    """The server was configured wrongly."""


class Unavailable(FloorError):
    """A meeting cannot take commands right now; the client may retry later."""
