"""Issue 27, files: unapproved figures marked in the cells, CSV an Indonesian spreadsheet
opens as it is, the recap's signer, WIB times, and templates for a new office."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from storage.data.db import read_scope
from storage.files.export import FIRST_DATA_ROW, export_bytes
from storage.files.export_rekap import rekap_bytes
from storage.files.report_parser import parse_lines, read_lines
from tests.bot_harness import KEPALA, Bot
from tests.csv_id import number, read_rows
from tests.test_lapor import _close, _open, _submit_all, _users

PEMANTAU = 9431
KOP_SUB = "Sub Kegiatan Pengawasan kekuatan"  # the first of Koperasi's TW IV leaves


@pytest.fixture
async def bot(seeded: Engine) -> AsyncIterator[Bot]:
    _users(seeded)
    b = await _open(seeded)
    try:
        yield b
    finally:
        await _close(b)


def _document(bot: Bot, user: int) -> tuple[str, bytes, str]:
    call = [c for c in bot.api.calls_of("sendDocument") if c.chat_id == user][-1]
    name, content = next(iter(call.files.values()))
    return name, content, call.text or ""


async def test_unapproved_rows_are_marked_in_their_cells(bot: Bot, tmp_path: Path) -> None:
    await _submit_all(bot)  # Koperasi's TW IV, waiting for verification
    await bot.say(KEPALA, "/laporan 4 2022")
    name, content, caption = _document(bot, KEPALA)
    # Only Koperasi has reported TW IV: not for printing, and the marks are explained.
    assert name.endswith(".xlsx") and "Belum untuk dicetak" in caption
    assert "ditandai di kolom KET" in caption
    ws = load_workbook(io.BytesIO(content)).active
    assert ws is not None
    marked, plain = [], []
    for r in range(FIRST_DATA_ROW, ws.max_row + 1):
        nama = ws.cell(r, 16).value
        if not nama:
            continue
        ket = str(ws.cell(r, 22).value or "")
        fill = ws.cell(r, 21).fill.fgColor.rgb
        (marked if ket.startswith("BELUM DISETUJUI") else plain).append((nama, ket, fill))
    # Koperasi's lines (its programs, kegiatan and sub kegiatan) and nothing else.
    assert any(n.startswith(KOP_SUB) for n, _, _ in marked), marked
    assert all(k.startswith("BELUM DISETUJUI (menunggu verifikasi)") for _, k, _ in marked)
    assert {f for _, _, f in marked} == {"FFFFF2CC"}
    assert plain and all(f != "FFFFF2CC" for _, _, f in plain)
    assert not any("BELUM DISETUJUI" in k for _, k, _ in plain)
    # The header says it too.
    assert "Belum disetujui: Koperasi" in (ws.oddHeader.center.text or "")
    # So does the plan sheet: Koperasi's lines filled, the others not.
    plan = load_workbook(io.BytesIO(content))["Rencana dan Deviasi"]
    fills = {
        (row[0].value, row[2].fill.fgColor.rgb)
        for row in plan.iter_rows(min_row=6)
        if row[0].value and row[2].value
    }
    assert ("Koperasi", "FFFFF2CC") in fills
    assert all(f == "FFFFF2CC" for b, f in fills if b == "Koperasi")
    assert all(f != "FFFFF2CC" for b, f in fills if b != "Koperasi")
    # Read back, the mark is not taken for the office's own KET.
    path = tmp_path / "tw4.xlsx"
    path.write_bytes(content)
    [report] = parse_lines(read_lines(path))
    kets = [n.ket for n in report.nodes()]
    assert not any("BELUM DISETUJUI" in k for k in kets)


async def test_csv_opens_in_an_indonesian_spreadsheet_without_print_promise(bot: Bot) -> None:
    await _submit_all(bot)
    out = await bot.say(KEPALA, "/laporan 4 2022 csv")
    name, content, caption = _document(bot, KEPALA)
    assert name.endswith(".csv")
    assert "cetak di kertas" not in caption and "siap cetak" not in caption
    assert "titik koma" in caption and "/laporan 4 2022" in caption, caption
    assert "Traceback" not in out
    rows = read_rows(content)
    kop = next(r for r in rows if r["Program/Kegiatan/Sub Kegiatan"].startswith(KOP_SUB))
    assert kop["Tingkat"] == "Sub Kegiatan"
    assert number(kop["Realisasi Anggaran (Rp)"]) == 21_000_000
    assert number(kop["Realisasi Fisik (%)"]) == 93
    assert kop["Status Verifikasi"] == "belum disetujui (menunggu verifikasi)"
    serapan = number(kop["Serapan (%)"])
    assert serapan is not None and 93 < serapan < 94  # 21.000.000 / 22.499.800, decimal comma


async def test_rekap_says_how_to_fill_its_signature(bot: Bot) -> None:
    from storage.data.db import session_scope
    from storage.data.models import Role, Setting
    from storage.services.users import set_user

    with session_scope(bot.engine) as s:
        set_user(s, telegram_id=PEMANTAU, role=Role.PEMANTAU, nama="Bappeda", actor="t")
    await bot.say(PEMANTAU, "/laporan rekap 3 2022")
    name, _, _ = _document(bot, PEMANTAU)
    assert name == "rekap-kabupaten-2022-tw3.xlsx"
    hint = bot.api.texts(PEMANTAU)[-1]
    assert "monev opd ttd" in hint and "--nama" in hint, hint
    with session_scope(bot.engine) as s:
        s.add(Setting(key="rekap_nama", value="Ir. Budi"))
    before = len(bot.api.texts(PEMANTAU))
    await bot.say(PEMANTAU, "/laporan rekap 3 2022")
    assert not any("monev opd ttd" in t for t in bot.api.texts(PEMANTAU)[before:])


def test_rekap_csv_reads_back_with_indonesian_rules(seeded_ro: Engine) -> None:
    with read_scope(seeded_ro) as s:
        name, content = rekap_bytes(s, 2022, 3, fmt="csv")
        _, xlsx = export_bytes(s, 1, 2022, 3)
    assert name.endswith(".csv") and xlsx
    [row] = read_rows(content)
    assert number(row["Pagu (Rp)"]) == 9_610_718_634
    assert number(row["Serapan (%)"]) is not None and "," in row["Serapan (%)"]


def test_cli_rekap_signer_hint_and_template_of_a_new_office(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.main import main

    assert main(["summary", "--tahun", "2022", "--tw", "3"]) == 0  # the demo office, 2022
    assert main(["export", "--rekap", "--tahun", "2022", "--tw", "3", "-o", "r.xlsx"]) == 0
    assert "monev opd ttd" in capsys.readouterr().out
    assert main(["opd", "ttd", "--nama", "Ir. Budi", "--nip", "197001012000031001"]) == 0
    assert main(["export", "--rekap", "--tahun", "2022", "--tw", "3", "-o", "r.xlsx"]) == 0
    assert "monev opd ttd" not in capsys.readouterr().out
    # A new office: its template is for the year the kabupaten reports on, with the plan
    # sheet (saying when it fills), not for this calendar year without one.
    init = ["init", "--opd", "Dinas Kesehatan", "--singkatan", "Dinkes", "--kepala", "dr. A"]
    assert main([*init, "--nip", "198001012005011001", "--bidang", "yan:Pelayanan:2"]) == 0
    capsys.readouterr()
    assert main(["template", "--opd", "dinkes"]) == 0
    out = capsys.readouterr().out
    assert "rencana-2022.xlsx" in out, out
    wb = load_workbook(workdir / "rencana-2022.xlsx")
    assert "Rencana Penarikan" in wb.sheetnames
    note = str(wb["Rencana Penarikan"]["A2"].value)
    assert "monev import" in note and "monev rencana impor" in note
    # The demo office's template carries the sheet with its sub kegiatan, as before.
    assert main(["template", "--opd", "diskoperindag", "-o", "demo.xlsx"]) == 0
    ws = load_workbook(workdir / "demo.xlsx")["Rencana Penarikan"]
    assert ws.max_row > 50


def test_stored_times_read_as_wib_whatever_the_server_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time
    from datetime import UTC, datetime

    from bot.settings import wib

    monkeypatch.setenv("TZ", "America/New_York")  # a server clock set to another zone
    time.tzset()
    try:
        naive = datetime(2022, 12, 31, 20, 30)  # as SQLite gives a stored UTC time back
        assert wib(naive).strftime("%Y-%m-%d %H:%M") == "2023-01-01 03:30"
        assert wib(naive.replace(tzinfo=UTC)) == wib(naive)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
