"""Driving the Mini App in tests: the real Application with MONEV_WEBAPP_URL set, its web
routes (over HTTP in-process, or served to a browser), and initData signed as Telegram would."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from bot.settings import Settings
from bot.webapp import auth
from bot.webapp.server import mount
from storage.data.db import session_scope
from storage.data.models import Role
from storage.services.users import find_bidang, set_user
from tests.bot_harness import ADMIN, Bot, add_users

WEBAPP_URL = "https://monev.example.go.id/webapp"
OPERATOR_SEK = 9004


def webapp_settings(**extra: Any) -> Settings:
    values: dict[str, Any] = {
        "MONEV_ADMIN_IDS": str(ADMIN),
        "DATABASE_URL": "",
        "TELEGRAM_BOT_TOKEN": "",
        "MONEV_WEBAPP_URL": WEBAPP_URL,
    }
    return Settings(**(values | extra))


def add_sekretariat_operator(engine: Engine, telegram_id: int = OPERATOR_SEK) -> None:
    with session_scope(engine) as s:
        sek = find_bidang(s, text="sekretariat", opd_id=1)
        assert sek is not None
        set_user(
            s,
            telegram_id=telegram_id,
            role=Role.OPERATOR,
            bidang_id=sek.id,
            nama="Op Sekretariat",
            actor="test",
        )


@contextlib.asynccontextmanager
async def webapp_bot(engine: Engine, **extra: Any) -> AsyncIterator[Bot]:
    """The bot (offline Bot API) with the Mini App configured, and the usual test users plus
    a Sekretariat operator."""
    from bot.console import open_offline

    add_users(engine)
    add_sekretariat_operator(engine)
    app, api = await open_offline(webapp_settings(**extra), engine)
    try:
        yield Bot(app, api, engine)
    finally:
        await app.stop()
        await app.shutdown()


def init_data(bot: Bot, user_id: int, *, age: int = 0, token: str | None = None) -> str:
    """initData for ``user_id`` signed with the bot's token (or ``token``), ``age`` s old."""
    return auth.sign(
        user_id,
        token=token or bot.app.bot.token,
        first_name="Tester",
        auth_date=int(time.time()) - age,
    )


class WebClient:
    """The Mini App's API as a page calls it, for one user."""

    def __init__(self, bot: Bot, user_id: int, *, raw: str | None = None) -> None:
        self.bot = bot
        self.raw = init_data(bot, user_id) if raw is None else raw
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=Starlette(routes=[mount(bot.app)])),
            base_url="http://monev.test",
        )

    async def post(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        r = await self.http.post(
            f"/webapp/api/{path}", json=body or {}, headers={"Authorization": f"tma {self.raw}"}
        )
        return r.status_code, r.json()

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(f"/webapp/{path}")

    async def aclose(self) -> None:
        await self.http.aclose()
