"""Time and peak memory to refuse hostile files (issues 13 and 23): a zip-bomb XLSX, junk
text, and workbooks of every shape a small file can unpack to (one row of millions of cells,
a million rows, a million styles or shared strings, one cell of a million text runs, an
entity bomb), fed to both workbook importers: ``monev import`` and ``monev rencana impor``.

Run: .venv/bin/python -m benchmarks.bench_hostile_files
Target (issue 23): every file refused within seconds, under ~150 MB peak RSS. Each file is
read in a child process of its own, so its peak RSS is that file's alone.
"""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from openpyxl import Workbook, load_workbook

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import sys, tempfile, time
from pathlib import Path
from storage.data import db
from storage.data.db import session_scope
from storage.files.layout_import import Request, import_any
from storage.files.plan_sheet import read_rencana_sheet
from storage.files.workbook import BadFileError
from storage.services.office import init_office
def hwm():  # VmHWM (peak RSS, kB) of this process; ru_maxrss would carry the parent's over exec
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
folder = tempfile.mkdtemp()
engine = db.make_engine(f"sqlite:///{folder}/m.db")
db.upgrade(engine)
with session_scope(engine) as s:  # the office the file is imported into, as monev init makes
    init_office(s, nama="Dinas Uji", kepala="X", nip="1", actor="bench")
base = hwm()
t0 = time.perf_counter()
if sys.argv[2] == "rencana":  # monev rencana impor: the sheet is read before anything else
    _, _, errors = read_rencana_sheet(Path(sys.argv[1]))
    answer = errors[0][:120] if errors else "DITERIMA"
else:  # monev import FILE --opd 1, as the command runs it (any layout)
    try:
        import_any(engine, Path(sys.argv[1]), Request(opd_id=1, dry_run=True))
        answer = "DITERIMA"
    except BadFileError as exc:
        answer = str(exc)[:120]
elapsed = time.perf_counter() - t0
peak = hwm()
print(f"{elapsed:.3f} {base / 1024:.0f} {peak / 1024:.0f} {answer}")
"""


def zip_bomb(path: Path, unpacked_mb: int = 227) -> Path:
    buf = io.BytesIO()
    Workbook().save(buf)
    with (
        zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                head, _, tail = data.partition(b"<sheetData")
                data = head + b" " * (unpacked_mb * 1024 * 1024) + b"<sheetData" + tail
            dst.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return path


MARK = 987654321  # the one cell a sheet holds before its rows are replaced


def _with_sheet(title: str, base: bytes | None) -> tuple[bytes, bool]:
    """``base`` (or an empty workbook) with a marker cell in sheet ``title``, and whether the
    sheet was there already: then the marker sits right of every column a reader reads, below
    the sheet's rows, and what is written goes after those rows."""
    wb = load_workbook(io.BytesIO(base)) if base else Workbook()
    kept = title in wb.sheetnames
    if kept:
        ws = wb[title]
        ws.cell(row=ws.max_row + 2, column=200, value=MARK)
    else:
        if not base:
            wb.remove(wb.active)  # type: ignore[arg-type]
        wb.create_sheet(title).cell(row=1, column=1, value=MARK)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), kept


def rewrite_sheet(
    path: Path,
    title: str,
    body: bytes,
    *,
    base: bytes | None = None,
    parts: dict[str, bytes] | None = None,
    prolog: bytes = b"",
) -> Path:
    """A workbook whose sheet ``title`` holds ``body`` (rows; after the rows it has when
    ``base`` has that sheet), ``prolog`` before its root element, and ``parts`` replacing whole
    parts; deflated as tightly as zip allows."""
    source, kept = _with_sheet(title, base)
    with (
        zipfile.ZipFile(io.BytesIO(source)) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            data = src.read(item.filename)
            if f"<v>{MARK}</v>".encode() in data:
                head, _, rest = data.partition(b"<sheetData>")
                rows, _, tail = rest.partition(b"</sheetData>")
                data = (
                    head + b"<sheetData>" + (rows if kept else b"") + body + b"</sheetData>" + tail
                )
                decl, sep, root = data.partition(b"?>")
                data = decl + sep + prolog + root if root else prolog + data
            data = (parts or {}).get(item.filename, data)
            dst.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return path


BOMB_ROW = 60_000  # the row the bombs are written to: below any sheet's own rows


def row_bomb(path: Path, cells: int, *, title: str = "Sheet1", base: bytes | None = None) -> Path:
    """One row of ``cells`` empty cells in sheet ``title`` (issue 23: 7 million in 46 KB)."""
    body = b'<row r="%d">' % BOMB_ROW + b"<c/>" * cells + b"</row>"
    return rewrite_sheet(path, title, body, base=base)


# (label, size at full scale, size just past the reader's bounds) of every shape
SHAPES = {
    "row": ("one row of {:,} empty cells", 7_000_000, 2_500),
    "rows": ("{:,} rows of one cell", 400_000, 100_500),
    "runs": ("one cell of {:,} text runs", 1_000_000, 1_500),
    "styles": ("{:,} cell styles", 1_000_000, 60_000),
    "laughs": ("entity expansion (billion laughs, {:,} levels)", 9, 2),
}


def shapes(
    folder: Path, *, title: str = "Sheet1", base: bytes | None = None, full: bool = True
) -> dict[str, Path]:
    """Workbooks of every hostile shape, the bad sheet named ``title``; ``full``: at the sizes
    of the attacks (small files), else just past the bounds (what a test needs)."""
    n = {k: v[1] if full else v[2] for k, v in SHAPES.items()}
    tag = title.replace(" ", "-").lower()
    start = BOMB_ROW
    rows = b"".join(
        b'<row r="%d"><c t="n"><v>1</v></c></row>' % r for r in range(start, start + n["rows"])
    )
    runs = (
        b'<row r="%d"><c t="inlineStr"><is>' % start
        + b"<r><t>x</t></r>" * n["runs"]
        + b"</is></c></row>"
    )
    styles = (
        b'<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><cellXfs count="%d">'
        % n["styles"]
        + b'<xf numFmtId="0"/>' * n["styles"]
        + b"</cellXfs></styleSheet>"
    )
    laughs = (
        b'<!DOCTYPE worksheet [<!ENTITY lol0 "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10)
            for i in range(1, n["laughs"] + 1)
        )
        + b"]>"
    )
    cell = b'<row r="%d"><c t="inlineStr"><is><t>&lol%d;</t></is></c></row>' % (start, n["laughs"])
    out = {
        "row": row_bomb(folder / f"{tag}-row.xlsx", n["row"], title=title, base=base),
        "rows": rewrite_sheet(folder / f"{tag}-rows.xlsx", title, rows, base=base),
        "runs": rewrite_sheet(folder / f"{tag}-runs.xlsx", title, runs, base=base),
        "styles": rewrite_sheet(
            folder / f"{tag}-styles.xlsx",
            title,
            b"",
            base=base,
            parts={"xl/styles.xml": styles},
        ),
        "laughs": rewrite_sheet(
            folder / f"{tag}-laughs.xlsx", title, cell, base=base, prolog=laughs
        ),
    }
    return {SHAPES[k][0].format(n[k]): path for k, path in out.items()}


