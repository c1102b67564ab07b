"""Property tests: whatever people type or whatever a file holds, the answer is a value or a
clear error, never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.domain.question_parser import (
    Catalog,
    ParsedQuestion,
    ScopeEntry,
    parse_question,
    parse_triwulan,
)
from storage.files.report_parser import BadFileError, Line, parse_lines, read_bytes
from storage.services.queries import Figure, rollup

CATALOG = Catalog(
    (
        ScopeEntry(
            "opd", 1, "Dinas Koperasi, UKM, Perindustrian dan Perdagangan", ("dinas", "total")
        ),
        ScopeEntry("bidang", 1, "Sekretariat", ("sekretariat",), 1),
        ScopeEntry("bidang", 2, "Koperasi", ("kop", "koperasi"), 2),
        ScopeEntry("bidang", 3, "UMKM", ("ukm", "umkm"), 3),
        ScopeEntry("program", 10, "PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI", (), 2),
        ScopeEntry("sub_kegiatan", 11, "Sub Kegiatan Penyediaan Gaji dan Tunjangan ASN", (), 1),
    ),
    (2022,),
)
WORDS = st.sampled_from(
    ["serapan", "tw", "2", "II", "koperasi", "kop", "grafik", "paling", "rendah", "?", "2022",
     "realisasi", "fisik", "q3", "kuartal", "kedua", "hambatan", "program", "apa", "saja", "🙂"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(WORDS, max_size=12).map(" ".join)))
def test_question_parser_always_answers(text: str) -> None:
    parsed = parse_question(text, CATALOG)
    assert isinstance(parsed, ParsedQuestion)
    assert parsed.triwulan in (None, 1, 2, 3, 4)
    assert parsed.tahun is None or 2000 <= parsed.tahun <= 2099
    assert parse_triwulan(text) in (None, 1, 2, 3, 4)


CELL = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["PROGRAM X", "Kegiatan Y", "Sub Kegiatan Z", "Rp 1.000.000", "1,234,567.00", "-", "Rp",
         "12.5%", "<b>PROGRAM B</b>", "1", "2", "NO", "SASARAN", "ANGGARAN"]
    ),
)  # fmt: skip
ROW = st.lists(CELL, min_size=0, max_size=26)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, max_size=40), st.sampled_from(["I", "II", "III", "IV", "3"]))
def test_importer_parses_or_says_why(rows: list[list[str]], tw: str) -> None:
    header = (
        ["NO", "SASARAN STRATEGI", "INDIKATOR"] + [""] * 12 + ["PROGRAM", "", "", "", "ANGGARAN"]
    )
    lines = [Line(1, [f"LAPORAN KINERJA TRIWULAN {tw} TAHUN 2022"]), Line(2, header)]
    lines += [Line(i + 3, r) for i, r in enumerate(rows)]
    try:
        reports = parse_lines(lines)
    except BadFileError as exc:
        assert str(exc)
        return
    assert reports and all(r.triwulan in (1, 2, 3, 4) for r in reports)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_reading_any_bytes_is_a_table_or_a_clear_error(data: bytes) -> None:
    try:
        lines = read_bytes(data, name="x")
    except BadFileError as exc:
        assert str(exc)
        return
    try:
        parse_lines(lines)
    except BadFileError as exc:
        assert str(exc)


# --- a roll-up is the sum of its parts (issue 29 made it one pass) ----------------------------


def _rollup_by_definition(figs: list[Figure]) -> Figure:
    """The roll-up as docs/domain.md defines it, written plainly."""
    pagu = sum(f.pagu or 0 for f in figs) if figs else None
    missing = [m for f in figs for m in f.missing]
    realisasi = None if missing or not figs else sum(f.realisasi for f in figs)  # type: ignore[misc]
    fisik = None
    weights = [(f.fisik, f.pagu or 0) for f in figs]
    total_w = sum(w for _, w in weights)
    if figs and all(v is not None for v, _ in weights) and total_w:
        fisik = round(sum(v * w for v, w in weights) / total_w, 2)  # type: ignore[operator]
    return Figure(pagu, realisasi, fisik, missing=missing)


_FIGURES = st.builds(
    lambda pagu, real, fisik, name: Figure(
        pagu, real if name is None else None, fisik, missing=[] if name is None else [name]
    ),
    st.one_of(st.none(), st.integers(0, 10**12)),
    st.integers(0, 10**12),
    st.one_of(st.none(), st.floats(0, 100, allow_nan=False)),
    st.one_of(st.none(), st.sampled_from(["Program A", "Kegiatan B"])),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FIGURES, max_size=40))
def test_a_rollup_is_its_definition(figs: list[Figure]) -> None:
    assert rollup(figs) == _rollup_by_definition(figs)
