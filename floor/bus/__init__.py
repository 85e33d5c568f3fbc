"""The bus: change notices that tell every node serving a meeting that its log moved.

Adapters behind one small port (`port.Bus`): `local` (one process: nothing to tell) and
`redis` (sharded pub/sub, on a single Redis server and on a Redis Cluster). Notices are
only a shortcut: they may be lost, so hosts also compare with the log periodically and
whenever a subscription is (re)established. `presence` shares who is online across nodes.
"""
