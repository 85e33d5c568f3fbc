"""How decide treats every command: auto floor mode, meeting status, retries and actors."""

from __future__ import annotations

import pytest

from floor.state import Accepted, Code, Rejection, State, decide
from floor.state import commands as cmd
from floor.state.model import COMMANDS_REMEMBERED, Status
from tests.state.floor_cast import cast
from tests.state.scenario import data, names

# --- auto floor mode -------------------------------------------------------------------------


def test_auto_mode_grants_a_request_on_a_free_floor_at_once() -> None:
    """In auto mode a request on a free floor is granted by system in the same command."""
    c = cast(floor_mode="auto", default_limit_s=120)
    events = c.m.when(c.ana, "floor.request", cid="c-1")
    assert names(events) == ["floor.requested", "floor.granted"]
    assert [e.by for e in events] == [c.ana, "system"]
    assert [e.seq for e in events] == [events[0].seq, events[0].seq + 1]
    floor = data(events[1])["floor"]
    assert (floor["participant"], floor["request"], floor["limit_s"]) == (
        c.ana,
        data(events[0])["request"],
        120,
    )
    assert c.m.queue() == []


def test_auto_mode_waits_while_the_floor_is_held() -> None:
    """In auto mode a request while someone speaks only joins the queue."""
    c = cast(floor_mode="auto")
    c.request(c.ana)
    assert names(c.m.when(c.bob, "floor.request")) == ["floor.requested"]
    assert c.m.queue() == [c.bob]


def test_auto_mode_release_grants_the_next_head() -> None:
    """In auto mode the release of the floor grants the head, by system, in the same write."""
    c = cast(floor_mode="auto")
    c.request(c.ana)
    c.request(c.bob)
    events = c.m.when(c.ana, "floor.release")
    assert names(events) == ["floor.released", "floor.granted"]
    assert [e.by for e in events] == [c.ana, "system"]
    assert c.m.speaker() == c.bob


def test_auto_mode_time_cut_grants_the_next_head() -> None:
    """In auto mode a floor cut at its limit passes to the head of the queue."""
    c = cast(floor_mode="auto", cut_at_limit=True, default_limit_s=60)
    c.request(c.ana)
    c.request(c.bob)
    events = c.m.expire(now=c.m.now + 60_000)
    assert names(events) == ["floor.time_expired", "floor.released", "floor.granted"]
    assert c.m.speaker() == c.bob


def test_auto_mode_lifts_the_hard_mute_of_the_head() -> None:
    """An automatic grant to a hard-muted head lifts the mute first, by system."""
    c = cast(floor_mode="auto")
    c.m.given(c.chair, "mute.set", {"participant": c.ana, "muted": True})
    events = c.m.when(c.ana, "floor.request")
    assert names(events) == ["floor.requested", "mute.changed", "floor.granted"]
    assert [e.by for e in events] == [c.ana, "system", "system"]


def test_auto_mode_not_while_suspended() -> None:
    """While the meeting is suspended a free floor is not granted automatically."""
    c = cast(floor_mode="auto")
    c.m.given(c.chair, "meeting.set_status", {"status": "suspended"})
    assert names(c.m.when(c.ana, "floor.request", {"kind": "point_of_order"})) == [
        "floor.requested"
    ]
    assert c.m.state.floor is None


def test_auto_mode_not_while_the_stack_waits() -> None:
    """Ending a point of order resumes the interrupted speaker, not the head of the queue."""
    c = cast(floor_mode="auto")
    c.request(c.ana)
    c.request(c.bob)
    c.m.given(c.chair, "floor.request", {"participant": c.cleo, "kind": "point_of_order"})
    c.m.given(c.chair, "floor.grant", {"participant": c.cleo})
    assert c.m.queue() == [c.bob]
    events = c.m.when(c.cleo, "floor.release")
    assert names(events) == ["floor.released", "floor.resumed"]
    assert c.m.speaker() == c.ana
    assert c.m.queue() == [c.bob]


