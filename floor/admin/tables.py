"""CSV in and out of the admin API: the roster import and the record of proceedings.

Pure functions over text, no I/O. Rows are numbered as a spreadsheet shows them: the
header is row 1, the first participant row 2 (a quoted cell spanning several lines is
still one row). The roster's columns are the fields of `POST /participants`; a cell
left empty is a field left out. The record's columns are a speech's fields, its
`interrupted_by` list joined with spaces (participant ids never contain one). A text cell
that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
carriage return) is written with a leading `'`, so that a name cannot run code when the
record is opened in a spreadsheet (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from floor.state.record import Speech

ROSTER_FIELDS: Final = ("name", "delegation", "role", "attendance", "seat", "lang")
ROSTER_REQUIRED: Final = ("name", "delegation", "role")
SPEECH_FIELDS: Final = (
    "participant",
    "name",
    "delegation",
    "kind",
    "lang",
    "start",
    "end",
    "seconds",
    "interrupted_by",
)


class BadTable(ValueError):
    """The file as a whole cannot be read (no header, an unknown column …)."""

    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(slots=True)
class RosterImport:
    """The participant rows of an import, and the rows that could not be read."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def read_roster(data: bytes) -> RosterImport:
    """The rows of a roster CSV (UTF-8, with or without BOM). Raises BadTable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadTable("The file is not UTF-8 text.") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    roster = RosterImport()
    number = 1
    try:
        header = next(reader, None)
    except csv.Error as bad:
        raise BadTable(f"The header row cannot be read: {bad}.") from None
    columns = _columns(header)
    try:
        for cells in reader:
            number += 1
            if not any(cell.strip() for cell in cells):
                continue  # a blank row
            if any(cell.strip() for cell in cells[len(columns) :]):
                roster.errors.append(
                    (number, f"The row has {len(cells)} cells; the header has {len(columns)}.")
                )
                continue
            row = {
                column: cell.strip()
                for column, cell in zip(columns, cells, strict=False)
                if cell.strip()
            }
            roster.rows.append((number, row))
    except csv.Error as bad:
        roster.errors.append((number + 1, f"The rest of the file cannot be read: {bad}."))
    return roster


def _columns(header: list[str] | None) -> list[str]:
    if header is None or not any(cell.strip() for cell in header):
        raise BadTable("The file is empty: the first row must name the columns.")
    columns = [cell.strip().lower() for cell in header]
    for column in columns:
        if column not in ROSTER_FIELDS:
            raise BadTable(
                f"Unknown column {column[:40]!r}; the columns are {', '.join(ROSTER_FIELDS)}.",
                column[:64],
            )
    if len(set(columns)) != len(columns):
        raise BadTable("A column is named twice.")
    for required in ROSTER_REQUIRED:
        if required not in columns:
            raise BadTable(f"The column {required!r} is missing.", required)
    return columns


FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> object:
    """A text cell a spreadsheet will show as text, never evaluate; other cells as they are."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def speeches_csv(speeches: Iterable[Speech]) -> str:
    """The record's speeches as CSV, a header row first."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SPEECH_FIELDS)
    for speech in speeches:
        plain = speech.to_wire()
        plain["interrupted_by"] = " ".join(plain["interrupted_by"])
        writer.writerow([spreadsheet_safe(plain[name]) for name in SPEECH_FIELDS])
    return out.getvalue()
