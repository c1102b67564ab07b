"""The explicit figure cache: reused while nothing changed, never stale after a write."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.data import db
from storage.data.audit import record
from storage.data.models import AuditLog, Bidang, Level, Node, NodePlan, Realisasi, row_id
from storage.domain.question_parser import Catalog
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file
from storage.services.ask import cached_catalog
from storage.services.cache import FigureCache, data_version, figure_cache
from storage.services.office import copy_year, init_office, revise_pagu
from storage.services.queries import (
    Figure,
    YearData,
    bidang_sasaran_ids,
    latest_quarter,
    list_bidang,
    reporting_status,
    scope_result,
    year_data,
)
from storage.services.schedule import set_group_chat
from storage.services.submission import draft_plan

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
    assert fresh.node_figure(node, 1).pagu == before + 5_000

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
        # the kabupaten's group: no office-year
        set_group_chat(s, opd_id=None, chat_id=-100123, actor="test")
    assert _cached(cache, seeded, 2022) is not y22


def test_office_small_lookups_follow_their_office(seeded: Engine) -> None:
    cache = _two_years(seeded)
    with cache.read(seeded) as s:
        bidang = list_bidang(s, OPD_ID)
    node = _program_of(seeded, 2023)
    with db.session_scope(seeded) as s:
        revise_pagu(s, node_id=node, dari_tw=2, pagu=1, actor="test")
    with cache.read(seeded) as s:
        assert list_bidang(s, OPD_ID) is bidang  # a pagu revision changes no names
    with db.session_scope(seeded) as s:
        copy_year(s, opd_id=OPD_ID, dari=2022, ke=2024, actor="test")
    with cache.read(seeded) as s:
        # a plan change in the office: its lookups are rebuilt (equal, not the same list)
        again = list_bidang(s, OPD_ID)
    assert again == bidang and again is not bidang


# --- what each kind of write rebuilds ---------------------------------------------------------


def _catalog(cache: FigureCache, engine: Engine, opd_id: int = OPD_ID) -> Catalog:
    with cache.read(engine) as s:
        return cached_catalog(s, opd_id)


def _second_office(engine: Engine) -> int:
    with db.session_scope(engine) as s:
        opd = init_office(s, nama="Dinas Contoh Lain", kepala="A", nip="", actor="test")
        assert opd.id is not None
        return opd.id


def _write_realisasi(engine: Engine, node_id: int, tw: int, anggaran: int) -> None:
    """A figure write as /lapor makes it: the row and its audit entry (the node id)."""
    with db.session_scope(engine) as s:
        row = s.exec(
            select(Realisasi).where(Realisasi.node_id == node_id, Realisasi.triwulan == tw)
        ).first() or Realisasi(node_id=node_id, triwulan=tw)
        old, row.anggaran = row.anggaran, anggaran
        s.add(row)
        record(s, actor="test", entity="realisasi", entity_id=node_id, field="anggaran", old=old)


def _a_sub_kegiatan(engine: Engine, tahun: int = 2022) -> int:
    with db.read_scope(engine) as s:
        node = s.exec(
            select(Node)
            .where(Node.tahun == tahun, Node.level == Level.SUB_KEGIATAN)
            .order_by(col(Node.id))
        ).first()
        assert node is not None and node.id is not None
        return node.id


def test_a_figure_write_is_never_served_stale_and_keeps_the_catalogue(seeded: Engine) -> None:
    cache = FigureCache()
    other = _second_office(seeded)
    catalog, other_catalog = _catalog(cache, seeded), _catalog(cache, seeded, other)
    leaf = _a_sub_kegiatan(seeded)
    year = _cached(cache, seeded, 2022)
    old = year.node_figure(leaf, 3).realisasi
    assert old is not None
    _write_realisasi(seeded, leaf, 3, old + 123)
    fresh = _cached(cache, seeded, 2022)
    assert fresh.node_figure(leaf, 3).realisasi == old + 123
    with db.read_scope(seeded) as s:  # the cached answer is the one read afresh
        assert _office_figure(cache, seeded) == scope_result(s, OPD_ID, 2022, 3).item.figure
    # names did not change: the parser's index is kept, in this office and the other
    assert _catalog(cache, seeded) is catalog
    assert _catalog(cache, seeded, other) is other_catalog
    with db.read_scope(seeded) as s:  # the refreshed view equals a full reload
        full = YearData(s, OPD_ID, 2022)
    assert fresh.real == full.real and fresh.plans == full.plans


def test_a_figure_removed_by_a_write_is_removed_from_the_cache(seeded: Engine) -> None:
    cache = FigureCache()
    leaf = _a_sub_kegiatan(seeded)
    assert _cached(cache, seeded, 2022).node_figure(leaf, 3).realisasi is not None
    with db.session_scope(seeded) as s:
        for row in s.exec(select(Realisasi).where(Realisasi.node_id == leaf)).all():
            s.delete(row)
        record(s, actor="test", entity="realisasi", entity_id=leaf, field="anggaran")
    fig = _cached(cache, seeded, 2022).node_figure(leaf, 3)
    assert fig.realisasi is None and fig.missing


def test_a_plan_change_rebuilds_the_catalogue_of_its_office_only(seeded: Engine) -> None:
    cache = FigureCache()
    other = _second_office(seeded)
    catalog, other_catalog = _catalog(cache, seeded), _catalog(cache, seeded, other)
    assert catalog.years == (2022,)
    with db.session_scope(seeded) as s:
        copy_year(s, opd_id=OPD_ID, dari=2022, ke=2023, actor="test")
    again = _catalog(cache, seeded)
    assert again is not catalog and again.years == (2022, 2023)
    assert _catalog(cache, seeded, other) is other_catalog


def test_a_pagu_revision_refreshes_the_rows_it_changed(seeded: Engine) -> None:
    cache = FigureCache()
    catalog = _catalog(cache, seeded)
    node = _program_of(seeded, 2022)
    year = _cached(cache, seeded, 2022)
    before = year.node_figure(node, 3).pagu
    assert before is not None
    with db.session_scope(seeded) as s:
        revise_pagu(s, node_id=node, dari_tw=3, pagu=before + 9, actor="test")
    fresh = _cached(cache, seeded, 2022)
    assert fresh.node_figure(node, 3).pagu == before + 9
    assert fresh.node_figure(node, 2).pagu == year.node_figure(node, 2).pagu
    assert _catalog(cache, seeded) is catalog


def test_a_bidang_draft_plan_follows_writes_in_its_office(seeded: Engine) -> None:
    """Draft plans are keyed by bidang: a pagu revision must reach every bidang's plan."""
    cache = FigureCache()
    with cache.read(seeded) as s:
        bidang = [b for b in list_bidang(s, OPD_ID)]
        plans = {b.id: draft_plan(s, row_id(b), 2022, 3) for b in bidang}
    # a bidang whose id is not an office id, so that only its office can place it
    owner, plan = next((b, p) for b, p in plans.items() if p.subs and b != OPD_ID)
    sub = plan.subs[0]
    assert sub.pagu is not None
    with db.session_scope(seeded) as s:
        revise_pagu(s, node_id=sub.node_id, dari_tw=3, pagu=sub.pagu + 11, actor="test")
    with cache.read(seeded) as s:
        again = draft_plan(s, owner, 2022, 3)  # type: ignore[arg-type]
    assert again.subs[0].pagu == sub.pagu + 11


