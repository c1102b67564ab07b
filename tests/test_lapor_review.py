"""Issue 27, /lapor and verification: a drop against a figure reported higher up, every
typed field on the review, notes carried over once, and what changed between versions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from storage.data.db import read_scope, session_scope
from storage.data.models import Finding, FindingKind, Narasi, Role
from storage.services.users import find_bidang, set_user
from tests.bot_harness import Bot
from tests.test_lapor import (
    OP1,
    VERIF,
    _button,
    _close,
    _fill_figures,
    _finish_narrative,
    _open,
    _start_tw4,
    _users,
)
from tests.test_verification import _requests, _return

OP_UMKM = 9421


@pytest.fixture
async def bot(seeded: Engine) -> AsyncIterator[Bot]:
    _users(seeded)
    with session_scope(seeded) as s:
        umkm = find_bidang(s, text="umkm", opd_id=1)
        assert umkm is not None
        set_user(
            s, telegram_id=OP_UMKM, role=Role.OPERATOR, bidang_id=umkm.id, nama="Op UMKM", actor="t"
        )
    b = await _open(seeded)
    try:
        yield b
    finally:
        await _close(b)


async def test_drop_against_the_kegiatan_figure_of_last_quarter(bot: Bot) -> None:
    # UMKM's TW III was reported at kegiatan level: the sub kegiatan has no figure of its own.
    await _start_tw4(bot, OP_UMKM)
    prompt = bot.api.last(OP_UMKM).text or ""
    assert "TW lalu: belum ada angka untuk sub kegiatan ini" in prompt
    assert "Rp 32.449.550" in prompt
    out = await bot.say(OP_UMKM, "1.5jt")
    assert "total bidang UMKM turun dari Rp 32.449.550 (TW III" in out, out
    assert "menjadi Rp 1.500.000" in out and "Tetap pakai angka ini?" in out
    labels = [label for label, _ in bot.buttons(OP_UMKM)]
    assert labels == ["Ya, benar", "Ketik ulang"]
    # "Ketik ulang" keeps nothing; a figure above last quarter's total passes unasked.
    await bot.press(OP_UMKM, _button(bot, OP_UMKM, "Ketik ulang"))
    assert "realisasi fisik" in (await bot.say(OP_UMKM, "40 jt")).lower()
    await bot.say(OP_UMKM, "20")
    await bot.press(OP_UMKM, _button(bot, OP_UMKM, "Lewati"))
    await _finish_narrative(bot, OP_UMKM)
    # Back to the figure: the drop is asked again, confirmed, and shown as a finding.
    await bot.press(OP_UMKM, _button(bot, OP_UMKM, "Ubah 1"))
    assert "turun" in await bot.say(OP_UMKM, "1.5jt")
    await bot.press(OP_UMKM, _button(bot, OP_UMKM, "Ya, benar"))
    await bot.say(OP_UMKM, "20")
    review = await bot.press(OP_UMKM, _button(bot, OP_UMKM, "Lewati"))
    assert "Temuan" in review and "total bidang UMKM turun dari Rp 32.449.550" in review
    assert "terkirim" in await bot.press(OP_UMKM, _button(bot, OP_UMKM, "📨 Kirim"))
    with read_scope(bot.engine) as s:
        found = [
            f.message
            for f in s.exec(select(Finding).where(Finding.kind == FindingKind.CUMULATIVE_DOWN))
            if f.triwulan == 4
        ]
    assert any("turun dari Rp 32.449.550" in m and "Rp 1.500.000" in m for m in found), found


async def test_no_drop_question_while_other_sub_kegiatan_are_still_empty(bot: Bot) -> None:
    """Koperasi's leaves all have last quarter's figure: nothing changes for them."""
    await _start_tw4(bot)
    prompt = bot.api.last(OP1).text or ""
    assert "TW lalu: realisasi Rp 20.520.600" in prompt
    assert "realisasi fisik" in (await bot.say(OP1, "21.000.000")).lower()


async def test_review_shows_keterangan_and_notes_are_not_doubled(bot: Bot) -> None:
    await _start_tw4(bot)
    rows = [("21.000.000", "93"), ("Rp 120.000.000", "80,5"), ("23 jt", "95")]
    for n, (anggaran, fisik) in enumerate(rows):
        await bot.say(OP1, anggaran)
        await bot.say(OP1, fisik)
        if n == 1:
            await bot.say(OP1, "Dana cair akhir Desember")
        else:
            await bot.press(OP1, _button(bot, OP1, "Lewati"))
    # The carried-over note is offered once (the report repeats it on two program rows).
    seen = []
    for _ in range(20):
        last = bot.api.last(OP1).text or ""
        if "Triwulan lalu:" in last:
            seen.append(last)
        if any(label.startswith("📨 Kirim") for label, _ in bot.buttons(OP1)):
            break
        quick = next(
            (d for label, d in bot.buttons(OP1) if label.startswith("Tetap")),
            None,
        )
        if quick:
            await bot.press(OP1, quick)
        else:
            await bot.say(OP1, "12,5")
    aksi = next(t for t in seen if "aksi" in t)
    assert aksi.count("Pelaksanaan kertas kerja") == 1, aksi
    review = bot.api.last(OP1).text or ""
    assert "keterangan: <i>Dana cair akhir Desember</i>" in review, review
    assert "terkirim" in await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    with read_scope(bot.engine) as s:
        stored = [
            n.aksi
            for n in s.exec(select(Narasi).where(Narasi.triwulan == 4))
            if n.source == "entry"
        ]
    assert stored and all(a.count("Pelaksanaan kertas kerja") <= 1 for a in stored), stored


async def test_second_version_card_says_what_changed(bot: Bot) -> None:
    await _start_tw4(bot)
    await _fill_figures(bot)
    await _finish_narrative(bot)
    assert "terkirim" in await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    first = _requests(bot, VERIF)[-1].text or ""
    assert "versi 1" in first and "Perubahan dari versi" not in first
    await _return(bot)
    await bot.say(OP1, "/lapor")
    await bot.press(OP1, _button(bot, OP1, "Isi TW IV 2022"))
    await bot.say(OP1, "21.500.000")
    await bot.press(OP1, _button(bot, OP1, "Tetap"))  # fisik
    await bot.say(OP1, "Kuitansi menyusul")
    await bot.press(OP1, _button(bot, OP1, "Ke ringkasan"))
    assert "terkirim" in await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    card = "\n".join(c.text or "" for c in bot.api.sent(VERIF)[-3:])
    assert "versi 2" in card and "Perubahan dari versi 1:" in card, card
    assert "realisasi Rp 21.000.000 → Rp 21.500.000" in card
    assert 'keterangan "-" → "Kuitansi menyusul"' in card
    # Only what changed: the other two sub kegiatan are not listed.
    block = card.split("Perubahan dari versi 1:")[1].split("\n\n")[0]
    assert block.count("•") == 1, block
    # /verifikasi shows the same card, each part within Telegram's limit.
    await bot.say(VERIF, "/verifikasi")
    queue = [c.text or "" for c in bot.api.sent(VERIF)[-3:]]
    assert any("Perubahan dari versi 1:" in t for t in queue)
    assert all(len(t) <= 4096 for t in queue)


async def test_drop_of_a_level_is_asked_whichever_sub_kegiatan_completes_it(bot: Bot) -> None:
    """Sekretariat's 'Kegiatan Perencanaan' reported TW III as a whole (Rp 66.950.400) and
    per sub kegiatan for three of its four: the one new this quarter comes last, yet the
    level is checked once all four have a figure."""
    from storage.services.users import find_bidang as find

    with session_scope(bot.engine) as s:
        sek = find(s, text="sekretariat", opd_id=1)
        assert sek is not None
        set_user(s, telegram_id=9422, role=Role.OPERATOR, bidang_id=sek.id, nama="Sek", actor="t")
    await _start_tw4(bot, 9422)
    # The first three keep last quarter's figures of their own; no question yet.
    for _ in range(3):
        await bot.press(9422, _button(bot, 9422, "Sama dengan TW lalu"))
        await bot.press(9422, _button(bot, 9422, "Sama dengan TW lalu"))
        await bot.press(9422, _button(bot, 9422, "Lewati"))
    prompt = bot.api.last(9422).text or ""
    assert "belum ada angka untuk sub kegiatan ini; kegiatan" in prompt
    assert "Rp 66.950.400" in prompt
    out = await bot.say(9422, "1 jt")  # 5.527.500 + 21.176.800 + 23.500.800 + 1.000.000
    assert "total kegiatan 'Kegiatan Perencanaan" in out and "Rp 51.205.100" in out, out
    assert "turun dari Rp 66.950.400" in out


def test_a_sub_kegiatan_with_its_own_figure_can_complete_the_level(seeded: Engine) -> None:
    from bot.views.lapor import drop_question
    from storage.services.submission import LevelDrop, check_anggaran, draft_plan

    with read_scope(seeded) as s:
        sek = find_bidang(s, text="sekretariat", opd_id=1)
        assert sek is not None and sek.id is not None
        plan = draft_plan(s, sek.id, 2022, 4)
    first, new = plan.subs[0], plan.subs[3]
    assert first.prev_anggaran == 5_527_500 and new.prev_anggaran is None
    assert first.above is not None and first.above == new.above
    items = {str(x.node_id): {"anggaran": x.prev_anggaran} for x in plan.subs[1:3]}
    items[str(new.node_id)] = {"anggaran": 1_000_000}
    # Above its own last figure, but the kegiatan's total still falls: asked.
    chk = check_anggaran(first, "6 jt", items, (4, "Sekretariat"))
    # The service gives the reason with its figures; the view words it.
    assert isinstance(chk.confirm, LevelDrop) and chk.confirm.total == 51_677_600
    question = drop_question(chk.confirm)
    assert chk.value == 6_000_000 and "turun dari Rp 66.950.400" in question
    assert "menjadi Rp 51.677.600" in question
    # Enough to keep the kegiatan's total: no question.
    assert not check_anggaran(first, "25 jt", items, (4, "Sekretariat")).confirm
    # While a sub kegiatan under it is still empty, nothing is asked of the level.
    del items[str(new.node_id)]
    assert not check_anggaran(first, "6 jt", items, (4, "Sekretariat")).confirm
