"""Shared fixtures: every storage test runs on SQLite and, when TEST_DATABASE_URL is set,
on PostgreSQL too (each test in a schema of its own). Each test's database is a clone of a
template migrated (and seeded) once per session, so tests run in parallel (pytest-xdist)
without sharing any state."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from storage.data import db
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file

if TYPE_CHECKING:
    from tests.bot_harness import Bot

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
# A bot under test does not start a chart process for every answer offering a chart (a
# second of CPU each, on a machine shared by the whole suite); the warm-up has its own tests
# (test_chart_pool.py), which turn it on.
os.environ.setdefault("MONEV_CHART_WARMUP", "false")
BACKENDS = ["sqlite", "postgresql"]


def pytest_report_header(config: pytest.Config) -> str:
    if PG_URL:
        return f"PostgreSQL tests: on ({db.normalise_url(PG_URL).split('@')[-1]})"
    return "PostgreSQL tests: skipped (TEST_DATABASE_URL is not set)"


def _pg_engine(schema: str) -> Engine:
    url = db.normalise_url(PG_URL)
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    # Every connection of this engine works inside the test's own schema.
    return create_engine(
        url, connect_args={"options": f"-csearch_path={schema}"}, pool_pre_ping=True
    )


def _drop_pg_schema(schema: str) -> None:
    admin = create_engine(db.normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def make_backend_engine(backend: str, tmp_path: Path) -> tuple[Engine, str | None]:
    if backend == "sqlite":
        return db.make_engine(f"sqlite:///{tmp_path / 'monev.db'}"), None
    if not PG_URL:
        pytest.skip("PostgreSQL case skipped: TEST_DATABASE_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        return _pg_engine(schema), schema
    except Exception as exc:
        pytest.skip(f"PostgreSQL case skipped: cannot connect to TEST_DATABASE_URL ({exc})")


class Templates:
    """Databases built once per test session (per xdist worker) and cloned for each test:
    migrating and importing the demo reports take about half a second, a clone a few
    milliseconds. The importer itself is tested on fresh databases in test_importer.py."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pg_seeded: str | None = None

    def sqlite_file(self, *, seeded: bool) -> Path:
        path = self.folder / ("seeded.db" if seeded else "empty.db")
        if not path.exists():
            eng = db.make_engine(f"sqlite:///{path}")
            db.upgrade(eng)
            if seeded:
                import_file(eng, SEED_FILE, actor="test")
            eng.dispose()
            # Everything into the main file, so copying that one file copies the database.
            with contextlib.closing(sqlite3.connect(path)) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return path

    def pg_seeded_schema(self) -> str:
        if self._pg_seeded is None:
            eng, schema = make_backend_engine("postgresql", self.folder)
            assert schema is not None
            db.upgrade(eng)
            import_file(eng, SEED_FILE, actor="test")
            eng.dispose()
            self._pg_seeded = schema
        return self._pg_seeded

    def close(self) -> None:
        if self._pg_seeded:
            _drop_pg_schema(self._pg_seeded)


def _copy_pg_rows(source: str, eng: Engine) -> None:
    """Fill the freshly migrated schema of ``eng`` with the rows of schema ``source`` (same
    migrations, so the same tables and column order), sequences included."""
    with eng.begin() as conn:
        target = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
        tables = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = :s "
                "AND tablename <> 'alembic_version'"
            ),
            {"s": source},
        ).scalars()
        # Foreign keys are checked by triggers; replica mode skips them while tables are
        # copied in whatever order (the rows come from a consistent database).
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table in tables:
            conn.exec_driver_sql(
                f'INSERT INTO "{target}"."{table}" SELECT * FROM "{source}"."{table}"'
            )
        sequences = conn.execute(
            text(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = :s AND last_value IS NOT NULL"
            ),
            {"s": source},
        ).all()
        for name, last_value in sequences:
            conn.execute(
                text("SELECT setval(:seq, :v)"), {"seq": f'"{target}"."{name}"', "v": last_value}
            )


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    t = Templates(tmp_path_factory.mktemp("templates"))
    yield t
    t.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def clone_database(
    backend: str, folder: Path, templates: Templates, *, seeded: bool
) -> tuple[Engine, str | None]:
    """A migrated database of its own (holding the demo reports when ``seeded``), cloned from
    the session's templates; the schema to drop afterwards on PostgreSQL."""
    if backend == "sqlite":
        path = folder / "monev.db"
        shutil.copyfile(templates.sqlite_file(seeded=seeded), path)
        return db.make_engine(f"sqlite:///{path}"), None
    eng, schema = make_backend_engine(backend, folder)
    db.upgrade(eng)
    if seeded:
        _copy_pg_rows(templates.pg_seeded_schema(), eng)
    return eng, schema


