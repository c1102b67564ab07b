"""The export's second sheet, "Rencana dan Deviasi": plan, deviation and projection per node.

The 22-column report sheet stays exactly as it was; this sheet is added after it, to the same
XlsxWriter workbook, by ``write_xlsx`` from the ``PlanTable`` that ``build_report`` put on the
report table. Text cells are written as strings (never formulas), as in the report sheet.
"""

from __future__ import annotations

from xlsxwriter import Workbook
from xlsxwriter.format import Format

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
_PIXELS_PER_CHAR = 7  # XlsxWriter's metric: the stored widths are exactly the ones above


def add_plan_sheet(wb: Workbook, plan: PlanTable | None, unverified: list[str]) -> None:
    """Add the sheet to the report workbook (nothing when the report carries no plan)."""
    if plan is None:
        return
    ws = wb.add_worksheet(SHEET)
    bold = wb.add_format({"bold": True})

    def text(row: int, column: int, value: str, cell_format: Format | None = None) -> None:
        # Always a string cell, never a formula: names come from users and imported files.
        ws.write_string(row, column, strip_control(value), cell_format)

    title = f"RENCANA DAN DEVIASI TW {roman(plan.triwulan)} TAHUN {plan.tahun}"
    text(0, 0, title, wb.add_format({"bold": True, "font_size": 12}))
    tol = format_percent(plan.tolerance, 1).rstrip("%").removesuffix(",0")
    text(
        1,
        0,
        f"Pembanding: {plan.source_label}. Menyimpang: deviasi lebih dari {tol} poin persen "
        "dari pagu. Proyeksi: sisa rencana sampai TW IV dikalikan realisasi ÷ rencana sejauh "
        "ini, ditambah realisasi, paling banyak sebesar pagu.",
    )
    if unverified:
        text(2, 0, "Belum disetujui: " + "; ".join(unverified), bold)
    header = 4
    head = wb.add_format(
        {
            "bold": True,
            "pattern": 1,
            "bg_color": "#D9D9D9",
            "text_wrap": True,
            "align": "center",
            "valign": "vcenter",
        }
    )
    for c, title in enumerate(HEADERS):
        text(header, c, title, head)
    for c, width in enumerate(_WIDTHS):
        ws.set_column_pixels(c, c, width * _PIXELS_PER_CHAR)
    formats = _Formats(wb)
    r = header + 1
    for line in plan.rows:
        e = line.row
        top = line.depth == 0  # the office's own line: bold across
        plain = bold if top else None
        name = formats.name(max(line.depth - 1, 0), top)
        cells: list[str | int | float | None] = [
            e.bidang if e.kind not in ("bidang", "opd") else e.nama,
            _LEVEL.get(e.kind, e.kind),
            e.nama,
            e.pagu,
            e.source.label(),
            e.rencana,
            e.realisasi,
            e.deviasi.rupiah if e.deviasi else None,
            e.deviasi.points if e.deviasi else None,
            "ya" if e.menyimpang else ("belum lengkap" if e.realisasi is None else "tidak"),
            e.rencana_akhir,
            e.proyeksi.amount if e.proyeksi else None,
            e.berisiko,
        ]
        for c, value in enumerate(cells):
            if isinstance(value, str):
                text(r, c, value, name if c == 2 else plain)
            elif value is not None:
                ws.write_number(r, c, value, formats.number(c == 8, top))
            elif top:
                ws.write_blank(r, c, None, bold)
        r += 1
    ws.freeze_panes(header + 1, 3)
    # The margins this sheet always had (openpyxl's defaults; XlsxWriter's are a little
    # narrower).
    ws.set_margins(left=0.75, right=0.75, top=1.0, bottom=1.0)
    ws.set_header("", {"margin": 0.5})
    ws.set_footer("", {"margin": 0.5})


class _Formats:
    """The sheet's few cell formats, created once each."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self.names: dict[tuple[int, bool], Format] = {}
        self.numbers: dict[tuple[bool, bool], Format] = {}

    def name(self, indent: int, bold: bool) -> Format:
        key = (indent, bold)
        if key not in self.names:
            self.names[key] = self.wb.add_format(
                {"indent": indent, "text_wrap": True, "bold": bold}
            )
        return self.names[key]

    def number(self, points: bool, bold: bool) -> Format:
        key = (points, bold)
        if key not in self.numbers:
            self.numbers[key] = self.wb.add_format(
                {"num_format": "0.00" if points else "#,##0", "bold": bold}
            )
        return self.numbers[key]
