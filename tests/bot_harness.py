"""Driving the real bot in tests: a seeded database, the real Application, an offline
Bot API, and helpers that send what a user sends and return what the user sees."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from telegram.ext import Application

from bot.console import html_to_text
from bot.offline.api import OfflineBotAPI
from bot.offline.updates import make_callback_update, make_message_update
from storage.data.db import session_scope
from storage.data.models import Role
from storage.services.users import find_bidang, set_user

ADMIN = 9001
KEPALA = 9002
OPERATOR_KOP = 9003
STRANGER = 9100


@dataclass
class Bot:
    app: Application
    api: OfflineBotAPI
    engine: Engine

    async def say(self, user_id: int, text: str) -> str:
        """Send a message as ``user_id``; return everything the bot showed that user."""
        before = len(self.api.sent(user_id))
        await self.app.process_update(make_message_update(self.app.bot, text, user_id=user_id))
        return html_to_text("\n".join(c.text or "" for c in self.api.sent(user_id)[before:]))

    async def press(self, user_id: int, data: str, *, chat_id: int | None = None) -> str:
        before = len(self.api.calls)
        await self.app.process_update(
            make_callback_update(self.app.bot, data, user_id=user_id, chat_id=chat_id)
        )
        new = self.api.calls[before:]
        shown = [c.text or "" for c in new if c.method != "answerCallbackQuery"]
        alerts = [str(c.params.get("text", "")) for c in new if c.method == "answerCallbackQuery"]
        return html_to_text("\n".join(shown + alerts))

    async def say_all(self, user_id: int, text: str) -> str:
        """``say``, then every later page of a long answer ("Selengkapnya"), joined."""
        pages = [await self.say(user_id, text)]
        for _ in range(20):
            last = self.api.sent(user_id)[-1]
            rows = self.api.buttons(last) or []
            more = [d for row in rows for label, d in row if label.startswith("Selengkapnya")]
            if not more or not more[0]:
                break
            pages.append(await self.press(user_id, more[0]))
        return "\n".join(pages)

    def buttons(self, user_id: int) -> list[tuple[str, str]]:
        for call in reversed(self.api.sent(user_id)):
            rows = self.api.buttons(call)
            if rows:
                return [(label, data or "") for row in rows for label, data in row]
        return []


async def inbox_app(
    engine: Engine, api: OfflineBotAPI, *, rate_limiter: bool, token: str = ""
) -> Application:
    """The Application as ``monev run`` builds it (update inbox on), started through its own
    post_init, answering to the offline Bot API for requests and getUpdates alike."""
    from bot.app import build_application, post_init
    from bot.settings import Settings

    settings = Settings(MONEV_ADMIN_IDS=str(ADMIN), DATABASE_URL="", TELEGRAM_BOT_TOKEN=token)  # type: ignore[call-arg]
    app = build_application(
        settings,
        engine,
        request=api,
        get_updates_request=api,
        rate_limiter=rate_limiter,
        inbox=True,
    )
    await app.initialize()
    await post_init(app)
    return app


def add_users(engine: Engine) -> None:
    with session_scope(engine) as s:
        kop = find_bidang(s, text="koperasi", opd_id=1)
        assert kop is not None
        set_user(s, telegram_id=KEPALA, role=Role.KEPALA, nama="Kepala Dinas", actor="test")
        set_user(
            s,
            telegram_id=OPERATOR_KOP,
            role=Role.OPERATOR,
            bidang_id=kop.id,
            nama="Op Kop",
            actor="test",
        )
