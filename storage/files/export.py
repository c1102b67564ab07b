"""Exporting one quarter as the office's Laporan Kinerja Triwulan (XLSX) or as raw CSV.

No Telegram here. ``build_report`` gathers plain data; the writers only lay it out. The
XLSX follows the 22-column layout of the paper report closely enough that
``storage.files.importer`` reads it back to the same figures: title and signature lines are
single cells in column A, names sit in column P, amounts are whole numbers and percents
are fractions formatted as percent.

Rules (docs/domain.md): T/R of each quarter come from that quarter's own report; % capaian is
R ÷ T of the quarter reported (never the sum of cumulative values); a node's realisation
is its own figure, else the complete sum of its children, else empty (incomplete, not 0).
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

from babel.dates import format_date
from sqlmodel import Session, col, select
from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from storage.data.models import (
    CapaianSasaran,
    ImportedReport,
    IndikatorSasaran,
    Level,
    Narasi,
    PerangkatDaerah,
)
from storage.domain.errors import ExportError
from storage.domain.numbers import (
    CAPAIAN_PLAUSIBLE_MAX,
    LOCALE,
    capaian_plausible,
    format_decimal,
    ratio_percent,
)
from storage.domain.periods import day_after_quarter, roman
from storage.domain.report_format import HEADERS, NCOLS
from storage.domain.reported import quarter_value
from storage.domain.text import csv_cell, pending_ket, strip_control
from storage.files.bulk import collector_paused
from storage.files.export_plan import add_plan_sheet
from storage.services.early_warning import PlanTable, plan_table
from storage.services.queries import NodeRow as PlanNode
from storage.services.queries import (
    SasaranRow,
    YearData,
    list_bidang,
    unverified,
    year_data,
    years_with_data,
)

FORMATS = ("xlsx", "csv")
MONEY_FORMAT = "#,##0"
PERCENT_FORMAT = "0.00%"

# --- plain data ------------------------------------------------------------------------------


@dataclass
class NodeRow:
    """A program, kegiatan or sub kegiatan as the quarter shows it (columns 16-22)."""

    node_id: int
    level: Level
    nama: str
    indikator: str
    target: str
    fisik: float | None  # percent points (64.7 = 64,70%)
    pagu: int | None
    realisasi: int | None  # None: incomplete, shown empty (never 0)
    ket: str = ""

    @property
    def serapan(self) -> float | None:
        return ratio_percent(self.realisasi, self.pagu)


@dataclass
class IndicatorCells:
    """T/R of one sasaran indicator per quarter (columns 4-12), in percent points."""

    nama: str
    program_id: int | None
    values: dict[int, tuple[float | None, float | None]]  # tw -> (T, R), only tw <= reported
    capaian: float | None  # R ÷ T of the reported quarter × 100


@dataclass
class TableRow:
    """One line of the table; any part may be empty."""

    sasaran_nomor: int | None = None  # set on the first line of a sasaran only
    sasaran_teks: str = ""
    sasaran_indikator: str = ""
    indicator: IndicatorCells | None = None
    aksi: str = ""
    hambatan: str = ""
    tindak_lanjut: str = ""
    node: NodeRow | None = None


@dataclass
class SasaranBlock:
    nomor: int
    teks: str
    indikator: str
    rows: list[TableRow] = field(default_factory=list)
    status: str = ""  # "menunggu verifikasi" / "dikembalikan": figures not approved yet


@dataclass
class Signature:
    tempat_tanggal: str  # "Koto Baru, Oktober 2022"
    jabatan: str  # "KEPALA,"
    nama: str
    nip: str  # "NIP. 19800414 199810 2 001"


@dataclass
class ReportTable:
    opd_nama: str
    tahun: int
    triwulan: int
    title_rows: list[str]
    sasaran: list[SasaranBlock]
    signature: Signature
    unverified: list[str] = field(default_factory=list)  # "Koperasi (menunggu verifikasi)"
    pending: dict[str, str] = field(default_factory=dict)  # bidang name -> status
    plan: PlanTable | None = None  # the second sheet, "Rencana dan Deviasi" (export_plan.py)

    @property
    def title(self) -> str:
        return self.title_rows[-1]

    def rows(self) -> Iterator[TableRow]:
        for block in self.sasaran:
            yield from block.rows

    def rows_with_status(self) -> Iterator[tuple[str, TableRow]]:
        """Every line with its block's verification status ("": approved or imported)."""
        for block in self.sasaran:
            for row in block.rows:
                yield block.status, row

    def node_rows(self) -> Iterator[tuple[int, NodeRow]]:
        """(sasaran nomor, node) for every node line, in table order."""
        for block in self.sasaran:
            for row in block.rows:
                if row.node is not None:
                    yield block.nomor, row.node


