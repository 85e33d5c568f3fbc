"""Administration: meetings, participants, devices and their join tokens.

The one way in for the HTTP admin API and the demo: each operation is an admin command
decided by the meeting's host (so it lands in the log like everything else), plus the
token bookkeeping the core knows nothing about — tokens are made here, handed out once,
and kept only as hashes (floor.store.port.Credentials).

Removal decides first: a participant is removed by the core (which may refuse), and only
then are their credentials revoked; a credential left by a failed revocation admits no
one, since the websocket endpoint admits only participants of the meeting's state.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, TypeVar

from floor.host.hosts import Hosts
from floor.state import Accepted, Rejection, parse_admin
from floor.state import events as ev
from floor.state.model import ADMIN, Participant, Role
from floor.state.rejection import invalid
from floor.store.port import Credential, Credentials
from floor.tokens import new_token, token_hash

PAGES = {Role.CHAIR: "chair", Role.DELEGATE: "join", Role.OBSERVER: "join", Role.DISPLAY: "display"}


@dataclass(frozen=True, slots=True)
class Admitted:
    """A new participant or device and its join token (shown once, never stored)."""

    id: str
    token: str
    link: str | None
    name: str


def new_meeting_id() -> str:
    return f"m-{secrets.token_hex(5)}"


class Admin:
    def __init__(self, credentials: Credentials, hosts: Hosts, base_url: str) -> None:
        self.credentials = credentials
        self.hosts = hosts
        self.base_url = base_url

    def link(self, role: Role, token: str) -> str:
        return f"{self.base_url}/{PAGES[role]}#token={token}"

    async def _run(self, meeting: str, name: str, body: Any) -> Accepted | Rejection:
        command = parse_admin(name, body)
        if isinstance(command, Rejection):
            return command
        if name == "meeting.create":
            host = await self.hosts.create(meeting)
        else:
            host = await self.hosts.get(meeting)
        return await host.call(command, ADMIN)

    async def create_meeting(self, title: Any, settings: Any = None) -> str | Rejection:
        meeting = new_meeting_id()
        body = {"meeting": meeting, "title": title, "settings": settings}
        outcome = await self._run(meeting, "meeting.create", body)
        return outcome if isinstance(outcome, Rejection) else meeting

    async def add_participant(self, meeting: str, body: Any) -> Admitted | Rejection:
        outcome = await self._run(meeting, "participant.add", body)
        if isinstance(outcome, Rejection):
            return outcome
        added = _only(outcome, ev.ParticipantAdded).participant
        token = await self._issue_token(meeting, added.id)
        return Admitted(added.id, token, self.link(added.role, token), added.name)

    async def update_participant(
        self, meeting: str, participant: str, body: Any
    ) -> Participant | Rejection:
        if not isinstance(body, dict):
            return invalid("body", "The body must be a JSON object.")
        outcome = await self._run(
            meeting, "participant.update", {**body, "participant": participant}
        )
        if isinstance(outcome, Rejection):
            return outcome
        host = await self.hosts.get(meeting)
        return host.state.participants[participant]

    async def remove_participant(self, meeting: str, participant: str) -> Rejection | None:
        outcome = await self._run(meeting, "participant.remove", {"participant": participant})
        if isinstance(outcome, Rejection):
            return outcome
        await self.credentials.revoke_credentials(meeting, participant)
        return None

    async def add_device(self, meeting: str, body: Any) -> Admitted | Rejection:
        outcome = await self._run(meeting, "device.add", body)
        if isinstance(outcome, Rejection):
            return outcome
        device = _only(outcome, ev.DeviceAdded).device
        token = await self._issue_token(meeting, device.id)
        return Admitted(device.id, token, None, device.name)

    async def _issue_token(self, meeting: str, principal: str) -> str:
        """A new join token for a participant or device; only its hash is kept."""
        token = new_token()
        await self.credentials.put_credential(token_hash(token), Credential(meeting, principal))
        return token


E = TypeVar("E")


def _only(outcome: Accepted, kind: type[E]) -> E:
    found = [e.data for e in outcome.events if isinstance(e.data, kind)]
    assert len(found) == 1, outcome
    return found[0]
