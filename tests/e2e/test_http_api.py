"""The admin HTTP API (PROTOCOL.md section 8) against a real `floor serve`, over real HTTP."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ADMIN_TOKEN, Client, Meeting, Server

CSV_HEADER = "name,delegation,role,attendance,seat,lang\n"
SPEECH_COLUMNS = [
    "participant",
    "name",
    "delegation",
    "kind",
    "lang",
    "start",
    "end",
    "seconds",
    "interrupted_by",
]


@pytest.fixture
def http(shared_server: Server) -> Iterator[httpx.Client]:
    """An admin client of the shared server."""
    with httpx.Client(
        base_url=shared_server.base,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    ) as client:
        yield client


@pytest.fixture
def meeting(shared_server: Server) -> Meeting:
    """A new meeting on the shared server."""
    return shared_server.api.create_meeting("Committee")


def error_of(r: httpx.Response) -> dict[str, Any]:
    assert r.headers["content-type"].startswith("application/json"), r.text
    body: dict[str, Any] = r.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert isinstance(error["message"], str), error
    assert error["message"], error
    return error


def seq_of(meeting: Meeting) -> int:
    seq: int = meeting.state()["seq"]
    return seq


def import_csv(http: httpx.Client, meeting: Meeting, data: bytes) -> httpx.Response:
    return http.post(
        f"/api/meetings/{meeting.id}/participants/import",
        content=data,
        headers={"Content-Type": "text/csv"},
    )


# --- success shapes ---------------------------------------------------------------------------


def test_create_meeting_answers_201_with_its_id_and_settings(http: httpx.Client) -> None:
    """POST /meetings creates a meeting (201 {id}) with the given title and settings."""
    r = http.post("/api/meetings", json={"title": "Plenary", "settings": {"default_limit_s": 90}})
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"id"}
    state = http.get(f"/api/meetings/{r.json()['id']}").json()["state"]
    assert state["meeting"]["title"] == "Plenary"
    assert state["meeting"]["settings"]["default_limit_s"] == 90


def test_get_meeting_answers_the_full_state(http: httpx.Client, meeting: Meeting) -> None:
    """GET /meetings/{id} gives meeting, epoch, seq and the chair's state with presence."""
    delegate = meeting.add("Ana", "Brazil", seat="B1", lang="pt")
    device = meeting.device("Room 1", ["B1", "B2"])
    r = http.get(f"/api/meetings/{meeting.id}")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"meeting", "epoch", "seq", "state"}
    assert body["meeting"] == meeting.id
    assert isinstance(body["epoch"], str)
    assert body["epoch"]
    assert body["seq"] == 3
    state = body["state"]
    assert {
        "meeting",
        "participants",
        "queue",
        "floor",
        "interrupted",
        "list_open",
        "chat",
        "seats",
        "presence",
    } <= set(state)
    assert state["participants"][delegate["id"]]["seat"] == "B1"
    assert state["seats"] == {"B1": delegate["id"]}
    assert state["devices"][device["id"]]["seats"] == ["B1", "B2"]
    assert state["presence"] == {delegate["id"]: False}
    assert state["floor"] is None
    assert state["queue"] == []
    assert state["chat"] == []


def test_add_participant_answers_id_token_and_link(http: httpx.Client, meeting: Meeting) -> None:
    """POST /participants answers 201 {id, token, link}; the link opens the role's page."""
    r = http.post(
        f"/api/meetings/{meeting.id}/participants",
        json={"name": "Chair", "delegation": "UN", "role": "chair", "attendance": "onsite"},
    )
    assert r.status_code == 201, r.text
    chair = r.json()
    assert set(chair) == {"id", "token", "link"}
    assert chair["link"].endswith(f"/chair#token={chair['token']}")
    delegate = meeting.add("Ben", "Kenya", lang="sw")
    assert delegate["link"].endswith(f"/join#token={delegate['token']}")
    assert delegate["token"] != chair["token"]
    participant = meeting.state()["state"]["participants"][delegate["id"]]
    assert participant["name"] == "Ben"
    assert participant["role"] == "delegate"
    assert participant["lang"] == "sw"


