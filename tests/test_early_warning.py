"""Early warning: the office's spending plan, deviation, projection, the questions, the chart,
the weekly digest and the plan sheet, on the 2022 demo data (TW I–III reported).

Koperasi at TW II 2022 (pagu in force, realisasi): program 26 (sub kegiatan 28) Rp 22.499.800,
Rp 635.000; program 60 (kegiatan 61, no sub kegiatan) Rp 146.440.700, Rp 63.198.350;
program 29 (sub kegiatan 31) Rp 24.749.500, Rp 15.432.100.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.data.db import read_scope, session_scope
from storage.data.models import AuditLog, RencanaPenarikan, SentReminder
from storage.domain.early_warning import (
    PlanError,
    PlanSource,
    check_plan,
    deviation,
    fill_path,
    national_path,
    project,
)
from storage.files.plan_sheet import SHEET, import_rencana
from storage.files.template import write_template
from storage.services.early_warning import (
    EarlyWarningError,
    backtest,
    early_warning,
    set_rencana,
)
from tests.bot_harness import KEPALA, Bot

# The plan fixture: cumulative rupiah TW I..IV of the Koperasi leaves.
PLAN = {
    28: (2_000_000, 10_000_000, 18_000_000, 22_499_800),
    61: (30_000_000, 70_000_000, 110_000_000, 146_440_700),
    31: (5_000_000, 12_000_000, 20_000_000, 24_749_500),
}
KOPERASI = 2


def fill_plan(path: Path, plan: dict[int, tuple[int, ...]]) -> None:
    """Type amounts into the template's plan sheet as an operator would (by node id)."""
    wb = load_workbook(path)
    ws = wb[SHEET]
    for row in ws.iter_rows(min_row=5):
        if row[0].value in plan:
            for q, amount in enumerate(plan[row[0].value]):  # type: ignore[index]
                row[4 + q].value = amount
    wb.save(path)


def import_plan(engine: Engine, folder: Path, plan: dict[int, tuple[int, ...]] = PLAN) -> None:
    path = folder / "rencana-2022.xlsx"
    with read_scope(engine) as s:
        write_template(s, path, opd_id=1, tahun=2022)
    fill_plan(path, plan)
    with session_scope(engine) as s:
        result = import_rencana(s, path, opd_id=1, dari_tw=1, actor="import:test")
    assert result.errors == [] and result.changed == len(plan)


# --- the arithmetic ------------------------------------------------------------------------


def test_national_path_deviation_and_projection_to_the_rupiah() -> None:
    bench = {1: 15.0, 2: 40.0, 3: 60.0, 4: 90.0}
    assert national_path(22_499_800, bench) == (3_374_970, 8_999_920, 13_499_880, 20_249_820)
    d = deviation(635_000, 10_000_000, 22_499_800)
    assert (d.rupiah, d.points, d.beyond(5.0)) == (-9_365_000, -41.62, True)
    assert not deviation(63_198_350, 70_000_000, 146_440_700).beyond(5.0)  # −4,64 poin
    p = project(PLAN[28], 635_000, 22_499_800, at=2)
    # 635.000 + (22.499.800 − 10.000.000) × 635.000 / 10.000.000 = 635.000 + 793.737
    assert (p.amount, p.remaining_plan, p.capped) == (1_428_737, 12_499_800, False)
    capped = project(PLAN[31], 15_432_100, 24_749_500, at=2)
    assert (capped.amount, capped.capped) == (24_749_500, True)
    # Nothing planned yet: the node is assumed to keep to its plan.
    assert project((0, 0, 50, 100), 0, 100, at=2).amount == 100
    assert fill_path([None, 10, None, 30]) == (0, 10, 10, 30)


def test_a_plan_must_be_cumulative_and_within_pagu() -> None:
    with pytest.raises(PlanError, match="kumulatif"):
        check_plan([10, 5, None, None], 100)
    with pytest.raises(PlanError, match="melebihi pagu"):
        check_plan([10, 20, 30, 101], 100)
    with pytest.raises(PlanError, match="kosong"):
        check_plan([None, None, None, None], 100)


# --- the service on the demo data -------------------------------------------------------------


def test_national_path_when_no_plan_exists(seeded: Engine) -> None:
    with read_scope(seeded) as s:
        ew = early_warning(s, 1, 2022, 2, bidang_id=KOPERASI)
    assert ew.total.source is PlanSource.NASIONAL
    assert "pola nasional 15/40/60/90%" in ew.source_label
    first = ew.at_risk[0]
    # Program 26 on the national path: 40% of Rp 22.499.800 by TW II.
    assert (first.id, first.rencana, first.realisasi) == (26, 8_999_920, 635_000)
    assert first.deviasi is not None and first.deviasi.rupiah == -8_364_920


