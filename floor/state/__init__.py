"""Floor's pure core: the rules of procedure of a meeting, with no I/O and no clock.

Standard library only (a test enforces it). Time, ids and randomness come in as
arguments. The public surface:

- values: `State` and its parts (`floor.state.model`), events (`floor.state.events`),
  commands (`floor.state.commands`), rejections (`floor.state.rejection`);
- `decide(state, command, actor, now, command_id)` → `Accepted` or `Rejection`;
- `evolve(state, event)` → state, and `fold(events)`;
- views: `event_visible`, `snapshot`, `seats` (`floor.state.views`), the record of
  proceedings (`floor.state.record`), and the wire shapes (`floor.state.wire`).
"""

from floor.state.commands import Command
from floor.state.decide import decide
from floor.state.decision import Accepted
from floor.state.events import Cause, Event, EventData
from floor.state.evolve import evolve, fold
from floor.state.floor_rules import next_deadline
from floor.state.model import State
from floor.state.parsing import parse_admin, parse_command
from floor.state.rejection import Code, Rejection

__all__ = [
    "Accepted",
    "Cause",
    "Code",
    "Command",
    "Event",
    "EventData",
    "Rejection",
    "State",
    "decide",
    "evolve",
    "fold",
    "next_deadline",
    "parse_admin",
    "parse_command",
]
