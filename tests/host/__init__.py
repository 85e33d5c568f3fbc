"""Unit tests of the meeting host: the in-memory log and fake outboxes, no sockets."""
