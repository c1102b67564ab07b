"""``monev console``: chat with the real bot in a terminal, with no Telegram and no token.

The same Application and handlers run against an offline Bot API. What the bot sends is
printed; buttons become numbered choices to type; photos and documents are saved to
files whose paths are printed.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import mimetypes
import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from telegram.ext import Application

from bot.app import build_application, post_init
from bot.offline.api import Call, OfflineBotAPI
from bot.offline.entities import parse_html
from bot.offline.updates import (
    make_callback_update,
    make_document_update,
    make_message_update,
    make_photo_update,
)
from bot.settings import WIB, Settings
from bot.views import texts
from storage.data.db import session_scope
from storage.domain.policy import KABUPATEN_ROLES, Role
from storage.services.kabupaten import resolve_office
from storage.services.office import SetupError
from storage.services.users import UserError, bidang_codes, find_bidang, set_user

if TYPE_CHECKING:
    from bot.webapp.server import WebAppServer

CONSOLE_USER_ID = 700_000_001
OUT_DIR = Path("out")
# What a path typed in the console is sent as: a photo, or a document (evidence, an import).
PHOTO_EXT = {".jpg", ".jpeg", ".png"}
DOCUMENT_EXT = {".pdf", ".xlsx", ".xls", ".tsv", ".txt", ".csv"}
MAX_FILE_BYTES = 20 * 1024 * 1024  # what a Telegram bot can download
ROLES = [r.value for r in Role]
ROLE_LINE = (
    "Anda bertindak sebagai {role}{bidang} (orang konsol untuk peran ini). Setiap peran di "
    "konsol adalah orang tersendiri: laporan yang dikirim operator konsol menunggu keputusan "
    "verifikator atau kepala konsol, yang tidak pernah memutuskan laporannya sendiri. Ganti "
    "orang dengan /peran PERAN."
)
NUMBER_HINT = (
    "  (tombol [1]–[{n}] di atas masih bisa dipilih; untuk mengetik angka sebagai jawaban, "
    "awali dengan ', misalnya '{n})"
)


def console_user_id(role: str, office: int = 0) -> int:
    """The console's person for ``role`` (of office ``office``): one person per role, the
    same at start (``--role``) and after ``/peran``, so that a report the console's operator
    sent waits for the console's kepala, who did not send it."""
    return CONSOLE_USER_ID + 1 + ROLES.index(role) + 100 * office


