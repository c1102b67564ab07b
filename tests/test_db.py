"""Engine factory, SQLite's concurrency settings and the migrations."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from storage.data import db
from storage.data.models import Setting


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.BUSY_TIMEOUT_MS
    assert (tmp_path / "sub" / "x.db").exists()


def test_url_normalisation() -> None:
    assert db.normalise_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert db.normalise_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert db.normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_two_concurrent_writers_never_see_database_is_locked(tmp_path: Path) -> None:
    """Two writers (separate engines, as two processes would be) read-modify-write one row."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    first = db.make_engine(url)
    db.upgrade(first)
    with db.session_scope(first) as s:
        s.add(Setting(key="counter", value="0"))
    errors: list[BaseException] = []
    rounds = 40

    def writer() -> None:
        engine = db.make_engine(url)
        try:
            for _ in range(rounds):
                with db.session_scope(engine) as s:
                    row = s.get(Setting, "counter")
                    assert row is not None
                    value = int(row.value)
                    time.sleep(0.001)  # widen the window between read and write
                    row.value = str(value + 1)
                    s.add(row)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.read_scope(first) as s:
        row = s.get(Setting, "counter")
        assert row is not None and row.value == str(2 * rounds)  # no lost update


def test_migrations_empty_to_head_down_and_up(engine: Engine) -> None:
    head = db.head_revision(engine)
    assert db.current_revision(engine) == head
    tables = set(inspect(engine).get_table_names())
    assert {"node", "realisasi", "node_plan", "app_user", "audit_log", "finding"} <= tables
    db.downgrade(engine, "base")
    assert db.current_revision(engine) is None
    assert "node" not in set(inspect(engine).get_table_names())
    db.upgrade(engine)
    assert db.current_revision(engine) == head


def test_the_newest_migration_read_from_the_files_is_alembics_head(engine: Engine) -> None:
    assert db.script_head() is not None
    assert db.script_head() == db.head_revision(engine) == db.stored_revision(engine)


def test_upgrade_if_needed_migrates_what_is_behind_and_leaves_a_current_database(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = db.head_revision(engine)
    db.downgrade(engine, "0007")
    assert db.stored_revision(engine) == "0007"
    db.upgrade_if_needed(engine)
    assert db.stored_revision(engine) == head
    db.downgrade(engine, "base")  # no alembic_version row: a new database
    assert db.stored_revision(engine) is None
    db.upgrade_if_needed(engine)
    assert db.stored_revision(engine) == head

    def refuse(*_a: object) -> None:
        raise AssertionError("Alembic ran although the database was current")

    monkeypatch.setattr(db, "upgrade", refuse)
    db.upgrade_if_needed(engine)  # at head: nothing loaded, nothing run


def test_unreachable_database_fails_clearly() -> None:
    engine = db.make_engine("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(Exception) as err, engine.connect() as conn:
        conn.execute(text("select 1"))
    assert "connect" in str(err.value).lower() or "refused" in str(err.value).lower()


def _contents(engine: Engine) -> dict[str, list[tuple]]:
    """Every table's rows, with timestamps left out (they say when the import ran)."""
    from sqlalchemy import DateTime

    out = {}
    with engine.connect() as conn:
        inspector = inspect(conn)
        for table in sorted(inspector.get_table_names()):
            columns = [
                c["name"]
                for c in inspector.get_columns(table)
                if not isinstance(c["type"], DateTime)
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            rows = conn.exec_driver_sql(f'SELECT {listed} FROM "{table}"').all()
            out[table] = sorted((tuple(row) for row in rows), key=repr)
    return out


def test_a_cloned_demo_database_is_a_fresh_import(
    seeded: Engine, backend: str, tmp_path: Path
) -> None:
    """conftest clones the demo database from a per-session template instead of importing it
    for every test; the clone must hold exactly what an import gives, and go on numbering
    rows where an import would."""
    from storage.data.models import AuditLog
    from storage.files.demo import SEED_FILE
    from storage.files.importer import import_file
    from tests.conftest import _drop_pg_schema, make_backend_engine

    fresh, schema = make_backend_engine(backend, tmp_path / "fresh")
    try:
        db.upgrade(fresh)
        import_file(fresh, SEED_FILE, actor="test")
        expected = _contents(fresh)
        assert sum(len(rows) for rows in expected.values()) > 500
        assert _contents(seeded) == expected
        ids = []
        for eng in (seeded, fresh):
            with db.session_scope(eng) as s:
                row = AuditLog(actor="t", entity="probe")
                s.add(row)
                s.flush()
                ids.append(row.id)
        assert ids[0] == ids[1]
    finally:
        fresh.dispose()
        if schema:
            _drop_pg_schema(schema)
