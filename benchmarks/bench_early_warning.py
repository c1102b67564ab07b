"""Early warning: back-test of the year-end projection and the cost of an answer.

Back-test: on the 2022 demo data (no office plan, so the national path 15/40/60/90% stands
in), each bidang's TW III realisation is projected from its TW II figures (the sum of its
programs' projections) and set beside what the TW III report says; the error is shown in
rupiah and in percentage points of the bidang's pagu. Timing: the must-show question
"program mana yang berisiko tidak terserap tw2" answered from a warm figure cache.

Run: .venv/bin/python -m benchmarks.bench_early_warning [--rounds 50]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from storage.data import db
from storage.domain.numbers import format_percent, format_rupiah
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file
from storage.services.ask import answer
from storage.services.cache import FigureCache
from storage.services.early_warning import backtest

QUESTION = "program mana yang berisiko tidak terserap tw2"


def run(rounds: int = 50) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as d:
        engine = db.make_engine(f"sqlite:///{Path(d) / 'monev.db'}")
        db.upgrade(engine)
        import_file(engine, SEED_FILE, actor="bench")
        with db.read_scope(engine) as s:
            rows = backtest(s, 1, 2022, at=2, to=3)
        cache = FigureCache()
        times: list[float] = []
        for _ in range(rounds + 1):
            started = time.perf_counter()
            with cache.read(engine) as s:
                answer(s, 1, QUESTION)
            times.append((time.perf_counter() - started) * 1000)
        engine.dispose()
    return {"backtest": rows, "answer_ms": times[1:]}  # the first fills the cache


def _signed(points: float | None) -> str:
    value = points or 0.0
    return ("+" if value > 0 else "−" if value < 0 else "") + format_percent(abs(value)).rstrip("%")


def rows(r: dict[str, object]) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []
    errors: list[float] = []
    for b in r["backtest"]:  # type: ignore[attr-defined]
        if b.error is None:
            figure = f"proyeksi {format_rupiah(b.projected)}; realisasi TW III belum lengkap"
        else:
            errors.append(abs(b.error_points or 0.0))
            figure = (
                f"proyeksi {format_rupiah(b.projected)}, realisasi {format_rupiah(b.actual)}, "
                f"galat {'+' if b.error > 0 else '−'}{format_rupiah(abs(b.error))} "
                f"({_signed(b.error_points)} poin pagu)"
            )
        out.append((f"Back-test proyeksi TW III dari TW II (pola nasional), {b.bidang}", figure,
                    "", ""))  # fmt: skip
    if errors:
        mean = statistics.mean(errors)
        out.append(
            (
                "Back-test: rata-rata galat mutlak per bidang",
                f"{format_percent(mean).rstrip('%')} poin pagu",
                "≤ 10 poin",
                "✅" if mean <= 10 else "❌",
            )
        )
    times: list[float] = r["answer_ms"]  # type: ignore[assignment]
    med = statistics.median(times)
    out.append(
        (
            f'Jawaban "{QUESTION}" (cache hangat, median [min–maks])',
            f"{med:.1f} [{min(times):.1f}–{max(times):.1f}] ms",
            "< 50 ms",
            "✅" if med < 50 else "❌",
        )
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=50)
    args = ap.parse_args()
    for row in rows(run(args.rounds)):
        print(" | ".join(row))


if __name__ == "__main__":
    main()
