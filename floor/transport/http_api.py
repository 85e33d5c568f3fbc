"""The admin HTTP API (PROTOCOL.md section 8), mounted at /api; docs/admin-api.md is its manual.

Handlers are short: authenticate, parse the request, call `floor.admin` (every change
is an admin command decided by the meeting's host, so it lands in the log like any
other) or read a host's state or the log, and answer JSON. They decide nothing.

Errors are `{"error": {"code", "message", "field"?}}`. A rejection's code picks the
status from `STATUS`, the one table of it; faults of the request itself (auth, body,
query) are `ApiError`s raised while parsing. A request that gets an error changed
nothing. Bodies are read up to a limit (413 past it), never trusted to be JSON maps.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route

from floor.admin import tables
from floor.admin.service import Admitted
from floor.errors import StoreError, Unavailable, UnknownMeeting
from floor.host import MeetingHost
from floor.protocol.codecs import BadFrame, load_json
from floor.state import Code, Rejection, views, wire
from floor.state.record import record
from floor.tokens import same_secret
from floor.transport.health import services_of

logger = logging.getLogger("floor.http")

MAX_JSON_BODY: Final = 1024 * 1024
MAX_CSV_BODY: Final = 2 * 1024 * 1024
EVENTS_PAGE: Final = 10_000
"""The default and the largest `limit` of one page of /events."""

STATUS: Final[dict[Code, int]] = {
    Code.BAD_MESSAGE: 400,
    Code.UNKNOWN_COMMAND: 400,
    Code.INVALID_ARGS: 400,
    Code.FORBIDDEN: 403,
    Code.NOT_FOUND: 404,
    Code.CONFLICT: 409,
    Code.LIST_CLOSED: 409,
    Code.MEETING_SUSPENDED: 409,
    Code.MEETING_CLOSED: 409,
    Code.RATE_LIMITED: 429,
    Code.INTERNAL: 503,
}

Handler = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    """An answer other than success: its status and error body."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    @classmethod
    def of(cls, rejection: Rejection) -> ApiError:
        return cls(STATUS[rejection.code], rejection.code, rejection.message, rejection.field)

    def response(self) -> Response:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        headers = {}
        if self.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        elif self.status in (429, 503):
            headers["Retry-After"] = "1"
        return JSONResponse({"error": body}, self.status, headers)


T = TypeVar("T")


def _ok(outcome: T | Rejection) -> T:
    """The outcome of an admin call, or the ApiError of its rejection."""
    if isinstance(outcome, Rejection):
        raise ApiError.of(outcome)
    return outcome


# --- the request's parts ------------------------------------------------------------------


def _authenticate(request: Request) -> None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(401, "unauthorized", "Send the admin token: Authorization: Bearer …")
    if not same_secret(given.strip(), services_of(request).admin_token):
        raise ApiError(403, "forbidden", "The admin token is wrong.")


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "bad_message", f"The body is larger than {limit // 1024} KiB.")


async def _json_object(request: Request) -> dict[str, Any]:
    """The body, a JSON object (read as the protocol reads JSON: no NaN, no lone surrogate,
    which the log could not store). Anything else is a 400 and changes nothing."""
    raw = await _body(request, MAX_JSON_BODY)
    try:
        body = load_json(raw.decode(json.detect_encoding(raw)))  # strict: no raw surrogates
    except (BadFrame, UnicodeDecodeError):
        raise ApiError(400, "bad_message", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, Code.INVALID_ARGS, "The body must be a JSON object.", "body")
    return body


def _query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18 and low <= int(raw) <= high):
        raise ApiError(
            400, Code.INVALID_ARGS, f"`{name}` must be an integer from {low} to {high}.", name
        )
    return int(raw)


async def _host(request: Request) -> MeetingHost:
    """The host of the meeting in the path (raises UnknownMeeting)."""
    return await services_of(request).hosts.get(request.path_params["meeting"])


async def _epoch(request: Request) -> tuple[str, str]:
    """The meeting in the path and its log's epoch, without starting its host."""
    meeting: str = request.path_params["meeting"]
    epoch = await services_of(request).log.epoch(meeting)
    if epoch is None:
        raise UnknownMeeting(meeting)
    return meeting, epoch


def _accepts_csv(request: Request) -> bool:
    for part in request.headers.get("accept", "").split(","):
        media, *params = (p.strip().lower() for p in part.split(";"))
        if media == "text/csv" and not any(p.replace(" ", "") in ("q=0", "q=0.0") for p in params):
            return True
    return False


# --- the endpoints ------------------------------------------------------------------------


async def create_meeting(request: Request) -> Response:
    body = await _json_object(request)
    meeting = _ok(
        await services_of(request).admin.create_meeting(body.get("title"), body.get("settings"))
    )
    return JSONResponse({"id": meeting}, 201)


async def get_meeting(request: Request) -> Response:
    host = await _host(request)
    state = host.state
    assert state.meeting is not None  # every log starts with meeting.created
    snapshot = views.admin_snapshot(state)
    snapshot["presence"] = host.presence()
    return JSONResponse(
        {"meeting": host.meeting, "epoch": host.epoch, "seq": state.seq, "state": snapshot}
    )


def _admitted(admitted: Admitted, *, link: bool = True, name: bool = False) -> dict[str, Any]:
    plain: dict[str, Any] = {"id": admitted.id}
    if name:
        plain["name"] = admitted.name
    plain["token"] = admitted.token
    if link:
        plain["link"] = admitted.link
    return plain


