"""The meeting host, split by job (ARCHITECTURE: "the meeting host").

- `meeting`: `MeetingHost`, one task per live meeting per node, and its loop (timers);
- `commit`: the commit loop — batch, decide, group-commit, adopt, repair;
- `fanout`: the connections — subscribers, the resume ring, encode once, seats;
- `presence`: who is online, counted here and merged across nodes;
- `snapshots`: the state as a snapshot blob, and back;
- `hosts`: this node's hosts, started on first use, one task each in one task group.

The host speaks to connections only through `Outbox` (a synchronous, bounded sender)
and the protocol's messages and codecs (floor.protocol); it never imports the
transport.
"""

from floor.host.commit import BATCH, Outcome, Submission
from floor.host.fanout import RING, Outbox, Subscriber
from floor.host.hosts import Hosts
from floor.host.meeting import MeetingHost, epoch_ms
from floor.protocol.session import Resume

__all__ = [
    "BATCH",
    "RING",
    "Hosts",
    "MeetingHost",
    "Outbox",
    "Outcome",
    "Resume",
    "Submission",
    "Subscriber",
    "epoch_ms",
]