# --- building --------------------------------------------------------------------------------


def report_title(tahun: int, tw: int) -> str:
    return f"LAPORAN KINERJA TRIWULAN {roman(tw)} TAHUN {tahun}"


def signing_month(tahun: int, tw: int) -> str:
    """Reports are signed in the month after the quarter: TW III 2022 -> 'Oktober 2022'."""
    return format_date(day_after_quarter(tahun, tw), format="LLLL y", locale=LOCALE)


def format_nip(nip: str) -> str:
    """An 18-digit NIP is printed in its groups: birth date, appointment, sex, sequence."""
    digits = "".join(ch for ch in nip if ch.isdecimal())
    if len(digits) == 18:
        return f"{digits[:8]} {digits[8:14]} {digits[14]} {digits[15:]}"
    return nip.strip()


def build_report(
    session: Session, opd_id: int, tahun: int, tw: int, *, approved_only: bool = False
) -> ReportTable:
    """Everything one quarter's report shows, as plain data (``approved_only``: without the
    figures of a bidang whose submission is not approved yet).

    Raises ``ValueError`` with an Indonesian message when the quarter, the office or the
    year's data does not exist.
    """
    if tw not in (1, 2, 3, 4):
        raise ExportError(f"Triwulan harus 1 sampai 4 (TW I–IV), bukan {tw}.")
    opd = session.get(PerangkatDaerah, opd_id)
    if opd is None:
        raise ExportError(f"Perangkat daerah dengan id {opd_id} tidak ditemukan.")
    # From the figure cache when the session carries one (the bot's): a question asked before
    # has loaded the office-year already.
    data = year_data(session, opd_id, tahun)
    if not data.nodes and not data.sasaran:
        years = years_with_data(session, opd_id)
        hint = (
            f" Data yang tersedia: tahun {', '.join(str(y) for y in years)}."
            if years
            else " Belum ada laporan yang diimpor."
        )
        raise ExportError(
            f"Tidak ada data Laporan Kinerja tahun {tahun} untuk {opd.nama}, "
            f"sehingga laporan TW {roman(tw)} {tahun} tidak dapat dibuat.{hint}"
        )

    pending = {
        r.bidang.id: "menunggu verifikasi" if r.status == "diajukan" else "dikembalikan"
        for r in unverified(session, opd_id, tahun, tw)
    }
    if approved_only and pending:
        hidden = {sid for sid, sas in data.sasaran.items() if sas.bidang_id in pending}
        data = data.with_realisasi(
            {(nid, tw): None for nid, n in data.nodes.items() if n.sasaran_id in hidden}
        )
    indicators = _indicators(session, data, tahun, tw)
    narasi = _narasi(session, data, tw)
    blocks: list[SasaranBlock] = []
    for sas in sorted(data.sasaran.values(), key=lambda s: s.nomor):
        assert sas.id is not None
        blocks.append(
            _sasaran_block(data, sas, tw, indicators.get(sas.id, []), narasi.get(sas.id, []))
        )
        blocks[-1].status = pending.get(sas.bidang_id or -1, "")
    signature = Signature(
        tempat_tanggal=", ".join(p for p in (opd.tempat.strip(), signing_month(tahun, tw)) if p),
        jabatan="KEPALA,",
        nama=opd.nama_kepala,
        nip=f"NIP. {format_nip(opd.nip_kepala)}" if opd.nip_kepala else "NIP.",
    )
    return ReportTable(
        opd_nama=opd.nama,
        tahun=tahun,
        triwulan=tw,
        title_rows=[opd.nama, report_title(tahun, tw)],
        sasaran=blocks,
        signature=signature,
        unverified=sorted(
            {f"{b.nama} ({pending[b.id]})" for b in list_bidang(session, opd_id) if b.id in pending}
        ),
        plan=plan_table(session, data, tw),
        pending={b.nama: pending[b.id] for b in list_bidang(session, opd_id) if b.id in pending},
    )