async def add_participant(request: Request) -> Response:
    host = await _host(request)
    body = await _json_object(request)
    admitted = _ok(await services_of(request).admin.add_participant(host.meeting, body))
    return JSONResponse(_admitted(admitted), 201)


async def _participant(request: Request) -> tuple[MeetingHost, str]:
    """The host and the participant in the path (404 for a participant not in the meeting,
    whatever the id looks like: a path names a resource, it is not a command argument)."""
    host = await _host(request)
    pid: str = request.path_params["participant"]
    if pid not in host.state.participants:
        raise ApiError(404, Code.NOT_FOUND, f"No participant {pid[:64]}.")
    return host, pid


async def update_participant(request: Request) -> Response:
    host, pid = await _participant(request)
    body = await _json_object(request)
    participant = _ok(await services_of(request).admin.update_participant(host.meeting, pid, body))
    return JSONResponse(wire.participant_to_wire(participant))


async def remove_participant(request: Request) -> Response:
    host, pid = await _participant(request)
    _ok(await services_of(request).admin.remove_participant(host.meeting, pid))
    return Response(status_code=204)


async def import_participants(request: Request) -> Response:
    host = await _host(request)
    try:
        roster = tables.read_roster(await _body(request, MAX_CSV_BODY))
    except tables.BadTable as bad:
        if bad.column is not None:
            raise ApiError(400, Code.INVALID_ARGS, bad.message, bad.column) from None
        raise ApiError(400, "bad_message", bad.message) from None
    admin = services_of(request).admin
    created: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = [
        {"row": number, "message": message} for number, message in roster.errors
    ]
    for number, row in roster.rows:
        outcome = await admin.add_participant(host.meeting, row)
        if isinstance(outcome, Rejection):
            error: dict[str, Any] = {"row": number, "message": outcome.message}
            if outcome.field is not None:
                error["field"] = outcome.field
            errors.append(error)
        else:
            created.append(_admitted(outcome, name=True))
    errors.sort(key=lambda error: error["row"])
    return JSONResponse({"created": created, "errors": errors}, 201 if created else 200)


async def add_device(request: Request) -> Response:
    host = await _host(request)
    body = await _json_object(request)
    admitted = _ok(await services_of(request).admin.add_device(host.meeting, body))
    return JSONResponse(_admitted(admitted, link=False), 201)


async def get_record(request: Request) -> Response:
    meeting, _ = await _epoch(request)
    records = await services_of(request).log.read(meeting)
    proceedings = record(wire.event_from_record(r) for r in records)
    if _accepts_csv(request):
        return Response(
            tables.speeches_csv(proceedings.speeches),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="record-{meeting}.csv"'},
        )
    return JSONResponse(proceedings.to_wire())


async def get_events(request: Request) -> Response:
    meeting, epoch = await _epoch(request)
    after = _query_int(request, "after", 0, 0, 2**62)
    limit = _query_int(request, "limit", EVENTS_PAGE, 1, EVENTS_PAGE)
    records = await services_of(request).log.read(meeting, after=after, limit=limit + 1)
    events = [wire.event_to_wire(wire.event_from_record(r)) for r in records[:limit]]
    return JSONResponse({"epoch": epoch, "events": events, "more": len(records) > limit})


# --- routing ------------------------------------------------------------------------------


def _endpoint(handler: Handler) -> Handler:
    """Authentication first, then the handler, with every failure answered as JSON."""

    async def endpoint(request: Request) -> Response:
        try:
            _authenticate(request)
            return await handler(request)
        except ApiError as error:
            return error.response()
        except UnknownMeeting as unknown:
            return ApiError(404, Code.NOT_FOUND, f"No meeting {str(unknown)[:64]}.").response()
        except (Unavailable, StoreError):
            logger.warning("%s %s: unavailable", request.method, request.url.path, exc_info=True)
            return ApiError(503, "unavailable", "The meeting is unavailable; retry.").response()
        except Exception:
            logger.exception("%s %s failed", request.method, request.url.path)
            return ApiError(500, Code.INTERNAL, "Internal error.").response()

    return endpoint


_MEETING = "/meetings/{meeting}"
_PARTICIPANT = _MEETING + "/participants/{participant}"
_ROUTES: Final[list[tuple[str, list[str], Handler]]] = [
    ("/meetings", ["POST"], create_meeting),
    (_MEETING, ["GET"], get_meeting),
    (_MEETING + "/participants", ["POST"], add_participant),
    (_MEETING + "/participants/import", ["POST"], import_participants),
    (_PARTICIPANT, ["PATCH"], update_participant),
    (_PARTICIPANT, ["DELETE"], remove_participant),
    (_MEETING + "/devices", ["POST"], add_device),
    (_MEETING + "/record", ["GET"], get_record),
    (_MEETING + "/events", ["GET"], get_events),
]


def routes() -> list[BaseRoute]:
    api: list[BaseRoute] = [
        Route(path, _endpoint(handler), methods=methods) for path, methods, handler in _ROUTES
    ]

    async def nowhere(request: Request) -> Response:
        """No route matched fully: 405 if the path exists for another method, else 404."""
        if any(route.matches(request.scope)[0] is Match.PARTIAL for route in api):
            raise ApiError(405, "bad_message", f"{request.method} is not allowed here.")
        raise ApiError(404, Code.NOT_FOUND, "No such endpoint.")

    every = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return [*api, Route("/{rest:path}", _endpoint(nowhere), methods=every)]