def _office_figure(cache: FigureCache, engine: Engine) -> Figure:
    with cache.read(engine) as s:
        return scope_result(s, OPD_ID, 2022, 3).item.figure


def test_a_write_session_reads_through_the_cache_only_until_it_writes(seeded: Engine) -> None:
    cache = FigureCache()
    year = _cached(cache, seeded, 2022)
    with cache.write(seeded) as s:
        assert year_data(s, OPD_ID, 2022) is year  # nothing written yet: the cached rows
        s.add(Bidang(opd_id=OPD_ID, kode="baru", nama="Bidang Baru", urutan=99))
        assert figure_cache(s) is None  # a change not flushed yet: read fresh
        s.flush()
        assert figure_cache(s) is None  # written: never again in this session
        assert "Bidang Baru" in [b.nama for b in list_bidang(s, OPD_ID)]
    with cache.write(seeded) as s:
        s.execute(update(Bidang).where(col(Bidang.kode) == "baru").values(nama="Bidang Lain"))
        assert figure_cache(s) is None  # a statement that writes, without any flush


def test_an_audit_entry_committed_late_with_a_smaller_id_is_still_seen(seeded: Engine) -> None:
    """PostgreSQL draws ids when a transaction writes: one that began first may commit a
    smaller id after the cache has looked past it. Simulated with explicit ids."""
    cache = FigureCache()
    leaf = _a_sub_kegiatan(seeded)
    year = _cached(cache, seeded, 2022)
    old = year.node_figure(leaf, 3).realisasi
    assert old is not None
    with db.read_scope(seeded) as s:
        newest = data_version(s)
    with db.session_scope(seeded) as s:  # the later transaction commits first
        s.add(AuditLog(id=newest + 2, actor="test", entity="app_user", entity_id=1, field="x"))
    assert _cached(cache, seeded, 2022) is year  # nothing the figures depend on
    with db.session_scope(seeded) as s:  # the earlier one, with the smaller id, commits now
        row = s.exec(
            select(Realisasi).where(Realisasi.node_id == leaf, Realisasi.triwulan == 3)
        ).one()
        row.anggaran = old + 5
        s.add(row)
        s.add(AuditLog(id=newest + 1, actor="test", entity="realisasi", entity_id=leaf, field="x"))
    assert _cached(cache, seeded, 2022).node_figure(leaf, 3).realisasi == old + 5


