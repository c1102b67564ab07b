"""One bot serving a kabupaten: 40 offices × 10 years against the one demo office.

Each configuration runs in a fresh child process (so resident memory is comparable): the
database is built (the demo office, or issue 15's generator for 40 offices × 10 years), the
real bot answers through the local fake Bot API, and the child reports

- idle memory: resident set after start-up and a round of every question (caches warm);
- question latency against a plain PTB echo bot measured in the same child, as in
  ``bench_questions`` (target: median ≤ 3× echo, as for one office);
- the pemantau's ranking of every office ("OPD mana yang serapannya paling rendah tw3"):
  the first one after start-up and the following (cached) ones.

Run: .venv/bin/python -m benchmarks.bench_kabupaten [--n 100]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from benchmarks.bench_charts import rss_mib
from benchmarks.bench_questions import FIRST_USER_ID, QUESTIONS, monev_factory, seeded_engine
from benchmarks.generate import many_offices
from benchmarks.latency import compare
from bot.offline.http import FakeBotAPI
from bot.settings import Settings

RANKING = "OPD mana yang serapannya paling rendah tw3 2022"
PEMANTAU_ID = 690_000
CONFIGS = {"satu": "1 kantor (data contoh)", "kabupaten": "40 kantor × 10 tahun"}


def _prepare(folder: Path, config: str, users: int):  # type: ignore[no-untyped-def]
    engine = seeded_engine(folder, users=users)
    if config == "kabupaten":
        many_offices(engine)
        with engine.begin() as c:
            # every benchmark user is a kepala of the demo office; one pemantau reads all
            c.execute(text("UPDATE app_user SET opd_id = 1"))
            c.execute(
                text(
                    "INSERT INTO app_user (telegram_id, nama, nip, role, status, created_at, "
                    "request_version) VALUES (:t, 'Pemantau', '', 'pemantau', 'aktif', "
                    "CURRENT_TIMESTAMP, 0)"
                ),
                {"t": PEMANTAU_ID},
            )
    return engine


async def _child(config: str, n: int) -> dict[str, float]:
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as d:
        engine = _prepare(Path(d), config, users=4 * (n + 10) + 50)
        settings = Settings(TELEGRAM_BOT_TOKEN="123456:TEST", DATABASE_URL="")
        cmp = await compare(monev_factory(engine, settings), QUESTIONS, n=n)
        out["echo_median_ms"] = cmp.baseline.median
        out["median_ms"] = cmp.candidate.median
        out["p95_ms"] = cmp.candidate.p95
        out["median_ratio"] = cmp.median_ratio
        out["p95_ratio"] = cmp.p95_ratio
        async with FakeBotAPI() as fake:
            app = monev_factory(engine, settings)(fake.base_url)
            await app.initialize()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=10)
            await app.start()
            try:
                uid = FIRST_USER_ID + 3 * n + 20
                for q in QUESTIONS:  # a round of every question: caches warm
                    await fake.wait_reply(fake.push_text(uid, q), timeout=30)
                    uid += 1
                if config == "kabupaten":
                    t0 = time.perf_counter()
                    await fake.wait_reply(fake.push_text(PEMANTAU_ID, RANKING), timeout=120)
                    out["ranking_first_ms"] = (time.perf_counter() - t0) * 1000
                    rounds = []
                    for _ in range(5):
                        t0 = time.perf_counter()
                        await fake.wait_reply(fake.push_text(PEMANTAU_ID, RANKING), timeout=60)
                        rounds.append((time.perf_counter() - t0) * 1000)
                    out["ranking_ms"] = statistics.median(rounds)
                    # the office's own questions again, after the ranking went through 40 offices
                    for q in QUESTIONS:
                        await fake.wait_reply(fake.push_text(uid, q), timeout=30)
                        uid += 1
                await asyncio.sleep(1.0)  # idle
                gc.collect()
                out["rss_idle_mib"] = rss_mib()
            finally:
                await app.updater.stop()
                await app.stop()
                await app.shutdown()
        engine.dispose()
    return out


def run(n: int = 100) -> dict[str, dict[str, float]]:
    """Both configurations, each in its own process."""
    results: dict[str, dict[str, float]] = {}
    for config in CONFIGS:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_kabupaten", "--child", config, "--n", str(n)],
            check=True,
            capture_output=True,
            text=True,
        )
        results[config] = json.loads(proc.stdout.strip().splitlines()[-1])
    return results


def rows(results: dict[str, dict[str, float]]) -> list[tuple[str, str, str, str]]:
    one, kab = results["satu"], results["kabupaten"]
    growth = (kab["rss_idle_mib"] / one["rss_idle_mib"] - 1) * 100
    out = [
        (
            "Memori diam, 40 kantor × 10 tahun vs 1 kantor",
            f"{kab['rss_idle_mib']:.0f} / {one['rss_idle_mib']:.0f} MiB ({growth:+.1f}%)",
            "≤ +10%",
            "✅" if growth <= 10 else "❌",
        )
    ]
    for key, label in CONFIGS.items():
        r = results[key]
        out.append(
            (
                f"Balasan pertanyaan kantor vs bot gema, {label}",
                f"median {r['median_ratio']:.2f}× ({r['median_ms']:.1f} ms) · "
                f"p95 {r['p95_ratio']:.2f}×",
                "3× · 5×",
                "✅" if r["median_ratio"] <= 3 and r["p95_ratio"] <= 5 else "❌",
            )
        )
    out.append(
        (
            "Peringkat serapan 40 OPD (pemantau): pertama setelah mulai / berikutnya",
            f"{kab['ranking_first_ms']:.0f} / {kab['ranking_ms']:.0f} ms",
            "",
            "",
        )
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=sorted(CONFIGS))
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_child(args.child, args.n))))
        return
    for row in rows(run(args.n)):
        print(" | ".join(row))


if __name__ == "__main__":
    main()
