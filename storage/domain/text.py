"""Text hygiene: what may be stored from typed or imported text, and how text leaves safely.

Control characters are invisible in Telegram and in spreadsheets, break XLSX (XML 1.0 has no
place for them) and PostgreSQL (no NUL in text or JSON), so they never get in. Text that
starts like a formula is kept as the user wrote it, and only neutralised where a program
might run it: in CSV cells (the OWASP CSV-injection rule) and as typed string cells in XLSX.
"""

from __future__ import annotations

import re

# C0 controls except tab, line feed and carriage return; DEL; C1 controls.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# What a spreadsheet reads as the start of a formula or a command.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER_RE = re.compile(r"[+-]?\d[\d.,]*%?")


def has_control(text: str) -> bool:
    return CONTROL_RE.search(text) is not None


def strip_control(text: str) -> str:
    """``text`` without control characters (tabs and line breaks stay)."""
    return CONTROL_RE.sub("", text)


def csv_cell(value: object) -> object:
    """A CSV field that no spreadsheet evaluates: numbers as they are, text starting like a
    formula behind a leading apostrophe. A plain signed number or a lone dash is left alone,
    as no spreadsheet runs it and '-' is the reports' "nothing"."""
    if not isinstance(value, str):
        return value
    value = strip_control(value)
    if value == "-" or _PLAIN_NUMBER_RE.fullmatch(value):
        return value
    if value.startswith(FORMULA_START):
        return "'" + value
    return value
