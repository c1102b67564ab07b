"""The kabupaten recap of one quarter: one row per office, ranked by serapan (XLSX or CSV).

No Telegram here. Each office's figures are those of its own summary
(``storage.services.kabupaten.office_figure``), so the recap agrees with
``monev summary --opd X``. Offices whose figures are not all approved are marked "*";
offices without a serapan (no plan, figures incomplete) come last. The signature block
follows the office report (place and month, position, name, NIP); the signer is set in the
``Setting`` rows ``rekap_tempat``, ``rekap_jabatan``, ``rekap_nama`` and ``rekap_nip``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from storage.data.models import Setting
from storage.domain.errors import ExportError
from storage.domain.numbers import ratio_percent
from storage.domain.periods import roman
from storage.domain.text import csv_cell, strip_control
from storage.files.export import csv_number, csv_text, format_nip, signing_month
from storage.services.kabupaten import OfficeFigure, kabupaten_figures, ranked

HEADERS = ["No", "Perangkat Daerah", "Pagu (Rp)", "Realisasi (Rp)", "Serapan", "Fisik", "Status"]
UNAPPROVED_MARK = "*"
UNAPPROVED_NOTE = "* Sebagian angka perangkat daerah ini belum disetujui verifikator/kepala."
CSV_HEADERS = [
    "No",
    "Perangkat Daerah",
    "Pagu (Rp)",
    "Realisasi (Rp)",
    "Serapan (%)",
    "Fisik (%)",
    "Status",
    "Belum disetujui",
]
SIGNER_KEYS = ("rekap_tempat", "rekap_jabatan", "rekap_nama", "rekap_nip")
SIGNER_HINT = (
    "Blok tanda tangan rekap masih kosong: penanda tangannya belum diatur. Admin "
    'mengaturnya sekali dengan: monev opd ttd --jabatan "KEPALA BAPPEDA," --nama "NAMA '
    'LENGKAP" --nip NIP --tempat TEMPAT'
)


def signer_hint(session: Session) -> str:
    """How to fill the recap's signature block while nobody is set to sign it ("" once a
    name is set)."""
    row = session.get(Setting, "rekap_nama")
    return "" if row is not None and row.value.strip() else SIGNER_HINT


def office_status(f: OfficeFigure) -> str:
    """Where an office's reports of the quarter stand, in words."""
    if not f.has_plan:
        return "belum ada rencana tahun ini"
    if f.reported == 0:
        return "belum lapor"
    parts = [f"{f.approved}/{f.bidang} bidang disetujui"]
    if f.waiting:
        parts.append(f"{f.waiting} menunggu verifikasi/dikembalikan")
    if f.not_reported:
        parts.append(f"{f.not_reported} belum lapor")
    return ", ".join(parts)


@dataclass(frozen=True)
class RekapRow:
    rank: int | None  # None: no serapan to rank by
    nama: str
    pagu: int | None
    realisasi: int | None
    serapan: float | None  # percent points
    fisik: float | None
    status: str
    unapproved: bool


@dataclass(frozen=True)
class RekapTable:
    tahun: int
    triwulan: int
    rows: list[RekapRow]
    total_pagu: int
    total_realisasi: int
    total_offices: int  # offices in the total (complete figures)
    signature: list[str]  # tempat/bulan, jabatan, nama, NIP

    @property
    def title(self) -> str:
        return (
            "REKAPITULASI SERAPAN ANGGARAN PERANGKAT DAERAH "
            f"TRIWULAN {roman(self.triwulan)} TAHUN {self.tahun}"
        )

    @property
    def total_serapan(self) -> float | None:
        return ratio_percent(self.total_realisasi, self.total_pagu)


def _signer(session: Session, tahun: int, tw: int) -> list[str]:
    values = {k: (row.value if (row := session.get(Setting, k)) else "") for k in SIGNER_KEYS}
    place = values["rekap_tempat"].strip()
    nip = values["rekap_nip"].strip()
    return [
        ", ".join(p for p in (place, signing_month(tahun, tw)) if p),
        values["rekap_jabatan"].strip() or "KEPALA BAPPEDA,",
        values["rekap_nama"].strip(),
        f"NIP. {format_nip(nip)}" if nip else "NIP.",
    ]


