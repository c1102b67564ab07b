"""The export's second sheet, "Rencana dan Deviasi": plan, deviation and projection per node.

The 22-column report sheet stays exactly as it was; this sheet is added after it by
``write_xlsx`` from the ``PlanTable`` that ``build_report`` put on the report table. Text cells
are written as strings (never formulas), as in the report sheet.
"""

from __future__ import annotations

from typing import Any

from storage.domain.numbers import format_percent
from storage.domain.periods import roman
from storage.domain.text import strip_control
from storage.services.early_warning import PlanTable

SHEET = "Rencana dan Deviasi"
HEADERS = (
    "Bidang",
    "Tingkat",
    "Uraian",
    "Pagu (Rp)",
    "Sumber rencana",
    "Rencana s.d. triwulan (Rp)",
    "Realisasi (Rp)",
    "Deviasi (Rp)",
    "Deviasi (poin % pagu)",
    "Menyimpang",
    "Rencana TW IV (Rp)",
    "Proyeksi akhir tahun (Rp)",
    "Berisiko tidak terserap (Rp)",
)
_LEVEL = {
    "opd": "Dinas",
    "bidang": "Bidang",
    "program": "Program",
    "kegiatan": "Kegiatan",
    "sub_kegiatan": "Sub kegiatan",
}
_WIDTHS = (16, 12, 60, 18, 22, 18, 18, 18, 12, 12, 18, 18, 18)


def _text(ws: Any, row: int, column: int, value: str) -> Any:
    c = ws.cell(row=row, column=column, value=strip_control(value))
    c.data_type = "s"  # names come from users and imported files: never a formula
    return c


def add_plan_sheet(wb: Any, plan: PlanTable | None, unverified: list[str]) -> None:
    """Add the sheet to the report workbook (nothing when the report carries no plan)."""
    if plan is None:
        return
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(SHEET)
    bold = Font(bold=True)
    _text(
        ws, 1, 1, f"RENCANA DAN DEVIASI TW {roman(plan.triwulan)} TAHUN {plan.tahun}"
    ).font = Font(bold=True, size=12)
    tol = format_percent(plan.tolerance, 1).rstrip("%").removesuffix(",0")
    _text(
        ws,
        2,
        1,
        f"Pembanding: {plan.source_label}. Menyimpang: deviasi lebih dari {tol} poin persen "
        "dari pagu. Proyeksi: sisa rencana sampai TW IV dikalikan realisasi ÷ rencana sejauh "
        "ini, ditambah realisasi, paling banyak sebesar pagu.",
    )
    if unverified:
        _text(ws, 3, 1, "Belum disetujui: " + "; ".join(unverified)).font = bold
    header = 5
    grey = PatternFill("solid", fgColor="D9D9D9")
    for c, text in enumerate(HEADERS, start=1):
        cell = _text(ws, header, c, text)
        cell.font, cell.fill = bold, grey
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    for c, width in enumerate(_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    r = header + 1
    for line in plan.rows:
        e = line.row
        _text(ws, r, 1, e.bidang if e.kind not in ("bidang", "opd") else e.nama)
        _text(ws, r, 2, _LEVEL.get(e.kind, e.kind))
        _text(ws, r, 3, e.nama).alignment = Alignment(indent=max(line.depth - 1, 0), wrap_text=True)
        values: list[object] = [
            e.pagu,
            None,
            e.rencana,
            e.realisasi,
            e.deviasi.rupiah if e.deviasi else None,
            e.deviasi.points if e.deviasi else None,
            None,
            e.rencana_akhir,
            e.proyeksi.amount if e.proyeksi else None,
            e.berisiko,
        ]
        for c, value in enumerate(values, start=4):
            if value is not None:
                cell = ws.cell(row=r, column=c, value=value)
                cell.number_format = "0.00" if c == 9 else "#,##0"
        _text(ws, r, 5, e.source.label())
        _text(
            ws,
            r,
            10,
            "ya" if e.menyimpang else ("belum lengkap" if e.realisasi is None else "tidak"),
        )
        if line.depth == 0:
            for c in range(1, len(HEADERS) + 1):
                ws.cell(row=r, column=c).font = bold
        r += 1
    ws.freeze_panes = f"D{header + 1}"