# --- a refresh computes again only what the write changed (issue 29) ---------------------------

TWS = (1, 2, 3, 4)


def _everything(year: YearData, bidang: list[int]) -> tuple[object, ...]:
    """Every plan row, figure, top of the plan and total a refresh may have to recompute."""
    scopes: list[set[int] | None] = [None, *(bidang_sasaran_ids(year, b) for b in bidang)]
    return (
        {(n, tw): year.plan(n, tw) for n in year.nodes for tw in TWS},
        {(n, tw): year.node_figure(n, tw) for n in year.nodes for tw in TWS},
        [[p.id for p in year.programs(tw, sids)] for sids in scopes for tw in TWS],
        [year.scope_figure(sids, tw) for sids in scopes for tw in TWS],
        year.quarters_with_data(),
        year.latest_quarter(),
    )


def _deactivate(engine: Engine, node_id: int, tw: int) -> None:
    """A node leaves the plan from ``tw`` on (its plan row says aktif no), with its entry."""
    with db.session_scope(engine) as s:
        rows = s.exec(
            select(NodePlan)
            .where(NodePlan.node_id == node_id, NodePlan.triwulan <= tw)
            .order_by(col(NodePlan.triwulan))
        ).all()
        row = rows[-1]
        if row.triwulan != tw:
            row = NodePlan(node_id=node_id, triwulan=tw, target=row.target, pagu=row.pagu)
        row.aktif = False
        s.add(row)
        record(s, actor="test", entity="node_plan", entity_id=node_id, field="aktif")


def _remove_realisasi(engine: Engine, node_id: int, tw: int) -> None:
    with db.session_scope(engine) as s:
        for row in s.exec(
            select(Realisasi).where(Realisasi.node_id == node_id, Realisasi.triwulan == tw)
        ).all():
            s.delete(row)
        record(s, actor="test", entity="realisasi", entity_id=node_id, field="anggaran")


