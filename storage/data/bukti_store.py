"""Evidence files (bukti dukung) in the data folder: checked by reading them, kept once.

A file is kept only when it is what its first bytes say and reads as such: a photo is
decoded (Pillow, within a pixel limit), a PDF is opened and its pages counted (pypdf), so an
HTML page or a ZIP behind a ``%PDF-`` header, or a truncated image, is refused.

A file is stored under ``<data>/bukti/ab/cdef…`` where ``abcdef…`` is the SHA-256 of its
bytes: the same photo sent twice (or carried into a later draft) is kept once, and a name is
never trusted: the name a file is shown and sent under is built by the bot
(:func:`display_name`: sub kegiatan, date, kind). Bytes are written to a temporary file in the
same folder and renamed into place, so a crash or a failed download never leaves a
half-written file under a real name.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storage.domain.errors import MonevError
from storage.domain.periods import WIB

# What the bot accepts, recognised by the first bytes (a renamed .exe is none of these).
MIME_EXT = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # Telegram's own limit for bots downloading a file
# A JPEG is decoded at reduced scale (its DCT allows 1/2 … 1/8), so it may be large; a PNG is
# decoded whole, so its bound is what the decoded image takes in memory.
MAX_JPEG_PIXELS = 60_000_000  # beyond any phone or camera photo (a 50 MP sensor)
MAX_PNG_BYTES = 64 * 1024 * 1024  # width x height x bands of the decoded image
JPEG_CHECK_SIDE = 1024  # the JPEG is decoded down to about this size: every block is read
MAX_PDF_PAGES = 2000
PDF_TAIL = 1024  # a PDF ends with "%%EOF" (and at most whitespace) within its last KB


class RefusedFile(MonevError, ValueError):
    """The file is not kept; ``str()`` says why, in Indonesian."""


def sniff(content: bytes) -> str | None:
    """The MIME type the content really is (JPEG, PNG, PDF), or None."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    return None


@dataclass(frozen=True)
class Exif:
    """When and where a photo was taken, as its camera wrote it (empty when absent)."""

    time: str = ""  # "2022:12:10 09:15:00"
    lat: float | None = None
    lon: float | None = None


