"""Backup and restore of the whole database (``monev backup`` / ``monev restore``).

SQLite goes through sqlite3's online backup API, which copies a consistent snapshot while
the bot keeps running (WAL readers and writers are not blocked). PostgreSQL goes through
``pg_dump``/``pg_restore`` in the custom format, which also survives a major-version
upgrade of the server. Before a PostgreSQL restore touches the live database, the dump is
restored into a scratch database on the same server and checked there (revision, every
table readable, models agree); the scratch database is dropped again whatever happens.

A PostgreSQL engine whose search_path starts with a schema other than ``public`` is backed
up as that schema alone (the test suite gives every test a schema of its own). Such a dump
restores into a schema of the same name, in the same or another database.

Backups hold names and NIPs of people, so files are written readable by the owner only,
and under a temporary name first: a failed backup never leaves a file that looks good.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, select, table, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DatabaseError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from storage.data import db
from storage.domain.errors import MonevError
from storage.domain.periods import WIB

SQLITE_SUFFIX = ".sqlite"
PG_SUFFIX = ".dump"
# Tables that exist in a freshly migrated, still empty database.
BOOKKEEPING_TABLES = frozenset({"alembic_version"})
# PostgreSQL identifiers are cut at 63 bytes; the scratch name keeps its random tail.
PG_NAME_MAX = 63
# SQLSTATE insufficient_privilege: CREATE DATABASE without the CREATEDB right.
PG_INSUFFICIENT_PRIVILEGE = "42501"


class RestoreRefused(MonevError, ValueError):
    """A backup that is not restored (missing, unreadable, not a monev backup, of a newer
    schema): the database is left as it was; ``user_message`` says why."""


class BackupError(MonevError, RuntimeError):
    """A backup or restore that could not be done; the message is for the operator."""


def default_backup_path(engine: Engine, folder: Path, now: datetime | None = None) -> Path:
    """``folder/monev-YYYYmmdd-HHMMSS.sqlite`` (or ``.dump``), stamped in WIB."""
    stamp = (now or datetime.now(WIB)).strftime("%Y%m%d-%H%M%S")
    suffix = SQLITE_SUFFIX if db.is_sqlite(engine) else PG_SUFFIX
    return Path(folder) / f"monev-{stamp}{suffix}"


# --- PostgreSQL connection for the client tools -------------------------------------------


def _conninfo(engine: Engine | URL) -> tuple[str, dict[str, str]]:
    """A libpq keyword/value conninfo for pg_dump/pg_restore, and the environment to run
    them in. The password travels in PGPASSWORD, never on the command line (``ps``)."""
    url = engine.url if isinstance(engine, Engine) else engine
    params: dict[str, str] = {}
    if url.host:
        params["host"] = url.host
    if url.port:
        params["port"] = str(url.port)
    if url.username:
        params["user"] = url.username
    if url.database:
        params["dbname"] = url.database
    for key, value in url.query.items():
        # Everything else in the URL (sslmode, options, ...) is a libpq parameter too.
        params[key] = value if isinstance(value, str) else value[-1]

    def quote(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    conninfo = " ".join(f"{k}={quote(v)}" for k, v in params.items())
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return conninfo, env


def _pg_schema(engine: Engine) -> str | None:
    """The schema this engine works in, when it is not the default ``public``.

    Asked from the server rather than read from the URL, so a search_path given through
    ``connect_args`` counts as well as one in ``?options=-csearch_path=``.
    """
    with engine.connect() as conn:
        path = conn.execute(text("SHOW search_path")).scalar_one()
    for part in str(path).split(","):
        name = part.strip().strip('"')
        if name and name != "$user":
            return None if name == "public" else name
    return None


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"Program {name} tidak ditemukan. Pasang klien PostgreSQL "
            "(Debian: apt install postgresql-client) dengan versi yang sama atau lebih baru "
            "dari server basis data."
        )
    return found


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        message = (proc.stderr or proc.stdout).strip()
        raise BackupError(f"{what} gagal (kode {proc.returncode}):\n{message}")


# --- emptiness ----------------------------------------------------------------------------


def is_empty(engine: Engine) -> bool:
    """True when no table holds a row. A freshly migrated database counts as empty."""
    with engine.connect() as conn:
        names = inspect(conn).get_table_names()
        for name in names:
            if name in BOOKKEEPING_TABLES:
                continue
            if conn.execute(select(text("1")).select_from(table(name)).limit(1)).first():
                return False
    return True


# --- backup ---------------------------------------------------------------------------------


def check_integrity(engine: Engine) -> None:
    """Raise BackupError when SQLite finds the live database damaged (PostgreSQL: pg_dump
    itself fails on what it cannot read)."""
    if not db.is_sqlite(engine):
        return
    try:
        raw = engine.raw_connection()
    except (DatabaseError, sqlite3.DatabaseError) as exc:
        # Damaged beyond opening: the connect-time PRAGMAs fail (raised unwrapped).
        problems = [str(getattr(exc, "orig", exc))]
    else:
        try:
            conn = raw.driver_connection
            assert isinstance(conn, sqlite3.Connection)
            problems = _integrity_problems(conn)
        finally:
            raw.close()
    if problems:
        raise BackupError(
            "Basis data rusak (PRAGMA integrity_check: "
            f"{'; '.join(problems[:3])}). Cadangan tidak dibuat agar cadangan yang baik tidak "
            "tergeser oleh salinan yang rusak. Pulihkan dari cadangan terakhir: "
            "monev restore BERKAS --force"
        )


def _integrity_problems(conn: sqlite3.Connection) -> list[str]:
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def backup(engine: Engine, dest: Path) -> Path:
    """Copy the whole database to ``dest`` (a file, or a folder for the default name).

    A SQLite database that fails its integrity check is refused (BackupError)."""
    check_integrity(engine)
    dest = Path(dest)
    if dest.is_dir():
        dest = default_backup_path(engine, dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        # Owner-only from the first byte on.
        partial.touch(mode=0o600)
        if db.is_sqlite(engine):
            _backup_sqlite(engine, partial)
        else:
            _backup_pg(engine, partial)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return dest


def _backup_sqlite(engine: Engine, dest: Path) -> None:
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
            # One self-contained file: no -wal/-shm companions to forget when copying it.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        raw.close()


def _backup_pg(engine: Engine, dest: Path) -> None:
    conninfo, env = _conninfo(engine)
    cmd = [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={dest}"]
    schema = _pg_schema(engine)
    if schema:
        cmd.append(f"--schema={schema}")
    cmd.append(f"--dbname={conninfo}")
    _run(cmd, env, "pg_dump")


# --- restore ----------------------------------------------------------------------------------


def restore(
    engine: Engine,
    src: Path,
    *,
    force: bool = False,
    keep_dir: Path | None = None,
    scratch_check: bool = True,
) -> Path | None:
    """Replace the database's content with the backup ``src``.

    Refuses a database that already holds data unless ``force``: a restore into the wrong
    DATABASE_URL would otherwise silently wipe a live installation. The candidate is
    verified before anything is touched (SQLite: integrity check, schema revision, every
    table readable; PostgreSQL: the archive lists, then it is restored into a scratch
    database and checked there, unless ``scratch_check`` is False). A database that holds
    data is first kept as a dated copy in ``keep_dir``; its path is returned.
    """
    src = Path(src)
    if not src.is_file():
        raise RestoreRefused(f"Berkas cadangan {src} tidak ditemukan.")
    sqlite = db.is_sqlite(engine)
    _check_kind(src, sqlite)
    dumped_schema = None
    if sqlite:
        verify_sqlite_backup(src, engine)
    else:
        dumped_schema = _check_pg_destination(engine, src)
    empty = is_empty(engine)
    if not force and not empty:
        raise RestoreRefused(
            "Basis data tujuan sudah berisi data. Pemulihan akan menimpa seluruh isinya; "
            "bila memang itu maksudnya, ulangi dengan --force (hentikan bot lebih dulu)."
        )
    if not sqlite and scratch_check:
        verify_pg_backup(engine, src, schema=dumped_schema)
    kept = None
    if not empty and keep_dir is not None:
        keep_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(WIB).strftime("%Y%m%d-%H%M%S")
        suffix = SQLITE_SUFFIX if sqlite else PG_SUFFIX
        try:
            kept = backup(engine, keep_dir / f"sebelum-pulih-{stamp}{suffix}")
        except BackupError:
            kept = None  # a damaged live database is what a restore is for; nothing to keep
    if sqlite:
        _restore_sqlite(engine, src)
    else:
        _restore_pg(engine, src)
    # Pooled connections may hold pages or catalogue entries of the old content.
    engine.dispose()
    return kept


def verify_sqlite_backup(src: Path, engine: Engine) -> dict[str, int]:
    """Rows per table of a SQLite backup that passes every check; ValueError otherwise."""
    try:
        conn = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise RestoreRefused(f"{src} tidak bisa dibuka ({exc}).") from exc
    try:
        problems = _integrity_problems(conn)
        if problems:
            raise RestoreRefused(
                f"{src} rusak (PRAGMA integrity_check: {'; '.join(problems[:3])}). "
                "Basis data tidak diubah; pilih cadangan lain."
            )
        try:
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            ]
            revision = (
                conn.execute("SELECT version_num FROM alembic_version").fetchone()
                if "alembic_version" in names
                else None
            )
            # Counting reads every page of every table: the last proof the file is whole.
            counts = {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
        except sqlite3.DatabaseError as exc:
            raise RestoreRefused(
                f"{src} tidak terbaca utuh ({exc}); basis data tidak diubah."
            ) from exc
    finally:
        conn.close()
    _check_revision(src, revision[0] if revision else None, engine)
    return counts


def _check_revision(src: Path, revision: str | None, engine: Engine) -> None:
    """ValueError unless ``revision`` is one of this version's migrations."""
    if revision is None:
        raise RestoreRefused(
            f"{src} bukan cadangan monev (tidak ada revisi skema alembic_version)."
        )
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(db.alembic_config(engine))
    known = {rev.revision for rev in scripts.walk_revisions()}
    if revision not in known:
        raise RestoreRefused(
            f"{src} memakai revisi skema {revision} yang tidak dikenal versi monev ini "
            "(cadangan dari versi yang lebih baru?). Basis data tidak diubah."
        )


