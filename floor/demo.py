"""The demo meeting of `floor serve --demo`: a chair, a dozen delegates, a display, a device.

Created once per data directory; its links (which hold the join tokens, so they are kept
in the data directory, readable by the owner only) are printed at every start.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from floor.services import Services
from floor.state import Rejection

DEMO_FILE = "demo.json"

DELEGATES = [
    ("Amina Diallo", "Senegal", "onsite", "A01", "fr"),
    ("Lukas Schneider", "Germany", "onsite", "A02", "de"),
    ("María González", "Mexico", "onsite", "A03", "es"),
    ("Chen Wei", "China", "onsite", "A04", "zh"),
    ("Olga Petrova", "Russian Federation", "onsite", "A05", "ru"),
    ("Omar Haddad", "Egypt", "onsite", "A06", "ar"),
    ("Sarah Thompson", "United Kingdom", "remote", None, "en"),
    ("Kenji Sato", "Japan", "remote", None, "ja"),
    ("Ana Souza", "Brazil", "remote", None, "pt"),
    ("Priya Nair", "India", "remote", None, "en"),
    ("Jean Dupont", "France", "onsite", "A07", "fr"),
    ("Fatima Al-Sayed", "Saudi Arabia", "remote", None, "ar"),
]


def _path(floor: Services, link: str | None) -> str:
    """A link without the server's base URL (which may change between starts)."""
    assert link is not None
    return link.removeprefix(floor.settings.base_url)


def _unwrap(value: Any) -> Any:
    if isinstance(value, Rejection):
        raise RuntimeError(f"demo set-up failed: {value}")
    return value


async def create(floor: Services) -> dict[str, Any]:
    admin = floor.admin
    meeting = _unwrap(
        await admin.create_meeting("Demo committee — 12th meeting", {"default_limit_s": 180})
    )
    links: dict[str, Any] = {"meeting": meeting, "delegates": []}
    chair = _unwrap(
        await admin.add_participant(
            meeting,
            {
                "name": "Chair",
                "delegation": "Bureau",
                "role": "chair",
                "attendance": "onsite",
                "lang": "en",
            },
        )
    )
    links["chair"] = _path(floor, chair.link)
    for name, delegation, attendance, seat, lang in DELEGATES:
        body: dict[str, Any] = {
            "name": name,
            "delegation": delegation,
            "role": "delegate",
            "attendance": attendance,
            "lang": lang,
        }
        if seat is not None:
            body["seat"] = seat
        added = _unwrap(await admin.add_participant(meeting, body))
        links["delegates"].append(
            {"name": name, "delegation": delegation, "link": _path(floor, added.link)}
        )
    observer = _unwrap(
        await admin.add_participant(
            meeting,
            {"name": "Observer", "delegation": "An NGO", "role": "observer", "lang": "en"},
        )
    )
    links["observer"] = _path(floor, observer.link)
    display = _unwrap(
        await admin.add_participant(
            meeting, {"name": "Room screen", "delegation": "Secretariat", "role": "display"}
        )
    )
    links["display"] = _path(floor, display.link)
    device = _unwrap(
        await admin.add_device(
            meeting, {"name": "Room A consoles", "seats": [f"A{i:02d}" for i in range(1, 13)]}
        )
    )
    links["device"] = {"id": device.id, "token": device.token}
    return links


async def ensure(floor: Services) -> dict[str, Any]:
    """The demo meeting's links: created on the first start, read back afterwards."""
    path: Path = floor.settings.data / DEMO_FILE
    known = _read(path)
    if known is not None and await floor.log.epoch(known["meeting"]) is not None:
        return known
    links = await create(floor)
    _write(path, links)
    return links


def _read(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    links: dict[str, Any] = json.loads(path.read_text())
    return links


def _write(path: Path, links: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(links, f, indent=2, ensure_ascii=False)


def describe(links: dict[str, Any], base_url: str) -> str:
    b = base_url
    lines = [
        f"Demo meeting {links['meeting']}",
        f"  chair:    {b}{links['chair']}",
        f"  display:  {b}{links['display']}",
        f"  caption:  {b}{links['display'].replace('/display#', '/display?overlay=1#')}",
        f"  observer: {b}{links['observer']}",
        "  delegates:",
    ]
    for d in links["delegates"]:
        lines.append(f"    {d['name']} ({d['delegation']}): {b}{d['link']}")
    lines.append(f"  room device {links['device']['id']} token: {links['device']['token']}")
    ws = b.replace("http", "ws", 1)
    token = links["device"]["token"]
    lines.append(f"  its consoles: floor console-sim --url {ws}/ws --token={token}")
    return "\n".join(lines)