def test_patch_participant_answers_the_changed_participant(
    http: httpx.Client, meeting: Meeting
) -> None:
    """PATCH changes only the given fields and answers the whole participant."""
    p = meeting.add("Cleo", "Ghana", seat="C1")
    r = http.patch(
        f"/api/meetings/{meeting.id}/participants/{p['id']}",
        json={"name": "Cleo A.", "role": "observer", "lang": "en"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "id": p["id"],
        "name": "Cleo A.",
        "delegation": "Ghana",
        "role": "observer",
        "attendance": "onsite",
        "seat": "C1",
        "lang": "en",
        "self_muted": False,
        "hard_muted": False,
    }
    assert meeting.state()["state"]["participants"][p["id"]] == r.json()


def test_patch_participant_with_null_seat_clears_it(http: httpx.Client, meeting: Meeting) -> None:
    """PATCH {seat: null} frees the seat."""
    p = meeting.add("Dara", "Chad", seat="D1")
    r = http.patch(
        f"/api/meetings/{meeting.id}/participants/{p['id']}",
        json={"seat": None, "attendance": "remote"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["seat"] is None
    assert meeting.state()["state"]["seats"] == {}


def test_delete_participant_answers_204(http: httpx.Client, meeting: Meeting) -> None:
    """DELETE removes the participant: 204, no body, gone from the state, in the log."""
    p = meeting.add("Eli", "Fiji")
    r = http.delete(f"/api/meetings/{meeting.id}/participants/{p['id']}")
    assert r.status_code == 204
    assert r.content == b""
    assert p["id"] not in meeting.state()["state"]["participants"]
    last = meeting.events()[-1]
    assert last["name"] == "participant.removed"
    assert last["by"] == "admin"


def test_add_device_answers_id_and_token(http: httpx.Client, meeting: Meeting) -> None:
    """POST /devices answers 201 {id, token}; the device is in the state."""
    r = http.post(f"/api/meetings/{meeting.id}/devices", json={"name": "Hall", "seats": ["H1"]})
    assert r.status_code == 201, r.text
    device = r.json()
    assert set(device) == {"id", "token"}
    assert meeting.state()["state"]["devices"][device["id"]] == {
        "id": device["id"],
        "name": "Hall",
        "seats": ["H1"],
    }


# --- authentication -----------------------------------------------------------------------------

ENDPOINTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/meetings", {"json": {"title": "Intruder"}}),
    ("GET", "/api/meetings/{m}", {}),
    (
        "POST",
        "/api/meetings/{m}/participants",
        {"json": {"name": "X", "delegation": "X", "role": "chair"}},
    ),
    ("PATCH", "/api/meetings/{m}/participants/{p}", {"json": {"role": "chair"}}),
    (
        "POST",
        "/api/meetings/{m}/participants/import",
        {"content": b"name,delegation,role\nX,X,chair\n"},
    ),
    ("DELETE", "/api/meetings/{m}/participants/{p}", {}),
    ("POST", "/api/meetings/{m}/devices", {"json": {"name": "X", "seats": ["X1"]}}),
    ("GET", "/api/meetings/{m}/record", {}),
    ("GET", "/api/meetings/{m}/events", {}),
]
ENDPOINT_IDS = [f"{method} {path}" for method, path, _ in ENDPOINTS]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthorized"),
        ({"Authorization": f"Basic {ADMIN_TOKEN}"}, 401, "unauthorized"),
        ({"Authorization": "Bearer"}, 401, "unauthorized"),
        ({"Authorization": "Bearer not-the-token"}, 403, "forbidden"),
        ({"Authorization": f"Bearer {ADMIN_TOKEN}x"}, 403, "forbidden"),
    ],
    ids=["none", "basic", "empty", "wrong", "longer"],
)
def test_every_endpoint_needs_the_admin_token(
    shared_server: Server,
    meeting: Meeting,
    method: str,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    """No bearer token: 401; a wrong one: 403; either way nothing changes."""
    p = meeting.add("Fay", "Laos")
    before = meeting.state()
    url = path.format(m=meeting.id, p=p["id"])
    with httpx.Client(base_url=shared_server.base, timeout=10) as anonymous:
        r = anonymous.request(method, url, headers=headers, **body)
    assert r.status_code == status, r.text
    assert error_of(r)["code"] == code
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"
    assert meeting.state() == before


# --- request errors ---------------------------------------------------------------------------

BAD_BODIES: list[tuple[str, str, bytes, str, str | None]] = [
    ("POST", "/api/meetings", b'{"title": "x"', "bad_message", None),
    ("POST", "/api/meetings", b"\xff\xfe", "bad_message", None),
    ("POST", "/api/meetings", b'{"title": NaN}', "bad_message", None),
    ("POST", "/api/meetings", b"[1]", "invalid_args", "body"),
    ("POST", "/api/meetings", b"{}", "invalid_args", "title"),
    ("POST", "/api/meetings", b'{"title": 5}', "invalid_args", "title"),
    ("POST", "/api/meetings", json.dumps({"title": "x" * 201}).encode(), "invalid_args", "title"),
    ("POST", "/api/meetings", b'{"title": "t", "settings": []}', "invalid_args", "settings"),
    (
        "POST",
        "/api/meetings",
        b'{"title": "t", "settings": {"floor_mode": "fast"}}',
        "invalid_args",
        "settings.floor_mode",
    ),
    (
        "POST",
        "/api/meetings",
        b'{"title": "t", "settings": {"default_limit_s": "60"}}',
        "invalid_args",
        "settings.default_limit_s",
    ),
    ("POST", "/api/meetings/{m}/participants", b"", "bad_message", None),
    ("POST", "/api/meetings/{m}/participants", b"null", "invalid_args", "body"),
    (
        "POST",
        "/api/meetings/{m}/participants",
        b'{"name": "A", "delegation": "X", "role": "king"}',
        "invalid_args",
        "role",
    ),
    (
        "POST",
        "/api/meetings/{m}/participants",
        b'{"name": "A", "delegation": "X", "role": "device"}',
        "invalid_args",
        "role",
    ),
    (
        "POST",
        "/api/meetings/{m}/participants",
        b'{"name": 5, "delegation": "X", "role": "delegate"}',
        "invalid_args",
        "name",
    ),
    (
        "POST",
        "/api/meetings/{m}/participants",
        b'{"name": "A", "role": "delegate"}',
        "invalid_args",
        "delegation",
    ),
    (
        "POST",
        "/api/meetings/{m}/participants",
        b'{"name": "A", "delegation": "X", "role": "delegate", "attendance": "moon"}',
        "invalid_args",
        "attendance",
    ),
    (
        "POST",
        "/api/meetings/{m}/participants",
        b'{"name": "A", "delegation": "X", "role": "delegate", "lang": "!!"}',
        "invalid_args",
        "lang",
    ),
    (
        "POST",
        "/api/meetings/{m}/participants",
        b'{"name": "A", "delegation": "X", "role": "delegate", "seat": 7}',
        "invalid_args",
        "seat",
    ),
    ("PATCH", "/api/meetings/{m}/participants/{p}", b"[]", "invalid_args", "body"),
    ("PATCH", "/api/meetings/{m}/participants/{p}", b"{", "bad_message", None),
    ("PATCH", "/api/meetings/{m}/participants/{p}", b'{"role": "god"}', "invalid_args", "role"),
    ("PATCH", "/api/meetings/{m}/participants/{p}", b'{"name": ""}', "invalid_args", "name"),
    (
        "PATCH",
        "/api/meetings/{m}/participants/{p}",
        json.dumps({"delegation": "x" * 201}).encode(),
        "invalid_args",
        "delegation",
    ),
    ("POST", "/api/meetings/{m}/devices", b'"room"', "invalid_args", "body"),
    ("POST", "/api/meetings/{m}/devices", b'{"seats": []}', "invalid_args", "name"),
    (
        "POST",
        "/api/meetings/{m}/devices",
        b'{"name": "R", "seats": "A1"}',
        "invalid_args",
        "seats",
    ),
    (
        "POST",
        "/api/meetings/{m}/devices",
        b'{"name": "R", "seats": [1]}',
        "invalid_args",
        "seats.0",
    ),
    (  # a lone surrogate: the log could not store it (it was a 503 failing the whole batch)
        "POST",
        "/api/meetings/{m}/participants",
        b'{"name": "\\ud800", "delegation": "X", "role": "delegate"}',
        "bad_message",
        None,
    ),
    ("PATCH", "/api/meetings/{m}/participants/{p}", b'{"name": "A\\udfff"}', "bad_message", None),
    (
        "PATCH",
        "/api/meetings/{m}/participants/{p}",
        b'{"name": "A\xed\xa0\x80"}',
        "bad_message",
        None,
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "content", "code", "field"),
    BAD_BODIES,
    ids=[f"{m} {p.rsplit('/', 1)[-1]} {c[:30]!r}" for m, p, c, _, _ in BAD_BODIES],
)
def test_a_bad_body_is_400_naming_the_field_and_changes_nothing(
    http: httpx.Client,
    meeting: Meeting,
    method: str,
    path: str,
    content: bytes,
    code: str,
    field: str | None,
) -> None:
    """Malformed JSON, a non-object, wrong types, unknown values, long strings: 400, no change."""
    p = meeting.add("Gil", "Oman", seat="G1")
    before = meeting.state()
    r = http.request(
        method,
        path.format(m=meeting.id, p=p["id"]),
        content=content,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text
    error = error_of(r)
    assert error["code"] == code
    assert error.get("field") == field
    assert meeting.state() == before


def test_a_json_body_in_utf8_with_a_bom_or_in_utf16_is_read(
    http: httpx.Client, meeting: Meeting
) -> None:
    """JSON's own encodings are accepted (RFC 8259 section 8.1 readers may ignore a BOM)."""
    p = meeting.add("Gil", "Oman")
    for body in (b"\xef\xbb\xbf" + b'{"name": "Gil A"}', '{"name": "Gil B"}'.encode("utf-16")):
        r = http.patch(f"/api/meetings/{meeting.id}/participants/{p['id']}", content=body)
        assert r.status_code == 200, r.text
    assert r.json()["name"] == "Gil B"


def test_a_json_body_over_the_limit_is_413(http: httpx.Client, meeting: Meeting) -> None:
    """A JSON body larger than 1 MiB is refused with 413."""
    big = json.dumps({"title": "x" * (1024 * 1024)}).encode()
    r = http.post("/api/meetings", content=big)
    assert r.status_code == 413
    assert error_of(r)["code"] == "bad_message"


MEETING_ENDPOINTS = ENDPOINTS[1:]


@pytest.mark.parametrize(("method", "path", "body"), MEETING_ENDPOINTS, ids=ENDPOINT_IDS[1:])
def test_an_unknown_meeting_is_404(
    http: httpx.Client, method: str, path: str, body: dict[str, Any]
) -> None:
    """Every meeting endpoint answers 404 not_found for a meeting that does not exist."""
    r = http.request(method, path.format(m="m-nosuchthing", p="p-2"), **body)
    assert r.status_code == 404, r.text
    assert error_of(r)["code"] == "not_found"


@pytest.mark.parametrize(("method", "body"), [("PATCH", {"json": {"name": "Z"}}), ("DELETE", {})])
def test_an_unknown_participant_is_404(
    http: httpx.Client, meeting: Meeting, method: str, body: dict[str, Any]
) -> None:
    """PATCH and DELETE of a participant who is not in the meeting: 404 not_found."""
    for pid in ("p-999", "p-" + "9" * 100):
        r = http.request(method, f"/api/meetings/{meeting.id}/participants/{pid}", **body)
        assert r.status_code == 404, r.text
        assert error_of(r)["code"] == "not_found"


def test_unknown_paths_and_methods_answer_json(http: httpx.Client, meeting: Meeting) -> None:
    """An unknown API path is a JSON 404; a known path with another method a JSON 405."""
    r = http.get("/api/nothing/here")
    assert r.status_code == 404
    assert error_of(r)["code"] == "not_found"
    r = http.delete(f"/api/meetings/{meeting.id}")
    assert r.status_code == 405
    assert error_of(r)["code"] == "bad_message"


def test_a_taken_seat_is_409(http: httpx.Client, meeting: Meeting) -> None:
    """A seat someone holds, or a seat in another device's room: 409 conflict, no change."""
    holder = meeting.add("Hana", "Peru", seat="H1")
    other = meeting.add("Ivo", "Cuba")
    meeting.device("Room A", ["H1", "H2"])
    before = meeting.state()
    attempts = [
        http.post(
            f"/api/meetings/{meeting.id}/participants",
            json={"name": "Jo", "delegation": "Iraq", "role": "delegate", "seat": "H1"},
        ),
        http.patch(f"/api/meetings/{meeting.id}/participants/{other['id']}", json={"seat": "H1"}),
        http.patch(
            f"/api/meetings/{meeting.id}/participants/{holder['id']}", json={"role": "display"}
        ),
        http.post(f"/api/meetings/{meeting.id}/devices", json={"name": "B", "seats": ["H2"]}),
    ]
    for r in attempts:
        assert r.status_code == 409, r.text
        assert error_of(r)["code"] == "conflict"
    assert meeting.state() == before


def test_a_saturated_meeting_is_429(tmp_path: Path) -> None:
    """When the meeting host's queue is full, the API answers 429 rate_limited."""
    server = Server(tmp_path / "data", env={"FLOOR_HOST_QUEUE": "0"}).start()
    try:
        r = server.api.http.post("/api/meetings", json={"title": "Busy"})
        assert r.status_code == 429, r.text
        assert error_of(r)["code"] == "rate_limited"
        assert r.headers["retry-after"] == "1"
    finally:
        server.close()


def test_a_meeting_whose_log_cannot_be_loaded_is_503(server: Server) -> None:
    """A meeting whose host cannot load its log answers 503 unavailable, and others still work."""
    broken = server.api.create_meeting("Broken")
    server.stop()
    with sqlite3.connect(server.data / "floor.db") as db:
        (head,) = db.execute("SELECT head FROM meetings WHERE meeting = ?", (broken.id,)).fetchone()
        record = {"seq": head + 1, "at": 0, "by": "admin", "name": "no.such.event", "data": {}}
        db.execute(
            "INSERT INTO records (meeting, seq, record) VALUES (?, ?, ?)",
            (broken.id, head + 1, json.dumps(record)),
        )
        db.execute("UPDATE meetings SET head = ? WHERE meeting = ?", (head + 1, broken.id))
    db.close()
    server.start()
    r = server.api.http.get(f"/api/meetings/{broken.id}")
    assert r.status_code == 503, r.text
    assert error_of(r)["code"] == "unavailable"
    assert server.api.create_meeting("Fine").state()["state"]["meeting"]["title"] == "Fine"


# --- CSV import -------------------------------------------------------------------------------


def test_import_creates_good_rows_and_reports_bad_ones(
    http: httpx.Client, meeting: Meeting
) -> None:
    """A BOM-prefixed CSV: good rows are created, each bad row is reported by its row number."""
    data = (
        "\ufeffName,Delegation,Role,Attendance,Seat,Lang\n"
        "Alice,France,delegate,onsite,A1,fr\n"  # row 2
        ",Germany,delegate,remote,,\n"  # row 3: no name
        "Bob,Italy,emperor,remote,,\n"  # row 4: unknown role
        "Carol,Spain,delegate,onsite,A1,\n"  # row 5: seat taken by Alice
        "Dan,Peru,delegate,sometimes,,\n"  # row 6: wrong attendance
        '"Eve, Jr.",Côte d\'Ivoire,observer,remote,,es\n'  # row 7
    ).encode()
    r = import_csv(http, meeting, data)
    assert r.status_code == 201, r.text
    body = r.json()
    assert [c["name"] for c in body["created"]] == ["Alice", "Eve, Jr."]
    for created in body["created"]:
        assert set(created) == {"id", "name", "token", "link"}
        assert created["link"].endswith(f"#token={created['token']}")
    errors = {e["row"]: e for e in body["errors"]}
    assert sorted(errors) == [3, 4, 5, 6]
    assert errors[3]["field"] == "name"
    assert errors[4]["field"] == "role"
    assert "A1" in errors[5]["message"]
    assert errors[6]["field"] == "attendance"
    participants = meeting.state()["state"]["participants"]
    alice = participants[body["created"][0]["id"]]
    assert (alice["delegation"], alice["seat"], alice["lang"]) == ("France", "A1", "fr")
    eve = participants[body["created"][1]["id"]]
    assert (eve["delegation"], eve["role"], eve["lang"]) == ("Côte d'Ivoire", "observer", "es")
    assert len(participants) == 2


def test_import_reads_utf8_without_bom(http: httpx.Client, meeting: Meeting) -> None:
    """A CSV without BOM, columns in any order and optional ones left out, is read."""
    data = "role,delegation,name\r\ndelegate,Türkiye,Zeynep\r\nchair,UN,Ōno\r\n".encode()
    r = import_csv(http, meeting, data)
    assert r.status_code == 201, r.text
    assert r.json()["errors"] == []
    created = r.json()["created"]
    assert [c["name"] for c in created] == ["Zeynep", "Ōno"]
    assert "/chair#token=" in created[1]["link"]
    state = meeting.state()["state"]
    assert state["participants"][created[0]["id"]]["delegation"] == "Türkiye"


def test_import_numbers_rows_as_a_spreadsheet_does(http: httpx.Client, meeting: Meeting) -> None:
    """A quoted multi-line cell is one row and blank rows are skipped but counted."""
    data = (
        CSV_HEADER
        + '"Two\nlines",X,delegate,,,\n'  # row 2
        + "\n"  # row 3: blank
        + ",,,,,\n"  # row 4: blank cells
        + "Nobody,X,nobody,,,\n"  # row 5
        + "Extra,X,delegate,,,,surplus\n"  # row 6: a cell past the header
        + "Trailing,X,delegate,,,,,\n"  # row 7: empty cells past the header are fine
    ).encode()
    r = import_csv(http, meeting, data)
    assert r.status_code == 201, r.text
    body = r.json()
    assert [c["name"] for c in body["created"]] == ["Two\nlines", "Trailing"]
    assert [e["row"] for e in body["errors"]] == [5, 6]


def test_import_with_only_bad_rows_answers_200(http: httpx.Client, meeting: Meeting) -> None:
    """Nothing created: 200 with every row in errors."""
    r = import_csv(http, meeting, (CSV_HEADER + "A,X,king,,,\nB,,delegate,,,\n").encode())
    assert r.status_code == 200, r.text
    assert r.json()["created"] == []
    assert [e["row"] for e in r.json()["errors"]] == [2, 3]


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        (b"", "bad_message", None),
        (b"\n\n", "bad_message", None),
        (b"name,delegation,role\n\xff\xfeX,Y,delegate\n", "bad_message", None),
        (b"name,delegation\nA,B\n", "invalid_args", "role"),
        (b"name,delegation,role,colour\nA,B,delegate,red\n", "invalid_args", "colour"),
        (b"name,delegation,role,name\nA,B,delegate,C\n", "bad_message", None),
    ],
    ids=["empty", "blank", "not-utf8", "no-role-column", "unknown-column", "twice"],
)
def test_import_refuses_a_file_it_cannot_read(
    http: httpx.Client, meeting: Meeting, data: bytes, code: str, field: str | None
) -> None:
    """No header, not UTF-8, a missing, unknown or doubled column: 400 and nothing created."""
    before = meeting.state()
    r = import_csv(http, meeting, data)
    assert r.status_code == 400, r.text
    error = error_of(r)
    assert error["code"] == code
    assert error.get("field") == field
    assert meeting.state() == before


