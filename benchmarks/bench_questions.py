"""Reply latency of a question against a minimal PTB echo bot, both polling the same local
fake HTTP Bot API in the same run.

Run: .venv/bin/python -m benchmarks.bench_questions [-n 200]
Targets (issue #3): median within 3x the echo bot's median, p95 within 5x; the parser alone
under 2 ms a question on the real catalogue, and under 50 ms on a pasted 4000-character text.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from benchmarks.latency import Comparison, compare, file_url_for
from bot.app import build_application, prepare
from bot.settings import Settings
from storage.data import db
from storage.data.models import AppUser, Role, UserStatus
from storage.domain.question_parser import parse_question
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file
from storage.services.ask import build_catalog

QUESTIONS = [
    "serapan anggaran Q2 koperasi",
    "realisasi fisik tw 3 perdagangan",
    "bidang mana serapannya paling rendah?",
    "siapa yang belum lapor triwulan 3?",
    "hambatan umkm",
    "serapan dinas tw1 2022",
    "program apa saja di perindustrian?",
    "realisasi anggaran perdagangan sampai juni",
    "naik berapa serapan koperasi dari tw1 ke tw2",
    "sisa anggaran umkm tw3",
    "apakah serapan perdagangan sudah memenuhi target nasional",
]
FIRST_USER_ID = 700_000  # benchmarks.latency hands out user ids from here


def seeded_engine(folder: Path, users: int):  # type: ignore[no-untyped-def]
    """A demo database where every user id the harness will use is a kepala."""
    engine = db.make_engine(f"sqlite:///{folder / 'bench.db'}")
    db.upgrade(engine)
    import_file(engine, SEED_FILE, actor="bench")
    rows = [
        {
            "telegram_id": FIRST_USER_ID + i,
            "nama": f"Bench {i}",
            "nip": "",
            "role": Role.KEPALA.value,
            "status": UserStatus.ACTIVE.value,
        }
        for i in range(users)
    ]
    with db.session_scope(engine) as s:
        s.exec(insert(AppUser), params=rows)  # type: ignore[call-overload]
    return engine


def parse_ms(engine, runs: int = 20) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The parser alone on the demo office's catalogue, in milliseconds: the median over runs
    of the mean per question of QUESTIONS, and the median for one 4000-character random text.
    Each run starts from a fresh catalogue, whose per-word cache is empty (a catalogue lives
    for one office-year, so a question often meets words it has not seen)."""
    catalogs = []
    with db.read_scope(engine) as s:
        for _ in range(runs):
            catalogs.append(build_catalog(s, 1, 2022))
    per_question = []
    for catalog in catalogs:
        parse_question("warm up", catalog)
        t0 = time.perf_counter()
        for q in QUESTIONS:
            parse_question(q, catalog)
        per_question.append((time.perf_counter() - t0) * 1000 / len(QUESTIONS))
    rng = random.Random(99)
    long_text = []
    for catalog in catalogs[:5]:
        text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 .,") for _ in range(4000))
        t0 = time.perf_counter()
        parse_question(text, catalog)
        long_text.append((time.perf_counter() - t0) * 1000)
    return {
        "parse_question_median_ms": statistics.median(per_question),
        "parse_4000_chars_median_ms": statistics.median(long_text),
    }


def monev_factory(engine, settings: Settings):  # type: ignore[no-untyped-def]
    def factory(base_url: str):  # type: ignore[no-untyped-def]
        s = settings.model_copy(
            update={
                "telegram_api_base_url": base_url,
                "telegram_api_base_file_url": file_url_for(base_url),
            }
        )
        app = build_application(s, engine, rate_limiter=False)
        prepare(app)
        return app

    return factory


async def run(n: int = 200, concurrency: int = 1) -> Comparison:
    with tempfile.TemporaryDirectory() as d:
        engine = seeded_engine(Path(d), users=4 * (n + 10) * concurrency)
        settings = Settings(TELEGRAM_BOT_TOKEN="123456:TEST", DATABASE_URL="")
        result = await compare(
            monev_factory(engine, settings),
            QUESTIONS,
            n=n,
            concurrency=concurrency,
            distinct_users=True,
        )
        engine.dispose()
        return result


def report(c: Comparison, label: str = "question") -> list[str]:
    b, q = c.baseline, c.candidate
    return [
        f"echo     median {b.median:.2f} ms  p95 {b.p95:.2f} ms  (n={b.n})",
        f"{label:<8} median {q.median:.2f} ms  p95 {q.p95:.2f} ms  "
        f"(n={q.n}, timeouts={q.timeouts})",
        f"ratio    median {c.median_ratio:.2f}x  p95 {c.p95_ratio:.2f}x",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=200)
    args = ap.parse_args()
    print("\n".join(report(asyncio.run(run(args.n)))))


if __name__ == "__main__":
    main()
