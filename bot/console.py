"""``monev console``: chat with the real bot in a terminal, with no Telegram and no token.

The same Application and handlers run against an offline Bot API. What the bot sends is
printed; buttons become numbered choices to type; photos and documents are saved to
files whose paths are printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from telegram.ext import Application

from bot.app import build_application, post_init
from bot.offline.api import Call, OfflineBotAPI
from bot.offline.updates import make_callback_update, make_message_update
from bot.settings import Settings
from storage.data.db import session_scope
from storage.data.models import Role, row_id
from storage.domain.policy import KABUPATEN_ROLES
from storage.services.kabupaten import resolve_office
from storage.services.office import SetupError
from storage.services.users import UserError, find_bidang, set_user

if TYPE_CHECKING:
    from bot.webapp.server import WebAppServer

CONSOLE_USER_ID = 700_000_001
OUT_DIR = Path("out")


def html_to_text(text: str) -> str:
    text = re.sub(r"</?(b|i|u|s|code|pre|a)[^>]*>", "", text)
    return html.unescape(text)


class ConsoleSession:
    """One console user talking to the bot; usable from tests with custom I/O."""

    def __init__(
        self,
        app: Application,
        api: OfflineBotAPI,
        *,
        user_id: int = CONSOLE_USER_ID,
        first_name: str = "Pengguna Konsol",
        write: Callable[[str], Any] = print,
        out_dir: Path = OUT_DIR,
        webapp: WebAppServer | None = None,
    ) -> None:
        self.app, self.api, self.user_id, self.first_name = app, api, user_id, first_name
        self.write = write
        self.out_dir = out_dir
        self.webapp = webapp
        self.buttons: list[tuple[str, str, dict]] = []  # (label, data, message json)
        api.on_send = self._show

    async def _show(self, call: Call) -> None:
        params = call.params
        if str(params.get("chat_id")) != str(self.user_id):
            return
        body = params.get("text") or params.get("caption") or ""
        if call.method in {"sendPhoto", "sendDocument"}:
            for _field, (filename, data) in call.files.items():
                self.out_dir.mkdir(parents=True, exist_ok=True)
                path = self.out_dir / f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{filename}"
                path.write_bytes(data)
                self.write(f"[berkas disimpan: {path}]")
        if body:
            self.write(html_to_text(str(body)))
        rows = self.api.buttons(call)
        if call.method.startswith("edit") and not rows and not body:
            self.buttons = []
            return
        if rows or call.method in {"sendMessage", "sendPhoto", "sendDocument", "editMessageText"}:
            message = call.result if isinstance(call.result, dict) else {}
            self.buttons = [(label, data or "", message) for row in rows for label, data in row]
            for i, (label, _data, _m) in enumerate(self.buttons, 1):
                self.write(f"  [{i}] {label}")
        self.write("")

    def print_webapp(self) -> None:
        """Where to try the Mini App in a browser, as the console's current person."""
        if self.webapp is not None:
            url = self.webapp.signed_url(self.user_id, first_name=self.first_name)
            self.write(f"Mini App (formulir /lapor dan dasbor) di peramban: {url}")
        self.write("")

    async def send(self, line: str) -> None:
        """What the user typed: a number picks a button, ``/peran ROLE [bidang]`` goes on as
        another person with that role (so one console can submit and approve), anything
        else is a message."""
        line = line.strip()
        bot = self.app.bot
        if line.split(maxsplit=1)[:1] == ["/peran"]:
            await self._switch(line.split()[1:])
            return
        if line.isdecimal() and self.buttons and 1 <= int(line) <= len(self.buttons):
            _label, data, message = self.buttons[int(line) - 1]
            update = make_callback_update(
                bot, data, user_id=self.user_id, message=message or None, first_name=self.first_name
            )
        else:
            update = make_message_update(
                bot, line, user_id=self.user_id, first_name=self.first_name
            )
        await self.app.process_update(update)

    async def _switch(self, args: list[str]) -> None:
        roles = [r.value for r in Role]
        if not args or args[0] not in roles:
            self.write(
                f"Pakai: /peran {'|'.join(roles)} [bidang] [opd=SINGKATAN], misalnya "
                "/peran kepala opd=dinkes\n"
            )
            return
        # several offices: the office of the role is named as "opd=SINGKATAN"
        opd = next((a[4:] for a in args[1:] if a.lower().startswith("opd=")), None)
        rest = [a for a in args[1:] if not a.lower().startswith("opd=")]
        role, bidang = args[0], " ".join(rest) or None
        # Each role (of each office) is its own person: nobody verifies what they submitted.
        engine = self.app.bot_data["engine"]
        office = await asyncio.to_thread(_office_id, engine, opd) if opd else 0
        user_id = CONSOLE_USER_ID + 1 + roles.index(role) + 100 * office
        problem = await asyncio.to_thread(
            _prepare_user, engine, role, bidang, user_id=user_id, nama=f"Konsol {role}", opd=opd
        )
        if problem:
            self.write(problem + "\n")
            return
        self.user_id, self.buttons = user_id, []
        self.write(f"Sekarang Anda bertindak sebagai {role} (pengguna konsol lain).")
        self.print_webapp()
        await self.send("/start")


