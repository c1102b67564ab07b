"""The chart-drawing process: draws, reports 'no data', and comes back after a crash."""

from __future__ import annotations

import asyncio
import os
import signal
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy.engine import Engine

from charts import render
from charts.answers import ChartPlan
from charts.pool import RenderPool

META = render.ChartMeta("Serapan anggaran per bidang", "TW III 2022 · uji")
PLAN = ChartPlan(
    "serapan_per_bidang",
    ([render.Bar("Sekretariat", 64.7), render.Bar("UMKM", 14.2)], 60.0, META),
    "caption",
    "x.png",
)


async def test_draws_in_another_process_and_survives_a_crash() -> None:
    pool = RenderPool()
    try:
        png = await pool.draw(PLAN)
        assert Image.open(BytesIO(png)).width >= 1000
        [pid] = pool.worker_pids()
        assert pid != os.getpid()
        with pytest.raises(render.NoData, match="Belum ada data"):
            await pool.draw(ChartPlan("serapan_per_bidang", ([], 60.0, META), "", "y.png"))
        os.kill(pid, signal.SIGKILL)
        png2 = await pool.draw(PLAN)  # a new worker takes over
        assert png2[:8] == b"\x89PNG\r\n\x1a\n"
        assert pool.worker_pids() and pool.worker_pids()[0] != pid
    finally:
        await pool.aclose()
    assert pool.worker_pids() == []


# --- warm-up on activity (issue 27) ------------------------------------------------------------


async def _stopped_when_idle(pool: RenderPool) -> None:
    for _ in range(100):
        if not pool.worker_pids():
            break
        await asyncio.sleep(0.05)
    assert pool.worker_pids() == []
    if pool.stopping is not None:
        await pool.stopping


async def test_warm_starts_in_the_background_and_stops_when_idle() -> None:
    pool = RenderPool(idle_seconds=0.5)
    try:
        pool.warm()  # returns at once: nothing waited for the worker
        warming = pool.warming
        assert warming is not None and pool.worker_pids() == []
        pool.warm()  # a second question meanwhile starts no second worker
        assert pool.warming is warming
        await warming
        [pid] = pool.worker_pids()
        png = await pool.draw(PLAN)  # the chart is drawn by the worker already there
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and pool.worker_pids() == [pid]
        await _stopped_when_idle(pool)  # 0.5 s after the chart
        # started but never used: stopped when idle too
        pool.warm()
        assert pool.warming is not None
        await pool.warming
        assert pool.worker_pids()
        await _stopped_when_idle(pool)
    finally:
        await pool.aclose()


async def test_warm_is_off_when_configured_and_close_cancels_it() -> None:
    off = RenderPool(warm_up=False)
    off.warm()
    assert off.warming is None and off.worker_pids() == []
    pool = RenderPool()
    pool.warm()
    await pool.aclose()  # the bot stopping while the worker starts: nothing left behind
    assert pool.worker_pids() == [] and pool.warming is None


async def test_a_question_offering_a_chart_starts_the_worker(seeded: Engine) -> None:
    """Through the real Application: the answer is sent first, the worker starts behind it,
    and the chart button is answered by that worker (no second start)."""
    from bot.console import open_offline
    from bot.settings import Settings
    from tests.bot_harness import ADMIN, KEPALA, Bot, add_users

    add_users(seeded)
    settings = Settings(  # type: ignore[call-arg]
        MONEV_ADMIN_IDS=str(ADMIN),
        DATABASE_URL="",
        TELEGRAM_BOT_TOKEN="",
        MONEV_CHART_WARMUP=True,
        MONEV_CHART_IDLE_SECONDS=30,
    )
    app, api = await open_offline(settings, seeded)
    bot = Bot(app, api, seeded)
    pool: RenderPool = app.bot_data["render_pool"]
    try:
        assert pool.worker_pids() == []
        out = await bot.say(KEPALA, "serapan anggaran koperasi tw3")
        assert "Serapan anggaran" in out
        assert pool.warming is not None  # started after the answer went out
        await pool.warming
        [pid] = pool.worker_pids()
        chart = dict(bot.buttons(KEPALA))["📊 Lihat grafik"]
        await bot.press(KEPALA, chart)
        assert api.calls_of("sendPhoto") and pool.worker_pids() == [pid]
        # a greeting offers no chart: nothing started for it
        await pool.aclose()
        await bot.say(KEPALA, "terima kasih")
        assert pool.warming is None and pool.worker_pids() == []
    finally:
        await app.stop()
        await app.shutdown()
