"""The PostgreSQL planner's table statistics, kept fresh where autovacuum does not.

Without statistics the planner guesses: at a province's size it joined an office-year's
``realisasi`` and ``node_plan`` by scanning the whole tables (40 ms each per cold question,
against under 1 ms once analysed). Autovacuum analyses a table after enough of it changed; a
server with it switched off never does, and a bulk import is read before autovacuum's next
round even where it runs. So: after an import, the tables it wrote are analysed; and
periodically (bot/jobs/housekeeping.py) every table that changed enough since its last
ANALYZE, by autovacuum's own rule and defaults. SQLite plans well without statistics.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from storage.data.db import is_sqlite

log = logging.getLogger(__name__)

# autovacuum_analyze_threshold and autovacuum_analyze_scale_factor, PostgreSQL's defaults
ANALYZE_THRESHOLD = 50
ANALYZE_SCALE = 0.1

# Tables changed by at least the threshold plus the scale of their rows since they were last
# analysed (never analysed: every row counts as changed).
_STALE = text(
    """
    SELECT relname FROM pg_stat_user_tables
     WHERE schemaname = current_schema()
       AND n_mod_since_analyze > :threshold + :scale * n_live_tup
     ORDER BY relname
    """
)


def _stale(conn: Connection) -> list[str]:
    rows = conn.execute(_STALE, {"threshold": ANALYZE_THRESHOLD, "scale": ANALYZE_SCALE})
    return [r[0] for r in rows]


# What a question reads of an office-year, and an import writes
IMPORTED_TABLES = ("perangkat_daerah", "bidang", "sasaran", "node", "node_plan", "realisasi")


def analyze_stale(engine: Engine) -> list[str]:
    """ANALYZE every table whose statistics are missing or stale; returns their names. (A
    write still in another connection's unflushed counts is seen at the next run.)"""
    if is_sqlite(engine):
        return []
    try:
        with engine.connect() as conn:
            tables = _stale(conn)
    except SQLAlchemyError as exc:
        log.warning("statistik tabel tidak terbaca: %s", exc)
        return []
    return _analyze(engine, tables)


def analyze_all(engine: Engine) -> list[str]:
    """ANALYZE every table of the schema, as after a bulk load that bypassed the importer."""
    if is_sqlite(engine):
        return []
    with engine.connect() as conn:
        tables = list(
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "ORDER BY tablename"
                )
            ).scalars()
        )
    return _analyze(engine, tables)


def analyze_imported(engine: Engine) -> list[str]:
    """After an import: ANALYZE what it wrote, whatever the counts say (autovacuum may be off,
    or not yet round; a fresh office's rows are read within seconds)."""
    if is_sqlite(engine):
        return []
    return _analyze(engine, list(IMPORTED_TABLES))


def _analyze(engine: Engine, tables: list[str]) -> list[str]:
    """ANALYZE ``tables``; a failure is logged, never raised: what was written is committed
    already, and stale statistics only cost time."""
    if not tables:
        return []
    try:
        with engine.connect() as conn:
            # ANALYZE takes only a light lock: reads and writes go on meanwhile
            conn.execute(text("ANALYZE " + ", ".join(f'"{t}"' for t in tables)))
            conn.commit()
    except SQLAlchemyError as exc:
        log.warning("ANALYZE %s gagal: %s", ", ".join(tables), exc)
        return []
    log.info("statistik planner diperbarui: %s", ", ".join(tables))
    return tables