def plan_template() -> bytes:
    """A filled-in plan template of the demo office, as ``monev template`` writes it."""
    from storage.data import db
    from storage.files.demo import SEED_FILE
    from storage.files.importer import import_file
    from storage.files.template import write_template

    with tempfile.TemporaryDirectory() as d:
        engine = db.make_engine(f"sqlite:///{Path(d) / 'm.db'}")
        db.upgrade(engine)
        import_file(engine, SEED_FILE, actor="bench")
        with db.read_scope(engine) as s:
            path = write_template(s, Path(d) / "rencana.xlsx", opd_id=1, tahun=2022)
        engine.dispose()
        return path.read_bytes()


def files(folder: Path) -> dict[str, Path]:
    rng = random.Random(13)
    many = folder / "junk-lines.txt"
    many.write_bytes(b"".join(rng.randbytes(60).hex().encode() + b"\n" for _ in range(160_000)))
    one = folder / "junk-one-line.txt"
    one.write_bytes(rng.randbytes(9_500_000).hex().encode())
    noise = folder / "noise-50mb.bin"
    noise.write_bytes(os.urandom(50 * 1024 * 1024))
    return {
        "zip bomb XLSX (227 MB unpacked)": zip_bomb(folder / "bomb.xlsx"),
        "junk text, 19 MB in 160k lines": many,
        "junk text, 19 MB on one line": one,
        "random bytes, 50 MB": noise,
    }


def cases(folder: Path) -> list[tuple[str, str, Path]]:
    """(importer, label, file): every hostile file, for the importer it is fed to."""
    out = [("monev import", label, path) for label, path in files(folder).items()]
    out += [("monev import", label, p) for label, p in shapes(folder).items()]
    five = row_bomb(
        folder / "row-5m.xlsx", 5_000_000, title="Rencana Penarikan", base=plan_template()
    )
    out.append(("monev rencana impor", "one row of 5,000,000 empty cells", five))
    plan = shapes(folder, title="Rencana Penarikan", base=plan_template())
    out += [("monev rencana impor", label, p) for label, p in plan.items()]
    return out


def measure(path: Path, mode: str = "report") -> tuple[float, float, float, str]:
    """(seconds, RSS after imports in MB, peak RSS in MB, message) of refusing ``path``,
    measured inside a fresh process (imports excluded from the time)."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), mode],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        return 0.0, 0.0, 0.0, f"CRASH: {proc.stderr.strip().splitlines()[-1][:100]}"
    seconds, base, peak, answer = proc.stdout.strip().split(" ", 3)
    return float(seconds), float(base), float(peak), answer


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        print("| importer | file | size | time to refuse | RSS after imports → peak | answer |")
        print("|---|---|---|---|---|---|")
        slowest: tuple[float, str] = (0.0, "")
        largest: tuple[float, str] = (0.0, "")
        accepted = []
        for importer, label, path in cases(Path(d)):
            mode = "rencana" if "rencana" in importer else "report"
            seconds, base, peak, answer = measure(path, mode)
            size = path.stat().st_size / 1024
            shown = f"{size / 1024:.1f} MB" if size >= 1024 else f"{size:.0f} KB"
            print(
                f"| {importer} | {label} | {shown} | {seconds:.2f} s | "
                f"{base:.0f} → {peak:.0f} MB | {answer} |"
            )
            slowest = max(slowest, (seconds, f"{importer}: {label}"))
            largest = max(largest, (peak, f"{importer}: {label}"))
            if answer == "DITERIMA" or answer.startswith("CRASH"):
                accepted.append(f"{importer}: {label}")
        print()
        print(f"Slowest refusal: {slowest[0]:.2f} s ({slowest[1]})")
        print(f"Largest peak RSS: {largest[0]:.0f} MB ({largest[1]})")
        print("Every file refused." if not accepted else f"NOT REFUSED: {'; '.join(accepted)}")


if __name__ == "__main__":
    main()
