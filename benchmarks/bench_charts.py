"""Chart replies: latency against rendering the same chart alone, and memory over many charts.

Run: .venv/bin/python -m benchmarks.bench_charts [-n 30] [--memory 500]
Targets (issue #5): a chart reply's median within 1.5x the bare render's median (same run);
resident memory after 500 chart requests within 10% of the memory after 10 (the bot's process
plus its chart-drawing worker); every kind of chart drawn in well under 300 ms (median).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.bench_questions import FIRST_USER_ID, monev_factory, seeded_engine
from bot.offline.http import FakeBotAPI
from bot.settings import Settings
from charts import render
from charts.answers import ChartKind, ChartRequest, draw, plan_chart
from storage.data import db
from storage.services.queries import scope_result
from storage.services.users import find_bidang

QUESTION = "grafik serapan tw3 2022"


def rss_mib(extra_pids: list[int] | None = None) -> float:
    """Resident memory of this process plus the given ones (the chart worker)."""
    total = 0
    for pid in [os.getpid(), *(extra_pids or [])]:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1])
        except FileNotFoundError:
            continue
    return total * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def worker_pids(app) -> list[int]:  # type: ignore[no-untyped-def]
    pool = app.bot_data.get("render_pool")
    return pool.worker_pids() if pool is not None else []


def bare_render_ms(engine, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    """The same chart drawn directly from data already in hand."""
    with db.read_scope(engine) as s:
        res = scope_result(s, 1, 2022, 3)
    bars = [render.Bar(it.nama, it.figure.serapan) for it in res.breakdown]
    meta = render.ChartMeta("Serapan anggaran per bidang", "TW III 2022 · Dinas Koperasi …")
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        render.serapan_per_bidang(bars, res.benchmark, meta)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def render_ms_per_kind(engine, runs: int = 5) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Median time to draw each kind of chart from the TW III 2022 figures, after a warm-up
    draw (font cache, first-use imports). Per program and fisik/keuangan are drawn for
    Perdagangan, whose program names are the longest to lay out."""
    with db.read_scope(engine) as s:
        dagang = find_bidang(s, text="perdagangan", opd_id=1)
        assert dagang is not None
        plans = {
            kind.value: plan_chart(
                s,
                1,
                ChartRequest(
                    kind,
                    2022,
                    3,
                    dagang.id if kind in (ChartKind.PROGRAM, ChartKind.FISIK) else None,
                ),
            )
            for kind in ChartKind
        }
    out = {}
    for name, plan in plans.items():
        draw(plan)
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            draw(plan)
            samples.append((time.perf_counter() - t0) * 1000)
        out[name] = statistics.median(samples)
    return out


async def replies(fake: FakeBotAPI, n: int, first_user: int) -> list[float]:
    out = []
    for i in range(n):
        update_id = fake.push_text(first_user + i, QUESTION)
        out.append(await fake.wait_reply(update_id, timeout=30) * 1000)
    return out


async def run(n: int = 30, memory: int = 500) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as d:
        engine = seeded_engine(Path(d), users=n + memory + 20)
        settings = Settings(TELEGRAM_BOT_TOKEN="123456:TEST", DATABASE_URL="")
        result: dict[str, float] = {}
        async with FakeBotAPI() as fake:
            app = monev_factory(engine, settings)(fake.base_url)
            await app.initialize()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=10)
            await app.start()
            try:
                await replies(fake, 3, FIRST_USER_ID)  # warm-up: fonts, caches
                bare = bare_render_ms(engine, n)
                reply = await replies(fake, n, FIRST_USER_ID + 3)
                result["bare_median_ms"] = statistics.median(bare)
                result["reply_median_ms"] = statistics.median(reply)
                result["ratio"] = result["reply_median_ms"] / result["bare_median_ms"]
                for kind, ms in render_ms_per_kind(engine).items():
                    result[f"render_{kind}_median_ms"] = ms
                if memory:
                    base = FIRST_USER_ID + 3 + n
                    await replies(fake, 10, base)
                    gc.collect()
                    result["rss_after_10_mib"] = rss_mib(worker_pids(app))
                    await replies(fake, memory - 10, base + 10)
                    gc.collect()
                    result[f"rss_after_{memory}_mib"] = rss_mib(worker_pids(app))
                    result["rss_growth_pct"] = 100 * (
                        result[f"rss_after_{memory}_mib"] / result["rss_after_10_mib"] - 1
                    )
            finally:
                await app.updater.stop()
                await app.stop()
                await app.shutdown()
        engine.dispose()
        return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--memory", type=int, default=500)
    args = ap.parse_args()
    for k, v in asyncio.run(run(args.n, args.memory)).items():
        print(f"{k}: {v:.2f}")


if __name__ == "__main__":
    main()
