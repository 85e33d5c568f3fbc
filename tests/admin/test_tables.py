"""The record's CSV export: what a spreadsheet will make of it."""

from __future__ import annotations

import csv
import io

import pytest

from floor.admin.tables import SPEECH_FIELDS, speeches_csv
from floor.state.model import Kind
from floor.state.record import Speech


def speech(name: str, delegation: str = "France") -> Speech:
    return Speech("p-1", name, delegation, Kind.SPEAK, "fr", 1000, 4000, 3000, ())


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://evil.example","Click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
    ],
)
def test_a_name_a_spreadsheet_would_evaluate_is_written_as_text(name: str) -> None:
    """Cells starting with = + - @ tab or CR get a leading quote (no formula runs)."""
    (row,) = rows(speeches_csv([speech(name, delegation=name)]))
    assert row["name"] == "'" + name
    assert row["delegation"] == "'" + name


def test_ordinary_cells_are_written_as_they_are() -> None:
    """Names, hyphenated or not, and numbers are not touched."""
    (row,) = rows(speeches_csv([speech("Jean-Luc Dupont", "Bosnia and Herzegovina")]))
    assert list(row) == list(SPEECH_FIELDS)
    assert row["name"] == "Jean-Luc Dupont"
    assert row["delegation"] == "Bosnia and Herzegovina"
    assert row["start"] == "1000"
    assert row["seconds"] == "3"
