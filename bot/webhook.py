"""Webhook mode: Telegram pushes updates to us instead of us polling for them.

Built like python-telegram-bot's ``customwebhookbot`` example: the Application runs
without its Updater, and a small Starlette app (served by uvicorn) puts each verified
update on ``application.update_queue``. Owning the web app lets it share the process with
a ``/healthz`` endpoint and lets it enforce what PTB's built-in server does not: a body
size limit and a constant-time secret comparison.

Expected deployment: nginx terminates TLS and forwards ``/telegram`` to
``WEBHOOK_LISTEN:WEBHOOK_PORT`` (see deploy/nginx-webhook.conf).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import re
import signal
import socket
import threading
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application, ExtBot

from bot.inbox import CLUSTER, record
from bot.settings import Settings
from storage.data.db import is_sqlite

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What Telegram accepts as secret_token in setWebhook.
SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
DEFAULT_PATH = "/telegram"
MAX_BODY = 1_000_000
HEALTH_TIMEOUT_S = 5.0
GRACEFUL_SHUTDOWN_S = 10


class WebhookSettings(BaseSettings):
    """WEBHOOK_* variables; kept apart from bot.settings.Settings, which polling ignores."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    webhook_url: str = Field(default="", alias="WEBHOOK_URL")
    webhook_secret: str = Field(default="", alias="WEBHOOK_SECRET")
    webhook_listen: str = Field(default="127.0.0.1", alias="WEBHOOK_LISTEN")
    webhook_port: int = Field(default=8443, alias="WEBHOOK_PORT")

    @field_validator("webhook_listen", "webhook_port", mode="before")
    @classmethod
    def _blank_is_default(cls, value: object, info: Any) -> object:
        # "WEBHOOK_PORT=" as copied from .env.example means "the default", not an error.
        if isinstance(value, str) and not value.strip():
            return cls.model_fields[info.field_name].default
        return value

    @field_validator("webhook_url", "webhook_secret", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @property
    def path(self) -> str:
        """The local path to serve: the path of WEBHOOK_URL, so nginx can pass it through."""
        return urlsplit(self.webhook_url).path.rstrip("/") or DEFAULT_PATH


def webhook_secret(token: str, configured: str = "") -> str:
    """WEBHOOK_SECRET, or one derived from the token so a restart keeps the same value."""
    if configured:
        if not SECRET_SHAPE.match(configured):
            raise ValueError(
                "WEBHOOK_SECRET hanya boleh berisi huruf A-Z a-z, angka, '_' dan '-' "
                "(1 sampai 256 karakter)."
            )
        return configured
    if not token:
        raise ValueError("TELEGRAM_BOT_TOKEN belum diisi; rahasia webhook tidak bisa dibuat.")
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:32]


