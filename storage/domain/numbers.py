"""Indonesian money, percent and date formats, in and out.

Input arrives in every shape people type (``1.234.567``, ``1,234,567.00``,
``Rp. 228.520.610``, ``Rp 24.000.000,-``, ``1,5 jt``, ``24 juta rupiah``, ``2 M``, ``Rp -``);
output is always the office's format (``Rp 1.234.567``, ``40,92%``, ``27 November 2026``)
through babel.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache, lru_cache

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import NumberPattern, parse_pattern

from storage.domain.errors import MonevError

LOCALE = "id_ID"


class ParseError(MonevError, ValueError):
    """Input that is not a number of the expected kind; ``str()`` is an Indonesian message."""


class AmbiguousRupiah(ParseError):
    """An amount that reads two ways (``24.000,5``, ``1,5``): asked back, never guessed."""


_UNITS: dict[str, int] = {
    "rb": 1_000,
    "ribu": 1_000,
    "k": 1_000,
    "jt": 1_000_000,
    "juta": 1_000_000,
    "m": 1_000_000_000,
    "miliar": 1_000_000_000,
    "milyar": 1_000_000_000,
    "mlyr": 1_000_000_000,
    "t": 1_000_000_000_000,
    "triliun": 1_000_000_000_000,
}
_ZERO_WORDS = {"", "-", "–", "—", "nihil", "nol", "kosong"}
_MONEY_RE = re.compile(
    r"^(?P<sign>-)?\s*(?P<num>\d[\d.,\s]*)\s*(?P<unit>[a-z]+)?\.?$",
)
# "24 juta 500 ribu": amounts in words of falling units, added up.
_CHUNK_RE = re.compile(r"(\d[\d.,]*)\s*([a-z]+)\s*")
# How offices close an amount: "Rp 24.000.000,-", "Rp. 5.000.000.-", "24.000.000,=";
# and the currency said after it: "24 juta rupiah".
_DASH_END = re.compile(r"(?<=\d)\s*[.,]?\s*[-=–—]+\s*\.?$")
_CURRENCY_END = re.compile(r"\s*\b(rupiah|rp|idr)\.?$")
_MAX_RUPIAH = 10**15  # no regional budget line comes near a thousand trillion


def _decimal_from_grouped(num: str, *, has_unit: bool) -> Decimal:
    """Read ``num`` whose separators may be Indonesian or English; decide by their shape."""
    num = num.replace(" ", "")
    dots, commas = num.count("."), num.count(",")
    if dots and commas:
        # The separator that comes last is the decimal one: 1.234.567,50 or 1,234,567.50.
        dec = "," if num.rfind(",") > num.rfind(".") else "."
        grp = "." if dec == "," else ","
        int_part, _, frac = num.rpartition(dec)
        if not re.fullmatch(rf"\d{{1,3}}(\{grp}\d{{3}})*", int_part):
            raise ParseError("pemisah ribuan tidak teratur")
        return Decimal(int_part.replace(grp, "") + "." + frac)
    sep = "." if dots else "," if commas else ""
    if not sep:
        return Decimal(num)
    parts = num.split(sep)
    if len(parts) > 2 or (len(parts[-1]) == 3 and not has_unit):
        # 1.234.567 or 1.234: thousands groups.
        if not re.fullmatch(rf"\d{{1,3}}(\{sep}\d{{3}})+", num):
            raise ParseError("pemisah ribuan tidak teratur")
        return Decimal(num.replace(sep, ""))
    return Decimal(parts[0] + "." + parts[1])


def parse_rupiah(text: str) -> int:
    """Parse a rupiah amount in any common shape to whole rupiah.

    Raises ``ParseError`` with an Indonesian explanation when it is not an amount.
    """
    raw = (text or "").strip().lower()
    raw = re.sub(r"</?b>", "", raw)
    raw = re.sub(r"^(idr|rp)\.?\s*", "", raw).strip()
    raw = _CURRENCY_END.sub("", raw).strip()
    raw = _DASH_END.sub("", raw).strip()
    raw = raw.rstrip(",").strip()
    if raw in _ZERO_WORDS:
        return 0
    m = _MONEY_RE.match(raw)
    if not m and (chunks := _chunks(raw)) is not None:
        return _checked(sum(parse_rupiah(f"{num} {unit}") for num, unit in chunks))
    if not m:
        raise ParseError(
            f"'{text.strip()[:40]}' bukan jumlah rupiah. Contoh yang benar: 1.234.567, "
            "Rp 22.499.800, 1,5 jt atau 2 M."
        )
    unit = m.group("unit")
    if unit is not None and unit not in _UNITS:
        raise ParseError(
            f"Satuan '{unit}' tidak dikenal. Gunakan rb, jt/juta, M/miliar, atau tulis angka penuh."
        )
    try:
        value = _decimal_from_grouped(m.group("num").strip(), has_unit=unit is not None)
    except (ParseError, InvalidOperation) as exc:
        raise ParseError(
            f"'{text.strip()[:40]}' tidak terbaca sebagai rupiah ({exc}). "
            "Tulis misalnya 1.234.567 atau 1,5 jt."
        ) from None
    if unit:
        value *= _UNITS[unit]
    if value != value.to_integral_value():
        if unit is None:
            raise _ambiguous(text.strip()[:40], m.group("num").strip(), value)
        raise ParseError("Rupiah harus bilangan bulat (tanpa sen). Contoh: 1.234.567.")
    if m.group("sign"):
        raise ParseError("Realisasi tidak boleh negatif.")
    return _checked(int(value))


def _checked(result: int) -> int:
    if result >= _MAX_RUPIAH:
        raise ParseError("Jumlah terlalu besar. Periksa kembali angka yang diketik.")
    return result


def _chunks(raw: str) -> list[tuple[str, str]] | None:
    """``24 juta 500 ribu`` as [("24", "juta"), ("500", "ribu")]: known units, each smaller
    than the one before; None for anything else."""
    chunks = [(m.group(1), m.group(2)) for m in _CHUNK_RE.finditer(raw)]
    if len(chunks) < 2 or _CHUNK_RE.sub("", raw):
        return None
    units = [_UNITS.get(u, 0) for _, u in chunks]
    if 0 in units or any(a <= b for a, b in itertools.pairwise(units)):
        return None
    return chunks


def _ambiguous(text: str, num: str, value: Decimal) -> AmbiguousRupiah:
    """Ask back: a fraction of a rupiah is almost always a mistyped separator or a lost unit."""
    whole = int(value)
    sep = "," if "," in num else "."
    head, _, tail = num.rpartition(sep)
    if whole == 0 or (len(tail) <= 2 and head.count(".") + head.count(",") == 0):
        # "1,5": a unit left out ("1,5 jt"), or a decimal nobody uses for rupiah.
        full = format_rupiah(int(value * 1_000_000))
        return AmbiguousRupiah(
            f"'{text}' meragukan: rupiah tidak memakai angka desimal. Maksud Anda {num} jt "
            f"({full})? Tulis dengan satuannya (misalnya {num} jt) atau angka penuh "
            f"(misalnya {full.removeprefix('Rp ')})."
        )
    padded = int(head.replace(".", "").replace(",", "") + tail.ljust(3, "0"))
    return AmbiguousRupiah(
        f"'{text}' meragukan: rupiah tidak bersen, jadi '{sep}{tail}' bisa salah ketik. "
        f"Maksud Anda {format_rupiah(whole)} atau {format_rupiah(padded)}? "
        f"Tulis ulang angka penuhnya tanpa sen, misalnya {format_rupiah(padded)[3:]}."
    )


def parse_percent(text: str) -> float:
    """Parse ``40,92%``, ``15.64%``, ``13.36`` or ``5 persen`` to percent points (40.92)."""
    raw = re.sub(r"</?b>", "", (text or "")).strip().lower()
    raw = re.sub(r"\s*(%|persen|pct)\s*$", "", raw).strip()
    if raw in {"-", ""}:
        raise ParseError("Persentase kosong. Tulis angka seperti 45 atau 45,5%.")
    sign = -1 if raw.startswith("-") else 1
    num = raw.lstrip("-").strip()
    try:
        if not re.fullmatch(r"\d[\d.,]*", num) or len(num) > 16:
            raise ParseError("bukan angka")
        # A lone separator is the decimal one (13.36, 40,92); repeated ones group thousands.
        value = _decimal_from_grouped(num, has_unit=True)
    except (ParseError, InvalidOperation):
        raise ParseError(
            f"'{text.strip()[:40]}' bukan persentase. Tulis angka seperti 45 atau 45,5%."
        ) from None
    return float(sign * value)


def looks_like_rupiah(text: str) -> bool:
    """A cell that reads as an amount written with grouping or an Rp sign (not a bare '100')."""
    t = re.sub(r"</?b>", "", text or "").strip()
    if not t:
        return False
    if re.match(r"(?i)^rp\.?\s*[-\d]", t) or re.fullmatch(r"(?i)rp\.?", t):
        return True
    return bool(re.fullmatch(r"\d{1,3}([.,]\d{3})+([.,]\d{2})?", t))


# --- output ------------------------------------------------------------------------------


@cache
def _number_pattern(fmt: str) -> tuple[NumberPattern, Locale]:
    # What babel's format_decimal does on every call (parse the locale and the pattern),
    # done once per pattern: every answer formats dozens of numbers.
    return parse_pattern(fmt), Locale.parse(LOCALE)


_FORMATTED: dict[tuple[type, str, str], str] = {}
_MAX_FORMATTED = 1 << 15


def format_decimal(value: float | int | Decimal, *, format: str) -> str:
    """babel's ``format_decimal`` in the Indonesian locale, with the pattern parsed once.

    Remembered by the value as written (its type and ``str``: 1, 1.0 and Decimal("1.0") are
    told apart) and the pattern: an answer at 100x the demo office formats about sixty
    figures, and after a write nearly all of them are the ones formatted before."""
    key = (value.__class__, str(value), format)
    found = _FORMATTED.get(key)
    if found is None:
        pattern, locale = _number_pattern(format)
        found = pattern.apply(value, locale, numbering_system="latn")
        if len(_FORMATTED) >= _MAX_FORMATTED:
            _FORMATTED.clear()
        _FORMATTED[key] = found
    return found


def format_rupiah(value: int | None) -> str:
    """``Rp 1.234.567``; ``-`` when unknown."""
    if value is None:
        return "-"
    return "Rp " + format_decimal(value, format="#,##0")


_SHORT_UNITS = ((10**12, "T"), (10**9, "M"), (10**6, "jt"), (10**3, "rb"))


def format_rupiah_short(value: int | None) -> str:
    """Rupiah rounded for running text, three significant digits: ``Rp 1,36 M`` (miliar),
    ``Rp 28,7 jt`` (juta), ``Rp 450 rb``; exact figures stay in ``format_rupiah``."""
    if value is None:
        return "-"
    sign = "−" if value < 0 else ""
    v = abs(value)
    for i, (unit, word) in enumerate(_SHORT_UNITS):
        if v < unit:
            continue
        if i > 0 and round(Decimal(v) / unit) >= 1000:  # 999,6 jt reads as 1 M
            unit, word = _SHORT_UNITS[i - 1]
        n = Decimal(v) / unit
        digits = 2 if n < 10 else 1 if n < 100 else 0
        q = n.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
        text = format_decimal(q, format="#,##0." + "#" * digits if digits else "#,##0")
        return f"{sign}Rp {text} {word}"
    return f"{sign}Rp {format_decimal(v, format='#,##0')}"


def format_number(value: float | int | Decimal, digits: int = 0) -> str:
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern)


@lru_cache(maxsize=1 << 15)  # by value: an answer after a write shows the percentages again
def format_percent(value: float | None, digits: int = 2) -> str:
    """``40,92%``; ``-`` when unknown."""
    if value is None:
        return "-"
    return format_decimal(half_up(value, digits), format="#,##0." + "0" * digits) + "%"


def format_tanggal(value: date | datetime) -> str:
    """``27 November 2026``."""
    return format_date(value, format="d MMMM y", locale=LOCALE)


def format_waktu(value: datetime) -> str:
    """``27 November 2026 08.00 WIB`` (the caller passes a WIB-aware datetime)."""
    return format_datetime(value, format="d MMMM y HH.mm", locale=LOCALE) + " WIB"


def half_up(value: Decimal | float | int, digits: int = 2) -> Decimal:
    """The one rounding of a percentage, the offices' way (a calculator's, a spreadsheet's):
    a half goes away from zero, on the decimal number as written, never on a binary float's
    approximation of it (1,125 is 1,13; Python's ``round`` gives 1,12)."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    return d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


@lru_cache(maxsize=1 << 15)  # by value: equal numbers give the equal percentage
def ratio_percent(
    numerator: float | None, denominator: float | None, digits: int = 2
) -> float | None:
    """numerator ÷ denominator in percent points, rounded ``half_up``: serapan (realisasi ÷
    pagu), capaian (realisasi ÷ target: 1 of 8 is 12,50), a deviation or a projection in
    points of pagu. Rp 2.250.000 of Rp 200.000.000 is 1,13. None without a denominator."""
    if numerator is None or not denominator:
        return None
    return float(half_up(Decimal(str(numerator)) * 100 / Decimal(str(denominator)), digits))


# Beyond this a capaian is more likely a mistyped target (88 in a 0.00% cell) than a real
# achievement: it is shown with its T and R and a warning, never as a result.
CAPAIAN_PLAUSIBLE_MAX = 200.0


def capaian_plausible(capaian: float | None) -> bool:
    """Whether a capaian can be shown as an achievement (None counts as plausible)."""
    return capaian is None or 0 <= capaian <= CAPAIAN_PLAUSIBLE_MAX
