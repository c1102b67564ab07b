"""The chart-drawing process: draws, reports 'no data', and comes back after a crash."""

from __future__ import annotations

import os
import signal
from io import BytesIO

import pytest
from PIL import Image

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
