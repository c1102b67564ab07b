"""/lapor through the real Application: a whole submission, refusals, restarts, conflicts,
verification and reopening."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.console import open_offline
from bot.context import FIGURE_CACHE
from bot.settings import Settings
from storage.data.db import read_scope, session_scope
from storage.data.models import Draft, DraftStatus, Pelaporan, Realisasi, Role, StatusLaporan
from storage.services.cache import FigureCache
from storage.services.office import copy_year
from storage.services.queries import YearData, year_data
from storage.services.users import find_bidang, set_user
from tests.bot_harness import ADMIN, KEPALA, Bot

OP1, OP2, OP_DAG, VERIF = 9401, 9402, 9403, 9404


def _users(engine: Engine) -> None:
    with session_scope(engine) as s:
        kop = find_bidang(s, text="koperasi", opd_id=1)
        dag = find_bidang(s, text="perdagangan", opd_id=1)
        set_user(s, telegram_id=KEPALA, role=Role.KEPALA, nama="Kepala Dinas", actor="t")
        set_user(s, telegram_id=VERIF, role=Role.VERIFIKATOR, nama="Verifikator", actor="t")
        set_user(
            s,
            telegram_id=OP1,
            role=Role.OPERATOR,
            bidang_id=kop.id,
            nama="Operator Satu",
            actor="t",
        )
        set_user(
            s, telegram_id=OP2, role=Role.OPERATOR, bidang_id=kop.id, nama="Operator Dua", actor="t"
        )
        set_user(
            s, telegram_id=OP_DAG, role=Role.OPERATOR, bidang_id=dag.id, nama="Op Dagang", actor="t"
        )


async def _open(engine: Engine) -> Bot:
    settings = Settings(MONEV_ADMIN_IDS=str(ADMIN), DATABASE_URL="", TELEGRAM_BOT_TOKEN="")
    app, api = await open_offline(settings, engine)
    return Bot(app, api, engine)


async def _close(bot: Bot) -> None:
    await bot.app.stop()
    await bot.app.shutdown()


@pytest.fixture
async def bot(seeded: Engine) -> AsyncIterator[Bot]:
    _users(seeded)
    b = await _open(seeded)
    try:
        yield b
    finally:
        await _close(b)


def _button(bot: Bot, user: int, startswith: str) -> str:
    for label, data in bot.buttons(user):
        if label.startswith(startswith):
            return data
    raise AssertionError(f"no button {startswith!r} in {bot.buttons(user)}")


async def _start_tw4(bot: Bot, user: int = OP1) -> str:
    out = await bot.say(user, "/lapor")
    assert "TW IV 2022" in out, out
    return await bot.press(user, _button(bot, user, "Isi TW IV 2022"))


# Koperasi's TW IV plan: three leaves (two sub kegiatan and a kegiatan without sub kegiatan).
KOP_TW4 = [("21.000.000", "93"), ("Rp 120.000.000", "80,5"), ("23 jt", "95")]


async def _fill_figures(bot: Bot, user: int = OP1, rows=KOP_TW4) -> None:  # type: ignore[no-untyped-def]
    for anggaran, fisik in rows:
        assert "realisasi fisik" in (await bot.say(user, anggaran)).lower()
        await bot.say(user, fisik)
        await bot.press(user, _button(bot, user, "Lewati"))


async def _finish_narrative(bot: Bot, user: int = OP1) -> str:
    out = ""
    for _ in range(20):
        labels = [label for label, _ in bot.buttons(user)]
        if any(label.startswith("📨 Kirim") for label in labels):
            return out
        quick = next(
            (
                data
                for label, data in bot.buttons(user)
                if label.startswith(("Tetap seperti", "Tetap"))
            ),
            None,
        )
        if quick:
            out = await bot.press(user, quick)
        else:
            out = await bot.say(
                user, "12,5" if "indikator" in bot.api.last(user).text else "Tidak ada"
            )
    raise AssertionError("never reached the review")


async def test_full_submission_with_restart_halfway(seeded: Engine) -> None:
    _users(seeded)
    bot = await _open(seeded)
    out = await _start_tw4(bot)
    assert "Mulai mengisi laporan TW IV 2022" in out and "Koperasi" in out
    prompt = bot.api.last(OP1).text or ""
    assert "Pagu: Rp 22.499.800" in prompt and "TW lalu: realisasi Rp 20.520.600" in prompt
    # first sub kegiatan by typing, with a refusal on the way
    refused = await bot.say(OP1, "30.000.000")
    assert "melebihi pagu Rp 22.499.800" in refused
    await bot.say(OP1, "21.000.000")
    assert "0–100" in await bot.say(OP1, "130")
    await bot.say(OP1, "93")
    await bot.press(OP1, _button(bot, OP1, "Lewati"))
    # the bot restarts: a new Application on the same database
    await _close(bot)
    bot = await _open(seeded)
    # typing goes on where it stopped
    out = await bot.say(OP1, "Rp 120.000.000")
    assert "realisasi fisik" in out.lower()
    await bot.say(OP1, "80,5")
    await bot.press(OP1, _button(bot, OP1, "Lewati"))
    await bot.say(OP1, "23 jt")
    await bot.press(OP1, _button(bot, OP1, "Sama dengan TW lalu"))
    await bot.say(OP1, "Dana cair akhir Desember")
    await _finish_narrative(bot)
    review = bot.api.last(OP1).text or ""
    assert "periksa sebelum mengirim" in review
    assert "Rp 21.000.000" in review and "Rp 120.000.000" in review and "Rp 23.000.000" in review
    total = 21_000_000 + 120_000_000 + 23_000_000
    assert "Rp 164.000.000" in review and "84,67%" in review  # 164.000.000 / 193.690.000
    before_verif = len(bot.api.sent(VERIF))
    sent = await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    assert "terkirim" in sent
    # verifikator and kepala receive it with buttons
    request = bot.api.sent(VERIF)[before_verif:][-1]
    assert "Laporan masuk" in (request.text or "") and "Rp 164.000.000" in (request.text or "")
    assert any(d and d.startswith("vf:ok:") for row in bot.api.buttons(request) for _, d in row)
    assert any("Laporan masuk" in (c.text or "") for c in bot.api.sent(KEPALA))
    # the figures are visible at once
    answer = await bot.say(KEPALA, "serapan anggaran tw4 koperasi")
    assert "TW IV 2022" in answer and "Rp 164.000.000" in answer and "84,67%" in answer
    assert total == 164_000_000
    with read_scope(seeded) as s:
        p = s.exec(select(Pelaporan).where(Pelaporan.triwulan == 4, Pelaporan.tahun == 2022)).one()
        assert p.status == StatusLaporan.DIAJUKAN
    await _close(bot)


async def test_refusals_say_what_to_type(bot: Bot) -> None:
    await _start_tw4(bot)
    out = await bot.say(OP1, "banyak sekali")
    assert "bukan jumlah rupiah" in out and "Contoh" in out
    out = await bot.say(OP1, "1.000.000")  # below TW III's 20.520.600: asks to confirm
    assert "lebih kecil daripada triwulan lalu" in out
    await bot.press(OP1, _button(bot, OP1, "Ya, benar"))
    assert "persen" in (bot.api.last(OP1).text or "")
    assert "bukan persentase" in await bot.say(OP1, "sembilan puluh")


async def test_money_as_offices_write_it_and_an_ambiguous_amount_asked_back(bot: Bot) -> None:
    await _start_tw4(bot)
    out = await bot.say(OP1, "21.000,5")
    assert "meragukan" in out and "Rp 21.000 atau Rp 21.000.500" in out
    assert "persen" not in out  # still on the amount: nothing was taken
    assert "realisasi fisik" in (await bot.say(OP1, "Rp. 21.000.000,00")).lower()
    await bot.say(OP1, "93")
    await bot.press(OP1, _button(bot, OP1, "Lewati"))
    assert "realisasi fisik" in (await bot.say(OP1, "Rp 120.000.000,-")).lower()
    await bot.say(OP1, "80,5")
    await bot.press(OP1, _button(bot, OP1, "Lewati"))
    assert "realisasi fisik" in (await bot.say(OP1, "23 juta rupiah")).lower()
    await bot.say(OP1, "95")
    await bot.press(OP1, _button(bot, OP1, "Lewati"))
    review = await _finish_narrative(bot)
    review = bot.api.last(OP1).text or review
    assert "Rp 21.000.000" in review and "Rp 120.000.000" in review and "Rp 23.000.000" in review


async def test_batal_keeps_the_draft_and_lapor_offers_to_continue(bot: Bot) -> None:
    await _start_tw4(bot)
    await bot.say(OP1, "21.000.000")
    out = await bot.say(OP1, "/batal")
    assert "tetap tersimpan" in out and "1 dari 3" in out
    # after /batal, typing is a question again
    assert "Rp" in await bot.say(OP1, "serapan koperasi tw3")
    out = await bot.say(OP1, "/lapor")
    assert "Lanjutkan" in [label for label, _ in bot.buttons(OP1)]
    await bot.press(OP1, _button(bot, OP1, "Lanjutkan"))
    assert "realisasi fisik" in (bot.api.last(OP1).text or "").lower()
    # Mulai ulang throws the old draft away
    await bot.say(OP1, "/lapor")
    await bot.press(OP1, _button(bot, OP1, "Mulai ulang"))
    assert "Sub kegiatan" in (bot.api.last(OP1).text or "") and "(1/3)" in (
        bot.api.last(OP1).text or ""
    )


async def test_stale_foreign_and_crafted_buttons(bot: Bot) -> None:
    await _start_tw4(bot)
    same = _button(bot, OP1, "Sama dengan TW lalu")
    await bot.press(OP1, same)  # answers the anggaran step
    again = await bot.press(OP1, same)  # a double tap
    assert "langkah yang sudah lewat" in again
    with read_scope(bot.engine) as s:
        d = s.exec(select(Draft).where(Draft.status == DraftStatus.AKTIF)).one()
    # another operator (another bidang) pressing it, e.g. in a group chat
    foreign = await bot.press(OP_DAG, same, chat_id=OP1)
    assert "milik pengguna lain" in foreign
    crafted = await bot.press(OP_DAG, f"lp:{d.id}:review:send")
    assert "milik pengguna lain" in crafted
    # crafted period for another bidang still starts a draft for the presser's own bidang
    await bot.press(OP_DAG, "lp:new:2022.4:go")
    with read_scope(bot.engine) as s:
        drafts = s.exec(select(Draft).where(Draft.status == DraftStatus.AKTIF)).all()
        dag = find_bidang(s, text="perdagangan", opd_id=1)
        assert {x.bidang_id for x in drafts if x.id != d.id} == {dag.id}
    # the kepala or a stranger can't use /lapor buttons at all
    assert "operator bidang" in await bot.press(KEPALA, "lp:new:2022.4:go")
    assert "belum terdaftar" in await bot.press(9999, f"lp:{d.id}:review:send")


async def _submit_all(bot: Bot, user: int = OP1) -> None:
    await _start_tw4(bot, user)
    await _fill_figures(bot, user)
    await _finish_narrative(bot, user)
    await bot.press(user, _button(bot, user, "📨 Kirim"))


async def test_two_operators_no_lost_update(bot: Bot) -> None:
    await _start_tw4(bot, OP1)
    await _start_tw4(bot, OP2)
    # OP2 fills and submits first
    await _fill_figures(bot, OP2, [("20.600.000", "92"), ("110.000.000", "75"), ("22,9 jt", "93")])
    await _finish_narrative(bot, OP2)
    assert "terkirim" in await bot.press(OP2, _button(bot, OP2, "📨 Kirim"))
    # VERIF returns it so that the quarter is open again
    request = [c for c in bot.api.sent(VERIF) if "Laporan masuk" in (c.text or "")][-1]
    back = next(d for row in bot.api.buttons(request) for _, d in row if d.startswith("vf:back"))
    await bot.press(VERIF, back)
    await bot.say(VERIF, "Angka sub kegiatan pertama perlu dicek")
    # OP1 now sends a draft begun before OP2's figures existed: stopped, difference shown
    await _fill_figures(bot, OP1)
    await _finish_narrative(bot, OP1)
    out = await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    assert "sudah diubah orang lain" in out
    assert "sekarang Rp 20.600.000, draf Anda Rp 21.000.000" in out
    with read_scope(bot.engine) as s:
        vals = sorted(
            r.anggaran for r in s.exec(select(Realisasi).where(Realisasi.triwulan == 4)).all()
        )
        assert vals == [20_600_000, 22_900_000, 110_000_000]


async def test_return_resubmit_approve_lock_reopen(bot: Bot) -> None:
    await _submit_all(bot)
    request = [c for c in bot.api.sent(VERIF) if "Laporan masuk" in (c.text or "")][-1]
    data = {label: d for row in bot.api.buttons(request) for label, d in row}
    # the submitter can't approve their own report, nor can another operator
    assert "tidak diizinkan" in await bot.press(OP2, data["✅ Setujui"])
    await bot.press(VERIF, data["↩️ Kembalikan"])
    assert "terlalu singkat" in await bot.say(VERIF, "x")
    before = len(bot.api.sent(OP1))
    await bot.say(VERIF, "Realisasi fisik sub kegiatan kedua terlalu tinggi")
    told = "\n".join(c.text or "" for c in bot.api.sent(OP1)[before:])
    assert "dikembalikan" in told and "terlalu tinggi" in told
    # reopened for editing with the reason shown, figures prefilled
    out = await bot.say(OP1, "/lapor")
    assert "dikembalikan" in out and "terlalu tinggi" in out
    await bot.press(OP1, _button(bot, OP1, "Isi TW IV 2022"))
    assert "Tetap: Rp 21.000.000" in [label for label, _ in bot.buttons(OP1)]
    for _ in range(3):
        await bot.press(OP1, _button(bot, OP1, "Tetap"))
        await bot.press(OP1, _button(bot, OP1, "Tetap"))
        await bot.press(OP1, _button(bot, OP1, "Lewati"))
    await _finish_narrative(bot)
    assert "terkirim" in await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    request = [c for c in bot.api.sent(KEPALA) if "Laporan masuk" in (c.text or "")][-1]
    ok = next(d for row in bot.api.buttons(request) for _, d in row if d.startswith("vf:ok"))
    before = len(bot.api.sent(OP1))
    assert "disetujui" in await bot.press(KEPALA, ok)
    assert any("disetujui" in (c.text or "") for c in bot.api.sent(OP1)[before:])
    # a second approval tap is harmless
    assert "sudah disetujui" in await bot.press(VERIF, ok)
    # locked
    await bot.say(OP1, "/lapor")
    locked = await bot.press(OP1, "lp:new:2022.4:go")
    assert "disetujui dan dikunci" in locked
    # only an admin reopens, and it is audited
    assert "tidak diizinkan" in await bot.say(KEPALA, "/bukakembali koperasi 4 2022")
    assert "dibuka kembali" in await bot.say(ADMIN, "/bukakembali koperasi 4 2022")
    await bot.press(OP1, "lp:new:2022.4:go")
    assert "Sub kegiatan" in (bot.api.last(OP1).text or "")
    hist = await bot.say(KEPALA, "/riwayat pengawasan kekuatan")
    assert "Riwayat" in hist and "Rp 21.000.000" in hist and "Operator Satu" in hist
    # an operator of another bidang may not see that history
    assert "hanya dapat dilihat" in await bot.say(OP_DAG, "/riwayat pengawasan kekuatan")


async def test_lapor_sekarang_button_resumes_instead_of_discarding(bot: Bot) -> None:
    """The reminders' 'Lapor sekarang' button (lp:new:<tahun>.<tw>:go) never throws work away."""
    out = await bot.press(OP1, "lp:new:2022.4:go")
    assert "Mulai mengisi laporan TW IV 2022" in out
    await bot.say(OP1, "21.000.000")
    again = await bot.press(OP1, "lp:new:2022.4:go")
    assert "Melanjutkan draf laporan TW IV 2022" in again
    assert "realisasi fisik" in (bot.api.last(OP1).text or "").lower()
    with read_scope(bot.engine) as s:
        d = s.exec(select(Draft).where(Draft.status == DraftStatus.AKTIF)).one()
        assert '"anggaran": 21000000' in d.data


async def test_a_submission_and_its_approval_reload_only_their_office_year(bot: Bot) -> None:
    with session_scope(bot.engine) as s:
        copy_year(s, opd_id=1, dari=2022, ke=2021, actor="t")
    cache: FigureCache = bot.app.bot_data[FIGURE_CACHE]

    def cached(tahun: int) -> YearData:
        with cache.read(bot.engine) as s:
            return year_data(s, 1, tahun)

    y21, y22 = cached(2021), cached(2022)
    await _submit_all(bot)  # /lapor TW IV 2022 of Koperasi, sent
    assert cached(2021) is y21
    assert 4 not in y22.quarters_with_data()  # read before the submission
    fresh = cached(2022)  # refreshed (in place: no open session holds it)
    assert 4 in fresh.quarters_with_data()
    request = [c for c in bot.api.sent(KEPALA) if "Laporan masuk" in (c.text or "")][-1]
    ok = next(d for row in bot.api.buttons(request) for _, d in row if d.startswith("vf:ok"))
    assert "disetujui" in await bot.press(KEPALA, ok)
    assert cached(2021) is y21  # the approval touched 2022 only
