"""How records are checked and stored as text, the same way by every adapter.

A record is kept as compact JSON text (`separators=(",", ":")`, `ensure_ascii=False`),
so what `read` returns is exactly what `json.loads` makes of what was appended: a fresh
map, whatever the adapter. Checking happens on the caller's side, before any storage is
touched, and its failures are `ValueError` (the caller's fault, never a `StoreError`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from floor.store.port import Record


def encode_batch(expected_seq: int, records: Sequence[Record]) -> list[str]:
    """The JSON texts of records numbered `expected_seq + 1 …`; ValueError otherwise."""
    if type(expected_seq) is not int or expected_seq < 0:
        raise ValueError(f"expected_seq must be an int >= 0, not {expected_seq!r}")
    if not records:
        raise ValueError("nothing to append: records is empty")
    texts: list[str] = []
    for index, record in enumerate(records):
        want = expected_seq + 1 + index
        if not isinstance(record, Mapping):
            raise ValueError(f"record {index} is not a map: {type(record).__name__}")
        seq = record.get("seq")
        if type(seq) is not int or seq != want:
            raise ValueError(f"record {index} has seq {seq!r}, expected {want}")
        texts.append(encode(record))
    return texts


def encode(record: Record) -> str:
    """One record's JSON text; ValueError if it is not plain JSON data."""
    try:
        text = json.dumps(dict(record), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")  # lone surrogates cannot be stored as UTF-8 text
    except (TypeError, ValueError) as exc:
        raise ValueError(f"record {record.get('seq')!r} is not JSON data: {exc}") from exc
    return text


def decode(text: str) -> dict[str, Any]:
    """The record stored as `text`."""
    record = json.loads(text)
    assert isinstance(record, dict), "stored records are JSON objects"
    return record


def check_limit(limit: int | None) -> None:
    """A read's `limit` is None (no limit) or an int >= 0; ValueError otherwise."""
    if limit is not None and (type(limit) is not int or limit < 0):
        raise ValueError(f"limit must be None or an int >= 0, not {limit!r}")
