"""The one quarter parser and the quarter calendar (storage/domain/periods.py)."""

from __future__ import annotations

from datetime import date

import pytest

from storage.domain.periods import (
    day_after_quarter,
    latest_ended_quarter,
    parse_quarter,
    quarter_end,
    quarter_of,
    quarter_start,
    roman,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("4", 4),
        ("I", 1),
        ("ii", 2),
        ("III", 3),
        ("iv", 4),
        ("tw2", 2),
        ("TW2", 2),
        ("tw 2", 2),
        ("TW II", 2),
        ("twiii", None),  # letters glued to letters are one word, not "tw iii"
        ("q3", 3),
        ("Q4", 4),
        ("Q 1", 1),
        ("triwulan 2", 2),
        ("Triwulan II", 2),
        ("triwulan ke-2", 2),
        ("kuartal kedua", 2),
        ("kuartal ketiga", 3),
        ("trw 4", 4),
        ("tw-3", 3),
        ("  tw 1  ", 1),
        ("pertama", 1),
        ("empat", 4),
        ("0", None),
        ("5", None),
        ("tw5", None),
        ("v", None),
        ("tw", None),
        ("", None),
        ("2022", None),
        ("tw 2 2022", None),
        ("semester 2", None),
        ("²", None),
    ],
)
def test_parse_quarter_accepts_every_written_form(text: str, expected: int | None) -> None:
    assert parse_quarter(text) == expected


def test_roman_round_trips_through_the_parser() -> None:
    assert [roman(q) for q in (1, 2, 3, 4)] == ["I", "II", "III", "IV"]
    for q in (1, 2, 3, 4):
        assert parse_quarter(roman(q)) == q
        assert parse_quarter(f"TW {roman(q)}") == q


def test_quarter_calendar() -> None:
    assert quarter_start(2022, 1) == date(2022, 1, 1)
    assert quarter_start(2022, 4) == date(2022, 10, 1)
    assert quarter_end(2022, 1) == date(2022, 3, 31)
    assert quarter_end(2024, 1) == date(2024, 3, 31)
    assert quarter_end(2022, 2) == date(2022, 6, 30)
    assert quarter_end(2022, 3) == date(2022, 9, 30)
    assert quarter_end(2022, 4) == date(2022, 12, 31)
    assert day_after_quarter(2022, 3) == date(2022, 10, 1)
    assert day_after_quarter(2022, 4) == date(2023, 1, 1)
    for m, q in zip(range(1, 13), [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4], strict=True):
        assert quarter_of(date(2022, m, 15)) == q


def test_latest_ended_quarter() -> None:
    assert latest_ended_quarter(date(2022, 1, 1)) == (2021, 4)
    assert latest_ended_quarter(date(2022, 3, 31)) == (2021, 4)
    assert latest_ended_quarter(date(2022, 4, 1)) == (2022, 1)
    assert latest_ended_quarter(date(2022, 10, 10)) == (2022, 3)
    assert latest_ended_quarter(date(2022, 12, 31)) == (2022, 3)