def test_a_refreshed_year_equals_a_full_reload_after_each_kind_of_row_write(
    seeded: Engine,
) -> None:
    cache = FigureCache()
    with db.read_scope(seeded) as s:
        bidang = [row_id(b) for b in list_bidang(s, OPD_ID)]
    leaf, program = _a_sub_kegiatan(seeded), _program_of(seeded, 2022)
    year = _cached(cache, seeded, 2022)
    kegiatan = next(k.id for k in year.kids[program])
    old = year.node_figure(leaf, 3).realisasi
    assert old is not None and 4 not in year.quarters_with_data()
    pagu = year.node_figure(program, 2).pagu
    assert pagu is not None

    def revise(s: Session) -> None:  # a program's pagu, its ancestors' too
        revise_pagu(s, node_id=program, dari_tw=2, pagu=pagu + 7, actor="test")

    writes = [
        lambda: _write_realisasi(seeded, leaf, 3, old + 123),  # a figure
        lambda: _write_realisasi(seeded, leaf, 4, 1_000),  # a quarter gets its first figure
        lambda: _remove_realisasi(seeded, leaf, 4),  # and loses it again
        lambda: _with_session(seeded, revise),
        lambda: _deactivate(seeded, kegiatan, 3),  # a kegiatan and its subtree leave the plan
        lambda: _deactivate(seeded, program, 4),  # a program leaves the top of the plan
    ]
    quarters = []
    for write in writes:
        _everything(_cached(cache, seeded, 2022), bidang)  # all computed before the write
        write()
        fresh = _cached(cache, seeded, 2022)
        with db.read_scope(seeded) as s:
            full = YearData(s, OPD_ID, 2022)
        assert _everything(fresh, bidang) == _everything(full, bidang)
        with db.read_scope(seeded) as s:  # the statement a session without the cache runs
            assert fresh.latest_quarter() == latest_quarter(s, OPD_ID, 2022)
        quarters.append(fresh.quarters_with_data())
    assert quarters[:3] == [[1, 2, 3], [1, 2, 3, 4], [1, 2, 3]]


def test_a_figure_write_keeps_the_figures_it_did_not_change(seeded: Engine) -> None:
    cache = FigureCache()
    leaf = _a_sub_kegiatan(seeded)
    year = _cached(cache, seeded, 2022)
    parents = set()
    node = year.nodes[leaf]
    while node.parent_id is not None:
        parents.add(node.parent_id)
        node = year.nodes[node.parent_id]
    others = [p.id for p in year.programs(3) if p.id not in parents]
    assert others
    kept = {p: year.node_figure(p, 3) for p in others}
    changed = year.node_figure(node.id, 3)
    old = year.node_figure(leaf, 3).realisasi
    assert old is not None
    _write_realisasi(seeded, leaf, 3, old + 1)
    fresh = _cached(cache, seeded, 2022)
    # the other programs' figures are the very ones computed before: not computed again
    assert all(fresh.node_figure(p, 3) is kept[p] for p in others)
    assert fresh.node_figure(node.id, 3) is not changed  # its own program: computed again
    assert fresh.node_figure(leaf, 3).realisasi == old + 1


def _with_session(engine: Engine, work: Callable[[Session], object]) -> None:
    with db.session_scope(engine) as s:
        work(s)


def test_a_session_reading_an_office_year_keeps_it_while_a_write_refreshes_it(
    seeded: Engine,
) -> None:
    """A session keeps the office-year it was given: a refresh made meanwhile for another
    session is a copy, and the first session's figures stay one consistent state."""
    cache = FigureCache()
    leaf = _a_sub_kegiatan(seeded)
    with cache.read(seeded) as reading:
        year = year_data(reading, OPD_ID, 2022)
        old = year.node_figure(leaf, 3).realisasi
        office = year.scope_figure(None, 3)
        assert old is not None
        _write_realisasi(seeded, leaf, 3, old + 123)
        fresh = _cached(cache, seeded, 2022)
        assert fresh is not year
        assert fresh.node_figure(leaf, 3).realisasi == old + 123
        # the open session: the same object, untouched by the refresh
        assert year_data(reading, OPD_ID, 2022) is year
        assert year.node_figure(leaf, 3).realisasi == old
        assert year.scope_figure(None, 3) == office
    assert _cached(cache, seeded, 2022) is fresh  # the copy is what the cache holds now


