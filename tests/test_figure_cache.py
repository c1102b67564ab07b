"""The explicit figure cache: reused while nothing changed, never stale after a write."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from storage.data import db
from storage.data.models import Bidang, Level, Node
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file
from storage.services.cache import FigureCache, figure_cache
from storage.services.office import copy_year, revise_pagu
from storage.services.queries import YearData, list_bidang, scope_result, year_data
from storage.services.schedule import set_group_chat

OPD_ID = 1


def _a_program(engine: Engine) -> int:
    with db.read_scope(engine) as s:
        node = s.exec(
            select(Node).where(Node.tahun == 2022, Node.level == Level.PROGRAM).order_by(Node.id)
        ).first()
        assert node is not None and node.id is not None
        return node.id


def _pagu(cache: FigureCache, engine: Engine, node_id: int) -> int | None:
    with cache.read(engine) as s:
        return year_data(s, OPD_ID, 2022).node_figure(node_id, 3).pagu


def test_a_read_session_reuses_the_year_while_nothing_changed(seeded: Engine) -> None:
    cache = FigureCache()
    with cache.read(seeded) as s:
        first = year_data(s, OPD_ID, 2022)
    with cache.read(seeded) as s:
        assert year_data(s, OPD_ID, 2022) is first  # the speed: no reload per question
    with db.read_scope(seeded) as s:  # a session without the cache reads afresh
        assert figure_cache(s) is None
        assert year_data(s, OPD_ID, 2022) is not first


def _office_pagu(cache: FigureCache, engine: Engine) -> int | None:
    with cache.read(engine) as s:
        return scope_result(s, OPD_ID, 2022, 3).item.figure.pagu


def test_a_committed_write_is_seen_by_the_next_cached_read(seeded: Engine) -> None:
    cache = FigureCache()
    node_id = _a_program(seeded)
    before, office_before = _pagu(cache, seeded, node_id), _office_pagu(cache, seeded)
    assert before is not None and office_before is not None
    with db.session_scope(seeded) as s:
        revise_pagu(s, node_id=node_id, dari_tw=3, pagu=before + 1_000, actor="test")
    assert _pagu(cache, seeded, node_id) == before + 1_000
    assert _office_pagu(cache, seeded) == office_before + 1_000


def test_a_session_that_writes_reads_its_own_write(seeded: Engine) -> None:
    cache = FigureCache()
    with cache.read(seeded) as s:
        names = [b.nama for b in list_bidang(s, OPD_ID)]  # now cached
    with cache.read(seeded) as s:
        assert [b.nama for b in list_bidang(s, OPD_ID)] == names
        s.add(Bidang(opd_id=OPD_ID, kode="baru", nama="Bidang Baru", urutan=99))
        s.flush()
        assert figure_cache(s) is None  # the write took the cache away from this session
        assert "Bidang Baru" in [b.nama for b in list_bidang(s, OPD_ID)]
        s.rollback()
    # what the rolled-back session read was not stored for anyone else
    with cache.read(seeded) as s:
        assert [b.nama for b in list_bidang(s, OPD_ID)] == names


def test_two_databases_never_share_entries(seeded: Engine, tmp_path: Path) -> None:
    cache = FigureCache()
    other = db.make_engine(f"sqlite:///{tmp_path / 'other' / 'monev.db'}")
    try:
        db.upgrade(other)
        with cache.read(seeded) as s:
            assert list_bidang(s, OPD_ID)
        with cache.read(other) as s:
            assert list_bidang(s, OPD_ID) == []
    finally:
        other.dispose()


# --- per office-year versions ----------------------------------------------------------------


def _program_of(engine: Engine, tahun: int) -> int:
    with db.read_scope(engine) as s:
        node = s.exec(
            select(Node)
            .where(Node.tahun == tahun, Node.level == Level.PROGRAM)
            .order_by(col(Node.id))
        ).first()
        assert node is not None and node.id is not None
        return node.id


def _two_years(engine: Engine) -> FigureCache:
    with db.session_scope(engine) as s:
        copy_year(s, opd_id=OPD_ID, dari=2022, ke=2023, actor="test")
    cache = FigureCache()
    with cache.read(engine) as s:
        year_data(s, OPD_ID, 2022), year_data(s, OPD_ID, 2023)
    return cache


def _cached(cache: FigureCache, engine: Engine, tahun: int) -> YearData:
    with cache.read(engine) as s:
        return year_data(s, OPD_ID, tahun)


def test_a_pagu_revision_reloads_only_its_own_office_year(seeded: Engine) -> None:
    cache = _two_years(seeded)
    y22, y23 = _cached(cache, seeded, 2022), _cached(cache, seeded, 2023)
    node = _program_of(seeded, 2023)
    before = y23.node_figure(node, 1).pagu
    assert before is not None
    with db.session_scope(seeded) as s:
        revise_pagu(s, node_id=node, dari_tw=1, pagu=before + 5_000, actor="test")
    assert _cached(cache, seeded, 2022) is y22  # the other year stays cached
    fresh = _cached(cache, seeded, 2023)
    assert fresh is not y23 and fresh.node_figure(node, 1).pagu == before + 5_000

    node22 = _program_of(seeded, 2022)
    pagu22 = y22.node_figure(node22, 3).pagu
    assert pagu22 is not None
    with db.session_scope(seeded) as s:
        revise_pagu(s, node_id=node22, dari_tw=3, pagu=pagu22 + 7, actor="test")
    assert _cached(cache, seeded, 2023) is fresh
    assert _cached(cache, seeded, 2022).node_figure(node22, 3).pagu == pagu22 + 7


def test_an_import_reloads_only_the_office_year_it_wrote(seeded: Engine, tmp_path: Path) -> None:
    cache = _two_years(seeded)
    y22 = _cached(cache, seeded, 2022)
    y23 = _cached(cache, seeded, 2023)
    assert not y23.quarters_with_data()  # a copied year starts with a plan only
    report_2023 = tmp_path / "laporan-2023.txt"
    report_2023.write_bytes(SEED_FILE.read_bytes().replace(b"2022", b"2023"))
    import_file(seeded, report_2023, opd_id=OPD_ID)
    assert _cached(cache, seeded, 2022) is y22
    assert _cached(cache, seeded, 2023).quarters_with_data() == [1, 2, 3]


def test_a_write_the_cache_cannot_place_empties_it(seeded: Engine) -> None:
    cache = _two_years(seeded)
    y22 = _cached(cache, seeded, 2022)
    with db.session_scope(seeded) as s:
        set_group_chat(s, chat_id=-100123, actor="test")  # a setting: no office-year
    assert _cached(cache, seeded, 2022) is not y22


def test_office_small_lookups_follow_their_office(seeded: Engine) -> None:
    cache = _two_years(seeded)
    with cache.read(seeded) as s:
        bidang = list_bidang(s, OPD_ID)
    node = _program_of(seeded, 2023)
    with db.session_scope(seeded) as s:
        revise_pagu(s, node_id=node, dari_tw=2, pagu=1, actor="test")
    with cache.read(seeded) as s:
        # a write in the office: its lookups are rebuilt (equal, not the same list)
        again = list_bidang(s, OPD_ID)
    assert again == bidang and again is not bidang
