"""Property tests of the core: random meetings driven by random commands keep the invariants.

A Hypothesis state machine builds a meeting (chairs, delegates of a few delegations, an
observer, a display, seats and room devices, random settings) and then sends random wire
commands — plausible and implausible: unknown ids, other people's requests, bad kinds —
from every kind of actor, lets time pass and the system's timer fire, changes the roster
through the admin API and re-sends acknowledged commands. After every step it checks the
invariants of `floor.state.model`, the fold guarantee of PROTOCOL.md section 4 (a client
that applies the wire events to its welcome state has the server's state), the wire round
trip of every event, the seats projection of PROTOCOL.md section 6 and idempotent retries.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from floor.state import commands as cmd
from floor.state import events as ev
from floor.state import parsing, views, wire
from floor.state.decide import decide
from floor.state.decision import Accepted
from floor.state.evolve import evolve, fold
from floor.state.floor_rules import next_deadline
from floor.state.model import ADMIN, SYSTEM, FloorMode, Kind, ReleaseReason, Role, State, Status
from floor.state.record import record
from floor.state.rejection import Code, Rejection
from floor.state.views import Viewer

T0 = 1_764_150_000_000
ROOM_A = ("A1", "A2", "A3", "A4", "A5", "A6")
ROOM_B = ("B1", "B2", "B3")
SEATS = (*ROOM_A, *ROOM_B, "Z9")
DELEGATIONS = ("FR", "DE", "IT", "ES")
UNKNOWN = "p-404"

COUNTS: Counter[str] = Counter()
"""What the machine did, over every run (checked by the test at the bottom)."""


def seen(label: str) -> None:
    COUNTS[label] += 1
    event(label)


# --- a client's replica: PROTOCOL.md applied to plain maps ---------------------------------


Plain = dict[str, Any]


def _seat(state: Plain, pid: str, seat: str | None) -> None:
    """Seat `pid` at `seat` (None: unseat); whoever sat there loses it."""
    seats: dict[str, str] = state["seats"]
    people: dict[str, Any] = state["participants"]
    old = people[pid]["seat"]
    if old is not None and seats.get(old) == pid:
        del seats[old]
    if seat is not None:
        displaced = seats.get(seat)
        if displaced is not None and displaced != pid:
            people[displaced]["seat"] = None
        seats[seat] = pid
    people[pid]["seat"] = seat


def _participant(state: Plain, data: Plain) -> None:
    p = dict(data["participant"])
    seat = p["seat"]
    people = state["participants"]
    p["seat"] = people[p["id"]]["seat"] if p["id"] in people else None
    people[p["id"]] = p
    _seat(state, p["id"], seat)


def _removed(state: Plain, data: Plain) -> None:
    pid = data["participant"]
    _seat(state, pid, None)
    del state["participants"][pid]
    state["queue"] = [r for r in state["queue"] if r["participant"] != pid]
    state["interrupted"] = [f for f in state["interrupted"] if f["participant"] != pid]


def _requested(state: Plain, data: Plain) -> None:
    request = {k: data[k] for k in ("participant", "kind", "lang", "at", "via")}
    state["queue"].insert(data["position"], {"id": data["request"], **request})


def _moved(state: Plain, data: Plain) -> None:
    (moved,) = (r for r in state["queue"] if r["id"] == data["request"])
    state["queue"].remove(moved)
    state["queue"].insert(data["position"], moved)


def _granted(state: Plain, data: Plain) -> None:
    state["floor"] = data["floor"]
    state["queue"] = [r for r in state["queue"] if r["id"] != data["floor"]["request"]]


def _interrupted(state: Plain, data: Plain) -> None:
    state["floor"] = None
    state["interrupted"].append(data["floor"])


def _resumed(state: Plain, data: Plain) -> None:
    state["floor"] = data["floor"]
    state["interrupted"].pop()


def _floor(state: Plain, data: Plain) -> None:
    state["floor"] = data["floor"]


def _muted(state: Plain, data: Plain) -> None:
    p = state["participants"][data["participant"]]
    p["self_muted"], p["hard_muted"] = data["self_muted"], data["hard_muted"]


def _all_muted(state: Plain, data: Plain) -> None:
    for pid in data["participants"]:
        state["participants"][pid]["hard_muted"] = True


def _posted(state: Plain, data: Plain) -> None:
    message = {"id": data["message"], **{k: data[k] for k in ("from", "to", "text", "at")}}
    state["chat"].append(message)


def _assigned(state: Plain, data: Plain) -> None:
    if data["participant"] is not None:
        _seat(state, data["participant"], data["seat"])
    elif data["seat"] in state["seats"]:
        _seat(state, state["seats"][data["seat"]], None)


def _set(key: str, value: Any) -> Callable[[Plain, Plain], None]:
    def apply(state: Plain, data: Plain) -> None:
        state[key] = value

    return apply


CLIENT: dict[str, Callable[[Plain, Plain], None]] = {
    "participant.added": _participant,
    "participant.updated": _participant,
    "participant.removed": _removed,
    "device.added": lambda state, data: state["devices"].update(
        {data["device"]["id"]: data["device"]}
    ),
    "floor.requested": _requested,
    "floor.withdrawn": lambda state, data: state.update(
        queue=[r for r in state["queue"] if r["id"] != data["request"]]
    ),
    "floor.moved": _moved,
    "floor.granted": _granted,
    "floor.released": _set("floor", None),
    "floor.interrupted": _interrupted,
    "floor.resumed": _resumed,
    "floor.extended": _floor,
    "floor.paused": _floor,
    "floor.unpaused": _floor,
    "floor.time_expired": lambda state, data: state["floor"].update(expired=True),
    "list.closed": _set("list_open", False),
    "list.opened": _set("list_open", True),
    "queue.cleared": lambda state, data: state.update(queue=[]),
    "mute.changed": _muted,
    "mute.all_set": _all_muted,
    "chat.posted": _posted,
    "chat.deleted": lambda state, data: state.update(
        chat=[m for m in state["chat"] if m["id"] != data["message"]]
    ),
    "meeting.status_changed": lambda state, data: state["meeting"].update(status=data["status"]),
    "settings.changed": lambda state, data: state["meeting"].update(settings=data["settings"]),
    "seat.assigned": _assigned,
}
"""How a client of the protocol applies each event to its welcome state: from the event
message's data only, never from the core's code (PROTOCOL.md sections 3 to 5)."""


def client_apply(state: Plain, message: Plain, viewer: Viewer) -> None:
    """Apply one `event` message the viewer receives to its state (others it never gets)."""
    name, data = message["name"], message["data"]
    if name in ("chat.posted", "chat.deleted"):
        audience = ev.ChatDeleted(data["message"], data["from"], data["to"])
        if not views.event_visible(audience, viewer):
            return
    CLIENT[name](state, data)


def unshared(state: State) -> State:
    """An equal state that shares no mutable container with `state`: its mappings are
    the only mutable parts (every value in them is frozen)."""
    return replace(
        state,
        participants=dict(state.participants),
        devices=dict(state.devices),
        seats=dict(state.seats),
        recent=dict(state.recent),
    )


def plain(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A snapshot as a client decodes it from JSON (tuples become lists)."""
    out: dict[str, Any] = json.loads(json.dumps(snapshot))
    return out