def test_import_over_the_size_limit_is_413(http: httpx.Client, meeting: Meeting) -> None:
    """A CSV over 2 MiB is refused with 413 and nothing is created."""
    row = "Someone,Somewhere,delegate,remote,,\n"
    data = (CSV_HEADER + row * (2 * 1024 * 1024 // len(row) + 1)).encode()
    r = import_csv(http, meeting, data)
    assert r.status_code == 413
    assert error_of(r)["code"] == "bad_message"
    assert meeting.state()["state"]["participants"] == {}


# --- tokens and connections -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_new_token_joins_and_delete_closes_it_for_good(
    shared_server: Server, meeting: Meeting
) -> None:
    """The POSTed token admits a hello; DELETE closes that connection 4003; then it gets 4001."""
    p = meeting.add("Kim", "Nepal")
    async with Client.connect(shared_server, p["token"]) as client:
        assert client.welcome["you"] == {"participant": p["id"], "role": "delegate"}
        assert client.welcome["meeting"] == meeting.id
        r = meeting.api.http.delete(f"/api/meetings/{meeting.id}/participants/{p['id']}")
        assert r.status_code == 204
        assert await client.closed() == 4003
    async with Client.connect(shared_server) as again:
        await again.send({"t": "hello", "v": 1, "token": p["token"]})
        assert await again.closed() == 4001


@pytest.mark.asyncio
async def test_imported_and_device_tokens_join(shared_server: Server, meeting: Meeting) -> None:
    """Tokens from the CSV import and from POST /devices admit their holders."""
    r = meeting.api.http.post(
        f"/api/meetings/{meeting.id}/participants/import",
        content=b"name,delegation,role,seat\nLea,Mali,delegate,L1\n",
    )
    lea = r.json()["created"][0]
    device = meeting.device("Room L", ["L1"])
    async with Client.connect(shared_server, lea["token"]) as client:
        assert client.welcome["you"]["participant"] == lea["id"]
    async with Client.connect(shared_server, device["token"]) as console:
        assert console.welcome["you"] == {"device": device["id"], "role": "device"}
        seats = await console.next("seats")
        assert seats["live"] == []


# --- chat and presence in the state ----------------------------------------------------------


@pytest.mark.asyncio
async def test_get_meeting_has_every_chat_message_the_chair_may_see(tmp_path: Path) -> None:
    """All chat visible to the chair (past the welcome's window), none private to others."""
    server = Server(
        tmp_path / "data", env={"FLOOR_COMMANDS_PER_S": "100000", "FLOOR_COMMAND_BURST": "100000"}
    ).start()
    try:
        meeting = server.api.create_meeting("Chatty")
        chair = meeting.add("Chair", "UN", role="chair")
        a = meeting.add("Ann", "Togo")
        b = meeting.add("Bo", "Iran")
        async with (
            Client.connect(server, chair["token"]),
            Client.connect(server, a["token"]) as ann,
        ):
            for i in range(230):
                assert (await ann.command("chat.send", {"to": "all", "text": f"m{i}"}))[
                    "t"
                ] == "ack"
            for to in ("chair", chair["id"], b["id"]):
                ack = await ann.command("chat.send", {"to": to, "text": f"to {to}"})
                assert ack["t"] == "ack"
            body = meeting.state()
        chat = body["state"]["chat"]
        assert [m["text"] for m in chat] == [f"m{i}" for i in range(230)] + [
            "to chair",
            f"to {chair['id']}",
        ]
        assert body["seq"] == ack["seq"]
        assert body["state"]["presence"] == {chair["id"]: True, a["id"]: True, b["id"]: False}
    finally:
        server.close()


# --- record of proceedings ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_record_as_json_and_csv(shared_server: Server, meeting: Meeting) -> None:
    """After grants, a point of order and releases over the websocket, the record lists the
    speeches as JSON and, for Accept: text/csv, as CSV with the same columns."""
    chair = meeting.add("Chair", "UN", role="chair")
    a = meeting.add("Ada", "Chile", lang="es")
    b = meeting.add("Bea", "Norway")
    async with (
        Client.connect(shared_server, chair["token"]) as c,
        Client.connect(shared_server, a["token"]) as ada,
        Client.connect(shared_server, b["token"]) as bea,
    ):
        for client, name, args in [
            (ada, "floor.request", {}),
            (c, "floor.grant", {}),
            (bea, "floor.request", {"kind": "point_of_order"}),
            (c, "floor.grant", {}),  # Bea interrupts Ada
            (c, "floor.release", {}),  # Bea done, Ada resumes
            (ada, "floor.release", {}),  # Ada yields
            (bea, "floor.request", {}),
            (c, "floor.grant", {"limit_s": 0}),
            (bea, "floor.release", {}),
        ]:
            reply = await client.command(name, args)
            assert reply["t"] == "ack", reply
    http = meeting.api.http
    r = http.get(f"/api/meetings/{meeting.id}/record")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    speeches = r.json()["speeches"]
    assert [(s["participant"], s["kind"]) for s in speeches] == [
        (a["id"], "speak"),
        (b["id"], "point_of_order"),
        (b["id"], "speak"),
    ]
    first = speeches[0]
    assert set(first) == set(SPEECH_COLUMNS)
    assert (first["name"], first["delegation"], first["lang"]) == ("Ada", "Chile", "es")
    assert first["interrupted_by"] == [b["id"]]
    assert first["start"] <= speeches[1]["start"] <= speeches[1]["end"] <= first["end"]
    delegations = {d["delegation"]: d["seconds"] for d in r.json()["delegations"]}
    assert set(delegations) == {"Chile", "Norway"}
    assert delegations["Chile"] == first["seconds"]

    r = http.get(f"/api/meetings/{meeting.id}/record", headers={"Accept": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text, newline="")))
    assert list(rows[0]) == SPEECH_COLUMNS
    assert [row["participant"] for row in rows] == [s["participant"] for s in speeches]
    assert rows[0]["interrupted_by"] == b["id"]
    assert rows[1]["interrupted_by"] == ""
    assert [int(row["start"]) for row in rows] == [s["start"] for s in speeches]
    assert [float(row["seconds"]) for row in rows] == [s["seconds"] for s in speeches]