def _check_kind(src: Path, sqlite: bool) -> None:
    with src.open("rb") as fh:
        magic = fh.read(16)
    is_sqlite_file = magic.startswith(b"SQLite format 3")
    is_pg_dump = magic.startswith(b"PGDMP")
    if sqlite and not is_sqlite_file:
        raise RestoreRefused(
            f"{src} bukan cadangan SQLite; basis data tujuan (DATABASE_URL) adalah SQLite."
        )
    if not sqlite and not is_pg_dump:
        raise RestoreRefused(
            f"{src} bukan cadangan pg_dump (format custom); basis data tujuan adalah PostgreSQL."
        )


def _restore_sqlite(engine: Engine, src: Path) -> None:
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    try:
        raw = engine.raw_connection()
        try:
            target = raw.driver_connection
            assert isinstance(target, sqlite3.Connection)
            # The backup API writes every page under one lock: other connections see the old
            # database or the new one, never a mixture.
            source.backup(target)
            problems = _integrity_problems(target)
            if problems:  # checked above; this only guards a file changed meanwhile
                raise BackupError(f"Basis data setelah pemulihan rusak: {'; '.join(problems[:3])}")
        finally:
            raw.close()
    finally:
        source.close()


def _check_pg_destination(engine: Engine, src: Path) -> str | None:
    """The schema the dump ``src`` restores into (None: a whole database), when that is
    where ``engine`` works; ValueError when the archive does not list or does not fit."""
    schema = _pg_schema(engine)
    dumped = _dump_schemas(src, _conninfo(engine)[1])
    if dumped != ({schema} if schema else set()):
        inside = f"skema {', '.join(sorted(dumped))}" if dumped else "seluruh basis data"
        raise RestoreRefused(
            f"Cadangan {src} berisi {inside}, sedangkan basis data tujuan memakai skema "
            f"{schema or 'public'}. Pulihkan ke tempat yang sejenis dengan asal cadangan."
        )
    return schema


