"""Issue 24, a quarter in progress, through the real Application: Koperasi sends TW IV 2022
through /lapor and the kepala approves it; the other four bidang have not reported. Answers
without a period stay on TW III (complete) and say TW IV is coming in; TW IV asked
explicitly shows what exists, names who has not reported and labels its totals; the early
warning and the weekly digest keep every program at its latest reported quarter; /laporan
without a period is TW III. Figures are computed here from the imported data."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import Engine

from storage.domain.numbers import format_percent, format_rupiah, ratio_percent
from tests.bot_harness import KEPALA, Bot
from tests.monev_key import Key
from tests.test_lapor import OP1, _close, _open, _submit_all, _users

KOP_TW4_TOTAL = 21_000_000 + 120_000_000 + 23_000_000  # tests/test_lapor.py KOP_TW4


@pytest.fixture
async def tw4(seeded: Engine) -> AsyncIterator[Bot]:
    """The demo data after Koperasi's TW IV 2022 was sent and approved by the kepala."""
    _users(seeded)
    bot = await _open(seeded)
    try:
        await _submit_all(bot, OP1)
        request = [c for c in bot.api.sent(KEPALA) if "Laporan masuk" in (c.text or "")][-1]
        ok = next(d for row in bot.api.buttons(request) for _, d in row if d.startswith("vf:ok"))
        assert "disetujui" in await bot.press(KEPALA, ok)
        yield bot
    finally:
        await _close(bot)


def _bidang_figures(engine: Engine, tw: int) -> dict[str, tuple[int, int | None]]:
    """(pagu, realisasi) of each bidang at ``tw``, from the independent key."""
    key = Key(engine)
    return {b: (key.scope(tw, b).pagu, key.scope(tw, b).realisasi) for b in key.bidang}


async def test_without_a_period_the_complete_quarter_and_a_line_for_the_one_coming_in(
    tw4: Bot,
) -> None:
    figs = _bidang_figures(tw4.engine, 3)
    pagu = sum(p for p, _ in figs.values())
    real = sum(r or 0 for _, r in figs.values())
    out = await tw4.say(KEPALA, "serapan anggaran")
    assert "Seluruh dinas · TW III 2022" in out, out
    assert f"Serapan: {format_percent(ratio_percent(real, pagu))}" in out
    assert "TW IV: 1 dari 5 bidang sudah lapor — Koperasi" in out
    assert "belum lengkap" not in out
    labels = dict(tw4.buttons(KEPALA))
    assert "Lihat TW IV 2022" in labels
    seen = await tw4.press(KEPALA, labels["Lihat TW IV 2022"])
    assert "TW IV 2022" in seen and "baru 1 dari 5 bidang yang lapor (Koperasi)" in seen
    # A bidang that has reported TW IV is answered for TW IV; one that has not, for TW III.
    kop = await tw4.say(KEPALA, "serapan koperasi")
    assert "Bidang Koperasi · TW IV 2022" in kop and format_rupiah(KOP_TW4_TOTAL) in kop
    dag = await tw4.say(KEPALA, "serapan perdagangan")
    assert "Bidang Perdagangan · TW III 2022" in dag and "belum lengkap" not in dag


async def test_the_partial_quarter_asked_shows_what_exists_and_who_is_missing(tw4: Bot) -> None:
    figs = _bidang_figures(tw4.engine, 4)
    kop_pagu, kop_real = figs["Koperasi"]
    assert kop_real == KOP_TW4_TOTAL
    out = await tw4.say(KEPALA, "serapan anggaran tw4")
    assert "Seluruh dinas · TW IV 2022" in out
    assert "baru 1 dari 5 bidang yang lapor (Koperasi)" in out
    assert "Belum lapor: Sekretariat, UMKM, Perdagangan, Perindustrian" in out
    # The total is Koperasi's alone, labelled as such; the others are "belum lapor".
    assert (
        f"Realisasi anggaran: {format_rupiah(kop_real)} dari pagu {format_rupiah(kop_pagu)}" in out
    )
    assert "• Perdagangan: belum lapor" in out and "belum ada angka untuk" not in out
    # A bidang nobody reported for: "belum ada laporan", not "belum lengkap".
    dag = await tw4.say(KEPALA, "serapan perdagangan tw4")
    assert "belum ada laporan" in dag and "belum lengkap" not in dag
    # The ranking ranks the reported and lists the rest.
    rank = await tw4.say(KEPALA, "bidang mana serapannya paling rendah tw4")
    assert "1. Koperasi" in rank and "Belum lapor" in rank and "Perdagangan" in rank