@pytest.mark.parametrize(
    ("accept", "csv_wanted"),
    [
        ("application/json", False),
        ("*/*", False),
        ("text/csv;q=0", False),
        ("application/json, text/csv;q=0.5", True),
        ("TEXT/CSV; charset=utf-8", True),
    ],
)
def test_the_record_follows_accept(
    http: httpx.Client, meeting: Meeting, accept: str, csv_wanted: bool
) -> None:
    """CSV when Accept includes text/csv (with a non-zero q), JSON otherwise."""
    r = http.get(f"/api/meetings/{meeting.id}/record", headers={"Accept": accept})
    assert r.status_code == 200
    if csv_wanted:
        assert r.headers["content-type"].startswith("text/csv")
        assert r.text.splitlines() == [",".join(SPEECH_COLUMNS)]
    else:
        assert r.json() == {"speeches": [], "delegations": []}


# --- events -------------------------------------------------------------------------------------


def test_events_page_through_the_whole_log(http: httpx.Client, meeting: Meeting) -> None:
    """events?after=&limit= pages the log in order, without the internal cause, to its end."""
    for i in range(5):
        meeting.add(f"P{i}", "X")
    url = f"/api/meetings/{meeting.id}/events"
    whole = http.get(url).json()
    assert whole["epoch"] == meeting.state()["epoch"]
    assert whole["more"] is False
    events = whole["events"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5, 6]
    for event in events:
        assert set(event) == {"t", "seq", "at", "by", "name", "data"}
        assert event["t"] == "event"
        assert event["by"] == "admin"
    assert events[0]["name"] == "meeting.created"
    paged: list[dict[str, Any]] = []
    after = 0
    while True:
        page = http.get(url, params={"after": after, "limit": 4}).json()
        paged.extend(page["events"])
        if not page["more"]:
            break
        after = page["events"][-1]["seq"]
    assert paged == events
    assert http.get(url, params={"after": 3}).json()["events"] == events[3:]
    assert http.get(url, params={"after": 6}).json() == {
        "epoch": whole["epoch"],
        "events": [],
        "more": False,
    }
    assert http.get(url, params={"after": 600}).json()["events"] == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("after", "-1"),
        ("after", "x"),
        ("after", "1.5"),
        ("after", ""),
        ("after", "9" * 40),
        ("limit", "0"),
        ("limit", "10001"),
        ("limit", "ten"),
    ],
)
def test_events_with_a_bad_query_are_400(
    http: httpx.Client, meeting: Meeting, name: str, value: str
) -> None:
    """A bad `after` or `limit` is 400 invalid_args naming it."""
    r = http.get(f"/api/meetings/{meeting.id}/events", params={name: value})
    assert r.status_code == 400, r.text
    error = error_of(r)
    assert (error["code"], error["field"]) == ("invalid_args", name)
