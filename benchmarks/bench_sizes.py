"""Figures at 1x, 10x and 100x the demo office-year, on SQLite and PostgreSQL, in-process.

Each round measures, back to back on the same database: a cached question (warm figure
cache), the first question after a write (a pagu revision in that office-year, then the same
question: the office-year is reloaded), the first question after a write in *another*
office-year (must stay cached), ``capaian_kinerja`` (time and statements) and, once per size,
the XLSX export. That export (the quarter's report at that size) is then imported into an
empty database of the same kind, a few times, with the SQL statements it sends counted.
Rounds alternate the kinds so that a load change hits all of them alike;
every figure is a median over rounds with its [min-max].

Run: .venv/bin/python -m benchmarks.bench_sizes [--pg URL] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from benchmarks.generate import (
    DEMO_OPD,
    DEMO_YEAR,
    demo_database,
    empty_database,
    many_offices,
    scale_year,
)
from storage.data import db
from storage.data.models import Level, Node
from storage.files.export import export_bytes
from storage.files.importer import import_file
from storage.files.report_parser import parse_lines, read_lines
from storage.services.ask import answer
from storage.services.cache import FigureCache
from storage.services.office import copy_year, revise_pagu
from storage.services.queries import YearData, capaian_kinerja

QUESTION = "serapan anggaran tw 3 2022 koperasi"
SIZES = (1, 10, 100)
OFFICES = "40 kantor × 10 tahun"


@dataclass
class Spread:
    """Samples in milliseconds; shown as median [min-max]."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def __str__(self) -> str:
        s = self.samples
        return f"{self.median:.1f} [{min(s):.1f}–{max(s):.1f}] ms"