class _Indikator(NamedTuple):
    id: int
    sasaran_id: int
    program_id: int | None
    nama: str


def _indicators(
    session: Session, data: YearData, tahun: int, tw: int
) -> dict[int, list[IndicatorCells]]:
    """Per sasaran id: its indicators with T/R of TW I..tw.

    Each quarter's values are the ones its own report gave, as ``capaian_kinerja`` picks
    them, so a later report's restatement does not overwrite what was reported then.
    """
    if not data.sasaran:
        return {}
    # Plain rows, not ORM objects: at a large office's size (thousands of T/R values) the
    # object construction alone cost more than the rest of the report.
    inds = [
        _Indikator(*r)
        for r in session.exec(
            select(
                IndikatorSasaran.id,
                IndikatorSasaran.sasaran_id,
                IndikatorSasaran.program_id,
                IndikatorSasaran.nama,
            )
            .where(col(IndikatorSasaran.sasaran_id).in_(list(data.sasaran)))
            .order_by(col(IndikatorSasaran.urutan), col(IndikatorSasaran.id))
        ).all()
    ]
    own_report: dict[int, int | None] = {
        q: rid
        for q, rid in session.exec(
            select(ImportedReport.triwulan, ImportedReport.id).where(
                ImportedReport.opd_id == data.opd_id, ImportedReport.tahun == tahun
            )
        ).all()
    }
    by_key: dict[tuple[int, int], list[tuple[int | None, float | None, float | None]]] = {}
    if inds:
        for ind_id, q, rid, target, realisasi in session.exec(
            select(  # type: ignore[call-overload]
                CapaianSasaran.indikator_id,
                CapaianSasaran.triwulan,
                CapaianSasaran.report_id,
                CapaianSasaran.target,
                CapaianSasaran.realisasi,
            ).where(
                col(CapaianSasaran.indikator_id).in_([i.id for i in inds]),
                CapaianSasaran.triwulan <= tw,
            )
        ).all():
            by_key.setdefault((ind_id, q), []).append((rid, target, realisasi))

    out: dict[int, list[IndicatorCells]] = {}
    for ind in inds:
        if ind.program_id is not None and not data.in_plan(ind.program_id, tw):
            # The program is not part of this quarter's report, so neither is its indicator.
            continue
        values: dict[int, tuple[float | None, float | None]] = {}
        for q in range(1, tw + 1):
            vals = by_key.get((ind.id, q), [])
            chosen = quarter_value(((v[0], v[1:]) for v in vals), own_report.get(q))
            if chosen is not None:
                values[q] = chosen
        if ind.program_id is None and not values:
            continue
        t, r = values.get(tw, (None, None))
        capaian = ratio_percent(r, t)
        out.setdefault(ind.sasaran_id, []).append(
            IndicatorCells(ind.nama, ind.program_id, values, capaian)
        )
    return out