def _office_id(engine: Engine, opd: str) -> int:
    """The id of the office named, or 0 (``_prepare_user`` then says what is wrong)."""
    with session_scope(engine) as session:
        try:
            return row_id(resolve_office(session, opd))
        except SetupError:
            return 0


def _prepare_user(
    engine: Engine,
    role: str,
    bidang: str | None,
    *,
    user_id: int = CONSOLE_USER_ID,
    nama: str = "Pengguna Konsol",
    opd: str | None = None,
) -> str | None:
    with session_scope(engine) as session:
        bidang_id = opd_id = None
        try:
            if Role(role) not in KABUPATEN_ROLES:
                # several offices: the console user's office is named with --opd
                opd_id = row_id(resolve_office(session, opd))
            if bidang:
                b = find_bidang(session, text=bidang, opd_id=opd_id or 0)
                if b is None:
                    return f"Bidang '{bidang}' tidak dikenal."
                bidang_id = b.id
            set_user(
                session,
                telegram_id=user_id,
                role=Role(role),
                bidang_id=bidang_id,
                nama=nama,
                actor="console",
                opd_id=opd_id,
            )
        except (UserError, SetupError) as exc:
            return str(exc)
    return None


async def open_offline(settings: Settings, engine: Engine) -> tuple[Application, OfflineBotAPI]:
    """An initialised Application on an offline Bot API (console and tests)."""
    api = OfflineBotAPI()
    app = build_application(
        settings, engine, request=api, get_updates_request=api, rate_limiter=False
    )
    await app.initialize()
    # run_polling/run_webhook call post_init; an Application driven by hand must too.
    await post_init(app)
    await app.start()
    return app, api


async def _console(settings: Settings, engine: Engine) -> None:
    from bot.webapp.server import WebAppServer

    app, api = await open_offline(settings, engine)
    # The Mini App (form and dashboard) on this machine, for a desktop browser: its URL
    # carries initData the console's own token signs, for whoever the console is now.
    web = WebAppServer(app, settings.webapp_listen, settings.webapp_port, any_port=True)
    await web.start()
    session = ConsoleSession(app, api, webapp=web)
    print("monev-bot mode konsol. Ketik pertanyaan, perintah (/bantuan), atau nomor tombol.")
    print("Keluar: Ctrl+D atau /keluar.")
    session.print_webapp()
    await session.send("/start")
    try:
        while True:
            try:
                line = await asyncio.to_thread(input, "> ")
            except EOFError:
                break
            if line.strip() in {"/keluar", "/exit", "/quit"}:
                break
            if line.strip():
                # process_update returns once every handler of the update has finished.
                await session.send(line)
    finally:
        await web.stop()
        await app.stop()
        await app.shutdown()


def run_console(
    settings: Settings, engine: Engine, *, role: str, bidang: str | None, opd: str | None = None
) -> int:
    problem = _prepare_user(engine, role, bidang, opd=opd)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_console(settings, engine))
    print("Sampai jumpa.")
    return 0
