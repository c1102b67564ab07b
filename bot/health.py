"""``monev check``: is this installation ready to run?

The Bot API probes (token shape, getMe, getWebhookInfo) live here, on the transport side;
the database checks are ``storage.ops.health``. Every check answers in Indonesian for the
operator and none of them prints the token. Anything that talks to the network is bounded by
a timeout, so a health check never hangs the container's HEALTHCHECK or an operator's terminal.
"""

from __future__ import annotations

import re
from typing import Protocol
from urllib.parse import urlsplit

import httpx
from sqlalchemy.engine import Engine

from storage.ops.health import TIMEOUT_S, CheckResult, check_storage
from storage.ops.health import SettingsLike as StorageSettings

TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]{30,}$")
_TOKEN_INSERTIONS = ("{token}", "{TOKEN}", "{bot_token}", "{BOT_TOKEN}")


class SettingsLike(StorageSettings, Protocol):
    telegram_bot_token: str
    telegram_api_base_url: str


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


# --- Bot API ------------------------------------------------------------------------------


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
    token_result = check_token(token)
    storage_results, _url = check_storage(settings, engine)
    results = [token_result, *storage_results]

    if bot_api:
        if token_result.ok:
            api = check_bot_api(settings.telegram_api_base_url, token)
            results.append(api)
            if webhook_url and api.ok:
                results.append(check_webhook(settings.telegram_api_base_url, token, webhook_url))
        else:
            results.append(CheckResult("Bot API", False, "tidak diperiksa: token belum benar."))
    return results
