"""The one way a workbook is read: every XLSX reader (report import, plan import, templates
read back, any layout an office brings) opens its file through ``open_workbook``.

A workbook is a zip of XML parts, and its size says little about what reading it costs: a
46 KB file can hold one row of seven million empty cells, which openpyxl builds in full
before the first row is handed over (2.3 GB). So before openpyxl sees anything:

1. the zip directory is checked: number of parts, the unpacked size of each and of all
   (nothing is decompressed; zipfile never inflates a part past the size declared here);
2. every XML part is streamed once through expat, counting as the elements arrive: rows,
   cells per row and cells of a sheet, elements of any other part; a document type
   declaration (entity expansion) is refused. The first limit passed stops the scan.

Then the sheets are read row by row (openpyxl's read-only parser, without its filling of
missing rows), each cell's text bounded, and the whole read bounded in time. Whatever the
file's shape, it is refused with an Indonesian message within seconds and in little memory.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.parsers import expat

from storage.domain.errors import MonevError
from storage.domain.numbers import format_number

MAX_FILE_BYTES = 20 * 1024 * 1024


class BadFileError(MonevError, ValueError):
    """The file is not one we can read; ``str()`` is an Indonesian message."""


@dataclass(frozen=True)
class Limits:
    """What one workbook may hold. A year of a large office's reports is some 6,000 rows of
    up to 60 columns; these leave room for that many times over."""

    parts: int = 200
    unpacked_bytes: int = 30 * 1024 * 1024
    rows: int = 100_000  # row elements of one sheet, empty ones included
    cells_per_row: int = 2_000  # cell elements of one row, empty ones included
    cells: int = 600_000  # cell elements of the whole workbook
    other_elements: int = 50_000  # elements of any part that is not a sheet (styles, ...)
    shared_strings: int = 600_000  # elements of the shared-string table
    cell_chars: int = 32_767  # Excel's own limit on the text of one cell
    seconds: float = 10.0


LIMITS = Limits()
_CHUNK = 256 * 1024
# What openpyxl raises on a damaged part (a cell pointing past the shared strings, a
# number that is not one, a part cut short).
_READ_ERRORS = (
    zipfile.BadZipFile,
    KeyError,
    IndexError,
    OSError,
    ValueError,
    TypeError,
    EOFError,
    SyntaxError,  # xml.etree's ParseError
)


def _id(n: int) -> str:
    return format_number(n)


def read_file_bytes(path: Path, *, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``path``; a file over ``limit`` is refused after reading one byte past it."""
    try:
        with Path(path).open("rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise BadFileError(f"Berkas {path} tidak ditemukan.") from None
    except IsADirectoryError:
        raise BadFileError(f"{path} adalah folder, bukan berkas.") from None
    except OSError as exc:
        raise BadFileError(f"Berkas {path} tidak bisa dibaca ({exc.strerror}).") from None
    if len(data) > limit:
        raise BadFileError(
            f"{Path(path).name} terlalu besar (lebih dari {limit // (1024 * 1024)} MB). "
            "Laporan dan rencana biasanya di bawah 1 MB."
        )
    return data


def is_workbook(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04")


# --- the zip directory -----------------------------------------------------------------------


def _check_parts(zf: zipfile.ZipFile, name: str, limits: Limits) -> list[zipfile.ZipInfo]:
    parts = zf.infolist()
    if len(parts) > limits.parts:
        raise BadFileError(
            f"{name} berisi {_id(len(parts))} bagian; XLSX laporan berisi belasan. Berkas ditolak."
        )
    total = 0
    for part in parts:
        total += part.file_size
        if part.file_size > limits.unpacked_bytes or total > limits.unpacked_bytes:
            raise BadFileError(
                f"{name} ditolak: bagian {part.filename} mengembang menjadi "
                f"{part.file_size // (1024 * 1024)} MB (batas isi XLSX "
                f"{limits.unpacked_bytes // (1024 * 1024)} MB). Laporan triwulan jauh lebih "
                "kecil; simpan ulang lembarnya saja di Excel lalu impor lagi."
            )
    return parts


# --- streaming count of every XML part --------------------------------------------------------


class _ScanStopped(MonevError):
    """Raised inside an expat handler to stop the scan; carries the Indonesian message."""


# Elements that only ever sit inside one cell (its value, formula, inline rich text) or one
# shared string: counted per cell or string, so one cell cannot hold a million runs.
# fmt: off
_CELL_CONTENT = frozenset({
    "v", "f", "is", "t", "r", "rPr", "rFont", "charset", "family", "b", "i", "strike",
    "outline", "shadow", "condense", "extend", "color", "sz", "u", "vertAlign", "scheme",
    "rPh", "phoneticPr",
})
# fmt: on
_PER_CELL = 1_000


class _PartScan:
    """Counts one part's elements as expat reports them; raises at the first limit passed."""

    def __init__(
        self, part: str, name: str, limits: Limits, budget: list[int], titles: dict[str, str]
    ) -> None:
        self.part, self.name, self.limits = part, name, limits
        self.titles = titles  # sheet part -> sheet title, for messages
        self.sheet = part.startswith("xl/worksheets/")
        self.strings = part.endswith("sharedStrings.xml")
        self.budget = budget  # [cells left in the workbook], shared by every sheet
        self.other = self.rows = self.in_row = self.in_cell = 0
        self.row_no = "1"  # the number the sheet gives the row being scanned

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = tag.rsplit(":", 1)[-1]
        if self.sheet and local == "c":
            self.in_row += 1
            self.in_cell = 0
            self.budget[0] -= 1
            if self.in_row > self.limits.cells_per_row:
                raise _ScanStopped(
                    f"{self.name} ditolak: baris {self.row_no} lembar {self._label()} "
                    f"berisi lebih dari {_id(self.limits.cells_per_row)} sel. Laporan memakai "
                    "puluhan kolom; simpan ulang lembarnya saja (hapus kolom kosong di kanan) "
                    "lalu impor lagi."
                )
            if self.budget[0] < 0:
                raise _ScanStopped(
                    f"{self.name} ditolak: lebih dari {_id(self.limits.cells)} sel. Laporan "
                    "satu tahun jauh lebih kecil; pisahkan berkasnya atau simpan ulang lembar "
                    "yang perlu saja."
                )
        elif self.sheet and local == "row":
            self.rows += 1
            self.in_row = 0
            number = attrs.get("r", "")
            self.row_no = number if number.isdecimal() else str(self.rows)
            if self.rows > self.limits.rows:
                raise _ScanStopped(
                    f"{self.name} ditolak: lembar {self._label()} berisi lebih dari "
                    f"{_id(self.limits.rows)} baris. Laporan satu tahun jauh lebih kecil."
                )
        elif self.strings and local == "si":
            self.in_cell = 0
            self.other += 1
            if self.other > self.limits.shared_strings:
                raise _ScanStopped(
                    f"{self.name} ditolak: lebih dari {_id(self.limits.shared_strings)} teks "
                    "berbeda. Laporan satu tahun jauh lebih kecil."
                )
        elif (self.sheet or self.strings) and local in _CELL_CONTENT:
            self.in_cell += 1
            if self.in_cell > _PER_CELL:
                where = f"lembar {self._label()}" if self.sheet else self.part
                raise _ScanStopped(
                    f"{self.name} ditolak: satu sel di {where} terdiri dari lebih dari "
                    f"{_id(_PER_CELL)} bagian teks. Simpan ulang berkasnya di Excel lalu "
                    "impor lagi."
                )
        else:
            self.other += 1
            if self.other > self.limits.other_elements + (
                self.limits.shared_strings if self.strings else 0
            ):
                raise _ScanStopped(
                    f"{self.name} ditolak: bagian {self.part} berisi lebih dari "
                    f"{_id(self.limits.other_elements)} unsur XML. Simpan ulang berkasnya di "
                    "Excel lalu impor lagi."
                )

    def where(self) -> str:
        return f"lembar {self._label()}" if self.sheet else f"bagian {self.part}"

    def _label(self) -> str:
        return self.titles.get(self.part) or self.part.rsplit("/", 1)[-1].removesuffix(".xml")


def _doctype(*_args: Any) -> None:
    raise _ScanStopped("")  # the message is written by the caller, which knows the part


def _scan_part(
    zf: zipfile.ZipFile,
    part: str,
    name: str,
    limits: Limits,
    budget: list[int],
    titles: dict[str, str],
    also: Any = None,
) -> None:
    scan = _PartScan(part, name, limits, budget, titles)
    parser = expat.ParserCreate()
    if also is None:
        parser.StartElementHandler = scan.start
    else:

        def both(tag: str, attrs: dict[str, str]) -> None:
            scan.start(tag, attrs)
            also(tag, attrs)

        parser.StartElementHandler = both
    parser.StartDoctypeDeclHandler = _doctype
    try:
        with zf.open(part) as fh:
            while chunk := fh.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _ScanStopped as exc:
        raise BadFileError(
            str(exc)
            or f"{name} ditolak: {scan.where()} memuat deklarasi DOCTYPE (yang tidak pernah ada "
            "di XLSX buatan Excel)."
        ) from None
    except expat.ExpatError as exc:
        raise BadFileError(
            f"{name} rusak: bagian {part} bukan XML yang sah (baris {exc.lineno})."
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise BadFileError(
            f"{name} rusak: bagian {part} tidak terbaca ({type(exc).__name__})."
        ) from None


_BOOK_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")


def _sheet_titles(
    zf: zipfile.ZipFile, name: str, limits: Limits, budget: list[int]
) -> dict[str, str]:
    """Sheet part -> sheet title, from the workbook part and its relationships (scanned
    under the same bounds as every part)."""
    ids: dict[str, str] = {}  # relationship id -> title
    targets: dict[str, str] = {}  # relationship id -> part
    present = set(zf.namelist())

    def sheet(tag: str, attrs: dict[str, str]) -> None:
        if tag.rsplit(":", 1)[-1] == "sheet":
            rid = next((v for k, v in attrs.items() if k.endswith(":id") or k == "id"), "")
            ids[rid] = attrs.get("name", "")

    def relationship(tag: str, attrs: dict[str, str]) -> None:
        if tag.rsplit(":", 1)[-1] == "Relationship":
            target = attrs.get("Target", "")
            targets[attrs.get("Id", "")] = (
                target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            )

    for part, collect in zip(_BOOK_PARTS, (sheet, relationship), strict=True):
        if part in present:
            _scan_part(zf, part, name, limits, budget, {}, collect)
    return {targets[rid]: title for rid, title in ids.items() if rid in targets}


def check_workbook(data: bytes, name: str, limits: Limits = LIMITS) -> None:
    """Refuse ``data`` unless every bound holds; reads nothing into memory but counters."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as zf:
            parts = _check_parts(zf, name, limits)
            budget = [limits.cells]
            titles = _sheet_titles(zf, name, limits, budget)
            for part in parts:
                if part.filename in _BOOK_PARTS:
                    continue  # scanned by _sheet_titles
                if part.filename.endswith((".xml", ".rels", ".vml")) and not part.is_dir():
                    _scan_part(zf, part.filename, name, limits, budget, titles)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        if isinstance(exc, BadFileError):
            raise
        raise BadFileError(f"{name} bukan XLSX yang sah ({type(exc).__name__}).") from None


# --- reading ---------------------------------------------------------------------------------


@dataclass
class Sheet:
    """One worksheet, read row by row through ``rows``."""

    title: str
    _ws: Any
    _book: Workbook

    def rows(self, max_col: int) -> Iterator[tuple[int, list[Any]]]:
        """(row number, cells of columns 1..max_col) of every row the sheet stores; rows it
        does not store are skipped, not filled in. Cells are openpyxl read-only cells
        (value, number_format, font, alignment) or None where the row has no cell."""
        from openpyxl.cell.read_only import ReadOnlyCell
        from openpyxl.worksheet._reader import WorkSheetParser

        ws, book = self._ws, self._book
        wb = ws.parent
        # openpyxl's own read-only iter_rows() fills every row number a sheet skips, up to
        # what its <dimension> claims (a million empty rows from one line of XML); its
        # parser hands over only the rows that are there.
        row = 0
        try:
            with ws._get_source() as src:
                parser = WorkSheetParser(
                    src,
                    ws._shared_strings,
                    data_only=True,
                    epoch=wb.epoch,
                    date_formats=wb._date_formats,
                    timedelta_formats=wb._timedelta_formats,
                )
                for idx, cells in parser.parse():
                    row = idx
                    book.tick()
                    yield idx, self._cells(idx, cells, max_col, ReadOnlyCell)
                merges = parser.merged_cells.mergeCell if parser.merged_cells else ()
                self.merged = [m.ref for m in merges]
        except BadFileError:
            raise
        except _READ_ERRORS as exc:
            raise BadFileError(
                f"{book.name} rusak: lembar {self.title} tidak terbaca sesudah baris {row} "
                f"({type(exc).__name__})."
            ) from None

    def _cells(self, idx: int, cells: list[dict[str, Any]], max_col: int, make: Any) -> list[Any]:
        book = self._book
        out: list[Any] = [None] * max_col
        for cell in cells:
            column = cell["column"]
            if column > max_col:
                continue
            value = cell["value"]
            if isinstance(value, str) and len(value) > book.limits.cell_chars:
                raise BadFileError(
                    f"{book.name}: sel lembar {self.title} baris {idx} berisi "
                    f"{_id(len(value))} karakter (batas Excel {_id(book.limits.cell_chars)}). "
                    "Berkas ditolak."
                )
            out[column - 1] = make(self._ws, **cell)
        return out

    merged: list[str] | None = None

    @property
    def width(self) -> int | None:
        """The number of columns the sheet's dimension claims (None: it does not say)."""
        return self._ws.max_column

    @property
    def first_row(self) -> int:
        return int(self._ws.min_row or 1)


class Workbook:
    """An opened, checked workbook; read its sheets with ``sheets()``."""

    def __init__(self, wb: Any, name: str, limits: Limits) -> None:
        self._wb, self.name, self.limits = wb, name, limits
        self._deadline = time.monotonic() + limits.seconds

    @property
    def sheetnames(self) -> list[str]:
        return list(self._wb.sheetnames)

    def sheets(self) -> Iterator[Sheet]:
        for ws in self._wb.worksheets:
            if not hasattr(ws, "_get_source"):
                continue  # a chartsheet: no cells
            yield Sheet(ws.title, ws, self)

    def sheet(self, title: str) -> Sheet | None:
        return next((s for s in self.sheets() if s.title == title), None)

    def tick(self) -> None:
        if time.monotonic() > self._deadline:
            raise BadFileError(
                f"{self.name} ditolak: membacanya memakan lebih dari "
                f"{self.limits.seconds:.0f} detik. Simpan ulang lembar yang perlu saja "
                "lalu impor lagi."
            )


@contextmanager
def open_workbook(data: bytes, name: str, limits: Limits = LIMITS) -> Iterator[Workbook]:
    """Check ``data`` (``check_workbook``), then open it for reading, row by row.

    Every error a damaged or hostile file can cause while it is read comes out as
    ``BadFileError`` with the row it stopped at.
    """
    from openpyxl import load_workbook

    check_workbook(data, name, limits)
    try:
        wb = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, EOFError) as exc:
        raise BadFileError(f"{name} bukan XLSX yang sah ({type(exc).__name__}).") from None
    book = Workbook(wb, name, limits)
    try:
        yield book
    except BadFileError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, EOFError) as exc:
        raise BadFileError(
            f"{name} rusak: lembarnya tidak terbaca ({type(exc).__name__})."
        ) from None
    finally:
        wb.close()
