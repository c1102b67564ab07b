"""Triwulan (quarter): how people write one, how it is shown, and its calendar dates.

The one place that knows that TW II is the second quarter, that "q3", "tw2", "TW II",
"triwulan ke-2" and "kuartal kedua" name quarters, and which days a quarter spans.
Pure: no database, no Telegram.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

QUARTERS: tuple[int, ...] = (1, 2, 3, 4)

_ROMAN: dict[int, str] = {1: "I", 2: "II", 3: "III", 4: "IV"}

# Words that announce a quarter number ("tw 2", "kuartal kedua", "Q3").
QUARTER_WORDS: frozenset[str] = frozenset(
    [
        "q",
        "qtr",
        "tw",
        "trw",
        "twl",
        "kw",
        "triwulan",
        "kuartal",
        "kwartal",
        "quartal",
        "kuarter",
        "quarter",
    ]
)

# One token naming a quarter number: a digit, a Roman numeral or an Indonesian ordinal.
QUARTER_NUMBERS: dict[str, int] = {
    **{str(n): n for n in QUARTERS},
    **{r.lower(): n for n, r in _ROMAN.items()},
    **{w: n for n, ws in enumerate(("pertama kesatu satu", "kedua dua", "ketiga tiga",
                                    "keempat empat"), 1) for w in ws.split()},
}  # fmt: skip

# A quarter number inside a larger pattern (report titles); longest Roman numeral first.
QUARTER_NUMBER_PATTERN = "IV|III|II|I|[1-4]"

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_DIGIT_EDGE = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")


def roman(tw: int) -> str:
    """``2`` -> ``"II"``: how a quarter is written to people (``TW II``)."""
    return _ROMAN[tw]


def quarter_number(token: str) -> int | None:
    """One already-lowercased token as a quarter number (``"2"``, ``"ii"``, ``"kedua"``)."""
    return QUARTER_NUMBERS.get(token)


def quarter_tokens(text: str) -> list[str]:
    """Lowercase, accents folded, punctuation dropped, ``tw2`` split into ``tw 2``."""
    folded = unicodedata.normalize("NFD", text or "")  # NFD: "²" must stay "²", not "2"
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return _DIGIT_EDGE.sub(" ", _NON_ALNUM.sub(" ", folded)).split()


def parse_quarter(text: str) -> int | None:
    """The quarter that ``text`` names as a whole, else None.

    Accepted: a number or Roman numeral alone (``2``, ``II``, ``iv``), or a quarter word
    followed by one, optionally with "ke" (``tw2``, ``TW II``, ``q3``, ``Q 4``,
    ``triwulan 2``, ``triwulan ke-2``, ``kuartal kedua``). Anything else, including a
    number outside 1–4, is None; free-text questions use the question parser instead.
    """
    toks = quarter_tokens(text)
    if len(toks) >= 2 and toks[0] in QUARTER_WORDS:
        toks = toks[1:]
        if len(toks) == 2 and toks[0] == "ke":
            toks = toks[1:]
    if len(toks) != 1:
        return None
    return quarter_number(toks[0])


# --- calendar ---------------------------------------------------------------------------------


def quarter_of(day: date) -> int:
    """The quarter a day falls in."""
    return (day.month - 1) // 3 + 1


def quarter_start(tahun: int, tw: int) -> date:
    return date(tahun, 3 * tw - 2, 1)


def quarter_end(tahun: int, tw: int) -> date:
    if tw == 4:
        return date(tahun, 12, 31)
    return quarter_start(tahun, tw + 1) - timedelta(days=1)


def day_after_quarter(tahun: int, tw: int) -> date:
    """First day of the month after the quarter: reports are signed and due in that month."""
    return quarter_end(tahun, tw) + timedelta(days=1)


# The offices keep Western Indonesian Time: a day, a quarter, a deadline is a day in Jakarta.
WIB = ZoneInfo("Asia/Jakarta")


def today_wib() -> date:
    """Today in WIB: the one "today" of every rule (a server in UTC is still on yesterday
    until 07.00 WIB)."""
    return datetime.now(WIB).date()


def default_year(tahun: int | None, years: Iterable[int]) -> int | None:
    """The year a request means: the one it names, else the latest year the office has a
    plan for (``years``: ``queries.years_with_data``). None when it names none and there is
    no plan at all: each caller says that in its own words; no other fallback (not this
    year, not 0)."""
    if tahun:
        return tahun
    return max(years, default=None)


def latest_ended_quarter(today: date) -> tuple[int, int]:
    """(tahun, tw) of the last quarter that has ended by ``today``."""
    tw_now = quarter_of(today)
    return (today.year, tw_now - 1) if tw_now > 1 else (today.year - 1, 4)


# --- months and half-years in questions ---------------------------------------------------------

# Month words as people type them; a question's "sampai juni" names the end of that month.
MONTHS: dict[str, int] = {
    w: m
    for m, ws in enumerate(
        (
            "januari jan",
            "februari pebruari febuari feb peb",
            "maret mar",
            "april apr",
            "mei",
            "juni jun",
            "juli jul",
            "agustus agu agt agus aug",
            "september sep sept",
            "oktober okt oct",
            "november nov nop",
            "desember des dec",
        ),
        1,
    )
    for w in ws.split()
}
SEMESTER_WORDS: frozenset[str] = frozenset(["semester", "smt", "smstr", "sem"])
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def quarter_ended_by(month: int, day: int | None = None) -> int:
    """The last quarter that has ended on or before that day (no day: the month's last day).

    ``quarter_ended_by(6)`` is 2 ("sampai juni"), ``quarter_ended_by(6, 15)`` is 1 (TW II
    is not over on 15 June), 0 when no quarter of the year has ended yet ("sampai februari").
    """
    last = _MONTH_DAYS[month - 1]
    if day is None or day >= last or (month == 2 and day >= 28):
        return month // 3
    return (month - 1) // 3


def semester_quarter(semester: int) -> int:
    """The quarter that closes a half-year: semester 1 -> TW II, semester 2 -> TW IV."""
    return 2 * semester
