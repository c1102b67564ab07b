"""A spending plan typed in a chat: four cumulative rupiah amounts, TW I..IV.

Pure rules, no database. The operator types the amounts separated by ";" or new lines
("50 jt; 200 jt; 400 jt; 600 jt"), each in any shape the anggaran step accepts
(``storage.domain.numbers.parse_rupiah``). A plan is refused with a message saying what was
wrong and what to type instead: not four amounts, an amount that is not rupiah, a quarter
below the one before (the amounts are cumulative), or more than the sub kegiatan's pagu.
"""

from __future__ import annotations

import re

from storage.domain.errors import MonevError
from storage.domain.numbers import ParseError, format_rupiah, parse_rupiah
from storage.domain.periods import roman

MAX_PLAN_TEXT = 300  # four amounts never need more; a longer text is not a plan
EXAMPLE = "50 jt; 200 jt; 400 jt; 600 jt"

PlanValues = tuple[int, int, int, int]


class PlanInputError(MonevError, ValueError):
    """Typed text that is not an acceptable plan; ``str()`` is an Indonesian message."""


def _what_to_type() -> str:
    return (
        "Ketik empat angka kumulatif TW I sampai TW IV, dipisah titik koma atau baris baru, "
        f"misalnya: {EXAMPLE}"
    )


def parse_plan(text: str, pagu: int | None) -> PlanValues:
    """Four cumulative amounts TW I..IV from ``text``, checked against ``pagu``."""
    raw = (text or "").strip()
    if len(raw) > MAX_PLAN_TEXT:
        raise PlanInputError(f"Teks terlalu panjang untuk rencana. {_what_to_type()}")
    parts = [p.strip() for p in re.split(r"[;\n]", raw) if p.strip()]
    if len(parts) != 4:
        raise PlanInputError(
            f"Rencana perlu tepat empat angka (TW I–IV), bukan {len(parts)}. {_what_to_type()}"
        )
    values: list[int] = []
    for q, part in enumerate(parts, start=1):
        if part.lstrip().startswith("-") and part.strip() not in {"-", "–", "—"}:
            raise PlanInputError(f"Rencana TW {roman(q)} tidak boleh negatif. {_what_to_type()}")
        try:
            values.append(parse_rupiah(part))
        except ParseError as exc:
            raise PlanInputError(f"TW {roman(q)}: {exc}") from None
    for q in range(1, 4):
        if values[q] < values[q - 1]:
            raise PlanInputError(
                f"Rencana bersifat kumulatif: TW {roman(q + 1)} ({format_rupiah(values[q])}) "
                f"tidak boleh lebih kecil dari TW {roman(q)} ({format_rupiah(values[q - 1])}). "
                "Ketik jumlah sampai akhir tiap triwulan, bukan jumlah per triwulan."
            )
    if pagu is not None and values[3] > pagu:
        raise PlanInputError(
            f"Rencana TW IV {format_rupiah(values[3])} melebihi pagu {format_rupiah(pagu)}. "
            "Ketik ulang empat angka kumulatif dengan TW IV paling banyak sebesar pagu."
        )
    return values[0], values[1], values[2], values[3]