def _degrees(value: object, ref: object) -> float | None:
    try:
        d, m, s = (float(x) for x in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    out = d + m / 60 + s / 3600
    return -out if str(ref).upper() in ("S", "W") else out


def read_exif(content: bytes, mime: str) -> Exif:
    """EXIF time and GPS of a JPEG (Pillow reads only the header, no pixels are decoded)."""
    if mime != "image/jpeg":
        return Exif()
    try:
        from PIL import Image

        with Image.open(io.BytesIO(content)) as img:
            exif = img.getexif()
            when = str(exif.get(0x0132) or "")  # DateTime
            sub = exif.get_ifd(0x8769)  # Exif IFD: DateTimeOriginal is the shutter time
            when = str(sub.get(0x9003) or when)
            gps = exif.get_ifd(0x8825)
            lat = _degrees(gps.get(2), gps.get(1)) if gps.get(2) else None
            lon = _degrees(gps.get(4), gps.get(3)) if gps.get(4) else None
    except Exception:
        return Exif()
    return Exif(when.strip("\x00 ")[:32], lat, lon)


@dataclass(frozen=True)
class Stored:
    sha256: str
    mime: str
    size: int
    exif: Exif


def folder(data_dir: Path) -> Path:
    return Path(data_dir) / "bukti"


def path_of(data_dir: Path, sha256: str) -> Path:
    return folder(data_dir) / sha256[:2] / sha256[2:]


def check(content: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The content's MIME type when it may be kept (it reads as what its first bytes say);
    RefusedFile otherwise."""
    if len(content) > max_bytes:
        raise RefusedFile(too_big(len(content), max_bytes))
    if not content:
        raise RefusedFile("Berkas kosong. Kirim ulang foto atau berkasnya.")
    mime = sniff(content)
    if mime is None:
        raise RefusedFile(
            "Isi berkas bukan JPG, PNG atau PDF (diperiksa dari isinya, bukan dari namanya). "
            "Kirim foto, atau berkas JPG/PNG/PDF."
        )
    if mime == "application/pdf":
        _read_pdf(content)
    else:
        _decode_image(content, mime)
    return mime


def _decode_image(content: bytes, mime: str) -> None:
    """Decode the image (bounded): a file that only starts like a JPEG or PNG is refused."""
    from PIL import Image

    unreadable = RefusedFile(
        "Foto tidak dapat dibaca (rusak, terpotong, atau bukan gambar JPG/PNG walau awalnya "
        "tampak begitu). Kirim ulang fotonya."
    )
    try:
        with Image.open(io.BytesIO(content)) as img:
            if {"JPEG": "image/jpeg", "PNG": "image/png"}.get(img.format or "") != mime:
                raise unreadable
            width, height = img.size
            if img.format == "JPEG":
                too_large = width * height > MAX_JPEG_PIXELS
            else:
                too_large = width * height * max(len(img.getbands()), 1) > MAX_PNG_BYTES
            if too_large:
                raise RefusedFile(
                    f"Gambar terlalu besar ({width} × {height} piksel). Kirim sebagai foto "
                    "(Telegram memperkecilnya) atau kecilkan gambarnya dulu."
                )
            if img.format == "JPEG":
                img.draft("RGB", (JPEG_CHECK_SIDE, JPEG_CHECK_SIDE))
            img.load()
    except RefusedFile:
        raise
    except Exception:  # Pillow's errors on a broken file are of many kinds
        raise unreadable from None


def _read_pdf(content: bytes) -> None:
    """Open the PDF and count its pages: HTML, a ZIP or anything else behind "%PDF-" is
    refused, and so is a PDF with another file appended after its end."""
    from pypdf import PdfReader

    not_pdf = RefusedFile(
        "Berkas ini bukan PDF yang utuh walau awalnya tampak seperti PDF (diperiksa dengan "
        "membukanya). Simpan ulang sebagai PDF, atau kirim fotonya."
    )
    tail = content[-PDF_TAIL:]
    end = tail.rfind(b"%%EOF")
    if end < 0 or tail[end + 5 :].strip(b"\r\n\t \x00"):
        raise not_pdf
    quiet = logging.getLogger("pypdf")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # a broken PDF is refused with a message, not logged
    try:
        pages = len(PdfReader(io.BytesIO(content), strict=False).pages)
    except Exception:  # pypdf's errors on a damaged or foreign file are of many kinds
        raise not_pdf from None
    finally:
        quiet.setLevel(level)
    if pages < 1:
        raise not_pdf
    if pages > MAX_PDF_PAGES:
        raise RefusedFile(
            f"PDF terlalu panjang ({pages} halaman; paling banyak {MAX_PDF_PAGES}). Kirim "
            "halaman yang menjadi bukti saja."
        )


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def display_name(sub: str, at: datetime, mime: str, kind: str) -> str:
    """The name a file is stored, shown and sent under, built by the bot from what it is (the
    uploader's own name is never kept: it could say anything, "x\u202egnp.exe" included):
    ``bukti-pembangunan-pasar-2022-12-10-foto.jpg``."""
    ascii_ = unicodedata.normalize("NFKD", sub).encode("ascii", "ignore").decode().lower()
    slug = _NOT_SLUG.sub("-", ascii_).strip("-")[:60].rstrip("-") or "sub-kegiatan"
    day = (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(WIB)
    what = "foto" if kind == "foto" else "dokumen"
    return f"bukti-{slug}-{day.date().isoformat()}-{what}.{MIME_EXT.get(mime, 'bin')}"


def too_big(size: int, max_bytes: int) -> str:
    mb = max_bytes / (1024 * 1024)
    return (
        f"Berkas terlalu besar ({size / (1024 * 1024):.1f} MB; paling besar {mb:.0f} MB). "
        "Kirim sebagai foto (Telegram memperkecilnya) atau kecilkan berkasnya dulu."
    ).replace(".", ",", 1)


def store(data_dir: Path, content: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Stored:
    """Check ``content`` and keep it under its SHA-256 (once; atomically)."""
    mime = check(content, max_bytes=max_bytes)
    digest = hashlib.sha256(content).hexdigest()
    target = path_of(data_dir, digest)
    if not (target.is_file() and target.stat().st_size == len(content)):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    return Stored(digest, mime, len(content), read_exif(content, mime))


def read(data_dir: Path, sha256: str) -> bytes:
    return path_of(data_dir, sha256).read_bytes()


def remove(data_dir: Path, sha256: str) -> None:
    """Forget a file nobody names any more (the caller checked that)."""
    path_of(data_dir, sha256).unlink(missing_ok=True)


def exif_datetime(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