# --- the machine ---------------------------------------------------------------------------

PLAIN_IDS = ("r-404", "x-404", "d-404")
CHAIR_NAMES = (
    *sorted(parsing.WIRE_COMMANDS),
    *("floor.grant", "floor.release", "floor.request", "floor.withdraw", "queue.clear"),
    *("floor.move",) * 3,
    *("meeting.set_status", "meeting.set_status", "list.close", "chat.delete", "chat.delete"),
)
SPEAKER_NAMES = (
    *("floor.request",) * 4,
    "floor.release",
    "floor.withdraw",
    "mute.set",
    "chat.send",
)
DEVICE_NAMES = ("seat.request", "seat.request", "seat.release", "seat.mute", "floor.request")


class MeetingMachine(RuleBasedStateMachine):
    """One meeting, driven by random commands; every step re-checks the invariants."""

    def __init__(self) -> None:
        super().__init__()
        self.state = State()
        self.log: list[ev.Event] = []
        self.replica = State()
        """fold(the log's JSON records), one event at a time."""
        self.now = T0
        self.commands = 0
        self.removed: list[str] = []
        self.past_requests: list[str] = []
        self.acked: list[tuple[str, cmd.Command, str, int]] = []
        self.cids: dict[str, set[str]] = {}
        self.strict_delegations = False
        self.delegation_changed = False
        self.clients: dict[Viewer, Plain] = {}
        """Client replicas: each viewer's welcome state with the events it received applied."""

    # --- driving ---

    def run(
        self, actor: str, command: cmd.Command, *, cid: str | None = None, label: str = ""
    ) -> Accepted | Rejection:
        """Decide a command, check the outcome's own properties and apply its events."""
        before = self.state
        frozen = unshared(before)
        if cid is None and actor not in (SYSTEM, ADMIN):
            cid = self.fresh_cid(actor)
        outcome = decide(before, command, actor, self.now, cid)
        assert self.state is before
        assert before == frozen, "decide must not mutate the state it reads"
        label = label or command.name
        if isinstance(outcome, Rejection):
            seen(f"rejected {outcome.code}")
            assert outcome.code in Code
            assert (outcome.field is not None) == (outcome.code is Code.INVALID_ARGS)
            if cid is not None:
                assert before.acked(actor, cid) is None, "a rejection leaves nothing behind"
            return outcome
        assert not outcome.duplicate, f"fresh command id {cid} taken as a retry"
        if not outcome.events:
            seen(f"no-op {label}")
            assert outcome.seq == before.seq
            return outcome
        seen(f"accepted {label}")
        for e in outcome.events:
            self.apply(e, actor, cid)
        assert outcome.seq == self.state.seq == self.log[-1].seq
        if cid is not None:
            assert self.state.acked(actor, cid) == outcome.seq
            self.acked.append((actor, command, cid, outcome.seq))
        return outcome

    def fresh_cid(self, actor: str) -> str:
        self.commands += 1
        used = self.cids.setdefault(actor, set())
        foreign = sorted({c for other, cids in self.cids.items() if other != actor for c in cids})
        # Now and then reuse another actor's id: ids are per actor, so it is not a retry.
        cid = foreign[self.commands % len(foreign)] if foreign and self.commands % 7 == 0 else ""
        if not cid or cid in used:
            cid = f"c-{self.commands}"
        used.add(cid)
        return cid

    def apply(self, e: ev.Event, actor: str, cid: str | None) -> None:
        """Apply one decided event, checking it against the state it follows."""
        s = self.state
        seen(e.name)
        record = json.loads(json.dumps(wire.event_to_record(e)))
        assert e.seq == s.seq + 1
        assert e.at == self.now
        assert e.by in (actor, SYSTEM), (e.by, actor)
        assert e.cause == (ev.Cause(actor, cid) if cid is not None else None)
        match e.data:
            case ev.FloorRequested(participant=pid):
                who = s.participants[pid]
                if s.settings.one_request_per_delegation:
                    assert all(
                        s.participants[r.participant].delegation != who.delegation for r in s.queue
                    ), "a second request of a delegation"
                self.past_requests.append(e.data.request)
            case ev.FloorGranted() | ev.FloorResumed():
                assert s.floor is None, "the old floor must end first"
                if isinstance(e.data, ev.FloorResumed):
                    assert s.interrupted
                    top = s.interrupted[-1]
                    assert e.data.floor == replace(top, running_since=self.now), "clock restarts"
            case ev.FloorReleased() | ev.FloorInterrupted() | ev.FloorTimeExpired():
                assert s.floor is not None
                if isinstance(e.data, ev.FloorReleased):
                    assert e.data.participant == s.floor.participant
                    assert e.data.spoke_ms == s.floor.spoken_ms(self.now)
                    seen(f"released {e.data.reason}")
                if isinstance(e.data, ev.FloorInterrupted):
                    assert e.data.floor == s.floor.stopped(self.now), "clock stops"
                    seen("interrupted a speaker")
            case ev.ParticipantRemoved(participant=pid):
                if s.holds_or_awaits_floor(pid):
                    seen("removed an interrupted speaker")
                self.removed.append(pid)
            case _:
                pass
        if e.by == SYSTEM and isinstance(e.data, ev.FloorGranted):
            seen("auto grant")
        self.state = evolve(s, e)
        self.log.append(e)
        self.replica = evolve(self.replica, wire.event_from_record(record))
        if isinstance(e.data, ev.FloorGranted):
            speaker = self.state.participants[e.data.floor.participant]
            assert not speaker.hard_muted, "a grant lifts a hard mute"
            if self.state.interrupted:
                seen(f"stack depth {min(len(self.state.interrupted), 2)}")
        # The wire: the event survives its record and JSON, and a client can apply it.
        assert wire.event_from_record(record) == e
        message = {key: value for key, value in record.items() if key != "cause"}
        for viewer, replica in self.clients.items():
            client_apply(replica, message, viewer)

    def speakers(self) -> list[str]:
        return [p.id for p in self.state.participants.values() if p.role is not Role.DISPLAY]

    def chairs(self) -> list[str]:
        return [p.id for p in self.state.participants.values() if p.role is Role.CHAIR]

    def devices(self) -> list[str]:
        return sorted(self.state.devices)

    def pids(self) -> list[str]:
        return [*self.state.participants, *self.removed[-2:], UNKNOWN]

    def busy_seats(self) -> list[str]:
        """The seats of the speaker and of the queued: where console buttons matter."""
        s = self.state
        busy = [r.participant for r in s.queue]
        if s.floor is not None:
            busy.insert(0, s.floor.participant)
        return [seat for seat, pid in s.seats.items() if pid in busy]

    def request_ids(self) -> list[str]:
        queued = [r.id for r in self.state.queue]
        return [*queued, *queued, *self.past_requests[-2:], "r-404"]

    # --- the meeting ---

    @initialize(
        limit=st.sampled_from([0, 5, 10, 30, 120]),
        auto=st.booleans(),
        cut=st.booleans(),
        observers=st.booleans(),
        per_delegation=st.booleans(),
        delegates=st.integers(min_value=5, max_value=7),
        delegations=st.integers(min_value=3, max_value=4),
        onsite=st.lists(st.booleans(), min_size=7, max_size=7),
        vice=st.booleans(),
    )
    def setup(
        self,
        limit: int,
        auto: bool,
        cut: bool,
        observers: bool,
        per_delegation: bool,
        delegates: int,
        delegations: int,
        onsite: list[bool],
        vice: bool,
    ) -> None:
        """A meeting with chairs, delegates, an observer, a display, seats and devices."""
        change = cmd.UpdateSettings(
            default_limit_s=limit,
            floor_mode=FloorMode.AUTO if auto else FloorMode.MANUAL,
            cut_at_limit=cut,
            observers_may_speak=observers,
            one_request_per_delegation=per_delegation,
        )
        self.run(ADMIN, cmd.CreateMeeting("m-1", "Plenary", change))
        note(f"settings: {self.state.settings}")
        free = iter(ROOM_A[1:] + ROOM_B)
        roster: list[cmd.AddParticipant] = [
            cmd.AddParticipant("Chair", "UN", Role.CHAIR, seat="A1", lang="en")
        ]
        if vice:
            roster.append(cmd.AddParticipant("Vice", "UN", Role.CHAIR))
        for i in range(delegates):
            seat = next(free) if onsite[i] else None
            roster.append(
                cmd.AddParticipant(
                    f"Delegate {i}",
                    DELEGATIONS[i % delegations],
                    Role.DELEGATE,
                    seat=seat,
                    lang="fr" if i % 2 else None,
                )
            )
        roster.append(cmd.AddParticipant("Observer", "NGO", Role.OBSERVER, seat=next(free)))
        roster.append(cmd.AddParticipant("Screen", "-", Role.DISPLAY))
        for add in roster:
            assert isinstance(self.run(ADMIN, add), Accepted)
        assert isinstance(self.run(ADMIN, cmd.AddDevice("Room A", ROOM_A)), Accepted)
        assert isinstance(self.run(ADMIN, cmd.AddDevice("Room B", ROOM_B)), Accepted)
        overlap = self.run(ADMIN, cmd.AddDevice("Room C", ("B3", "C1")))
        assert isinstance(overlap, Rejection)
        assert overlap.code is Code.CONFLICT
        # Client replicas start from the welcome state of a chair, a delegate, the display
        # and a device.
        people = list(self.state.participants.values())
        viewers = [
            Viewer(people[0].id, Role.CHAIR),
            Viewer(people[2 if vice else 1].id, Role.DELEGATE),
            Viewer(people[-1].id, Role.DISPLAY),
            Viewer(self.devices()[0], None),
        ]
        for viewer in viewers:
            self.clients[viewer] = plain(views.snapshot(self.state, viewer))

    # --- wire commands ---

    def draw_args(self, data: st.DataObject, name: str, actor: str) -> Any:
        """Arguments for `name`: mostly plausible for the current state, sometimes not.

        Each argument is drawn from its plausible values (ids that exist, and some that no
        longer or never did) and, one time in ten, from values the parser must refuse.
        """
        pids = self.pids()
        busy = self.busy_seats()
        plausible: dict[str, tuple[Any, ...]] = {
            "kind": ("speak", "point_of_order", "reply", "point_of_order"),
            "lang": ("fr", "en", "es-419"),
            "participant": (*pids, actor, None),
            "request": self.request_ids(),
            "position": (0, 1, 2, 5, 100),
            "limit_s": (0, 3, 10, 60, None),
            "seconds": (1, 5, 60),
            "muted": (True, False),
            "except": ([], [pids[0]], [UNKNOWN]),
            "to": ("all", "chair", "all", "chair", "all", *pids[::2]),
            "text": ("Hello", "Order!", "  "),
            "message": (*(m.id for m in self.state.chat[-3:]), "x-404"),
            "status": ("suspended", "open", "closed", "open"),
            "seat": (*busy, *busy, *busy, *SEATS),
            "default_limit_s": (0, 5, 10, 60),
            "floor_mode": ("manual", "auto", "auto"),
        }
        implausible: dict[str, tuple[Any, ...]] = {
            "kind": ("shout", 7),
            "lang": ("bad lang!", ""),
            "participant": (7, "p" * 65),
            "request": ("",),
            "position": (-1, "0"),
            "limit_s": (-5, 1.5),
            "seconds": (0, 4000),
            "muted": ("yes", None),
            "except": ("p-1", [7]),
            "to": ("",),
            "text": ("x" * 2001, "\x00"),
            "message": (None,),
            "status": ("adjourned",),
            "seat": (12,),
            "default_limit_s": (-1, True),
            "floor_mode": ("sometimes",),
        }
        for flag in ("cut_at_limit", "observers_may_speak", "one_request_per_delegation"):
            plausible[flag] = (True, False)
            implausible[flag] = ("yes",)
        required, optional = ARGS[name]
        args: dict[str, Any] = {}
        for key in (*required, *optional):
            given = data.draw(st.integers(0, 19), label=f"{key} given")
            if given == 0 if key in required else given < 10:
                continue
            bad = data.draw(st.integers(0, 9), label=f"{key} bad") == 0
            choices = implausible[key] if bad else plausible[key]
            args[key] = data.draw(st.sampled_from(choices), label=key)
        if data.draw(st.integers(0, 49), label="args not a map") == 0:
            return ["not", "a", "map"]
        return args

    def send(self, actor: str, name: str, args: Any) -> None:
        """A client's command: parsed as the wire parser does, then decided."""
        parsed = parsing.parse_command(name, args)
        if isinstance(parsed, Rejection):
            seen(f"parse {parsed.code}")
            assert parsed.code in (Code.UNKNOWN_COMMAND, Code.INVALID_ARGS)
            return
        assert parsed.name == name
        self.run(actor, parsed)

    @rule(data=st.data(), name=st.sampled_from(CHAIR_NAMES))
    def chair_command(self, data: st.DataObject, name: str) -> None:
        """A chair sends any wire command (floor commands more often)."""
        actor = data.draw(st.sampled_from(self.chairs() or [UNKNOWN]), label="chair")
        self.send(actor, name, self.draw_args(data, name, actor))

    @rule(data=st.data(), name=st.sampled_from(SPEAKER_NAMES))
    def speaker_command(self, data: st.DataObject, name: str) -> None:
        """A delegate, observer or chair asks for, yields or withdraws the floor, or chats."""
        actor = data.draw(st.sampled_from(self.speakers() or [UNKNOWN]), label="speaker")
        self.send(actor, name, self.draw_args(data, name, actor))

    @rule(data=st.data(), name=st.sampled_from(sorted(parsing.WIRE_COMMANDS)))
    def participant_command(self, data: st.DataObject, name: str) -> None:
        """Any participant (of any role, or removed) sends any wire command."""
        actors = [*self.state.participants, *self.removed[-1:], UNKNOWN]
        actor = data.draw(st.sampled_from(actors), label="participant")
        self.send(actor, name, self.draw_args(data, name, actor))

    @rule(data=st.data(), name=st.sampled_from(DEVICE_NAMES))
    def device_command(self, data: st.DataObject, name: str) -> None:
        """A room device presses console buttons (of its room's seats, or others)."""
        actor = data.draw(st.sampled_from([*self.devices(), "d-404"]), label="device")
        self.send(actor, name, self.draw_args(data, name, actor))

    @rule(
        data=st.data(),
        actor=st.sampled_from([UNKNOWN, ADMIN, SYSTEM, *PLAIN_IDS]),
        name=st.sampled_from([*sorted(parsing.WIRE_COMMANDS), "floor.shout"]),
    )
    def stranger_command(self, data: st.DataObject, actor: str, name: str) -> None:
        """Unknown ids, the admin API and the system send wire commands: all refused."""
        parsed = parsing.parse_command(
            name, self.draw_args(data, name, actor) if name in ARGS else {}
        )
        if isinstance(parsed, Rejection):
            seen(f"parse {parsed.code}")
            return
        outcome = self.run(actor, parsed)
        assert isinstance(outcome, Rejection)
        assert outcome.code is Code.FORBIDDEN

    @rule(data=st.data(), kind=st.sampled_from(["speak", "speak", "point_of_order", "reply"]))
    def request_floor(self, data: st.DataObject, kind: str) -> None:
        """A delegate, observer or chair asks for the floor (plausibly)."""
        actor = data.draw(st.sampled_from(self.speakers() or [UNKNOWN]), label="speaker")
        self.send(actor, "floor.request", {"kind": kind})

    @rule(data=st.data(), named=st.booleans(), limit=st.sampled_from([None, 0, 5]))
    def grant_floor(self, data: st.DataObject, named: bool, limit: int | None) -> None:
        """A chair grants the floor to the head of the queue or to a named participant."""
        actor = data.draw(st.sampled_from(self.chairs() or [UNKNOWN]), label="chair")
        args: dict[str, Any] = {} if limit is None else {"limit_s": limit}
        if named and self.state.participants:
            pid = data.draw(st.sampled_from(sorted(self.state.participants)), label="named")
            args["participant"] = pid
        self.send(actor, "floor.grant", args)

    @precondition(lambda self: self.state.floor is not None)
    @rule(data=st.data())
    def point_of_order(self, data: st.DataObject) -> None:
        """Someone raises a point of order over the speaker and a chair grants it at once."""
        actor = data.draw(st.sampled_from(self.speakers() or [UNKNOWN]), label="speaker")
        self.send(actor, "floor.request", {"kind": "point_of_order"})
        chair = data.draw(st.sampled_from(self.chairs() or [UNKNOWN]), label="chair")
        self.send(chair, "floor.grant", {})

    @precondition(lambda self: len(self.state.queue) >= 2)
    @rule(data=st.data(), position=st.integers(min_value=0, max_value=6))
    def reorder(self, data: st.DataObject, position: int) -> None:
        """A chair moves a queued request (points of order stay in front)."""
        chair = data.draw(st.sampled_from(self.chairs() or [UNKNOWN]), label="chair")
        request = data.draw(st.sampled_from(self.state.queue), label="request")
        self.send(chair, "floor.move", {"request": request.id, "position": position})

    @precondition(lambda self: bool(self.state.chat))
    @rule(data=st.data())
    def moderate_chat(self, data: st.DataObject) -> None:
        """A chair deletes a recent message (not found if it is a private one of others)."""
        chair = data.draw(st.sampled_from(self.chairs() or [UNKNOWN]), label="chair")
        message = data.draw(st.sampled_from(self.state.chat[-5:]), label="message")
        self.send(chair, "chat.delete", {"message": message.id})

    @precondition(lambda self: self.state.meeting is not None)
    @rule(data=st.data(), status=st.sampled_from(["suspended", "closed"]))
    def adjourn(self, data: st.DataObject, status: str) -> None:
        """A chair suspends or closes the meeting; a delegate then asks for the floor."""
        chair = data.draw(st.sampled_from(self.chairs() or [UNKNOWN]), label="chair")
        self.send(chair, "meeting.set_status", {"status": status})
        meeting = self.state.meeting
        assert meeting is not None
        delegate = data.draw(st.sampled_from(self.speakers() or [UNKNOWN]), label="delegate")
        who = self.state.participants.get(delegate)
        outcome = self.run(delegate, cmd.RequestFloor(kind=Kind.SPEAK))
        if who is not None and who.role is not Role.CHAIR and meeting.status is not Status.OPEN:
            assert isinstance(outcome, Rejection)
            expected = {
                Status.SUSPENDED: Code.MEETING_SUSPENDED,
                Status.CLOSED: Code.MEETING_CLOSED,
            }
            assert outcome.code is expected[meeting.status]

    @precondition(lambda self: self.state.floor is not None)
    @rule(data=st.data(), via_seat=st.booleans())
    def speaker_yields(self, data: st.DataObject, via_seat: bool) -> None:
        """The speaker yields: from their own connection or with their console's button."""
        assert self.state.floor is not None
        speaker = self.state.participants[self.state.floor.participant]
        rooms = [d for d in self.state.devices.values() if speaker.seat in d.seats]
        if via_seat and rooms:
            self.send(rooms[0].id, "seat.release", {"seat": speaker.seat})
        else:
            self.send(speaker.id, "floor.release", {})

    @precondition(
        lambda self: self.state.meeting is not None and self.state.meeting.status is not Status.OPEN
    )
    @rule(data=st.data())
    def reopen(self, data: st.DataObject) -> None:
        """A chair reopens a suspended or closed meeting."""
        actor = data.draw(st.sampled_from(self.chairs() or [UNKNOWN]), label="chair")
        self.send(actor, "meeting.set_status", {"status": "open"})

    # --- time ---

    @rule(ms=st.sampled_from([1, 999, 1_000, 4_000, 12_000, 61_000]))
    def advance(self, ms: int) -> None:
        """Time passes."""
        self.now += ms

    @rule(early=st.sampled_from([0, 0, 1]))
    def expire(self, early: int) -> None:
        """The host's timer fires at the deadline (or a millisecond early)."""
        deadline = next_deadline(self.state)
        if deadline is not None:
            self.now = max(self.now, deadline - early)
        floor = self.state.floor
        outcome = self.run(SYSTEM, cmd.ExpireTime(), label="expire")
        assert isinstance(outcome, Accepted)
        expired = any(isinstance(e.data, ev.FloorTimeExpired) for e in outcome.events)
        assert expired == (deadline is not None and self.now >= deadline)
        if expired:
            assert floor is not None
            assert outcome.events[0].data == ev.FloorTimeExpired(floor.participant)
            cut = self.state.floor is None or self.state.floor.participant != floor.participant
            assert cut == self.state.settings.cut_at_limit
            assert next_deadline(self.state) is None or cut

    # --- retries ---

    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        """An acknowledged command re-sent with its id: no events, the original seq."""
        if not self.acked:
            return
        actor, command, cid, seq = data.draw(st.sampled_from(self.acked[-20:]), label="retry")
        before = self.state
        outcome = decide(before, command, actor, self.now, cid)
        assert outcome == Accepted((), seq, duplicate=True)
        assert self.state is before
        seen("retry")

    # --- the roster (admin API) ---

    @rule(data=st.data(), change=st.sampled_from(["add", "update", "remove", "remove"]))
    def roster(self, data: st.DataObject, change: str) -> None:
        """The admin API adds, changes or removes a participant."""
        if change == "add":
            self.admin_add(data)
        elif change == "update":
            self.admin_update(data)
        else:
            self.admin_remove(data)

    def admin_add(self, data: st.DataObject) -> None:
        """A new participant of any role (or an unknown one), maybe at a taken seat."""
        role = data.draw(st.sampled_from(["delegate", "observer", "chair", "display", "judge"]))
        delegation = data.draw(st.sampled_from(DELEGATIONS), label="delegation")
        seat = data.draw(st.sampled_from([None, *SEATS]), label="seat")
        body: dict[str, Any] = {"name": "New", "delegation": delegation, "role": role}
        if seat is not None:
            body["seat"] = seat
            body["attendance"] = "onsite"
        parsed = parsing.parse_admin("participant.add", body)
        if isinstance(parsed, Rejection):
            assert parsed.field == "role"
            return
        self.run(ADMIN, parsed, label="admin add")

    def admin_update(self, data: st.DataObject) -> None:
        """A change of name, delegation, role, attendance, seat or language."""
        pid = data.draw(st.sampled_from(self.pids()), label="participant")
        fields = {
            "name": ("Renamed",),
            "delegation": DELEGATIONS,
            "role": ("delegate", "observer", "chair", "display"),
            "attendance": ("onsite", "remote"),
            "seat": (None, *SEATS),
            "lang": (None, "de"),
        }
        body: dict[str, Any] = {"participant": pid}
        for key, values in fields.items():
            if data.draw(st.integers(0, 3), label=f"{key} given") == 0:
                body[key] = data.draw(st.sampled_from(values), label=key)
        parsed = parsing.parse_admin("participant.update", body)
        assert not isinstance(parsed, Rejection), parsed
        before = self.state.participants.get(pid)
        self.run(ADMIN, parsed, label="admin update")
        after = self.state.participants.get(pid)
        if before is not None and after is not None and before.delegation != after.delegation:
            self.delegation_changed = True

    def admin_remove(self, data: st.DataObject) -> None:
        """A removal, often of someone on the floor, on the stack or on the list."""
        busy = [
            *(r.participant for r in self.state.queue),
            *(f.participant for f in self.state.interrupted for _ in range(3)),
        ]
        if self.state.floor is not None:
            busy.extend([self.state.floor.participant] * 3)
        pid = data.draw(st.sampled_from([*busy, *self.pids()]), label="participant")
        was_speaker = self.state.floor is not None and self.state.floor.participant == pid
        known = pid in self.state.participants
        outcome = self.run(ADMIN, cmd.RemoveParticipant(pid), label="admin remove")
        if not known:
            assert isinstance(outcome, Rejection)
            return
        assert isinstance(outcome, Accepted)
        assert pid not in self.state.participants
        if was_speaker:
            released = [e.data for e in outcome.events if isinstance(e.data, ev.FloorReleased)]
            assert released[0] == ev.FloorReleased(pid, ReleaseReason.REMOVED, released[0].spoke_ms)

    # --- invariants ---

    @invariant()
    def floor_and_queue(self) -> None:
        """The speaker and the interrupted are never queued; one request each; PoO first."""
        s = self.state
        if s.meeting is None:
            return
        queued = [r.participant for r in s.queue]
        stacked = [f.participant for f in s.interrupted]
        assert len(set(queued)) == len(queued), "two open requests of one participant"
        assert len({r.id for r in s.queue}) == len(s.queue)
        assert not set(stacked) & set(queued), "an interrupted speaker is queued"
        assert len(set(stacked)) == len(stacked)
        if s.floor is not None:
            assert s.floor.participant not in queued, "the speaker is queued"
            assert s.floor.participant not in stacked, "the speaker is on the stack"
            assert s.floor.participant in s.participants
        else:
            assert not s.interrupted, "interrupted speakers wait while nobody speaks"
        for pid in (*queued, *stacked):
            assert s.participants[pid].may_speak
        kinds = [r.kind is Kind.POINT_OF_ORDER for r in s.queue]
        assert kinds == sorted(kinds, reverse=True), "a point of order behind another kind"

    @invariant()
    def one_request_per_delegation(self) -> None:
        """While the setting stays on, no delegation gets a second request (it may have had
        two from before the setting, or from a change of delegation)."""
        s = self.state
        delegations = [s.participants[r.participant].delegation for r in s.queue]
        doubled = len(set(delegations)) != len(delegations)
        on = s.settings.one_request_per_delegation
        if self.strict_delegations and on and not self.delegation_changed:
            assert not doubled, "a delegation got a second request under the setting"
        self.strict_delegations = on and not doubled
        self.delegation_changed = False

    @invariant()
    def microphones(self) -> None:
        """Nobody hard-muted is live; the live are the unmuted speaker and unmuted chairs."""
        s = self.state
        live = s.live_participants()
        assert len(set(live)) == len(live)
        for p in s.participants.values():
            if p.hard_muted:
                assert not s.is_live(p)
                assert p.id not in live
            speaker = s.floor is not None and s.floor.participant == p.id
            expected = not (p.self_muted or p.hard_muted) and (speaker or p.role is Role.CHAIR)
            assert (p.id in live) == expected
        if live and s.floor is not None and s.floor.participant in live:
            assert live[0] == s.floor.participant

    @invariant()
    def seats(self) -> None:
        """state.seats and Participant.seat agree; devices see their live and waiting seats."""
        s = self.state
        for seat, pid in s.seats.items():
            assert s.participants[pid].seat == seat
        for p in s.participants.values():
            if p.seat is not None:
                assert s.seats.get(p.seat) == p.id
        live_ids = set(s.live_participants())
        for device in s.devices.values():
            projection = views.seats(s, device)
            room = set(device.seats)
            assert set(projection.live) == {
                seat for seat, pid in s.seats.items() if seat in room and pid in live_ids
            }
            assert projection.waiting == tuple(
                s.participants[r.participant].seat
                for r in s.queue
                if s.participants[r.participant].seat in room
            )
            assert projection.live_participants == s.live_participants()
            if projection.live:
                seen("live seat")
            if len(projection.waiting) > 1:
                seen("seats waiting")

    @invariant()
    def auto_floor(self) -> None:
        """In auto mode, an open meeting never leaves a free floor with a waiting queue."""
        s = self.state
        if (
            s.meeting is not None
            and s.settings.floor_mode is FloorMode.AUTO
            and s.meeting.status is Status.OPEN
            and not s.interrupted
        ):
            assert s.floor is not None or not s.queue, "auto mode left the floor free"

    @invariant()
    def log(self) -> None:
        """Seqs run 1, 2, 3 …; folding the log gives the running state; a client that
        applies the wire events to its welcome state has the server's snapshot."""
        s = self.state
        assert [e.seq for e in self.log] == list(range(1, len(self.log) + 1))
        assert s.seq == len(self.log)
        assert self.replica == s
        for viewer, replica in self.clients.items():
            assert replica == views.snapshot(s, viewer), viewer

    def teardown(self) -> None:
        """The whole log folds to the running state, also from its JSON records."""
        assert fold(self.log) == self.state
        # The record of proceedings has one speech per released floor, with its time.
        speeches = record(self.log).speeches
        released = [e for e in self.log if isinstance(e.data, ev.FloorReleased)]
        assert sorted((s.participant, s.end, s.spoke_ms) for s in speeches) == sorted(
            (e.data.participant, e.at, e.data.spoke_ms)
            for e in released
            if isinstance(e.data, ev.FloorReleased)
        )
        assert [s.start for s in speeches] == sorted(s.start for s in speeches)
        records = [json.loads(json.dumps(wire.event_to_record(e))) for e in self.log]
        assert fold(wire.event_from_record(r) for r in records) == self.state
        if self.state.meeting is not None:
            seen(f"ended {self.state.meeting.status}")
            if self.state.settings.floor_mode is FloorMode.AUTO:
                seen("ended in auto mode")


