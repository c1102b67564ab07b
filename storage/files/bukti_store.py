"""Evidence files (bukti dukung) in the data folder: checked by content, kept once.

A file is stored under ``<data>/bukti/ab/cdef…`` where ``abcdef…`` is the SHA-256 of its
bytes: the same photo sent twice (or carried into a later draft) is kept once, and a name is
never trusted. Bytes are written to a temporary file in the same folder and renamed into
place, so a crash or a failed download never leaves a half-written file under a real name.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# What the bot accepts, recognised by the first bytes (a renamed .exe is none of these).
MIME_EXT = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # Telegram's own limit for bots downloading a file


class RefusedFile(ValueError):
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
    """The content's MIME type when it may be kept; RefusedFile otherwise."""
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
    return mime


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
