"""Every benchmark of the project in one run, written as a Markdown table.

Run: .venv/bin/python -m benchmarks [--quick] [--pg postgresql://postgres@127.0.0.1:5432/test]
       [-o benchmarks/RESULTS.md]

All traffic stays on the loopback interface: the bots poll a local fake HTTP Bot API.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks import (
    bench_bukti,
    bench_charts,
    bench_early_warning,
    bench_import,
    bench_kabupaten,
    bench_lapor,
    bench_questions,
    bench_reminders,
    bench_rounds,
    bench_sizes,
    bench_startup,
    bench_webapp,
)
from benchmarks.bench_questions import FIRST_USER_ID, QUESTIONS, monev_factory, seeded_engine
from benchmarks.latency import Stats, echo_app_factory, measure
from bot.offline.http import FakeBotAPI
from bot.settings import Settings

CHART_QUESTION = "grafik serapan tw3 2022"


def _row(
    rows: list[tuple[str, str, str, str]], what: str, figure: str, target: str, ok: bool | None
) -> None:
    verdict = "" if ok is None else ("✅" if ok else "❌")
    rows.append((what, figure, target, verdict))


def parse_timings() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as d:
        engine = seeded_engine(Path(d), users=1)
        out = bench_questions.parse_ms(engine)
        engine.dispose()
    return out


async def _serve(engine, fake: FakeBotAPI):  # type: ignore[no-untyped-def]
    settings = Settings(TELEGRAM_BOT_TOKEN="123456:TEST", DATABASE_URL="")
    app = monev_factory(engine, settings)(fake.base_url)
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=10)
    await app.start()
    return app


async def _stop(app) -> None:  # type: ignore[no-untyped-def]
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def load_tests(burst: int, together: int, mixed: int) -> dict[str, float]:
    """The burst of users at once, a question beside a chart, and memory after mixed traffic."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as d:
        users = burst + 2 * together + mixed + 50
        engine = seeded_engine(Path(d), users=users)
        async with FakeBotAPI() as fake:
            # the floor: a plain PTB echo bot, sequential and under the same burst
            echo = await measure(echo_app_factory, QUESTIONS, n=100, fake=fake)
            out["echo_median_ms"] = echo.median
            echo_app = echo_app_factory(fake.base_url)
            await echo_app.initialize()
            assert echo_app.updater is not None
            await echo_app.updater.start_polling(poll_interval=0, timeout=10)
            await echo_app.start()
            try:
                ids = [fake.push_text(900_000 + i, QUESTIONS[i % 7]) for i in range(burst)]
                lat = await asyncio.gather(*(fake.wait_reply(i, timeout=60) for i in ids))
                out["echo_burst_median_ms"] = statistics.median(x * 1000 for x in lat)
            finally:
                await _stop(echo_app)
            app = await _serve(engine, fake)
            try:
                uid = FIRST_USER_ID
                # warm-up (fonts, caches)
                for q in (*QUESTIONS, CHART_QUESTION):
                    await fake.wait_reply(fake.push_text(uid, q), timeout=30)
                    uid += 1
                # a burst: every user asks at the same moment
                ids = []
                for i in range(burst):
                    ids.append(fake.push_text(uid, QUESTIONS[i % len(QUESTIONS)]))
                    uid += 1
                lat = await asyncio.gather(*(fake.wait_reply(i, timeout=60) for i in ids))
                burst_stats = Stats.from_ms([x * 1000 for x in lat], 0)
                out["burst_answered"] = burst_stats.n
                out["burst_p50_ms"] = burst_stats.median
                out["burst_p95_ms"] = burst_stats.p95
                # questions alone, then each beside a chart requested at the same moment
                alone = []
                for i in range(together):
                    alone.append(
                        await fake.wait_reply(fake.push_text(uid, QUESTIONS[i % 7])) * 1000
                    )
                    uid += 1
                # the same, beside another question: what any second request at once costs
                paired = []
                for i in range(together):
                    fake.push_text(uid, QUESTIONS[(i + 3) % 7])
                    q_id = fake.push_text(uid + 1, QUESTIONS[i % 7])
                    paired.append(await fake.wait_reply(q_id, timeout=30) * 1000)
                    await asyncio.sleep(0.05)
                    uid += 2
                beside = []
                for i in range(together):
                    fake.push_text(uid, CHART_QUESTION)
                    q_id = fake.push_text(uid + 1, QUESTIONS[i % 7])
                    beside.append(await fake.wait_reply(q_id, timeout=30) * 1000)
                    await asyncio.sleep(0.3)  # let the chart finish before the next pair
                    uid += 2
                alone_stats = Stats.from_ms(alone, 0)
                out["question_alone_p95_ms"] = alone_stats.p95
                out["question_beside_question_p95_ms"] = Stats.from_ms(paired, 0).p95
                out["question_beside_chart_median_ms"] = statistics.median(beside)
                # memory after mixed traffic (one chart in ten)
                rng = random.Random(7)
                for i in range(mixed):
                    text = CHART_QUESTION if i % 10 == 0 else rng.choice(QUESTIONS)
                    await fake.wait_reply(fake.push_text(uid, text), timeout=30)
                    uid += 1
                    if i == 99:
                        out["rss_after_100_mixed_mib"] = bench_charts.rss_mib(
                            bench_charts.worker_pids(app)
                        )
                out[f"rss_after_{mixed}_mixed_mib"] = bench_charts.rss_mib(
                    bench_charts.worker_pids(app)
                )
            finally:
                await _stop(app)
        engine.dispose()
    return out


