"""The event log: the only source of truth, behind one small port (`port.EventLog`).

Adapters: `memory` (tests), `sqlite` (the embedded default), `redis` (Streams, for a
cluster of nodes). Every adapter passes the contract suite in tests/contracts/.
"""
