"""The ``monev`` command line, run as a user would on a fresh data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from storage.files.demo import SEED_FILE

ROOT = Path(__file__).resolve().parents[1]


def test_summary_on_a_fresh_database_fills_demo_data(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summary", "--tahun", "2022", "--tw", "3"]) == 0
    out = capsys.readouterr().out
    assert "data contoh 2022" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "Rp 4.737.119.557" in lines["Sekretariat"] and "Rp 3.064.862.971" in lines["Sekretariat"]
    assert lines["Sekretariat"].rstrip().endswith("64,70%")
    assert lines["Koperasi"].rstrip().endswith("74,81%") and "Rp 144.901.250" in lines["Koperasi"]
    assert lines["UMKM"].rstrip().endswith("14,20%")
    assert lines["Perdagangan"].rstrip().endswith("17,69%")
    assert lines["Perindustrian"].rstrip().endswith("33,48%")
    assert "Rp 9.610.718.634" in lines["Total"] and lines["Total"].rstrip().endswith("45,22%")
    assert "TW III 2022" in out


def test_findings_lists_the_four_mistakes(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["findings", "--tahun", "2022"]) == 0
    out = capsys.readouterr().out
    assert "120,43%" in out and "1.349,06%" in out
    assert "Rp 636.000" in out and "Rp 635.000" in out
    assert "Rp 67.533.400" in out and "Rp 38.878.500" in out
    assert "15,64%" in out and "15,46%" in out


def test_import_and_bad_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(SEED_FILE)]) == 0
    out = capsys.readouterr().out
    assert "3 laporan" in out and "dianggap sama" in out
    assert main(["import", str(SEED_FILE)]) == 0
    assert out.count("baru") >= 3 and "tidak berubah" in capsys.readouterr().out
    bad = workdir / "laporan.xlsx"
    bad.write_bytes(b"%PDF-1.5")
    assert main(["import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "PDF" in err and "tidak berubah" in err and "Traceback" not in err


def test_user_commands(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["db", "upgrade"])
    main(["summary"])  # fills demo data: bidang exist
    capsys.readouterr()
    assert (
        main(["user", "add", "--telegram-id", "111", "--role", "operator", "--bidang", "kop"]) == 0
    )
    assert main(["user", "add", "--telegram-id", "222", "--role", "kepala"]) == 0
    assert main(["user", "add", "--telegram-id", "333", "--role", "operator"]) == 1
    assert "harus punya bidang" in capsys.readouterr().err
    assert main(["user", "list"]) == 0
    out = capsys.readouterr().out
    assert "111" in out and "operator" in out and "222" in out and "kepala" in out
    assert main(["user", "remove", "--telegram-id", "111"]) == 0
    assert main(["user", "remove", "--telegram-id", "999"]) == 1
    assert main(["db", "current"]) == 0
    assert "terbaru" in capsys.readouterr().out


def test_run_without_token_points_to_botfather_and_console(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"TELEGRAM_BOT_TOKEN", "DATABASE_URL"}}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "run"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "@BotFather" in proc.stderr and "monev console" in proc.stderr


def test_export_writes_the_xlsx(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from openpyxl import load_workbook

    out = workdir / "tw3.xlsx"
    assert main(["export", "--tahun", "2022", "--tw", "3", "-o", str(out)]) == 0
    assert "ditulis ke" in capsys.readouterr().out
    ws = load_workbook(out).active
    assert ws["A2"].value == "LAPORAN KINERJA TRIWULAN III TAHUN 2022"
    values = [c.value for row in ws.iter_rows() for c in row]
    assert 3_064_862_971 in values and 4_737_119_557 in values
    assert main(["export", "--tahun", "2022", "--tw", "3", "--format", "csv", "-o", "x.csv"]) == 0
    assert (workdir / "x.csv").read_text(encoding="utf-8-sig").startswith("Tahun;Triwulan")
    assert main(["export", "--tahun", "2030", "--tw", "1"]) == 1
    assert "2030" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TELEGRAM_BOT_TOKEN": "bad"}, "tidak berbentuk token"),
        (
            {"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35, "MONEV_DATA_DIR": "/proc/monev"},
            "Folder data",
        ),
        (
            {"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35, "DATABASE_URL": "mysql://x"},
            "DATABASE_URL",
        ),
    ],
)
def test_run_fails_fast_on_bad_configuration(tmp_path: Path, env: dict, message: str) -> None:
    base = {k: v for k, v in os.environ.items() if k not in {"TELEGRAM_BOT_TOKEN", "DATABASE_URL"}}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "run"],
        cwd=tmp_path,
        env={**base, **env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "monev check" in proc.stderr
    assert "Traceback" not in proc.stderr