def _ms(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def _program(engine: Engine, tahun: int, opd_id: int = DEMO_OPD) -> int:
    with db.read_scope(engine) as s:
        return int(
            s.exec(  # type: ignore[call-overload]
                select(Node.id)
                .where(Node.opd_id == opd_id, Node.tahun == tahun, Node.level == Level.PROGRAM)
                .order_by(Node.id)
            ).first()[0]
        )


def _revise(engine: Engine, node_id: int, tahun: int, step: int) -> None:
    """A pagu revision of a program: its pagu in TW I, ``step`` rupiah up or down."""
    with db.session_scope(engine) as s:
        node = s.get(Node, node_id)
        assert node is not None and node.parent_id is None  # a program: its chain is itself
        plan = YearData(s, node.opd_id, tahun, only=[node_id]).plan(node_id, 1)
        assert plan is not None and plan.pagu is not None
        revise_pagu(s, node_id=node_id, dari_tw=1, pagu=plan.pagu + step, actor="bench")


def measure_size(
    engine: Engine, k: int, rounds: int, offices: bool = False
) -> dict[str, Spread | float]:
    subs = scale_year(engine, k)
    if offices:  # 40 offices x 10 years; the "other" write goes to another office
        many_offices(engine)
        here, other = _program(engine, DEMO_YEAR), _program(engine, DEMO_YEAR, opd_id=2)
    else:
        with db.session_scope(engine) as s:
            copy_year(s, opd_id=DEMO_OPD, dari=DEMO_YEAR, ke=DEMO_YEAR - 1, actor="bench")
        # an earlier year of the same office: the question's year (the latest) stays the same
        here, other = _program(engine, DEMO_YEAR), _program(engine, DEMO_YEAR - 1)
    other_year = DEMO_YEAR if offices else DEMO_YEAR - 1
    cache = FigureCache()

    def ask() -> None:
        with cache.read(engine) as s:
            answer(s, DEMO_OPD, QUESTION)

    statements: list[str] = []

    def count(_c, _cur, statement, *_a) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    def capaian() -> None:
        with cache.read(engine) as s:
            capaian_kinerja(s, DEMO_OPD, DEMO_YEAR, 3)

    out: dict[str, Spread | float] = {"sub_kegiatan": subs}
    cached, after_write, after_other, cap = Spread(), Spread(), Spread(), Spread()
    for _ in range(2):  # warm-up of every kind
        ask()
        capaian()
    for r in range(rounds):
        cached.samples.append(_ms(ask))
        _revise(engine, here, DEMO_YEAR, 1 if r % 2 == 0 else -1)
        after_write.samples.append(_ms(ask))
        _revise(engine, other, other_year, 1 if r % 2 == 0 else -1)
        after_other.samples.append(_ms(ask))
        cap.samples.append(_ms(capaian))
    event.listen(engine, "before_cursor_execute", count)
    capaian()
    event.remove(engine, "before_cursor_execute", count)
    out.update(
        cached=cached,
        after_write=after_write,
        after_other_write=after_other,
        capaian=cap,
        capaian_statements=float(
            sum(1 for x in statements if x.lstrip().upper().startswith("SELECT"))
        ),
    )
    exp = Spread()
    report: list[bytes] = []

    def export() -> None:
        with db.read_scope(engine) as s:
            report[:] = [export_bytes(s, DEMO_OPD, DEMO_YEAR, 3, "xlsx")[1]]

    for _ in range(3 if k < 100 else 2):
        exp.samples.append(_ms(export))
    out["export_xlsx"] = exp
    if k >= 100:
        out.update(export_parts(engine))
    out["report_xlsx"] = report[0]  # type: ignore[assignment]
    return out


def export_parts(engine: Engine) -> dict[str, Spread | float]:
    """Where the export's time goes: building the table, writing the workbook, and, as the
    floor, XlsxWriter alone writing the same cells (same values, one format, no layout)."""
    import gc
    import io

    from xlsxwriter import Workbook

    from storage.files.export import WORKBOOK_OPTIONS, _table_values, build_report, write_xlsx

    build, write, floor = Spread(), Spread(), Spread()
    cells = 0
    gc.disable()  # as export_bytes does
    try:
        for _ in range(2):
            with db.read_scope(engine) as s:
                t0 = time.perf_counter()
                table = build_report(s, DEMO_OPD, DEMO_YEAR, 3)
                build.samples.append((time.perf_counter() - t0) * 1000)
            write.samples.append(_ms(lambda: write_xlsx(table, io.BytesIO())))  # noqa: B023
            rows = [[_table_values(r).get(c) for c in range(1, 23)] for r in table.rows()]
            plan = table.plan.rows if table.plan is not None else []
            rows += [[x.row.nama, x.row.pagu, x.row.rencana, x.row.realisasi] * 3 + [None]
                     for x in plan]  # fmt: skip

            def bare() -> None:
                wb = Workbook(io.BytesIO(), WORKBOOK_OPTIONS)
                ws, fmt = wb.add_worksheet(), wb.add_format({"border": 1})
                for r, values in enumerate(rows):  # noqa: B023
                    for c, v in enumerate(values):
                        if v is None:
                            ws.write_blank(r, c, None, fmt)
                        elif isinstance(v, str):
                            ws.write_string(r, c, v, fmt)
                        else:
                            ws.write_number(r, c, v, fmt)
                wb.close()

            floor.samples.append(_ms(bare))
            cells = sum(len(r) for r in rows)
    finally:
        gc.enable()
    return {"export_build": build, "export_write": write, "export_floor": floor, "cells": cells}


def _import_once(report: bytes, url: str | None) -> tuple[float, int, int]:
    """(milliseconds, SQL statements, report rows) of one import into an empty database."""
    with tempfile.TemporaryDirectory() as d, empty_database(Path(d), url) as engine:
        path = Path(d) / "laporan-kinerja-2022-tw3.xlsx"
        path.write_bytes(report)
        rows = sum(len(r.nodes()) for r in parse_lines(read_lines(path), name=path.name))
        sent: list[str] = []

        def count(_c, _cur, statement, *_a) -> None:  # type: ignore[no-untyped-def]
            sent.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        ms = _ms(lambda: import_file(engine, path, actor="bench"))
        event.remove(engine, "before_cursor_execute", count)
        return ms, len(sent), rows


def measure_import(report: bytes, url: str | None, rounds: int) -> dict[str, Spread | float]:
    """Import one quarter's report (XLSX, as the bot exports it) into an empty database,
    ``rounds`` times: time (parsing included) and the SQL statements it sends."""
    times, statements, rows = Spread(), 0, 0
    for _ in range(rounds):
        ms, statements, rows = _import_once(report, url)
        times.samples.append(ms)
    return {"import": times, "import_statements": statements, "import_rows": rows}


def run(
    pg: str | None, rounds: int = 7, sizes: tuple[int, ...] = SIZES, offices: bool = True
) -> dict[tuple[str, str], dict[str, Spread | float]]:
    results: dict[tuple[str, str], dict[str, Spread | float]] = {}
    for backend, url in (("SQLite", None), ("PostgreSQL", pg)):
        if backend == "PostgreSQL" and not pg:
            continue
        for k in sizes:
            with tempfile.TemporaryDirectory() as d, demo_database(Path(d), url) as engine:
                results[(backend, f"{k}×")] = r = measure_size(engine, k, rounds)
            report = r.pop("report_xlsx")
            assert isinstance(report, bytes)
            r.update(measure_import(report, url, 5 if k < 100 else 3))
        if offices:
            with tempfile.TemporaryDirectory() as d, demo_database(Path(d), url) as engine:
                results[(backend, OFFICES)] = measure_size(engine, 1, rounds, offices=True)
    return results


def rows(
    results: dict[tuple[str, str], dict[str, Spread | float]],
) -> list[tuple[str, str, str, str]]:
    out = []
    for (backend, label), r in results.items():
        big = label == "100×"
        size = f"{label} ({int(r['sub_kegiatan'])} sub kegiatan per tahun), {backend}"
        aw = r["after_write"]
        assert isinstance(aw, Spread)
        target_ok = aw.median <= 50 if big else None
        out.append((f"Pertanyaan tersimpan (cache), {size}", str(r["cached"]), "", ""))
        out.append(
            (
                f"Pertanyaan pertama setelah tulis di tahun yang sama, {size}",
                str(aw),
                "≤ 50 ms pada 100×" if big else "",
                "" if target_ok is None else ("✅" if target_ok else "❌"),
            )
        )
        out.append(
            (
                f"Pertanyaan pertama setelah tulis di tahun/kantor lain, {size}",
                str(r["after_other_write"]),
                "",
                "",
            )
        )
        n = int(r["capaian_statements"])  # type: ignore[arg-type]
        out.append(
            (
                f"Capaian kinerja, {size}",
                f"{r['capaian']} ; {n} perintah SQL",
                "≤ 4 perintah",
                "✅" if n <= 4 else "❌",
            )
        )
        ex = r["export_xlsx"]
        assert isinstance(ex, Spread)
        out.append(
            (
                f"Ekspor XLSX TW III, {size}",
                str(ex),
                "< 1 s pada 100×" if big else "",
                ("✅" if ex.median < 1000 else "❌") if big else "",
            )
        )
        if "export_floor" in r:
            out.append(
                (
                    f"Ekspor XLSX TW III, {size}: menyusun data · menulis berkas · batas bawah: "
                    f"XlsxWriter saja menulis {int(r['cells'])} sel (isi yang sama, satu "  # type: ignore[arg-type]
                    "format, tanpa tata letak)",
                    f"{r['export_build']} · {r['export_write']} · {r['export_floor']}",
                    "",
                    "",
                )
            )
        if "import" in r:
            im, n = r["import"], int(r["import_statements"])  # type: ignore[arg-type]
            lines = int(r["import_rows"])  # type: ignore[arg-type]
            assert isinstance(im, Spread)
            ok = n <= lines and (not big or im.median < 5000)
            out.append(
                (
                    f"Impor laporan TW III (XLSX ekspor di atas, {lines} baris) ke basis data "
                    f"kosong, {size}",
                    f"{im} ; {n} perintah SQL ({n / lines:.2f} per baris)",
                    "≤ 1 perintah per baris" + ("; < 5 s pada 100×" if big else ""),
                    "✅" if ok else "❌",
                )
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pg")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--sizes", default="1,10,100")
    args = ap.parse_args()
    sizes = tuple(int(x) for x in args.sizes.split(","))
    for row in rows(run(args.pg, args.rounds, sizes)):
        print(" | ".join(row))


if __name__ == "__main__":
    main()
