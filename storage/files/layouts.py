"""Realisation tables in the layouts offices already have, recognised by headers and content.

The seed's 22-column Laporan Kinerja Triwulan has its own reader (``report_parser``); this
module reads what other offices hold (docs/domain.md, issue 25):

- pages exported from kinerja apps: "Kegiatan :" / "Sub-Kegiatan :" label rows, an allocation
  and the realisation of each month (not cumulative), a year in one table;
- tables of a Laporan Kinerja (LKj): ``NO | Indikator | Program/Kegiatan | Anggaran (Rp) |
  Realisasi (Rp) | Capaian (%)`` under a caption, money on sub kegiatan rows only;
- budget-system exports: a Kode column that gives the level, pagu, realisation in rupiah
  and percent, physical realisation; a sheet per bidang or per month;

with headers over several rows and merged cells, either number convention, as XLSX, TSV or
text copied from a PDF. Nothing here knows the database: a file becomes a ``Layout`` (what
each column means, the tree of nodes with their figures per quarter, the period, and the
findings: stated percentages or totals that disagree with the amounts), or is refused with a
``BadFileError`` that says what was found and what to do next.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from storage.data.models import Level
from storage.domain.number_style import Number, Style, StyleVote, is_dash, number_of
from storage.domain.numbers import format_number, format_percent, format_rupiah
from storage.domain.periods import MONTHS, QUARTER_NUMBERS, roman, semester_quarter
from storage.domain.text import strip_control
from storage.files.report_parser import _BOLD_TAG_RE, Line, _is_bold, read_bytes
from storage.files.workbook import BadFileError, is_workbook, open_workbook

if TYPE_CHECKING:
    from openpyxl.cell.read_only import ReadOnlyCell

MAX_COLUMNS = 60
MAX_ROWS = 20_000  # filled rows of all sheets; a year of a 100x office is some 8,000
HEADER_SEARCH = 80  # a table's header starts within this many rows of its sheet

# --- what a column means -----------------------------------------------------------------------


class Meaning(StrEnum):
    NO = "nomor"
    KODE = "kode"
    NAMA = "nama"
    INDIKATOR = "indikator"
    TARGET = "target"
    SATUAN = "satuan"
    PAGU = "pagu"
    REALISASI = "realisasi"
    PERSEN = "persen"
    FISIK = "fisik"
    BULAN = "bulan"
    TW = "tw"
    JUMLAH = "jumlah"
    KET = "ket"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Meaning.NO: "nomor urut",
    Meaning.KODE: "kode (menentukan tingkat)",
    Meaning.NAMA: "nama program/kegiatan/sub kegiatan",
    Meaning.INDIKATOR: "indikator",
    Meaning.TARGET: "target",
    Meaning.SATUAN: "satuan target",
    Meaning.PAGU: "pagu (Rp)",
    Meaning.REALISASI: "realisasi keuangan (Rp)",
    Meaning.PERSEN: "realisasi keuangan (%) tertulis, dibandingkan dengan rupiahnya",
    Meaning.FISIK: "realisasi fisik (%)",
    Meaning.BULAN: "realisasi bulan",
    Meaning.TW: "realisasi kumulatif triwulan",
    Meaning.JUMLAH: "jumlah bulan tertulis, dibandingkan dengan jumlahnya",
    Meaning.KET: "keterangan",
}
# Meanings a table has at most one column of; a second one is a question for the user.
SINGLE = frozenset(
    {Meaning.KODE, Meaning.PAGU, Meaning.REALISASI, Meaning.PERSEN, Meaning.FISIK, Meaning.JUMLAH}
)
MONEY = frozenset({Meaning.PAGU, Meaning.REALISASI, Meaning.BULAN, Meaning.TW, Meaning.JUMLAH})
PERCENT = frozenset({Meaning.PERSEN, Meaning.FISIK})
# Names the user may give --kolom (pagu=D, realisasi=E, bulan=G:R ...).
OPTION_NAMES: dict[str, Meaning] = {
    "no": Meaning.NO,
    "nomor": Meaning.NO,
    "kode": Meaning.KODE,
    "nama": Meaning.NAMA,
    "uraian": Meaning.NAMA,
    "indikator": Meaning.INDIKATOR,
    "target": Meaning.TARGET,
    "satuan": Meaning.SATUAN,
    "pagu": Meaning.PAGU,
    "anggaran": Meaning.PAGU,
    "realisasi": Meaning.REALISASI,
    "persen": Meaning.PERSEN,
    "fisik": Meaning.FISIK,
    "bulan": Meaning.BULAN,
    "tw": Meaning.TW,
    "jumlah": Meaning.JUMLAH,
    "ket": Meaning.KET,
}


@dataclass
class Column:
    index: int
    meaning: Meaning
    header: str  # the header text over all header rows, as written
    period: int | None = None  # the month (BULAN) or quarter (TW) of the column
    given: bool = False  # named by --kolom or a remembered mapping

    @property
    def letter(self) -> str:
        return column_letter(self.index)

    @property
    def label(self) -> str:
        if self.meaning is Meaning.BULAN:
            return f"realisasi bulan {self.period}"
        if self.meaning is Meaning.TW:
            return f"realisasi kumulatif TW {roman(self.period or 1)}"
        return self.meaning.label


def column_letter(index: int) -> str:
    out, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def column_index(letter: str) -> int:
    n = 0
    for ch in letter.strip().upper():
        if not "A" <= ch <= "Z":
            raise ValueError(letter)
        n = n * 26 + ord(ch) - 64
    if not 1 <= n <= MAX_COLUMNS:
        raise ValueError(letter)
    return n - 1


def parse_kolom(text: str) -> dict[Meaning, list[int]]:
    """``pagu=D,realisasi=E,bulan=G:R`` -> {PAGU: [3], REALISASI: [4], BULAN: [6..17]}."""
    out: dict[Meaning, list[int]] = {}
    for part in re.split(r"[,;\n]+", text or ""):
        part = part.split("#", 1)[0].strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        meaning = OPTION_NAMES.get(key.strip().lower())
        if not sep or meaning is None:
            names = ", ".join(sorted(OPTION_NAMES))
            raise BadFileError(
                f"Pemetaan kolom '{part}' tidak dikenal. Tulis NAMA=HURUF, misalnya "
                f"pagu=D,realisasi=E (nama yang dikenal: {names}; bulan=G:R untuk 12 kolom "
                "bulan, tw=F:I untuk 4 kolom triwulan)."
            )
        try:
            first, _, last = value.strip().partition(":")
            a = column_index(first)
            b = column_index(last) if last else a
        except ValueError:
            raise BadFileError(
                f"Kolom '{value.strip()}' pada '{part}' bukan huruf kolom (A sampai "
                f"{column_letter(MAX_COLUMNS - 1)})."
            ) from None
        out[meaning] = list(range(min(a, b), max(a, b) + 1))
    return out


_MONTH_TOKENS = {**MONTHS, "ags": 8, "okto": 10}
_FULL_MONTHS = {w: m for w, m in MONTHS.items() if len(w) >= 4 or w == "mei"}
_OFFICE_LABEL_RE = re.compile(
    r"^(?:perangkat\s+daerah|opd|skpd|unit\s+kerja|satuan\s+kerja|instansi|unit\s+organisasi)"
    r"\s*:\s*(.+)$",
    re.I,
)
_OFFICE_NAME_RE = re.compile(
    r"\b((?:dinas|badan|kantor|inspektorat|sekretariat|satuan\s+polisi)\b.*?)"
    r"(?=\s+(?:tahun|triwulan|tw|periode|s\.?\s*d\.?|semester)\b|$)",
    re.I,
)
# An LKj caption ("Tabel 19 Realisasi Keuangan ... Tahun 2023") reports a whole year.
_ANNUAL_RE = re.compile(
    r"^tabel\b|\btabel\s+[\d.]+|\btahunan\b|\bakhir\s+tahun\b|s\.?\s*d\.?\s+desember"
)
_CUMULATIVE_RE = re.compile(r"\b(s\.?\s*d\b\.?|sd\b|sampai|kumulatif)")
_QUARTER_WORDS = {"tw", "trw", "triwulan", "twl", "kuartal"}


def _norm(text: str) -> str:
    t = strip_control(text or "").lower().replace("/", " / ")
    t = re.sub(r"[()\[\]:*]", " ", t)
    t = re.sub(r"(?<=\d)\.(?=\s|$)", " ", t)
    return " ".join(t.split())


def classify(header: str, previous: Meaning | None = None) -> tuple[Meaning | None, int | None]:
    """What a column with this header (over every header row) holds, and its period."""
    h = _norm(header)
    if not h:
        return None, None
    words = h.replace("/", " ").replace(".", " ").split()
    last = words[-1] if words else ""
    if re.search(r"\bkode\b", h):
        return Meaning.KODE, None
    if h in {"no", "nomor", "no urut", "#"}:
        return Meaning.NO, None
    if last in _MONTH_TOKENS and not {"s", "d", "sd"} & set(words[-3:]):
        return Meaning.BULAN, _MONTH_TOKENS[last]
    if last.isdecimal() and 1 <= int(last) <= 12 and ("bulan" in words or "bln" in words):
        return Meaning.BULAN, int(last)
    quarter = len(words) >= 2 and words[-2] in _QUARTER_WORDS and last in QUARTER_NUMBERS
    if quarter and "target" not in words and "rencana" not in words:
        return Meaning.TW, QUARTER_NUMBERS[last]
    if "fisik" in words:
        return Meaning.FISIK, None
    if words[0] in {"jumlah", "total"} and "anggaran" not in words and "pagu" not in words:
        return Meaning.JUMLAH, None
    if "realisasi" in words or "capaian" in words:
        if "kinerja" in words or "output" in words or "target" in words:
            return None, None  # performance realisation: not money
        if "%" in h or "persen" in words:
            return Meaning.PERSEN, None
        return Meaning.REALISASI, None
    if h in {"%", "persen"} and previous in {Meaning.REALISASI, Meaning.JUMLAH}:
        return Meaning.PERSEN, None
    if re.search(r"\b(pagu|anggaran|alokasi|dpa|apbd)\b", h):
        return Meaning.PAGU, None
    if "indikator" in words:
        return Meaning.INDIKATOR, None
    if "target" in words:
        return Meaning.TARGET, None
    if "satuan" in words:
        return Meaning.SATUAN, None
    if re.search(r"\b(uraian|program|kegiatan|nama)\b", h):
        return Meaning.NAMA, None
    if words[0] in {"ket", "keterangan"}:
        return Meaning.KET, None
    return None, None


_HEADER_WORDS = re.compile(
    r"\b(no|nomor|kode|uraian|program|kegiatan|indikator|target|satuan|pagu|anggaran|alokasi|"
    r"realisasi|capaian|fisik|keuangan|jumlah|ket|keterangan|bulan|tw|triwulan|rp)\b|%",
    re.IGNORECASE,
)
_NAME_OR_MONEY = re.compile(
    r"\b(uraian|program|kegiatan|pagu|anggaran|alokasi|realisasi)\b", re.IGNORECASE
)


# --- input -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Cell:
    text: str
    value: int | float | None = None  # a workbook number (never ambiguous)
    percent: bool = False  # a workbook number shown as a percentage (0.9847 = 98,47%)
    bold: bool = False
    indent: int = 0


@dataclass
class Row:
    no: int
    cells: list[Cell | None]

    def cell(self, i: int) -> Cell | None:
        return self.cells[i] if 0 <= i < len(self.cells) else None

    def text(self, i: int) -> str:
        c = self.cell(i)
        return c.text if c is not None else ""

    def texts(self) -> list[str]:
        return [c.text if c is not None else "" for c in self.cells]

    def filled(self) -> list[int]:
        return [i for i, c in enumerate(self.cells) if c is not None and c.text]


@dataclass
class Sheet:
    title: str
    rows: list[Row]
    merged: list[str] = field(default_factory=list)
    text_lines: bool = False  # text copied from a PDF: one cell a line, columns by spaces


def read_sheets(data: bytes, name: str, lines: list[Line] | None = None) -> list[Sheet]:
    """The rows of every sheet of an XLSX, or of a text file (tab-separated, or copied from a
    PDF), each bounded like every reader (storage.files.workbook, report_parser.read_bytes).
    ``lines``: the text file as ``read_bytes`` read it already (not read twice)."""
    if is_workbook(data):
        return _read_workbook(data, name)
    if lines is None:
        lines = read_bytes(data, name=name)
    tabbed = sum(1 for line in lines if len(line.cells) > 1)
    filled = sum(1 for line in lines if any(c.strip() for c in line.cells)) or 1
    rows: list[Row] = []
    for line in lines:
        cells: list[Cell | None] = []
        for raw in line.cells:
            text = strip_control(raw)
            bold = _is_bold(text)  # the marks some exports put around kegiatan rows
            text = _BOLD_TAG_RE.sub("", text).replace("**", "")
            stripped = text.strip()
            indent = (len(text) - len(text.lstrip(" "))) // 2 if stripped else 0
            cells.append(
                Cell(" ".join(stripped.split()), bold=bold, indent=indent) if stripped else None
            )
        rows.append(Row(line.no, cells))
    return [Sheet("", rows, text_lines=tabbed < filled * 0.2)]


def _read_workbook(data: bytes, name: str) -> list[Sheet]:
    sheets: list[Sheet] = []
    total = 0
    with open_workbook(data, name) as book:
        for ws in book.sheets():
            if ws.title in {"Rencana Penarikan", "Rencana dan Deviasi", "Petunjuk"}:
                continue  # monev's own sheets beside a report or template
            rows: list[Row] = []
            for idx, raw in ws.rows(MAX_COLUMNS):
                cells = [_workbook_cell(c) for c in raw]
                if not any(cells):
                    continue
                total += 1
                if total > MAX_ROWS:
                    raise BadFileError(
                        f"{name} berisi lebih dari {format_number(MAX_ROWS)} baris terisi; "
                        "laporan satu tahun sebuah perangkat daerah jauh lebih kecil."
                    )
                rows.append(Row(idx, cells))
            sheets.append(Sheet(ws.title, rows, ws.merged or []))
    return sheets


def _workbook_cell(c: ReadOnlyCell | None) -> Cell | None:
    if c is None or c.value is None:
        return None
    v = c.value
    if isinstance(v, bool):
        return Cell(str(v))
    if isinstance(v, int | float):
        pct = "%" in (c.number_format or "")
        return Cell(f"{v}", value=v, percent=pct)
    if not isinstance(v, str):
        return Cell(str(v))  # a date: shown as text, never a figure
    text = " ".join(strip_control(v).split())
    if not text:
        return None
    font, align = c.font, c.alignment
    return Cell(
        text,
        bold=bool(font is not None and font.b),
        indent=int(align.indent or 0) if align is not None else 0,
    )


# --- the result --------------------------------------------------------------------------------


@dataclass
class Node:
    """A program, kegiatan or sub kegiatan with its figures as the file gives them."""

    level: Level
    nama: str
    line: str  # where: "baris 12" or "lembar Bina Marga baris 12"
    row_no: int
    kode: str = ""
    indikator: str = ""
    target: str = ""
    ket: str = ""
    pagu: int | None = None
    pagu_by_month: dict[int, int | None] = field(default_factory=dict)  # sheets per month
    months: dict[int, int] = field(default_factory=dict)  # realisation of the month
    cumulative: dict[int, int] = field(default_factory=dict)  # quarter -> cumulative
    month_cumulative: dict[int, int] = field(default_factory=dict)  # month -> cumulative
    fisik: float | None = None
    stated_percent: float | None = None
    stated_sum: int | None = None
    bidang_hint: str = ""
    children: list[Node] = field(default_factory=list)

    def walk(self) -> Iterable[Node]:
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass
class Layout:
    """A recognised file: enough to import it and to show what was understood."""

    name: str
    kind: str  # how the table was recognised, in words
    header_rows: str  # e.g. "baris 4–5"
    columns: list[Column]
    samples: dict[int, list[str]]  # column index -> two sample values as written
    style: Style
    tahun: int
    quarters: list[int]  # quarters with figures, imported
    period_note: str  # where the period came from, in words
    roots: list[Node]
    office: str  # the office the file names, "" when none
    findings: list[tuple[Node | None, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped_quarters: list[str] = field(default_factory=list)
    signature: str = ""  # the shape of the header: a remembered mapping is found by it
    digest: str = ""
    first_row: int = 0

    def nodes(self) -> list[Node]:
        return [n for r in self.roots for n in r.walk()]

    def counts(self) -> dict[Level, int]:
        out = {lv: 0 for lv in Level}
        for n in self.nodes():
            out[n.level] += 1
        return out


@dataclass
class Options:
    tahun: int | None = None
    tw: int | None = None
    kolom: dict[Meaning, list[int]] = field(default_factory=dict)
    angka: Style | None = None


# --- finding the header ------------------------------------------------------------------------


def _is_number_text(text: str) -> bool:
    return number_of(text) is not None or is_dash(text)


def _header_score(row: Row) -> int:
    score = 0
    for i in row.filled():
        t = row.text(i)
        c = row.cell(i)
        if len(t) > 60 or (c is not None and c.value is not None) or _is_number_text(t):
            continue
        if _HEADER_WORDS.search(t):
            score += 1
    return score


def _is_header_start(row: Row) -> bool:
    if _header_score(row) < 2:
        return False
    texts = " ".join(row.text(i) for i in row.filled() if len(row.text(i)) <= 60)
    return bool(_NAME_OR_MONEY.search(texts)) and not _LABEL_RE.match(texts)


def _is_column_numbers(row: Row) -> bool:
    """``1 2 3 … n`` from the table's first column on: the column-number row reports print
    under their header (numbers 1-12 further right are months)."""
    filled = row.filled()
    nums = [row.text(i).strip("() ") for i in filled]
    return len(nums) >= 4 and filled[0] <= 1 and nums == [str(i) for i in range(1, len(nums) + 1)]


_SUB_HEADER_TOKENS = {"rp", "%", "(rp)", "(%)", "t", "r", "k", "f", "rp.", "(rp.)"}


def _is_sub_header(row: Row) -> bool:
    filled = row.filled()
    if not filled:
        return False
    for i in filled:
        t = row.text(i)
        c = row.cell(i)
        low = t.lower()
        if c is not None and c.value is not None:
            if not (float(c.value).is_integer() and 1 <= c.value <= 99):
                return False
            continue
        if len(t) > 40 or _LABEL_RE.match(t):
            return False
        if low in _SUB_HEADER_TOKENS or low.strip("()") in QUARTER_NUMBERS:
            continue
        if re.fullmatch(r"\(?\d{1,2}\)?", low) or low in _MONTH_TOKENS:
            continue
        if _HEADER_WORDS.search(t) and not _is_number_text(t):
            continue
        return False
    return True


@dataclass
class _Header:
    start: int  # index into sheet.rows
    end: int  # index of the last header row
    columns: list[Column]
    texts: dict[int, str]  # column -> combined header text


def _merged_fill(sheet: Sheet, rows: list[Row]) -> dict[tuple[int, int], str]:
    """(row no, column) -> text of the merged range the cell is part of."""
    out: dict[tuple[int, int], str] = {}
    numbers = {r.no: r for r in rows}
    for ref in sheet.merged:
        m = re.fullmatch(r"([A-Z]+)(\d+):([A-Z]+)(\d+)", ref)
        if not m:
            continue
        c1, r1, c2, r2 = column_index_safe(m[1]), int(m[2]), column_index_safe(m[3]), int(m[4])
        top = numbers.get(r1)
        if top is None or c1 is None or c2 is None:
            continue
        text = top.text(c1)
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1) and r in numbers:
                    out[(r, c)] = text
    return out


def column_index_safe(letter: str) -> int | None:
    try:
        return column_index(letter)
    except ValueError:
        return None


def _combine(sheet: Sheet, rows: list[Row]) -> dict[int, str]:
    """Each column's header text over the header rows, merged cells filled in: an empty
    upper cell over a labelled lower one belongs to the label on its left."""
    width = max((len(r.cells) for r in rows), default=0)
    merged = _merged_fill(sheet, rows)
    grid = [[r.text(j) or merged.get((r.no, j), "") for j in range(width)] for r in rows]
    for i in range(len(grid) - 1):
        for j in range(1, width):
            below = any(grid[k][j] for k in range(i + 1, len(grid)))
            if not grid[i][j] and below and (sheet.merged == [] or (rows[i].no, j) not in merged):
                left = next((grid[i][k] for k in range(j - 1, -1, -1) if grid[i][k]), "")
                # Only over a group of sub-columns (a lower row labels this column and
                # the one where the upper label sits).
                k0 = next((k for k in range(j - 1, -1, -1) if grid[i][k]), None)
                if k0 is not None and any(grid[k][k0] for k in range(i + 1, len(grid))):
                    grid[i][j] = left
    out: dict[int, str] = {}
    for j in range(width):
        parts: list[str] = []
        for i in range(len(grid)):
            t = grid[i][j]
            if t and (not parts or parts[-1] != t):
                parts.append(t)
        if parts:
            out[j] = " ".join(parts)
    return out


def _columns(texts: dict[int, str]) -> list[Column]:
    out: list[Column] = []
    previous: Meaning | None = None
    for j in sorted(texts):
        meaning, period = classify(texts[j], previous)
        if meaning is not None:
            out.append(Column(j, meaning, texts[j], period))
        previous = meaning
    # Numbers 1..12 under a header that says "realisasi" but not "bulan": months all the same
    # when they run as a block.
    loose = [
        (j, int(w[-1]))
        for j, t in texts.items()
        if (w := _norm(t).split())
        and w[-1].isdecimal()
        and 1 <= int(w[-1]) <= 12
        and "realisasi" in w
        and not any(c.index == j for c in out)
    ]
    if len(loose) >= 3 and [m for _, m in loose] == list(
        range(loose[0][1], loose[0][1] + len(loose))
    ):
        out += [Column(j, Meaning.BULAN, texts[j], m) for j, m in loose]
        out.sort(key=lambda c: c.index)
    return out


def _find_header(sheet: Sheet) -> _Header | None:
    rows = sheet.rows
    for i, row in enumerate(rows[:HEADER_SEARCH]):
        if not _is_header_start(row):
            continue
        end = i
        while end + 1 < len(rows) and end - i < 3 and _is_sub_header(rows[end + 1]):
            end += 1
        header_rows = [r for r in rows[i : end + 1] if not _is_column_numbers(r)]
        texts = _combine(sheet, header_rows)
        cols = _columns(texts)
        if cols:
            return _Header(i, end, cols, texts)
    return None


# --- text copied from a PDF -------------------------------------------------------------------

_PHRASES: list[tuple[str, Meaning]] = [
    (r"realisasi\s+keuangan\s*\(\s*rp\s*\)", Meaning.REALISASI),
    (r"realisasi\s+keuangan\s*\(\s*%\s*\)", Meaning.PERSEN),
    (r"realisasi\s+fisik(\s*\(\s*%\s*\))?", Meaning.FISIK),
    (r"realisasi\s*\(\s*rp\s*\)", Meaning.REALISASI),
    (r"realisasi\s*\(\s*%\s*\)", Meaning.PERSEN),
    (r"capaian\s*\(\s*%\s*\)", Meaning.PERSEN),
    (r"(anggaran|pagu|alokasi)(\s+anggaran)?\s*\(\s*rp\s*\)", Meaning.PAGU),
    (r"program\s*/\s*kegiatan(\s*/\s*sub\s+kegiatan)?", Meaning.NAMA),
    (r"uraian", Meaning.NAMA),
    (r"indikator(\s+kinerja)?", Meaning.INDIKATOR),
    (r"kode", Meaning.KODE),
    (r"pagu|anggaran|alokasi", Meaning.PAGU),
    (r"realisasi", Meaning.REALISASI),
    (r"\(\s*%\s*\)", Meaning.PERSEN),
    (r"\bno\b\.?", Meaning.NO),
    (r"\bket(erangan)?\b", Meaning.KET),
]
_PHRASE_RE = re.compile("|".join(f"(?P<p{i}>{p})" for i, (p, _) in enumerate(_PHRASES)), re.I)


def _text_header(line: str) -> list[Meaning]:
    out: list[Meaning] = []
    for m in _PHRASE_RE.finditer(line):
        meaning = _PHRASES[int((m.lastgroup or "p0")[1:])][1]
        if not out or out[-1] is not meaning:
            out.append(meaning)
    return out


def _find_text_header(sheet: Sheet) -> tuple[int, list[Meaning]] | None:
    rows = sheet.rows
    for i, row in enumerate(rows[:HEADER_SEARCH]):
        line = " ".join(row.texts())
        if _LABEL_RE.match(line) or re.search(r"\b(19|20)\d\d\b|^\s*tabel\b|\d{4,}", line, re.I):
            continue  # a caption ("Tabel 7 ... Tahun 2024") or a row of figures
        found = _text_header(line)
        if (len(found) >= 2 and Meaning.NAMA in found) or (
            len(found) >= 3 and {Meaning.PAGU, Meaning.REALISASI} & set(found)
        ):
            # A header wrapped over the next line ("Realisasi" / "(Rp)") is joined to it.
            if i + 1 < len(rows):
                nxt = " ".join(rows[i + 1].texts())
                more = _text_header(nxt)
                if more and not re.search(r"\d", nxt):
                    found = _text_header(f"{line} {nxt}")
                    return i + 1, found
            return i, found
    return None


_CODE_RE = re.compile(r"^\d+(?:\.\d+)+$")
_MONEY_TOKEN = re.compile(r"^(?:rp\.?)?-?[\d.,]*\d$|^-$", re.I)


def _split_text_line(line: str, columns: list[Meaning]) -> tuple[dict[Meaning, str], str]:
    """(cells by meaning, the name) of one line of PDF text: a leading code or number, the
    name, then the numbers in the order of their columns (rupiah and percent told apart by
    shape: a percentage has at most three whole digits)."""
    tokens = line.split()
    trailing: list[str] = []
    while tokens and (_MONEY_TOKEN.match(tokens[-1]) or tokens[-1].lower() in {"rp", "rp."}):
        t = tokens.pop()
        if t.lower() not in {"rp", "rp."}:
            trailing.insert(0, t)
    cells: dict[Meaning, str] = {}
    if tokens and Meaning.KODE in columns and _CODE_RE.match(tokens[0]):
        cells[Meaning.KODE] = tokens.pop(0)
    elif tokens and Meaning.NO in columns and re.fullmatch(r"\d{1,3}", tokens[0]):
        cells[Meaning.NO] = tokens.pop(0)
    money_cols = [m for m in columns if m in MONEY]
    pct_cols = [m for m in columns if m in PERCENT]
    for t in trailing:
        core = t.lower().removeprefix("rp.").removeprefix("rp")
        is_pct = bool(re.fullmatch(r"\d{1,3}([.,]\d{1,2})?%?", core)) and not (
            not pct_cols and money_cols
        )
        target = pct_cols if is_pct and pct_cols else money_cols
        if not target:
            cells.setdefault(Meaning.KET, t)
            continue
        cells[target.pop(0)] = t
    return cells, " ".join(tokens)


# --- rows into nodes ---------------------------------------------------------------------------

_LABEL_RE = re.compile(r"^\s*(program|kegiatan|sub[\s\-]*kegiatan)\s*:\s*(.*)$", re.I)
_NUMBERING_RE = re.compile(r"^\s*(?:\d{1,3}|[a-z])\s*[.)]\s*(?=\S)", re.I)
_PROGRAM_WORD = re.compile(r"^pro[a-z]{1,4}m\b", re.I)
_SUB_WORD = re.compile(r"^sub[\s\-]*kegiatan\b", re.I)
_KEGIATAN_WORD = re.compile(r"^kegiatan\b", re.I)
_TOTAL_RE = re.compile(
    r"^(jumlah|total)(\s+(total|keseluruhan|seluruhnya|belanja|anggaran))?\b", re.I
)
_SKIP_RE = re.compile(r"^(sumber|catatan|keterangan|ket\.?|tabel|gambar)\b", re.I)
_URUSAN_RE = re.compile(r"^(bidang\s+)?urusan\b", re.I)
_RANK = {Level.PROGRAM: 0, Level.KEGIATAN: 1, Level.SUB_KEGIATAN: 2}
_BY_RANK = {v: k for k, v in _RANK.items()}
_PREFIX = {Level.PROGRAM: "PROGRAM", Level.KEGIATAN: "Kegiatan", Level.SUB_KEGIATAN: "Sub Kegiatan"}


def level_of_name(name: str) -> tuple[Level | None, str]:
    """The level a name states (a label, a numbering, a prefix word) and the name without
    label and numbering."""
    text = name.strip()
    m = _LABEL_RE.match(text)
    label: Level | None = None
    if m:
        word = m.group(1).lower()
        label = (
            Level.PROGRAM
            if word.startswith("program")
            else Level.KEGIATAN
            if word == "kegiatan"
            else Level.SUB_KEGIATAN
        )
        text = m.group(2).strip()
    text = _NUMBERING_RE.sub("", text).strip()
    if label is not None:
        return label, text
    if _SUB_WORD.match(text):
        return Level.SUB_KEGIATAN, text
    if _KEGIATAN_WORD.match(text):
        return Level.KEGIATAN, text
    if _PROGRAM_WORD.match(text):
        return Level.PROGRAM, text
    return None, text


def with_prefix(level: Level, nama: str) -> str:
    """The name with its level word, as the 22-column report writes it (the importer reads
    the level from it, and matches names without it)."""
    nama = " ".join(nama.split())
    nama = re.sub(r"^sub[\s\-]*kegiatan\b\s*", "Sub Kegiatan ", nama, flags=re.I).strip()
    ok = {
        Level.SUB_KEGIATAN: _SUB_WORD,
        Level.KEGIATAN: _KEGIATAN_WORD,
        Level.PROGRAM: _PROGRAM_WORD,
    }[level].match(nama)
    if level is Level.KEGIATAN and _SUB_WORD.match(nama):
        ok = None
    return nama if ok else f"{_PREFIX[level]} {nama}"


def code_level(code: str) -> Level | None:
    """``2.17.02`` program, ``2.17.02.1.01`` kegiatan, ``2.17.02.1.01.0001`` sub kegiatan;
    shorter codes (urusan, bidang urusan) are above the plan."""
    n = code.count(".") + 1
    if n <= 2:
        return None
    return Level.PROGRAM if n == 3 else Level.KEGIATAN if n in (4, 5) else Level.SUB_KEGIATAN


@dataclass
class _Fields:
    """One data row, its cells by meaning (not read as numbers yet)."""

    sheet: str
    row_no: int
    where: str
    name: str
    code: str
    texts: dict[Meaning, str]
    cells: dict[tuple[Meaning, int | None], tuple[Cell | None, str]]  # -> (cell, letter/where)
    bold: bool
    indent: int


class _Reader:
    """Reads one file: header, rows, numbers, periods, tree, findings."""

    def __init__(self, sheets: list[Sheet], name: str, options: Options, data: bytes) -> None:
        self.sheets, self.name, self.options, self.data = sheets, name, options, data
        self.vote = StyleVote()
        self.problems: list[str] = []
        self.findings: list[tuple[Node | None, str]] = []

    # -- header per sheet ------------------------------------------------------------------

    def run(self) -> Layout:
        tables: list[tuple[Sheet, list[Column], int, str]] = []  # sheet, columns, first data, rows
        preamble: list[str] = []
        failures: list[str] = []
        for sheet in self.sheets:
            if not sheet.rows:
                continue
            if sheet.text_lines:
                found = self._text_table(sheet, preamble)
                if found is None:
                    failures.append(self._describe_unfound(sheet))
                    continue
                tables.append(found)
                continue
            header = _find_header(sheet)
            given = self.options.kolom
            if header is None and not given:
                failures.append(self._describe_unfound(sheet))
                preamble.extend(" ".join(r.texts()) for r in sheet.rows[:6])
                continue
            if header is None:
                # Columns named by --kolom over a header nobody recognised: the table starts
                # at the first row with an amount in a named money column, under the row
                # that names its columns.
                money = [j for m, js in given.items() if m in MONEY for j in js]
                first = next(
                    (
                        k
                        for k, r in enumerate(sheet.rows)
                        if any(_is_number_text(r.text(j)) for j in money)
                    ),
                    0,
                )
                start = end = first - 1
                columns: list[Column] = []
                texts = dict(enumerate(sheet.rows[start].texts())) if start >= 0 else {}
            else:
                start, end, columns, texts = header.start, header.end, header.columns, header.texts
            preamble.extend(" ".join(r.texts()) for r in sheet.rows[: max(start, 0)])
            columns = self._apply_given(columns, texts)
            label = f"baris {sheet.rows[start].no}" if start >= 0 else "(tanpa judul kolom)"
            if start >= 0 and end > start:
                label = f"baris {sheet.rows[start].no}–{sheet.rows[end].no}"
            self._check_columns(sheet, columns, label)
            tables.append((sheet, columns, end + 1, label))
        if not tables:
            raise BadFileError(self._unrecognised(failures))
        self.signature = _signature(self.sheets)
        self.preamble = [p for p in preamble if p.strip()]
        return self._read_tables(tables)

    def _apply_given(self, columns: list[Column], texts: dict[int, str]) -> list[Column]:
        given = self.options.kolom
        if not given:
            return columns
        taken = {j for js in given.values() for j in js}
        out = [c for c in columns if c.meaning not in given and c.index not in taken]
        for meaning, indexes in given.items():
            for k, j in enumerate(indexes):
                period = k + 1 if meaning in (Meaning.BULAN, Meaning.TW) else None
                out.append(Column(j, meaning, texts.get(j, ""), period, given=True))
        return sorted(out, key=lambda c: c.index)

    def _check_columns(self, sheet: Sheet, columns: list[Column], label: str) -> None:
        where = f"{self.name}" + (f" (lembar {sheet.title})" if len(self.sheets) > 1 else "")
        found = {c.meaning for c in columns}
        money = [c for c in columns if c.meaning in MONEY]
        for meaning in SINGLE:
            same = [c for c in columns if c.meaning is meaning]
            if len(same) > 1:
                letters = ", ".join(f"{c.letter} '{c.header}'" for c in same)
                raise BadFileError(
                    f"{where}: judul kolom di {label} memuat lebih dari satu kolom yang bisa "
                    f"berarti {meaning.label} ({letters}). Pilih satu dengan --kolom, misalnya "
                    f"--kolom {_option_of(meaning)}={same[-1].letter}."
                )
        if Meaning.NAMA not in found:
            what = " dan ".join(dict.fromkeys(_short_header(c.header) for c in money)) or ("angka")
            raise BadFileError(
                f"{where}: ada tabel dengan kolom {what} di {label}, tetapi tidak ada kolom nama "
                "kegiatan (Uraian / Program / Kegiatan). Tunjukkan kolomnya dengan --kolom, "
                "misalnya --kolom nama=B, atau salin angkanya ke templat: monev template "
                "(templat menerima pagu dan realisasi)."
            )
        if not money:
            raise BadFileError(
                f"{where}: tabel di {label} tidak punya kolom pagu atau realisasi yang dikenali "
                "(Pagu / Anggaran / Alokasi, Realisasi, atau realisasi per bulan). Tunjukkan "
                "dengan --kolom, misalnya --kolom pagu=D,realisasi=E."
            )

    def _describe_unfound(self, sheet: Sheet) -> str:
        where = f"lembar {sheet.title}" if sheet.title else self.name
        rows = [r for r in sheet.rows[:HEADER_SEARCH] if r.filled()]
        best = max(rows, key=_header_score, default=None)
        if best is not None and _header_score(best) >= 1:
            seen = ", ".join(f"'{best.text(i)[:30]}'" for i in best.filled()[:6] if best.text(i))
            return f"{where}: baris {best.no} berisi {seen}, tetapi bukan judul tabel yang dikenali"
        first = next((r for r in rows), None)
        shown = " | ".join(t[:30] for t in (first.texts() if first else []) if t)[:100]
        return f"{where}: tidak ada baris judul kolom (baris pertama: '{shown}')"

    def _unrecognised(self, failures: list[str]) -> str:
        found = "; ".join(failures[:3]) or f"{self.name} kosong"
        return (
            f"Tabel di {self.name} tidak dikenali: {found}. Yang dikenali: Laporan Kinerja "
            "Triwulan 22 kolom, halaman pengukuran kinerja (realisasi per bulan), tabel LKj "
            "(Program/Kegiatan, Anggaran, Realisasi) dan ekspor sistem anggaran (Kode, Pagu, "
            "Realisasi). Bila judul kolomnya lain, sebutkan kolomnya: --kolom "
            "nama=B,pagu=D,realisasi=E (atau berkas pemetaan --peta), atau isi templat "
            "monev template (templat menerima pagu dan realisasi)."
        )

    def _text_table(
        self, sheet: Sheet, preamble: list[str]
    ) -> tuple[Sheet, list[Column], int, str] | None:
        found = _find_text_header(sheet)
        if found is None:
            return None
        i, meanings = found
        preamble.extend(" ".join(r.texts()) for r in sheet.rows[:i])
        columns = [Column(k, m, m.label) for k, m in enumerate(meanings)]
        self._check_columns(sheet, columns, f"baris {sheet.rows[i].no}")
        self.text_meanings = meanings
        return sheet, columns, i + 1, f"baris {sheet.rows[i].no}"

    # -- rows -------------------------------------------------------------------------------

    def _fields(self, sheet: Sheet, columns: list[Column], first: int) -> list[_Fields]:
        by = {c.index: c for c in columns}
        names = [c.index for c in columns if c.meaning is Meaning.NAMA]
        first_money = min((c.index for c in columns if c.meaning in MONEY), default=MAX_COLUMNS)
        header_words = {_norm(t) for c in columns for t in [c.header] if t}
        out: list[_Fields] = []
        multi = len([s for s in self.sheets if s.rows]) > 1
        for row in sheet.rows[first:]:
            if not row.filled() or _is_column_numbers(row):
                continue
            where = (f"lembar {sheet.title} " if multi and sheet.title else "") + f"baris {row.no}"
            if sheet.text_lines:
                line = " ".join(row.texts())
                if _is_header_start(Row(row.no, [Cell(line)])) and len(_text_header(line)) >= 3:
                    continue  # the header again, after a page break
                out.append(self._text_fields(sheet, row, line, where))
                continue
            own = [_norm(row.text(i)) for i in row.filled()]
            if own and sum(t in header_words for t in own) >= max(2, len(own) // 2):
                continue  # the header repeated on a later page
            texts: dict[Meaning, str] = {}
            cells: dict[tuple[Meaning, int | None], tuple[Cell | None, str]] = {}
            for j, col in by.items():
                c = row.cell(j)
                if col.meaning in MONEY or col.meaning in PERCENT:
                    cells[(col.meaning, col.period)] = (c, f"{col.letter}{row.no}")
                elif c is not None and c.text:
                    prev = texts.get(col.meaning)
                    if col.meaning is Meaning.NAMA and prev:
                        continue  # the first name column with text names the row
                    texts[col.meaning] = f"{prev} {c.text}" if prev else c.text
            name = texts.get(Meaning.NAMA, "")
            name_cell = next((row.cell(j) for j in names if row.text(j)), None)
            if not name:
                # A label row written in another column ("Kegiatan : ..." under "No").
                for j in row.filled():
                    if j < first_money and _LABEL_RE.match(row.text(j)):
                        name, name_cell = row.text(j), row.cell(j)
                        break
            out.append(
                _Fields(
                    sheet.title,
                    row.no,
                    where,
                    name,
                    texts.get(Meaning.KODE, ""),
                    texts,
                    cells,
                    bool(name_cell and name_cell.bold),
                    name_cell.indent if name_cell else 0,
                )
            )
        return out

    def _text_fields(self, sheet: Sheet, row: Row, line: str, where: str) -> _Fields:
        split, name = _split_text_line(line, self.text_meanings)
        cells: dict[tuple[Meaning, int | None], tuple[Cell | None, str]] = {
            (m, None): (Cell(t), where) for m, t in split.items() if m in MONEY | PERCENT
        }
        texts = {m: t for m, t in split.items() if m not in MONEY | PERCENT}
        code = texts.get(Meaning.KODE, "")
        return _Fields(sheet.title, row.no, where, name, code, texts, cells, False, 0)

    def _vote(self, fields: list[_Fields]) -> None:
        for f in fields:
            for (_, _), (cell, where) in f.cells.items():
                if cell is None or cell.value is not None or not cell.text:
                    continue
                n = number_of(cell.text)
                if n is not None:
                    self.vote.add(n, where)

    def _amount(self, cell: Cell | None, where: str) -> int | None:
        if cell is None or not cell.text:
            return None
        if cell.value is not None:
            return int(Decimal(str(cell.value)).quantize(Decimal(1), ROUND_HALF_UP))
        if is_dash(cell.text):
            return 0
        n = number_of(cell.text)
        if n is None:
            self.problems.append(f"{where}: jumlah '{cell.text[:40]}' tidak terbaca")
            return None
        try:
            return int(n.value(self.style).quantize(Decimal(1), ROUND_HALF_UP))
        except ValueError:
            self.problems.append(f"{where}: jumlah '{cell.text[:40]}' tidak terbaca")
            return None

    def _percent(self, cell: Cell | None, where: str) -> float | None:
        if cell is None or not cell.text or is_dash(cell.text):
            return None
        if cell.value is not None:
            v = float(cell.value)
            return round(v * 100 if cell.percent else v, 2)
        n = number_of(cell.text)
        if n is None:
            self.problems.append(f"{where}: persentase '{cell.text[:40]}' tidak terbaca")
            return None
        try:
            return round(float(n.value(self.style)), 2)
        except ValueError:
            self.problems.append(f"{where}: persentase '{cell.text[:40]}' tidak terbaca")
            return None

    def _read_tables(self, tables: list[tuple[Sheet, list[Column], int, str]]) -> Layout:
        all_fields = [(t, self._fields(t[0], t[1], t[2])) for t in tables]
        for _, fields in all_fields:
            self._vote(fields)
        decided = self.vote.decide(self.options.angka)
        if not isinstance(decided, Style):
            raise BadFileError(f"{self.name}: {decided}")
        self.style = decided
        month_sheets = self._month_sheets([t[0] for t in tables])
        roots: list[Node] = []
        by_key: dict[str, Node] = {}
        self.total_rows: list[tuple[_Fields, int | None, int | None]] = []
        for (sheet, columns, _, _), fields in all_fields:
            month = month_sheets.get(sheet.title)
            hint = "" if month_sheets or len(tables) == 1 else sheet.title
            self._build(sheet, columns, fields, month, hint, roots, by_key)
        first_sheet, first_cols, first_data, first_label = tables[0]
        samples = self._samples(all_fields[0][1], first_cols)
        layout = self._periods(roots, [t[1] for t in tables], month_sheets)
        layout.columns = first_cols
        layout.samples = samples
        layout.header_rows = (
            first_label
            if len(tables) == 1
            else f"{first_label} (dan {len(tables) - 1} lembar lain)"
        )
        layout.kind = self._kind([t[1] for t in tables], month_sheets, tables)
        layout.first_row = first_sheet.rows[first_data - 1].no if first_data > 0 else 0
        return layout

    def _month_sheets(self, sheets: list[Sheet]) -> dict[str, int]:
        titled = {}
        for s in sheets:
            words = _norm(s.title).split()
            month = next((_MONTH_TOKENS[w] for w in words if w in _MONTH_TOKENS), None)
            if month is not None:
                titled[s.title] = month
        return titled if len(titled) == len(sheets) and len(sheets) > 1 else {}

    def _samples(self, fields: list[_Fields], columns: list[Column]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        rows = [
            f
            for f in fields
            if f.name
            and not _URUSAN_RE.match(f.name)
            and not _TOTAL_RE.match(f.name)
            and not (f.code and code_level(f.code) is None)
        ]
        for col in columns:
            vals: list[str] = []
            for f in rows:
                if col.meaning in MONEY or col.meaning in PERCENT:
                    cell, _ = f.cells.get((col.meaning, col.period), (None, ""))
                    text = _shown(cell, col.meaning)
                elif col.meaning is Meaning.NAMA:
                    text = f.name
                else:
                    text = f.texts.get(col.meaning, "")
                if text and text not in vals:
                    vals.append(text if len(text) <= 40 else text[:39] + "…")
                if len(vals) == 2:
                    break
            out[col.index] = vals
        return out

    def _kind(
        self,
        columns_of: list[list[Column]],
        month_sheets: dict[str, int],
        tables: list[tuple[Sheet, list[Column], int, str]],
    ) -> str:
        meanings = {c.meaning for cols in columns_of for c in cols}
        parts = []
        if Meaning.BULAN in meanings:
            parts.append("realisasi per bulan (halaman pengukuran kinerja)")
        elif month_sheets:
            parts.append(f"satu lembar per bulan ({len(month_sheets)} lembar)")
        elif Meaning.TW in meanings:
            parts.append("realisasi kumulatif per triwulan")
        if Meaning.KODE in meanings:
            parts.append("tingkat dari kolom Kode (ekspor sistem anggaran)")
        if len(tables) > 1 and not month_sheets:
            parts.append(f"satu lembar per bidang ({len(tables)} lembar)")
        if tables[0][0].text_lines:
            parts.append("teks salinan PDF")
        if not parts:
            parts.append("tabel anggaran dan realisasi (LKj)")
        return "; ".join(parts)

    def _build(
        self,
        sheet: Sheet,
        columns: list[Column],
        fields: list[_Fields],
        month: int | None,
        hint: str,
        roots: list[Node],
        by_key: dict[str, Node],
    ) -> None:
        has_code = any(c.meaning is Meaning.KODE for c in columns)
        indents = sorted({f.indent for f in fields if f.name})
        bolds = {f.bold for f in fields if f.name}
        stack: list[Node] = []
        deepest: Level | None = None
        previous: Node | None = None
        for f in fields:
            name = f.name.strip()
            pagu_cell = f.cells.get((Meaning.PAGU, None), (None, ""))
            numbers_here = any(c is not None and c.text for c, _ in f.cells.values())
            if not name:
                ind = f.texts.get(Meaning.INDIKATOR, "")
                if ind and previous is not None and not numbers_here:
                    previous.indikator = f"{previous.indikator} {ind}".strip()
                continue
            if _TOTAL_RE.match(name) and not f.code:
                self.total_rows.append(
                    (
                        f,
                        self._amount(*pagu_cell),
                        self._amount(*f.cells.get((Meaning.REALISASI, None), (None, ""))),
                    )
                )
                continue
            if _SKIP_RE.match(name):
                continue  # a source line or caption under the table
            if _URUSAN_RE.match(name) or (f.code and code_level(f.code) is None):
                continue
            level, clean = level_of_name(name)
            if f.code and has_code:
                level = code_level(f.code) or level
            if level is None:
                if (
                    not numbers_here
                    and previous is not None
                    and not f.code
                    and not f.texts.get(Meaning.NO)
                ):
                    previous.nama = f"{previous.nama} {clean}".strip()  # a name wrapped on
                    continue
                if len(indents) > 1:
                    level = _BY_RANK[min(indents.index(f.indent), 2)]
                elif len(bolds) > 1 and not f.bold:
                    level = Level.SUB_KEGIATAN
                elif len(bolds) > 1:
                    level = Level.KEGIATAN if deepest is Level.SUB_KEGIATAN else Level.PROGRAM
                else:
                    level = deepest or Level.PROGRAM
            deepest = level if deepest is None or _RANK[level] > _RANK[deepest] else deepest
            key = f.code or "/".join(
                [*(n.nama.lower() for n in stack if _RANK[n.level] < _RANK[level]), clean.lower()]
            )
            node = by_key.get(key) if month is not None else None
            if node is None:
                node = Node(
                    level,
                    with_prefix(level, clean),
                    f.where,
                    f.row_no,
                    kode=f.code,
                    indikator=f.texts.get(Meaning.INDIKATOR, ""),
                    target=" ".join(
                        t
                        for t in (f.texts.get(Meaning.TARGET, ""), f.texts.get(Meaning.SATUAN, ""))
                        if t
                    ),
                    ket=f.texts.get(Meaning.KET, ""),
                    bidang_hint=hint,
                )
                self._place(node, stack, roots, has_code)
                if month is not None:
                    by_key[key] = node
            else:
                while stack and _RANK[stack[-1].level] >= _RANK[level]:
                    stack.pop()
                stack.append(node)
            previous = node
            self._figures(node, f, month)

    def _place(self, node: Node, stack: list[Node], roots: list[Node], has_code: bool) -> None:
        if has_code and node.kode:
            while stack and not (node.kode.startswith(stack[-1].kode + ".") and stack[-1].kode):
                stack.pop()
        else:
            while stack and _RANK[stack[-1].level] >= _RANK[node.level]:
                stack.pop()
        if stack:
            stack[-1].children.append(node)
        else:
            roots.append(node)
        stack.append(node)

    def _figures(self, node: Node, f: _Fields, month: int | None) -> None:
        cells = f.cells
        pagu = self._amount(*cells.get((Meaning.PAGU, None), (None, "")))
        if month is not None:
            node.pagu_by_month[month] = pagu
            if pagu is not None:
                node.pagu = pagu
        elif pagu is not None:
            node.pagu = pagu
        real = self._amount(*cells.get((Meaning.REALISASI, None), (None, "")))
        if real is not None:
            if month is not None:
                node.month_cumulative[month] = real  # decided cumulative or not later
            else:
                node.cumulative[0] = real  # the file's own period, decided later
        months = {
            p: self._amount(c, w)
            for (m, p), (c, w) in cells.items()
            if m is Meaning.BULAN and p is not None
        }
        if any(v is not None for v in months.values()):
            node.months = {p: v or 0 for p, v in months.items()}
        for (m, p), (c, w) in cells.items():
            if m is Meaning.TW and p is not None:
                v = self._amount(c, w)
                if v is not None:
                    node.cumulative[p] = v
        fisik = self._percent(*cells.get((Meaning.FISIK, None), (None, "")))
        if fisik is not None:
            node.fisik = fisik
        stated = self._percent(*cells.get((Meaning.PERSEN, None), (None, "")))
        if stated is not None:
            node.stated_percent = stated
        jumlah = self._amount(*cells.get((Meaning.JUMLAH, None), (None, "")))
        if jumlah is not None:
            node.stated_sum = jumlah

    # -- periods ----------------------------------------------------------------------------

    def _title_period(self) -> tuple[int | None, int | None, str]:
        """(tahun, triwulan, what said it) from the text above the tables and sheet titles."""
        text = " ".join([*self.preamble, *(s.title for s in self.sheets)])
        low = _norm(text)
        year = None
        m = re.search(r"\btahun\s*(?:anggaran\s*)?(20\d\d)\b", low) or re.search(
            r"\b(20\d\d)\b", low
        )
        if m:
            year = int(m.group(1))
        tw = None
        said = ""
        q = re.search(r"\b(?:triwulan|tw|trw|twl)\s*(?:ke\s*-?\s*)?(iv|iii|ii|i|[1-4])\b", low)
        if q:
            tw = QUARTER_NUMBERS[q.group(1)]
            said = f"TW {roman(tw)} dari judul"
        elif s := re.search(r"\bsemester\s*(ii|i|1|2)\b", low):
            tw = semester_quarter(2 if s.group(1) in {"ii", "2"} else 1)
            said = f"semester (TW {roman(tw)}) dari judul"
        else:
            months = [_FULL_MONTHS[w] for w in re.findall(r"[a-z]+", low) if w in _FULL_MONTHS]
            if months and max(months) % 3 == 0:
                tw = max(months) // 3
                said = f"s.d. bulan {max(months)} (TW {roman(tw)}) dari judul"
        return year, tw, said

    def _periods(
        self, roots: list[Node], columns_of: list[list[Column]], month_sheets: dict[str, int]
    ) -> Layout:
        year, title_tw, said = self._title_period()
        opt = self.options
        if opt.tahun is not None and year is not None and opt.tahun != year:
            raise BadFileError(
                f"Judul {self.name} menyebut tahun {year}, bukan {opt.tahun}. Hapus --tahun atau "
                f"gunakan --tahun {year}."
            )
        tahun = opt.tahun or year
        if tahun is None:
            raise BadFileError(
                f"{self.name} tidak menyebut tahun (judul atau keterangan tabel). Ulangi dengan "
                "--tahun, misalnya --tahun 2024."
            )
        meanings = {c.meaning for cols in columns_of for c in cols}
        nodes = [n for r in roots for n in r.walk()]
        skipped: list[str] = []
        note = ""
        if Meaning.BULAN in meanings:
            filled = {m for n in nodes for m, v in n.months.items() if v}
            last = max(filled, default=0)
            quarters = [q for q in (1, 2, 3, 4) if 3 * q in filled or (3 * q <= last)]
            for q in (1, 2, 3, 4):
                inside = {3 * q - 2, 3 * q - 1, 3 * q} & filled
                if inside and q not in quarters:
                    skipped.append(
                        f"TW {roman(q)}: bulan {3 * q} belum terisi, triwulan belum lengkap "
                        "(tidak diimpor)"
                    )
            for n in nodes:
                # A row of months left blank spent nothing; a parent's sum is its children's.
                if n.months or not n.children:
                    for q in quarters:
                        n.cumulative[q] = sum(n.months.get(m, 0) for m in range(1, 3 * q + 1))
            note = "realisasi bulanan dijumlahkan menjadi kumulatif " + ", ".join(
                f"TW {roman(q)}" for q in quarters
            )
        elif month_sheets:
            cumulative = any(
                _CUMULATIVE_RE.search(_norm(c.header))
                for cols in columns_of
                for c in cols
                if c.meaning is Meaning.REALISASI
            ) or any(_CUMULATIVE_RE.search(_norm(p)) for p in self.preamble)
            present = sorted(month_sheets.values())
            quarters = [q for q in (1, 2, 3, 4) if 3 * q in present]
            for q in (1, 2, 3, 4):
                if {3 * q - 2, 3 * q - 1} & set(present) and q not in quarters:
                    skipped.append(f"TW {roman(q)}: lembar bulan {3 * q} tidak ada (tidak diimpor)")
            for n in nodes:
                if not n.month_cumulative:
                    continue
                for q in quarters:
                    if cumulative:
                        v = n.month_cumulative.get(3 * q)
                        if v is not None:
                            n.cumulative[q] = v
                    else:
                        n.cumulative[q] = sum(
                            n.month_cumulative.get(m, 0) for m in range(1, 3 * q + 1)
                        )
                    p = n.pagu_by_month.get(3 * q)
                    if p is not None:
                        n.pagu_by_month[-q] = p  # the pagu of the quarter's last month
            how = "kumulatif s.d. bulan lembar itu" if cumulative else "bulanan, dijumlahkan"
            note = f"satu lembar per bulan ({how}): " + ", ".join(
                f"TW {roman(q)}" for q in quarters
            )
        elif Meaning.TW in meanings:
            quarters = sorted({q for n in nodes for q in n.cumulative if q})
            note = "kolom realisasi kumulatif per triwulan"
        else:
            tw = opt.tw or title_tw
            if tw is None and _ANNUAL_RE.search(_norm(" ".join(self.preamble))):
                tw, said = 4, "realisasi satu tahun (tabel LKj) = TW IV"
            if tw is None:
                raise BadFileError(
                    f"{self.name}: periode realisasinya tidak disebut (judul tidak menyebut "
                    "triwulan, semester atau bulan). Ulangi dengan --tw, misalnya --tw 3 "
                    "untuk realisasi s.d. TW III, atau --tw 4 untuk realisasi setahun."
                )
            if opt.tw is not None:
                said = f"TW {roman(tw)} dari --tw"
            for n in nodes:
                if 0 in n.cumulative:
                    n.cumulative[tw] = n.cumulative.pop(0)
            quarters = [tw]
            note = said
        if opt.tw is not None and (
            Meaning.BULAN in meanings or month_sheets or Meaning.TW in meanings
        ):
            if opt.tw not in quarters:
                raise BadFileError(
                    f"{self.name} tidak memuat realisasi TW {roman(opt.tw)} yang lengkap "
                    f"(yang ada: {', '.join('TW ' + roman(q) for q in quarters) or 'tidak ada'})."
                )
            quarters = [opt.tw]
            note += f"; hanya TW {roman(opt.tw)} (--tw)"
        if not quarters:
            raise BadFileError(
                f"{self.name}: tidak ada triwulan dengan realisasi lengkap"
                + (f" ({'; '.join(skipped)})" if skipped else "")
                + "."
            )
        year_note = "dari --tahun" if opt.tahun and year is None else "dari judul"
        layout = Layout(
            name=self.name,
            kind="",
            header_rows="",
            columns=[],
            samples={},
            style=self.style,
            tahun=tahun,
            quarters=quarters,
            period_note=f"tahun {tahun} ({year_note}); {note}",
            roots=roots,
            office=self._office(),
            problems=self.problems,
            skipped_quarters=skipped,
            signature=self.signature,
            digest=hashlib.sha256(self.data).hexdigest(),
        )
        self._check_amounts(layout)
        layout.findings = self.findings
        return layout

    def _office(self) -> str:
        """The office the text above the table names: a label ("Perangkat Daerah : …"), else
        the first line that names one ("Dinas …", up to the year or period)."""
        lines = [" ".join(text.split()) for text in self.preamble]
        for t in lines:
            if m := _OFFICE_LABEL_RE.match(t):
                return m.group(1).strip()
        for t in lines:
            m = _OFFICE_NAME_RE.search(t)
            if m and len(m.group(1)) > 10:
                return m.group(1).strip(" ,.-")
        return ""

    # -- amounts over stated figures ----------------------------------------------------

    def _check_amounts(self, layout: Layout) -> None:
        """Roll stated parent totals and percentages against the amounts: the amounts win,
        each disagreement is a finding."""
        last = max(layout.quarters)

        def visit(node: Node) -> None:
            for c in node.children:
                visit(c)
            kids = node.children
            if not kids:
                return
            pagus = [k.pagu for k in kids]
            if all(p is not None for p in pagus):
                total = sum(p for p in pagus if p is not None)
                if node.pagu is not None and node.pagu != total:
                    self.findings.append(
                        (
                            node,
                            f"{node.line}, '{node.nama}': pagu tertulis "
                            f"{format_rupiah(node.pagu)}, "
                            f"sedangkan jumlah rinciannya {format_rupiah(total)}. Yang dipakai: "
                            "jumlah rinciannya.",
                        )
                    )
                node.pagu = total
            for q in layout.quarters:
                own = node.cumulative.get(q)
                figs = [_figure(k, q) for k in kids]
                if own is None or any(f is None for f in figs):
                    continue
                total = sum(f for f in figs if f is not None)
                if own != total:
                    self.findings.append(
                        (
                            node,
                            f"{node.line}, '{node.nama}': realisasi TW {roman(q)} tertulis "
                            f"{format_rupiah(own)}, sedangkan jumlah rinciannya "
                            f"{format_rupiah(total)}. Yang dipakai: jumlah rinciannya.",
                        )
                    )
                    del node.cumulative[q]

        for r in layout.roots:
            visit(r)
        for n in layout.nodes():
            real = _figure(n, last)
            if n.stated_sum is not None and n.months:
                total = sum(n.months.values())
                if total != n.stated_sum:
                    self.findings.append(
                        (
                            n,
                            f"{n.line}, '{n.nama}': kolom Jumlah tertulis "
                            f"{format_rupiah(n.stated_sum)}, sedangkan jumlah bulan-bulannya "
                            f"{format_rupiah(total)}. Yang dipakai: jumlah bulan-bulannya.",
                        )
                    )
            if n.stated_percent is None:
                continue
            pagu = _pagu(n)
            if n.months:
                real = sum(n.months.values())  # the page's percentage covers every month given
            if real is None or not pagu:
                continue
            actual = round(real / pagu * 100, 2)
            if abs(actual - n.stated_percent) > 0.05:
                kids = [
                    k
                    for k in n.walk()
                    if not k.children and k.stated_percent is not None and k is not n
                ]
                mean = (
                    round(sum(k.stated_percent or 0 for k in kids) / len(kids), 2) if kids else None
                )
                why = (
                    " (rata-rata biasa persentase rinciannya, tanpa bobot pagu)"
                    if mean is not None and abs(mean - n.stated_percent) <= 0.05
                    else ""
                )
                self.findings.append(
                    (
                        n,
                        f"{n.line}, '{n.nama}': persentase tertulis "
                        f"{format_percent(n.stated_percent)}{why}, sedangkan "
                        f"{format_rupiah(real)} dari pagu {format_rupiah(pagu)} = "
                        f"{format_percent(actual)}. Yang dipakai: rupiahnya.",
                    )
                )
        for f, pagu, real in self.total_rows:
            office_pagu = sum(_pagu(r) or 0 for r in layout.roots)
            figs = [_figure(r, last) for r in layout.roots]
            office_real = (
                sum(x for x in figs if x is not None) if all(x is not None for x in figs) else None
            )
            checks: list[tuple[str, int | None, int | None]] = [
                ("pagu", pagu, office_pagu),
                ("realisasi", real, office_real),
            ]
            for what, stated, computed in checks:
                if stated is not None and computed is not None and stated != computed:
                    self.findings.append(
                        (
                            None,
                            f"{f.where}: {what} baris jumlah tertulis {format_rupiah(stated)}, "
                            f"sedangkan jumlah semua baris {format_rupiah(computed)}. Yang "
                            "dipakai: jumlah semua baris.",
                        )
                    )


def _figure(node: Node, q: int) -> int | None:
    """A node's realisation at ``q``: its own, else the sum of its complete children."""
    own = node.cumulative.get(q)
    if own is not None:
        return own
    if not node.children:
        return None
    figs = [_figure(k, q) for k in node.children]
    return None if any(f is None for f in figs) else sum(f for f in figs if f is not None)


