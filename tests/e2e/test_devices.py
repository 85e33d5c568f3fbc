"""Room devices over a real server and real sockets: seats of two rooms, presses that
request and withdraw, the live seat after a grant, on-site and remote delegates in one
queue, network cuts with presses while offline, and clear errors for bad seats and frames.

Each test runs twice where it matters: with a raw protocol client and with the reference
bridge (`floor.devices.Bridge`) driving simulated consoles.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from floor.devices import Button, Next
from tests.e2e.halls import Hall, bridge_for, last_seats, make_hall, named, running, until_events
from tests.e2e.peers import all_events
from tests.e2e.proxy import Proxy
from tests.e2e.server import Client, Server

pytestmark = pytest.mark.asyncio


@pytest.fixture
def hall(shared_server: Server) -> Hall:
    return make_hall(shared_server)


# --- rooms and seats -------------------------------------------------------------------------


async def test_each_device_acts_on_its_own_seats_only(shared_server: Server, hall: Hall) -> None:
    """Room A's device cannot press Room B's seats nor the reverse (forbidden); each press
    on its own seat requests the floor for who sits there, by that device, via seat."""
    async with (
        Client.connect(shared_server, hall.token("A"), "msgpack") as room_a,
        Client.connect(shared_server, hall.token("B"), "msgpack") as room_b,
    ):
        await room_a.next("seats")
        await room_b.next("seats")
        for client, seat in ((room_a, "B01"), (room_b, "A01")):
            for name, args in (
                ("seat.request", {"seat": seat}),
                ("seat.release", {"seat": seat}),
                ("seat.mute", {"seat": seat, "muted": True}),
            ):
                answer = await client.command(name, args)
                assert (answer["t"], answer["code"]) == ("error", "forbidden"), (name, seat)
        assert (await room_a.command("seat.request", {"seat": "A01"}))["t"] == "ack"
        assert (await room_b.command("seat.request", {"seat": "B01"}))["t"] == "ack"
        assert last_seats(room_a)["waiting"] == ["A01"]
        assert last_seats(room_b)["waiting"] == ["B01"]  # each sees only its own room
    requested = named(all_events(hall.meeting), "floor.requested")
    assert [(e["by"], e["data"]["participant"], e["data"]["via"]) for e in requested] == [
        (hall.id("A"), hall.id("ana"), "seat"),
        (hall.id("B"), hall.id("cy"), "seat"),
    ]


@pytest.mark.parametrize("path", ["raw", "bridge"])
async def test_a_press_requests_the_floor_and_a_second_press_withdraws(
    shared_server: Server, hall: Hall, path: str
) -> None:
    if path == "raw":
        async with Client.connect(shared_server, hall.token("A"), "msgpack") as device:
            await device.next("seats")
            assert (await device.command("seat.request", {"seat": "A01"}))["t"] == "ack"
            assert last_seats(device)["waiting"] == ["A01"]
            assert (await device.command("seat.request", {"seat": "A01"}))["t"] == "ack"
            assert last_seats(device)["waiting"] == []
    else:
        bridge, consoles = bridge_for(shared_server.ws_url, hall.token("A"))
        async with running(bridge):
            bridge.press("A01", Button.REQUEST)
            await bridge.wait_for(lambda: consoles.showing("A01") == "waiting")
            bridge.press("A01", Button.REQUEST)
            await bridge.wait_for(lambda: consoles.showing("A01") == "idle")
            await bridge.wait_settled()
            assert bridge.link.acked == 2
    events = all_events(hall.meeting)
    (requested,) = named(events, "floor.requested")
    (withdrawn,) = named(events, "floor.withdrawn")
    assert requested["by"] == withdrawn["by"] == hall.id("A")
    assert requested["data"]["participant"] == hall.id("ana")
    assert requested["data"]["via"] == "seat"
    assert withdrawn["data"]["request"] == requested["data"]["request"]


async def test_the_room_and_remote_delegates_share_one_queue_and_the_granted_seat_goes_live(
    shared_server: Server, hall: Hall
) -> None:
    """A console press, a browser request and another press: one queue in that order;
    the chair grants, the console's microphone goes live; its mic button yields."""
    bridge, consoles = bridge_for(shared_server.ws_url, hall.token("A"))
    async with (
        running(bridge),
        Client.connect(shared_server, hall.token("chair")) as chair,
        Client.connect(shared_server, hall.token("remote")) as remote,
    ):
        bridge.press("A01", Button.REQUEST)
        await bridge.wait_for(lambda: consoles.showing("A01") == "waiting")
        assert (await remote.command("floor.request", {"kind": "speak"}))["t"] == "ack"
        bridge.press("A02", Button.REQUEST)
        await bridge.wait_for(lambda: consoles.waiting == ["A01", "A02"])
        queue = hall.meeting.state()["state"]["queue"]
        assert [(r["participant"], r["via"]) for r in queue] == [
            (hall.id("ana"), "seat"),
            (hall.id("remote"), "browser"),
            (hall.id("bo"), "seat"),
        ]
        assert (await chair.command("floor.grant", {}))["t"] == "ack"
        await bridge.wait_for(lambda: consoles.live == ["A01"])
        assert consoles.waiting == ["A02"]
        assert bridge.seats is not None
        assert bridge.seats.live_participants == (hall.id("ana"),)
        bridge.press("A01", Button.MIC)
        await bridge.wait_for(lambda: consoles.showing("A01") == "idle")
        assert (await chair.command("floor.grant", {}))["t"] == "ack"  # the remote delegate
        await bridge.wait_for(
            lambda: (
                bridge.seats is not None and bridge.seats.live_participants == (hall.id("remote"),)
            )
        )
        assert consoles.live == []
        assert consoles.waiting == ["A02"]
        assert consoles.max_live == 1
    (released,) = named(all_events(hall.meeting), "floor.released")
    assert released["by"] == hall.id("A")
    assert released["data"] == {
        **released["data"],
        "participant": hall.id("ana"),
        "reason": "yielded",
    }