def test_switching_to_auto_mode_grants_the_head() -> None:
    """settings.update to auto with people waiting grants the head in the same write."""
    c = cast()
    c.request(c.ana)
    c.request(c.bob)
    events = c.m.when(c.chair, "settings.update", {"floor_mode": "auto"})
    assert names(events) == ["settings.changed", "floor.granted"]
    assert events[1].by == "system"
    assert c.m.speaker() == c.ana
    assert c.m.queue() == [c.bob]


def test_switching_to_auto_mode_with_an_empty_queue() -> None:
    """With nobody waiting, switching to auto only changes the settings."""
    c = cast()
    assert names(c.m.when(c.chair, "settings.update", {"floor_mode": "auto"})) == [
        "settings.changed"
    ]


def test_reopening_a_suspended_meeting_grants_the_head() -> None:
    """In auto mode, reopening a suspended meeting grants the head of the queue."""
    c = cast(floor_mode="auto")
    c.m.given(c.chair, "meeting.set_status", {"status": "suspended"})
    c.request(c.ana, kind="point_of_order")
    events = c.m.when(c.chair, "meeting.set_status", {"status": "open"})
    assert names(events) == ["meeting.status_changed", "floor.granted"]
    assert c.m.speaker() == c.ana


def test_manual_mode_never_grants_by_itself() -> None:
    """In manual mode a request on a free floor just waits for the chair."""
    c = cast()
    assert names(c.m.when(c.ana, "floor.request")) == ["floor.requested"]
    assert c.m.state.floor is None


# --- meeting status --------------------------------------------------------------------------


def test_suspended_meeting_rejects_delegates_ordinary_commands() -> None:
    """While suspended, a delegate's speak request, withdrawal or yield is meeting_suspended."""
    c = cast(observers_may_speak=True)
    c.request(c.ana, kind="point_of_order")
    c.m.given(c.chair, "floor.grant")
    c.request(c.bob)
    c.m.given(c.chair, "meeting.set_status", {"status": "suspended"})
    assert c.m.rejects(c.cleo, "floor.request") == "meeting_suspended"
    assert c.m.rejects(c.cleo, "floor.request", {"kind": "reply"}) == "meeting_suspended"
    assert c.m.rejects(c.olga, "floor.request") == "meeting_suspended"
    assert c.m.rejects(c.bob, "floor.withdraw") == "meeting_suspended"
    assert c.m.rejects(c.ana, "floor.release") == "meeting_suspended"
    assert c.m.rejects(c.ana, "mute.set", {"muted": True}) == "meeting_suspended"


def test_suspended_meeting_accepts_points_of_order_and_chat() -> None:
    """While suspended, delegates may still raise a point of order and chat."""
    c = cast()
    c.m.given(c.chair, "meeting.set_status", {"status": "suspended"})
    c.request(c.ana, kind="point_of_order")
    assert names(c.m.when(c.bob, "chat.send", {"to": "all", "text": "hello"})) == ["chat.posted"]


def test_suspended_meeting_accepts_the_chairs_commands() -> None:
    """While suspended, the chair keeps running the floor."""
    c = cast()
    c.request(c.ana)
    c.m.given(c.chair, "meeting.set_status", {"status": "suspended"})
    assert names(c.m.when(c.chair, "floor.grant")) == ["floor.granted"]
    assert names(c.m.when(c.chair, "floor.pause")) == ["floor.paused"]
    assert names(c.m.when(c.chair, "list.close")) == ["list.closed"]
    assert names(c.m.when(c.chair, "floor.request", {"participant": c.bob, "kind": "reply"})) == [
        "floor.requested"
    ]
    assert names(c.m.when(c.chair, "floor.release")) == ["floor.released"]


@pytest.mark.parametrize(
    ("actor", "name", "args"),
    [
        ("chair", "floor.grant", {}),
        ("chair", "list.open", {}),
        ("chair", "settings.update", {"floor_mode": "auto"}),
        ("ana", "floor.request", {"kind": "point_of_order"}),
        ("ana", "floor.withdraw", {}),
        ("bob", "chat.send", {"to": "all", "text": "hello"}),
    ],
)
def test_closed_meeting_rejects_everything(actor: str, name: str, args: dict[str, object]) -> None:
    """While closed, every command but the chair's meeting.set_status is meeting_closed."""
    c = cast()
    c.request(c.ana)
    c.m.given(c.chair, "meeting.set_status", {"status": "closed"})
    assert c.m.rejects(getattr(c, actor), name, args) == "meeting_closed"


