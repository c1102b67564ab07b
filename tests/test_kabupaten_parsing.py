"""Pure rules of a kabupaten: which office a text names, which questions are about all."""

from __future__ import annotations

import pytest

from storage.domain.kabupaten_questions import KabKind, parse_kabupaten
from storage.domain.offices import OfficeName, find_in_text, match_office

OFFICES = [
    OfficeName(1, "Dinas Koperasi, UKM, Perindustrian dan Perdagangan", "Diskoperindag",
               ("koperindag",)),
    OfficeName(2, "Dinas Kesehatan", "Dinkes"),
    OfficeName(3, "Dinas Pekerjaan Umum dan Penataan Ruang"),
    OfficeName(4, "Badan Perencanaan Pembangunan Daerah", "Bappeda"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("diskoperindag", [1]),
        ("Koperindag", [1]),
        ("dinkes", [2]),
        ("PUPR", [3]),
        ("dinas kesehatn", [2]),
        ("dinas koprasi", [1]),
        ("bapeda", [4]),
        ("4", [4]),
        ("dinas", []),
        ("dinas pariwisata", []),
    ],
)
def test_office_names_short_names_typos_and_abbreviations(typed: str, expected: list[int]) -> None:
    assert [o.id for o in match_office(OFFICES, typed)] == expected


@pytest.mark.parametrize(
    ("text", "office", "rest"),
    [
        ("serapan dinas koperasi tw2", 1, "serapan tw2"),
        ("serapan dinkes tw3", 2, "serapan tw3"),
        ("realisasi PUPR tw 3", 3, "realisasi tw 3"),
        ("serapan dinas kesehatan tw3 2022", 2, "serapan tw3 2022"),
    ],
)
def test_an_office_named_in_a_question(text: str, office: int, rest: str) -> None:
    m = find_in_text(OFFICES, text)
    assert m is not None and (m.office.id, m.rest) == (office, rest)


@pytest.mark.parametrize(
    "text", ["serapan tw3", "serapan koperasi tw3", "bidang mana yang paling rendah"]
)
def test_no_office_named(text: str) -> None:
    assert find_in_text(OFFICES, text) is None


@pytest.mark.parametrize(
    ("text", "kind", "lowest", "tw"),
    [
        ("OPD mana yang serapannya paling rendah tw3", KabKind.RANK, True, 3),
        ("dinas mana yang tertinggi serapannya tw 2", KabKind.RANK, False, 2),
        ("berapa OPD yang belum lapor tw3", KabKind.NOT_REPORTED, False, 3),
        ("rekap serapan kabupaten tw3", KabKind.RECAP, False, 3),
        ("serapan semua opd tw1", KabKind.RECAP, False, 1),
    ],
)
def test_kabupaten_questions(text: str, kind: KabKind, lowest: bool, tw: int) -> None:
    q = parse_kabupaten(text)
    assert q is not None and (q.kind, q.lowest_first, q.tw) == (kind, lowest, tw)


@pytest.mark.parametrize(
    "text",
    [
        "serapan seluruh dinas tw3",  # a kepala's own office
        "serapan opd tw3",
        "bidang mana yang paling rendah di opd saya",
        "serapan dinas koperasi tw2",
    ],
)
def test_not_kabupaten_questions(text: str) -> None:
    assert parse_kabupaten(text) is None