def _narasi(session: Session, data: YearData, tw: int) -> dict[int, list[Narasi]]:
    """Per sasaran id: aksi/hambatan/tindak lanjut of TW ``tw`` (what ``narasi`` returns),
    kept with their program ids so each lands on its program's lines."""
    if not data.sasaran:
        return {}
    out: dict[int, list[Narasi]] = {}
    for n in session.exec(
        select(Narasi)
        .where(col(Narasi.sasaran_id).in_(list(data.sasaran)), Narasi.triwulan == tw)
        .order_by(col(Narasi.urutan), col(Narasi.id))
    ).all():
        out.setdefault(n.sasaran_id, []).append(n)
    return out


def _node_row(data: YearData, node: PlanNode, tw: int) -> NodeRow:
    assert node.id is not None
    fig = data.node_figure(node.id, tw)
    plan = data.plan(node.id, tw)
    real = data.real.get((node.id, tw))
    return NodeRow(
        node_id=node.id,
        level=Level(node.level),
        nama=node.nama,
        indikator=node.indikator,
        target=plan.target if plan else "",
        fisik=fig.fisik,
        pagu=fig.pagu,
        realisasi=fig.realisasi,
        ket=real.ket if real else "",
    )


def _subtree(data: YearData, node: PlanNode, tw: int) -> list[NodeRow]:
    """The node and everything under it in the plan at ``tw``, depth first."""
    out = [_node_row(data, node, tw)]
    for child in data.children(node.id, tw):
        out.extend(_subtree(data, child, tw))
    return out


def _sasaran_block(
    data: YearData,
    sas: SasaranRow,
    tw: int,
    indicators: list[IndicatorCells],
    narasi: list[Narasi],
) -> SasaranBlock:
    block = SasaranBlock(sas.nomor, sas.teks, sas.indikator)
    assert sas.id is not None
    programs = data.programs(tw, {sas.id})
    program_ids = {p.id for p in programs}

    def key(program_id: int | None) -> int | None:
        return program_id if program_id in program_ids else None

    inds_by: dict[int | None, list[IndicatorCells]] = {}
    for ind in indicators:
        inds_by.setdefault(key(ind.program_id), []).append(ind)
    nar_by: dict[int | None, list[Narasi]] = {}
    for n in narasi:
        nar_by.setdefault(key(n.program_id), []).append(n)

    def lay_out(nodes: list[NodeRow], inds: list[IndicatorCells], nars: list[Narasi]) -> None:
        # The i-th indicator and the i-th narasi of a program go on the i-th line of its
        # block, as the paper report does; the importer attributes them to that program.
        for i in range(max(len(nodes), len(inds), len(nars))):
            n = nars[i] if i < len(nars) else None
            block.rows.append(
                TableRow(
                    indicator=inds[i] if i < len(inds) else None,
                    aksi=n.aksi if n else "",
                    hambatan=n.hambatan if n else "",
                    tindak_lanjut=n.tindak_lanjut if n else "",
                    node=nodes[i] if i < len(nodes) else None,
                )
            )

    # Indicators and narasi of no program in this quarter's plan come first, on lines of
    # their own, so they are not read back as belonging to the first program.
    lay_out([], inds_by.get(None, []), nar_by.get(None, []))
    for prog in programs:
        lay_out(_subtree(data, prog, tw), inds_by.get(prog.id, []), nar_by.get(prog.id, []))
    if not block.rows:
        block.rows.append(TableRow())
    first = block.rows[0]
    first.sasaran_nomor, first.sasaran_teks, first.sasaran_indikator = (
        sas.nomor,
        sas.teks,
        sas.indikator,
    )
    return block


# --- XLSX ------------------------------------------------------------------------------------

HEADER_TOP = 4  # rows 1-2 title, 3 blank, 4-5 header, 6 column numbers
FIRST_DATA_ROW = HEADER_TOP + 3

