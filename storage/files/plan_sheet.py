"""The "Rencana Penarikan" sheet of ``monev template``: the office's cumulative spending plan
per sub kegiatan for TW I..IV, written with the plan template and read back by
``monev rencana impor``.

One row per program, kegiatan and sub kegiatan of the year (programs and kegiatan are shown
for orientation; only sub kegiatan rows are read). Column A holds the node id, so a renamed
sub kegiatan is still found; its name must still match, so a sheet of another year or office
is refused rather than applied to the wrong rows. The report importer reads every sheet but
this one has no report title, so it is left alone there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from storage.data.models import Source
from storage.domain.early_warning import QUARTERS, national_label
from storage.domain.numbers import ParseError, parse_rupiah
from storage.domain.text import normalise_name, strip_control
from storage.files.workbook import BadFileError, Sheet, open_workbook, read_file_bytes
from storage.services.early_warning import EarlyWarningError, in_force, rencana_rows, set_rencana
from storage.services.queries import YearData, benchmarks

SHEET = "Rencana Penarikan"
TITLE = "RENCANA PENARIKAN ANGGARAN (KUMULATIF) TAHUN {tahun}"
HEADERS = (
    "ID",
    "Tingkat",
    "Program / Kegiatan / Sub Kegiatan",
    "Pagu",
    "Rencana s.d. TW I",
    "Rencana s.d. TW II",
    "Rencana s.d. TW III",
    "Rencana s.d. TW IV",
)
HEADER_ROW = 4
FIRST_ROW = 5
MAX_ROWS = 5_000
_LEVEL = {"program": "Program", "kegiatan": "Kegiatan", "sub_kegiatan": "Sub Kegiatan"}


def _walk(data: YearData) -> list[tuple[Any, int]]:
    """Every node in the year's plan in any quarter (a program added by a revision too)."""
    out: list[tuple[Any, int]] = []

    def active(n: Any) -> bool:
        return any(data.in_plan(n.id, q) for q in QUARTERS)

    def visit(n: Any, depth: int) -> None:
        out.append((n, depth))
        for k in data.kids.get(n.id, []):
            if active(k):
                visit(k, depth + 1)

    roots = [n for n in data.kids.get(None, []) if active(n)]
    for p in sorted(roots, key=lambda n: (data.sasaran[n.sasaran_id].nomor, n.urutan, n.id)):
        visit(p, 0)
    return out


def _plan_at(data: YearData, node_id: int) -> tuple[Any, bool]:
    """The earliest plan row of the node and whether it is a leaf there."""
    for q in QUARTERS:
        plan = data.plan(node_id, q)
        if plan is not None:
            return plan, not data.children(node_id, q)
    return None, not data.kids.get(node_id)


def add_rencana_sheet(session: Session, wb: Any, *, opd_id: int, tahun: int) -> None:
    """Add the sheet to a template workbook: the plan in force at TW I, with the office's
    latest plan of each sub kegiatan filled in where there is one."""
    from openpyxl.styles import Alignment, Font, PatternFill

    data = YearData(session, opd_id, tahun)
    rencana = rencana_rows(session, opd_id, tahun)
    ws = wb.create_sheet(SHEET)
    pola = national_label(benchmarks(session))
    ws.cell(row=1, column=1, value=TITLE.format(tahun=tahun)).font = Font(bold=True, size=12)
    ws.cell(
        row=2,
        column=1,
        value=(
            "Isi kolom E sampai H untuk setiap Sub Kegiatan (dan kegiatan tanpa sub "
            "kegiatan): jumlah rupiah yang direncanakan terserap SAMPAI AKHIR triwulan itu "
            "(kumulatif, tanpa Rp dan tanpa sen). Baris "
            "program dan kegiatan tidak perlu diisi: rencananya dijumlah dari sub kegiatan. "
            f"Sub kegiatan yang dikosongkan mengikuti pola nasional {pola} dari pagunya. "
            "Jangan mengubah kolom ID. Setelah diisi: monev rencana impor NAMA-BERKAS."
        ),
    ).alignment = Alignment(wrap_text=True, vertical="top")
    nodes = _walk(data)
    if not nodes:
        ws.cell(row=2, column=1).value = (
            f"Belum ada program dan sub kegiatan tahun {tahun} untuk kantor ini, jadi lembar ini "
            "belum berbaris. Isi dulu lembar pertama (Rencana) lalu impor: monev import "
            "NAMA-BERKAS. Sesudah itu buat templat lagi (monev template): lembar ini berisi "
            "satu baris per sub kegiatan untuk diisi rencana penarikan TW I–IV, lalu monev "
            "rencana impor NAMA-BERKAS. Sebelum diisi, peringatan dini memakai pola nasional "
            f"{pola} dari pagu."
        )
    ws.merge_cells("A2:H2")
    ws.row_dimensions[2].height = 60
    grey = PatternFill("solid", fgColor="D9D9D9")
    for c, text in enumerate(HEADERS, start=1):
        cell = ws.cell(row=HEADER_ROW, column=c, value=text)
        cell.font, cell.fill = Font(bold=True), grey
        cell.alignment = Alignment(wrap_text=True, horizontal="center")
    for col, width in zip("ABCDEFGH", (8, 14, 70, 18, 18, 18, 18, 18), strict=True):
        ws.column_dimensions[col].width = width
    r = FIRST_ROW
    for node, depth in nodes:
        plan, leaf = _plan_at(data, node.id)
        ws.cell(row=r, column=1, value=node.id)
        ws.cell(row=r, column=2, value=_LEVEL.get(str(node.level), str(node.level)))
        name = ws.cell(row=r, column=3, value=strip_control(node.nama))
        name.data_type = "s"  # a name is text, never a formula
        name.alignment = Alignment(indent=depth, wrap_text=True)
        ws.cell(row=r, column=4, value=plan.pagu if plan else None).number_format = "#,##0"
        row = in_force(rencana.get(node.id, []), 4) if leaf else None
        for q in QUARTERS:
            cell = ws.cell(row=r, column=4 + q, value=row.values[q - 1] if row else None)
            cell.number_format = "#,##0"
        if not leaf:
            for c in range(1, 9):
                ws.cell(row=r, column=c).font = Font(bold=True)
                ws.cell(row=r, column=c).fill = grey
        r += 1
    ws.freeze_panes = f"D{FIRST_ROW}"