def test_with_no_session_reading_it_a_write_refreshes_the_office_year_in_place(
    seeded: Engine,
) -> None:
    """Nothing the size of the office-year is copied on the first answer after a write when no
    one else reads it (issue 29): the same object, its rows and figures as a full reload."""
    cache = FigureCache()
    leaf = _a_sub_kegiatan(seeded)
    year = _cached(cache, seeded, 2022)  # its session is closed: no one holds it
    old = year.node_figure(leaf, 3).realisasi
    assert old is not None
    _write_realisasi(seeded, leaf, 3, old + 123)
    fresh = _cached(cache, seeded, 2022)
    assert fresh is year
    with db.read_scope(seeded) as s:
        full = YearData(s, OPD_ID, 2022)
    assert fresh.real == full.real and fresh.plans == full.plans
    assert fresh.scope_figure(None, 3) == full.scope_figure(None, 3)


def test_a_session_older_than_the_cache_does_not_store_its_rows(seeded: Engine) -> None:
    """A session whose snapshot predates a write the cache has seen reads the changed rows as
    of its snapshot, into an office-year of its own, and leaves the cache's alone: the next
    session gets the written figure."""
    cache = FigureCache()
    leaf = _a_sub_kegiatan(seeded)
    old = _cached(cache, seeded, 2022).node_figure(leaf, 3).realisasi
    assert old is not None
    with cache.read(seeded) as older:
        list_bidang(older, OPD_ID)  # its snapshot and its look at the cache: before the write
        _write_realisasi(seeded, leaf, 3, old + 5)
        with cache.read(seeded) as newer:
            list_bidang(newer, OPD_ID)  # the cache sees the write: the office-year is stale
        mine = year_data(older, OPD_ID, 2022).node_figure(leaf, 3).realisasi
        # SQLite reads its snapshot; PostgreSQL's read sessions see each commit (autocommit)
        assert mine == (old if seeded.dialect.name == "sqlite" else old + 5)
    assert _cached(cache, seeded, 2022).node_figure(leaf, 3).realisasi == old + 5


def test_report_statuses_are_cached_until_a_report_changes_status(seeded: Engine) -> None:
    """Every answer marks figures not approved yet, so every answer reads the statuses of
    its quarter: kept in the cache across a figure write (issue 29: one round trip less for
    the first answer after it), read again once a report's status changes."""
    from sqlalchemy import event

    from storage.data.models import Pelaporan, StatusLaporan

    cache = FigureCache()
    reads: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT pelaporan.bidang_id, pelaporan.status"):
            reads.append(statement)

    def statuses() -> dict[str, str | None]:
        with cache.read(seeded) as s:
            return {r.bidang.nama: r.status for r in reporting_status(s, OPD_ID, 2022, 3)}

    before = statuses()
    assert set(before.values()) == {StatusLaporan.DISETUJUI}
    event.listen(seeded, "before_cursor_execute", seen)
    try:
        leaf = _a_sub_kegiatan(seeded)
        old = _cached(cache, seeded, 2022).node_figure(leaf, 3).realisasi
        assert old is not None
        _write_realisasi(seeded, leaf, 3, old + 1)
        assert statuses() == before and not reads  # a figure write: no status changed
        with db.session_scope(seeded) as s:
            p = s.exec(select(Pelaporan).where(Pelaporan.tahun == 2022, Pelaporan.triwulan == 3))
            report = p.first()
            assert report is not None
            report.status = StatusLaporan.DIKEMBALIKAN
            record(s, actor="test", entity="pelaporan", entity_id=report.id, field="status")
        after = statuses()
        assert len(reads) == 1
        assert sorted(after.values()) == sorted(
            [StatusLaporan.DIKEMBALIKAN] + [StatusLaporan.DISETUJUI] * (len(before) - 1)
        )
    finally:
        event.remove(seeded, "before_cursor_execute", seen)


