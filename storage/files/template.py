"""The XLSX plan template of an office's year (``monev template``): the office's own report
with its plan, a sheet of instructions, and the spending-plan sheet (``plan_sheet``).

A writer of files, so it lives with the files: the rows and the words come from
``services.office``, which imports nothing from ``storage/files``.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from storage.files.plan_sheet import add_rencana_sheet
from storage.services.office import (
    SHEET_HELP,
    SetupError,
    _example_rows,
    _help_lines,
    _plan_rows,
    _require_opd,
    _text_as_text,
    _write_plan_sheet,
    _xl,
    template_year,
)
from storage.services.queries import YearData, list_bidang


def write_template(
    session: Session, path: Path, *, opd_id: int, tahun: int | None = None, tw: int = 1
) -> Path:
    """Write the XLSX plan template of an office's year to ``path`` and return the path.

    Sheet "Rencana" is the office's 22-column report for TW ``tw`` (I unless asked) with the
    plan in force then in ``tahun`` (the latest year with a plan, else this year), or example
    rows when that year has no plan; ``monev import`` reads it back as the plan, and as the
    quarter's realisation where an office that has its figures fills columns 19 and 21.
    Sheet "Petunjuk" explains how to fill it.
    """
    xl = _xl()
    opd = _require_opd(session, opd_id)
    assert opd.id is not None
    if tahun is None:
        tahun = template_year(session, opd.id)
    if not 2000 <= tahun <= 2100:
        raise SetupError(f"Tahun {tahun} tidak masuk akal; tulis tahun empat angka, misalnya 2025.")
    bidang = list_bidang(session, opd.id)
    data = YearData(session, opd.id, tahun)
    if tw not in (1, 2, 3, 4):
        raise SetupError(f"Triwulan {tw} tidak ada; tulis 1 sampai 4.")
    rows = _plan_rows(data, tw)
    examples = not any(s.nodes for s in rows)
    if examples:
        rows = _example_rows(bidang, rows)

    wb = xl.Workbook()
    ws = wb.active
    assert ws is not None
    _write_plan_sheet(ws, opd, tahun, rows, tw)

    help_ws = wb.create_sheet(SHEET_HELP)
    help_ws.column_dimensions["A"].width = 120
    for i, line in enumerate(_help_lines(opd, tahun, bidang, examples, tw), start=1):
        c = _text_as_text(help_ws.cell(row=i, column=1, value=line or None))
        c.alignment = xl.Alignment(wrap_text=True, vertical="top")
        if i == 1 or line == "PERHATIAN":
            c.font = xl.Font(bold=True, size=12 if i == 1 else 11)
    # The office's spending plan per sub kegiatan (early warning); an office without a plan
    # gets the sheet too, saying when it fills (its rows need the plan's ids).
    add_rencana_sheet(session, wb, opd_id=opd.id, tahun=tahun)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
