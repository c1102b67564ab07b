"""Attaching an album of ten photos in /lapor: time from the first item reaching the fake Bot
API to the bot's confirmation saying all ten arrived, against an echo bot that answers each
of the ten photos (the floor: the same ten updates polled, dispatched and answered), through
the same local fake HTTP Bot API, interleaved round by round (ABAB…) like bench_rounds.

Every album item is downloaded from the fake, checked by content, hashed, written to the data
folder and recorded in the database before the confirmation is edited.

Run: .venv/bin/python -m benchmarks.bench_bukti [--pg URL] [--rounds 5] [-n 5]
Target: median ratio ≤ 3× the echo floor.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import time
from pathlib import Path

from PIL import Image
from sqlmodel import select
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from benchmarks.bench_questions import monev_factory
from benchmarks.generate import DEMO_YEAR, demo_database
from benchmarks.latency import ratio_row, spread
from bot.offline.api import TEST_TOKEN, Call
from bot.offline.http import FakeBotAPI
from bot.offline.updates import message_dict
from bot.settings import Settings
from storage.data import db
from storage.data.models import AppUser, Bidang, Role
from storage.services import lapor_flow
from storage.services.users import set_user

OPERATOR = 880_000
ALBUM = 10


def _photos(seed: int) -> list[bytes]:
    out = []
    for i in range(ALBUM):
        img = Image.new("RGB", (640, 480), ((seed * 31 + i) % 256, (i * 47) % 256, seed % 256))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85)
        out.append(buf.getvalue())
    return out


def _draft_at_evidence_step(engine, telegram_id: int) -> None:  # type: ignore[no-untyped-def]
    """A fresh TW IV draft whose first sub kegiatan's figures are in: files attach to it."""
    with db.session_scope(engine) as s:
        lapor_flow.begin(s, telegram_id=telegram_id, tahun=DEMO_YEAR, triwulan=4, fresh=True)
    for text in ("21.000.000", "93"):
        with db.session_scope(engine) as s:
            u = s.exec(select(AppUser).where(AppUser.telegram_id == telegram_id)).one()
            lapor_flow.type_text(s, telegram_id=telegram_id, user_id=u.id, text=text)


def _push_album(fake: FakeBotAPI, user_id: int, photos: list[bytes], group: str) -> None:
    for content in photos:
        message = message_dict("", user_id=user_id, api=fake.api)
        message.pop("text", None)
        message["photo"] = fake.api.add_photo(content)
        message["media_group_id"] = group
        fake.push_update({"message": message})


async def _timed(fake: FakeBotAPI, user_id: int, photos: list[bytes], group: str, done) -> float:  # type: ignore[no-untyped-def]
    """Seconds from pushing the album to the first call for which ``done(call)`` holds."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[float] = loop.create_future()

    async def hook(call: Call) -> None:
        if call.chat_id == user_id and not fut.done() and done(call):
            fut.set_result(time.perf_counter())

    fake.api.on_send = hook
    start = time.perf_counter()
    _push_album(fake, user_id, photos, group)
    try:
        return await asyncio.wait_for(fut, 30) - start
    finally:
        fake.api.on_send = None


async def _echo_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None:
        await update.message.reply_text("ok")


def _echo_app(base_url: str) -> Application:
    app = ApplicationBuilder().token(TEST_TOKEN).base_url(base_url).build()
    app.add_handler(MessageHandler(filters.PHOTO, _echo_photo))
    return app


async def _running(app: Application) -> None:
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=10)
    await app.start()


async def _stopped(app: Application) -> None:
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def run_rounds(
    engine, data_dir: Path, rounds: int, n: int
) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    echo_ms: list[float] = []
    bot_ms: list[float] = []
    settings = Settings(
        TELEGRAM_BOT_TOKEN="123456:TEST", DATABASE_URL="", MONEV_DATA_DIR=str(data_dir)
    )
    seq = 0
    async with FakeBotAPI() as fake:
        for r in range(rounds):
            # A: the echo floor (ten photos, ten answers; the tenth answer ends it)
            echo = _echo_app(fake.base_url)
            await _running(echo)
            lat = []
            try:
                for i in range(n + 1):
                    uid, answers = OPERATOR + 500 + seq, [0]
                    seq += 1

                    def tenth(call: Call, answers: list[int] = answers) -> bool:
                        answers[0] += 1
                        return answers[0] == ALBUM

                    t = await _timed(fake, uid, _photos(seq), f"e{seq}", tenth)
                    if i:
                        lat.append(t * 1000)
            finally:
                await _stopped(echo)
            echo_ms.append(statistics.median(lat))
            # B: the bot, confirming the album once all ten are kept
            app = monev_factory(engine, settings)(fake.base_url)
            await _running(app)
            lat = []
            try:
                for i in range(n + 1):
                    seq += 1
                    await asyncio.to_thread(_draft_at_evidence_step, engine, OPERATOR)
                    t = await _timed(
                        fake,
                        OPERATOR,
                        _photos(seq),
                        f"b{seq}",
                        lambda c: f"{ALBUM} berkas sejauh ini" in (c.text or ""),
                    )
                    if i:
                        lat.append(t * 1000)
            finally:
                await _stopped(app)
            bot_ms.append(statistics.median(lat))
            del r
    return echo_ms, bot_ms


def run(pg: str | None, rounds: int = 5, n: int = 5) -> dict[str, tuple[list[float], list[float]]]:
    out = {}
    for backend, url in (("SQLite", None), ("PostgreSQL", pg)):
        if backend == "PostgreSQL" and not pg:
            continue
        with tempfile.TemporaryDirectory() as d, demo_database(Path(d), url) as engine:
            with db.session_scope(engine) as s:
                kop = s.exec(select(Bidang).where(Bidang.kode == "koperasi")).one()
                set_user(s, telegram_id=OPERATOR, role=Role.OPERATOR, bidang_id=kop.id, actor="b")
            out[backend] = asyncio.run(run_rounds(engine, Path(d) / "data", rounds, n))
    return out


def rows(results: dict[str, tuple[list[float], list[float]]]) -> list[tuple[str, str, str, str]]:
    out = []
    for backend, (echo, bot) in results.items():
        out.append(
            ratio_row(
                f"Album 10 foto sampai konfirmasi bot vs bot gema (10 jawaban), {backend}, "
                f"{len(echo)} putaran",
                [b / e for b, e in zip(bot, echo, strict=True)],
                f"bot {spread(bot, ' ms')}; gema {spread(echo, ' ms')}",
            )
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pg")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("-n", type=int, default=5)
    args = ap.parse_args()
    for row in rows(run(args.pg, args.rounds, args.n)):
        print(" | ".join(row))


if __name__ == "__main__":
    main()
