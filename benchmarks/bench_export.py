"""The quarter's XLSX export at 1x, 10x and 100x the demo office-year, split into its parts.

Per round, on the same database: the export as ``monev export`` runs it (a plain read
session: the office-year is loaded), in two timed parts — gathering the report's data
(``build_report``) and writing the workbook (``write_xlsx``: cells, then XlsxWriter's XML and
ZIP) — and the export as the bot runs it (a session with the figure cache, warm after a
question about that office-year). Wall-clock and the process's CPU time are both shown: on a
shared machine the CPU time says what the export itself costs. Each figure is the median over
rounds with its [min-max].

Run: .venv/bin/python -m benchmarks.bench_export [--pg URL] [--rounds 7] [--sizes 1,10,100]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from benchmarks.bench_sizes import Spread
from benchmarks.generate import DEMO_OPD, DEMO_YEAR, demo_database, scale_year
from storage.data import db
from storage.files.bulk import collector_paused
from storage.files.export import build_report, export_bytes, write_xlsx
from storage.services.ask import answer
from storage.services.cache import FigureCache

SIZES = (1, 10, 100)
QUESTION = "serapan anggaran tw 3 2022"


def measure(url: str | None, k: int, rounds: int) -> dict[str, Spread | int]:
    out: dict[str, Spread | int] = {
        name: Spread() for name in ("data", "write", "total", "cpu", "bot")
    }
    with tempfile.TemporaryDirectory() as d, demo_database(Path(d), url) as engine:
        subs = scale_year(engine, k)
        cache = FigureCache()
        with cache.read(engine) as s:
            answer(s, DEMO_OPD, QUESTION)  # the bot has answered a question on this year
        for r in range(rounds + 1):  # the first round warms up and is not counted
            # as export_bytes does it, in parts
            w0, c0 = time.perf_counter(), time.process_time()
            with collector_paused():
                with db.read_scope(engine) as s:
                    table = build_report(s, DEMO_OPD, DEMO_YEAR, 3)
                w1 = time.perf_counter()
                write_xlsx(table, io.BytesIO())
            w2, c2 = time.perf_counter(), time.process_time()
            del table
            w3 = time.perf_counter()
            with cache.read(engine) as s:
                export_bytes(s, DEMO_OPD, DEMO_YEAR, 3)
            w4 = time.perf_counter()
            if r:
                for name, ms in (
                    ("data", w1 - w0),
                    ("write", w2 - w1),
                    ("total", w2 - w0),
                    ("cpu", c2 - c0),
                    ("bot", w4 - w3),
                ):
                    spread = out[name]
                    assert isinstance(spread, Spread)
                    spread.samples.append(ms * 1000)
    out["sub_kegiatan"] = subs
    return out


def rows(results: dict[tuple[str, int], dict[str, Spread | int]]) -> list[tuple[str, ...]]:
    out = []
    for (backend, k), r in results.items():
        total, cpu = r["total"], r["cpu"]
        assert isinstance(total, Spread) and isinstance(cpu, Spread)
        big = k == 100
        ok = ("✅" if total.median < 1000 else "❌") if big else ""
        size = f"{k}× ({r['sub_kegiatan']} sub kegiatan), {backend}"
        out.append(
            (
                f"Ekspor XLSX TW III, {size}: waktu dinding (CPU proses)",
                f"{total} ({cpu})",
                "< 1 s pada 100×" if big else "",
                ok,
            )
        )
        out.append((f"— menyusun data (build_report), {size}", str(r["data"]), "", ""))
        out.append((f"— menulis berkas (sel, XML, ZIP), {size}", str(r["write"]), "", ""))
        out.append((f"Ekspor XLSX lewat bot (cache angka hangat), {size}", str(r["bot"]), "", ""))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pg")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--sizes", default=",".join(str(k) for k in SIZES))
    args = ap.parse_args()
    results: dict[tuple[str, int], dict[str, Spread | int]] = {}
    for backend, url in (("SQLite", None), ("PostgreSQL", args.pg)):
        if backend == "PostgreSQL" and not url:
            continue
        for k in (int(x) for x in args.sizes.split(",")):
            results[(backend, k)] = measure(url, k, args.rounds)
    for row in rows(results):
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