def run(quick: bool, pg: str | None) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []

    imp = bench_import.run(3 if quick else 7, pg)
    _row(
        rows,
        "Impor data contoh (3 laporan), SQLite",
        f"{imp['import_sqlite_median_s']:.2f} s",
        "< 2 s",
        imp["import_sqlite_median_s"] < 2,
    )
    if "import_pg_median_s" in imp:
        _row(
            rows,
            "Impor data contoh, PostgreSQL",
            f"{imp['import_pg_median_s']:.2f} s",
            "< 2 s",
            imp["import_pg_median_s"] < 2,
        )

    # Echo and bot interleaved round by round (ABAB…): per-round ratios, median [min-max].
    rows.extend(bench_rounds.rows(bench_rounds.run(pg, rounds=5, n=10 if quick else 20)))
    rows.extend(bench_startup.rows(bench_startup.run(rounds=3 if quick else 5)))
    # The size axis: 1×, 10×, 100× the demo office-year and 40 offices × 10 years.
    rows.extend(bench_sizes.rows(bench_sizes.run(pg, rounds=5 if quick else 7)))
    # one bot for a kabupaten: 40 offices x 10 years against one office, each in its own process
    rows.extend(bench_kabupaten.rows(bench_kabupaten.run(30 if quick else 100)))

    pq = parse_timings()
    _row(
        rows,
        "Pengurai pertanyaan saja (median per pertanyaan)",
        f"{pq['parse_question_median_ms']:.2f} ms",
        "< 2 ms",
        pq["parse_question_median_ms"] < 2,
    )
    _row(
        rows,
        "Pengurai pada teks acak 4000 karakter (median)",
        f"{pq['parse_4000_chars_median_ms']:.1f} ms",
        "< 50 ms",
        pq["parse_4000_chars_median_ms"] < 50,
    )

    # Evidence: an album of ten photos until the bot confirms all ten (issue 16).
    rows.extend(
        bench_bukti.rows(bench_bukti.run(pg, rounds=3 if quick else 5, n=3 if quick else 5))
    )

    # /lapor steps: echo and bot interleaved round by round, like the questions.
    rows.extend(bench_lapor.rows(bench_lapor.run(pg, rounds=5, users=4 if quick else 8)))
    rows.extend(
        bench_webapp.rows(bench_webapp.run(pg, rounds=3 if quick else 5, n=5 if quick else 10))
    )

    ch = asyncio.run(bench_charts.run(15 if quick else 30, 100 if quick else 500))
    _row(
        rows,
        "Balasan grafik vs menggambar saja",
        f"{ch['reply_median_ms']:.0f} / {ch['bare_median_ms']:.0f} ms = {ch['ratio']:.2f}×",
        "≤ 1,5×",
        ch["ratio"] <= 1.5,
    )
    for key in sorted(k for k in ch if k.startswith("render_")):
        kind = key.removeprefix("render_").removesuffix("_median_ms")
        _row(
            rows,
            f"Menggambar grafik {kind} (median)",
            f"{ch[key]:.0f} ms",
            "< 300 ms",
            ch[key] < 300,
        )
    mem_key = next(k for k in ch if k.startswith("rss_after_") and k != "rss_after_10_mib")
    _row(
        rows,
        f"Memori setelah {mem_key.split('_')[2]} grafik vs setelah 10",
        f"{ch[mem_key]:.0f} / {ch['rss_after_10_mib']:.0f} MiB ({ch['rss_growth_pct']:+.1f}%)",
        "≤ +10%",
        ch["rss_growth_pct"] <= 10,
    )

    # Early warning: the back-test of the projection per bidang, and one answer's cost.
    rows.extend(bench_early_warning.rows(bench_early_warning.run(20 if quick else 50)))

    rem = bench_reminders.run(300 if quick else 1000)
    _row(
        rows,
        f"Pengingat ke {rem['recipients']} penerima (fake 30/detik)",
        f"{rem['messages_per_s']} pesan/detik, {rem['http_429']}× 429",
        "≥ 25/detik, 0× 429",
        rem["messages_per_s"] >= 25 and rem["http_429"] == 0,
    )

    lt = asyncio.run(load_tests(100, 10 if quick else 20, 300 if quick else 1000))
    ratio = lt["burst_p95_ms"] / lt["echo_burst_median_ms"]
    _row(
        rows,
        f"Serbuan {int(lt['burst_answered'])} pengguna sekaligus: p50 / p95",
        f"{lt['burst_p50_ms']:.0f} / {lt['burst_p95_ms']:.0f} ms; p95 = {ratio:.1f}× median bot "
        f"gema pada serbuan yang sama ({lt['echo_burst_median_ms']:.0f} ms; "
        f"median gema satu per satu {lt['echo_median_ms']:.2f} ms)",
        "semua terjawab; p95 ≤ 10×",
        lt["burst_answered"] == 100 and ratio <= 10,
    )
    _row(
        rows,
        "Pertanyaan yang tiba bersama permintaan grafik (median) vs p95 pertanyaan yang tiba "
        "bersama pertanyaan lain",
        f"{lt['question_beside_chart_median_ms']:.1f} / "
        f"{lt['question_beside_question_p95_ms']:.1f} ms "
        f"(p95 pertanyaan seorang diri: {lt['question_alone_p95_ms']:.1f} ms)",
        "≤ p95 tanpa grafik",
        lt["question_beside_chart_median_ms"] <= lt["question_beside_question_p95_ms"],
    )
    mixed_key = next(k for k in lt if k.endswith("_mixed_mib") and "100_" not in k)
    _row(
        rows,
        f"Memori setelah {mixed_key.split('_')[2]} permintaan campuran",
        f"{lt[mixed_key]:.0f} MiB (setelah 100: {lt['rss_after_100_mixed_mib']:.0f} MiB)",
        "",
        None,
    )
    return rows


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def markdown(rows: list[tuple[str, str, str, str]], command: str, load_start: str) -> str:
    now = datetime.now(ZoneInfo("Asia/Jakarta"))
    head = [
        "# Hasil tolok ukur monev-bot",
        "",
        f"- Perintah: `{command}`",
        f"- Tanggal: {now:%Y-%m-%d %H:%M} WIB",
        f"- Mesin: {platform.machine()}, {os.cpu_count()} inti, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}",
        "- Semua lalu lintas lewat loopback ke fake Bot API HTTP lokal (`bot/offline/http.py`).",
        f"- Beban mesin (load average 1/5/15 menit) di awal: {load_start}; di akhir: "
        f"{_load()}. Mesin dipakai bersama: karena itu bot gema dan bot diukur bergantian "
        "per putaran, dan setiap angka diberi sebaran [min–maks].",
        '- Angka "a [b–c]": median atas putaran, [minimum–maksimum].',
        "",
        "| ukuran | hasil | target | |",
        "|---|---|---|---|",
    ]
    return "\n".join(head + [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller counts, for a smoke run")
    ap.add_argument("--pg", help="PostgreSQL URL to include PostgreSQL figures")
    ap.add_argument("-o", "--output", default="benchmarks/RESULTS.md")
    args = ap.parse_args()
    command = (
        "python -m benchmarks"
        + (" --quick" if args.quick else "")
        + (f" --pg {args.pg}" if args.pg else "")
    )
    load_start = _load()
    text = markdown(run(args.quick, args.pg), command, load_start)
    Path(args.output).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
