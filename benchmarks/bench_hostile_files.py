"""Time and peak memory to refuse hostile files (issue 13): a zip-bomb XLSX, junk text.

Run: .venv/bin/python -m benchmarks.bench_hostile_files
Target (issue 13): refused in seconds, under 300 MB peak RSS. Each file is read in a child
process of its own, so its peak RSS is that file's alone.
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

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import sys, time
from pathlib import Path
from storage.files.report_parser import BadFileError, read_lines, parse_lines
def hwm():  # VmHWM (peak RSS, kB) of this process; ru_maxrss would carry the parent's over exec
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
base = hwm()
t0 = time.perf_counter()
try:
    parse_lines(read_lines(Path(sys.argv[1])), name=sys.argv[1])
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


def measure(path: Path) -> tuple[float, float, float, str]:
    """(seconds, RSS after imports in MB, peak RSS in MB, message) of refusing ``path``,
    measured inside a fresh process (imports excluded from the time)."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, base, peak, answer = proc.stdout.strip().split(" ", 3)
    return float(seconds), float(base), float(peak), answer


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        cases = files(Path(d))
        print("| file | size | time to refuse | RSS after imports → peak | answer |")
        print("|---|---|---|---|---|")
        for label, path in cases.items():
            seconds, base, peak, answer = measure(path)
            size = path.stat().st_size / (1024 * 1024)
            print(
                f"| {label} | {size:.1f} MB | {seconds:.2f} s | {base:.0f} → {peak:.0f} MB "
                f"| {answer} |"
            )


if __name__ == "__main__":
    main()
