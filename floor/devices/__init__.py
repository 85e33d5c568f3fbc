"""Room integration: the reference bridge to conference-microphone systems, and a simulator.

A bridge is a protocol-v1 client with the `device` role (PROTOCOL.md sections 5 and 6):
console buttons become `seat.request`, `seat.release` and `seat.mute` commands, and the
server's `seats` messages drive the microphones and LEDs. docs/hardware.md is the
integrator's guide; this package is the example it refers to.

- `hardware`: the `Hardware` interface a conference system offers, `Seats` (the desired
  state) and the `Reconciler` that drives one to the other;
- `presses`: presses waiting for the server's answer — bounded, with stable command ids;
- `roster`: who sits at which console (names for console screens);
- `link`: the device protocol, Sans-I/O, and the close-code policy;
- `bridge`: the asyncio websocket driver (msgpack, reconnects with backoff and resume);
- `scenario`, `consoles`, `sim`: the console simulator (`floor console-sim`).
"""

from floor.devices.bridge import Backoff, Bridge
from floor.devices.hardware import Button, Hardware, Reconciler, Seats
from floor.devices.link import AfterClose, Link, Next, after_close

__all__ = [
    "AfterClose",
    "Backoff",
    "Bridge",
    "Button",
    "Hardware",
    "Link",
    "Next",
    "Reconciler",
    "Seats",
    "after_close",
]
