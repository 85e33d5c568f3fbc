"""The reference bridge: a protocol-v1 device client over msgpack that drives a `Hardware`.

    bridge = Bridge("ws://floor.example/ws", token, hardware)
    async with asyncio.TaskGroup() as tg:
        tg.create_task(bridge.run())               # connects, and reconnects, until stopped
        ...
        bridge.press("A03", Button.REQUEST)        # from the conference system's events

`run()` connects (subprotocol `floor.v1.msgpack`), says hello with the device token (and
the resume point once it has one), feeds every server message to the `Link` — which
drives the hardware from `seats` — and sends the queued presses. When the connection ends
it decides from the close code (PROTOCOL.md section 7; `link.after_close`): stop (4001,
4003; 1008, 1009, 4000 logged as faults) or reconnect after an exponential backoff with
jitter, resuming from the last seq.

Invariants:
- Every wait that touches the network has a timeout: opening (10 s), the welcome (10 s),
  and the websocket keepalive (pings every 20 s) for the rest.
- Presses are paced by a token bucket below the server's per-connection rate limit, so a
  burst of presses waits here rather than being refused there.
- Hardware calls happen in the receiving task, synchronously, in message order.
- The only tasks are the connection's sender, receiver and closer, inside a task group
  that ends with the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import msgpack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from floor.devices.hardware import Button, Hardware, Seats
from floor.devices.link import CLIENT, AfterClose, Link, LinkPhase, Next, after_close
from floor.devices.presses import DEFAULT_LIMIT

logger = logging.getLogger("floor.devices")

SUBPROTOCOL: Final = Subprotocol("floor.v1.msgpack")
MAX_FRAME: Final = 2**24
"""Largest server frame accepted (a welcome of a large meeting is big)."""


def encode(message: Mapping[str, Any]) -> bytes:
    packed: bytes = msgpack.packb(message, use_bin_type=True)
    return packed


def decode(frame: str | bytes) -> list[dict[str, Any]]:
    """Every message of a server frame (a msgpack stream); bad ones are logged and skipped."""
    if not isinstance(frame, bytes):
        logger.warning("ignoring a text frame on a msgpack connection")
        return []
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(frame)
    messages: list[dict[str, Any]] = []
    try:
        for item in unpacker:
            if isinstance(item, dict) and isinstance(item.get("t"), str):
                messages.append(item)
            else:
                logger.warning("ignoring a server message that is not a map with `t`")
    except Exception as e:  # msgpack raises several kinds on garbage
        logger.warning("ignoring the rest of an undecodable frame: %s", type(e).__name__)
    return messages


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnection delays: exponential, capped, with jitter (half to all of the step)."""

    base_s: float = 0.5
    cap_s: float = 30.0
    factor: float = 2.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        step = min(self.cap_s, self.base_s * self.factor ** min(attempt, 64))
        return rng.uniform(step / 2, step)


