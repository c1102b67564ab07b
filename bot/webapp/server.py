"""Serving the Mini App from the bot's own process when there is no webhook server to join:
``monev run`` in polling mode, ``monev console`` (a local URL for a desktop browser) and tests.

uvicorn runs as a task in the Application's event loop, beside polling, so the web routes use
the very Application (handlers, database helpers, Bot API) the chat does. In webhook mode the
routes are mounted into the webhook's own server instead (``bot.webhook.run_webhook``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from urllib.parse import quote

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from telegram.ext import Application

from bot.settings import Settings
from bot.webapp import auth
from bot.webapp.routes import create_webapp

log = logging.getLogger(__name__)

SERVER = "webapp_server"  # bot_data key: the running WebAppServer (bot.app stops it)
MOUNTED = "webapp_mounted"  # bot_data key: the routes are served by the webhook's server


def mount(application: Application) -> Mount:
    """The Mini App under its path, for a server that serves other routes too."""
    settings: Settings = application.bot_data["settings"]
    return Mount(settings.webapp_path, app=create_webapp(application))


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the bot's process owns SIGINT/SIGTERM (and
    uvicorn would re-raise a captured one when it stops, ending the process too early)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int, *, any_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say so, and without it
    # every answer on a kept-alive connection waited ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        if not any_port:
            sock.close()
            raise OSError(
                f"Tidak bisa membuka {host}:{port} untuk Mini App ({exc.strerror}). Periksa "
                "MONEV_WEBAPP_LISTEN/MONEV_WEBAPP_PORT atau program lain yang memakai port itu."
            ) from exc
        sock.bind((host, 0))  # the console: any free port will do
    return sock


class WebAppServer:
    """The Mini App on ``host:port`` until :meth:`stop`."""

    def __init__(
        self,
        application: Application,
        host: str,
        port: int,
        *,
        any_port: bool = False,
    ) -> None:
        self.application = application
        self.sock = _bind(host, port, any_port=any_port)
        self.server = _Server(
            uvicorn.Config(
                Starlette(routes=[mount(application)]),
                log_config=None,  # keep the bot's logging (and its token filter)
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=2,
            )
        )
        self.task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The local address of the Mini App's index (ends with a slash)."""
        host, port = self.sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        path = self.application.bot_data["settings"].webapp_path
        return f"http://{shown}:{port}{path}/"

    def signed_url(self, user_id: int, page: str = "", first_name: str = "") -> str:
        """:attr:`url` (+ ``page``) carrying initData for ``user_id``, as Telegram opens it:
        for a desktop browser without Telegram (the console's bot token signs it)."""
        data = auth.sign(user_id, token=self.application.bot.token, first_name=first_name)
        return f"{self.url}{page}#tgWebAppData={quote(data, safe='')}"

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started and not self.task.done():
            await asyncio.sleep(0.02)
        if self.task.done():
            await self.task  # raises what stopped it
        log.info("webapp: listening on %s", self.url)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(Exception):
                await self.task
        self.sock.close()


async def start_for(application: Application) -> WebAppServer | None:
    """Polling mode with MONEV_WEBAPP_URL: serve the Mini App on MONEV_WEBAPP_LISTEN:PORT
    (nothing when the setting is empty or the webhook's server serves it)."""
    settings: Settings = application.bot_data["settings"]
    if not settings.webapp_url or application.bot_data.get(MOUNTED):
        return None
    server = WebAppServer(application, settings.webapp_listen, settings.webapp_port)
    await server.start()
    application.bot_data[SERVER] = server
    return server
