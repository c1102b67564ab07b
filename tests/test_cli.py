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


# --- issue 27: summary layout and empty years, Indonesian help and errors ----------------------


def test_summary_aligns_long_names_and_refuses_an_empty_year(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import common
    from bot.settings import Settings
    from storage.data import db
    from storage.data.models import Bidang

    assert main(["summary", "--tahun", "2022", "--tw", "4"]) == 0
    out = capsys.readouterr().out
    assert "-belum lengkap" not in out and "  belum lengkap" in out
    long_name = "Pencegahan dan Kesiapsiagaan Bencana serta Penanggulangan Kebakaran Daerah"
    eng = common.engine(Settings())
    with db.session_scope(eng) as s:
        b = s.get(Bidang, 2)
        assert b is not None
        b.nama = long_name
        s.add(b)
    eng.dispose()
    assert main(["summary", "--tahun", "2022", "--tw", "3"]) == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if x.strip()]
    table = lines[lines.index(next(x for x in lines if x.startswith("Bidang"))) :]
    figures = [x for x in table if x.rstrip().endswith("%")]
    # Every line with figures ends at the same column; the long name wraps above its figures.
    assert len({len(x.rstrip()) for x in figures}) == 1, figures
    assert max(len(x) for x in table) <= 100
    assert any(x.startswith("Pencegahan dan") for x in table)
    assert "Rp 144.901.250" in next(x for x in table if "Daerah" in x)
    # A year without data: said so, with the years there are, and a non-zero exit.
    assert main(["summary", "--tahun", "2019", "--tw", "3"]) == 1
    captured = capsys.readouterr()
    assert "Belum ada data tahun 2019" in captured.err and "2022" in captured.err
    assert "Pagu" not in captured.out


def test_every_option_has_indonesian_help_and_errors_are_indonesian(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import argparse

    from bot.cli.main import build_parser

    missing: list[str] = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "monev")
    assert missing == []
    for argv, words in [
        (["summary", "--tw", "7"], "pilihan 7 tidak ada; pilih salah satu: 1, 2, 3, 4"),
        (["summary", "--tahun", "dua"], "'dua' bukan bilangan bulat"),
        (["export", "--bogus"], "argumen tidak dikenal: --bogus"),
        ([], "argumen berikut wajib diisi"),
        (["tahun-baru", "--dari", "2022"], "argumen berikut wajib diisi: --ke"),
    ]:
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert words in err and "kesalahan:" in err and "pemakaian:" in err, err
        for english in ("error:", "usage:", "invalid", "required", "unrecognized"):
            assert english not in err, err
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    shown = capsys.readouterr().out
    assert "tampilkan bantuan ini" in shown and "pilihan:" in shown and "--tahun" in shown
    assert "show this help" not in shown