class Bridge:
    """A device connection that lives through reconnects (see the module's invariants)."""

    def __init__(
        self,
        url: str,
        token: str,
        hardware: Hardware,
        *,
        client: str = CLIENT,
        queue_limit: int = DEFAULT_LIMIT,
        backoff: Backoff | None = None,
        commands_per_s: float = 10.0,
        burst: int = 20,
        open_timeout_s: float = 10.0,
        welcome_timeout_s: float = 10.0,
        retry_pause_s: float = 1.0,
        rng: random.Random | None = None,
        prefix: str | None = None,
    ) -> None:
        self.url = url
        self.link = Link(token, hardware, client=client, queue_limit=queue_limit, prefix=prefix)
        self.backoff = backoff or Backoff()
        self.commands_per_s = commands_per_s
        self.burst = burst
        self.open_timeout_s = open_timeout_s
        self.welcome_timeout_s = welcome_timeout_s
        self.retry_pause_s = retry_pause_s
        self.rng = rng or random.Random()
        self.connection: ClientConnection | None = None
        """The current websocket, if connected (tests cut it to simulate a network fault)."""
        self.stopped: AfterClose | None = None
        """Why `run()` gave up, when a close code said to stop."""
        self.connections = 0
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._tokens = float(burst)
        self._refilled = time.monotonic()

    # --- what the console and the application use ------------------------------------------

    def press(
        self, seat: str, button: Button, *, kind: str | None = None, muted: bool | None = None
    ) -> str:
        """A console button was pressed; its command id. Sent now if online, else later."""
        press = self.link.press(seat, button, kind=kind, muted=muted)
        self._wake.set()
        self._notify()
        return press.id

    @property
    def online(self) -> bool:
        return self.link.phase is LinkPhase.ONLINE

    @property
    def seats(self) -> Seats | None:
        return self.link.seats

    def stop(self) -> None:
        """Close the connection and make `run()` return."""
        self._stop.set()

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `condition()` holds (checked after every change). Raises TimeoutError."""
        async with asyncio.timeout(timeout):
            while not condition():
                changed = self._changed
                await changed.wait()

    async def wait_online(self, timeout: float = 10.0) -> None:
        await self.wait_for(lambda: self.online, timeout)

    async def wait_settled(self, timeout: float = 10.0) -> None:
        """Wait until every press has been answered by the server."""
        await self.wait_for(lambda: self.link.settled, timeout)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # --- the connection loop ---------------------------------------------------------------

    async def run(self) -> AfterClose | None:
        """Connect and serve until `stop()` (None) or a close code that says stop."""
        attempt = 0
        while not self._stop.is_set():
            welcomes = self.link.welcomes
            code: int | None = None
            try:
                async with connect(
                    self.url,
                    subprotocols=[SUBPROTOCOL],
                    open_timeout=self.open_timeout_s,
                    max_size=MAX_FRAME,
                    close_timeout=5,
                ) as ws:
                    self.connection = ws
                    self.connections += 1
                    code = await self._serve(ws)
            except (OSError, TimeoutError, InvalidHandshake) as e:
                logger.info("cannot connect to %s: %s", self.url, e or type(e).__name__)
            finally:
                self.connection = None
                self.link.disconnected()
                self._notify()
            if self._stop.is_set():
                break
            decision = after_close(code)
            if decision.next is Next.STOP:
                (logger.error if decision.fault else logger.warning)(
                    "bridge stopped (close %s): %s", code, decision.explanation
                )
                self.stopped = decision
                self._notify()
                return decision
            attempt = 0 if self.link.welcomes > welcomes else attempt + 1
            delay = self.backoff.delay(attempt, self.rng)
            logger.info("close %s: %s (in %.1f s)", code, decision.explanation, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
        return None

    async def _serve(self, ws: ClientConnection) -> int | None:
        """One connection, from hello to close; the close code received (None: none)."""
        try:
            await ws.send(encode(self.link.hello()))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
        async with asyncio.TaskGroup() as tasks:
            sender = tasks.create_task(self._send_presses(ws))
            closer = tasks.create_task(self._close_on_stop(ws))
            try:
                return await self._receive(ws)
            finally:
                sender.cancel()
                closer.cancel()

    async def _receive(self, ws: ClientConnection) -> int | None:
        try:
            while True:
                if self.link.phase is LinkPhase.AWAITING_WELCOME:
                    frame = await asyncio.wait_for(ws.recv(), self.welcome_timeout_s)
                else:
                    frame = await ws.recv()
                for message in decode(frame):
                    self.link.receive(message)
                    if message["t"] == "welcome":
                        logger.info("online as %s at seq %s", self.link.device, self.link.seq)
                self._wake.set()
                self._notify()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
        except TimeoutError:
            logger.warning("no welcome within %s s; reconnecting", self.welcome_timeout_s)
            return None

    async def _send_presses(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                if self.link.throttled:
                    self.link.throttled = False
                    await asyncio.sleep(self.retry_pause_s)  # the server asked to slow down
                press = self.link.next_unsent()
                if press is None:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                await self._take_token()
                if press.id in self.link.presses and not press.sent:
                    await ws.send(encode(self.link.sent(press)))

    async def _take_token(self) -> None:
        """Pace commands (token bucket: `commands_per_s`, bursts of `burst`)."""
        while True:
            now = time.monotonic()
            rate = self.commands_per_s
            self._tokens = min(float(self.burst), self._tokens + (now - self._refilled) * rate)
            self._refilled = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            await asyncio.sleep((1 - self._tokens) / rate)

    async def _close_on_stop(self, ws: ClientConnection) -> None:
        await self._stop.wait()
        await ws.close(1000, "bridge stopping")