@pytest.mark.parametrize("status", ["open", "suspended"])
def test_closed_meeting_can_be_reopened_by_the_chair(status: str) -> None:
    """The chair's meeting.set_status is the one command a closed meeting accepts."""
    c = cast()
    c.m.given(c.chair, "meeting.set_status", {"status": "closed"})
    assert c.m.rejects(c.ana, "meeting.set_status", {"status": status}) == "forbidden"
    assert names(c.m.when(c.chair, "meeting.set_status", {"status": status})) == [
        "meeting.status_changed"
    ]


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_role_checks_come_before_status_checks(status: str) -> None:
    """A command the actor's role may never send is forbidden, whatever the status."""
    c = cast()
    c.request(c.ana)
    c.m.given(c.chair, "meeting.set_status", {"status": status})
    assert c.m.rejects(c.bob, "floor.grant") == "forbidden"
    assert c.m.rejects(c.screen, "floor.request", {"kind": "point_of_order"}) == "forbidden"
    assert c.m.rejects(c.screen, "floor.release") == "forbidden"


def test_suspended_meeting_lets_the_chair_moderate() -> None:
    """While suspended, the chair still deletes chat and assigns seats."""
    c = cast()
    (posted,) = c.m.when(c.bob, "chat.send", {"to": "all", "text": "hello"})
    c.m.given(c.chair, "meeting.set_status", {"status": "suspended"})
    message = data(posted)["message"]
    assert names(c.m.when(c.chair, "chat.delete", {"message": message})) == ["chat.deleted"]
    assert names(c.m.when(c.chair, "seat.assign", {"seat": "A1", "participant": c.ana})) == [
        "seat.assigned"
    ]


def test_suspended_meeting_and_room_devices() -> None:
    """While suspended, a console may raise a point of order but not ask to speak or mute."""
    c = cast()
    room = c.m.device("Room", ["A1", "A2"])
    c.m.given(c.chair, "seat.assign", {"seat": "A1", "participant": c.ana})
    c.m.given(c.chair, "seat.assign", {"seat": "A2", "participant": c.bob})
    c.m.given(c.chair, "floor.grant", {"participant": c.bob})
    c.m.given(c.chair, "meeting.set_status", {"status": "suspended"})
    assert c.m.rejects(room, "seat.request", {"seat": "A1"}) == "meeting_suspended"
    assert c.m.rejects(room, "seat.release", {"seat": "A2"}) == "meeting_suspended"
    assert c.m.rejects(room, "seat.mute", {"seat": "A1", "muted": True}) == "meeting_suspended"
    (event,) = c.m.when(room, "seat.request", {"seat": "A1", "kind": "point_of_order"})
    assert (event.by, data(event)["via"], data(event)["kind"]) == (room, "seat", "point_of_order")


def test_open_meeting_and_room_devices() -> None:
    """In an open meeting the console's buttons request, yield and mute."""
    c = cast()
    room = c.m.device("Room", ["A1"])
    c.m.given(c.chair, "seat.assign", {"seat": "A1", "participant": c.ana})
    assert names(c.m.when(room, "seat.request", {"seat": "A1"})) == ["floor.requested"]
    c.m.given(c.chair, "floor.grant")
    (released,) = c.m.when(room, "seat.release", {"seat": "A1"})
    assert (released.by, data(released)["reason"]) == (room, "yielded")
    assert names(c.m.when(room, "seat.mute", {"seat": "A1", "muted": True})) == ["mute.changed"]


def test_closed_meeting_rejects_room_devices() -> None:
    """While closed, even a console's point of order is meeting_closed."""
    c = cast()
    room = c.m.device("Room", ["A1"])
    c.m.given(c.chair, "seat.assign", {"seat": "A1", "participant": c.ana})
    c.m.given(c.chair, "meeting.set_status", {"status": "closed"})
    assert c.m.rejects(room, "seat.request", {"seat": "A1", "kind": "point_of_order"}) == (
        "meeting_closed"
    )


