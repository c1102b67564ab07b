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


PENDING_FILL = "#FFF2CC"  # as the report sheet marks figures not approved yet


def add_plan_sheet(
    wb: Workbook,
    plan: PlanTable | None,
    unverified: list[str],
    pending: dict[str, str] | None = None,
) -> None:
    """Add the sheet to the report workbook (nothing when the report carries no plan);
    ``pending``: bidang whose figures are not approved yet, their lines filled."""
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
    pending = pending or {}
    for line in plan.rows:
        e = line.row
        top = line.depth == 0  # the office's own line: bold across
        waiting = (e.nama if e.kind == "bidang" else e.bidang) in pending
        plain = formats.pending(top) if waiting else (bold if top else None)
        name = formats.name(max(line.depth - 1, 0), top, waiting)
        cells: list[str | int | float | None] = [
            e.bidang if e.kind not in ("bidang", "opd") else e.nama,
            _LEVEL.get(e.kind, e.kind),
            e.nama,
            e.pagu,
            e.source.label(plan.benchmarks),
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
                ws.write_number(r, c, value, formats.number(c == 8, top, waiting))
            elif top or waiting:
                ws.write_blank(r, c, None, plain)
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
        self.names: dict[tuple[int, bool, bool], Format] = {}
        self.numbers: dict[tuple[bool, bool, bool], Format] = {}
        self.plain: dict[bool, Format] = {}

    @staticmethod
    def _fill(props: dict[str, object], waiting: bool) -> dict[str, object]:
        return {**props, "pattern": 1, "bg_color": PENDING_FILL} if waiting else props

    def name(self, indent: int, bold: bool, waiting: bool = False) -> Format:
        key = (indent, bold, waiting)
        if key not in self.names:
            self.names[key] = self.wb.add_format(
                self._fill({"indent": indent, "text_wrap": True, "bold": bold}, waiting)
            )
        return self.names[key]

    def number(self, points: bool, bold: bool, waiting: bool = False) -> Format:
        key = (points, bold, waiting)
        if key not in self.numbers:
            self.numbers[key] = self.wb.add_format(
                self._fill({"num_format": "0.00" if points else "#,##0", "bold": bold}, waiting)
            )
        return self.numbers[key]

    def pending(self, bold: bool) -> Format:
        """A text cell of a line whose figures are not approved yet."""
        if bold not in self.plain:
            self.plain[bold] = self.wb.add_format(self._fill({"bold": bold}, True))
        return self.plain[bold]
