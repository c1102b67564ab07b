"""Importing an office's own layout (issue 25) beside today's 22-column import.

Each file is imported into a fresh database with one office (``monev init``) through the same
path ``monev import`` takes (``import_any``: try the 22-column reader, recognise the layout,
write, assign bidang, validate, summarise), a few times; the time is the median [min-max],
and the SQL statements it sends are counted per row written (one row = a node in one
quarter's report). Files:

- the demo seed (three 22-column reports), today's import;
- the largest fixture of tests/data/layouts (a kinerja-app page: 10 nodes, months of three
  quarters) and a budget export (a sheet per bidang, three-row merged header);
- both generated at 100x (every kegiatan/program copied with its rows, names numbered).

Run: .venv/bin/python -m benchmarks.bench_layouts [--runs 5] [--pg URL]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import event

from benchmarks.generate import empty_database
from storage.data.db import session_scope
from storage.files.demo import SEED_FILE
from storage.files.layout_import import Request, import_bytes
from storage.services.office import init_office

LAYOUTS = Path(__file__).resolve().parents[1] / "tests" / "data" / "layouts"
KINERJA = LAYOUTS / "kinerja-dinkes-2023.tsv"
SIPD = LAYOUTS / "sipd-dpupr-2024.xlsx"


def kinerja_times(k: int) -> bytes:
    """The kinerja page with each kegiatan block copied ``k`` times (names numbered)."""
    lines = KINERJA.read_text(encoding="utf-8").splitlines()
    head, body, tail = lines[:6], [], []
    blocks: list[list[str]] = []
    for line in lines[6:]:
        if line.startswith("\tJUMLAH") or not line.strip():
            tail.append(line)
        elif "\tKegiatan :" in line:
            blocks.append([line])
        elif blocks and not tail:
            blocks[-1].append(line)
    for i in range(1, k + 1):
        for block in blocks:
            for line in block:
                cells = line.split("\t")
                cells[1] = f"{cells[1]} #{i}" if i > 1 else cells[1]
                body.append("\t".join(cells))
    return ("\n".join(head + body + tail) + "\n").encode()


def sipd_times(k: int) -> bytes:
    """The budget export with each program copied ``k`` times (codes and names numbered)."""
    wb = load_workbook(SIPD)
    for ws in wb.worksheets:
        rows = [[c.value for c in row] for row in ws.iter_rows(min_row=9)]
        ws.delete_rows(9, ws.max_row)
        r = 9
        for i in range(1, k + 1):
            for values in rows:
                code = str(values[0] or "")
                if code.count(".") < 2:  # the urusan row, once
                    if i > 1:
                        continue
                else:
                    parts = code.split(".")
                    parts[2] = f"{int(parts[2]) + 100 * (i - 1):02d}"
                    code = ".".join(parts)
                for c, v in enumerate(values, 1):
                    ws.cell(row=r, column=c, value=v)
                ws.cell(row=r, column=1, value=code)
                if i > 1 and values[1]:
                    ws.cell(row=r, column=2, value=f"{values[1]} #{i}")
                r += 1
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _once(name: str, data: bytes, url: str | None) -> tuple[float, int, int]:
    """(seconds, SQL statements, rows written) of one import into a fresh database."""
    with tempfile.TemporaryDirectory() as d, empty_database(Path(d), url) as engine:
        with session_scope(engine) as s:
            opd = init_office(
                s, nama="Dinas Uji Kabupaten Solok", kepala="X", nip="1", actor="bench"
            )
            opd_id = opd.id
        sent: list[str] = []

        def count(_c, _cur, statement, *_a) -> None:  # type: ignore[no-untyped-def]
            sent.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        t0 = time.perf_counter()
        result = import_bytes(
            engine, data, name, Request(opd_id=opd_id, other_office=True, actor="bench")
        )
        elapsed = time.perf_counter() - t0
        event.remove(engine, "before_cursor_execute", count)
        rows = sum(r.nodes for r in result.summary.reports)
        return elapsed, len(sent), rows


def files() -> list[tuple[str, str, bytes]]:
    return [
        ("22 kolom: data contoh (3 laporan)", SEED_FILE.name, SEED_FILE.read_bytes()),
        ("kinerja bulanan (fixture terbesar)", KINERJA.name, KINERJA.read_bytes()),
        ("kinerja bulanan 100×", "kinerja-100x.tsv", kinerja_times(100)),
        ("ekspor Kode per bidang (XLSX)", SIPD.name, SIPD.read_bytes()),
        ("ekspor Kode per bidang 100×", "sipd-100x.xlsx", sipd_times(100)),
    ]


def run(
    runs: int = 5, pg: str | None = None
) -> list[tuple[str, str, float, float, float, int, int]]:
    """(backend, file, median s, min s, max s, statements, rows) per file and backend."""
    out = []
    for backend, url in (("SQLite", None), ("PostgreSQL", pg)):
        if backend == "PostgreSQL" and not pg:
            continue
        for label, name, data in files():
            samples, statements, rows = [], 0, 0
            for _ in range(runs):
                seconds, statements, rows = _once(name, data, url)
                samples.append(seconds)
            out.append(
                (backend, label, statistics.median(samples), min(samples), max(samples),
                 statements, rows)
            )  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pg", help="PostgreSQL URL to measure as well")
    args = ap.parse_args()
    print("| database | file | import: median [min–max] | SQL statements | rows | per row |")
    print("|---|---|---|---|---|---|")
    for backend, label, med, lo, hi, statements, rows in run(args.runs, args.pg):
        print(
            f"| {backend} | {label} | {med:.2f} s [{lo:.2f}–{hi:.2f}] | {statements} | {rows} "
            f"| {statements / rows:.2f} |"
        )


if __name__ == "__main__":
    main()