def test_imported_plan_gives_deviation_and_projection_to_the_rupiah(
    seeded: Engine, tmp_path: Path
) -> None:
    import_plan(seeded, tmp_path)
    with read_scope(seeded) as s:
        ew = early_warning(s, 1, 2022, 2, bidang_id=KOPERASI)
    assert ew.total.source is PlanSource.KANTOR and ew.source_label == "rencana kantor"
    rows = {r.id: r for r in ew.rows}
    p26, p60, p29 = rows[26], rows[60], rows[29]
    assert (p26.rencana, p26.deviasi.rupiah, p26.deviasi.points) == (10_000_000, -9_365_000, -41.62)  # type: ignore[union-attr]
    assert (p26.proyeksi.amount, p26.berisiko, p26.menyimpang) == (1_428_737, 21_071_063, True)  # type: ignore[union-attr]
    assert (p60.deviasi.rupiah, p60.deviasi.points, p60.menyimpang) == (-6_801_650, -4.64, False)  # type: ignore[union-attr]
    assert (p60.proyeksi.amount, p60.berisiko) == (132_211_580, 14_229_120)  # type: ignore[union-attr]
    assert (p29.proyeksi.amount, p29.berisiko) == (24_749_500, 0)  # type: ignore[union-attr]
    assert [r.id for r in ew.at_risk] == [26, 60]
    # The bidang: the sums of its programs.
    assert ew.total.rencana == 92_000_000 and ew.total.realisasi == 79_265_450
    assert ew.total.proyeksi is not None and ew.total.proyeksi.amount == 158_389_817


def test_a_plan_revision_keeps_earlier_quarters_and_is_audited(
    seeded: Engine, tmp_path: Path
) -> None:
    import_plan(seeded, tmp_path)
    with session_scope(seeded) as s:
        changed = set_rencana(
            s,
            node_id=28,
            dari_tw=3,
            values=(2_000_000, 10_000_000, 12_000_000, 15_000_000),
            actor="cli",
            alasan="pergeseran",
        )
        assert changed
        with pytest.raises(EarlyWarningError, match="melebihi pagu"):
            set_rencana(s, node_id=28, dari_tw=3, values=(1, 2, 3, 10**12), actor="cli")
        with pytest.raises(EarlyWarningError, match="per sub kegiatan"):
            set_rencana(s, node_id=26, dari_tw=1, values=(1, 2, 3, 4), actor="cli")
    with read_scope(seeded) as s:
        tw2 = {r.id: r for r in early_warning(s, 1, 2022, 2, bidang_id=KOPERASI).rows}
        tw3 = {r.id: r for r in early_warning(s, 1, 2022, 3, bidang_id=KOPERASI).rows}
        rows = s.exec(select(RencanaPenarikan).where(RencanaPenarikan.node_id == 28)).all()
        audit = s.exec(select(AuditLog).where(AuditLog.entity == "rencana_penarikan")).all()
    assert tw2[26].path == PLAN[28]  # TW II still measured against the plan of its time
    assert tw3[26].path == (2_000_000, 10_000_000, 12_000_000, 15_000_000)
    assert sorted(r.triwulan for r in rows) == [1, 3]
    revised = [a for a in audit if "mulai TW III" in a.field]
    assert {(a.old, a.new) for a in revised} == {("18000000", "12000000"), ("22499800", "15000000")}
    assert all("pergeseran" in a.field for a in revised)


def test_plan_sheet_refuses_a_wrong_row_and_changes_nothing(seeded: Engine, tmp_path: Path) -> None:
    path = tmp_path / "rencana.xlsx"
    with read_scope(seeded) as s:
        write_template(s, path, opd_id=1, tahun=2022)
    fill_plan(path, {28: (5, 4, 3, 2), 31: (1, 2, 3, 4)})
    with session_scope(seeded) as s:
        result = import_rencana(s, path, opd_id=1, dari_tw=1, actor="t")
        assert any("kumulatif" in e for e in result.errors)
        s.rollback()
    with read_scope(seeded) as s:
        assert s.exec(select(RencanaPenarikan)).all() == []