def test_a_write_to_a_cached_office_year_is_placed_without_a_statement(seeded: Engine) -> None:
    """A node never moves to another office or year: a figure write to a node of a cached
    office-year is placed from the cache (one statement less for the first answer after a
    write, issue 29); a node of an office-year not cached is still looked up."""
    from sqlalchemy import event

    cache = FigureCache()
    placed: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT node.id, node.opd_id, node.tahun \n"):
            placed.append(statement)

    leaf = _a_sub_kegiatan(seeded)
    old = _cached(cache, seeded, 2022).node_figure(leaf, 3).realisasi
    assert old is not None
    event.listen(seeded, "before_cursor_execute", seen)
    try:
        _write_realisasi(seeded, leaf, 3, old + 7)
        assert _cached(cache, seeded, 2022).node_figure(leaf, 3).realisasi == old + 7
        assert placed == []
        cache.clear()  # nothing cached: the write's office-year is looked up
        with cache.read(seeded) as s:
            list_bidang(s, OPD_ID)
        _write_realisasi(seeded, leaf, 3, old + 8)
        with cache.read(seeded) as s:
            list_bidang(s, OPD_ID)
        assert len(placed) == 1
    finally:
        event.remove(seeded, "before_cursor_execute", seen)


def test_the_first_look_after_a_write_reads_the_audit_trail_once(seeded: Engine) -> None:
    """The newest audit id and the entries since the last look come in one statement (two
    round trips on PostgreSQL before, on the first answer after every write, issue 29)."""
    from sqlalchemy import event

    cache = FigureCache()
    looks: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if "audit_log" in statement and statement.lstrip().startswith("SELECT"):
            looks.append(statement)

    leaf = _a_sub_kegiatan(seeded)
    old = _cached(cache, seeded, 2022).node_figure(leaf, 3).realisasi
    assert old is not None
    _write_realisasi(seeded, leaf, 3, old + 3)
    event.listen(seeded, "before_cursor_execute", seen)
    try:
        assert _cached(cache, seeded, 2022).node_figure(leaf, 3).realisasi == old + 3
        assert len(looks) == 1, looks
        looks.clear()
        assert _cached(cache, seeded, 2022).node_figure(leaf, 3).realisasi == old + 3
        assert len(looks) == 1  # nothing new: still one look
    finally:
        event.remove(seeded, "before_cursor_execute", seen)


def test_a_refresh_reads_only_the_table_a_write_changed(seeded: Engine) -> None:
    """A pagu revision changes plan rows only and a figure write realisasi rows only (each
    audit entry names its table): the refresh reads that table alone (issue 29)."""
    from sqlalchemy import event

    cache = FigureCache()
    reads: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT node_plan.id") or statement.startswith(
            "SELECT realisasi.id"
        ):
            reads.append(statement.split(".", 1)[0].removeprefix("SELECT "))

    leaf, program = _a_sub_kegiatan(seeded), _program_of(seeded, 2022)
    year = _cached(cache, seeded, 2022)
    old, pagu = year.node_figure(leaf, 3).realisasi, year.node_figure(program, 2).pagu
    assert old is not None and pagu is not None
    event.listen(seeded, "before_cursor_execute", seen)
    try:
        with db.session_scope(seeded) as s:
            revise_pagu(s, node_id=program, dari_tw=2, pagu=pagu + 11, actor="test")
        reads.clear()
        assert _cached(cache, seeded, 2022).node_figure(program, 2).pagu == pagu + 11
        assert reads == ["node_plan"]
        _write_realisasi(seeded, leaf, 3, old + 11)
        reads.clear()
        assert _cached(cache, seeded, 2022).node_figure(leaf, 3).realisasi == old + 11
        assert reads == ["realisasi"]
    finally:
        event.remove(seeded, "before_cursor_execute", seen)