def _select_one(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def create_webhook_app(
    application: Application,
    *,
    secret: str,
    engine: Engine,
    path: str = DEFAULT_PATH,
    max_body: int = MAX_BODY,
) -> Starlette:
    """POST ``path``: Telegram updates; GET ``/healthz``: liveness including the database."""
    if not secret:
        # An empty secret would make every request look authentic.
        raise ValueError("secret must not be empty")
    expected = secret.encode("utf-8")

    async def telegram(request: Request) -> Response:
        # Headers arrive latin-1 decoded; bytes make compare_digest accept any value.
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1")
        if not hmac.compare_digest(given, expected):
            log.warning("webhook: request without the right secret token refused")
            return PlainTextResponse("forbidden", status_code=HTTPStatus.FORBIDDEN)

        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                too_big = int(declared) > max_body
            except ValueError:
                return PlainTextResponse("bad content-length", status_code=HTTPStatus.BAD_REQUEST)
            if too_big:
                return PlainTextResponse(
                    "too large", status_code=HTTPStatus.REQUEST_ENTITY_TOO_LARGE
                )
        # Content-Length may be absent (chunked) or lie: count what actually arrives.
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body:
                return PlainTextResponse(
                    "too large", status_code=HTTPStatus.REQUEST_ENTITY_TOO_LARGE
                )

        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            # RecursionError: arrays or objects nested deeper than the parser goes.
            return PlainTextResponse("malformed JSON", status_code=HTTPStatus.BAD_REQUEST)
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return PlainTextResponse("not an update", status_code=HTTPStatus.BAD_REQUEST)
        try:
            update = Update.de_json(data, application.bot)
        except (Exception, RecursionError) as exc:
            # Only the id: the payload carries what a user wrote.
            log.error("webhook: update %s could not be parsed (%s)", update_id, type(exc).__name__)
            return PlainTextResponse("not an update", status_code=HTTPStatus.BAD_REQUEST)
        if isinstance(application.bot, ExtBot):
            # What PTB's own webhook server does, for arbitrary callback data.
            application.bot.insert_callback_data(update)
        # Written down before Telegram is answered: handled even if the process dies now.
        cluster = application.bot_data.get(CLUSTER)
        if cluster is not None:
            # Several processes: handled from the inbox by whichever holds the sender's lock.
            await cluster.receive([data], [update])
            return Response(status_code=HTTPStatus.OK)
        if not await record(application, [data]):
            return Response(status_code=HTTPStatus.OK)  # handled before: once is enough
        await application.update_queue.put(update)
        log.debug("webhook: update %s queued", update_id)
        return Response(status_code=HTTPStatus.OK)

    async def healthz(_: Request) -> Response:
        try:
            await asyncio.wait_for(asyncio.to_thread(_select_one, engine), HEALTH_TIMEOUT_S)
        except Exception as exc:
            log.warning("healthz: database unreachable (%s)", type(exc).__name__)
            return JSONResponse(
                {"status": "error", "detail": "basis data tidak menjawab"},
                status_code=HTTPStatus.SERVICE_UNAVAILABLE,
            )
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route(path, telegram, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling.

    uvicorn re-raises a captured SIGTERM/SIGINT once serve() returns, which would kill the
    process before the Application is stopped; run_webhook handles the signals instead.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        return None


def _bind(host: str, port: int) -> socket.socket:
    """Bind before telling Telegram anything, so a busy port fails early and clearly."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(
            f"Tidak bisa membuka {host}:{port} untuk webhook ({exc.strerror}). "
            "Periksa WEBHOOK_LISTEN/WEBHOOK_PORT atau program lain yang memakai port itu."
        ) from exc
    return sock


@contextlib.contextmanager
def _stop_on_signals(server: uvicorn.Server) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, setattr, server, "should_exit", True)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # Windows, or a loop that cannot: Ctrl+C still ends the process
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def run_webhook(
    settings: Settings,
    engine: Engine,
    *,
    webhook: WebhookSettings | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve the bot in webhook mode until SIGINT/SIGTERM (or ``stop`` is set)."""
    from bot.app import build_application, post_init, post_shutdown

    ws = webhook or WebhookSettings()
    if not ws.webhook_url:
        raise ValueError("WEBHOOK_URL belum diisi.")
    secret = webhook_secret(settings.telegram_bot_token, ws.webhook_secret)

    application = build_application(settings, engine, cluster=not is_sqlite(engine))
    application.bot_data["serving"] = True
    web = create_webhook_app(application, secret=secret, engine=engine, path=ws.path)
    if settings.webapp_url:
        # The Mini App beside the webhook, on the same server and port (its own module).
        from bot.webapp.server import MOUNTED, mount

        web.router.routes.append(mount(application))
        application.bot_data[MOUNTED] = True
    server = _Server(
        uvicorn.Config(
            web,
            log_config=None,  # keep our logging setup (and its token filter)
            access_log=False,  # one line per update is noise; errors are still logged
            lifespan="off",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
    )
    sock = _bind(ws.webhook_listen, ws.webhook_port)

    async def stop_when_asked() -> None:
        if stop is not None:
            await stop.wait()
            server.should_exit = True

    watcher = asyncio.create_task(stop_when_asked())
    try:
        await application.initialize()
        try:
            # PTB calls post_init only from run_polling/run_webhook; this app is driven by hand.
            await post_init(application)
            await application.start()
            try:
                with _stop_on_signals(server):
                    serving = asyncio.create_task(server.serve(sockets=[sock]))
                    try:
                        while not server.started and not serving.done():
                            await asyncio.sleep(0.05)
                        if server.started:
                            await application.bot.set_webhook(
                                url=ws.webhook_url,
                                secret_token=secret,
                                allowed_updates=Update.ALL_TYPES,
                            )
                            host, port = sock.getsockname()[:2]
                            log.info("webhook: listening on %s:%s%s", host, port, ws.path)
                        await serving
                    except BaseException:
                        # e.g. setWebhook failed: stop serving before tearing the app down.
                        server.should_exit = True
                        await asyncio.gather(serving, return_exceptions=True)
                        raise
            finally:
                if application.running:
                    await application.stop()
        finally:
            await application.shutdown()
            await post_shutdown(application)
    finally:
        watcher.cancel()
        sock.close()