def build_rekap(session: Session, tahun: int, tw: int) -> RekapTable:
    """Every office at TW ``tw`` of ``tahun``, ranked by serapan (highest first)."""
    if tw not in (1, 2, 3, 4):
        raise ExportError(f"Triwulan harus 1 sampai 4 (TW I–IV), bukan {tw}.")
    figures = kabupaten_figures(session, tahun, tw)
    if not any(f.has_plan for f in figures):
        raise ExportError(f"Belum ada perangkat daerah yang berisi rencana tahun {tahun}.")
    rows: list[RekapRow] = []
    rank = 0
    for f in ranked(figures):
        if f.serapan is not None:
            rank += 1
        rows.append(
            RekapRow(
                rank if f.serapan is not None else None,
                f.office.label,
                f.pagu,
                f.realisasi,
                f.serapan,
                f.fisik,
                office_status(f),
                f.unapproved,
            )
        )
    complete = [f for f in figures if f.serapan is not None]
    return RekapTable(
        tahun,
        tw,
        rows,
        sum(f.pagu or 0 for f in complete),
        sum(f.realisasi or 0 for f in complete),
        len(complete),
        _signer(session, tahun, tw),
    )


def _cell(ws: Any, row: int, column: int, value: object) -> Any:
    """A cell; text is always a string cell (never a formula) without control characters."""
    if isinstance(value, str):
        value = strip_control(value)
    c = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        c.data_type = "s"
    return c


def write_rekap_xlsx(table: RekapTable, buffer: io.BytesIO) -> None:
    """The recap as one printable sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Rekap"
    _cell(ws, 1, 1, table.title).font = Font(bold=True, size=12)
    for i, h in enumerate(HEADERS, 1):
        _cell(ws, 3, i, h).font = Font(bold=True)
    r = 4
    for row in table.rows:
        mark = f" {UNAPPROVED_MARK}" if row.unapproved else ""
        values: list[object] = [
            row.rank if row.rank is not None else "-",
            row.nama + mark,
            row.pagu,
            row.realisasi,
            row.serapan / 100 if row.serapan is not None else "-",
            row.fisik / 100 if row.fisik is not None else "-",
            row.status,
        ]
        for c, v in enumerate(values, 1):
            cell = _cell(ws, r, c, v)
            if c in (3, 4):
                cell.number_format = "#,##0"
            elif c in (5, 6):
                cell.number_format = "0.00%"
        r += 1
    _cell(ws, r, 2, f"Total ({table.total_offices} perangkat daerah berangka lengkap)").font = Font(
        bold=True
    )
    _cell(ws, r, 3, table.total_pagu).number_format = "#,##0"
    _cell(ws, r, 4, table.total_realisasi).number_format = "#,##0"
    total = table.total_serapan
    _cell(ws, r, 5, total / 100 if total is not None else "-").number_format = "0.00%"
    r += 2
    if any(row.unapproved for row in table.rows):
        _cell(ws, r, 1, UNAPPROVED_NOTE)
        r += 2
    for i, text in enumerate(table.signature):
        if i == 2:
            r += 3  # room to sign
        if text:
            c = _cell(ws, r, 7, text)
            c.font = Font(bold=i in (1, 2))
            c.alignment = Alignment(horizontal="right")
        r += 1
    for col, width in zip("ABCDEFG", (5, 55, 20, 20, 10, 10, 45), strict=True):
        ws.column_dimensions[col].width = width
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    wb.save(buffer)


def write_rekap_csv(table: RekapTable, buffer: io.StringIO) -> None:
    """The recap as CSV an Indonesian-locale spreadsheet opens as it is (";" between fields,
    decimal comma, byte order mark; text never a formula)."""
    rows: list[list[object]] = [list(CSV_HEADERS)]
    for row in table.rows:
        rows.append(
            [
                row.rank if row.rank is not None else "",
                csv_cell(row.nama),
                csv_number(row.pagu),
                csv_number(row.realisasi),
                csv_number(row.serapan),
                csv_number(row.fisik),
                csv_cell(row.status),
                "ya" if row.unapproved else "",
            ]
        )
    buffer.write(csv_text(rows))


def rekap_filename(tahun: int, tw: int, fmt: str) -> str:
    return f"rekap-kabupaten-{tahun}-tw{tw}.{fmt}"


def rekap_bytes(session: Session, tahun: int, tw: int, *, fmt: str = "xlsx") -> tuple[str, bytes]:
    """(file name, content) of the recap; ``ValueError`` (Indonesian) when there is none."""
    table = build_rekap(session, tahun, tw)
    if fmt == "csv":
        text = io.StringIO()
        write_rekap_csv(table, text)
        return rekap_filename(tahun, tw, fmt), text.getvalue().encode("utf-8")
    buf = io.BytesIO()
    write_rekap_xlsx(table, buf)
    return rekap_filename(tahun, tw, "xlsx"), buf.getvalue()
