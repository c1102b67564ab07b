"""Short Indonesian texts for charts: rupiah amounts, percentages, wrapped labels.

Pure string functions (no matplotlib) so they can be tested and reused in captions.
Digits always go through ``storage.domain.numbers`` (babel, ``id_ID``): comma decimals,
dot thousands.
"""

from __future__ import annotations

import math
import re
import textwrap
from decimal import ROUND_HALF_UP, Decimal

from storage.domain.numbers import format_number, format_percent

# Largest unit first. "M" (miliar) and "jt" are what the office writes in its own
# documents; "rb" keeps small amounts short too.
_UNITS: tuple[tuple[int, str], ...] = (
    (10**12, "T"),
    (10**9, "M"),
    (10**6, "jt"),
    (10**3, "rb"),
)
ELLIPSIS = "…"


def _round_half_up(value: Decimal, digits: int) -> Decimal:
    # The office rounds half up (64,705 -> 64,71); Python's round() would round half even.
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def rupiah_short(value: float | int | None, digits: int | None = None) -> str:
    """``Rp 4,7 M``, ``Rp 250 jt``, ``Rp 32,4 jt``, ``Rp 900 rb``, ``Rp 0``; ``-`` when unknown.

    ``digits`` fixes the number of decimals; by default one decimal below 100 of a unit
    and none from 100 up (three significant digits at most, enough for a chart).
    A trailing ``,0`` is dropped so axis ticks read ``Rp 1 M``, ``Rp 1,5 M``.
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    amount = Decimal(str(value))
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    for i, (base, unit) in enumerate(_UNITS):
        if amount < base:
            continue
        mantissa = amount / base
        d = digits if digits is not None else (1 if mantissa < 100 else 0)
        shown = _round_half_up(mantissa, d)
        if shown >= 1000 and i > 0:
            # 999.960.000 must read "Rp 1 M", not "Rp 1.000 jt".
            base, unit = _UNITS[i - 1]
            d = digits if digits is not None else 1
            shown = _round_half_up(amount / base, d)
        if shown == shown.to_integral_value():
            text = format_number(int(shown))
        else:
            text = format_number(shown, d)
        return f"Rp {sign}{text} {unit}"
    return f"Rp {sign}{format_number(int(_round_half_up(amount, 0)))}"


def percent_short(value: float) -> str:
    """``60%`` for whole numbers (axis ticks, targets), ``62,50%`` otherwise."""
    if float(value).is_integer():
        return format_percent(value, 0)
    return format_percent(value)


def points_signed(value: float | None) -> str:
    """A difference of two percentages: ``+3,20 poin``, ``-1,05 poin``, ``0,00 poin``."""
    if value is None:
        return "-"
    shown = _round_half_up(Decimal(str(value)), 2)
    sign = "+" if shown > 0 else "-" if shown < 0 else ""
    return f"{sign}{format_number(abs(shown), 2)} poin"


def clean_label(text: str) -> str:
    """One line of plain text: no report markup, no runs of whitespace."""
    text = re.sub(r"</?b>", "", text or "")
    return " ".join(text.split())


def wrap_label(text: str, width: int = 38, max_lines: int = 3) -> str:
    """Wrap a long program name to at most ``max_lines`` lines, ending in ``…`` if cut.

    Long real names ("Sub Kegiatan Penyediaan Jasa Pemeliharaan, Biaya Pemeliharaan,
    Pajak dan Perizinan Kendaraan Dinas Operasional atau Lapangan") must stay readable
    without eating the whole chart width.
    """
    text = clean_label(text)
    if not text:
        return "-"
    lines = textwrap.wrap(text, width=width, break_long_words=True, break_on_hyphens=False)
    if len(lines) <= max_lines:
        return "\n".join(lines)
    kept = lines[:max_lines]
    last = kept[-1]
    # Cut at a word boundary when there is one, so the ellipsis does not split a word.
    while len(last) + len(ELLIPSIS) > width:
        cut = last.rfind(" ")
        last = last[:cut] if cut > 0 else last[: width - len(ELLIPSIS)]
    kept[-1] = last.rstrip(" ,;:-") + ELLIPSIS
    return "\n".join(kept)