# (first column, header text); each TRIWULAN header spans its T and R columns.
_WIDTHS: dict[int, float] = {
    1: 5,
    2: 18,
    3: 22,
    **{c: 7.5 for c in range(4, 12)},
    12: 9,
    13: 22,
    14: 20,
    15: 20,
    16: 36,
    17: 28,
    18: 11,
    19: 10,
    20: 15,
    21: 15,
    22: 8,
}
_FONT_SIZE = 9
_LINE_HEIGHT = 12.0  # points per wrapped line at 9 pt
_HEADER_FILL = "#D9D9D9"
_WARN_FILL = "#F8CBAD"
# Figures of a bidang whose submission is not approved yet: columns 16-22 of its lines are
# filled and its KET says so, so the mark survives a printout in black and white too.
_PENDING_FILL = "#FFF2CC"
IMPLAUSIBLE_NOTE = (
    f"Capaian di atas {CAPAIAN_PLAUSIBLE_MAX:.0f}%: target tampaknya keliru, mohon diperiksa."
)
_INDENT = {Level.PROGRAM: 0, Level.KEGIATAN: 1, Level.SUB_KEGIATAN: 2}
# XlsxWriter's pixels per character of column width (its Calibri 11 metric): widths are set in
# pixels so that the stored width is exactly the one above, as the report always had.
_PIXELS_PER_CHAR = 7
# Excel's limit on a page header; a longer one would be dropped, so the note is shortened.
_HEADER_MAX = 255
# Text is always written as text: never a formula, a link or a number (belt and braces: the
# writer only calls write_string for text anyway).
WORKBOOK_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def _fraction(percent: float | None) -> float | None:
    # Rounded so 40.27 is stored as 0.4027, not 0.40270000000000006.
    return None if percent is None else round(percent / 100, 8)


def _lines_needed(text: str, width: float) -> int:
    """Wrapped lines of ``text`` in a column ``width`` characters wide (estimate).

    Row heights are set explicitly because spreadsheet programs do not all re-fit the
    heights of wrapped rows on opening, and a cut-off row prints cut off.
    """
    per_line = max(1.0, width * 1.2)  # a 9 pt font fits a little more than the width
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


def _table_values(row: TableRow) -> dict[int, Any]:
    v: dict[int, Any] = {}
    if row.sasaran_nomor is not None:
        v[1] = row.sasaran_nomor
        v[2] = row.sasaran_teks or None
        v[3] = row.sasaran_indikator or None
    if row.indicator is not None:
        for q, (t, r) in row.indicator.values.items():
            v[2 + 2 * q] = _fraction(t)
            v[3 + 2 * q] = _fraction(r)
        v[12] = _fraction(row.indicator.capaian)
    v[13] = row.aksi or None
    v[14] = row.hambatan or None
    v[15] = row.tindak_lanjut or None
    if row.node is not None:
        n = row.node
        v[16] = n.nama
        v[17] = n.indikator or None
        v[18] = n.target or None
        v[19] = _fraction(n.fisik)
        v[20] = n.pagu
        v[21] = n.realisasi
        v[22] = n.ket or None
    return v


def _clean(text: str) -> str:
    """``text`` without control characters; most text has none (a C-speed check first)."""
    return text if text.isprintable() else strip_control(text)


def header_text(text: str, limit: int = _HEADER_MAX) -> str:
    """``text`` as a centred page header: '&' doubled (a lone one starts a code), and
    shortened at a '; ' with the count of what was left out when Excel's limit is passed."""
    full = "&C" + strip_control(text).replace("&", "&&")
    if _utf16_len(full) <= limit:
        return full
    parts = full.split("; ")
    for keep in range(len(parts) - 1, 0, -1):
        shorter = "; ".join(parts[:keep]) + f"; dan {len(parts) - keep} lainnya"
        if _utf16_len(shorter) <= limit:
            return shorter
    cut = full[: limit - 1]
    while _utf16_len(cut) > limit - 1:
        cut = cut[:-1]
    return cut.rstrip("&") + "…"


