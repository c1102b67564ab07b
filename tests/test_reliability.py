"""Faults: repeated updates, a stumbling Bot API, an unreachable or read-only database."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.app import build_application, post_init
from bot.offline.api import OfflineBotAPI
from bot.offline.updates import make_message_update
from bot.settings import Settings
from storage.data import db
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file
from tests.bot_harness import ADMIN, KEPALA, OPERATOR_KOP, Bot, add_users
from tests.conftest import PG_URL


async def _bot(engine: Engine, *, rate_limiter: bool = False, admins: str = str(ADMIN)) -> Bot:
    api = OfflineBotAPI()
    settings = Settings(MONEV_ADMIN_IDS=admins, DATABASE_URL="", TELEGRAM_BOT_TOKEN="")
    app = build_application(
        settings, engine, request=api, get_updates_request=api, rate_limiter=rate_limiter
    )
    await app.initialize()
    await post_init(app)
    await app.start()
    return Bot(app, api, engine)


async def _close(b: Bot) -> None:
    await b.app.stop()
    await b.app.shutdown()


async def test_the_same_update_twice_is_handled_once(bot: Bot) -> None:
    update = make_message_update(bot.app.bot, "serapan koperasi tw2", user_id=KEPALA)
    await bot.app.process_update(update)
    await bot.app.process_update(update)
    replies = [t for t in bot.api.texts(KEPALA) if "Rp 79.265.450" in t]
    assert len(replies) == 1


async def test_bad_gateway_is_retried_without_duplicates(seeded: Engine) -> None:
    add_users(seeded)
    b = await _bot(seeded, rate_limiter=True)
    try:
        b.api.fail_next("sendMessage", status=502, times=2)
        out = await b.say(KEPALA, "serapan koperasi tw2")
        assert out.count("Rp 79.265.450") == 1
        failed = [c for c in b.api.calls_of("sendMessage") if c.status == 502]
        assert len(failed) == 2
        # 429 with retry_after: waited out and sent once
        b.api.fail_next("sendMessage", status=429, retry_after=1, times=1)
        out = await b.say(KEPALA, "serapan umkm tw3")
        assert (
            out.count("14,20%") >= 1 and len([t for t in b.api.texts(KEPALA) if "14,20%" in t]) == 1
        )
    finally:
        await _close(b)


async def test_read_only_database_gives_a_clear_error_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "monev.db"
    rw = db.make_engine(f"sqlite:///{path}")
    db.upgrade(rw)
    import_file(rw, SEED_FILE, actor="test")
    add_users(rw)
    rw.dispose()
    before = path.read_bytes()
    ro = db.make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    b = await _bot(ro, admins="")
    try:
        # reading still works
        assert "Rp 79.265.450" in await b.say(KEPALA, "serapan koperasi tw2")
        # writing (starting a report) fails with a clear message, no traceback
        assert "TW IV 2022" in await b.say(OPERATOR_KOP, "/lapor")
        out = await b.press(OPERATOR_KOP, dict(b.buttons(OPERATOR_KOP))["Isi TW IV 2022"])
        assert "tidak bisa ditulis" in out and "Traceback" not in out
    finally:
        await _close(b)
        ro.dispose()
    # nothing corrupted: the file still opens and answers
    check = db.make_engine(f"sqlite:///{path}")
    with check.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    check.dispose()
    assert len(path.read_bytes()) >= len(before) * 0.5


class _Proxy:
    """A TCP proxy in front of PostgreSQL that a test can switch off and on."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = _free_port()
        self.server: asyncio.Server | None = None
        self.conns: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in list(self.conns):
            w.close()
        self.conns.clear()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.conns |= {writer, up_w}

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            w.close()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL case skipped: TEST_DATABASE_URL is not set")
async def test_database_unreachable_then_back_without_restart(tmp_path: Path) -> None:
    """PostgreSQL behind a proxy: cut off, users are told to try again; back, answers resume."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(db.normalise_url(PG_URL))
    schema = f"r_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    proxy = _Proxy((url.host or "127.0.0.1", url.port or 5432))
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port)
    engine = create_engine(
        proxied,
        connect_args={"options": f"-csearch_path={schema}", "connect_timeout": 2},
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_timeout=5,  # an exhausted pool fails the test in seconds, not the default 30
    )
    try:
        await asyncio.to_thread(db.upgrade, engine)
        await asyncio.to_thread(import_file, engine, SEED_FILE)
        await asyncio.to_thread(add_users, engine)
        b = await _bot(engine)
        try:
            assert "Rp 79.265.450" in await b.say(KEPALA, "serapan koperasi tw2")
            await proxy.stop()
            # A sustained outage: every message, commands and questions alike, gets "try again
            # shortly". Nothing in the bot or the engine depends on how long the outage lasts;
            # what a long outage does is fail many requests in a row, so ask more times than the
            # engine's pool holds connections (5 + 10 overflow): a connection leaked by a failed
            # request would exhaust the pool and turn the answer into a pool timeout, which the
            # user sees as a generic error.
            for asked in range(16):
                msg = "/start" if asked % 2 else "serapan koperasi tw2"
                out = await b.say(KEPALA, msg)
                assert "tidak dapat dihubungi" in out and "Traceback" not in out
            await proxy.start()
            assert "Rp 79.265.450" in await b.say(KEPALA, "serapan koperasi tw2")
        finally:
            await _close(b)
    finally:
        engine.dispose()
        with contextlib.suppress(Exception):
            await proxy.stop()
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


class _TimingOutAPI(OfflineBotAPI):
    """Times out the next ``n`` sendMessage calls after they reached 'Telegram'."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts = 0

    async def do_request(self, url, method, request_data=None, **kwargs):  # type: ignore[no-untyped-def, override]
        from telegram.error import TimedOut

        result = await super().do_request(url, method, request_data, **kwargs)
        if url.endswith("/sendMessage") and self.timeouts:
            self.timeouts -= 1
            raise TimedOut("Timed out")  # the message was delivered, the answer got lost
        return result


async def test_a_reply_that_times_out_is_not_sent_twice(seeded: Engine) -> None:
    add_users(seeded)
    api = _TimingOutAPI()
    settings = Settings(MONEV_ADMIN_IDS=str(ADMIN), DATABASE_URL="", TELEGRAM_BOT_TOKEN="")
    app = build_application(settings, seeded, request=api, get_updates_request=api)
    await app.initialize()
    await post_init(app)
    await app.start()
    b = Bot(app, api, seeded)
    try:
        api.timeouts = 1
        await b.say(KEPALA, "serapan koperasi tw2")
        answers = [t for t in api.texts(KEPALA) if "Rp 79.265.450" in t]
        assert len(answers) == 1  # delivered once; a retry could have duplicated it
        # the bot carries on
        assert "14,20%" in await b.say(KEPALA, "serapan umkm tw3")
    finally:
        await _close(b)