@dataclass
class PlanLine:
    row: int
    node_id: int
    nama: str
    values: tuple[int | None, int | None, int | None, int | None]


@dataclass
class RencanaImport:
    tahun: int
    changed: int = 0
    unchanged: int = 0
    empty: int = 0  # sub kegiatan left empty: the national path stands in
    errors: list[str] = field(default_factory=list)


def _amount(value: object, where: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ParseError(f"{where}: bukan jumlah rupiah.")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != int(value):
            raise ParseError(f"{where}: rupiah harus bilangan bulat (tanpa sen).")
        return int(value)
    try:
        return parse_rupiah(str(value))
    except ParseError as exc:
        raise ParseError(f"{where}: {exc}") from None


def read_rencana_sheet(path: Path) -> tuple[int | None, list[PlanLine], list[str]]:
    """The year in the title, every line with an ID, and the errors found.

    Read through the one reader guard (storage.files.workbook), as every workbook is: a file
    over its bounds is one error, found before the sheet is read.
    """
    try:
        data = read_file_bytes(path)
        with open_workbook(data, path.name) as book:
            sheet = book.sheet(SHEET)
            if sheet is None:
                return (
                    None,
                    [],
                    [
                        f"Berkas {path.name} tidak memuat lembar '{SHEET}'. Buat templatnya "
                        "dengan monev template, isi lembar itu, lalu impor lagi."
                    ],
                )
            return _read_lines(sheet)
    except BadFileError as exc:
        return None, [], [str(exc)]


def _read_lines(sheet: Sheet) -> tuple[int | None, list[PlanLine], list[str]]:
    tahun: int | None = None
    lines: list[PlanLine] = []
    errors: list[str] = []
    for i, row in sheet.rows(8):
        if i > MAX_ROWS + FIRST_ROW:
            errors.append(f"Lembar '{SHEET}' lebih dari {MAX_ROWS} baris; dipotong.")
            break
        cells = [None if c is None else c.value for c in row]
        if i == 1 and isinstance(cells[0], str):
            digits = [w for w in cells[0].split() if w.isdecimal() and len(w) == 4]
            tahun = int(digits[-1]) if digits else None
        if i < FIRST_ROW or all(c is None for c in cells):
            continue
        if not isinstance(cells[0], int | float) or isinstance(cells[0], bool):
            errors.append(f"Baris {i}: kolom ID kosong atau diubah; jangan mengubah kolom A.")
            continue
        try:
            values = tuple(_amount(cells[3 + q], f"Baris {i}, rencana TW {q}") for q in QUARTERS)
        except ParseError as exc:
            errors.append(str(exc))
            continue
        lines.append(PlanLine(i, int(cells[0]), str(cells[2] or ""), values))  # type: ignore[arg-type]
    return tahun, lines, errors


def import_rencana(
    session: Session, path: Path, *, opd_id: int, dari_tw: int, actor: str
) -> RencanaImport:
    """Apply a filled sheet as the plan in force from ``dari_tw`` on; all or nothing: any
    error leaves every plan as it was (the caller rolls back) and is listed."""
    tahun, lines, errors = read_rencana_sheet(path)
    if tahun is None and not errors:
        errors.append(f"Judul lembar '{SHEET}' (baris 1) tidak memuat tahun; jangan diubah.")
    result = RencanaImport(tahun or 0, errors=errors)
    if errors:
        return result
    assert tahun is not None
    data = YearData(session, opd_id, tahun)
    for line in lines:
        node = data.nodes.get(line.node_id)
        if node is None or normalise_name(node.nama) != normalise_name(line.nama):
            result.errors.append(
                f"Baris {line.row}: ID {line.node_id} bukan sub kegiatan "
                f"'{line.nama[:60]}' tahun {tahun} perangkat daerah ini. Buat templat baru "
                "dengan monev template."
            )
            continue
        if all(v is None for v in line.values):
            # Programs and kegiatan with sub kegiatan are summed, not filled in.
            result.empty += not data.children(line.node_id, dari_tw)
            continue
        try:
            changed = set_rencana(
                session,
                node_id=line.node_id,
                dari_tw=dari_tw,
                values=line.values,
                actor=actor,
                source=Source.IMPORT,
            )
        except EarlyWarningError as exc:
            result.errors.append(f"Baris {line.row}: {exc}")
            continue
        if changed:
            result.changed += 1
        else:
            result.unchanged += 1
    return result
