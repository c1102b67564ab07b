"""Domain queries on the demo data: serapan, fisik, per-quarter pagu, the node-figure rule."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.data.db import read_scope, session_scope
from storage.data.models import Bidang, Node, Realisasi, StatusLaporan
from storage.services.queries import (
    Figure,
    NoYearData,
    YearData,
    capaian_kinerja,
    narasi,
    ranking,
    reporting_status,
    resolve_period,
    rollup,
    scope_result,
    summary,
    trend,
)

# Each bidang at TW III 2022 as the TW III report's own program rows give it.
TW3 = {
    "Sekretariat": (4_737_119_557, 3_064_862_971, 64.70),
    "Koperasi": (
        22_499_800 + 146_440_700 + 24_749_500,
        20_520_600 + 101_560_250 + 22_820_400,
        74.81,
    ),
    "UMKM": (228_520_610, 32_449_550, 14.20),
    "Perdagangan": (
        1_883_197_079 + 209_059_508 + 67_969_000 + 187_041_690 + 99_999_480,
        221_060_437 + 48_628_601 + 28_203_300 + 107_373_034 + 27_756_750,
        17.69,
    ),
    "Perindustrian": (1_965_123_950 + 38_997_760, 643_401_595 + 27_601_550, 33.48),
}


def _bidang(engine: Engine, nama: str) -> Bidang:
    with read_scope(engine) as s:
        return s.exec(select(Bidang).where(Bidang.nama == nama)).one()


def _node_id(engine: Engine, start: str) -> int:
    with read_scope(engine) as s:
        return next(n.id for n in s.exec(select(Node)).all() if n.nama.startswith(start))


def test_summary_tw3_matches_the_reports_program_rows(seeded_ro: Engine) -> None:
    with read_scope(seeded_ro) as s:
        sm = summary(s, 1, 2022, 3)
    got = {r.nama: (r.figure.pagu, r.figure.realisasi, r.figure.serapan) for r in sm.rows}
    assert got == TW3
    assert sm.total.pagu == sum(v[0] for v in TW3.values()) == 9_610_718_634
    assert sm.total.realisasi == sum(v[1] for v in TW3.values()) == 4_346_239_038
    assert sm.total.serapan == 45.22
    assert sm.benchmark == 60.0
    assert set(sm.behind) == {"UMKM", "Perdagangan", "Perindustrian"}


def test_koperasi_tw2(seeded_ro: Engine) -> None:
    b = _bidang(seeded_ro, "Koperasi")
    with read_scope(seeded_ro) as s:
        res = scope_result(s, 1, 2022, 2, bidang_id=b.id)
    f = res.item.figure
    assert (f.pagu, f.realisasi, f.serapan) == (193_690_000, 79_265_450, 40.92)
    assert [i.nama for i in res.breakdown] == [
        "PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI",
        "PROGRAM PENILAIAN KESEHATAN KSP/USP KOPERASI",
        "PROGRAM PEMBERDAYAAN DAN PELINDUNGAN KOPERASI",
    ]
    assert res.benchmark == 40.0 and res.deviasi == 0.92 and not res.behind


def test_pagu_is_per_quarter(seeded_ro: Engine) -> None:
    umkm = _bidang(seeded_ro, "UMKM")
    kop = _bidang(seeded_ro, "Koperasi")
    with read_scope(seeded_ro) as s:
        # PROGRAM PENGEMBANGAN UMKM is in TW I only
        tw1 = scope_result(s, 1, 2022, 1, bidang_id=umkm.id)
        tw2 = scope_result(s, 1, 2022, 2, bidang_id=umkm.id)
        assert tw1.item.figure.pagu == 228_520_610 + 3_956_058_802
        assert tw2.item.figure.pagu == 228_520_610
        assert [i.nama for i in tw2.breakdown] == [
            "PROGRAM PEMBERDAYAAN USAHA MENENGAH, KECIL DAN MIKRO UMKM)"
        ]
        # PROGRAM PENILAIAN KESEHATAN is in TW II and TW III only
        k1 = scope_result(s, 1, 2022, 1, bidang_id=kop.id)
        assert k1.item.figure.pagu == 22_499_800 + 24_749_500
        assert len(k1.breakdown) == 2


def test_quarter_without_report_uses_the_latest_plan_and_is_incomplete(seeded_ro: Engine) -> None:
    with read_scope(seeded_ro) as s:
        sm4 = summary(s, 1, 2022, 4)
        sm3 = summary(s, 1, 2022, 3)
    assert sm4.total.pagu == sm3.total.pagu
    assert sm4.total.realisasi is None and not sm4.total.complete
    assert sm4.total.serapan is None
    assert sm4.total.missing


def test_node_figure_rule(seeded: Engine) -> None:
    prog = _node_id(seeded, "PROGRAM PENUNJANG URUSAN")
    keu = _node_id(seeded, "Kegiatan Administrasi Keuangan")
    harga = _node_id(seeded, "PROGRAM STABILITASI HARGA")
    with read_scope(seeded) as s:
        data = YearData(s, 1, 2022)
        # TW II lacks the rows of Kegiatan Administrasi Keuangan: the program's own figure stands
        assert data.node_figure(prog, 2).realisasi == 1_907_554_921
        assert data.node_figure(prog, 2).reported
        kf = data.node_figure(keu, 2)
        assert kf.pagu == 3_865_895_101 and kf.realisasi is None and not kf.complete
        # STABILITASI HARGA gives no kegiatan in TW III but reports its own figure
        assert data.node_figure(harga, 3).realisasi == 28_203_300
    # Entered data arrives at sub kegiatan level: a parent without its own figure rolls up.
    with session_scope(seeded) as s:
        for r in s.exec(select(Realisasi).where(Realisasi.triwulan == 1)).all():
            node = s.get(Node, r.node_id)
            if node.nama.startswith(("PROGRAM PENUNJANG", "Kegiatan Perencanaan")):
                s.delete(r)
    kp = _node_id(seeded, "Kegiatan Perencanaan")
    with read_scope(seeded) as s:
        data = YearData(s, 1, 2022)
        f = data.node_figure(kp, 1)
        assert not f.reported
        assert f.realisasi == 3_115_500 + 3_013_800 + 8_269_500 + 3_028_800 == 17_427_600
        assert f.pagu == 116_138_700
        assert f.fisik == pytest.approx(
            (36.14 * 8_619_950 + 7.93 * 38_019_800 + 8.13 * 37_249_900 + 9.39 * 32_249_050)
            / 116_138_700,
            abs=0.01,
        )
        assert data.node_figure(prog, 1).realisasi == 740_780_487
    # One sub kegiatan without a figure makes its parents incomplete, never zero.
    with session_scope(seeded) as s:
        sub = _node_id(seeded, "Sub Kegiatan Evaluasi Kinerja")
        s.delete(
            s.exec(select(Realisasi).where(Realisasi.node_id == sub, Realisasi.triwulan == 1)).one()
        )
    with read_scope(seeded) as s:
        data = YearData(s, 1, 2022)
        f = data.node_figure(kp, 1)
        assert f.realisasi is None and "Sub Kegiatan Evaluasi Kinerja Perangkat Daerah" in f.missing
        sek = summary(s, 1, 2022, 1).rows[0]
        assert sek.nama == "Sekretariat" and sek.figure.realisasi is None


def test_ranking_and_trend(seeded_ro: Engine) -> None:
    with read_scope(seeded_ro) as s:
        r = ranking(s, 1, 2022, 3)
        assert [i.nama for i in r] == [
            "Koperasi",
            "Sekretariat",
            "Perindustrian",
            "Perdagangan",
            "UMKM",
        ]
        rf = ranking(s, 1, 2022, 3, by="fisik")
        assert rf[-1].nama == "UMKM"
        t = trend(s, 1, 2022)
    assert [f.serapan for _, f in t] == [6.46, 27.11, 45.22, None]


def test_latest_period_and_status(seeded_ro: Engine) -> None:
    with read_scope(seeded_ro) as s:
        p = resolve_period(s, opd_id=1)
        assert (p.tahun, p.triwulan) == (2022, 3)
        assert p.tahun_defaulted and p.triwulan_defaulted and p.has_data
        st3 = reporting_status(s, 1, 2022, 3)
        assert [(row.bidang.nama, row.status) for row in st3] == [
            (n, StatusLaporan.DISETUJUI)
            for n in ("Sekretariat", "Koperasi", "UMKM", "Perdagangan", "Perindustrian")
        ]
        assert all(row.reported for row in st3)
        st4 = reporting_status(s, 1, 2022, 4)
        assert all(row.status is None and not row.reported for row in st4)


def test_capaian_and_narasi(seeded_ro: Engine) -> None:
    kop = _bidang(seeded_ro, "Koperasi")
    with read_scope(seeded_ro) as s:
        rows = capaian_kinerja(s, 1, 2022, 1)
        sek = rows[0]
        # TW I's own report says 15,64%; later reports restate 15,46%
        assert (sek.target, sek.realisasi) == (25.0, 15.64)
        assert sek.capaian == 62.56
        n = narasi(s, 1, 2022, 3, bidang_id=kop.id)
        assert any("Kurangnya SDM bidang Koperasi" in r.hambatan for r in n)
        assert all(r.sasaran_nomor == 2 for r in n)


def test_with_realisasi_is_a_new_view_that_leaves_the_year_alone(seeded_ro: Engine) -> None:
    with read_scope(seeded_ro) as s:
        year = YearData(s, 1, 2022)
    leaf = next(n for n in year.nodes.values() if not year.children(n.id, 3))  # type: ignore[arg-type]
    parent = leaf.parent_id
    assert parent is not None
    before_leaf = year.node_figure(leaf.id, 3)  # type: ignore[arg-type]
    before_parent = year.node_figure(parent, 3)
    real_before = dict(year.real)
    new = Realisasi(node_id=leaf.id, triwulan=3, anggaran=1, fisik=None)  # type: ignore[arg-type]
    view = year.with_realisasi({(leaf.id, 3): new, (parent, 3): None})  # type: ignore[dict-item]
    assert view.node_figure(leaf.id, 3).realisasi == 1  # type: ignore[arg-type]
    assert not view.node_figure(parent, 3).reported  # a roll-up now
    # the original keeps its rows and its memoised figures
    assert year.real == real_before
    assert year.node_figure(leaf.id, 3) == before_leaf  # type: ignore[arg-type]
    assert year.node_figure(parent, 3) == before_parent
    assert view.nodes is year.nodes and view.plans is year.plans


def test_resolve_period_fills_in_only_what_was_not_said(seeded_ro: Engine) -> None:
    with read_scope(seeded_ro) as s:
        p = resolve_period(s, opd_id=1, tw=2)
        assert (p.tahun, p.triwulan, p.tahun_defaulted, p.triwulan_defaulted) == (
            2022,
            2,
            True,
            False,
        )
        p = resolve_period(s, opd_id=1, tahun=2022)
        assert (p.tahun, p.triwulan, p.tahun_defaulted, p.triwulan_defaulted) == (
            2022,
            3,
            False,
            True,
        )
        # a year without a plan is kept, and says so; its quarter defaults to TW I
        p = resolve_period(s, opd_id=1, tahun=2030)
        assert (p.tahun, p.triwulan, p.has_data, p.years) == (2030, 1, False, (2022,))
        with pytest.raises(NoYearData):
            resolve_period(s, opd_id=999)


def test_find_node_matching_order(seeded_ro: Engine) -> None:
    from storage.services.nodes import find_node

    with read_scope(seeded_ro) as s:
        full = "PROGRAM STABILITASI HARGA BARANG KEBUTUHAN POKOK DAN BARANG PENTING"
        exact = find_node(s, opd_id=1, text=full.lower())
        assert exact.how == "exact" and exact.unique
        node = exact.best
        assert node is not None and node.nama == full
        assert find_node(s, opd_id=1, text=str(node.id)).how == "id"
        assert find_node(s, opd_id=2, text=str(node.id)).how == "none"  # another office's id
        prefix = find_node(s, opd_id=1, text="Stabilitasi Harga")
        assert (prefix.how, prefix.best) == ("prefix", node)
        contains = find_node(s, opd_id=1, text="kebutuhan pokok dan barang")
        assert contains.how == "contains" and node in contains.nodes
        typo = find_node(s, opd_id=1, text="stabilisasi harga barang kebutuhan")
        assert (typo.how, typo.best) == ("fuzzy", node)
        several = find_node(s, opd_id=1, text="koordinasi")
        assert several.ambiguous and several.how in ("prefix", "contains")
        assert find_node(s, opd_id=1, text="zzzz qqqq").how == "none"
        assert find_node(s, opd_id=1, text="  ").how == "none"


def test_capaian_takes_a_fixed_few_statements(seeded_ro: Engine) -> None:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(seeded_ro, "before_cursor_execute", count)
    try:
        with read_scope(seeded_ro) as s:
            statements.clear()
            rows = [r for tw in (1, 2, 3) for r in capaian_kinerja(s, 1, 2022, tw)]
    finally:
        event.remove(seeded_ro, "before_cursor_execute", count)
    assert len(rows) > 10 and any(r.program for r in rows)
    # at most 4 per call however many sasaran and indicators (it was 32 per call)
    assert len([x for x in statements if x.lstrip().upper().startswith("SELECT")]) <= 3 * 4


def test_rollup_of_an_empty_part_adds_nothing() -> None:
    # An empty roll-up (a bidang with nothing planned at the quarter) has no realisation and
    # misses nothing: summed with a complete part it adds nothing (it used to raise TypeError).
    empty = rollup([])
    assert (empty.realisasi, empty.missing) == (None, [])
    total = rollup([empty, Figure(100, 50, 20.0)])
    assert (total.pagu, total.realisasi, total.complete) == (100, 50, True)
    # an incomplete part still makes the whole incomplete
    assert rollup([empty, Figure(100, None, None, missing=["Sub A"])]).missing == ["Sub A"]