@pytest.fixture
def engine(
    backend: str, tmp_path: Path, templates: Templates, request: pytest.FixtureRequest
) -> Iterator[Engine]:
    """An empty, migrated database (already holding the demo reports when the test asks for
    ``seeded``: cloning them is much cheaper than importing them again)."""
    eng, schema = clone_database(
        backend, tmp_path, templates, seeded="seeded" in request.fixturenames
    )
    yield eng
    eng.dispose()
    if schema:
        _drop_pg_schema(schema)


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    """A migrated database holding the three 2022 demo reports, as ``import_file`` left them."""
    return engine


@pytest.fixture(scope="session", params=BACKENDS)
def seeded_ro(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    templates: Templates,
) -> Iterator[Engine]:
    """The demo database shared by tests that only read."""
    eng, schema = clone_database(
        request.param, tmp_path_factory.mktemp("ro"), templates, seeded=True
    )
    yield eng
    eng.dispose()
    if schema:
        _drop_pg_schema(schema)


@contextlib.asynccontextmanager
async def running_bot(engine: Engine) -> AsyncIterator[Bot]:
    """The real Application on ``engine`` with an offline Bot API, started and stopped."""
    from bot.console import open_offline
    from bot.settings import Settings
    from tests.bot_harness import ADMIN, Bot, add_users

    add_users(engine)
    settings = Settings(MONEV_ADMIN_IDS=str(ADMIN), DATABASE_URL="", TELEGRAM_BOT_TOKEN="")
    app, api = await open_offline(settings, engine)
    # The wall-clock jobs (reminders, the weekly digest's catch-up five seconds after start)
    # would send on their own in the middle of a test, depending on today's date and on how
    # long the module runs. Job tests drive those jobs with a clock of their own (open_bot).
    if app.job_queue is not None:
        app.job_queue.scheduler.pause()
    try:
        yield Bot(app, api, engine)
    finally:
        await app.stop()
        await app.shutdown()


@pytest.fixture
async def bot(seeded: Engine) -> AsyncIterator[Bot]:
    """The real bot on the demo data, with a kepala and a Koperasi operator registered."""
    async with running_bot(seeded) as b:
        yield b


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=BACKENDS)
async def shared_bot(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    templates: Templates,
) -> AsyncIterator[Bot]:
    """One bot per module for tests that only ask (cheaper than a fresh database each)."""
    eng, schema = clone_database(
        request.param, tmp_path_factory.mktemp("bot"), templates, seeded=True
    )
    try:
        async with running_bot(eng) as b:
            yield b
    finally:
        eng.dispose()
        if schema:
            _drop_pg_schema(schema)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str) -> Iterator[Path]:
    """A fresh folder for the ``monev`` command: its database is SQLite under the folder, or a
    fresh PostgreSQL schema reached through DATABASE_URL."""
    monkeypatch.chdir(tmp_path)
    for var in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN", "MONEV_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    if backend != "postgresql":
        yield tmp_path
        return
    if not PG_URL:
        pytest.skip("PostgreSQL case skipped: TEST_DATABASE_URL is not set")
    schema = f"c_{uuid.uuid4().hex[:10]}"
    admin = create_engine(db.normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in PG_URL else "?"
    monkeypatch.setenv("DATABASE_URL", f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    yield tmp_path
    _drop_pg_schema(schema)
