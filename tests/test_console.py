"""``monev console``: the real bot in a terminal, as a newcomer would first meet it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _console(tmp_path: Path, lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"TELEGRAM_BOT_TOKEN", "DATABASE_URL"}}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "console", *args],
        cwd=tmp_path,
        env=env,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_fresh_folder_console_answers_the_example(tmp_path: Path) -> None:
    proc = _console(
        tmp_path,
        [
            "serapan anggaran Q2 koperasi",
            "serapan metrologi",
            "1",
            "grafik serapan tw3",
            "/laporan 3 2022",
        ],
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert "data contoh 2022" in out
    assert "TW II 2022" in out and "Rp 79.265.450" in out and "Rp 193.690.000" in out
    assert "40,92%" in out
    for program in (
        "PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI",
        "PROGRAM PENILAIAN KESEHATAN KSP/USP KOPERASI",
        "PROGRAM PEMBERDAYAAN DAN PELINDUNGAN KOPERASI",
    ):
        assert program in out
    # buttons are numbered choices, and typing the number presses it
    assert "[1] Kegiatan: Kegiatan Pelaksanaan metrologi" in out
    assert "Per sub kegiatan:" in out
    # photos and documents are saved and their paths printed
    saved = [
        line.split(": ", 1)[1].rstrip("]")
        for line in out.splitlines()
        if "[berkas disimpan:" in line
    ]
    assert any(p.endswith(".png") for p in saved) and any(p.endswith(".xlsx") for p in saved)
    for p in saved:
        assert (tmp_path / p).exists()
    assert "<b>" not in out and "Traceback" not in out + proc.stderr


def test_console_as_operator_can_start_a_report(tmp_path: Path) -> None:
    proc = _console(tmp_path, ["/lapor", "1"], "--role", "operator", "--bidang", "koperasi")
    assert proc.returncode == 0, proc.stderr
    assert "Laporan triwulan bidang Koperasi" in proc.stdout
    assert "Sub kegiatan:" in proc.stdout and "Pagu: Rp 22.499.800" in proc.stdout


def test_console_refuses_unknown_bidang(tmp_path: Path) -> None:
    proc = _console(tmp_path, [], "--role", "operator", "--bidang", "antah")
    assert proc.returncode == 2 and "tidak dikenal" in proc.stderr
