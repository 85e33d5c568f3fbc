"""Protocol v1 over a real server: the handshake, every command of section 5 end to end,
the error codes, and ping/pong — in JSON and in msgpack."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.peers import (
    CODECS,
    Peer,
    Room,
    all_events,
    connect_peer,
    connect_room,
    make_room,
    seq_of,
    viewer,
    visible_events,
)
from tests.e2e.server import Server

pytestmark = pytest.mark.asyncio

WELCOME_KEYS = {"t", "v", "session", "meeting", "epoch", "seq", "now", "you", "state"}
STATE_KEYS = {
    "meeting",
    "participants",
    "queue",
    "floor",
    "interrupted",
    "list_open",
    "chat",
    "seats",
}
FLOOR_KEYS = {
    "participant",
    "request",
    "kind",
    "lang",
    "limit_s",
    "granted_at",
    "running_since",
    "used_s",
}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# --- handshake -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chatty_room(shared_server: Server) -> tuple[Room, dict[str, str]]:
    """A room with chat to all, to the chair and between two delegates (posted over /ws)."""
    import asyncio

    room = make_room(shared_server)

    async def post() -> dict[str, str]:
        ids: dict[str, str] = {}
        async with connect_peer(shared_server, room, "d1", "json") as d1:
            for key, to in (("all", "all"), ("chair", "chair"), ("private", room.id("d2"))):
                ack = await d1.command("chat.send", {"to": to, "text": f"to {key}"})
                assert ack["t"] == "ack", ack
                ids[key] = next(
                    e["data"]["message"]
                    for e in d1.seen
                    if e["t"] == "event" and e["seq"] == ack["seq"]
                )
        return ids

    return room, asyncio.run(post())


def chat_ids(welcome: dict[str, Any]) -> list[str]:
    return [m["id"] for m in welcome["state"]["chat"]]


@pytest.mark.parametrize("codec", CODECS)
async def test_welcome_has_the_documented_shape_and_the_current_seq(
    shared_server: Server, chatty_room: tuple[Room, dict[str, str]], codec: str
) -> None:
    room, _ = chatty_room
    api = room.meeting.state()
    before = now_ms()
    async with connect_peer(shared_server, room, "d2", codec) as d2:
        welcome = d2.welcome
    assert set(welcome) == WELCOME_KEYS
    assert welcome["v"] == 1
    assert welcome["meeting"] == room.meeting.id
    assert welcome["epoch"] == api["epoch"]
    assert welcome["seq"] == api["seq"]
    assert isinstance(welcome["session"], str)
    assert welcome["session"]
    assert before - 1000 <= welcome["now"] <= now_ms() + 1000
    assert welcome["you"] == {"participant": room.id("d2"), "role": "delegate"}
    state = welcome["state"]
    assert set(state) >= STATE_KEYS
    assert "presence" not in state
    assert state["meeting"] == api["state"]["meeting"]
    assert set(state["meeting"]["settings"]) == {
        "default_limit_s",
        "floor_mode",
        "cut_at_limit",
        "observers_may_speak",
        "one_request_per_delegation",
    }
    assert state["participants"] == api["state"]["participants"]
    d1 = state["participants"][room.id("d1")]
    assert d1 == {
        "id": room.id("d1"),
        "name": "Delegate One",
        "delegation": "France",
        "role": "delegate",
        "attendance": "onsite",
        "seat": "A1",
        "lang": "fr",
        "self_muted": False,
        "hard_muted": False,
    }
    assert state["seats"] == {"A1": room.id("d1"), "A2": room.id("d2")}
    assert state["queue"] == []
    assert state["floor"] is None
    assert state["interrupted"] == []
    assert state["list_open"] is True
    for message in state["chat"]:
        assert set(message) == {"id", "from", "to", "text", "at"}


@pytest.mark.parametrize("codec", CODECS)
async def test_each_role_sees_its_chat_and_only_the_chair_sees_presence(
    shared_server: Server, chatty_room: tuple[Room, dict[str, str]], codec: str
) -> None:
    room, ids = chatty_room
    async with connect_peer(shared_server, room, "chair", codec) as chair:
        assert chair.welcome["you"] == {"participant": room.id("chair"), "role": "chair"}
        assert chat_ids(chair.welcome) == [ids["all"], ids["chair"]]
        presence = chair.welcome["state"]["presence"]
        assert set(presence) == set(chair.welcome["state"]["participants"])
        assert all(isinstance(v, bool) for v in presence.values())
    async with connect_peer(shared_server, room, "display", codec) as display:
        assert display.welcome["you"] == {"participant": room.id("display"), "role": "display"}
        assert chat_ids(display.welcome) == [ids["all"]]
        assert "presence" not in display.welcome["state"]
    async with connect_peer(shared_server, room, "d1", codec) as d1:
        assert chat_ids(d1.welcome) == [ids["all"], ids["chair"], ids["private"]]
    async with connect_peer(shared_server, room, "d2", codec) as d2:
        assert chat_ids(d2.welcome) == [ids["all"], ids["private"]]
    async with connect_peer(shared_server, room, "observer", codec) as observer:
        assert observer.welcome["you"]["role"] == "observer"
        assert chat_ids(observer.welcome) == [ids["all"]]
        assert "presence" not in observer.welcome["state"]


@pytest.mark.parametrize("codec", CODECS)
async def test_a_device_gets_no_chat_and_its_seats_right_after_welcome(
    shared_server: Server, chatty_room: tuple[Room, dict[str, str]], codec: str
) -> None:
    room, _ = chatty_room
    async with connect_peer(shared_server, room, "device", codec) as device:
        assert device.welcome["you"] == {"device": room.id("device"), "role": "device"}
        assert device.welcome["state"]["chat"] == []
        assert "presence" not in device.welcome["state"]
        assert room.id("device") not in device.welcome["state"]["participants"]
        seats = await device.recv()
        assert seats == {
            "t": "seats",
            "seq": device.welcome["seq"],
            "live": [],
            "waiting": [],
            "live_participants": [],
        }


@pytest.mark.parametrize("codec", CODECS)
async def test_the_chairs_welcome_state_is_the_meetings_state(
    shared_server: Server, codec: str
) -> None:
    room = make_room(shared_server)
    async with connect_peer(shared_server, room, "d1", codec) as d1:
        assert (await d1.command("floor.request", {"kind": "speak"}))["t"] == "ack"
        assert (await d1.command("chat.send", {"to": "all", "text": "hello"}))["t"] == "ack"
        async with connect_peer(shared_server, room, "chair", codec) as chair:
            api = room.meeting.state()
            state = dict(chair.welcome["state"])
            api_state = dict(api["state"])
            presence = state.pop("presence")
            api_presence = api_state.pop("presence")
            assert state == api_state
            assert presence[room.id("d1")] is True
            assert api_presence[room.id("d1")] is True
            assert presence[room.id("d2")] is False
            assert presence[room.id("chair")] is True  # it is connected, as its welcome says


# --- every command, end to end ------------------------------------------------------------

Args = dict[str, Any] | None


async def step(
    peers: dict[str, Peer],
    room: Room,
    sender: str,
    name: str,
    args: Args = None,
    expect: tuple[str, ...] = (),
    audience: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """`sender` sends a command that must be acked after exactly the events `expect`;
    then every peer of `audience` (default: all) receives those same events."""
    s = peers[sender]
    before = len(s.log)
    seq_before = max(p.last_seq for p in peers.values())  # the audience of each step read it
    reply = await s.command(name, args)
    assert reply["t"] == "ack", (name, args, reply)
    assert set(reply) == {"t", "id", "seq"}
    mine = [m for m in s.log[before:] if m["t"] == "event"]
    assert [e["name"] for e in mine] == list(expect), (name, mine)
    assert [e["seq"] for e in mine] == list(range(seq_before + 1, seq_before + 1 + len(mine)))
    assert reply["seq"] == (mine[-1]["seq"] if mine else seq_before)
    for e in mine:
        assert set(e) == {"t", "seq", "at", "by", "name", "data"}
        assert e["by"] == room.id(sender)
    who = audience if audience is not None else tuple(peers)
    for other in who:
        if other == sender or not mine:
            continue
        peer = peers[other]
        await peer.until_seq(mine[-1]["seq"])
        theirs = [e for e in peer.events if seq_before < e["seq"] <= mine[-1]["seq"]]
        assert theirs == mine, other
    return mine


async def refuse(
    peers: dict[str, Peer], sender: str, name: str, args: Args, code: str
) -> dict[str, Any]:
    reply = await peers[sender].command(name, args)
    assert reply["t"] == "error", (name, args, reply)
    assert reply["code"] == code, reply
    assert isinstance(reply["message"], str)
    assert reply["message"]
    return reply


async def seats(peers: dict[str, Peer], **expected: Any) -> None:
    """The device receives a `seats` message with these fields (latest first)."""
    device = peers["device"]

    def matches(m: dict[str, Any]) -> bool:
        return m["t"] == "seats" and all(m[k] == v for k, v in expected.items())

    await device.until(matches)


@pytest.mark.parametrize("codec", CODECS)
async def test_every_command_reaches_every_client_and_acks_after_its_events(
    shared_server: Server, codec: str
) -> None:
    room = make_room(shared_server)
    d1, d2, observer = room.id("d1"), room.id("d2"), room.id("observer")
    async with connect_room(shared_server, room, codec) as peers:
        welcome_seq = peers["chair"].welcome["seq"]

        # the list of speakers
        (e,) = await step(peers, room, "d1", "floor.request", {}, ("floor.requested",))
        r1 = e["data"]["request"]
        assert e["data"] == {
            "request": r1,
            "participant": d1,
            "kind": "speak",
            "lang": "fr",
            "at": e["at"],
            "via": "browser",
            "position": 0,
        }
        await seats(peers, waiting=["A1"], live=[])
        (e,) = await step(
            peers, room, "chair", "floor.request", {"participant": d2, "lang": "en"},
            ("floor.requested",),
        )  # fmt: skip
        r2 = e["data"]["request"]
        assert (e["data"]["participant"], e["data"]["lang"], e["data"]["position"]) == (d2, "en", 1)
        await seats(peers, waiting=["A1", "A2"])
        (e,) = await step(
            peers, room, "chair", "floor.move", {"request": r2, "position": 0}, ("floor.moved",)
        )
        assert e["data"] == {"request": r2, "position": 0}
        await seats(peers, waiting=["A2", "A1"])
        (e,) = await step(peers, room, "d2", "floor.withdraw", {}, ("floor.withdrawn",))
        assert e["data"] == {"request": r2, "participant": d2}
        await seats(peers, waiting=["A1"])

        # the floor and its clock
        (e,) = await step(peers, room, "chair", "floor.grant", {"limit_s": 60}, ("floor.granted",))
        floor = e["data"]["floor"]
        assert set(floor) >= FLOOR_KEYS
        assert (floor["participant"], floor["request"], floor["kind"], floor["lang"]) == (
            d1,
            r1,
            "speak",
            "fr",
        )
        assert floor["limit_s"] == 60
        assert floor["used_s"] == 0
        assert floor["running_since"] is not None
        await seats(peers, live=["A1"], waiting=[], live_participants=[d1])
        (e,) = await step(
            peers, room, "chair", "floor.extend", {"seconds": 30}, ("floor.extended",)
        )
        assert e["data"]["floor"]["limit_s"] == 90
        (e,) = await step(peers, room, "chair", "floor.pause", None, ("floor.paused",))
        assert e["data"]["floor"]["running_since"] is None
        await refuse(peers, "chair", "floor.pause", None, "conflict")
        (e,) = await step(peers, room, "chair", "floor.unpause", None, ("floor.unpaused",))
        assert e["data"]["floor"]["running_since"] is not None

        # a point of order interrupts; yielding it resumes the interrupted speaker
        (e,) = await step(
            peers, room, "d2", "floor.request", {"kind": "point_of_order"}, ("floor.requested",)
        )
        assert (e["data"]["kind"], e["data"]["position"]) == ("point_of_order", 0)
        interrupted, granted = await step(
            peers, room, "chair", "floor.grant", {}, ("floor.interrupted", "floor.granted")
        )
        assert interrupted["data"]["floor"]["participant"] == d1
        assert interrupted["data"]["floor"]["running_since"] is None
        assert granted["data"]["floor"]["participant"] == d2
        assert granted["data"]["floor"]["kind"] == "point_of_order"
        await seats(peers, live=["A2"], live_participants=[d2])
        released, resumed = await step(
            peers, room, "d2", "floor.release", None, ("floor.released", "floor.resumed")
        )
        assert released["data"]["participant"] == d2
        assert released["data"]["reason"] == "yielded"
        assert isinstance(released["data"]["spoke_s"], int | float)
        assert resumed["data"]["floor"]["participant"] == d1
        (e,) = await step(peers, room, "chair", "floor.release", None, ("floor.released",))
        assert (e["data"]["participant"], e["data"]["reason"]) == (d1, "chair")
        await refuse(peers, "chair", "floor.release", None, "conflict")
        await seats(peers, live=[], waiting=[], live_participants=[])

        # the list closes and opens; the queue clears
        await step(peers, room, "chair", "list.close", None, ("list.closed",))
        await refuse(peers, "d1", "floor.request", {}, "list_closed")
        await step(peers, room, "chair", "list.open", None, ("list.opened",))
        await step(peers, room, "d1", "floor.request", {}, ("floor.requested",))
        await step(peers, room, "chair", "queue.clear", None, ("queue.cleared",))

        # microphones
        (e,) = await step(peers, room, "d1", "mute.set", {"muted": True}, ("mute.changed",))
        assert e["data"] == {"participant": d1, "self_muted": True, "hard_muted": False}
        await step(peers, room, "d1", "mute.set", {"muted": False}, ("mute.changed",))
        (e,) = await step(
            peers, room, "chair", "mute.set", {"participant": d2, "muted": True}, ("mute.changed",)
        )
        assert e["data"] == {"participant": d2, "self_muted": False, "hard_muted": True}
        await refuse(peers, "d2", "mute.set", {"muted": False}, "forbidden")
        await step(
            peers, room, "chair", "mute.set", {"participant": d2, "muted": False}, ("mute.changed",)
        )
        (e,) = await step(peers, room, "chair", "mute.all", {"except": [d1]}, ("mute.all_set",))
        assert sorted(e["data"]["participants"]) == sorted([d2, observer])

        # chat: each message reaches its audience only
        everyone_but_device = ("chair", "d1", "d2", "display")
        (e,) = await step(
            peers, room, "d1", "chat.send", {"to": "all", "text": "Bonjour à tous 👋"},
            ("chat.posted",), everyone_but_device,
        )  # fmt: skip
        assert e["data"] == {
            "message": e["data"]["message"],
            "from": d1,
            "to": "all",
            "text": "Bonjour à tous 👋",
            "at": e["at"],
        }
        (to_chair,) = await step(
            peers, room, "d1", "chat.send", {"to": "chair", "text": "a question"},
            ("chat.posted",), ("chair", "d1"),
        )  # fmt: skip
        await step(
            peers, room, "d1", "chat.send", {"to": d2, "text": "between us"},
            ("chat.posted",), ("d1", "d2"),
        )  # fmt: skip
        (e,) = await step(
            peers, room, "chair", "chat.delete", {"message": to_chair["data"]["message"]},
            ("chat.deleted",), ("chair", "d1"),
        )  # fmt: skip
        assert e["data"]["message"] == to_chair["data"]["message"]  # (fields may be added)
        await refuse(peers, "display", "chat.send", {"to": "all", "text": "x"}, "forbidden")
        await refuse(peers, "device", "chat.send", {"to": "all", "text": "x"}, "forbidden")

        # settings and seats
        (e,) = await step(
            peers, room, "chair", "settings.update", {"default_limit_s": 120},
            ("settings.changed",),
        )  # fmt: skip
        assert e["data"]["settings"] == {
            "default_limit_s": 120,
            "floor_mode": "manual",
            "cut_at_limit": False,
            "observers_may_speak": False,
            "one_request_per_delegation": False,
        }
        (e,) = await step(
            peers, room, "chair", "seat.assign", {"seat": "A2", "participant": None},
            ("seat.assigned",),
        )  # fmt: skip
        assert e["data"] == {"seat": "A2", "participant": None}
        await step(
            peers, room, "chair", "seat.assign", {"seat": "A2", "participant": d2},
            ("seat.assigned",),
        )  # fmt: skip

        # the room device acts for whoever sits at its consoles
        (e,) = await step(
            peers, room, "device", "seat.request", {"seat": "A1"}, ("floor.requested",)
        )
        assert (e["data"]["participant"], e["data"]["via"]) == (d1, "seat")
        await step(peers, room, "device", "seat.request", {"seat": "A1"}, ("floor.withdrawn",))
        await step(peers, room, "device", "seat.request", {"seat": "A1"}, ("floor.requested",))
        await step(peers, room, "chair", "floor.grant", {}, ("floor.granted",))
        await seats(peers, live=["A1"], waiting=[])
        (e,) = await step(
            peers, room, "device", "seat.mute", {"seat": "A1", "muted": True}, ("mute.changed",)
        )
        assert e["data"] == {"participant": d1, "self_muted": True, "hard_muted": False}
        await seats(peers, live=[], live_participants=[])
        await step(
            peers, room, "device", "seat.mute", {"seat": "A1", "muted": False}, ("mute.changed",)
        )
        await seats(peers, live=["A1"])
        (e,) = await step(
            peers, room, "device", "seat.release", {"seat": "A1"}, ("floor.released",)
        )
        assert (e["data"]["participant"], e["data"]["reason"]) == (d1, "yielded")
        await refuse(peers, "device", "seat.request", {"seat": "Z9"}, "forbidden")
        await refuse(peers, "device", "seat.request", {"seat": "A3"}, "not_found")

        # the meeting's status
        (e,) = await step(
            peers, room, "chair", "meeting.set_status", {"status": "suspended"},
            ("meeting.status_changed",),
        )  # fmt: skip
        assert e["data"] == {"status": "suspended"}
        await refuse(peers, "d1", "floor.request", {}, "meeting_suspended")
        await step(
            peers, room, "d1", "chat.send", {"to": "all", "text": "still here"},
            ("chat.posted",), everyone_but_device,
        )  # fmt: skip
        await step(
            peers, room, "d2", "floor.request", {"kind": "point_of_order"}, ("floor.requested",)
        )
        await step(
            peers, room, "chair", "meeting.set_status", {"status": "closed"},
            ("meeting.status_changed",),
        )  # fmt: skip
        await refuse(peers, "d1", "chat.send", {"to": "all", "text": "x"}, "meeting_closed")
        await refuse(peers, "chair", "list.close", None, "meeting_closed")
        await step(
            peers, room, "chair", "meeting.set_status", {"status": "open"},
            ("meeting.status_changed",),
        )  # fmt: skip

        # a command that changes nothing is acked with the current seq
        last = peers["chair"].last_seq
        reply = await peers["d1"].command("mute.set", {"muted": False})
        assert reply == {"t": "ack", "id": reply["id"], "seq": last}

        # finally: each client received exactly the log as it may see it, in order
        head = seq_of(room.meeting)
        for peer in peers.values():
            await peer.quiet(0.2)
        log = all_events(room.meeting)
        assert [e["seq"] for e in log] == list(range(1, head + 1))
        for name, peer in peers.items():
            expected = [
                e for e in visible_events(log, viewer(room, name)) if e["seq"] > welcome_seq
            ]
            assert peer.events == expected, name


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS)
async def test_every_error_code_is_reachable_and_changes_nothing(
    shared_server: Server, codec: str
) -> None:
    room = make_room(shared_server)
    async with connect_room(shared_server, room, codec, ("chair", "d1", "observer")) as peers:
        d1, chair = peers["d1"], peers["chair"]
        start = seq_of(room.meeting)

        await d1.send({"t": "cmd", "name": "floor.request"})  # no id
        error = await d1.next("error")
        assert error["code"] == "bad_message"
        assert "id" not in error
        await d1.send({"t": "shout"})
        assert (await d1.next("error"))["code"] == "bad_message"
        await refuse(peers, "d1", "floor.fly", {}, "unknown_command")
        reply = await refuse(peers, "d1", "floor.request", {"kind": "shout"}, "invalid_args")
        assert reply["field"] == "kind"
        reply = await refuse(peers, "chair", "mute.all", {"except": ["p-1", 7]}, "invalid_args")
        assert reply["field"] == "except.1"
        await refuse(peers, "d1", "list.close", None, "forbidden")
        await refuse(peers, "observer", "floor.request", {}, "forbidden")
        await refuse(peers, "chair", "floor.withdraw", {"request": "r-999"}, "not_found")
        await refuse(peers, "chair", "floor.grant", {}, "not_found")  # empty queue
        await refuse(peers, "d1", "floor.release", None, "conflict")
        assert seq_of(room.meeting) == start

        assert (await chair.command("list.close"))["t"] == "ack"
        await refuse(peers, "d1", "floor.request", {}, "list_closed")
        assert (await chair.command("list.open"))["t"] == "ack"
        assert (await chair.command("meeting.set_status", {"status": "suspended"}))["t"] == "ack"
        await refuse(peers, "d1", "floor.request", {}, "meeting_suspended")
        assert (await chair.command("meeting.set_status", {"status": "closed"}))["t"] == "ack"
        await refuse(peers, "d1", "chat.send", {"to": "all", "text": "x"}, "meeting_closed")
        assert (await chair.command("meeting.set_status", {"status": "open"}))["t"] == "ack"
        middle = seq_of(room.meeting)
        assert middle == start + 5

        # rate_limited: more commands at once than the burst (40) allows
        for i in range(45):
            await d1.send(
                {"t": "cmd", "id": f"burst-{i}", "name": "mute.set", "args": {"muted": False}}
            )
        answers = [await d1.until(lambda m, i=i: m.get("id") == f"burst-{i}") for i in range(45)]
        limited = [a for a in answers if a["t"] == "error"]
        assert limited
        assert {a["code"] for a in limited} == {"rate_limited"}
        assert answers[0]["t"] == "ack"
        assert len(limited) <= 45 - 30  # the burst was not spent by the few commands before
        assert seq_of(room.meeting) == middle
        # `internal` is the answer to a bug or a failing log: not reachable from outside


@pytest.mark.parametrize("codec", CODECS)
async def test_ping_is_answered_with_pong_and_the_server_clock(
    shared_server: Server, codec: str
) -> None:
    room = make_room(shared_server)
    async with connect_peer(shared_server, room, "d1", codec) as d1:
        for ping_id in ("p-1", 2, None):
            before = now_ms()
            await d1.send({"t": "ping", "id": ping_id})
            pong = await d1.next("pong")
            assert pong["id"] == ping_id
            assert set(pong) == {"t", "id", "now"}
            assert isinstance(pong["now"], int)
            assert before - 1000 <= pong["now"] <= now_ms() + 1000
