"""Import time of the whole demo seed (three reports) into a fresh database.

Run: .venv/bin/python -m benchmarks.bench_import [--runs 7] [--pg URL]
Target (issue #2): under 2 s on the project machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from storage.data import db
from storage.files.demo import SEED_FILE
from storage.files.importer import import_file


def time_import(url: str) -> float:
    engine = db.make_engine(url)
    db.upgrade(engine)
    t0 = time.perf_counter()
    import_file(engine, SEED_FILE, actor="bench")
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return elapsed


def run(runs: int = 7, pg_url: str | None = None) -> dict[str, float]:
    results: dict[str, float] = {}
    samples = []
    for i in range(runs):
        with tempfile.TemporaryDirectory() as d:
            samples.append(time_import(f"sqlite:///{Path(d) / f'b{i}.db'}"))
    results["import_sqlite_median_s"] = statistics.median(samples)
    results["import_sqlite_max_s"] = max(samples)
    if pg_url:
        from sqlalchemy import create_engine, text

        pg = []
        for i in range(runs):
            schema = f"bench_{i}"
            admin = create_engine(db.normalise_url(pg_url))
            with admin.begin() as c:
                c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
            sep = "&" if "?" in pg_url else "?"
            pg.append(time_import(f"{pg_url}{sep}options=-csearch_path%3D{schema}"))
            with admin.begin() as c:
                c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
        results["import_pg_median_s"] = statistics.median(pg)
        results["import_pg_max_s"] = max(pg)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--pg", help="PostgreSQL URL to measure as well")
    args = ap.parse_args()
    for k, v in run(args.runs, args.pg).items():
        print(f"{k}: {v:.3f}")


if __name__ == "__main__":
    main()