# --- bad seats and bad frames --------------------------------------------------------------


async def test_bad_seats_and_malformed_msgpack_get_clear_codes_from_a_raw_client(
    shared_server: Server, hall: Hall
) -> None:
    """An unknown seat and another room's seat: forbidden; an empty seat of its room:
    not_found; a release by a seat not speaking: conflict; undecodable msgpack or a
    message that is not a map: bad_message. Nothing changes."""
    seq = hall.meeting.state()["seq"]
    async with Client.connect(shared_server, hall.token("A"), "msgpack") as device:
        await device.next("seats")
        for name, args, code in [
            ("seat.request", {"seat": "Z99"}, "forbidden"),
            ("seat.request", {"seat": "B01"}, "forbidden"),
            ("seat.request", {"seat": "A03"}, "not_found"),
            ("seat.mute", {"seat": "A03", "muted": True}, "not_found"),
            ("seat.release", {"seat": "A01"}, "conflict"),
            ("seat.request", {}, "invalid_args"),
        ]:
            answer = await device.command(name, args)
            assert (answer["t"], answer.get("code")) == ("error", code), (name, args)
        for frame in (b"\xc1", b"\x93\x01\x02\x03", b"\x81\xa1t"):
            await device.ws.send(frame)
            error = await device.next("error")
            assert error["code"] == "bad_message"
            assert "id" not in error
        pong = await device.command("seat.request", {"seat": "A01"})  # still served
        assert pong["t"] == "ack"
    assert [e["name"] for e in all_events(hall.meeting)[seq:]] == ["floor.requested"]


async def test_bad_seats_and_malformed_msgpack_through_the_bridge(
    shared_server: Server, hall: Hall, caplog: pytest.LogCaptureFixture
) -> None:
    """The bridge counts refused presses by code, logs a bad_message, and stays online."""
    seq = hall.meeting.state()["seq"]
    bridge, consoles = bridge_for(shared_server.ws_url, hall.token("A"))
    with caplog.at_level(logging.WARNING, "floor.devices"):
        async with running(bridge):
            for seat in ("Z99", "B01", "A03"):
                bridge.press(seat, Button.REQUEST)
            bridge.press("A02", Button.MIC)
            await bridge.wait_settled()
            assert bridge.link.refused == {"forbidden": 2, "not_found": 1, "conflict": 1}
            assert bridge.connection is not None
            await bridge.connection.send(b"\xc1")
            await bridge.wait_for(lambda: "bad_message" in caplog.text)
            bridge.press("A01", Button.REQUEST)
            await bridge.wait_for(lambda: consoles.showing("A01") == "waiting")
            assert bridge.online
            assert bridge.connections == 1
    assert "seat.request at seat Z99 refused: forbidden" in caplog.text
    assert "seat.request at seat A03 refused: not_found" in caplog.text
    assert [e["name"] for e in all_events(hall.meeting)[seq:]] == ["floor.requested"]


# --- network cuts --------------------------------------------------------------------------