async def test_the_ranking_without_a_period_ranks_every_bidang_of_the_complete_quarter(
    tw4: Bot,
) -> None:
    figs = _bidang_figures(tw4.engine, 3)
    order = sorted(figs, key=lambda b: ratio_percent(figs[b][1], figs[b][0]) or 0)
    out = await tw4.say(KEPALA, "bidang mana serapannya paling rendah?")
    assert "TW III 2022" in out and "TW IV: 1 dari 5 bidang sudah lapor" in out
    for i, name in enumerate(order, 1):
        assert f"{i}. {name}:" in out, out
    assert f"Terendah: {order[0]}." in out


async def test_the_early_warning_keeps_every_program_at_its_latest_quarter(tw4: Bot) -> None:
    out = await tw4.say(KEPALA, "program mana yang berisiko tidak terserap")
    for _ in range(5):  # every page (Selengkapnya)
        more = [d for label, d in tw4.buttons(KEPALA) if label.startswith("Selengkapnya")]
        if not more:
            break
        out += "\n" + await tw4.press(KEPALA, more[0])
    # Perdagangan's distribution programme (reported up to TW III) is still listed first.
    assert "PROGAM PENINGKATAN SARANA DISTRIBUSI PERDAGANGAN" in out, out
    assert "berisiko Rp 1.363.286.715" in out
    assert "Angka terakhir tiap program: TW IV untuk Koperasi; TW III untuk yang lain" in out


async def test_laporan_without_a_period_is_the_complete_quarter(tw4: Bot) -> None:
    await tw4.say(KEPALA, "/laporan")
    doc = tw4.api.calls_of("sendDocument")[-1]
    caption = str(doc.params.get("caption", ""))
    assert "TW III 2022" in caption and "siap cetak" in caption, caption
    assert "TW IV 2022 sedang masuk (1 dari 5 bidang sudah lapor): /laporan 4 2022" in caption
    await tw4.say(KEPALA, "/laporan 4 2022")
    caption = str(tw4.api.calls_of("sendDocument")[-1].params.get("caption", ""))
    assert "TW IV 2022" in caption and "BELUM LENGKAP" in caption and "siap cetak" not in caption
    assert "belum lapor: Sekretariat, UMKM, Perdagangan, Perindustrian" in caption


async def test_the_weekly_digest_keeps_every_program_at_its_latest_quarter(tw4: Bot) -> None:
    from telegram.ext import CallbackContext

    from bot.jobs.early_warning import send_digest
    from tests.test_reminders import KEPALA as KEPALA_R
    from tests.test_reminders import Clock, _add_people, close, open_bot, wib

    _add_people(tw4.engine)
    clock = Clock(wib(2023, 1, 2, 9, 0))  # a Monday, the default weekday
    b = await open_bot(tw4.engine, clock)
    try:
        await send_digest(CallbackContext(b.app))
        digest = next(
            c.text or ""
            for c in b.api.sent(KEPALA_R)
            if "Peringatan dini mingguan" in (c.text or "")
        )
    finally:
        await close(b)
    assert "TW III 2022" in digest
    assert "Angka terakhir tiap program: TW IV untuk Koperasi; TW III untuk yang lain" in digest
    assert "PROGAM PENINGKATAN SARANA DISTRIBUSI PERDAGANGAN" in digest
    assert "Rp 1,36 M" in digest  # Perdagangan's programme at risk, at TW III


async def test_comparisons_default_to_the_complete_quarter_and_status_to_the_newest(
    tw4: Bot,
) -> None:
    figs = _bidang_figures(tw4.engine, 3)
    out = await tw4.say(KEPALA, "koperasi vs umkm")
    assert "Bidang Koperasi dan UMKM · TW III 2022" in out, out
    for b in ("Koperasi", "UMKM"):
        pagu, real = figs[b]
        assert format_percent(ratio_percent(real, pagu)) in out
    # Who has not reported is a question about the quarter coming in.
    out = await tw4.say(KEPALA, "siapa yang belum lapor")
    assert "TW IV 2022" in out and "Perdagangan" in out
