"""The speaking-time timer: the host issues ExpireTime as `system` once the injected
clock passes the speaker's deadline, once per floor, and again after a restart."""

from __future__ import annotations

import pytest

from floor.state import commands as cmd
from floor.state.model import SYSTEM
from tests.host.harness import (
    FakeClock,
    RecordingLog,
    accepted,
    let_the_loop_run,
    new_host,
    new_meeting,
    running,
    subscribe,
    wait_until,
)

pytestmark = pytest.mark.asyncio

LIMIT_S = 60


async def test_the_host_expires_the_speakers_time_when_the_clock_passes_the_deadline() -> None:
    """Given a floor with a 60 s limit, nothing expires a millisecond before the deadline;
    once the clock reaches it the host itself issues floor.time_expired, by system, once."""
    clock = FakeClock()
    log = RecordingLog()
    host = new_host(log, clock)
    async with running(host):
        ids = await new_meeting(host)
        watcher = subscribe(host, ids["ana"])
        granted = await accepted(
            host, ids["chair"], cmd.GrantFloor(participant=ids["ana"], limit_s=LIMIT_S)
        )
        deadline = clock.now + LIMIT_S * 1000

        # when: the clock stops a millisecond short (a command wakes the host to see it)
        clock.now = deadline - 1
        await accepted(host, ids["bo"], cmd.RequestFloor())
        await let_the_loop_run()

        # then: no expiry yet
        assert "floor.time_expired" not in watcher.names()
        assert host.state.floor is not None
        assert not host.state.floor.expired

        # when: the clock reaches the deadline, with no command to wake the host
        clock.now = deadline
        await wait_until(lambda: "floor.time_expired" in watcher.names())

        # then: the expiry is issued once (the floor is marked expired: no new deadline)
        clock.advance(10 * LIMIT_S * 1000)
        await accepted(host, ids["chair"], cmd.OpenList())  # wake the host once more
        await let_the_loop_run()

    expired = [e for e in watcher.events() if e["name"] == "floor.time_expired"]
    assert len(expired) == 1
    assert expired[0]["by"] == SYSTEM
    assert expired[0]["at"] == deadline
    assert expired[0]["data"]["participant"] == ids["ana"]
    assert expired[0]["seq"] == granted.seq + 2  # after bo's request
    floor = host.state.floor
    assert floor is not None
    assert floor.expired
    records = await log.read(host.meeting)
    assert [r["name"] for r in records].count("floor.time_expired") == 1


async def test_the_timer_cuts_the_speaker_when_the_meeting_says_so() -> None:
    """With cut_at_limit, the expiry also ends the floor (reason time), in one write."""
    clock = FakeClock()
    log = RecordingLog()
    host = new_host(log, clock)
    async with running(host):
        ids = await new_meeting(host, settings=cmd.UpdateSettings(cut_at_limit=True))
        watcher = subscribe(host, ids["bo"])
        await accepted(host, ids["chair"], cmd.GrantFloor(participant=ids["ana"], limit_s=1))
        appends = len(log.appends)

        clock.advance(1000)
        await accepted(host, ids["bo"], cmd.RequestFloor())  # wakes the host, same batch
        await wait_until(lambda: host.state.floor is None)

    assert watcher.names()[-3:] == ["floor.time_expired", "floor.released", "floor.requested"]
    assert watcher.events()[-2]["data"]["reason"] == "time"
    assert len(log.appends) == appends + 1


async def test_a_restarted_host_rebuilds_the_timer_from_the_state() -> None:
    """A host started on a log whose speaker's deadline has passed issues the expiry by
    itself, with no command to wake it."""
    clock = FakeClock()
    log = RecordingLog()
    first = new_host(log, clock)
    async with running(first):
        ids = await new_meeting(first)
        await accepted(first, ids["chair"], cmd.GrantFloor(participant=ids["ana"], limit_s=5))
        head = first.state.seq
    clock.advance(5000)

    second = new_host(log, clock)
    async with running(second):
        await wait_until(lambda: second.state.seq == head + 1)
        watcher = subscribe(second, ids["chair"])

    records = await log.read(second.meeting, after=head)
    assert [(r["name"], r["by"]) for r in records] == [("floor.time_expired", SYSTEM)]
    assert second.state.floor is not None
    assert second.state.floor.expired
    assert watcher.welcome()["state"]["floor"]["expired"] is True