def test_backtest_projects_tw3_from_tw2_per_bidang(seeded: Engine) -> None:
    with read_scope(seeded) as s:
        rows = {r.bidang: r for r in backtest(s, 1, 2022)}
    kop = rows["Koperasi"]
    assert kop.actual == 144_901_250 and kop.projected == 118_898_175
    assert kop.error == -26_003_075 and kop.error_points == -13.43
    assert set(rows) == {"Sekretariat", "Koperasi", "UMKM", "Perdagangan", "Perindustrian"}


# --- through the bot ----------------------------------------------------------------------------

MUST_SHOW = "program mana yang berisiko tidak terserap tw2"


async def test_must_show_national_path_at_tw2(bot: Bot) -> None:
    text = await bot.say_all(KEPALA, MUST_SHOW)
    assert "Peringatan dini · Seluruh dinas · TW II 2022" in text
    assert "Pembanding: pola nasional 15/40/60/90% (belum ada rencana penarikan kantor)" in text
    # the first screen: rounded rupiah; every figure to the rupiah on the pages after it
    assert "1. PROGAM PENINGKATAN SARANA DISTRIBUSI PERDAGANGAN (Perdagangan): berisiko " in text
    lines = text.splitlines()
    exact = lines.index("Angka lengkap (rupiah)")
    first = exact + lines[exact:].index(next(x for x in lines[exact:] if x.startswith("1. ")))
    assert "PROGAM PENINGKATAN SARANA DISTRIBUSI PERDAGANGAN (Perdagangan)" in lines[first]
    assert "deviasi −Rp 685.745.432 (−36,41 poin)" in lines[first + 1]
    assert "berisiko Rp 1.542.927.221" in lines[first + 2]
    assert "Cara proyeksi" in text
    assert ("📊 Lihat grafik", "gr:rencana:0:2:2022") in bot.buttons(KEPALA)


async def test_questions_of_the_issue_are_understood(bot: Bot) -> None:
    text = await bot.say_all(KEPALA, "proyeksi serapan akhir tahun koperasi")
    assert "Peringatan dini · Bidang Koperasi · TW III 2022" in text
    assert "Proyeksi akhir tahun: Rp 193.690.000 dari pagu Rp 193.690.000" in text
    # "Furthest behind its plan" is a ranking by deviation from the plan (issue 24), the
    # kegiatan most behind first; "berisiko" ranks by rupiah at risk.
    text = await bot.say(KEPALA, "kegiatan apa yang paling tertinggal dari rencana tw3")
    assert "Peringkat kegiatan menurut deviasi dari rencana" in text and "TW III 2022" in text
    assert "1. Kegiatan Pembangunan dan Pengelolaan Sarana Distribusi Perd" in text
    text = await bot.say(KEPALA, "kegiatan apa yang berisiko tidak terserap tw3")
    assert "Kegiatan berisiko tidak terserap" in text and "TW III 2022" in text
    text = await bot.say(KEPALA, "peringatan dini")
    assert "Peringatan dini · Seluruh dinas" in text


async def test_plan_from_template_is_used_and_chart_has_figures(bot: Bot, tmp_path: Path) -> None:
    import_plan(bot.engine, tmp_path)
    text = await bot.say_all(KEPALA, "program mana yang berisiko tidak terserap koperasi tw2")
    assert "Pembanding: rencana kantor." in text
    assert "deviasi −Rp 9.365.000 (−41,62 poin)" in text
    assert "proyeksi Rp 1.428.737 · berisiko Rp 21.071.063" in text
    await bot.say(KEPALA, "grafik program berisiko tidak terserap koperasi tw2")
    call = bot.api.calls_of("sendPhoto")[-1]
    [(_name, png)] = call.files.values()
    caption = call.text or ""
    assert png.startswith(b"\x89PNG") and len(caption) <= 1024
    assert "pembanding: rencana kantor" in caption
    assert "Rp 635 rb dari rencana Rp 10 jt (−41,62 poin)" in caption


async def test_unapproved_figures_are_marked(bot: Bot) -> None:
    from storage.data.models import Pelaporan, StatusLaporan

    with session_scope(bot.engine) as s:
        row = s.exec(
            select(Pelaporan).where(
                Pelaporan.bidang_id == KOPERASI, Pelaporan.tahun == 2022, Pelaporan.triwulan == 2
            )
        ).one()
        row.status = StatusLaporan.DIAJUKAN
        s.add(row)
    text = await bot.say(KEPALA, "program mana yang berisiko tidak terserap koperasi tw2")
    assert "Koperasi" in text and "belum disetujui" in text


# --- the weekly digest ---------------------------------------------------------------------------


