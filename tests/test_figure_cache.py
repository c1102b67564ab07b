"""The explicit figure cache: reused while nothing changed, never stale after a write."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.data import db
from storage.data.models import Bidang, Level, Node
from storage.services.cache import FigureCache, figure_cache
from storage.services.office import revise_pagu
from storage.services.queries import list_bidang, scope_result, year_data

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
