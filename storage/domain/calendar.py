"""The working-day calendar and the dates people type: pure rules of days, no database.

A working day is Monday to Friday and not one of the holidays an office keeps (the
``hari_libur`` setting, read by ``services.schedule.holidays``). Dates are typed day first,
as in Indonesia, or ISO.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from storage.domain.numbers import ParseError

# --- working days -------------------------------------------------------------------------------


def is_working_day(day: date, holidays: frozenset[date] = frozenset()) -> bool:
    return day.weekday() < 5 and day not in holidays


def next_working_day(day: date, holidays: frozenset[date] = frozenset()) -> date:
    """The first working day strictly after ``day``."""
    day += timedelta(days=1)
    while not is_working_day(day, holidays):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, n: int, holidays: frozenset[date] = frozenset()) -> date:
    for _ in range(n):
        day = next_working_day(day, holidays)
    return day


def working_days_between(start: date, end: date, holidays: frozenset[date] = frozenset()) -> int:
    """Working days in (start, end]."""
    n, day = 0, start
    while day < end:
        day += timedelta(days=1)
        n += is_working_day(day, holidays)
    return n


# --- parsing dates people type ------------------------------------------------------------------

_MONTHS: dict[str, int] = {}
for _num, _names in enumerate(
    (
        ("januari", "jan", "january"),
        ("februari", "feb", "pebruari", "peb", "february"),
        ("maret", "mar", "march"),
        ("april", "apr"),
        ("mei", "may"),
        ("juni", "jun", "june"),
        ("juli", "jul", "july"),
        ("agustus", "agu", "agt", "ags", "agust", "aug", "august"),
        ("september", "sep", "sept"),
        ("oktober", "okt", "oct", "october"),
        ("november", "nov", "nop", "nopember"),
        ("desember", "des", "dec", "december"),
    ),
    start=1,
):
    for _name in _names:
        _MONTHS[_name] = _num

_WEEKDAY_RE = re.compile(r"^(senin|selasa|rabu|kamis|jumat|jum'at|sabtu|minggu|ahad)\b[\s,]*")
_ISO_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_NUMERIC_RE = re.compile(r"([0-9]{1,2}) ?([/.-]) ?([0-9]{1,2}) ?\2 ?([0-9]{4}|[0-9]{2})")
_NAMED_RE = re.compile(r"([0-9]{1,2})[ .-]*([a-z]+)\.?[ .,-]*([0-9]{4})")
_EXAMPLES = "Tulis misalnya 10 Januari 2027, 10 Jan 2027, 10/1/2027 atau 2027-01-10."
MAX_DATE_TEXT = 60


def parse_tanggal(text: str) -> date:
    """A date as people type it in Indonesia (day first), or ISO.

    Raises :class:`storage.domain.numbers.ParseError` (a ``ValueError``) with an Indonesian message,
    and nothing else, for any other input.
    """
    if not isinstance(text, str):
        raise ParseError(f"Tanggal tidak terbaca. {_EXAMPLES}")
    raw = " ".join(text.split()).lower()
    if not raw:
        raise ParseError(f"Tanggal masih kosong. {_EXAMPLES}")
    if len(raw) > MAX_DATE_TEXT:
        raise ParseError(f"Teks terlalu panjang untuk sebuah tanggal. {_EXAMPLES}")
    raw = _WEEKDAY_RE.sub("", raw)
    if m := _ISO_RE.fullmatch(raw):
        return _build(int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC_RE.fullmatch(raw):
        year = int(m[4])
        return _build(year + 2000 if len(m[4]) == 2 else year, int(m[3]), int(m[1]))
    if m := _NAMED_RE.fullmatch(raw):
        month = _MONTHS.get(m[2])
        if month is None:
            raise ParseError(f"Nama bulan '{m[2][:20]}' tidak dikenal. {_EXAMPLES}")
        return _build(int(m[3]), month, int(m[1]))
    if re.fullmatch(r"[0-9]{1,2} ?[a-z]+", raw):
        raise ParseError(f"Tahunnya belum ditulis. {_EXAMPLES}")
    raise ParseError(f"'{text.strip()[:30]}' tidak terbaca sebagai tanggal. {_EXAMPLES}")


def _build(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise ParseError(f"Bulan {month} tidak ada (1–12). {_EXAMPLES}")
    if not 2000 <= year <= 2100:
        raise ParseError(f"Tahun {year} di luar rentang yang wajar. {_EXAMPLES}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ParseError(
            f"Tanggal {day} pada bulan {month} tahun {year} tidak ada. {_EXAMPLES}"
        ) from None
