"""``monev backup`` / ``monev restore``: a restored database answers exactly like the original."""

from __future__ import annotations

import argparse
import os
import random
import re
import sqlite3
import stat
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url

from bot.settings import Settings
from storage.data import db
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file
from storage.ops.backup import backup, default_backup_path, is_empty, restore
from tests.conftest import PG_URL, _drop_pg_schema, make_backend_engine


def _schema(engine: Engine) -> str | None:
    if db.is_sqlite(engine):
        return None
    with engine.connect() as conn:
        path = str(conn.execute(text("SHOW search_path")).scalar_one())
    names = [p.strip().strip('"') for p in path.split(",")]
    return next((n for n in names if n and n != "$user"), None)


def _url(engine: Engine) -> str:
    """A DATABASE_URL for ``engine``, search_path included, as an operator would write it."""
    url = engine.url.render_as_string(hide_password=False)
    schema = _schema(engine)
    if schema and schema != "public":
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    return url


def summary_output(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """What ``monev summary --tahun 2022 --tw 3`` prints for this database."""
    from bot.cli.main import main

    monkeypatch.setenv("DATABASE_URL", _url(engine))
    monkeypatch.setenv("MONEV_DEMO_DATA", "false")
    capsys.readouterr()
    assert main(["summary", "--tahun", "2022", "--tw", "3"]) == 0
    out = capsys.readouterr().out
    assert "Sekretariat" in out and "64,70%" in out
    return out


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # no stray .env
    return work


@pytest.fixture
def target(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A second, empty (never migrated) database of the same kind.

    On PostgreSQL a separate database whose search_path names the source's schema, so
    the restore lands where the source's data lived, as on a rebuilt server.
    """
    if backend == "sqlite":
        eng = db.make_engine(f"sqlite:///{tmp_path / 'restored' / 'monev.db'}")
        yield eng
        eng.dispose()
        return
    yield from _pg_database(schema=None)


# DROP DATABASE forces a PostgreSQL checkpoint, seconds to a minute on a busy server: the
# databases are dropped by a thread while the next tests run; the session waits for it at its
# end.
_dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-database")
_drops: list[Future[None]] = []


def _drop_database(name: str) -> None:
    admin = create_engine(db.normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def _databases_dropped() -> Iterator[None]:
    yield
    for future in _drops:
        future.result()  # a failed drop fails here rather than going unnoticed
    _drops.clear()


def _pg_database(schema: str | None) -> Iterator[Engine]:
    if not PG_URL:
        pytest.skip("PostgreSQL case skipped: TEST_DATABASE_URL is not set")
    name = f"r_{uuid.uuid4().hex[:12]}"
    admin = create_engine(db.normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(db.normalise_url(PG_URL)).set(database=name)
    args = {"options": f"-csearch_path={schema}"} if schema else {}
    eng = create_engine(url, connect_args=args)
    admin.dispose()
    try:
        yield eng
    finally:
        eng.dispose()
        _drops.append(_dropper.submit(_drop_database, name))


def _point_at_schema(target: Engine, source: Engine) -> Engine:
    schema = _schema(source)
    if db.is_sqlite(target) or not schema:
        return target
    target.dispose()
    return create_engine(target.url, connect_args={"options": f"-csearch_path={schema}"})


def test_backup_then_restore_into_an_empty_database(
    seeded: Engine,
    target: Engine,
    tmp_path: Path,
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = summary_output(seeded, monkeypatch, capsys)
    path = backup(seeded, tmp_path / "backup.bin")
    assert path == tmp_path / "backup.bin"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*.partial"))

    target = _point_at_schema(target, seeded)
    assert is_empty(target)
    restore(target, path)
    assert not is_empty(target)
    assert db.current_revision(target) == db.head_revision(target)
    assert summary_output(target, monkeypatch, capsys) == before
    target.dispose()


def test_restore_into_a_freshly_migrated_database(
    seeded: Engine,
    backend: str,
    tmp_path: Path,
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The usual disaster recovery: the new server ran migrations (or started the bot with
    MONEV_DEMO_DATA=false) before the backup was restored."""
    before = summary_output(seeded, monkeypatch, capsys)
    path = backup(seeded, tmp_path)
    if backend == "sqlite":
        fresh = db.make_engine(f"sqlite:///{tmp_path / 'baru' / 'monev.db'}")
        db.upgrade(fresh)
        restore(fresh, path)
        assert summary_output(fresh, monkeypatch, capsys) == before
        fresh.dispose()
    else:
        # Same schema, emptied: the migrated tables are replaced by the dump's.
        schema = _schema(seeded)
        with seeded.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        seeded.dispose()
        db.upgrade(seeded)
        assert is_empty(seeded)
        restore(seeded, path)
        assert summary_output(seeded, monkeypatch, capsys) == before


def test_default_file_name(seeded: Engine, tmp_path: Path) -> None:
    path = backup(seeded, tmp_path)
    suffix = r"\.sqlite" if db.is_sqlite(seeded) else r"\.dump"
    assert re.fullmatch(rf"monev-\d{{8}}-\d{{6}}{suffix}", path.name)
    assert path.parent == tmp_path
    assert default_backup_path(seeded, tmp_path).suffix == path.suffix


def test_refuses_a_non_empty_target_unless_forced(
    seeded: Engine,
    tmp_path: Path,
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = summary_output(seeded, monkeypatch, capsys)
    path = backup(seeded, tmp_path / "cadangan")
    with pytest.raises(ValueError, match=r"sudah berisi data.*--force"):
        restore(seeded, path)
    restore(seeded, path, force=True)
    assert summary_output(seeded, monkeypatch, capsys) == before


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_backup_is_a_single_consistent_file(seeded: Engine, tmp_path: Path) -> None:
    path = backup(seeded, tmp_path / "x.sqlite")
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    finally:
        conn.close()
    assert not Path(f"{path}-wal").exists()


def test_wrong_kind_or_missing_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="tidak ditemukan"):
        restore(engine, tmp_path / "tidak-ada.dump")
    junk = tmp_path / "bukan-cadangan.bin"
    junk.write_bytes(b"PK\x03\x04 bukan cadangan")
    with pytest.raises(ValueError, match="bukan cadangan"):
        restore(engine, junk)
    assert db.current_revision(engine) == db.head_revision(engine)


@pytest.fixture
def pg_public_pair() -> Iterator[tuple[Engine, Engine]]:
    """Two fresh PostgreSQL databases used whole (schema public), as in production."""
    source = _pg_database(schema=None)
    dest = _pg_database(schema=None)
    yield next(source), next(dest)
    for gen in (source, dest):
        for _ in gen:
            pass


def test_postgresql_whole_database_round_trip(
    pg_public_pair: tuple[Engine, Engine],
    tmp_path: Path,
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, dest = pg_public_pair
    db.upgrade(source)
    import_file(source, SEED_FILE, actor="test")
    before = summary_output(source, monkeypatch, capsys)
    path = backup(source, tmp_path)
    assert path.suffix == ".dump"
    restore(dest, path)
    assert summary_output(dest, monkeypatch, capsys) == before
    # A schema-only dump does not go into a whole database, nor the other way round.
    schema_engine, schema = make_backend_engine("postgresql", tmp_path)
    try:
        with pytest.raises(ValueError, match="seluruh basis data"):
            restore(schema_engine, path)
    finally:
        schema_engine.dispose()
        _drop_pg_schema(str(schema))


# --- the commands -------------------------------------------------------------------------


def _run_cli(argv: list[str]) -> int:
    from bot.cli.ops import add_ops_commands

    parser = argparse.ArgumentParser(prog="monev")
    add_ops_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args, Settings())


def test_monev_backup_and_restore_commands(
    seeded: Engine,
    target: Engine,
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = summary_output(seeded, monkeypatch, capsys)
    monkeypatch.setenv("DATABASE_URL", _url(seeded))
    assert _run_cli(["backup"]) == 0
    out = capsys.readouterr().out
    [made] = list((cwd / "data" / "backup").iterdir())
    assert str(made) in out and "Cadangan tersimpan" in out

    # Restoring over the live database needs --force, and says so.
    assert _run_cli(["restore", str(made)]) == 1
    assert "--force" in capsys.readouterr().err

    target = _point_at_schema(target, seeded)
    monkeypatch.setenv("DATABASE_URL", _url(target))
    assert _run_cli(["restore", str(made)]) == 0
    assert "dipulihkan" in capsys.readouterr().out
    assert summary_output(target, monkeypatch, capsys) == before
    target.dispose()

    out_file = cwd / "salinan" / "monev.bak"
    monkeypatch.setenv("DATABASE_URL", _url(seeded))
    assert _run_cli(["backup", "-o", str(out_file)]) == 0
    assert out_file.is_file() and os.stat(out_file).st_size > 0


# --- PostgreSQL: the candidate is restored into a scratch database first --------------------


@pytest.fixture
def scratch_names(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the scratch databases restore() makes, to prove none is left behind (other
    tests may be restoring at the same time, so a name pattern alone would not do)."""
    from storage.ops import backup as backup_module

    made: list[str] = []
    original = backup_module._scratch_name

    def recording(database: str) -> str:
        made.append(original(database))
        return made[-1]

    monkeypatch.setattr(backup_module, "_scratch_name", recording)
    return made


def _databases(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT datname FROM pg_database")).scalars())


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_restore_is_checked_in_a_scratch_database_first(
    seeded: Engine,
    target: Engine,
    scratch_names: list[str],
    tmp_path: Path,
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from storage.ops import backup as backup_module

    checked: list[dict[str, int]] = []
    verify = backup_module.verify_pg_backup

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        checked.append(verify(*args, **kwargs))
        return checked[-1]

    monkeypatch.setattr(backup_module, "verify_pg_backup", recording)
    before = summary_output(seeded, monkeypatch, capsys)
    path = backup(seeded, tmp_path / "baik.dump")
    target = _point_at_schema(target, seeded)
    restore(target, path)
    assert summary_output(target, monkeypatch, capsys) == before
    # The scratch copy held every table of the dump, with the same rows.
    [counts] = checked
    with seeded.connect() as conn:
        live = {
            name: conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in inspect(conn).get_table_names()
        }
    assert counts == live and counts["realisasi"] > 0
    assert len(scratch_names) == 1 and "_uji_" in scratch_names[0]
    assert scratch_names[0] not in _databases(seeded)
    target.dispose()


def _damage_table_data(path: Path) -> None:
    """Overwrite 1 KB in the middle of the table data (the compressed blocks after the table
    of contents), so the archive still lists and only restoring it finds the damage."""
    data = bytearray(path.read_bytes())
    start = data.find(b"\x78\x9c")  # the first zlib stream: the TOC ends before it
    assert start > 0
    mid = (start + len(data)) // 2
    data[mid : mid + 1024] = bytes(random.Random(3).randbytes(1024))
    path.write_bytes(bytes(data))
    listed = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True)
    assert listed.returncode == 0, "the damage must reach past the listing"


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_dump_damaged_in_its_data_is_refused_before_the_live_database(
    seeded: Engine,
    scratch_names: list[str],
    tmp_path: Path,
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = summary_output(seeded, monkeypatch, capsys)
    path = backup(seeded, tmp_path / "rusak.dump")
    _damage_table_data(path)
    keep = tmp_path / "simpan"
    with pytest.raises(ValueError, match=r"rusak atau tidak lengkap.*tidak diubah"):
        restore(seeded, path, force=True, keep_dir=keep)
    assert summary_output(seeded, monkeypatch, capsys) == before
    assert not keep.exists()  # refused before the live database was even copied
    assert len(scratch_names) == 1
    assert scratch_names[0] not in _databases(seeded)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_dump_damaged_in_the_middle_is_refused(
    seeded: Engine,
    scratch_names: list[str],
    tmp_path: Path,
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """20 KB overwritten mid-file hits the table of contents: refused at the listing."""
    before = summary_output(seeded, monkeypatch, capsys)
    path = backup(seeded, tmp_path / "rusak.dump")
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 20 * 1024] = random.Random(3).randbytes(20 * 1024)
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"tidak bisa dibaca pg_restore.*tidak diubah"):
        restore(seeded, path, force=True)
    assert summary_output(seeded, monkeypatch, capsys) == before
    assert [n for n in scratch_names if n in _databases(seeded)] == []


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_dump_of_an_unknown_future_revision_is_refused(
    seeded: Engine,
    scratch_names: list[str],
    tmp_path: Path,
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    head = db.head_revision(seeded)
    with seeded.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_masa_depan'"))
    path = backup(seeded, tmp_path / "masa-depan.dump")
    with seeded.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head})
    before = summary_output(seeded, monkeypatch, capsys)
    with pytest.raises(ValueError, match=r"9999_masa_depan yang tidak dikenal"):
        restore(seeded, path, force=True)
    assert db.current_revision(seeded) == head
    assert summary_output(seeded, monkeypatch, capsys) == before
    assert len(scratch_names) == 1 and scratch_names[0] not in _databases(seeded)


@pytest.fixture
def role_without_createdb(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A seeded database reached as a role that may not create databases (a typical hosted
    PostgreSQL account): it owns its schema and may create schemas in its database."""
    if not PG_URL:
        pytest.skip("PostgreSQL case skipped: TEST_DATABASE_URL is not set")
    suffix = uuid.uuid4().hex[:10]
    role, schema = f"tanpa_createdb_{suffix}", f"u_{suffix}"
    admin_url = make_url(db.normalise_url(PG_URL))
    admin = create_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN NOCREATEDB'))
        conn.execute(text(f'GRANT CREATE ON DATABASE "{admin_url.database}" TO "{role}"'))
        conn.execute(text(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{role}"'))
    eng = create_engine(
        admin_url.set(username=role, password=None),
        connect_args={"options": f"-csearch_path={schema}"},
    )
    try:
        db.upgrade(eng)
        import_file(eng, SEED_FILE, actor="test")
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_restore_without_createdb_says_what_to_grant(
    role_without_createdb: Engine,
    tmp_path: Path,
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    live = role_without_createdb
    before = summary_output(live, monkeypatch, capsys)
    path = backup(live, tmp_path / "cadangan.dump")
    monkeypatch.setenv("DATABASE_URL", _url(live))
    assert _run_cli(["restore", "--force", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Pemulihan dibatalkan" in err and "CREATEDB" in err
    assert "ALTER ROLE" in err and "--tanpa-uji" in err and "tidak diubah" in err
    assert summary_output(live, monkeypatch, capsys) == before

    # Skipping the scratch step is possible, but only when asked for, and then said.
    monkeypatch.setenv("DATABASE_URL", _url(live))
    assert _run_cli(["restore", "--force", "--tanpa-uji", str(path)]) == 0
    out = capsys.readouterr().out
    assert "dipulihkan" in out and "--tanpa-uji" in out and "Perhatian" in out
    assert summary_output(live, monkeypatch, capsys) == before