async def test_digest_once_across_a_restart_with_chart(seeded: Engine, tmp_path: Path) -> None:
    from telegram.ext import CallbackContext

    from bot.jobs.early_warning import LAST_DIGEST, send_digest
    from tests.test_reminders import GROUP, Clock, _add_people, close, open_bot, wib
    from tests.test_reminders import KEPALA as KEPALA_R

    _add_people(seeded)
    import_plan(seeded, tmp_path)
    with session_scope(seeded) as s:
        from storage.services.early_warning import set_digest_weekday
        from storage.services.schedule import set_group_chat

        set_digest_weekday(s, weekday=2, actor="t")  # Rabu
        set_group_chat(s, opd_id=1, chat_id=GROUP, actor="t")
    # Wednesday 4 January 2023, the 2022 figures are the latest.
    clock = Clock(wib(2023, 1, 4, 7, 59))
    first = await open_bot(seeded, clock, reminder_time=time(8, 0))
    try:
        await send_digest(CallbackContext(first.app))
        assert first.api.calls_of("sendPhoto") == []  # not before 08.00
        clock.now = wib(2023, 1, 4, 8, 0)
        await send_digest(CallbackContext(first.app))
        texts = [
            c for c in first.api.sent(KEPALA_R) if "Peringatan dini mingguan" in (c.text or "")
        ]
        assert len(texts) == 1
        assert "Pembanding: <b>rencana kantor sebagian" in (texts[0].text or "")
        photos = first.api.calls_of("sendPhoto")
        assert sorted(int(c.params["chat_id"]) for c in photos) == sorted([KEPALA_R, GROUP])
        assert "Rencana dan realisasi seluruh dinas, TW III 2022" in (photos[0].text or "")
        assert first.app.bot_data[LAST_DIGEST].sent == 2
    finally:
        await close(first)
    clock.now = wib(2023, 1, 5, 9, 0)
    second = await open_bot(seeded, clock)
    try:
        await send_digest(CallbackContext(second.app))
        assert second.api.calls_of("sendPhoto") == []
        clock.now = wib(2023, 1, 11, 8, 0)  # the next Wednesday: a new week
        await send_digest(CallbackContext(second.app))
        assert len(second.api.calls_of("sendPhoto")) == 2
    finally:
        await close(second)
    with read_scope(seeded) as s:
        kinds = sorted(
            r.kind for r in s.exec(select(SentReminder)).all() if r.kind.startswith("ew:")
        )
    assert kinds == ["ew:2023-W01"] * 2 + ["ew:2023-W02"] * 2


async def test_kepala_switches_the_digest_off_in_pengingat(seeded: Engine) -> None:
    from telegram.ext import CallbackContext

    from bot.jobs.early_warning import send_digest
    from tests.test_reminders import KEPALA as KEPALA_R
    from tests.test_reminders import Clock, _add_people, close, open_bot, wib

    _add_people(seeded)
    clock = Clock(wib(2023, 1, 2, 9, 0))  # Monday, the default weekday
    b = await open_bot(seeded, clock)
    try:
        text = await b.say(KEPALA_R, "/pengingat")
        assert "Peringatan dini mingguan: setiap Senin pukul 08.00 WIB" in text
        labels = [label for row in b.api.buttons(b.api.sent(KEPALA_R)[-1]) for label, _ in row]
        assert "Matikan peringatan mingguan" in labels
        text = await b.press(KEPALA_R, "peringatan:mati")
        assert "Peringatan dini mingguan: dimatikan" in text
        assert "Peringatan mingguan dimatikan." in text
        await send_digest(CallbackContext(b.app))
        assert not [c for c in b.api.sent(KEPALA_R) if "mingguan</b>" in (c.text or "")]
        # Nobody but a kepala can use the switch.
        from tests.test_reminders import OP

        assert "hanya kepala" in await b.press(OP["koperasi"], "peringatan:nyala")
    finally:
        await close(b)


def test_plan_chart_layout_is_clean_with_risk_and_incomplete_rows() -> None:
    from charts import render
    from charts.render_plan import build_rencana_realisasi
    from charts.spec import ChartMeta, PlanBar

    bars = [
        PlanBar("PROGAM PENINGKATAN SARANA DISTRIBUSI PERDAGANGAN", 753_278_832, 67_533_400,
                True, -36.41),
        PlanBar("PROGRAM PENUNJANG URUSAN PEMERINTAH DAERAH", 1_894_847_823, 1_907_554_921,
                False, 0.27),
        PlanBar("PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI", 8_999_920, None),
    ]  # fmt: skip
    fig = build_rencana_realisasi(bars, ChartMeta("Rencana dan realisasi", "TW II 2022"))
    assert render._check_layout(fig) == []
    texts = [t.get_text() for t in render._drawn_texts(fig)]
    assert "Rp 67,5 jt dari Rp 753 jt (−36,4 poin)" in texts
    assert "Realisasi, berisiko tidak terserap" in texts
    assert "rencana Rp 9 jt · realisasi belum lengkap" in texts


