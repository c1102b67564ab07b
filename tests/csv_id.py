"""Reading a CSV back as a spreadsheet set to Indonesian does: UTF-8 with a byte order mark,
fields separated by ";", numbers with a decimal comma (and a "." only as a thousands mark)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from babel.numbers import parse_decimal

BOM = b"\xef\xbb\xbf"


def read_rows(data: bytes) -> list[dict[str, str]]:
    """The rows of ``data`` by header; fails unless it opens as an Indonesian Excel opens it."""
    assert data.startswith(BOM), data[:20]
    text = data[len(BOM) :].decode("utf-8")
    header = text.splitlines()[0]
    # One field per column: a "," inside a header would be a column of its own in a
    # comma-separated reading, a ";" split here is what the spreadsheet does too.
    assert ";" in header and "," not in header, header
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def number(cell: str) -> Decimal | None:
    """A numeric cell as the Indonesian locale reads it (None: empty)."""
    if cell == "":
        return None
    assert "." not in cell, f"{cell!r}: a '.' is a thousands mark in Indonesian"
    return parse_decimal(cell, locale="id", strict=True)
