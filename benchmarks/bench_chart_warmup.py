"""The first chart after a quiet spell: how long the tap on "Lihat grafik" waits.

Run: .venv/bin/python -m benchmarks.bench_chart_warmup [-n 5] [--read 2.0]

Each trial starts from a stopped chart worker (what MONEV_CHART_IDLE_SECONDS leaves after a
quiet spell), asks "serapan anggaran koperasi tw3" through the real Application (offline Bot
API), waits ``--read`` seconds (the person reads the answer), then taps the answer's chart
button and times that update until the photo is sent. ``cold``: no warm-up (the worker starts
on the tap, as before issue 27); ``warm``: the answer started it in the background
(MONEV_CHART_WARMUP); ``running``: a second chart right after, the worker already running.
Target (issue 27): warm within the running range (0,2–0,5 s here), cold was 1,4–1,7 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.bench_questions import FIRST_USER_ID, seeded_engine
from bot.console import open_offline
from bot.offline.updates import make_callback_update, make_message_update
from bot.settings import Settings
from charts.pool import RenderPool

QUESTION = "serapan anggaran koperasi tw3"
CHART = "📊 Lihat grafik"


async def _trial(app, api, user: int, *, warm_up: bool, read_s: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(first chart after a quiet spell, a second chart right after), in seconds."""
    pool: RenderPool = app.bot_data["render_pool"]
    await pool.aclose()  # the quiet spell: the idle stop left no worker
    pool.warm_up = warm_up
    await app.process_update(make_message_update(app.bot, QUESTION, user_id=user))
    [data] = [d for row in api.buttons(api.last(user)) for label, d in row if label == CHART]
    await asyncio.sleep(read_s)
    times = []
    for _ in range(2):
        photos = len(api.calls_of("sendPhoto"))
        t0 = time.perf_counter()
        await app.process_update(make_callback_update(app.bot, data, user_id=user))
        times.append(time.perf_counter() - t0)
        assert len(api.calls_of("sendPhoto")) == photos + 1, "no chart was sent"
    return times[0], times[1]


async def run(n: int = 5, read_s: float = 2.0) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"cold": [], "warm": [], "running": []}
    with tempfile.TemporaryDirectory() as d:
        engine = seeded_engine(Path(d), users=2 * n + 2)
        settings = Settings(  # type: ignore[call-arg]
            TELEGRAM_BOT_TOKEN="123456:TEST", DATABASE_URL="", MONEV_CHART_IDLE_SECONDS=600
        )
        app, api = await open_offline(settings, engine)
        if app.job_queue is not None:
            app.job_queue.scheduler.pause()
        try:
            user = FIRST_USER_ID
            # one throw-away trial: database caches and the fonts' first use
            await _trial(app, api, user, warm_up=True, read_s=read_s)
            for _ in range(n):
                for mode in ("cold", "warm"):  # interleaved: both see the same machine load
                    user += 1
                    first, second = await _trial(
                        app, api, user, warm_up=mode == "warm", read_s=read_s
                    )
                    out[mode].append(first)
                    out["running"].append(second)
        finally:
            await app.stop()
            await app.shutdown()
        engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--read", type=float, default=2.0, help="seconds between answer and tap")
    args = ap.parse_args()
    for mode, samples in asyncio.run(run(args.n, args.read)).items():
        ms = sorted(s * 1000 for s in samples)
        print(
            f"{mode}: median {statistics.median(ms):.0f} ms, "
            f"min {ms[0]:.0f} ms, max {ms[-1]:.0f} ms (n={len(ms)})"
        )


if __name__ == "__main__":
    main()