def _utf16_len(text: str) -> int:
    # Excel counts UTF-16 code units: a character beyond the BMP (an emoji) counts twice.
    return len(text.encode("utf-16-le")) // 2


def _height(ws: Worksheet, row: int, points: float) -> None:
    """Set a row's height to exactly ``points``: ``set_row`` rounds to whole pixels (28 pt
    would become 27.75). The default height (15 pt) is left implicit by XlsxWriter."""
    ws.set_row_pixels(row, points * 4 / 3)


class _Formats:
    """The report's cell formats, each created once per workbook and shared by its cells."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self.data: dict[tuple[int, bool, int | None, bool, bool], Format] = {}
        self.rows: dict[tuple[bool, int | None, bool, bool], list[Format]] = {}

    def add(self, **properties: object) -> Format:
        return self.wb.add_format(properties)

    def row(
        self, node_bold: bool, indent: int | None, warn: bool, pending: bool = False
    ) -> list[Format]:
        """The formats of a whole data line, column 1 first (a report has only a few kinds);
        ``pending``: the line's figures (columns 16-22) are not approved yet."""
        key = (node_bold, indent, warn, pending)
        found = self.rows.get(key)
        if found is None:
            found = self.rows[key] = [
                self.cell(
                    column,
                    node_bold and column >= 16,
                    indent,
                    warn and column == 12,
                    pending and column >= 16,
                )
                for column in range(1, NCOLS + 1)
            ]
        return found

    def cell(
        self, column: int, is_bold: bool, indent: int | None, warn: bool, pending: bool = False
    ) -> Format:
        """The format of a data cell in ``column`` (``indent``: the line's node level)."""
        if column == 1:
            kind = 1  # the sasaran number
        elif 4 <= column <= 12 or column == 19:
            kind = 4  # percents
        elif column in (20, 21):
            kind = 20  # rupiah
        elif column == 16 and indent is not None:
            kind = 16  # the node's name, indented by level
        else:
            kind = 0  # wrapped text
        key = (kind, is_bold, indent if kind == 16 else None, warn, pending)
        found = self.data.get(key)
        if found is None:
            props: dict[str, object] = {
                "font_size": _FONT_SIZE,
                "bold": is_bold,
                "border": 1,
                "valign": "top",
            }
            if kind in (1, 4):
                props["align"] = "center"
            if kind == 4:
                props["num_format"] = PERCENT_FORMAT
            elif kind == 20:
                props.update(align="right", num_format=MONEY_FORMAT)
            elif kind in (0, 16):
                props["text_wrap"] = True
                if kind == 16 and indent:
                    props["indent"] = indent
            if warn:
                props.update(pattern=1, bg_color=_WARN_FILL)
            elif pending:
                props.update(pattern=1, bg_color=_PENDING_FILL)
            found = self.data[key] = self.add(**props)
        return found


