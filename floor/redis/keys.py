"""The Redis key scheme of Floor: every key and channel, named here once.

PREFIX defaults to "floor" (several Floors, or tests, may share one Redis). `{m-…}` is a
hash tag: one meeting's keys and its notice channel are in one Cluster slot, so its
append script and its notices stay on one node, and the same code runs on a server and
on a Cluster.

    PREFIX:{m}:log        stream; a record's entry id is `<seq>-0`, one field `r`: its JSON
    PREFIX:{m}:meta       hash: head (the last seq), epoch (set by the first append)
    PREFIX:{m}:snapshot   hash: seq, blob
    PREFIX:{m}:notices    shard channel: the new head, published by every append
    PREFIX:{m}:presence   hash: node → "<expires at ms> <JSON list of ids online there>"
    PREFIX:{m}:creds:P    set: the token hashes of principal P in meeting m
    PREFIX:cred:H         hash: meeting, principal (the credential of token hash H)
    PREFIX:meetings       set: every meeting id whose first append was attempted
"""

from __future__ import annotations

from dataclasses import dataclass


def meeting_tag(prefix: str, meeting: str) -> str:
    """The hash-tagged stem of every key and channel of one meeting."""
    return f"{prefix}:{{{meeting}}}"


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = "floor"

    def of(self, meeting: str, name: str) -> str:
        """A key of one meeting: `log`, `meta`, `snapshot`, `presence`, `creds:P` …"""
        return f"{meeting_tag(self.prefix, meeting)}:{name}"

    def notices(self, meeting: str) -> str:
        """The shard channel of a meeting's change notices (payload: the new head)."""
        return self.of(meeting, "notices")

    def credential(self, token_hash: str) -> str:
        return f"{self.prefix}:cred:{token_hash}"

    @property
    def meetings(self) -> str:
        return f"{self.prefix}:meetings"
