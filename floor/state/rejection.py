"""Rejections: why a command changed nothing, with the protocol's stable error code.

A rejection is a value, not an exception: `decide` and the command parsers return
it. Its `code` is one of PROTOCOL.md section 7; `field` names the offending
argument (dotted when nested) for `invalid_args`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Code(enum.StrEnum):
    BAD_MESSAGE = "bad_message"
    UNKNOWN_COMMAND = "unknown_command"
    INVALID_ARGS = "invalid_args"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    LIST_CLOSED = "list_closed"
    MEETING_SUSPENDED = "meeting_suspended"
    MEETING_CLOSED = "meeting_closed"
    RATE_LIMITED = "rate_limited"
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class Rejection:
    code: Code
    message: str
    field: str | None = None


def invalid(field: str, message: str) -> Rejection:
    return Rejection(Code.INVALID_ARGS, message, field)


def forbidden(message: str) -> Rejection:
    return Rejection(Code.FORBIDDEN, message)


def not_found(message: str) -> Rejection:
    return Rejection(Code.NOT_FOUND, message)


def conflict(message: str) -> Rejection:
    return Rejection(Code.CONFLICT, message)
