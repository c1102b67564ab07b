"""Reminders to many recipients through the local fake Bot API, which enforces 30 msg/s.

The real Application (AIORateLimiter included, as in production) sends one H-7 reminder to
each of N operators over HTTP to ``bot/offline/http.py`` on 127.0.0.1; the fake answers
429 to any send above 30 in a sliding second. Prints messages/s and the number of 429s.

Run: .venv/bin/python -m benchmarks.bench_reminders [--recipients 1000] [--pg URL]
Target: >= 25 msg/s with zero 429s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from telegram.ext import CallbackContext

from bot.app import build_application, post_init
from bot.jobs.reminders import CLOCK, LAST_REPORT, RATE, DeliveryReport, send_due
from bot.offline.api import TEST_TOKEN
from bot.offline.http import FakeBotAPI
from bot.settings import WIB, Settings
from storage.data import db
from storage.data.models import Role
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file
from storage.services.users import find_bidang, set_user

MAX_RECIPIENTS = 5_000  # keeps a run bounded (~3 minutes at 28/s)
TIMEOUT_S = 300.0
H_MINUS_7 = datetime(2023, 1, 3, 8, 0, tzinfo=WIB)  # TW IV 2022, default deadline 10 Jan 2023


def _prepare(engine: Engine, recipients: int) -> None:
    db.upgrade(engine)
    import_file(engine, SEED_FILE, actor="bench")
    with db.session_scope(engine) as s:
        ids = [
            find_bidang(s, text=k, opd_id=1).id  # type: ignore[union-attr]
            for k in ("sekretariat", "koperasi", "umkm", "perdagangan", "perindustrian")
        ]
        for i in range(recipients):
            set_user(
                s,
                telegram_id=900_000 + i,
                role=Role.OPERATOR,
                bidang_id=ids[i % len(ids)],
                nama=f"Operator {i}",
                actor="bench",
            )


async def _measure(engine: Engine, rate: float | None) -> tuple[DeliveryReport, int, int, float]:
    async with FakeBotAPI(rate_limit_per_s=30) as fake:
        settings = Settings(
            TELEGRAM_BOT_TOKEN=TEST_TOKEN,
            TELEGRAM_API_BASE_URL=fake.base_url,
            TELEGRAM_API_BASE_FILE_URL=fake.base_file_url,
            DATABASE_URL="",
        )
        app = build_application(settings, engine)  # AIORateLimiter on, as in production
        app.bot_data[CLOCK] = lambda: H_MINUS_7
        if rate is not None:
            app.bot_data[RATE] = rate
        await app.initialize()
        try:
            await post_init(app)
            t0 = time.perf_counter()
            await asyncio.wait_for(send_due(CallbackContext(app)), TIMEOUT_S)
            elapsed = time.perf_counter() - t0
            report: DeliveryReport = app.bot_data[LAST_REPORT]
            delivered = sum(1 for r in fake.replies if r.method == "sendMessage")
            return report, delivered, fake.rate_limited, elapsed
        finally:
            await app.shutdown()


def run(recipients: int = 1000, pg_url: str | None = None, rate: float | None = None) -> dict:
    recipients = max(1, min(recipients, MAX_RECIPIENTS))
    schema = None
    with tempfile.TemporaryDirectory() as d:
        if pg_url:
            schema = f"bench_rem_{int(time.time())}"
            admin = create_engine(db.normalise_url(pg_url))
            with admin.begin() as c:
                c.execute(text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in pg_url else "?"
            engine = db.make_engine(f"{pg_url}{sep}options=-csearch_path%3D{schema}")
        else:
            engine = db.make_engine(f"sqlite:///{Path(d) / 'bench.db'}")
        try:
            _prepare(engine, recipients)
            report, delivered, limited, elapsed = asyncio.run(_measure(engine, rate))
        finally:
            engine.dispose()
            if schema:
                with admin.begin() as c:
                    c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    return {
        "recipients": recipients,
        "delivered": delivered,
        "seconds": round(elapsed, 2),
        "messages_per_s": round(delivered / elapsed, 1) if elapsed else 0.0,
        "http_429": limited,
        "retries": report.retries,
        "failed": report.failed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--recipients", type=int, default=1000)
    ap.add_argument("--pg", help="PostgreSQL URL (default: a temporary SQLite file)")
    ap.add_argument("--rate", type=float, help="override the sending pace (messages/s)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    r = run(args.recipients, args.pg, args.rate)
    backend = "PostgreSQL" if args.pg else "SQLite"
    print(f"Pengingat ke {r['recipients']} penerima ({backend}, fake Bot API 30 pesan/detik):")
    print(f"  terkirim       : {r['delivered']} dalam {r['seconds']} detik")
    print(f"  laju           : {r['messages_per_s']} pesan/detik (target >= 25)")
    print(f"  jawaban 429    : {r['http_429']} (target 0)")
    print(f"  percobaan ulang: {r['retries']}, gagal: {r['failed']}")


if __name__ == "__main__":
    main()
