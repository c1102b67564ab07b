"""The bot against a plain PTB echo bot, interleaved round by round (ABAB…), over the local
fake HTTP Bot API.

Every round measures, one after the other: the echo bot, the bot with a warm cache (rate
limiter and update inbox off, as the old harness did), the bot as ``monev run`` ships it
(rate limiter on, every update written to the inbox before it is handled and marked done
after), and the same answering the first question after a write (a pagu revision committed
just before each question). Each round gives its own ratio to that round's echo median; the table
shows the median ratio and its [min-max] over rounds, so a load change during the run shows
as spread instead of flipping a verdict. Every kind has its own warm-up in every round.

Run: .venv/bin/python -m benchmarks.bench_rounds [--pg URL] [--rounds 5] [-n 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from benchmarks.bench_questions import QUESTIONS
from benchmarks.bench_sizes import _program, _revise
from benchmarks.generate import DEMO_YEAR, demo_database
from benchmarks.latency import (
    _user_ids,
    echo_app_factory,
    file_url_for,
    measure,
    ratio_row,
    spread,
)
from bot.app import build_application, prepare
from bot.offline.http import FakeBotAPI
from bot.settings import Settings
from storage.data import db
from storage.data.models import AppUser, Role, UserStatus

KINDS = ("cached", "rate_limited", "after_write")


@dataclass
class Rounds:
    echo: list[float] = field(default_factory=list)
    bot: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})

    def ratios(self, kind: str) -> list[float]:
        return [b / e for b, e in zip(self.bot[kind], self.echo, strict=True)]


def _factory(engine: Engine, rate_limiter: bool, inbox: bool = False):  # type: ignore[no-untyped-def]
    def factory(base_url: str):  # type: ignore[no-untyped-def]
        settings = Settings(
            TELEGRAM_BOT_TOKEN="123456:TEST",
            DATABASE_URL="",
            TELEGRAM_API_BASE_URL=base_url,
            TELEGRAM_API_BASE_FILE_URL=file_url_for(base_url),
        )
        app = build_application(settings, engine, rate_limiter=rate_limiter, inbox=inbox)
        prepare(app)
        return app

    return factory


async def _after_write(engine: Engine, fake: FakeBotAPI, n: int) -> float:
    """Median latency of questions each asked right after a committed pagu revision."""
    app = _factory(engine, rate_limiter=True, inbox=True)(fake.base_url)
    node = _program(engine, DEMO_YEAR)
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=10)
    await app.start()
    lat = []
    try:
        for i in range(n + 2):  # two warm-ups
            await asyncio.to_thread(_revise, engine, node, DEMO_YEAR, 1 if i % 2 == 0 else -1)
            uid = next(_user_ids)
            t = await fake.wait_reply(
                fake.push_text(uid, QUESTIONS[i % len(QUESTIONS)]), timeout=30
            )
            if i >= 2:
                lat.append(t * 1000)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    return statistics.median(lat)


async def run_rounds(engine: Engine, rounds: int, n: int) -> Rounds:
    out = Rounds()
    async with FakeBotAPI() as fake:
        for _ in range(rounds):
            out.echo.append((await measure(echo_app_factory, QUESTIONS, n=n, fake=fake)).median)
            out.bot["cached"].append(
                (await measure(_factory(engine, False), QUESTIONS, n=n, fake=fake)).median
            )
            out.bot["rate_limited"].append(
                (await measure(_factory(engine, True, True), QUESTIONS, n=n, fake=fake)).median
            )
            out.bot["after_write"].append(await _after_write(engine, fake, n))
    return out


def run(pg: str | None, rounds: int = 5, n: int = 20) -> dict[str, Rounds]:
    results = {}
    for backend, url in (("SQLite", None), ("PostgreSQL", pg)):
        if backend == "PostgreSQL" and not pg:
            continue
        with tempfile.TemporaryDirectory() as d, demo_database(Path(d), url) as engine:
            # kepala accounts for every user id the rounds will use
            first = next(_user_ids) + 1
            count = rounds * 4 * (n + 4)
            with db.session_scope(engine) as s:
                s.exec(  # type: ignore[call-overload]
                    insert(AppUser),
                    params=[
                        {
                            "telegram_id": first + i,
                            "nama": f"Bench {i}",
                            "nip": "",
                            "role": Role.KEPALA.value,
                            "status": UserStatus.ACTIVE.value,
                        }
                        for i in range(count)
                    ],
                )
            results[backend] = asyncio.run(run_rounds(engine, rounds, n))
    return results


LABELS = {
    "cached": "Pertanyaan (cache hangat, pembatas laju mati)",
    "rate_limited": "Pertanyaan, `monev run` apa adanya (pembatas laju dan kotak masuk hidup)",
    "after_write": "Pertanyaan pertama setelah tulis (pembatas laju dan kotak masuk hidup)",
}


def rows(results: dict[str, Rounds]) -> list[tuple[str, str, str, str]]:
    out = []
    for backend, r in results.items():
        out.append(
            (f"Bot gema (patokan), {backend}, {len(r.echo)} putaran", spread(r.echo, " ms"), "", "")
        )
        for kind in KINDS:
            out.append(
                ratio_row(
                    f"{LABELS[kind]} vs bot gema, 1×, {backend}",
                    r.ratios(kind),
                    f"median {spread(r.bot[kind], ' ms')}",
                )
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pg")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("-n", type=int, default=20)
    args = ap.parse_args()
    for row in rows(run(args.pg, args.rounds, args.n)):
        print(" | ".join(row))


if __name__ == "__main__":
    main()
