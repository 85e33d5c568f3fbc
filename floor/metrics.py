"""Prometheus metrics of one server process (served at /metrics).

Each app has its own registry, so that several apps (tests) never share counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge("floor_connections", "Open websocket connections.", registry=r)
        self.commands = Counter("floor_commands", "Commands received over /ws.", registry=r)
        self.events = Counter("floor_events", "Events appended to the log.", registry=r)
        self.bad_messages = Counter(
            "floor_bad_messages", "Client messages answered with an error.", registry=r
        )
        self.send_overflows = Counter(
            "floor_send_overflows", "Connections closed 4008 for falling behind.", registry=r
        )
        self.meetings = Gauge("floor_meetings", "Meetings hosted on this node.", registry=r)
        self.fanout_seconds = Histogram(
            "floor_fanout_seconds",
            "From a batch's decision to its events handed to every connection.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=r,
        )

    def observe_fanout(self, events: int, frames: int, seconds: float) -> None:
        self.events.inc(events)
        self.fanout_seconds.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