def html_to_text(text: str) -> str:
    """What a person sees of an HTML-formatted message: every tag off, entities read."""
    return parse_html(text)[0]


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

    def _save(self, filename: str, data: bytes) -> Path:
        """A received file under ``out/``, named by its time (WIB) and never over another."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{datetime.now(WIB):%Y%m%d-%H%M%S}-{Path(filename).name}"
        path = self.out_dir / stem
        n = 1
        while True:
            try:
                with open(path, "xb") as f:  # "x": two files in one second never overwrite
                    f.write(data)
                return path
            except FileExistsError:
                n += 1
                base, dot, ext = stem.rpartition(".")
                path = self.out_dir / (f"{base}-{n}.{ext}" if dot else f"{stem}-{n}")

    async def _show(self, call: Call) -> None:
        params = call.params
        if str(params.get("chat_id")) != str(self.user_id):
            return
        body = params.get("text") or params.get("caption") or ""
        if call.method in {"sendPhoto", "sendDocument"}:
            for _field, (filename, data) in call.files.items():
                self.write(f"[berkas disimpan: {self._save(filename, data)}]")
        if body:
            self.write(html_to_text(str(body)))
        rows = self.api.buttons(call)
        message = call.result if isinstance(call.result, dict) else {}
        holder = self.buttons[0][2].get("message_id") if self.buttons else None
        if call.method.startswith("edit"):
            # An edit of the message holding the numbered buttons: they become its new ones
            # (none, when the edit took them off). Edits of other messages leave them.
            if str(params.get("message_id")) == str(holder):
                self.buttons = [(label, data or "", message) for row in rows for label, data in row]
                self._print_buttons()
            if body:
                self.write("")
            return
        if rows:
            # A new screen with buttons replaces the numbered ones.
            self.buttons = [(label, data or "", message) for row in rows for label, data in row]
            self._print_buttons()
        elif self.buttons and body:
            # Like a chat, the earlier buttons stay usable until a screen replaces them.
            self.write(NUMBER_HINT.format(n=len(self.buttons)))
        self.write("")

    def _print_buttons(self) -> None:
        for i, (label, _data, _m) in enumerate(self.buttons, 1):
            self.write(f"  [{i}] {label}")

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
        path = _typed_path(line)
        if path is not None:
            await self._send_file(path)
            return
        if line.isdecimal() and self.buttons and 1 <= int(line) <= len(self.buttons):
            _label, data, message = self.buttons[int(line) - 1]
            update = make_callback_update(
                bot, data, user_id=self.user_id, message=message or None, first_name=self.first_name
            )
        else:
            if line.startswith("'") and line[1:].strip():
                line = line[1:].strip()  # "'1": the number 1 typed as an answer, not a button
            update = make_message_update(
                bot, line, user_id=self.user_id, first_name=self.first_name
            )
        await self.app.process_update(update)

    async def _send_file(self, path: Path) -> None:
        """A file path typed in the console: sent as the person's photo or document."""
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                self.write(
                    f"Berkas {path.name} terlalu besar ({size // (1024 * 1024)} MB); "
                    f"paling besar {MAX_FILE_BYTES // (1024 * 1024)} MB.\n"
                )
                return
            content = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            self.write(f"Berkas {path} tidak dapat dibaca ({exc.strerror or exc}).\n")
            return
        self.write(f"[mengirim berkas: {path}]")
        bot = self.app.bot
        if path.suffix.lower() in PHOTO_EXT:
            update = make_photo_update(
                bot, content, user_id=self.user_id, first_name=self.first_name
            )
        else:
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            update = make_document_update(
                bot,
                content,
                user_id=self.user_id,
                file_name=path.name,
                mime_type=mime,
                first_name=self.first_name,
            )
        await self.app.process_update(update)

    async def _switch(self, args: list[str]) -> None:
        roles = ROLES
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
        user_id = console_user_id(role, office)
        problem = await asyncio.to_thread(
            _prepare_user, engine, role, bidang, user_id=user_id, nama=f"Konsol {role}", opd=opd
        )
        if problem:
            self.write(problem + "\n")
            return
        self.user_id, self.buttons = user_id, []
        self.write(role_line(role, bidang))
        self.print_webapp()
        await self.send("/start")


def role_line(role: str, bidang: str | None) -> str:
    """Who the console is now, and that every role is a person of its own."""
    return ROLE_LINE.format(role=role, bidang=f" bidang {bidang}" if bidang else "")


def _typed_path(line: str) -> Path | None:
    """The file a typed line names (a photo or a document that exists), else None; quotes a
    terminal adds around a dragged-in path are taken off."""
    if not line or len(line) > 4096 or "\n" in line:
        return None
    try:
        parts = shlex.split(line)
    except ValueError:
        parts = [line]
    text = parts[0] if len(parts) == 1 else line
    path = Path(os.path.expanduser(text))
    if path.suffix.lower() not in PHOTO_EXT | DOCUMENT_EXT:
        return None
    try:
        return path if path.is_file() else None
    except OSError:
        return None


def _office_id(engine: Engine, opd: str) -> int:
    """The id of the office named, or 0 (``_prepare_user`` then says what is wrong)."""
    with session_scope(engine) as session:
        try:
            return resolve_office(session, opd).id
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
                opd_id = resolve_office(session, opd).id
            if bidang:
                b = find_bidang(session, text=bidang, opd_id=opd_id or 0, partial=True)
                if b is None:
                    return texts.unknown_bidang(bidang, bidang_codes(session, opd_id or 0))
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
            return exc.user_message
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


