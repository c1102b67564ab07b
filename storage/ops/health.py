"""``monev check``: is this installation ready to run?

Every check answers in Indonesian for the operator and none of them prints the token.
Anything that talks to the network or the database is bounded by a timeout, so a health
check never hangs the container's HEALTHCHECK or an operator's terminal.
"""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

import httpx
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine, make_url

from storage.data import db

TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]{30,}$")
TIMEOUT_S = 5.0
_TOKEN_INSERTIONS = ("{token}", "{TOKEN}", "{bot_token}", "{BOT_TOKEN}")

T = TypeVar("T")


class SettingsLike(Protocol):
    telegram_bot_token: str
    telegram_api_base_url: str
    database_url: str
    data_dir: Path


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def bot_api_url(base_url: str, token: str, method: str) -> str:
    """The URL python-telegram-bot would call: ``{token}`` filled in, or the token appended."""
    if any(ins in base_url for ins in _TOKEN_INSERTIONS):
        for ins in _TOKEN_INSERTIONS:
            base_url = base_url.replace(ins, token)
        return f"{base_url}/{method}"
    return f"{base_url}{token}/{method}"


def _hide_token(text_: str, token: str) -> str:
    # Telegram's error texts do not echo the token today; this keeps it that way for us.
    return text_.replace(token, "<TOKEN>") if token else text_


def _in_thread(fn: Callable[[], T], timeout: float) -> T:
    """``fn()`` with a deadline. A daemon thread, because a hung connect must not keep the
    process alive after the check has given up on it."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=run, name="monev-check", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"tidak menjawab dalam {timeout:g} detik")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def _reason(exc: BaseException) -> str:
    """A one-line, operator-readable cause; the DBAPI error when SQLAlchemy wraps one."""
    inner = getattr(exc, "orig", None) or exc
    first = (str(inner).strip().splitlines() or [type(inner).__name__])[0]
    return f"{type(inner).__name__}: {first[:200]}"


# --- configuration ------------------------------------------------------------------------


def check_token(token: str) -> CheckResult:
    name = "Token bot"
    if not token:
        return CheckResult(
            name, False, "TELEGRAM_BOT_TOKEN belum diisi (minta token ke @BotFather)."
        )
    if not TOKEN_SHAPE.match(token):
        return CheckResult(
            name,
            False,
            "TELEGRAM_BOT_TOKEN tidak berbentuk token @BotFather "
            "(angka, titik dua, lalu sedikitnya 30 huruf/angka). Periksa spasi atau tanda kutip.",
        )
    return CheckResult(name, True, f"terisi (bot id {token.split(':', 1)[0]}).")


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


# --- Telegram -----------------------------------------------------------------------------


def _get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=TIMEOUT_S)


def check_bot_api(base_url: str, token: str) -> CheckResult:
    name = "Bot API"
    host = urlsplit(base_url).netloc or base_url
    try:
        response = _get(bot_api_url(base_url, token, "getMe"))
        data = response.json()
    except httpx.TimeoutException:
        return CheckResult(name, False, f"{host} tidak menjawab dalam {TIMEOUT_S:g} detik.")
    except httpx.HTTPError as exc:
        return CheckResult(name, False, f"{host} tidak bisa dihubungi ({type(exc).__name__}).")
    except ValueError:
        return CheckResult(
            name, False, f"{host} menjawab HTTP {response.status_code}, bukan JSON Bot API."
        )
    if isinstance(data, dict) and data.get("ok") is True:
        me = data.get("result") or {}
        who = f"@{me['username']}" if isinstance(me, dict) and me.get("username") else "bot"
        return CheckResult(name, True, f"{host} menjawab: terhubung sebagai {who}.")
    description = data.get("description", "") if isinstance(data, dict) else ""
    hint = (
        " Token salah atau sudah dicabut? Minta token baru ke @BotFather."
        if (response.status_code == 401)
        else ""
    )
    detail = f"{host} menolak (HTTP {response.status_code}: {description or 'tanpa keterangan'})."
    return CheckResult(name, False, _hide_token(detail + hint, token))


def check_webhook(base_url: str, token: str, webhook_url: str) -> CheckResult:
    """What Telegram last experienced when delivering to our webhook."""
    name = "Webhook"
    try:
        data = _get(bot_api_url(base_url, token, "getWebhookInfo")).json()
    except (httpx.HTTPError, ValueError) as exc:
        return CheckResult(name, False, f"getWebhookInfo gagal ({type(exc).__name__}).")
    info = data.get("result") if isinstance(data, dict) else None
    if not isinstance(info, dict):
        return CheckResult(name, False, "getWebhookInfo tidak menjawab dengan benar.")
    registered = info.get("url", "")
    pending = info.get("pending_update_count", 0)
    if not registered:
        return CheckResult(
            name, False, "belum terdaftar di Telegram; terdaftar otomatis saat 'monev run'."
        )
    if registered != webhook_url:
        return CheckResult(
            name, False, f"Telegram mengirim ke {registered}, bukan WEBHOOK_URL ({webhook_url})."
        )
    if info.get("last_error_message"):
        return CheckResult(
            name,
            False,
            _hide_token(
                f"kiriman terakhir gagal: {info['last_error_message']} "
                f"({pending} pembaruan menunggu).",
                token,
            ),
        )
    return CheckResult(name, True, f"terdaftar di {registered} ({pending} pembaruan menunggu).")


# --- all together -------------------------------------------------------------------------


def check(
    settings: SettingsLike,
    engine: Engine | None = None,
    *,
    bot_api: bool = True,
    webhook_url: str = "",
) -> list[CheckResult]:
    """Run every check; ``engine`` defaults to one built from the settings (with a connect
    timeout). ``bot_api=False`` (``--quick``) stays off the network."""
    token = settings.telegram_bot_token or ""
    results: list[CheckResult] = []

    token_result = check_token(token)
    results.append(token_result)
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

    if bot_api:
        if token_result.ok:
            api = check_bot_api(settings.telegram_api_base_url, token)
            results.append(api)
            if webhook_url and api.ok:
                results.append(check_webhook(settings.telegram_api_base_url, token, webhook_url))
        else:
            results.append(CheckResult("Bot API", False, "tidak diperiksa: token belum benar."))
    return results