def _pagu(node: Node) -> int | None:
    if node.pagu is not None:
        return node.pagu
    if not node.children:
        return None
    ps = [_pagu(k) for k in node.children]
    return None if any(p is None for p in ps) else sum(p for p in ps if p is not None)


def figure(node: Node, q: int) -> int | None:
    return _figure(node, q)


def pagu_at(node: Node, q: int) -> int | None:
    """The pagu in force at ``q``: a sheet per month gives it per month."""
    return node.pagu_by_month.get(-q, node.pagu)


def _shown(cell: Cell | None, meaning: Meaning) -> str:
    """A sample value as the preview shows it: text as written, a workbook number formatted."""
    if cell is None:
        return ""
    if cell.value is None:
        return cell.text
    v = float(cell.value)
    if meaning in PERCENT:
        return format_percent(v * 100 if cell.percent else v)
    return format_rupiah(round(v))


def _option_of(meaning: Meaning) -> str:
    return next(k for k, v in OPTION_NAMES.items() if v is meaning)


def _short_header(text: str) -> str:
    t = " ".join(text.split())
    return t if len(t) <= 30 else t[:29] + "…"


def recognise(
    data: bytes, name: str, options: Options | None = None, *, lines: list[Line] | None = None
) -> Layout:
    """Read and recognise the file; raises BadFileError saying what was found and what to do."""
    opts = options or Options()
    sheets = read_sheets(data, name, lines)
    return _Reader(sheets, name, opts, data).run()


def _signature(sheets: list[Sheet]) -> str:
    """The shape of a file: the texts of each sheet's first row of three or more cells that
    are not numbers (its header, found or not). A mapping given for one file is remembered
    under it and used again for the next file of the same shape."""
    parts = []
    for s in sheets:
        for r in s.rows[:HEADER_SEARCH]:
            words = [_norm(t) for t in r.texts() if t and not _is_number_text(t)]
            if len(words) >= 3 or (s.text_lines and len(_text_header(" ".join(words))) >= 2):
                parts.append(" | ".join(words))
                break
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def signature_of(data: bytes, name: str, lines: list[Line] | None = None) -> str | None:
    """``_signature`` of a file, None when it cannot be read."""
    try:
        return _signature(read_sheets(data, name, lines))
    except BadFileError:
        return None


def number_example(style: Style) -> str:
    return style.example


__all__ = [
    "Cell",
    "Column",
    "Layout",
    "Meaning",
    "Node",
    "Number",
    "Options",
    "Row",
    "Sheet",
    "Style",
    "code_level",
    "figure",
    "level_of_name",
    "pagu_at",
    "parse_kolom",
    "read_sheets",
    "recognise",
    "with_prefix",
]