def test_admin_api_ignores_the_meeting_status() -> None:
    """The roster can still be changed over the admin API while the meeting is closed."""
    c = cast()
    c.m.given(c.chair, "meeting.set_status", {"status": "closed"})
    events = c.m.admin("participant.update", {"participant": c.ana, "name": "Ana B."})
    assert names(events) == ["participant.updated"]


# --- idempotent retries ----------------------------------------------------------------------


def test_retry_is_acknowledged_with_the_original_seq() -> None:
    """A command id retried by the same actor is a duplicate: no events, the original seq."""
    c = cast()
    (event,) = c.m.when(c.ana, "floor.request", cid="c-1")
    c.m.given(c.bob, "floor.request")
    outcome = c.m.decide(c.ana, "floor.request", cid="c-1")
    assert outcome == Accepted((), event.seq, duplicate=True)


def test_retry_after_the_state_changed_is_still_a_duplicate() -> None:
    """A retried list.close is not applied again even after the list was reopened."""
    c = cast()
    (closed,) = c.m.when(c.chair, "list.close", cid="c-7")
    c.m.given(c.chair, "list.open")
    assert c.m.decide(c.chair, "list.close", cid="c-7") == Accepted((), closed.seq, True)
    assert c.m.state.list_open is True


def test_retry_ack_is_the_seq_of_the_last_event_with_follow_ups() -> None:
    """The remembered seq is the command's last event, automatic follow-ups included."""
    c = cast(floor_mode="auto")
    events = c.m.when(c.ana, "floor.request", cid="c-1")
    assert names(events) == ["floor.requested", "floor.granted"]
    assert all(e.cause is not None and e.cause.command == "c-1" for e in events)
    outcome = c.m.decide(c.ana, "floor.request", cid="c-1")
    assert outcome == Accepted((), events[-1].seq, duplicate=True)


def test_retry_ack_of_a_release_that_resumed_and_granted() -> None:
    """A release's ack seq covers its release and the resumption that followed."""
    c = cast()
    c.m.given(c.chair, "floor.grant", {"participant": c.ana})
    c.request(c.bob, kind="point_of_order")
    c.m.given(c.chair, "floor.grant")
    events = c.m.when(c.bob, "floor.release", cid="yield")
    assert names(events) == ["floor.released", "floor.resumed"]
    assert c.m.decide(c.bob, "floor.release", cid="yield") == Accepted((), events[1].seq, True)


def test_same_id_from_another_actor_is_a_new_command() -> None:
    """Command ids are per actor: another participant's same id is decided afresh."""
    c = cast()
    c.m.given(c.ana, "floor.request", cid="c-1")
    events = c.m.when(c.bob, "floor.request", cid="c-1")
    assert names(events) == ["floor.requested"]
    assert c.m.queue() == [c.ana, c.bob]


def test_rejected_command_id_can_be_retried() -> None:
    """A rejected command leaves nothing behind: its retry is decided again."""
    c = cast()
    c.m.given(c.chair, "list.close")
    assert c.m.rejects(c.ana, "floor.request", cid="c-1") == "list_closed"
    assert c.m.rejects(c.ana, "floor.request", cid="c-1") == "list_closed"
    c.m.given(c.chair, "list.open")
    assert names(c.m.when(c.ana, "floor.request", cid="c-1")) == ["floor.requested"]


def test_only_the_last_ids_of_each_actor_are_remembered() -> None:
    """Each actor's last COMMANDS_REMEMBERED ids are kept; older ones are decided again."""
    c = cast()
    seqs = []
    for i in range(COMMANDS_REMEMBERED + 1):
        name = "list.close" if i % 2 == 0 else "list.open"
        (event,) = c.m.when(c.chair, name, cid=f"c-{i}")
        seqs.append(event.seq)
    assert len(c.m.state.recent[c.chair]) == COMMANDS_REMEMBERED
    assert c.m.state.list_open is False
    assert names(c.m.when(c.chair, "list.close", cid="c-0")) == []
    assert c.m.decide(c.chair, "list.open", cid="c-1") == Accepted((), seqs[1], True)
    last = COMMANDS_REMEMBERED
    assert c.m.decide(c.chair, "list.close", cid=f"c-{last}") == Accepted((), seqs[last], True)


