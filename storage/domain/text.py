"""Text hygiene: what may be stored from typed or imported text, and how text leaves safely.

Control characters are invisible in Telegram and in spreadsheets, break XLSX (XML 1.0 has no
place for them) and PostgreSQL (no NUL in text or JSON), so they never get in. Text that
starts like a formula is kept as the user wrote it, and only neutralised where a program
might run it: in CSV cells (the OWASP CSV-injection rule) and as typed string cells in XLSX.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls except tab, line feed and carriage return; DEL; C1 controls.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# What a spreadsheet reads as the start of a formula or a command.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER_RE = re.compile(r"[+-]?\d[\d.,]*%?")


# Characters that are not seen but change what is seen around them: the bidi embeddings,
# overrides, isolates and marks (a name typed as "x\u202egnp.exe" shows as "xexe.png"), the
# zero-width spaces and joiners, word joiner, invisible operators, soft hyphen and BOM.
INVISIBLE_RE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def has_control(text: str) -> bool:
    return CONTROL_RE.search(text) is not None


def has_hidden(text: str) -> bool:
    """Does ``text`` hold control or invisible characters (what ``clean_line`` drops)?"""
    return CONTROL_RE.search(text) is not None or INVISIBLE_RE.search(text) is not None


def clean_line(text: str) -> str:
    """Typed text as it is kept and shown: Unicode NFC (one spelling of "é"), without control
    or invisible characters, spaces collapsed to one. The one cleaning of every field people
    type (/lapor's answers, names at /daftar, notes on evidence)."""
    t = unicodedata.normalize("NFC", text or "")
    t = INVISIBLE_RE.sub("", CONTROL_RE.sub("", t))
    return " ".join(t.split())


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


# The KET an exported report gives a line whose figures are not approved yet; the importer
# takes it off again (it is the export's mark, not the office's note).
PENDING_KET = "BELUM DISETUJUI ({status})"
PENDING_KET_RE = re.compile(r"^BELUM DISETUJUI \((?:menunggu verifikasi|dikembalikan)\)(?:; )?")


def pending_ket(status: str, ket: str) -> str:
    """The KET of a line whose figures are not approved: the mark, then the line's own KET."""
    mark = PENDING_KET.format(status=status)
    return f"{mark}; {ket}" if ket else mark


_LEVEL_PREFIX = re.compile(r"^(sub\s*kegiatan|kegiatan|pro[a-z]{1,4}m)\s+")


def normalise(text: str) -> str:
    """Lower case, letters and digits only, single spaces ("Dinas PU & PR" -> "dinas pu pr"):
    the key two spellings of one name are compared by."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def normalise_name(name: str) -> str:
    """A program's, kegiatan's or sub kegiatan's name as a key: ``normalise`` without the
    level prefix ("Sub Kegiatan Penyediaan Gaji" -> "penyediaan gaji")."""
    return normalise(_LEVEL_PREFIX.sub("", name.lower()))