def write_xlsx(table: ReportTable, path_or_buffer: str | os.PathLike[str] | IO[bytes]) -> None:
    """Lay ``table`` out as the office's 22-column report, ready to print landscape."""
    wb = Workbook(path_or_buffer, WORKBOOK_OPTIONS)
    ws = wb.add_worksheet(f"TW {roman(table.triwulan)} {table.tahun}")
    fmt = _Formats(wb)
    last = NCOLS - 1  # columns are 0-based here

    for column, width in _WIDTHS.items():
        ws.set_column_pixels(column - 1, column - 1, width * _PIXELS_PER_CHAR)

    # Title: single cells in column A (merged across for centring) — the importer
    # recognises a report by exactly this shape.
    title = fmt.add(font_size=12, bold=True, align="center", valign="vcenter")
    for r, text in enumerate(table.title_rows):
        ws.merge_range(r, 0, r, last, "", title)
        ws.write_string(r, 0, strip_control(text), title)
        _height(ws, r, 18)

    top, sub = HEADER_TOP - 1, HEADER_TOP  # 0-based rows of the two header lines
    header = fmt.add(
        font_size=_FONT_SIZE,
        bold=True,
        border=1,
        align="center",
        valign="vcenter",
        text_wrap=True,
        pattern=1,
        bg_color=_HEADER_FILL,
    )
    numbers = fmt.add(
        font_size=_FONT_SIZE, border=1, align="center", valign="vcenter", text_wrap=True
    )
    header_lines = 1
    for column, text in HEADERS:
        c = column - 1
        if 4 <= column <= 11:
            ws.merge_range(top, c, top, c + 1, "", header)
            ws.write_string(sub, c, "T", header)
            ws.write_string(sub, c + 1, "R", header)
        else:
            ws.merge_range(top, c, sub, c, "", header)
            header_lines = max(header_lines, _lines_needed(text, _WIDTHS[column] * 0.9) - 1)
        ws.write_string(top, c, text, header)
    for c in range(NCOLS):
        ws.write_number(sub + 1, c, c + 1, numbers)
    _height(ws, top, max(15.0, header_lines * _LINE_HEIGHT + 4))
    _height(ws, sub, 15)

    write_string, write_number, write_blank = ws.write_string, ws.write_number, ws.write_blank
    r = FIRST_DATA_ROW - 1
    for status, row in table.rows_with_status():
        values = _table_values(row)
        node = row.node
        node_bold = node is not None and node.level in (Level.PROGRAM, Level.KEGIATAN)
        indent = _INDENT[node.level] if node is not None else None
        warn = row.indicator is not None and not capaian_plausible(row.indicator.capaian)
        pending = bool(status) and node is not None
        if pending:
            values[22] = pending_ket(status, str(values.get(22) or ""))
        lines = 1
        for column, cell_format in enumerate(fmt.row(node_bold, indent, warn, pending), start=1):
            value = values.get(column)
            if value is None:
                write_blank(r, column - 1, None, cell_format)
            elif isinstance(value, str):
                write_string(r, column - 1, _clean(value), cell_format)
                width = _WIDTHS[column] - (2 * indent if column == 16 and indent else 0)
                if len(value) > width or "\n" in value:  # else one line, surely
                    lines = max(lines, _lines_needed(value, width))
            else:
                write_number(r, column - 1, value, cell_format)
        if warn:
            # keep the value (it is what the report says) but mark it for the reader
            ws.write_comment(r, 11, IMPLAUSIBLE_NOTE, {"author": "monev-bot"})
        _height(ws, r, lines * _LINE_HEIGHT + 3)
        r += 1

    # Signature: single cells in column A, merged across and right-aligned so the block
    # stands at the right as on the paper report, and the importer still reads it.
    r += 1
    sig = table.signature
    sig_lines: list[tuple[str, bool]] = [
        (sig.tempat_tanggal, False),
        (sig.jabatan, True),
        ("", False),
        ("", False),
        ("", False),
        (sig.nama, True),
        (sig.nip, False),
    ]
    sig_formats = {
        b: fmt.add(font_size=10, bold=b, align="right", valign="vcenter") for b in (False, True)
    }
    for text, is_bold in sig_lines:
        if text:
            ws.merge_range(r, 0, r, last, "", sig_formats[is_bold])
            ws.write_string(r, 0, strip_control(text), sig_formats[is_bold])
        r += 1

    ws.freeze_panes(FIRST_DATA_ROW - 1, 0)
    ws.repeat_rows(top, sub + 1)
    ws.print_area(0, 0, r - 1, last)
    ws.set_landscape()
    # F4 (215 × 330 mm) has no code in the spreadsheet format; A4 scaled to the page
    # width prints on both.
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.25, right=0.25, top=0.4, bottom=0.4)
    ws.center_horizontally()
    ws.set_footer("&C&8 Halaman &P dari &N", {"margin": 0.2})
    # Visible on screen (header) and on paper, without touching the cells the importer reads.
    note = "Belum disetujui: " + "; ".join(table.unverified) if table.unverified else ""
    ws.set_header(header_text(note) if note else "", {"margin": 0.2})
    ws.set_zoom(90)
    add_plan_sheet(wb, table.plan, table.unverified, table.pending)
    wb.close()


