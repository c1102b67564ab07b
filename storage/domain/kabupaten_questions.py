"""Questions about every office at once, asked by the kabupaten roles.

Pure. "OPD mana yang serapannya paling rendah tw3", "berapa OPD yang belum lapor tw3",
"rekap serapan kabupaten tw3", "peringkat serapan opd 2022 tw 2". A question that names
one office ("serapan dinas koperasi tw2") is not one of these: it is answered as that
office's question (``storage.domain.offices.find_in_text``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from storage.domain.offices import normalise
from storage.domain.question_parser import parse_triwulan


class KabKind(StrEnum):
    RANK = "rank"  # offices by serapan
    NOT_REPORTED = "not_reported"  # offices that have not (fully) reported
    RECAP = "recap"  # every office, ranked, with the kabupaten total
    RISK = "risk"  # early warning: offices by rupiah at risk of not being absorbed


@dataclass(frozen=True)
class KabQuestion:
    kind: KabKind
    lowest_first: bool
    tahun: int | None
    tw: int | None


# "seluruh dinas" is not here: a kepala says it of their own office.
_OFFICES = re.compile(
    r"\b(opd|opd2|skpd|perangkat daerah|dinas dinas|dinas2|dinas mana|antar dinas|antardinas|"
    r"kabupaten|kab|pemkab|instansi)\b"
)
_WHOLE = re.compile(r"\b(kabupaten|pemkab|semua opd|seluruh opd|semua skpd|seluruh skpd)\b")
_LOW = re.compile(r"\b(rendah|terendah|kecil|terkecil|lambat|terlambat|paling bawah|buncit)\b")
_RANK = re.compile(
    r"\b(mana|paling|ter\w+|peringkat|ranking|rangking|urutan|urut|terbaik|terburuk)\b"
)
_NOT_REPORTED = re.compile(r"\bbelum\b.*\b(lapor|melapor|laporan|mengirim|kirim|isi|mengisi)\b")
_RECAP = re.compile(r"\b(rekap|rekapitulasi|rangkuman|ringkasan)\b")
# About the parts of one office ("bidang mana ... di opd saya"): not a kabupaten question.
_INSIDE = re.compile(r"\b(bidang|program|kegiatan|subkegiatan)\b")
_YEAR = re.compile(r"\b(20\d\d)\b")
_RISK = re.compile(
    r"\b(berisiko|beresiko|risiko|resiko|peringatan dini|proyeksi|tidak terserap|"
    r"terancam|tertinggal)\b"
)


def parse_kabupaten(text: str) -> KabQuestion | None:
    """The kabupaten question in ``text``, or None when it is not about all offices."""
    t = normalise(text)
    if not _OFFICES.search(t) or _INSIDE.search(t):
        return None
    year = _YEAR.search(t)
    tahun = int(year.group(1)) if year else None
    tw = parse_triwulan(text)
    lowest = bool(_LOW.search(t)) or "buruk" in t
    if _NOT_REPORTED.search(t):
        return KabQuestion(KabKind.NOT_REPORTED, lowest, tahun, tw)
    if _RISK.search(t):
        return KabQuestion(KabKind.RISK, False, tahun, tw)
    if _RECAP.search(t):
        return KabQuestion(KabKind.RECAP, False, tahun, tw)
    if _RANK.search(t):
        return KabQuestion(KabKind.RANK, lowest, tahun, tw)
    if _WHOLE.search(t):  # "serapan kabupaten tw3", "serapan semua opd"
        return KabQuestion(KabKind.RECAP, False, tahun, tw)
    return None
