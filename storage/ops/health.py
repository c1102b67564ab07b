"""The storage half of ``monev check``: database URL, data folder, database and migrations.

The Bot API half (token, getMe, getWebhookInfo) is transport and lives in ``bot/health.py``,
which runs these checks in between its own. Every check answers in Indonesian for the operator.
Anything that talks to the database is bounded by a timeout, so a health check never hangs
the container's HEALTHCHECK or an operator's terminal.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import URL, Engine, make_url

from storage.data import db

TIMEOUT_S = 5.0

T = TypeVar("T")


class SettingsLike(Protocol):
    database_url: str
    data_dir: Path


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def _in_thread(fn: Callable[[], T], timeout: float) -> T:
    """``fn()`` with a deadline. A daemon thread, because a hung connect must not keep the
    process alive after the check has given up on it."""
    value: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            value.append(fn())
        except BaseException as exc:
            error.append(exc)

    worker = threading.Thread(target=run, name="monev-check", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"tidak menjawab dalam {timeout:g} detik")
    if error:
        raise error[0]
    return value[0]


def _reason(exc: BaseException) -> str:
    """A one-line, operator-readable cause; the DBAPI error when SQLAlchemy wraps one."""
    inner = getattr(exc, "orig", None) or exc
    first = (str(inner).strip().splitlines() or [type(inner).__name__])[0]
    return f"{type(inner).__name__}: {first[:200]}"


# --- configuration ------------------------------------------------------------------------


def _database_url(settings: SettingsLike) -> str:
    effective = getattr(settings, "effective_database_url", None)
    if isinstance(effective, str) and effective:
        return effective
    return settings.database_url or db.default_url(Path(settings.data_dir))


def check_database_url(settings: SettingsLike) -> tuple[CheckResult, URL | None]:
    name = "DATABASE_URL"
    raw = _database_url(settings)
    try:
        url = make_url(db.normalise_url(raw))
    except Exception:
        return CheckResult(name, False, "tidak bisa dibaca sebagai URL basis data."), None
    backend = url.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        return CheckResult(name, False, f"jenis basis data '{backend}' tidak didukung."), None
    if backend == "sqlite" and not settings.database_url:
        return CheckResult(name, True, f"kosong: memakai SQLite di {url.database}."), url
    return CheckResult(name, True, url.render_as_string(hide_password=True)), url


def _writable(folder: Path) -> tuple[bool, str]:
    """Can this process create files in ``folder`` (or create ``folder`` itself)?"""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        return False, f"{probe} bukan folder"
    try:
        # Actually writing, not os.access: root ignores mode bits, read-only mounts do not.
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".monev-check-"):
            pass
    except OSError as exc:
        return False, f"tidak bisa menulis di {probe} ({exc.strerror or type(exc).__name__})"
    return True, ""


def check_data_dir(settings: SettingsLike, url: URL | None) -> CheckResult | None:
    """The SQLite file's folder, or (PostgreSQL) the folder backups go to by default."""
    name = "Folder data"
    if url is not None and url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        folder = Path(url.database).parent
        purpose = "basis data SQLite"
    else:
        folder = Path(settings.data_dir)
        purpose = "cadangan"
    ok, why = _writable(folder)
    if ok:
        return CheckResult(name, True, f"{folder} dapat ditulisi ({purpose}).")
    return CheckResult(
        name, False, f"{folder} ({purpose}): {why}. Periksa MONEV_DATA_DIR dan hak akses."
    )


# --- database -----------------------------------------------------------------------------


def _engine_for_check(url: URL) -> Engine:
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        url = url.update_query_dict({"connect_timeout": str(int(TIMEOUT_S))})
    return db.make_engine(url.render_as_string(hide_password=False))


def _select_one(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def check_database(engine: Engine) -> CheckResult:
    name = "Basis data"
    url = engine.url
    sqlite_file = url.get_backend_name() == "sqlite" and url.database not in {None, "", ":memory:"}
    if sqlite_file and not Path(str(url.database)).exists():
        return CheckResult(
            name,
            False,
            f"berkas {url.database} belum ada: jalankan 'monev db upgrade' (atau 'monev run').",
        )
    try:
        _in_thread(lambda: _select_one(engine), TIMEOUT_S)
    except Exception as exc:
        return CheckResult(name, False, f"tidak bisa dihubungi — {_reason(exc)}")
    where = url.database if url.get_backend_name() == "sqlite" else f"{url.host}/{url.database}"
    return CheckResult(name, True, f"menjawab ({url.get_backend_name()}, {where}).")


def check_migrations(engine: Engine) -> CheckResult:
    name = "Migrasi"
    try:
        current, head = _in_thread(
            lambda: (db.current_revision(engine), db.head_revision(engine)), TIMEOUT_S
        )
    except Exception as exc:
        return CheckResult(name, False, f"revisi tidak bisa dibaca — {_reason(exc)}")
    if current == head:
        return CheckResult(name, True, f"terbaru (revisi {head}).")
    return CheckResult(
        name,
        False,
        f"basis data pada revisi {current or '(kosong)'}, terbaru {head}: "
        "jalankan 'monev db upgrade'.",
    )


# --- all together -------------------------------------------------------------------------


def check_storage(
    settings: SettingsLike, engine: Engine | None = None
) -> tuple[list[CheckResult], URL | None]:
    """DATABASE_URL, the data folder, the database and its migrations, in that order.

    ``engine`` defaults to one built from the settings (with a connect timeout), disposed
    afterwards. Also returns the parsed URL (``None`` when DATABASE_URL is unreadable)."""
    results: list[CheckResult] = []
    url_result, url = check_database_url(settings)
    results.append(url_result)
    data_result = check_data_dir(settings, engine.url if engine is not None else url)
    if data_result is not None:
        results.append(data_result)

    own_engine = False
    if engine is None and url is not None:
        try:
            engine = _engine_for_check(url)
            own_engine = True
        except Exception as exc:
            results.append(
                CheckResult("Basis data", False, f"tidak bisa disiapkan — {_reason(exc)}")
            )
    try:
        if engine is not None:
            db_result = check_database(engine)
            results.append(db_result)
            if db_result.ok:
                results.append(check_migrations(engine))
            else:
                results.append(
                    CheckResult("Migrasi", False, "tidak diperiksa: basis data tidak terhubung.")
                )
        elif url is None:
            results.append(
                CheckResult("Basis data", False, "tidak diperiksa: DATABASE_URL tidak benar.")
            )
    finally:
        if own_engine and engine is not None:
            engine.dispose()
    return results, url