# Which args each wire command takes: (required, optional).
ARGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "floor.request": ((), ("kind", "lang", "participant")),
    "floor.withdraw": ((), ("request",)),
    "floor.move": (("request", "position"), ()),
    "floor.grant": ((), ("request", "participant", "limit_s")),
    "floor.release": ((), ()),
    "floor.extend": (("seconds",), ()),
    "floor.pause": ((), ()),
    "floor.unpause": ((), ()),
    "list.close": ((), ()),
    "list.open": ((), ()),
    "queue.clear": ((), ()),
    "mute.set": (("muted",), ("participant",)),
    "mute.all": ((), ("except",)),
    "chat.send": (("to", "text"), ()),
    "chat.delete": (("message",), ()),
    "meeting.set_status": (("status",), ()),
    "settings.update": (
        (),
        (
            "default_limit_s",
            "floor_mode",
            "cut_at_limit",
            "observers_may_speak",
            "one_request_per_delegation",
        ),
    ),
    "seat.assign": (("seat",), ("participant",)),
    "seat.request": (("seat",), ("kind",)),
    "seat.release": (("seat",), ()),
    "seat.mute": (("seat", "muted"), ()),
}

MACHINE_SETTINGS = settings(
    max_examples=200,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

MUST_HAPPEN = (
    "floor.granted",
    "auto grant",
    "ended in auto mode",
    "interrupted a speaker",
    "stack depth 2",
    "floor.resumed",
    "floor.time_expired",
    "released time",
    "released next",
    "released yielded",
    "released removed",
    "participant.removed",
    "participant.updated",
    "floor.withdrawn",
    "mute.changed",
    "chat.posted",
    "meeting.status_changed",
    "retry",
    "live seat",
    "seats waiting",
    "accepted seat.release",
    "rejected forbidden",
    "rejected not_found",
    "rejected conflict",
    "rejected meeting_suspended",
    "rejected meeting_closed",
    "parse invalid_args",
)
"""What every run of the test must have done at least once. Rarer cases (moves, chat
deletion, mute.all, list_closed, pauses …) are reported as Hypothesis events
(`--hypothesis-show-statistics`); they happen in most runs but not reliably in all."""


def test_client_replica_covers_every_event() -> None:
    """The client replica knows every event a meeting can log after its creation."""
    assert set(CLIENT) == {cls.name for cls in ev.EVENT_TYPES} - {"meeting.created"}


def test_args_cover_every_wire_command() -> None:
    """The machine draws arguments for every wire command."""
    assert set(ARGS) == set(parsing.WIRE_COMMANDS)


def test_invariants_hold_and_the_machine_explores() -> None:
    """Random meetings keep every invariant, and the runs reach every interesting case."""
    COUNTS.clear()
    run_state_machine_as_test(MeetingMachine, settings=MACHINE_SETTINGS)
    missing = [label for label in MUST_HAPPEN if COUNTS[label] == 0]
    assert not missing, f"never explored: {missing}; explored: {sorted(COUNTS)}"
