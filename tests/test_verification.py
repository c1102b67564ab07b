"""Issue 12 replayed through the real Application: nothing a user typed is lost, nothing is
approved that its approver was not shown, nothing waiting goes unnoticed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.offline.entities import parse_html
from bot.offline.updates import make_callback_update
from bot.views.budget import split_html
from storage.data.db import read_scope, session_scope
from storage.data.models import (
    AuditLog,
    CapaianSasaran,
    Finding,
    FindingKind,
    Pelaporan,
    Realisasi,
    Role,
    StatusLaporan,
)
from storage.services.users import set_user
from tests.bot_harness import KEPALA, Bot
from tests.csv_id import read_rows
from tests.test_lapor import (
    OP1,
    OP2,
    VERIF,
    _button,
    _close,
    _fill_figures,
    _finish_narrative,
    _open,
    _start_tw4,
    _submit_all,
    _users,
)

LATE_KEPALA = 9477


@pytest.fixture
async def bot(seeded: Engine) -> AsyncIterator[Bot]:
    _users(seeded)
    b = await _open(seeded)
    try:
        yield b
    finally:
        await _close(b)


def _requests(bot: Bot, user: int) -> list:  # type: ignore[type-arg]
    return [c for c in bot.api.sent(user) if "Laporan masuk" in (c.text or "")]


def _data(bot: Bot, call, prefix: str) -> str:  # type: ignore[no-untyped-def]
    return next(d for row in bot.api.buttons(call) for _, d in row if d.startswith(prefix))


def _all_texts(bot: Bot) -> list[str]:
    return [c.text or "" for c in bot.api.calls if c.text]


async def _return(bot: Bot, reason: str = "Angka fisik kedua perlu dicek ulang") -> None:
    back = _data(bot, _requests(bot, VERIF)[-1], "vf:back")
    await bot.press(VERIF, back)
    await bot.say(VERIF, reason)


async def test_case1_return_keeps_own_indicators_and_notes(bot: Bot) -> None:
    await _start_tw4(bot)
    await _fill_figures(bot)
    # own indicator values and notes, typed (never last quarter's)
    for _ in range(20):
        labels = [label for label, _ in bot.buttons(OP1)]
        if any(label.startswith("📨 Kirim") for label in labels):
            break
        last = bot.api.last(OP1).text or ""
        await bot.say(OP1, "99" if "indikator" in last else "Catatan sendiri operator")
    assert "terkirim" in await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    await _return(bot)
    await bot.say(OP1, "/lapor")
    await bot.press(OP1, _button(bot, OP1, "Isi TW IV 2022"))
    taps = 0
    # the first button of every step, as anyone does after many "Tetap" steps
    while not any(label.startswith("📨 Kirim") for label, _ in bot.buttons(OP1)):
        label, data = bot.buttons(OP1)[0]
        assert label.startswith("Tetap") or label == "Lewati", label  # empty KET stays empty
        if "indikator" in (bot.api.last(OP1).text or ""):
            assert label == "Tetap: 99,00%", label
        await bot.press(OP1, data)
        taps += 1
        assert taps < 40
    review = bot.api.last(OP1).text or ""
    assert "99,00%" in review and "Catatan sendiri operator" in review
    with read_scope(bot.engine) as s:
        assert {
            v.realisasi
            for v in s.exec(select(CapaianSasaran).where(CapaianSasaran.triwulan == 4)).all()
            if v.source == "entry"
        } == {99.0}


async def test_case1_one_correction_takes_a_few_taps(bot: Bot) -> None:
    await _submit_all(bot)
    await _return(bot)
    await bot.say(OP1, "/lapor")
    await bot.press(OP1, _button(bot, OP1, "Isi TW IV 2022"))
    assert "Ke ringkasan" not in [label for label, _ in bot.buttons(OP1)]
    await bot.say(OP1, "21.500.000")  # the one correction
    await bot.press(OP1, _button(bot, OP1, "Ke ringkasan"))
    review = bot.api.last(OP1).text or ""
    assert "periksa sebelum mengirim" in review and "Rp 21.500.000" in review
    assert "Rp 120.000.000" in review  # the rest kept
    assert "terkirim" in await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))


async def test_case2_old_setujui_never_approves_a_later_version(bot: Bot) -> None:
    await _submit_all(bot)
    old_kepala = _requests(bot, KEPALA)[-1]
    old_ok = _data(bot, old_kepala, "vf:ok")
    await _return(bot)
    # the kepala's message lost its buttons and says who returned it
    edits = [
        c
        for c in bot.api.calls
        if c.method == "editMessageText" and c.params.get("chat_id") == KEPALA
    ]
    assert edits and "dikembalikan oleh Verifikator" in (edits[-1].text or "")
    assert not bot.api.buttons(edits[-1])
    # resubmitted with another figure
    await bot.say(OP1, "/lapor")
    await bot.press(OP1, _button(bot, OP1, "Isi TW IV 2022"))
    await bot.say(OP1, "5.000.000")
    await bot.press(OP1, _button(bot, OP1, "Ya, benar"))
    await bot.press(OP1, _button(bot, OP1, "Ke ringkasan"))
    assert "terkirim" in await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    # the old button: refused, the current version shown with its own buttons
    out = await bot.press(KEPALA, old_ok)
    assert "sudah tidak berlaku" in out and "versi 2" in out and "Rp 5.000.000" in out
    with read_scope(bot.engine) as s:
        p = s.exec(select(Pelaporan).where(Pelaporan.triwulan == 4)).one()
        assert p.status == StatusLaporan.DIAJUKAN and p.version == 2
    current_ok = _data(bot, bot.api.last(KEPALA), "vf:ok")
    assert current_ok.endswith(":2")
    assert "disetujui" in await bot.press(KEPALA, current_ok)
    # the verifier's message of version 2 says who approved it, without buttons
    v_edits = [
        c
        for c in bot.api.calls
        if c.method == "editMessageText" and c.params.get("chat_id") == VERIF
    ]
    assert "disetujui oleh Kepala Dinas" in (v_edits[-1].text or "")
    # a button without a version (sent before versions existed) decides nothing
    with read_scope(bot.engine) as s:
        pid = s.exec(select(Pelaporan).where(Pelaporan.triwulan == 4)).one().id
    assert "sudah disetujui" in await bot.press(VERIF, f"vf:ok:{pid}")


async def test_case2_old_kembalikan_is_refused_too(bot: Bot) -> None:
    await _submit_all(bot)
    old_back = _data(bot, _requests(bot, KEPALA)[-1], "vf:back")
    await _return(bot)
    await bot.say(OP1, "/lapor")
    await bot.press(OP1, _button(bot, OP1, "Isi TW IV 2022"))
    await bot.say(OP1, "21.500.000")
    await bot.press(OP1, _button(bot, OP1, "Ke ringkasan"))
    await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    out = await bot.press(KEPALA, old_back)
    assert "sudah tidak berlaku" in out and "Rp 21.500.000" in out


async def test_case3_two_operators_pressing_kirim_at_once(bot: Bot) -> None:
    for op, rows in (
        (OP1, [("21.000.000", "93"), ("Rp 120.000.000", "80,5"), ("23 jt", "95")]),
        (OP2, [("21.000.000", "93"), ("Rp 120.000.000", "80,5"), ("23,5 jt", "95")]),
    ):
        await _start_tw4(bot, op)
        await _fill_figures(bot, op, rows)
        await _finish_narrative(bot, op)
    kirim1, kirim2 = _button(bot, OP1, "📨 Kirim"), _button(bot, OP2, "📨 Kirim")
    before = len(bot.api.calls)
    await asyncio.gather(
        bot.app.process_update(make_callback_update(bot.app.bot, kirim1, user_id=OP1)),
        bot.app.process_update(make_callback_update(bot.app.bot, kirim2, user_id=OP2)),
    )
    texts = [c.text or "" for c in bot.api.calls[before:] if c.text]
    assert sum("terkirim" in t for t in texts) == 1, texts
    assert sum("belum dikirim" in t for t in texts) == 1
    assert len([t for t in texts if "Laporan masuk" in t and "Verifikator" not in t]) >= 1
    loser = OP2 if any("terkirim" in (c.text or "") for c in bot.api.sent(OP1)[-3:]) else OP1
    notice = next(c for c in reversed(bot.api.sent(loser)) if "belum dikirim" in (c.text or ""))
    winner_name = "Operator Satu" if loser == OP2 else "Operator Dua"
    assert winner_name in (notice.text or "")
    with read_scope(bot.engine) as s:
        p = s.exec(select(Pelaporan).where(Pelaporan.triwulan == 4)).one()
        assert p.version == 1
    # the loser chooses to submit theirs over it: audited, verifiers told, version 2
    assert "terkirim" in await bot.press(loser, _button(bot, loser, "Kirim punya saya"))
    with read_scope(bot.engine) as s:
        p = s.exec(select(Pelaporan).where(Pelaporan.triwulan == 4)).one()
        assert p.version == 2
        assert s.exec(select(AuditLog).where(AuditLog.field.like("kirim menimpa%"))).first()
        mine = 23_000_000 if loser == OP1 else 23_500_000
        assert mine in {r.anggaran for r in s.exec(select(Realisasi)).all()}


async def test_case3_discard_keeps_the_other_submission(bot: Bot) -> None:
    await _start_tw4(bot, OP1)
    await _start_tw4(bot, OP2)
    await _fill_figures(bot, OP2, [("20.600.000", "92"), ("110.000.000", "75"), ("22,9 jt", "93")])
    await _finish_narrative(bot, OP2)
    await bot.press(OP2, _button(bot, OP2, "📨 Kirim"))
    await _fill_figures(bot, OP1)
    await _finish_narrative(bot, OP1)
    out = await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    assert "belum dikirim" in out and "Operator Dua" in out and "menunggu verifikasi" in out
    assert "dibuang" in await bot.press(OP1, _button(bot, OP1, "Buang draf saya"))
    with read_scope(bot.engine) as s:
        assert 20_600_000 in {r.anggaran for r in s.exec(select(Realisasi)).all()}


async def test_case4_late_kepala_finds_and_approves_with_verifikasi(bot: Bot) -> None:
    await _submit_all(bot)
    with session_scope(bot.engine) as s:
        set_user(s, telegram_id=LATE_KEPALA, role=Role.KEPALA, nama="Kepala Baru", actor="t")
    start = await bot.say(LATE_KEPALA, "/start")
    assert "1 laporan menunggu verifikasi" in start
    for words in ("laporan mana yang perlu saya setujui?", "ada yang menunggu verifikasi?"):
        asked = await bot.say(LATE_KEPALA, words)
        assert "1 laporan" in asked and "Koperasi" in asked, asked
    out = await bot.say(LATE_KEPALA, "/verifikasi")
    assert "1 laporan" in out and "Koperasi" in out and "Rp 164.000.000" in out
    ok = _data(bot, bot.api.last(LATE_KEPALA), "vf:ok")
    assert "disetujui" in await bot.press(LATE_KEPALA, ok)
    assert "Tidak ada laporan" in await bot.say(LATE_KEPALA, "/verifikasi")
    # everyone's earlier message says who approved it
    edits = [c.text or "" for c in bot.api.calls if c.method == "editMessageText"]
    assert any("disetujui oleh Kepala Baru" in t for t in edits)
    # an operator has no queue
    assert "Hanya verifikator" in await bot.say(OP2, "/verifikasi")


async def test_case5_unapproved_figures_are_marked_in_answers(bot: Bot) -> None:
    await _submit_all(bot)
    out = await bot.say(KEPALA, "serapan koperasi tw 4")
    assert "Rp 164.000.000" in out and "belum disetujui" in out and "Koperasi" in out
    ranking = await bot.say(KEPALA, "bidang mana serapannya paling rendah tw 4 2022?")
    assert "belum disetujui" in ranking
    ok = _data(bot, _requests(bot, KEPALA)[-1], "vf:ok")
    await bot.press(KEPALA, ok)
    assert "belum disetujui" not in await bot.say(KEPALA, "serapan koperasi tw 4")
    # an earlier quarter (imported report) is not marked
    assert "belum disetujui" not in await bot.say(KEPALA, "serapan koperasi tw 3")


async def test_case5_chart_captions_mark_unapproved_figures(bot: Bot) -> None:
    await _submit_all(bot)
    per_bidang = await bot.press(KEPALA, "gr:bidang:0:4:2022")
    assert "Koperasi: " in per_bidang and "(belum disetujui)" in per_bidang
    assert "Angka bidang Koperasi belum disetujui" in per_bidang
    tren = await bot.press(KEPALA, "gr:tren:0:4:2022")
    tw4 = next(line for line in tren.splitlines() if line.startswith("• TW IV"))
    tw3 = next(line for line in tren.splitlines() if line.startswith("• TW III"))
    assert "belum disetujui" in tw4 and "belum disetujui" not in tw3
    ok = _data(bot, _requests(bot, KEPALA)[-1], "vf:ok")
    await bot.press(KEPALA, ok)
    assert "belum disetujui" not in await bot.press(KEPALA, "gr:bidang:0:4:2022")


async def test_case6_drop_in_fisik_and_indicator_asks_first(bot: Bot) -> None:
    await _start_tw4(bot)
    await bot.say(OP1, "21.000.000")
    out = await bot.say(OP1, "1")  # TW III fisik is higher
    assert "lebih kecil daripada triwulan lalu" in out
    await bot.press(OP1, _button(bot, OP1, "Ketik ulang"))
    await bot.say(OP1, "1")
    await bot.press(OP1, _button(bot, OP1, "Ya, benar"))
    assert "keterangan" in (bot.api.last(OP1).text or "")
    await bot.press(OP1, _button(bot, OP1, "Lewati"))
    for anggaran, fisik in [("Rp 120.000.000", "80,5"), ("23 jt", "95")]:
        await bot.say(OP1, anggaran)
        await bot.say(OP1, fisik)
        await bot.press(OP1, _button(bot, OP1, "Lewati"))
    out = await bot.say(OP1, "0,5")  # the first indicator, below last quarter's
    assert "Realisasi indikator kumulatif" in out and "lebih kecil" in out
    await bot.press(OP1, _button(bot, OP1, "Ya, benar"))
    await _finish_narrative(bot)
    review = bot.api.last(OP1).text or ""
    assert "realisasi fisik kumulatif turun" in review and "Indikator sasaran" in review
    assert "terkirim" in await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    with read_scope(bot.engine) as s:
        kinds = {f.kind for f in s.exec(select(Finding).where(Finding.triwulan == 4)).all()}
        assert FindingKind.INDICATOR_DOWN in kinds and FindingKind.CUMULATIVE_DOWN in kinds


async def test_case7_lapor_proposes_the_quarter_that_needs_the_operator(bot: Bot) -> None:
    await _submit_all(bot)
    out = await bot.say(OP1, "/lapor")
    assert "TW IV 2022" not in out.split("Pilih")[0], out
    await _return(bot)
    out = await bot.say(OP1, "/lapor")
    assert "TW IV 2022" in out and "dikembalikan" in out


def test_case10_split_never_cuts_and_stays_under_telegram_limit() -> None:
    lines = [f"{i}. <b>Sub kegiatan {i}</b>: Rp 31.964.015 menjadi Rp 1.000 ✅" for i in range(400)]
    text = "\n".join(lines)
    parts = split_html(text)
    assert len(parts) > 1
    # Telegram counts the visible text (tags left out), in UTF-16 units
    assert all(len(parse_html(p)[0].encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert "\n".join(parts) == text  # cut between lines only: nothing lost, no word split
    long_line = "kata " * 2000
    parts = split_html(long_line.strip())
    assert all(not p.startswith(" ") and p.split()[-1] == "kata" for p in parts)
    assert " ".join(parts).split() == long_line.split()


async def test_case4_console_submits_and_approves_with_peran(seeded: Engine) -> None:
    from bot.console import ConsoleSession, open_offline
    from bot.settings import Settings

    settings = Settings(MONEV_ADMIN_IDS="", DATABASE_URL="", TELEGRAM_BOT_TOKEN="")
    app, api = await open_offline(settings, seeded)
    out: list[str] = []
    con = ConsoleSession(app, api, write=out.append)

    async def tap(label: str) -> None:
        i = next(i for i, (lb, _, _) in enumerate(con.buttons, 1) if lb.startswith(label))
        await con.send(str(i))

    try:
        await con.send("/peran operator koperasi")
        await con.send("/lapor")
        await tap("Isi TW IV 2022")
        for anggaran, fisik in [("21.000.000", "93"), ("120.000.000", "80,5"), ("23 jt", "95")]:
            await con.send(anggaran)
            await con.send(fisik)
            await tap("Lewati")
        while not any(lb.startswith("📨 Kirim") for lb, _, _ in con.buttons):
            quick = next((lb for lb, _, _ in con.buttons if lb.startswith("Tetap")), None)
            await (tap(quick) if quick else con.send("99" if "ndikator" in out[-2] else "Ada"))
        await tap("📨 Kirim")
        assert any("terkirim" in line for line in out)
        await con.send("/peran kepala")
        assert any("1 laporan menunggu verifikasi" in line for line in out[-5:])
        await con.send("/verifikasi")
        await tap("✅ Setujui")
        with read_scope(seeded) as s:
            p = s.exec(select(Pelaporan).where(Pelaporan.triwulan == 4)).one()
            assert p.status == StatusLaporan.DISETUJUI
    finally:
        await app.stop()
        await app.shutdown()


async def test_case5_export_marks_unapproved_and_can_leave_them_out(bot: Bot) -> None:

    from storage.files.export import build_report, export_bytes
    from storage.services.users import find_bidang

    await _submit_all(bot)
    with read_scope(bot.engine) as s:
        kop = find_bidang(s, text="koperasi", opd_id=1)
        assert kop is not None
        opd_id = kop.opd_id
        table = build_report(s, opd_id, 2022, 4)
        assert table.unverified == ["Koperasi (menunggu verifikasi)"]
        _, data = export_bytes(s, opd_id, 2022, 4, fmt="csv")
        rows = read_rows(data)
        waiting = [
            r for r in rows if r["Status Verifikasi"] == "belum disetujui (menunggu verifikasi)"
        ]
        assert waiting and "21000000" in {r["Realisasi Anggaran (Rp)"] for r in waiting}
        _, data = export_bytes(s, opd_id, 2022, 4, fmt="csv", approved_only=True)
        rows = read_rows(data)
        assert "21000000" not in {r["Realisasi Anggaran (Rp)"] for r in rows}
