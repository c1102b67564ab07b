"""Engine factory, sessions and migrations.

SQLite is the embedded default (``data/monev.db``); PostgreSQL comes in through
``DATABASE_URL``. SQLite gets WAL, foreign keys, a busy timeout and write transactions
that begin IMMEDIATE, so two writers queue instead of failing with "database is locked".
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlmodel import Session, create_engine

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_SQLITE_PATH = Path("data") / "monev.db"
BUSY_TIMEOUT_MS = 30_000


def default_url(data_dir: Path | None = None) -> str:
    path = (data_dir / "monev.db") if data_dir else DEFAULT_SQLITE_PATH
    return f"sqlite:///{path}"


def normalise_url(url: str) -> str:
    """Let people write ``postgresql://`` and still get psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def make_engine(url: str | None = None, *, echo: bool = False) -> Engine:
    """Create an engine for ``url`` (default: the SQLite file under ``data/``)."""
    url = normalise_url(url or default_url())
    if is_sqlite(url):
        db_path = make_url(url).database
        # A "file:…?uri=true" name is an SQLite URI, not a path: its folder must exist already.
        if db_path and db_path != ":memory:" and not db_path.startswith("file:"):
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            # Errors and logs then show the SQL without values: no user's text in a log line.
            hide_parameters=True,
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, echo=echo, pool_size=5, max_overflow=10, hide_parameters=True)
    _ping_when_idle(engine)
    return engine


# A pooled connection idle this long is pinged before use (it may have been cut off by a
# server restart); one back from use more recently was alive a moment ago.
PING_AFTER_IDLE_S = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping, minus the round trip for a connection in steady use: a
    busy bot checks a connection out three times per message. A server that restarted within
    the last second shows as one failed statement, after which the whole pool is renewed."""

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_conn: Any, record: Any) -> None:
        record.info["back_at"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["back_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        back = record.info.get("back_at")
        if back is not None and time.monotonic() - back < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool drops this connection and checks out another (a fresh one if need be).
            raise DisconnectionError() from exc


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: object) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "handle_error")
    def _on_error(ctx: ExceptionContext) -> None:
        # SQLite opens a file it may not write read-only and keeps it so for the life of the
        # connection: treating "readonly database" as a lost connection makes the pool open
        # fresh ones, so writes work again as soon as the file is writable, without a restart.
        orig = ctx.original_exception
        if isinstance(orig, sqlite3.OperationalError) and "readonly" in str(orig):
            ctx.is_disconnect = True

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: a read-then-write transaction can then
        # never fail half way with SQLITE_BUSY when another writer got there first.
        # Read-only sessions (read_scope) ask for DEFERRED so WAL readers run in parallel.
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


# One SQLite writer at a time in this process, handed over at once: SQLite's own busy handler
# waits for its write lock in sleeps of 1, 2, 5, 10 … ms, so a "done" mark queued behind a
# short write used to lose more time sleeping than the write took. Re-entrant, so a nested
# write in one thread meets SQLite's lock as before; after the busy timeout SQLite decides.
_writers: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


@contextmanager
def _one_writer(engine: Engine) -> Iterator[None]:
    if engine.dialect.name != "sqlite":
        yield
        return
    lock = _writers.get(engine)
    if lock is None:
        with _writers_lock:
            lock = _writers.setdefault(engine, threading.RLock())
    held = lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        yield
    finally:
        if held:
            lock.release()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with _one_writer(engine), Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# One option-engine per engine: creating it per session costs more than the query it serves.
_read_binds: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A read-only unit of work; never takes SQLite's write lock."""
    bind = _read_binds.get(engine)
    if bind is None:
        bind = engine.execution_options(
            **(
                {"sqlite_begin": "DEFERRED"}
                if is_sqlite(engine)
                else {"isolation_level": "AUTOCOMMIT"}
            )
        )
        _read_binds[engine] = bind
    # close() (not rollback()) ends the transaction without expiring what was loaded,
    # so results stay readable after the block.
    with Session(bind, expire_on_commit=False) as session:
        yield session


@contextmanager
def statement_scope(engine: Engine) -> Iterator[Connection]:
    """A connection for a write that is one statement, committed by the end of the block.
    On PostgreSQL it runs in autocommit, which saves the BEGIN and COMMIT round trips; SQLite
    has no round trips to save, and its driver's autocommit switch would undo the
    transaction handling set up in ``_configure_sqlite``, so there it is a transaction."""
    if is_sqlite(engine):
        with _one_writer(engine), engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # alembic loads only when migrating

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser treats '%' as interpolation; URL-encoded passwords carry it.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


_REVISION_LINE = re.compile(r"^(down_revision|revision)\b[^=\n]*=(.*)$", re.MULTILINE)


def script_head() -> str | None:
    """The newest migration, read from the migration files' text without loading Alembic;
    None when the files do not show exactly one (a test checks it against Alembic's own)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(
            (m.group(1), re.findall(r"['\"]([^'\"]+)['\"]", m.group(2)))
            for m in _REVISION_LINE.finditer(path.read_text(encoding="utf-8"))
        )
        if len(found.get("revision", [])) != 1:
            return None
        revisions.update(found["revision"])
        parents.update(found.get("down_revision", []))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revision(engine: Engine) -> str | None:
    """The revision the database records, read with one plain query (None: none yet)."""
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except DBAPIError:
        return None  # no alembic_version table: a new database
    return rows[0][0] if len(rows) == 1 else None


def upgrade_if_needed(engine: Engine) -> None:
    """``upgrade`` unless the database is already at the newest migration: Alembic and the
    migration scripts then stay out of the process (a long-running bot would keep them in
    memory for nothing)."""
    head = script_head()
    if head is None or stored_revision(engine) != head:
        upgrade(engine)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def schema_diff(engine: Engine) -> list[str]:
    """Differences between the models and the database's schema (empty when they agree).

    Run on a database migrated to head, it proves that the migrations build exactly the
    tables the models describe: a model changed without a migration shows up here.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    from storage.data import models  # noqa: F401  (registers every table on the metadata)

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return [str(d) for d in compare_metadata(ctx, SQLModel.metadata)]
