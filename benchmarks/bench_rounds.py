"""The bot against a plain PTB echo bot, interleaved round by round (ABAB…), over the local
fake HTTP Bot API, at the demo office's size (1×) and at 100× that office-year.

Every round measures, one after the other: the echo bot, then for each size the bot with a
warm cache (rate limiter and update inbox off, as the old harness did; 1× only), the bot as
``monev run`` ships it (rate limiter on, every update written to the inbox before it is
handled and marked done after), and the same answering the first question after a write (a
pagu revision committed just before each question; a write and its question at most every
80 ms). Each round gives its own ratio to that round's echo median, and its difference in
milliseconds: for a kind asked at a pace or after a write, to the echo bot asked the same
way in the same round (LIKE_FOR_LIKE; the ratio to the echo bot asked back to back is shown
beside it). The table shows the median and its [min-max] over rounds, so a load change
during the run shows as spread instead of flipping a verdict. Every kind has its own warm-up
in every round. Size must not show (issue 29): at 100× the first answer after a write stays
within 3× the echo bot and within +50 ms of it.

On PostgreSQL ``monev run`` is one process of a possible cluster (bot.cluster): in polling mode
the poller handles its updates in-process (as one process does), and every message reserves a
slot of the budget the processes share. "As shipped" is that path; the same process without a
cluster at all (in-process rate limiter) is measured beside it at 1×, to show what it costs.
That budget gives each message its own slot, 40 ms after the one before (25 a second, no
burst: Telegram counts a sliding second), so questions sent back to back, faster than 25 a
second, each wait for their slot there, while the in-process limiter lets a burst of 30 go;
the "one per 80 ms" row asks at half the budget's rate (exactly at it, every jitter still
waits) and shows the answer's own cost.

Run: .venv/bin/python -m benchmarks.bench_rounds [--pg URL] [--rounds 5] [-n 20] [--sizes 1,100]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from telegram.ext import Application

from benchmarks.bench_questions import QUESTIONS
from benchmarks.bench_sizes import _program, _revise
from benchmarks.generate import DEMO_YEAR, demo_database, scale_year
from benchmarks.latency import (
    _user_ids,
    echo_app_factory,
    file_url_for,
    measure,
    ratio_row,
    spread,
    steady,
)
from bot.app import build_application, prepare
from bot.cluster import BOT_INTERVAL
from bot.cluster import get as cluster_of
from bot.offline.http import FakeBotAPI
from bot.settings import Settings
from storage.data import db
from storage.data.models import AppUser, Role, UserStatus

KINDS = ("cached", "rate_limited", "after_write")
SIZES = (1, 100)
BIG_KINDS = ("rate_limited", "after_write")  # at a larger size: the bot as it ships
PG_ONLY = "single"  # PostgreSQL: one process without the cluster path, beside "as shipped"
PACED = "paced"  # PostgreSQL: as shipped, one question per two slots of the shared budget
MAX_RATIO, MAX_EXTRA_MS = 3.0, 50.0
# Questions that follow each other by less than the shared budget's slot (25 messages a second
# for every process of the bot) wait for it: a row paced at the slot shows the answer's own
# cost, the unpaced one what waiting for the budget adds when questions come faster.
PACE_S = 2 * BOT_INTERVAL.total_seconds()


def kinds_at(k: int, pg: bool = False) -> tuple[str, ...]:
    if k != 1:
        return (*BIG_KINDS, PACED) if pg else BIG_KINDS
    return (*KINDS, PG_ONLY, PACED) if pg else KINDS


# Kinds asked at a pace, or each after a write: the echo bot is asked the same way in the same
# round (the same write before each message, the same pace), and these rows are its ratio to
# that echo. A process idle for 80 ms between messages answers the next one slower (the echo
# bot itself: 2.8 ms paced vs 2.2 ms back to back here); the ratio to the echo asked back to
# back is shown beside it.
LIKE_FOR_LIKE = ("after_write", PACED)


@dataclass
class Rounds:
    echo: list[float] = field(default_factory=list)
    # (size, kind) -> that round's median in milliseconds
    bot: dict[tuple[int, str], list[float]] = field(default_factory=dict)
    # (size, kind) -> the echo bot asked as that kind is (LIKE_FOR_LIKE), same rounds
    base: dict[tuple[int, str], list[float]] = field(default_factory=dict)

    def baseline(self, k: int, kind: str) -> list[float]:
        return self.base.get((k, kind), self.echo)

    def ratios(self, k: int, kind: str) -> list[float]:
        return [b / e for b, e in zip(self.bot[(k, kind)], self.baseline(k, kind), strict=True)]

    def plain_ratios(self, k: int, kind: str) -> list[float]:
        """Against the echo bot asked back to back, whatever the kind."""
        return [b / e for b, e in zip(self.bot[(k, kind)], self.echo, strict=True)]

    def extra_ms(self, k: int, kind: str) -> list[float]:
        return [b - e for b, e in zip(self.bot[(k, kind)], self.baseline(k, kind), strict=True)]


def _factory(  # type: ignore[no-untyped-def]
    engine: Engine, rate_limiter: bool, inbox: bool = False, cluster: bool = False
):
    def factory(base_url: str):  # type: ignore[no-untyped-def]
        settings = Settings(
            TELEGRAM_BOT_TOKEN="123456:TEST",
            DATABASE_URL="",
            TELEGRAM_API_BASE_URL=base_url,
            TELEGRAM_API_BASE_FILE_URL=file_url_for(base_url),
        )
        app = build_application(
            settings, engine, rate_limiter=rate_limiter, inbox=inbox, cluster=cluster
        )
        prepare(app)
        return steady(app)

    return factory


def _shipped(engine: Engine):  # type: ignore[no-untyped-def]
    """``monev run`` as shipped: rate limiter and inbox on; on PostgreSQL the cluster path."""
    return _factory(engine, True, True, cluster=engine.dialect.name == "postgresql")


async def _release(app) -> None:  # type: ignore[no-untyped-def]
    """What post_shutdown does for a cluster process: its lock connection goes."""
    cluster = cluster_of(app)
    if cluster is not None:
        await cluster.stop()


async def _after_write(
    engine: Engine,
    fake: FakeBotAPI,
    n: int,
    factory: Callable[[str], Application] | None = None,
) -> float:
    """Median latency of questions each asked right after a committed pagu revision, to the
    bot as shipped or to the one ``factory`` builds (the echo bot, asked the same way)."""
    app = (factory or _shipped(engine))(fake.base_url)
    node = _program(engine, DEMO_YEAR)
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=10)
    await app.start()
    lat = []
    loop = asyncio.get_running_loop()
    try:
        for i in range(n + 2):  # two warm-ups
            started = loop.time()
            await asyncio.to_thread(_revise, engine, node, DEMO_YEAR, 1 if i % 2 == 0 else -1)
            uid = next(_user_ids)
            t = await fake.wait_reply(
                fake.push_text(uid, QUESTIONS[i % len(QUESTIONS)]), timeout=30
            )
            if i >= 2:
                lat.append(t * 1000)
            # a write and its question at half the shared budget's rate (PACE_S)
            await asyncio.sleep(max(0.0, started + PACE_S - loop.time()))
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await _release(app)
    return statistics.median(lat)


async def _one(engine: Engine, kind: str, fake: FakeBotAPI, n: int) -> float:
    if kind == "after_write":
        return await _after_write(engine, fake, n)
    if kind == "cached":
        factory = _factory(engine, False)
    elif kind == PG_ONLY:
        factory = _factory(engine, True, True)  # rate limiter and inbox, one process
    else:
        factory = _shipped(engine)
    pace = PACE_S if kind == PACED else 0.0
    apps = []

    def build(base_url: str):  # type: ignore[no-untyped-def]
        apps.append(factory(base_url))
        return apps[-1]

    try:
        return (await measure(build, QUESTIONS, n=n, fake=fake, pace=pace)).median
    finally:
        for app in apps:
            await _release(app)


async def _echo_as(engine: Engine, kind: str, fake: FakeBotAPI, n: int) -> float:
    """The echo bot asked as ``kind`` asks (LIKE_FOR_LIKE)."""
    if kind == "after_write":
        return await _after_write(engine, fake, n, echo_app_factory)
    return (await measure(echo_app_factory, QUESTIONS, n=n, fake=fake, pace=PACE_S)).median


async def run_rounds(engines: dict[int, Engine], rounds: int, n: int) -> Rounds:
    out = Rounds()
    async with FakeBotAPI() as fake:
        for _ in range(rounds):
            out.echo.append((await measure(echo_app_factory, QUESTIONS, n=n, fake=fake)).median)
            for k, engine in engines.items():
                for kind in kinds_at(k, engine.dialect.name == "postgresql"):
                    if kind in LIKE_FOR_LIKE:
                        base = await _echo_as(engine, kind, fake, n)
                        out.base.setdefault((k, kind), []).append(base)
                    out.bot.setdefault((k, kind), []).append(await _one(engine, kind, fake, n))
    return out


def _kepala(engine: Engine, first: int, count: int) -> None:
    """Kepala accounts for every user id the rounds will use."""
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


def run(
    pg: str | None, rounds: int = 5, n: int = 20, sizes: tuple[int, ...] = SIZES
) -> dict[str, Rounds]:
    results = {}
    for backend, url in (("SQLite", None), ("PostgreSQL", pg)):
        if backend == "PostgreSQL" and not pg:
            continue
        first = next(_user_ids) + 1
        asked = [kind for k in sizes for kind in kinds_at(k, url is not None)]
        # the echo bot too, back to back and as each LIKE_FOR_LIKE kind is asked
        kinds = 1 + len(asked) + sum(kind in LIKE_FOR_LIKE for kind in asked)
        count = rounds * kinds * (n + 4)
        with contextlib.ExitStack() as stack:
            engines = {}
            for k in sizes:
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                engines[k] = engine = stack.enter_context(demo_database(folder, url))
                if k > 1:
                    scale_year(engine, k)
                _kepala(engine, first, count)
            results[backend] = asyncio.run(run_rounds(engines, rounds, n))
    return results


LIKE_LABELS = {
    "after_write": "bot gema yang ditanya dengan cara sama (tulis yang sama sebelum tiap pesan)",
    PACED: "bot gema yang ditanya dengan cara sama (satu per 80 ms)",
}

LABELS = {
    "cached": "Pertanyaan (cache hangat, pembatas laju mati)",
    "rate_limited": "Pertanyaan, `monev run` apa adanya (pembatas laju dan kotak masuk hidup)",
    "after_write": (
        "Pertanyaan pertama setelah tulis (pembatas laju dan kotak masuk hidup; satu per ≥ 80 ms)"
    ),
    PG_ONLY: "Pertanyaan, satu proses tanpa jalur klaster (pembatas laju dan kotak masuk hidup)",
    PACED: "Pertanyaan, `monev run` apa adanya, satu per 80 ms (separuh anggaran kirim bersama)",
}


def rows(results: dict[str, Rounds]) -> list[tuple[str, str, str, str]]:
    out = []
    for backend, r in results.items():
        out.append(
            (f"Bot gema (patokan), {backend}, {len(r.echo)} putaran", spread(r.echo, " ms"), "", "")
        )
        for k, kind in r.bot:
            detail = f"median {spread(r.bot[(k, kind)], ' ms')}"
            against = "bot gema"
            if (k, kind) in r.base:
                against = LIKE_LABELS[kind]
                detail += (
                    f"; bot gema itu {spread(r.base[(k, kind)], ' ms')}; "
                    f"vs bot gema berturut-turut {spread(r.plain_ratios(k, kind))}"
                )
            if k == 1:
                out.append(
                    ratio_row(
                        f"{LABELS[kind]} vs {against}, 1×, {backend}", r.ratios(k, kind), detail
                    )
                )
                continue
            extra = r.extra_ms(k, kind)
            detail += f"; {against.split(' (')[0]} {spread(extra, ' ms', '+.1f')}"
            label, figure, _, _ = ratio_row(
                f"{LABELS[kind]} vs {against}, {k}×, {backend}", r.ratios(k, kind), detail
            )
            ok = (
                statistics.median(r.ratios(k, kind)) <= MAX_RATIO
                and statistics.median(extra) <= MAX_EXTRA_MS
            )
            target = f"≤ {MAX_RATIO:g}× dan ≤ +{MAX_EXTRA_MS:g} ms"
            out.append((label, figure, target, "✅" if ok else "❌"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pg")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--sizes", default="1,100", help="office-year sizes, 1 first (default 1,100)")
    args = ap.parse_args()
    sizes = tuple(int(x) for x in args.sizes.split(","))
    for row in rows(run(args.pg, args.rounds, args.n, sizes)):
        print(" | ".join(row))


if __name__ == "__main__":
    main()