# --- CSV -------------------------------------------------------------------------------------

# Read by people in a spreadsheet set to Indonesian: fields separated by ";" (a "," is the
# decimal mark there), decimals with a comma, headers in words, and a UTF-8 byte order mark
# so that names with accents open as they are written.
CSV_DELIMITER = ";"
CSV_COLUMNS = [
    "Tahun",
    "Triwulan",
    "Sasaran",
    "Tingkat",
    "Program/Kegiatan/Sub Kegiatan",
    "Indikator",
    "Target",
    "Pagu (Rp)",
    "Realisasi Anggaran (Rp)",
    "Realisasi Fisik (%)",
    "Serapan (%)",
    "Keterangan",
    "Status Verifikasi",
]
CSV_LEVEL = {
    Level.PROGRAM: "Program",
    Level.KEGIATAN: "Kegiatan",
    Level.SUB_KEGIATAN: "Sub Kegiatan",
}
CSV_FINAL = "final"  # approved, or imported from the office's own report


def csv_number(value: float | int | None) -> str:
    """A number as an Indonesian-locale spreadsheet reads it: no grouping, decimal comma
    (an integer stays whole: 4737119557; 64.7 -> 64,7); empty for no figure."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return format_decimal(round(value, 4), format="0.####")


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """The CSV document of ``rows`` (headers first), byte order mark included."""
    text = io.StringIO(newline="")
    w = csv.writer(text, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    w.writerows(rows)
    return "\ufeff" + text.getvalue()


def write_csv(table: ReportTable, path_or_buffer: str | os.PathLike[str] | IO[Any]) -> None:
    """One line per node with its figures: rupiah whole, percents in percent points."""
    status = {block.nomor: block.status for block in table.sasaran}
    rows: list[list[object]] = [list(CSV_COLUMNS)]
    for nomor, n in table.node_rows():
        waiting = status.get(nomor, "")
        rows.append(
            [
                table.tahun,
                table.triwulan,
                nomor,
                CSV_LEVEL.get(n.level, str(n.level)),
                csv_cell(n.nama),
                csv_cell(n.indikator),
                csv_cell(n.target),
                csv_number(n.pagu),
                csv_number(n.realisasi),
                csv_number(n.fisik),
                csv_number(n.serapan),
                csv_cell(n.ket),
                f"belum disetujui ({waiting})" if waiting else CSV_FINAL,
            ]
        )
    content = csv_text(rows)
    if isinstance(path_or_buffer, str | os.PathLike):
        with open(path_or_buffer, "w", encoding="utf-8", newline="") as f:
            f.write(content)
    elif isinstance(path_or_buffer, io.TextIOBase):
        path_or_buffer.write(content)
    else:
        path_or_buffer.write(content.encode("utf-8"))


# --- for the bot -----------------------------------------------------------------------------


def export_filename(tahun: int, tw: int, fmt: str) -> str:
    return f"laporan-kinerja-{tahun}-tw{tw}.{fmt}"


def export_bytes(
    session: Session,
    opd_id: int,
    tahun: int,
    tw: int,
    fmt: str = "xlsx",
    *,
    approved_only: bool = False,
) -> tuple[str, bytes]:
    """(file name, content) of one quarter's report, ready to send as a document."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ExportError(f"Format '{fmt}' tidak tersedia. Pilih xlsx atau csv.")
    buf = io.BytesIO()
    with collector_paused():  # hundreds of thousands of live objects at a large office's size
        table = build_report(session, opd_id, tahun, tw, approved_only=approved_only)
        if fmt == "xlsx":
            write_xlsx(table, buf)
        else:
            write_csv(table, buf)
    return export_filename(tahun, tw, fmt), buf.getvalue()