def test_remembered_ids_are_per_actor() -> None:
    """One actor's many commands do not push out another's ids."""
    c = cast()
    (event,) = c.m.when(c.ana, "floor.request", cid="mine")
    for i in range(COMMANDS_REMEMBERED + 1):
        c.m.given(c.chair, "list.close" if i % 2 == 0 else "list.open", cid=f"c-{i}")
    assert c.m.decide(c.ana, "floor.request", cid="mine") == Accepted((), event.seq, True)


def test_command_that_changes_nothing_acks_the_current_seq() -> None:
    """An accepted command without events is acknowledged with the current seq."""
    c = cast()
    c.request(c.ana)
    outcome = c.m.decide(c.chair, "list.open", cid="c-1")
    assert outcome == Accepted((), c.m.state.seq)


def test_commands_without_an_id_are_not_remembered() -> None:
    """A command sent without an id leaves no trace for retries."""
    c = cast()
    c.m.given(c.ana, "floor.request")
    assert c.m.state.recent.get(c.ana) is None


# --- actors ----------------------------------------------------------------------------------


def test_unknown_actor_is_forbidden() -> None:
    """A command from someone who is neither participant nor device is forbidden."""
    c = cast()
    assert c.m.rejects("p-404", "floor.request") == "forbidden"
    assert c.m.rejects("d-404", "seat.request", {"seat": "A1"}) == "forbidden"


def test_removed_participant_is_an_unknown_actor() -> None:
    """Once removed, a participant's commands are forbidden."""
    c = cast()
    c.m.admin("participant.remove", {"participant": c.ana})
    assert c.m.rejects(c.ana, "floor.request") == "forbidden"


@pytest.mark.parametrize(
    "command", [cmd.RequestFloor(), cmd.ReleaseFloor(), cmd.ExpireTime(), cmd.GrantFloor()]
)
def test_commands_before_the_meeting_exists(command: cmd.Command) -> None:
    """Before meeting.created every command is not_found."""
    for actor in ("p-2", "system"):
        outcome = decide(State(), command, actor, 0, "c-1")
        assert isinstance(outcome, Rejection)
        assert outcome.code is Code.NOT_FOUND


def test_only_the_admin_api_creates_meetings() -> None:
    """meeting.create by anyone but the admin API is forbidden."""
    command = cmd.CreateMeeting("m-2", "Another")
    for actor in ("p-2", "system"):
        outcome = decide(State(), command, actor, 0)
        assert isinstance(outcome, Rejection)
        assert outcome.code is Code.FORBIDDEN


@pytest.mark.parametrize(
    "command",
    [cmd.GrantFloor(), cmd.ReleaseFloor(), cmd.ClearQueue(), cmd.SetStatus(Status.CLOSED)],
)
def test_system_only_keeps_time(command: cmd.Command) -> None:
    """The system actor may send ExpireTime and nothing else (forbidden)."""
    c = cast()
    c.request(c.ana)
    outcome = decide(c.m.state, command, "system", c.m.now)
    assert isinstance(outcome, Rejection)
    assert outcome.code is Code.FORBIDDEN


@pytest.mark.parametrize("actor", ["chair", "ana", "admin"])
def test_only_the_system_expires_time(actor: str) -> None:
    """ExpireTime from a participant or the admin API is forbidden."""
    c = cast()
    c.m.given(c.chair, "floor.grant", {"participant": c.ana, "limit_s": 1})
    who = getattr(c, actor, actor)
    outcome = decide(c.m.state, cmd.ExpireTime(), who, c.m.now + 5_000)
    assert isinstance(outcome, Rejection)
    assert outcome.code is Code.FORBIDDEN


def test_device_cannot_send_floor_commands() -> None:
    """A room device may only send seat commands (forbidden otherwise)."""
    c = cast()
    room = c.m.device("Room", ["A1"])
    c.request(c.ana)
    assert c.m.rejects(room, "floor.grant") == "forbidden"
    assert c.m.rejects(room, "floor.release") == "forbidden"
