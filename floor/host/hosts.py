"""The meeting hosts of this node: started on first use, one task each, in one task group.

`Hosts.get(meeting)` returns the loaded host of a meeting that has a log (starting it
if needed); `Hosts.create(meeting)` starts the host of a new meeting. The task group
belongs to the app's lifespan: stopping it cancels and awaits every host.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from floor.errors import UnknownMeeting
from floor.host.meeting import MeetingHost, epoch_ms
from floor.protocol.close import CloseCode
from floor.store.port import EventLog, Snapshots

logger = logging.getLogger("floor.hosts")


class Hosts:
    def __init__(
        self,
        log: EventLog,
        group: asyncio.TaskGroup,
        *,
        snapshots: Snapshots | None = None,
        clock: Callable[[], int] = epoch_ms,
        queue_limit: int = 10_000,
        configure: Callable[[MeetingHost], None] | None = None,
        forget: Callable[[MeetingHost], None] | None = None,
    ) -> None:
        """`configure` is called on each host before it starts, `forget` once it stopped."""
        self._log = log
        self._snapshots = snapshots
        self._group = group
        self._clock = clock
        self._queue_limit = queue_limit
        self._configure = configure
        self._forget = forget
        self._hosts: dict[str, MeetingHost] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def __len__(self) -> int:
        return len(self._hosts)

    def running(self) -> list[MeetingHost]:
        return list(self._hosts.values())

    async def get(self, meeting: str) -> MeetingHost:
        """The loaded host of an existing meeting. Raises UnknownMeeting."""
        host = self._hosts.get(meeting)
        if host is None:
            if await self._log.epoch(meeting) is None:
                raise UnknownMeeting(meeting)
            host = self._start(meeting)
        await host.wait_loaded()
        await host.wait_caught_up()  # a cluster: another node may be ahead of this one
        return host

    async def create(self, meeting: str) -> MeetingHost:
        """The host for a meeting about to be created (its log may not exist yet)."""
        host = self._hosts.get(meeting) or self._start(meeting)
        await host.wait_loaded()
        return host

    def _start(self, meeting: str) -> MeetingHost:
        # no await between the check and the insertion: one host per meeting per node
        host = self._hosts.get(meeting)
        if host is not None:
            return host
        host = MeetingHost(
            meeting,
            self._log,
            snapshots=self._snapshots,
            clock=self._clock,
            queue_limit=self._queue_limit,
        )
        if self._configure is not None:
            self._configure(host)
        self._hosts[meeting] = host
        task = self._group.create_task(self._run(host), name=f"meeting {meeting}")
        self._tasks[meeting] = task
        return host

    async def _run(self, host: MeetingHost) -> None:
        try:
            await host.run()
        except asyncio.CancelledError:
            raise
        except Exception as failure:
            logger.exception("meeting %s: the host stopped", host.meeting)
            host.fail(failure)
            host.close_all(CloseCode.INTERNAL_ERROR, "internal error")
        finally:
            self._hosts.pop(host.meeting, None)
            self._tasks.pop(host.meeting, None)
            if self._forget is not None:
                self._forget(host)

    async def stop(self) -> None:
        """Cancel every host and wait for them."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
