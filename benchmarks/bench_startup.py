"""``monev run`` as shipped against a PTB echo bot run the same way: start to first answer
and resident memory once idle, interleaved (echo, bot, echo, bot…), over the local fake HTTP
Bot API. The process is started, a question is queued at once, and the clock stops when the
reply arrives; RSS is the bot process (and any child, e.g. a chart worker) one second later.

Run: .venv/bin/python -m benchmarks.bench_startup [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_questions import QUESTIONS
from benchmarks.latency import spread
from bot.offline.http import FakeBotAPI

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef012345"
KEPALA = 4242

_ECHO = """
from benchmarks.latency import echo_app_factory
import os
echo_app_factory(os.environ["TELEGRAM_API_BASE_URL"]).run_polling(poll_interval=0)
"""


def _env(fake: FakeBotAPI, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK", "DATABASE_URL"))}
    # As installed: pip compiles the package's bytecode, and a checkout writes __pycache__ on
    # its first start (the warm-up). A shell that forbids it would time the compiler instead.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=fake.base_url,
        TELEGRAM_API_BASE_FILE_URL=fake.base_file_url,
        PYTHONPATH=str(ROOT),
        MONEV_DATA_DIR=str(data_dir),
        MONEV_LOG_LEVEL="WARNING",
    )
    return env


def rss_mib(pid: int) -> float:
    """RSS of ``pid`` and its children, in MiB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


async def _once(cmd: list[str], env: dict[str, str], fake: FakeBotAPI) -> tuple[float, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        update_id = fake.push_text(KEPALA, QUESTIONS[0])
        await fake.wait_reply(update_id, timeout=120)
        first = (time.perf_counter() - t0) * 1000
        await asyncio.sleep(1.0)
        return first, rss_mib(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


async def _run(rounds: int) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {"echo": [], "monev": []}
    with tempfile.TemporaryDirectory() as d:
        data = Path(d)
        async with FakeBotAPI() as fake:
            env = _env(fake, data)
            cli = [sys.executable, "-m", "bot.cli.main"]
            subprocess.run([*cli, "summary"], env=env, cwd=ROOT, check=True, capture_output=True)
            subprocess.run(
                [*cli, "user", "add", "--telegram-id", str(KEPALA), "--role", "kepala"],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            await _once([*cli, "run"], env, fake)  # warm-up: the OS file cache, the bytecode
            await _once([sys.executable, "-c", _ECHO], env, fake)
            for _ in range(rounds):
                out["echo"].append(await _once([sys.executable, "-c", _ECHO], env, fake))
                out["monev"].append(await _once([*cli, "run"], env, fake))
    return out


def run(rounds: int = 3) -> dict[str, list[tuple[float, float]]]:
    return asyncio.run(_run(rounds))


def rows(r: dict[str, list[tuple[float, float]]]) -> list[tuple[str, str, str, str]]:
    echo_t = [t / 1000 for t, _ in r["echo"]]
    bot_t = [t / 1000 for t, _ in r["monev"]]
    echo_m = [m for _, m in r["echo"]]
    bot_m = [m for _, m in r["monev"]]
    return [
        (
            f"`monev run`: mulai sampai jawaban pertama, 1× ({len(bot_t)} putaran)",
            f"{spread(bot_t, '', '.2f')} s (bot gema {spread(echo_t, '', '.2f')} s)",
            "≤ 1,0 s",
            "✅" if statistics.median(bot_t) <= 1.0 else "❌",
        ),
        (
            "`monev run`: memori proses bot saat diam (setelah satu jawaban)",
            f"{spread(bot_m, '', '.0f')} MiB (bot gema {spread(echo_m, '', '.0f')} MiB)",
            "≤ 100 MiB",
            "✅" if statistics.median(bot_m) <= 100 else "❌",
        ),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    for row in rows(run(args.rounds)):
        print(" | ".join(row))


if __name__ == "__main__":
    main()
