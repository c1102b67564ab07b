"""Money, percent and date formats of docs/domain.md, in and out."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.domain.numbers import (
    AmbiguousRupiah,
    ParseError,
    format_percent,
    format_rupiah,
    format_tanggal,
    looks_like_rupiah,
    parse_percent,
    parse_rupiah,
    ratio_percent,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234.567", 1_234_567),
        ("1,234,567.00", 1_234_567),
        ("Rp. 228.520.610", 228_520_610),
        ("Rp 22,499,800", 22_499_800),
        ("Rp22.499.800", 22_499_800),
        ("1,5 jt", 1_500_000),
        ("1.5 juta", 1_500_000),
        ("2 M", 2_000_000_000),
        ("2 miliar", 2_000_000_000),
        ("250 rb", 250_000),
        ("Rp -", 0),
        ("-", 0),
        ("Rp", 0),
        ("4,737,119,557.00", 4_737_119_557),
        ("1.234.567,00", 1_234_567),
        ("740780487", 740_780_487),
        ("<b>3,865,895,101.00</b>", 3_865_895_101),
        ("  Rp 636.000 ", 636_000),
        ("IDR 1.000", 1_000),
        # How offices write money (issue 24): a closing dash, cents of zero, the currency
        # said after the amount, glued units, a decimal comma before a unit.
        ("Rp 24.000.000,-", 24_000_000),
        ("Rp. 24.000.000,-", 24_000_000),
        ("24.000.000,-", 24_000_000),
        ("Rp. 5.000.000.-", 5_000_000),
        ("Rp 24.000.000,=", 24_000_000),
        ("Rp. 24.000.000,00", 24_000_000),
        ("24 juta rupiah", 24_000_000),
        ("24 jt rupiah", 24_000_000),
        ("24.000.000 rupiah", 24_000_000),
        ("24jt", 24_000_000),
        ("rp 24jt", 24_000_000),
        ("2,4 M", 2_400_000_000),
        ("2,4M", 2_400_000_000),
        ("24 juta 500 ribu", 24_500_000),
        ("1 M 250 jt", 1_250_000_000),
    ],
)
def test_parse_rupiah_accepts_every_shape(text: str, expected: int) -> None:
    assert parse_rupiah(text) == expected


@pytest.mark.parametrize(
    "text", ["abc", "1,5", "12.34.5", "Rp 1.234,56", "-5000", "3 kg", "1..2", "9" * 20]
)
def test_parse_rupiah_refuses_with_indonesian_message(text: str) -> None:
    with pytest.raises(ParseError) as err:
        parse_rupiah(text)
    msg = str(err.value)
    assert msg and not msg.startswith("invalid")
    assert any(w in msg for w in ("Contoh", "Tulis", "Gunakan", "Periksa", "negatif", "bulat"))


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("24.000,5", ("Rp 24.000 ", "Rp 24.000.500")),
        ("Rp 1.234,56", ("Rp 1.234 ", "Rp 1.234.560")),
        ("1,5", ("1,5 jt", "Rp 1.500.000")),
    ],
)
def test_an_ambiguous_amount_is_asked_back_with_both_readings(
    text: str, options: tuple[str, str]
) -> None:
    with pytest.raises(AmbiguousRupiah) as err:
        parse_rupiah(text)
    msg = str(err.value)
    assert "meragukan" in msg and "Maksud Anda" in msg and msg.rstrip().endswith(".")
    assert all(o in msg for o in options), msg


@pytest.mark.parametrize("text", ["5 jt 10 jt", "24 jt abc", "500 ribu 2 jt", "24 juta 3 kg"])
def test_units_out_of_order_are_not_added_up(text: str) -> None:
    with pytest.raises(ParseError):
        parse_rupiah(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("40,92%", 40.92),
        ("15.64%", 15.64),
        ("13.36", 13.36),
        ("5%", 5.0),
        ("100 persen", 100.0),
        ("<b>17.19%</b>", 17.19),
        ("0,5", 0.5),
    ],
)
def test_parse_percent(text: str, expected: float) -> None:
    assert parse_percent(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "-", "banyak", "12%%", "1.2.3"])
def test_parse_percent_refuses(text: str) -> None:
    with pytest.raises(ParseError):
        parse_percent(text)


def test_output_formats_are_indonesian() -> None:
    assert format_rupiah(1_234_567) == "Rp 1.234.567"
    assert format_rupiah(0) == "Rp 0"
    assert format_rupiah(None) == "-"
    assert format_percent(40.92) == "40,92%"
    assert format_percent(64.7) == "64,70%"
    assert format_percent(None) == "-"
    assert format_tanggal(date(2026, 11, 27)) == "27 November 2026"
    assert ratio_percent(3_064_862_971, 4_737_119_557) == 64.70
    assert ratio_percent(79_265_450, 193_690_000) == 40.92
    assert ratio_percent(5, 0) is None


def test_looks_like_rupiah_tells_amounts_from_targets() -> None:
    assert looks_like_rupiah("Rp 1,883,197,079")
    assert looks_like_rupiah("2,992,500")
    assert looks_like_rupiah("Rp")
    assert not looks_like_rupiah("100")
    assert not looks_like_rupiah("300 UTTP  10 pasar")
    assert not looks_like_rupiah("5%")


@given(st.integers(min_value=0, max_value=10**14))
def test_money_round_trip(value: int) -> None:
    assert parse_rupiah(format_rupiah(value)) == value


@given(st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False))
def test_percent_round_trip(value) -> None:  # type: ignore[no-untyped-def]
    assert parse_percent(format_percent(float(value))) == pytest.approx(float(value))


@given(st.text(max_size=60))
def test_parsers_never_raise_anything_but_parse_error(text: str) -> None:
    for fn in (parse_rupiah, parse_percent):
        with contextlib.suppress(ParseError):
            fn(text)
