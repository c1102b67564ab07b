"""The ``monev`` command line speaks Indonesian, its argument errors and help too.

argparse words its messages through ``gettext`` (the module's ``_`` and ``ngettext``);
while the command line is parsed they are looked up here instead. Only the messages a
person can meet are translated; anything else stays as argparse words it.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

MESSAGES = {
    "usage: ": "pemakaian: ",
    "options": "pilihan",
    "positional arguments": "argumen",
    "show this help message and exit": "tampilkan bantuan ini lalu keluar",
    "%(prog)s: error: %(message)s\n": "%(prog)s: kesalahan: %(message)s\n",
    "argument %(argument_name)s: %(message)s": "argumen %(argument_name)s: %(message)s",
    "the following arguments are required: %s": "argumen berikut wajib diisi: %s",
    "unrecognized arguments: %s": "argumen tidak dikenal: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "pilihan %(value)r tidak ada; pilih salah satu: %(choices)s"
    ),
    "invalid %(type)s value: %(value)r": "%(value)r bukan %(type)s",
    "expected one argument": "perlu satu nilai sesudahnya",
    "expected at most one argument": "paling banyak satu nilai",
    "expected at least one argument": "perlu paling sedikit satu nilai",
    "ambiguous option: %(option)s could match %(matches)s": (
        "pilihan %(option)s bisa berarti %(matches)s; tulis lebih lengkap"
    ),
    "not allowed with argument %s": "tidak boleh bersama argumen %s",
    "one of the arguments %s is required": "salah satu argumen %s wajib diisi",
    "ignored explicit argument %r": "nilai %r diabaikan",
    "can't open '%(filename)s': %(error)s": "berkas '%(filename)s' tidak dapat dibuka: %(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": (
        "perintah %(parser_name)r tidak ada (pilihan: %(choices)s)"
    ),
}
# What %(type)s names in "… bukan %(type)s": the type's function name, in words.
TYPE_NAMES = {"int": "bilangan bulat", "float": "angka"}


def _gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    if singular == "expected %s argument":
        return "perlu %s nilai sesudahnya"
    return singular if n == 1 else plural


class IndonesianParser(argparse.ArgumentParser):
    """An ArgumentParser whose type names in errors are words ("bilangan bulat")."""

    def error(self, message: str) -> None:  # type: ignore[override]
        for name, words in TYPE_NAMES.items():
            message = message.replace(f"bukan {name}", f"bukan {words}")
        super().error(message)


@contextlib.contextmanager
def indonesian() -> Iterator[None]:
    """argparse's messages in Indonesian while the block runs (parsing, help, errors)."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._, argparse.ngettext = _gettext, _ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]
