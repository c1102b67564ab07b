"""Evidence files in ``monev backup`` / ``monev restore``.

The database backup holds the evidence's metadata; the files themselves are copied beside
it, into ``<backup file>.bukti/`` with the same content-addressed layout as the data folder.
A restore copies back every file whose bytes still hash to its name (a damaged copy is
skipped and counted, never restored under a name it does not match).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from storage.data import bukti_store


def companion(backup_file: Path) -> Path:
    """Where the evidence files of ``backup_file`` are kept."""
    return backup_file.with_name(backup_file.name + ".bukti")


def _files(root: Path) -> list[tuple[str, Path]]:
    """(sha256, path) of every evidence file under ``root`` (``ab/cdef…`` layout)."""
    out: list[tuple[str, Path]] = []
    if not root.is_dir():
        return out
    for sub in sorted(root.iterdir()):
        if not sub.is_dir() or len(sub.name) != 2:
            continue
        for f in sorted(sub.iterdir()):
            if f.is_file() and not f.name.startswith("."):
                out.append((sub.name + f.name, f))
    return out


def _copy(src: Path, dest: Path, mode: int | None = None) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
    try:
        shutil.copyfile(src, tmp)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def backup_files(data_dir: Path, backup_file: Path) -> int:
    """Copy the data folder's evidence beside ``backup_file``; how many files."""
    target = companion(backup_file)
    n = 0
    for sha, path in _files(bukti_store.folder(data_dir)):
        # Evidence can show people and places: readable by the owner only, like the backup.
        _copy(path, target / sha[:2] / sha[2:], mode=0o600)
        n += 1
    return n


@dataclass(frozen=True)
class Restored:
    copied: int
    present: int  # already in the data folder
    damaged: int  # bytes that no longer match their name: left out


def restore_files(backup_file: Path, data_dir: Path) -> Restored | None:
    """Copy the evidence kept beside ``backup_file`` into the data folder (None: the backup
    has no evidence folder)."""
    source = companion(backup_file)
    if not source.is_dir():
        return None
    copied = present = damaged = 0
    for sha, path in _files(source):
        if hashlib.sha256(path.read_bytes()).hexdigest() != sha:
            damaged += 1
            continue
        dest = bukti_store.path_of(data_dir, sha)
        if dest.is_file() and dest.stat().st_size == path.stat().st_size:
            present += 1
            continue
        _copy(path, dest)
        copied += 1
    return Restored(copied, present, damaged)
