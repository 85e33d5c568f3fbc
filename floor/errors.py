"""Floor's exceptions, for the shell (the pure core returns rejections as values).

Local faults — this node cannot do what was asked; the shell logs them and answers
`internal`, `unavailable` or close 1011/1013:

    FloorError
    ├── ConfigError            bad settings or command-line arguments
    ├── StoreError             the event log failed (I/O, a lost connection, closed)
    │   └── SeqConflict        another writer appended first: catch up and decide again
    ├── Unavailable            the meeting cannot take commands now (log down, host failed)
    └── UnknownMeeting         no meeting has that id (no log)

Client faults are not FloorErrors: they are answered with a protocol error code and
change nothing. Each is a ValueError raised and caught within one layer:

    ValueError
    ├── floor.protocol.codecs.BadFrame     a frame that is not a protocol message
    ├── floor.admin.tables.BadTable        a CSV file that cannot be read as a roster
    └── floor.devices.hardware.BadSeats    a `seats` message a bridge cannot read
    floor.transport.http_api.ApiError      an admin API answer other than success

Bugs are assertions, never caught but at the edge of a task (the host's `decide`, a
request handler), where they are logged and answered `internal`.
"""

from __future__ import annotations


class FloorError(Exception):
    """Base of Floor's own exceptions."""


class ConfigError(FloorError):
    """The server was configured wrongly."""


class StoreError(FloorError):
    """The log could not do what was asked (a local fault: I/O, connection)."""


class SeqConflict(StoreError):
    """The log's head is not the seq the writer expected: another writer came first."""

    def __init__(self, meeting: str, expected: int, actual: int) -> None:
        super().__init__(f"meeting {meeting}: expected seq {expected}, log is at {actual}")
        self.meeting = meeting
        self.expected = expected
        self.actual = actual


class Unavailable(FloorError):
    """A meeting cannot take commands right now; the client may retry later."""


class UnknownMeeting(FloorError, LookupError):
    """No meeting has this id (it has no log)."""