def _restore_pg(engine: Engine, src: Path) -> None:
    conninfo, env = _conninfo(engine)
    cmd = [
        _tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        # All or nothing: a failed restore leaves the database as it was.
        "--single-transaction",
        f"--dbname={conninfo}",
        str(src),
    ]
    _run(cmd, env, "pg_restore")


# --- PostgreSQL: the candidate restored into a scratch database first ---------------------


def _scratch_name(database: str) -> str:
    """``<database>_uji_<random>``: recognisable as a restore test if one is ever left."""
    tail = f"_uji_{secrets.token_hex(4)}"
    head = database.encode()[: PG_NAME_MAX - len(tail)].decode(errors="ignore")
    return head + tail


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def verify_pg_backup(engine: Engine, src: Path, *, schema: str | None) -> dict[str, int]:
    """Rows per table of the dump ``src`` after restoring it into a scratch database on the
    server of ``engine``; ValueError when the dump does not restore whole or is not a monev
    database this version knows. ``schema`` is the dump's schema (None: ``public``).

    The scratch database is dropped again in every case; the live database is not touched.
    """
    database = engine.url.database or "monev"
    name = _scratch_name(database)
    _create_scratch(engine, name)
    try:
        scratch_url = engine.url.set(database=name)
        conninfo, env = _conninfo(scratch_url)
        proc = subprocess.run(
            [
                _tool("pg_restore"),
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={conninfo}",
                str(src),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            detail = " ".join((proc.stderr or proc.stdout).split())[:400]
            raise RestoreRefused(
                f"Cadangan {src} rusak atau tidak lengkap: gagal dipulihkan ke basis data uji "
                f"({detail}). Basis data {database} tidak diubah; pilih cadangan lain."
            )
        return _verify_scratch(engine, scratch_url, src, schema or "public")
    finally:
        _drop_scratch(engine, name)


def _verify_scratch(engine: Engine, url: URL, src: Path, schema: str) -> dict[str, int]:
    """Revision known, every table readable, and (at head) the models agree."""
    scratch = create_engine(
        url, poolclass=NullPool, connect_args={"options": f"-csearch_path={schema}"}
    )
    try:
        with scratch.connect() as conn:
            names = list(
                conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY 1"),
                    {"s": schema},
                ).scalars()
            )
            revision = (
                conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                if "alembic_version" in names
                else None
            )
            counts = {
                n: int(
                    conn.execute(
                        text(f"SELECT count(*) FROM {_quote_ident(schema)}.{_quote_ident(n)}")
                    ).scalar_one()
                )
                for n in names
            }
        _check_revision(src, revision, engine)
        # Only a dump at head can be compared with the models; an older one is brought
        # there by 'monev db upgrade' after the restore (the CLI says so).
        if revision == db.head_revision(engine):
            diff = db.schema_diff(scratch)
            if diff:
                raise RestoreRefused(
                    f"Skema dalam cadangan {src} tidak cocok dengan versi monev ini "
                    f"({'; '.join(diff[:3])}). Basis data tidak diubah; pilih cadangan lain."
                )
    except SQLAlchemyError as exc:
        raise RestoreRefused(
            f"Cadangan {src} tidak terbaca utuh di basis data uji ({exc.__class__.__name__}: "
            f"{getattr(exc, 'orig', exc)}). Basis data tidak diubah."
        ) from exc
    finally:
        scratch.dispose()
    return counts


def _create_scratch(engine: Engine, name: str) -> None:
    user = engine.url.username or "(pengguna basis data)"
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # template0: nothing an administrator added to template1 can clash with the dump.
            conn.execute(text(f"CREATE DATABASE {_quote_ident(name)} TEMPLATE template0"))
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if code == PG_INSUFFICIENT_PRIVILEGE:
            raise BackupError(
                "Cadangan diuji lebih dulu di basis data sementara sebelum basis data yang "
                f"berjalan disentuh, tetapi pengguna {user} tidak berhak membuat basis data "
                f'(CREATEDB). Berikan haknya (sebagai superuser: ALTER ROLE "{user}" CREATEDB;) '
                "lalu ulangi, atau lewati uji itu dengan sengaja: monev restore BERKAS --force "
                "--tanpa-uji. Basis data tidak diubah."
            ) from exc
        raise BackupError(
            f"Basis data uji {name} tidak bisa dibuat ({orig or exc}). Basis data tidak diubah; "
            "periksa server PostgreSQL, atau lewati uji dengan --tanpa-uji."
        ) from exc


def _drop_scratch(engine: Engine, name: str) -> None:
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            version = conn.dialect.server_version_info or (0,)
            # WITH (FORCE) (PostgreSQL 13+) ends a connection pg_restore may have left behind.
            force = " WITH (FORCE)" if version >= (13,) else ""
            conn.execute(text(f"DROP DATABASE IF EXISTS {_quote_ident(name)}{force}"))
    except SQLAlchemyError as exc:
        raise BackupError(
            f"Basis data uji {name} tidak bisa dihapus ({getattr(exc, 'orig', exc)}). Basis data "
            f"yang berjalan tidak diubah. Hapus sendiri: DROP DATABASE {_quote_ident(name)}; "
            "lalu ulangi pemulihan."
        ) from exc


def _dump_schemas(src: Path, env: dict[str, str]) -> set[str]:
    """Schemas created by a dump made with ``--schema`` (empty for a whole-database dump)."""
    proc = subprocess.run(
        [_tool("pg_restore"), "--list", str(src)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        # A badly damaged archive can crash pg_restore itself (a signal, nothing on stderr).
        detail = proc.stderr.strip() or f"pg_restore berhenti dengan kode {proc.returncode}"
        raise RestoreRefused(
            f"{src} tidak bisa dibaca pg_restore ({detail}); cadangan rusak atau bukan "
            "buatan pg_dump. Basis data tidak diubah; pilih cadangan lain."
        )
    schemas = set()
    for line in proc.stdout.splitlines():
        # "; 5 2615 12345 SCHEMA - t_abc postgres" / "5; 2615 12345 SCHEMA - t_abc postgres"
        fields = line.split()
        if "SCHEMA" in fields and not line.startswith(";"):
            i = fields.index("SCHEMA")
            if len(fields) > i + 2 and fields[i + 2] != "public":
                schemas.add(fields[i + 2])
    return schemas
