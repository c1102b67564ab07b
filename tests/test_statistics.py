"""Planner statistics on PostgreSQL: analysed after an import and by the housekeeping job when
stale, so a server with autovacuum off (this machine's) or not yet round plans an
office-year's read through the indexes, not by scanning a province's tables."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.jobs.housekeeping import STATISTICS_JOB
from bot.offline.api import OfflineBotAPI
from storage.data.db import is_sqlite
from storage.data.statistics import IMPORTED_TABLES, analyze_all, analyze_stale
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file
from storage.files.layout_import import Request, import_any
from tests.test_inbox import _app


def _analysed(engine: Engine) -> set[str]:
    """Tables of this schema the planner has statistics for (reltuples is -1 until the first
    ANALYZE or VACUUM)."""
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.reltuples >= 0"
            )
        )
        return {r[0] for r in rows}


def _flushed(engine: Engine, statement: str) -> None:
    """Run ``statement``; then make this backend hand its row counts to the statistics
    system (they are otherwise flushed at most once a second, when it goes idle)."""
    with engine.connect() as c:
        c.execute(text(statement))
        c.commit()
        c.execute(text("SELECT pg_stat_force_next_flush()"))
        c.commit()
        c.execute(text("SELECT 1"))  # idle in between: flushed before this answer


def _import(engine: Engine, how: str, *, dry_run: bool = False) -> None:
    if how == "import_file":  # the demo data at first start
        import_file(engine, SEED_FILE, actor="test", dry_run=dry_run)
    else:  # monev import and a file sent to the bot (any layout)
        import_any(engine, SEED_FILE, Request(actor="test", dry_run=dry_run))


@pytest.mark.parametrize("how", ["import_file", "import_any"])
def test_an_import_leaves_statistics_for_what_it_wrote(engine: Engine, how: str) -> None:
    _import(engine, how)
    if is_sqlite(engine):
        with engine.connect() as c:  # nothing done: SQLite plans well without
            stat = text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            assert c.execute(stat).first() is None
        return
    assert set(IMPORTED_TABLES) <= _analysed(engine)


@pytest.mark.parametrize("how", ["import_file", "import_any"])
def test_a_dry_run_import_analyses_nothing(engine: Engine, how: str) -> None:
    _import(engine, how, dry_run=True)
    if not is_sqlite(engine):
        assert not set(IMPORTED_TABLES) & _analysed(engine)


async def test_the_housekeeping_job_analyses_stale_tables_only(seeded: Engine) -> None:
    engine = seeded
    app = await _app(engine, OfflineBotAPI())
    try:
        assert app.job_queue is not None
        jobs = app.job_queue.get_jobs_by_name(STATISTICS_JOB)
        if is_sqlite(engine):
            assert not jobs  # nothing to keep: no job
            assert analyze_stale(engine) == []
            return
        [job] = jobs
        _flushed(
            engine,
            "INSERT INTO audit_log (at, actor, entity, entity_id, field, old, new) "
            "SELECT now(), 't', 'x', g, '', '', '' FROM generate_series(1, 500) g",
        )
        assert "audit_log" not in _analysed(engine)
        await job.run(app)
        assert "audit_log" in _analysed(engine)
        # analysed now: the next run leaves it (and a few changed rows do not make it stale)
        _flushed(
            engine,
            "UPDATE audit_log SET actor = 'u' WHERE id IN (SELECT id FROM audit_log LIMIT 5)",
        )
        assert "audit_log" not in analyze_stale(engine)
    finally:
        await app.shutdown()


def test_a_bulk_load_analyses_every_table_of_its_own_schema(engine: Engine) -> None:
    """What the benchmarks' generator calls after loading rows past the importer."""
    done = analyze_all(engine)
    if is_sqlite(engine):
        assert done == []
        return
    assert {"node", "realisasi", "app_user", "audit_log"} <= set(done)
    assert set(done) <= _analysed(engine)