class LineReader:
    """Lines typed on standard input, read without a thread that would outlive the console.

    On a terminal or pipe the event loop watches the descriptor (``add_reader``), so Ctrl+C
    and the end of the console never wait for a pending read; where that is not possible
    (Windows, a regular file) a daemon thread reads instead."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int | None = None) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        if fd is None and sys.stdin is None:  # started without any standard input
            self.fd = -1
            self._watching = False
            self.queue.put_nowait(None)
            return
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._watching = False
        try:
            loop.add_reader(self.fd, self._readable)
            self._watching = True
        except (NotImplementedError, OSError, ValueError):
            threading.Thread(target=self._read_in_thread, daemon=True).start()

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            data = b""
        if not data:
            self.close()
            if self._pending:
                self.queue.put_nowait(self._pending)
                self._pending = ""
            self.queue.put_nowait(None)
            return
        self._pending += self._decoder.decode(data)
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self.queue.put_nowait(line.rstrip("\r"))

    def _read_in_thread(self) -> None:
        for line in sys.stdin:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, line.rstrip("\r\n"))
        self.loop.call_soon_threadsafe(self.queue.put_nowait, None)

    async def next(self) -> str | None:
        """The next line (None: end of input)."""
        return await self.queue.get()

    def close(self) -> None:
        if self._watching:
            self._watching = False
            with contextlib.suppress(Exception):
                self.loop.remove_reader(self.fd)


class ConsoleLoop:
    """Prompt, read, hand the line to the bot; Ctrl+C at the prompt ends the console, during
    a step it cancels that step and comes back to the prompt."""

    def __init__(
        self,
        session: ConsoleSession,
        next_line: Callable[[], Any],
        *,
        prompt: Callable[[], object] | None = None,
    ) -> None:
        self.session = session
        self.next_line = next_line
        self.prompt: Callable[[], object] = prompt or (lambda: None)
        self.step: asyncio.Task[None] | None = None
        self.stop = asyncio.Event()

    def interrupt(self) -> None:
        """Ctrl+C."""
        if self.step is not None and not self.step.done():
            self.step.cancel()
        else:
            self.stop.set()

    async def run(self) -> None:
        while not self.stop.is_set():
            self.prompt()
            reading = asyncio.ensure_future(self.next_line())
            stopping = asyncio.ensure_future(self.stop.wait())
            await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not reading.done():
                reading.cancel()
                break
            line = reading.result()
            if line is None or line.strip() in {"/keluar", "/exit", "/quit"}:
                break
            if not line.strip():
                continue
            # process_update returns once every handler of the update has finished.
            self.step = asyncio.create_task(self.session.send(line))
            try:
                await asyncio.wait({self.step})
                if self.step.cancelled():
                    self.session.write("\n(Langkah dibatalkan dengan Ctrl+C.)\n")
                else:
                    self.step.result()
            finally:
                self.step = None


async def _console(settings: Settings, engine: Engine, *, user_id: int, role_text: str) -> None:
    from bot.webapp.server import WebAppServer

    app, api = await open_offline(settings, engine)
    # The Mini App (form and dashboard) on this machine, for a desktop browser: its URL
    # carries initData the console's own token signs, for whoever the console is now.
    web = WebAppServer(app, settings.webapp_listen, settings.webapp_port, any_port=True)
    await web.start()
    session = ConsoleSession(app, api, user_id=user_id, webapp=web)
    print("monev-bot mode konsol. Ketik pertanyaan, perintah (/bantuan), atau nomor tombol.")
    print(
        "Kirim foto atau berkas (JPG, PNG, PDF) dengan mengetik lokasinya, misalnya "
        "foto-kegiatan.jpg."
    )
    print("Keluar: Ctrl+C, Ctrl+D atau /keluar.")
    print(role_text)
    session.print_webapp()
    loop = asyncio.get_running_loop()
    reader = LineReader(loop)
    console = ConsoleLoop(
        session, reader.next, prompt=lambda: (sys.stdout.write("> "), sys.stdout.flush())
    )
    handled = False
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, console.interrupt)
        handled = True
    try:
        await session.send("/start")
        await console.run()
    finally:
        reader.close()
        if handled:
            loop.remove_signal_handler(signal.SIGINT)
        await web.stop()
        await app.stop()
        await app.shutdown()


def run_console(
    settings: Settings, engine: Engine, *, role: str, bidang: str | None, opd: str | None = None
) -> int:
    office = _office_id(engine, opd) if opd else 0
    user_id = console_user_id(role, office)
    problem = _prepare_user(engine, role, bidang, user_id=user_id, nama=f"Konsol {role}", opd=opd)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_console(settings, engine, user_id=user_id, role_text=role_line(role, bidang)))
    print("\nSampai jumpa.")
    return 0