def _audit_reads(engine: Engine) -> tuple[list[str], Callable[[], None]]:
    """SELECTs touching the audit trail or reading figure rows, and how to stop counting."""
    from sqlalchemy import event

    seen: list[str] = []

    def on(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().startswith("SELECT") and (
            "audit_log" in statement
            or statement.startswith("SELECT node_plan.")
            or statement.startswith("SELECT realisasi.")
        ):
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", on)
    return seen, lambda: event.remove(engine, "before_cursor_execute", on)


def test_a_look_taken_along_is_used_after_another_session_looked(seeded: Engine) -> None:
    """A session's first statement carries its look (``one_along``); when another session
    (a second answer at the same moment) looks before this one uses it, it still covers
    what this one needs: no second look, and the write is seen (issue 29)."""
    from storage.services.actor import load_actor_and_flow

    cache = FigureCache()
    leaf = _a_sub_kegiatan(seeded)
    old = _cached(cache, seeded, 2022).node_figure(leaf, 3).realisasi
    assert old is not None
    _write_realisasi(seeded, leaf, 3, old + 7)
    reads, stop = _audit_reads(seeded)
    try:
        with cache.read(seeded) as first:
            load_actor_and_flow(first, 424_242)  # the sender's statement, the look along
            assert _cached(cache, seeded, 2022).node_figure(leaf, 3).realisasi == old + 7
            reads.clear()
            assert year_data(first, OPD_ID, 2022).node_figure(leaf, 3).realisasi == old + 7
            assert reads == []  # the look along was still good: no look of its own
    finally:
        stop()


def test_a_look_taken_along_that_does_not_cover_the_cache_is_not_used() -> None:
    """What a look along can stand for: from where the cache has seen, every gap it still
    waits for, and no older than the cache."""
    from storage.services.cache import _Along

    along = _Along(10, frozenset({4}), 15, ((4, "realisasi", 1), (12, "node", 2), (14, "x", 3)))
    assert along.since(10, {4}) == (15, [("realisasi", 1), ("node", 2), ("x", 3)], {4, 12, 14})
    # another session looked up to 13 and found 4: only what is after 13, and the gap 12
    assert along.since(13, {12}) == (15, [("node", 2), ("x", 3)], {12, 14})
    assert along.since(13, set()) == (15, [("x", 3)], {14})
    assert along.since(9, set()) is None  # began after what the cache has seen
    assert along.since(10, {3}) is None  # a gap it did not look for
    assert along.since(16, set()) is None  # older than the cache


def test_the_rows_a_write_changed_come_with_the_look_and_refresh_as_a_reload(
    seeded: Engine,
) -> None:
    """The look in a session's first statement also reads the plan and realisasi rows of
    the nodes its new entries name (``rows_along``): the first answer after a pagu revision
    and a figure write refreshes from them, without a statement of its own, and the
    office-year equals a full reload (issue 29)."""
    from storage.services.actor import load_actor_and_flow

    cache = FigureCache()
    program, leaf = _program_of(seeded, 2022), _a_sub_kegiatan(seeded)
    year = _cached(cache, seeded, 2022)
    pagu, old = year.node_figure(program, 1).pagu, year.node_figure(leaf, 3).realisasi
    assert pagu is not None and old is not None
    with db.session_scope(seeded) as s:
        revise_pagu(s, node_id=program, dari_tw=1, pagu=pagu + 13, actor="test")
    _write_realisasi(seeded, leaf, 3, old + 3)
    reads, stop = _audit_reads(seeded)
    try:
        with cache.read(seeded) as s:
            load_actor_and_flow(s, 424_242)  # the first statement: who, with the look
            data = year_data(s, OPD_ID, 2022)
            assert data.node_figure(program, 1).pagu == pagu + 13
            assert data.node_figure(leaf, 3).realisasi == old + 3
        assert len(reads) == 1 and "app_user" in reads[0], reads
    finally:
        stop()
    with db.read_scope(seeded) as s:
        full = YearData(s, OPD_ID, 2022)
    assert data.real == full.real and data.plans == full.plans
    assert data.scope_figure(None, 1) == full.scope_figure(None, 1)
