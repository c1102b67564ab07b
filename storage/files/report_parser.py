"""Reading Laporan Kinerja Triwulan tables (22 columns) out of TSV text or XLSX files.

This module only reads: it turns a file into ``ParsedReport`` objects and knows nothing
of the database. The layout traps of real reports are handled here: column-number rows
at every page break, ``<b>`` marks, cells continued across pages, rows shifted by stray
tabs (columns are found by content), missing level prefixes (inferred from budget sums)
and the many money formats.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from storage.data.models import Level
from storage.domain.numbers import (
    ParseError,
    format_number,
    looks_like_rupiah,
    parse_percent,
    parse_rupiah,
)
from storage.domain.periods import QUARTER_NUMBER_PATTERN, parse_quarter
from storage.domain.report_format import KEGIATAN_RE, PROGRAM_RE, SUB_RE
from storage.domain.text import PENDING_KET_RE, strip_control
from storage.files.workbook import (
    MAX_FILE_BYTES,
    BadFileError,
    is_workbook,
    open_workbook,
    read_file_bytes,
)

# Bounds checked before anything is parsed. A year's four reports are about 1,300 lines of
# up to 25 columns and 1 KB; an XLSX of them unpacks to well under 1 MB.
MAX_LINES = 10_000
MAX_COLUMNS = 60
MAX_LINE_CHARS = 20_000
# Sheets monev writes beside a report or plan (early warning): never part of a report.
OWN_SHEETS = frozenset({"Rencana Penarikan", "Rencana dan Deviasi"})

_TITLE_RE = re.compile(
    rf"LAPORAN\s+KINERJA\s+TRIWULAN\s+(?P<tw>{QUARTER_NUMBER_PATTERN})\b"
    r"(?:\s+TAHUN\s+(?P<tahun>\d{4}))?",
    re.IGNORECASE,
)
_NIP_RE = re.compile(r"^NIP\.?\s*(?P<nip>[\d\s]+)$", re.IGNORECASE)
_MONTHS = "januari|februari|maret|april|mei|juni|juli|agustus|september|oktober|november|desember"
_PLACE_DATE_RE = re.compile(
    rf"^(?P<tempat>[^,]+),\s*(?:\d{{1,2}}\s+)?(?:{_MONTHS})\s+\d{{4}}$", re.I
)


@dataclass
class Line:
    no: int
    cells: list[str]


@dataclass
class ParsedNode:
    level: Level
    nama: str
    indikator: str
    target: str
    pagu: int | None
    realisasi: int | None
    fisik: float | None
    ket: str
    line_no: int
    bold: bool = False
    level_inferred: bool = False
    children: list[ParsedNode] = field(default_factory=list)

    def walk(self) -> list[ParsedNode]:
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out


@dataclass
class IndicatorRow:
    program: ParsedNode | None
    values: dict[int, tuple[float | None, float | None]]  # tw -> (T, R)
    capaian: float | None
    line_no: int
    future: dict[int, tuple[float | None, float | None]] = field(default_factory=dict)


@dataclass
class NarasiRow:
    program: ParsedNode | None
    aksi: str
    hambatan: str
    tindak_lanjut: str
    line_no: int


@dataclass
class ParsedSasaran:
    nomor: int
    teks: str
    indikator: str
    line_no: int
    programs: list[ParsedNode] = field(default_factory=list)
    indicators: list[IndicatorRow] = field(default_factory=list)
    narasi: list[NarasiRow] = field(default_factory=list)


@dataclass
class ParsedReport:
    triwulan: int
    tahun: int | None
    opd_nama: str
    first_line: int
    sasaran: list[ParsedSasaran] = field(default_factory=list)
    tempat_tanggal: str = ""
    nama_kepala: str = ""
    nip_kepala: str = ""
    digest: str = ""
    problems: list[str] = field(default_factory=list)  # cells that could not be read
    # What the file states that its own amounts contradict (a percentage, a parent's total):
    # (the node it is about, or None for the whole table; the message). Kept as findings.
    notes: list[tuple[ParsedNode | None, str]] = field(default_factory=list)

    def nodes(self) -> list[ParsedNode]:
        return [n for s in self.sasaran for p in s.programs for n in p.walk()]


# --- reading files ---------------------------------------------------------------------------


def read_lines(path: Path) -> list[Line]:
    """Read a TSV text file or an XLSX workbook into rows of string cells."""
    return read_bytes(read_file_bytes(path), name=path.name)


def read_bytes(data: bytes, *, name: str = "berkas") -> list[Line]:
    if not data.strip():
        raise BadFileError(f"{name} kosong: tidak ada laporan di dalamnya.")
    if len(data) > MAX_FILE_BYTES:
        raise BadFileError(
            f"{name} terlalu besar (lebih dari {MAX_FILE_BYTES // (1024 * 1024)} MB). "
            "Laporan triwulan biasanya di bawah 1 MB."
        )
    if data.startswith(b"%PDF"):
        raise BadFileError(
            f"{name} adalah PDF, bukan XLSX atau teks. Simpan laporan sebagai XLSX "
            "(Excel) atau teks bertab (TSV), lalu impor lagi."
        )
    if is_workbook(data):
        return _read_xlsx(data, name)
    if b"\x00" in data[:4096]:
        raise BadFileError(f"{name} bukan berkas teks atau XLSX yang bisa dibaca.")
    # Counted on the raw bytes, before the text is decoded or split: junk is refused without
    # building millions of strings first.
    if data.count(b"\n") >= MAX_LINES:
        raise BadFileError(
            f"{name} berisi lebih dari {format_number(MAX_LINES)} baris; laporan triwulan "
            "biasanya di bawah 2.000 baris. Periksa apakah berkasnya benar."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines: list[Line] = []
    for i, line in enumerate(text.splitlines(), 1):
        if len(line) > MAX_LINE_CHARS:
            raise BadFileError(
                f"{name} baris {i} terlalu panjang ({format_number(len(line))} karakter; "
                f"batasnya {format_number(MAX_LINE_CHARS)}). Berkas ini tampaknya bukan laporan "
                "bertab."
            )
        cells = line.split("\t")
        if len(cells) > MAX_COLUMNS:
            raise BadFileError(
                f"{name} baris {i} berisi {len(cells)} kolom; laporan memakai 22 kolom "
                f"(batasnya {MAX_COLUMNS}). Periksa tab yang berlebih di baris itu."
            )
        lines.append(Line(i, cells))
    return lines


def _xlsx_cell_text(cell) -> str:  # type: ignore[no-untyped-def]
    value = None if cell is None else cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        if "%" in (cell.number_format or ""):
            return f"{value * 100:.2f}%"
        if float(value).is_integer() and abs(value) >= 1000:
            return f"{int(value):,}"
        return f"{value:g}" if isinstance(value, float) else str(value)
    text = str(value)
    # A cell of one workbook row may hold line breaks; a TSV row never does.
    return re.sub(r"\s*\n\s*", " ", text)


def _read_xlsx(data: bytes, name: str) -> list[Line]:
    lines: list[Line] = []
    no = 0
    # Bounded by the one reader guard (storage.files.workbook): parts, unpacked size, rows,
    # cells per row, total cells, cell text and time.
    with open_workbook(data, name) as book:
        for sheet in book.sheets():
            if sheet.title in OWN_SHEETS:
                continue
            # Cells right of MAX_COLUMNS are never built, however wide the sheet is. Rows are
            # as wide as the sheet says and numbered as the sheet numbers them (the digest
            # and the row numbers of a file imported before stay what they were).
            width = min(sheet.width or MAX_COLUMNS, MAX_COLUMNS)
            previous = sheet.first_row - 1
            for idx, row in sheet.rows(width):
                no += max(idx - previous, 1)
                previous = idx
                if all(c is None or c.value is None for c in row):
                    continue  # empty rows separate nothing the parser needs; not kept
                if len(lines) >= MAX_LINES:
                    raise BadFileError(
                        f"{name} (lembar {sheet.title}) berisi lebih dari "
                        f"{format_number(MAX_LINES)} baris terisi; laporan triwulan biasanya di "
                        "bawah 2.000 baris."
                    )
                lines.append(Line(no, [_xlsx_cell_text(c) for c in row]))
            no += 1
            lines.append(Line(no, []))
    return lines


# --- parsing -----------------------------------------------------------------------------------


_BOLD_TAG_RE = re.compile(r"</?b>")
_SPACES_RE = re.compile(r"\s+")


def _clean(text: str) -> str:
    if not text:  # most cells of a report are empty
        return ""
    # Control characters never reach the database (see storage.domain.text).
    text = _BOLD_TAG_RE.sub("", strip_control(text))
    text = text.replace("**", "")
    return _SPACES_RE.sub(" ", text).strip()


def _is_bold(text: str) -> bool:
    return "<b>" in (text or "")


def _is_column_numbers(cells: list[str]) -> bool:
    vals = [c.strip() for c in cells if c.strip()]
    return len(vals) >= 10 and vals == [str(i) for i in range(1, len(vals) + 1)]


def _is_header(cells: list[str]) -> bool:
    joined = " ".join(c.upper() for c in cells)
    return "SASARAN" in joined and "PROGRAM" in joined and "ANGGARAN" in joined


def _is_tr_header(cells: list[str]) -> bool:
    vals = [c.strip().upper() for c in cells if c.strip()]
    return bool(vals) and set(vals) <= {"T", "R"}


def _single_text(cells: list[str]) -> str | None:
    """Text of a line outside the table (title, signature): only its first cell is filled."""
    if not cells or not cells[0].strip() or any(c.strip() for c in cells[1:]):
        return None
    return _clean(cells[0])


def _percent_or_none(raw: str, problems: list[str], where: str) -> float | None:
    text = _clean(raw)
    if not text or text == "-":
        return None
    try:
        return parse_percent(text)
    except ParseError:
        problems.append(f"{where}: persentase '{text}' tidak terbaca")
        return None


def _money_or_none(raw: str, problems: list[str], where: str) -> int | None:
    text = _clean(raw)
    if not text:
        return None
    try:
        return parse_rupiah(text)
    except ParseError:
        problems.append(f"{where}: jumlah '{text}' tidak terbaca")
        return None


def _looks_percent(raw: str) -> bool:
    return bool(re.fullmatch(r"-?\d{1,6}([.,]\d+)?\s*%", _clean(raw)))


def _find_money_anchor(cells: list[str]) -> int | None:
    """Index of the pagu cell: the first amount at or right of column 18 followed by another."""
    for i in range(17, len(cells)):
        if not looks_like_rupiah(cells[i]):
            continue
        nxt = _clean(cells[i + 1]) if i + 1 < len(cells) else ""
        # A workbook amount below 1000 (a realisation of 0) is read without grouping.
        if looks_like_rupiah(nxt) or nxt in {"", "-"} or re.fullmatch(r"\d{1,3}", nxt):
            return i
    return None


def _find_name_anchor(cells: list[str]) -> int | None:
    for i in range(13, min(len(cells), 20)):
        t = _clean(cells[i])
        if PROGRAM_RE.match(t) or SUB_RE.match(t) or KEGIATAN_RE.match(t):
            return i
    return None


@dataclass
class _Row:
    """One table row with its columns located."""

    line: Line
    name_at: int | None
    money_at: int | None

    def cell(self, i: int | None) -> str:
        if i is None or i < 0 or i >= len(self.line.cells):
            return ""
        return self.line.cells[i]


def _locate(line: Line) -> _Row:
    cells = line.cells
    money_at = _find_money_anchor(cells)
    name_at = money_at - 4 if money_at is not None else _find_name_anchor(cells)
    if name_at is not None and name_at < 12:
        name_at, money_at = None, None
    return _Row(line, name_at, money_at)


def parse_lines(lines: list[Line], *, name: str = "berkas") -> list[ParsedReport]:
    """Find every report in ``lines`` and parse it."""
    reports: list[ParsedReport] = []
    current: _ReportBuilder | None = None
    opd_line = ""
    saw_header = False
    for line in lines:
        cells = line.cells
        if not any(c.strip() for c in cells):
            continue
        single = _single_text(cells)
        if single is not None:
            m = _TITLE_RE.search(single)
            if m:
                if current is not None:
                    reports.append(current.finish())
                tahun = int(m.group("tahun")) if m.group("tahun") else None
                tw = parse_quarter(m.group("tw"))
                assert tw is not None  # the title pattern matches quarter numbers only
                current = _ReportBuilder(
                    ParsedReport(
                        triwulan=tw,
                        tahun=tahun,
                        opd_nama=opd_line,
                        first_line=line.no,
                    )
                )
                saw_header = False
                continue
            if current is not None and saw_header:
                current.signature_line(single)
            # The office's name stands right above the next title.
            opd_line = single
            continue
        if current is None:
            continue
        if _is_header(cells):
            saw_header = True
            continue
        if _is_tr_header(cells) or _is_column_numbers(cells):
            continue
        if not saw_header:
            continue
        current.row(_locate(line))
    if current is not None:
        reports.append(current.finish())
    if not reports:
        raise BadFileError(
            f"Tidak ada Laporan Kinerja Triwulan di {name}. Berkas harus memuat judul "
            "'LAPORAN KINERJA TRIWULAN … TAHUN …' dan tabel 22 kolom."
        )
    for r in reports:
        if not r.sasaran:
            raise BadFileError(
                f"Laporan triwulan {r.triwulan} (baris {r.first_line}) di {name} tidak berisi "
                "tabel 22 kolom yang terbaca: tidak ada baris sasaran dengan nomor di kolom 1."
            )
    return reports


class _ReportBuilder:
    def __init__(self, report: ParsedReport) -> None:
        self.r = report
        self.sasaran: ParsedSasaran | None = None
        self.program: ParsedNode | None = None
        self.kegiatan: ParsedNode | None = None
        self.digest = hashlib.sha256()
        self.sig_state = ""

    # Signature block: "Koto Baru, Oktober 2022" / "KEPALA," / name / "NIP. …"
    def signature_line(self, text: str) -> None:
        self.digest.update(text.encode())
        if _PLACE_DATE_RE.match(text):
            self.r.tempat_tanggal = text
        elif text.upper().rstrip(",") == "KEPALA":
            self.sig_state = "kepala"
        elif m := _NIP_RE.match(text):
            self.r.nip_kepala = re.sub(r"\s+", "", m.group("nip"))
        elif self.sig_state == "kepala" and not self.r.nama_kepala:
            self.r.nama_kepala = text

    def row(self, row: _Row) -> None:
        cells = row.line.cells
        self.digest.update("\t".join(cells).encode() + b"\n")
        where = f"baris {row.line.no}"
        problems = self.r.problems
        nomor = _clean(row.cell(0))
        if nomor.isdecimal() and 0 < int(nomor) < 100:
            self.sasaran = ParsedSasaran(
                nomor=int(nomor),
                teks=_clean(row.cell(1)),
                indikator=_clean(row.cell(2)),
                line_no=row.line.no,
            )
            self.r.sasaran.append(self.sasaran)
            self.program = self.kegiatan = None
        elif self.sasaran is not None:
            # A sasaran's text or indicator continued from the previous page.
            if _clean(row.cell(1)):
                self.sasaran.teks = f"{self.sasaran.teks} {_clean(row.cell(1))}".strip()
            if _clean(row.cell(2)):
                self.sasaran.indikator = f"{self.sasaran.indikator} {_clean(row.cell(2))}".strip()
        if self.sasaran is None:
            return

        node = self._node(row, where) if row.name_at is not None else None
        if node is not None and node.level is Level.PROGRAM:
            self.program, self.kegiatan = node, None
        program_here = node if node is not None and node.level is Level.PROGRAM else None

        tr_cells = [row.cell(i) for i in range(3, 11)]
        if any(_clean(c) for c in tr_cells):
            values: dict[int, tuple[float | None, float | None]] = {}
            future: dict[int, tuple[float | None, float | None]] = {}
            for tw in range(1, 5):
                t = _percent_or_none(tr_cells[2 * (tw - 1)], problems, where)
                r = _percent_or_none(tr_cells[2 * (tw - 1) + 1], problems, where)
                if t is None and r is None:
                    continue
                (values if tw <= self.r.triwulan else future)[tw] = (t, r)
            capaian = None
            last = row.name_at - 1 if row.name_at is not None else len(cells) - 1
            for i in range(11, max(last, 11) + 1):
                if _looks_percent(row.cell(i)):
                    capaian = _percent_or_none(row.cell(i), problems, where)
                    break
            self.sasaran.indicators.append(
                IndicatorRow(program_here or self.program, values, capaian, row.line.no, future)
            )
        if row.name_at is not None and row.name_at >= 15:
            # A stray percent in these cells is column 12 that slid right, not text.
            aksi, hambatan, tl = (
                "" if _looks_percent(c) else _clean(c)
                for c in (row.cell(row.name_at - k) for k in (3, 2, 1))
            )
            if aksi or hambatan or tl:
                self.sasaran.narasi.append(
                    NarasiRow(program_here or self.program, aksi, hambatan, tl, row.line.no)
                )

    def _node(self, row: _Row, where: str) -> ParsedNode | None:
        assert self.sasaran is not None
        raw_name = row.cell(row.name_at)
        nama = _clean(raw_name)
        if not nama:
            return None
        problems = self.r.problems
        m = row.money_at
        pagu = _money_or_none(row.cell(m), problems, where) if m is not None else None
        realisasi_raw = _clean(row.cell(m + 1)) if m is not None else ""
        ket = _clean(row.cell(m + 2)) if m is not None else ""
        # The mark an export puts on figures not approved yet is not part of the KET.
        ket = PENDING_KET_RE.sub("", ket)
        if re.fullmatch(r"(?i)rp\.?", realisasi_raw) and ket in {"-", ""}:
            # "Rp -" (nothing spent) split over two cells by the export.
            realisasi_raw, ket = "Rp -", ""
        realisasi = _money_or_none(realisasi_raw, problems, where) if m is not None else None
        assert row.name_at is not None
        node = ParsedNode(
            level=Level.PROGRAM,
            nama=nama,
            indikator=_clean(row.cell(row.name_at + 1)),
            target=_clean(row.cell(row.name_at + 2)),
            pagu=pagu,
            realisasi=realisasi,
            fisik=_percent_or_none(row.cell(row.name_at + 3), problems, where),
            ket=ket,
            line_no=row.line.no,
            bold=_is_bold(raw_name),
        )
        if PROGRAM_RE.match(nama):
            self.sasaran.programs.append(node)
            return node
        if self.program is None and KEGIATAN_RE.match(nama):
            # A plan without programs (an office whose own reports have none, as monev exports
            # it): the kegiatan stands at the top of its sasaran.
            node.level = Level.KEGIATAN
            self.sasaran.programs.append(node)
            self.kegiatan = node
            return node
        if self.program is None and self.kegiatan is not None:
            node.level = Level.SUB_KEGIATAN
            self.kegiatan.children.append(node)
            return node
        if self.program is None and SUB_RE.match(nama):
            node.level = Level.SUB_KEGIATAN  # a plan of sub kegiatan alone
            self.sasaran.programs.append(node)
            return node
        if self.program is None:
            problems.append(f"{where}: '{nama[:60]}' muncul sebelum program mana pun; dilewati")
            return None
        if SUB_RE.match(nama):
            node.level = Level.SUB_KEGIATAN
        elif KEGIATAN_RE.match(nama):
            node.level = Level.KEGIATAN
        else:
            node.level = self._infer_level(node)
            node.level_inferred = True
        if node.level is Level.KEGIATAN:
            self.program.children.append(node)
            self.kegiatan = node
        elif self.kegiatan is not None:
            self.kegiatan.children.append(node)
        else:
            self.program.children.append(node)
        return node

    def _infer_level(self, node: ParsedNode) -> Level:
        """A row without a level prefix: children add up to their parent, so sums decide."""
        if node.bold or self.kegiatan is None:
            return Level.KEGIATAN
        k = self.kegiatan
        if k.pagu is None or node.pagu is None:
            return Level.SUB_KEGIATAN
        used = sum(c.pagu or 0 for c in k.children)
        return Level.SUB_KEGIATAN if used + node.pagu <= k.pagu else Level.KEGIATAN

    def finish(self) -> ParsedReport:
        self.r.digest = self.digest.hexdigest()
        return self.r
