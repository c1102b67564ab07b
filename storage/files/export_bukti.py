"""The quarter's report with its evidence, as one ZIP (``monev export --bukti``,
``/laporan … bukti``).

Inside: the 22-column XLSX as :func:`storage.files.export.export_bytes` writes it, a folder
per bidang and sub kegiatan holding the files sent as evidence, and ``indeks-bukti.xlsx``
whose every row links to its file. Only evidence of submitted reports is included (waiting
or approved), marked with the report's status, as the figures are.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlmodel import Session

from storage.data import bukti_store
from storage.domain.text import strip_control
from storage.files.export import export_bytes
from storage.services import bukti

INDEX_NAME = "indeks-bukti.xlsx"
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()-]+")
HEADERS = (
    "Bidang",
    "Sub kegiatan",
    "Berkas",
    "Jenis",
    "Ukuran (bita)",
    "Catatan",
    "Dikirim oleh",
    "Waktu kirim (WIB)",
    "Waktu EXIF",
    "GPS",
    "SHA-256",
    "Status laporan",
)


def _wib(at: datetime) -> datetime:
    """A stored time (UTC; naive ones are UTC too) as the office reads it."""
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(bukti_store.WIB)


def _folder_name(text: str, limit: int = 60) -> str:
    """A path part every unzip tool and file system accepts."""
    clean = " ".join(_UNSAFE.sub(" ", text).split()).strip(" .")
    return clean[:limit].rstrip(" .") or "tanpa-nama"


def _put(ws: Any, row: int, column: int, value: object) -> Any:
    # Notes are typed by users: always a string cell, never a formula; control characters
    # (which openpyxl refuses) dropped.
    if isinstance(value, str):
        value = strip_control(value)
    c = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        c.data_type = "s"
    return c


def zip_name(tahun: int, tw: int) -> str:
    return f"laporan-kinerja-{tahun}-tw{tw}-bukti.zip"


def export_zip(
    session: Session,
    opd_id: int,
    tahun: int,
    tw: int,
    data_dir: Path,
    *,
    approved_only: bool = False,
) -> tuple[str, bytes, int]:
    """(file name, ZIP bytes, number of evidence files) of one quarter."""
    xlsx_name, xlsx = export_bytes(session, opd_id, tahun, tw, approved_only=approved_only)
    rows = bukti.for_export(session, opd_id=opd_id, tahun=tahun, triwulan=tw)
    if approved_only:
        rows = [r for r in rows if r[1] == "disetujui"]
    wb = Workbook()
    ws = wb.create_sheet("Indeks bukti", 0)
    wb.remove(wb.worksheets[1])  # the empty default sheet
    for col, h in enumerate(HEADERS, 1):
        _put(ws, 1, col, h)
    buf = io.BytesIO()
    seen: dict[str, int] = {}
    n = 0
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(xlsx_name, xlsx)
        for r, (bidang, status, it) in enumerate(rows, 2):
            folder = f"bukti/{_folder_name(bidang)}/{_folder_name(it.sub)}"
            seen[folder] = seen.get(folder, 0) + 1
            ext = bukti_store.MIME_EXT.get(it.mime, "bin")
            path = f"{folder}/{seen[folder]:02d}-{it.sha256[:10]}.{ext}"
            try:
                content = bukti_store.read(data_dir, it.sha256)
            except OSError:
                path = ""  # the data folder lacks it (restored without files): said so below
            else:
                # Photos and PDFs are compressed already: stored as they are.
                z.writestr(path, content, compress_type=zipfile.ZIP_STORED)
                n += 1
            gps = f"{it.gps[0]:.6f}, {it.gps[1]:.6f}" if it.gps else ""
            values = (
                bidang,
                it.sub,
                path or "berkas tidak ditemukan di folder data",
                it.kind,
                it.size,
                it.caption,
                it.oleh,
                _wib(it.at).strftime("%Y-%m-%d %H:%M"),
                it.exif_time,
                gps,
                it.sha256,
                status,
            )
            for col, v in enumerate(values, 1):
                _put(ws, r, col, v)
            if path:
                ws.cell(row=r, column=3).hyperlink = path
        widths = (22, 50, 50, 10, 12, 40, 20, 18, 20, 24, 66, 14)
        for col, w in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(col)].width = w
        index = io.BytesIO()
        wb.save(index)
        z.writestr(INDEX_NAME, index.getvalue())
    return zip_name(tahun, tw), buf.getvalue(), n
