"""CPU per question inside the process: parse, answer and render (``questions.answer_text``)
through the figure cache, as the bot does in its worker thread, on the demo data — including
the work issue 24 added to every answer (which bidang have reported each quarter, the latest
complete quarter, words that name nothing).

Run: .venv/bin/python -m benchmarks.bench_answers
Target: ≤ 5 ms a question (the reply's budget is set against the echo bot in bench_questions;
this measures the part of it that is ours).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bot.handlers.questions import answer_text
from storage.data import db
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file
from storage.services.cache import FigureCache

QUESTIONS = [
    "serapan anggaran",
    "serapan anggaran Q2 koperasi",
    "bidang mana serapannya paling rendah?",
    "realisasi fisik tw 3 perdagangan",
    "program apa saja di perindustrian?",
    "sisa anggaran umkm tw3",
    "peringatan dini",
    "5 sub kegiatan dengan realisasi terendah tw2",
    "serapan bidang pertanian tw2",
    "tolong kirimkan undangan rapat besok",
    "kapan batas akhir tw4",
    "serapan perdagangan",
]


def measure(rounds: int = 9) -> tuple[float, list[float]]:
    """Median ms per question over ``rounds`` passes (the first, which fills the cache, is
    not counted), and every pass."""
    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        db.upgrade(engine)
        import_file(engine, SEED_FILE, actor="bench")
        cache = FigureCache()
        passes = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for q in QUESTIONS:
                with cache.read(engine) as s:
                    answer_text(s, 1, q)
            passes.append((time.perf_counter() - t0) * 1000 / len(QUESTIONS))
        engine.dispose()
    return statistics.median(passes[1:]), passes[1:]


def main() -> None:
    median, passes = measure()
    shown = ", ".join(f"{p:.2f}" for p in passes)
    print(f"answer + render per question: {median:.2f} ms (passes {shown})")


if __name__ == "__main__":
    main()