# --- the export's second sheet and the command line ----------------------------------------------


def test_export_has_the_plan_sheet_read_back(seeded: Engine, tmp_path: Path) -> None:
    from io import BytesIO

    from storage.files.export import export_bytes

    import_plan(seeded, tmp_path)
    with read_scope(seeded) as s:
        _name, data = export_bytes(s, 1, 2022, 2)
    wb = load_workbook(BytesIO(data))
    assert wb.sheetnames == ["TW II 2022", "Rencana dan Deviasi"]
    ws = wb["Rencana dan Deviasi"]
    assert "Pembanding: rencana kantor sebagian" in str(ws["A2"].value)
    rows = {r[2]: r for r in ws.iter_rows(min_row=6, values_only=True)}
    assert rows["PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI"] == (
        "Koperasi", "Program", "PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI", 22_499_800,
        "rencana kantor", 10_000_000, 635_000, -9_365_000, -41.62, "ya", 22_499_800,
        1_428_737, 21_071_063,
    )  # fmt: skip
    assert rows["Koperasi"][1] == "Bidang" and rows["Koperasi"][5] == 92_000_000
    sekretariat = rows["PROGRAM PENUNJANG URUSAN PEMERINTAH DAERAH"]
    assert sekretariat[4] == "pola nasional 15/40/60/90%" and sekretariat[5] == 1_894_847_823


def test_cli_template_plan_import_and_settings(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli.common import migrated_engine
    from bot.cli.main import main
    from bot.settings import Settings
    from storage.files.demo import SEED_FILE

    assert main(["import", str(SEED_FILE)]) == 0
    assert main(["template", "--tahun", "2022", "-o", "rencana.xlsx"]) == 0
    fill_plan(workdir / "rencana.xlsx", PLAN)
    capsys.readouterr()
    assert main(["rencana", "impor", "rencana.xlsx"]) == 0
    assert "berlaku mulai TW I: 3 sub kegiatan diubah, 0 tetap" in capsys.readouterr().out
    engine = migrated_engine(Settings())
    with read_scope(engine) as s:
        rows = {r.id: r for r in early_warning(s, 1, 2022, 2, bidang_id=KOPERASI).rows}
    assert rows[26].proyeksi is not None and rows[26].proyeksi.amount == 1_428_737
    assert rows[60].berisiko == 14_229_120
    engine.dispose()

    fill_plan(workdir / "rencana.xlsx", {28: (5_000_000, 4_000_000, 3_000_000, 2_000_000)})
    assert main(["rencana", "impor", "rencana.xlsx", "--dari-tw", "3"]) == 1
    err = capsys.readouterr().err
    assert "kumulatif" in err and "Tidak ada rencana yang berubah" in err
    assert "Traceback" not in err
    assert main(["rencana", "impor", "tidak-ada.xlsx"]) == 1
    assert "tidak ditemukan" in capsys.readouterr().err

    assert main(["peringatan", "--hari", "rabu", "--toleransi", "7,5"]) == 0
    out = capsys.readouterr().out
    assert "setiap Rabu pukul 08.00 WIB" in out and "Toleransi deviasi: 7,5 poin" in out
    assert main(["peringatan", "--hari", "senen"]) == 1
    assert "bukan nama hari" in capsys.readouterr().err


def test_names_are_never_formulas_in_the_plan_sheets(seeded: Engine, tmp_path: Path) -> None:
    from io import BytesIO

    from storage.data.models import Node
    from storage.files.export import export_bytes

    evil = '=HYPERLINK("http://x","klik")'
    with session_scope(seeded) as s:
        node = s.get(Node, 28)
        assert node is not None
        node.nama = evil
        s.add(node)
    with read_scope(seeded) as s:
        _name, data = export_bytes(s, 1, 2022, 2)
        write_template(s, tmp_path / "t.xlsx", opd_id=1, tahun=2022)
    for wb, sheet in (
        (load_workbook(BytesIO(data)), "Rencana dan Deviasi"),
        (load_workbook(tmp_path / "t.xlsx"), SHEET),
    ):
        cells = [c for row in wb[sheet].iter_rows() for c in row if c.value == evil]
        assert cells and all(c.data_type == "s" for c in cells)
