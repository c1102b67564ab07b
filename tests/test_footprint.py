"""The bot process stays small: ``monev run`` as shipped answers questions and charts without
loading matplotlib, numpy, pandas, openpyxl or xlsxwriter itself; the chart worker starts on
the first chart and stops when idle."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

from bot.cli.main import main
from bot.offline.http import FakeBotAPI
from charts.pool import RenderPool
from tests.test_chart_pool import PLAN
from tests.test_run_process import KEPALA, _ask, _env, _until

# Alembic too: a database already at the newest migration is not migrated at start-up.
HEAVY = ("matplotlib", "numpy", "pandas", "openpyxl", "xlsxwriter", "alembic")

# `monev run`, plus a SIGUSR1 handler that prints which heavy libraries the process holds.
_RUN = f"""
import signal, sys
from bot.cli.main import main

def report(*_):
    held = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
    print("HEAVY", ",".join(held), flush=True)

signal.signal(signal.SIGUSR1, report)
sys.exit(main(["run"]))
"""


async def _heavy_modules(proc: subprocess.Popen[bytes]) -> str:
    assert proc.stdout is not None
    proc.send_signal(signal.SIGUSR1)
    line = await asyncio.to_thread(proc.stdout.readline)
    assert line.startswith(b"HEAVY"), line
    return line.decode().removeprefix("HEAVY").strip()


async def test_monev_run_keeps_chart_and_sheet_libraries_out_of_the_bot_process(
    workdir: Path,
) -> None:
    assert main(["summary"]) == 0  # demo data
    assert main(["user", "add", "--telegram-id", str(KEPALA), "--role", "kepala"]) == 0
    async with FakeBotAPI() as fake:
        proc = subprocess.Popen(
            [sys.executable, "-c", _RUN],
            cwd=workdir,
            env=_env(fake),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            await _until(
                lambda: (
                    proc.poll() is not None
                    or any(c.method == "setMyCommands" for c in fake.api.calls)
                )
            )
            assert proc.poll() is None
            assert await _heavy_modules(proc) == ""  # after start-up
            out = await _ask(fake, KEPALA, "serapan anggaran Q2 koperasi")
            assert "40,92%" in out
            update_id = fake.push_text(KEPALA, "grafik serapan per bidang TW 3 2022")
            await fake.wait_reply(update_id, timeout=120)
            assert any(c.method == "sendPhoto" for c in fake.api.sent(KEPALA))
            assert await _heavy_modules(proc) == ""  # the chart was drawn by the worker
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


async def test_the_chart_worker_starts_on_the_first_chart_and_stops_when_idle() -> None:
    pool = RenderPool(idle_seconds=0.2)
    try:
        assert pool.worker_pids() == []  # nothing started ahead of a chart
        await pool.draw(PLAN)
        [first] = pool.worker_pids()
        await _until(lambda: pool.worker_pids() == [])  # idle: stopped
        await pool.draw(PLAN)  # and started again when asked
        assert pool.worker_pids() and pool.worker_pids()[0] != first
    finally:
        await pool.aclose()