async def test_a_cut_during_a_grant_then_presses_offline_reconcile_and_apply_once(
    shared_server: Server, hall: Hall
) -> None:
    """Ana speaks; the bridge's network is cut; the chair gives the floor to Bo; Ana
    presses request and mute while the bridge is offline. Back online (resumed): Ana's
    microphone closed before Bo's opened, Ana waiting, and each press applied once."""
    proxy = await Proxy(shared_server.port).start()
    bridge, consoles = bridge_for(proxy.ws_url, hall.token("A"))
    try:
        async with running(bridge), Client.connect(shared_server, hall.token("chair")) as chair:
            bridge.press("A01", Button.REQUEST)
            bridge.press("A02", Button.REQUEST)
            await bridge.wait_for(lambda: consoles.waiting == ["A01", "A02"])
            assert (await chair.command("floor.grant", {}))["t"] == "ack"
            await bridge.wait_for(lambda: consoles.live == ["A01"])

            await proxy.cut()
            await bridge.wait_for(lambda: not bridge.online)
            assert (await chair.command("floor.grant", {}))["t"] == "ack"  # Bo, during the cut
            consoles.console("A03").live = True  # and someone opens A03 at the desk
            offline = [
                bridge.press("A01", Button.REQUEST),
                bridge.press("A01", Button.MUTE, muted=True),
            ]
            assert consoles.live == ["A01", "A03"]  # nothing reached the consoles
            assert [p.id for p in bridge.link.presses] == offline

            await proxy.restore()
            await bridge.wait_online()
            await bridge.wait_settled()
            await bridge.wait_for(lambda: consoles.live == ["A02"] and consoles.waiting == ["A01"])
            assert consoles.max_live == 1
            assert bridge.link.resumes == 1
            assert bridge.connections == 2
            assert bridge.link.acked == 4
    finally:
        await proxy.close()
    events = all_events(hall.meeting)
    by_device = [e for e in events if e["by"] == hall.id("A")]
    assert len(named(by_device, "floor.requested", participant=hall.id("ana"))) == 2
    assert len(named(by_device, "mute.changed", participant=hall.id("ana"))) == 1
    assert len(named(events, "floor.granted")) == 2


async def test_a_press_whose_ack_was_lost_is_sent_again_and_applied_once(
    shared_server: Server, hall: Hall
) -> None:
    """The server applies a press but its answer never arrives (the link goes deaf, then
    drops). On reconnect the bridge sends it again with the same id: one request only."""
    proxy = await Proxy(shared_server.port).start()
    bridge, consoles = bridge_for(proxy.ws_url, hall.token("A"))
    try:
        async with running(bridge):
            proxy.deaf = True
            bridge.press("A01", Button.REQUEST)
            await until_events(hall.meeting, lambda es: bool(named(es, "floor.requested")))
            assert not bridge.link.settled
            await proxy.cut()
            await bridge.wait_for(lambda: not bridge.online)
            await proxy.restore()
            await bridge.wait_settled()
            await bridge.wait_for(lambda: consoles.waiting == ["A01"])
            assert bridge.link.sends == 2
            assert bridge.link.acked == 1
            assert bridge.link.refused == {}
    finally:
        await proxy.close()
    assert len(named(all_events(hall.meeting), "floor.requested")) == 1


async def test_the_bridge_resumes_after_a_server_restart(server: Server) -> None:
    """SIGTERM closes with 1001 (going away): the bridge reconnects with resume once the
    server is back, and drives the consoles from the state it finds."""
    hall = make_hall(server)
    bridge, consoles = bridge_for(server.ws_url, hall.token("A"))
    async with running(bridge):
        bridge.press("A01", Button.REQUEST)
        await bridge.wait_for(lambda: consoles.waiting == ["A01"])
        await asyncio.to_thread(server.stop)  # uvicorn re-raises SIGTERM once shut down
        await bridge.wait_for(lambda: not bridge.online)
        bridge.press("A02", Button.REQUEST)
        await asyncio.to_thread(server.start)
        await bridge.wait_online(timeout=20)
        await bridge.wait_settled()
        await bridge.wait_for(lambda: consoles.waiting == ["A01", "A02"])
        assert bridge.link.resumes == 1
    assert len(named(all_events(hall.meeting), "floor.requested")) == 2


async def test_a_bad_token_stops_the_bridge(shared_server: Server) -> None:
    """Close 4001: the bridge stops (it needs a new token) instead of retrying."""
    bridge, _ = bridge_for(shared_server.ws_url, "not-a-token")
    decision = await asyncio.wait_for(bridge.run(), 10)
    assert decision is not None
    assert decision.next is Next.STOP
    assert "token" in decision.explanation
    assert bridge.stopped is decision
    assert bridge.connections == 1
