"""Issue 24 through the real Application: never the answer to a nearby question (unknown
scopes named back, non-monev sentences not matched to a sub kegiatan, another office's bidang
refused), and questions about the process (deadlines, returned reports, who decided)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.console import open_offline
from bot.settings import Settings
from storage.data.db import session_scope
from storage.data.models import Bidang, Pelaporan, StatusLaporan
from tests.bot_harness import ADMIN, KEPALA, Bot, add_users
from tests.monev_key import Key, id_percent, id_rupiah, percent
from tests.office_pair import second_office


def _no_figure(out: str) -> None:
    assert "Rp" not in out and "%" not in out, out


@pytest.mark.parametrize(
    ("text", "level", "name", "nearest"),
    [
        ("serapan bidang pertanian tw2", "Bidang", "pertanian", "Bidang: "),
        ("berapa serapan bid perikanan triwulan 3", "Bidang", "perikanan", "Bidang: "),
        ("serapan program ketahanan pangan tw2", "Program", "ketahanan pangan", "Program: "),
        ("fisik kegiatan vaksinasi tw1", "Kegiatan", "vaksinasi", "Kegiatan: "),
        ("serapan pertanian tw2", "", "pertanian", "Bidang: "),
    ],
)
async def test_an_unknown_scope_is_named_back_never_widened(
    shared_bot: Bot, text: str, level: str, name: str, nearest: str
) -> None:
    out = await shared_bot.say(KEPALA, text)
    _no_figure(out)
    assert "Seluruh dinas" not in out
    head = f"{level} “{name}” tidak ada di Diskoperindag" if level else f"Maaf, “{name}” bukan"
    assert head in out and "Maksud Anda" in out, out
    labels = [label for label, _ in shared_bot.buttons(KEPALA)]
    assert labels and all(label.startswith(nearest) for label in labels), labels


async def test_a_nearest_bidang_button_answers_that_bidang_for_the_period_asked(
    shared_bot: Bot,
) -> None:
    await shared_bot.say(KEPALA, "serapan bidang pertanian tw2")
    label, data = shared_bot.buttons(KEPALA)[0]
    bidang = label.removeprefix("Bidang: ")
    out = await shared_bot.press(KEPALA, data)
    assert f"Bidang {bidang} · TW II 2022" in out and "Seluruh dinas" not in out


async def test_an_unknown_office_gets_no_figure(shared_bot: Bot) -> None:
    out = await shared_bot.say(KEPALA, "serapan dinas kesehatan tw2")
    _no_figure(out)
    assert "OPD “kesehatan” tidak ada di Diskoperindag" in out


@pytest.mark.parametrize(
    "text",
    [
        "tolong kirimkan undangan rapat besok",
        "undangan rapat koordinasi jam berapa",
        "besok ada rapat di aula",
        "tolong fotokopi dokumen pengadaan",
    ],
)
async def test_a_sentence_with_no_monev_intent_gets_belum_memahami(
    shared_bot: Bot, text: str
) -> None:
    out = await shared_bot.say(KEPALA, text)
    _no_figure(out)
    assert "belum memahami" in out and "Sub kegiatan" not in out and "Sub Kegiatan" not in out
    # Examples fitted to the asker (texts.examples_for): the office's own questions.
    assert "serapan anggaran Q2" in out and "bidang mana serapannya paling rendah?" in out


async def test_bukti_needs_every_word_of_the_name(shared_bot: Bot) -> None:
    out = await shared_bot.say(KEPALA, "/bukti pembangunan pasar tw3")
    assert "tidak dikenal" in out and "Industri" not in out and "Prasarana" not in out
    out = await shared_bot.say(KEPALA, "/bukti sarana distribusi perdagangan tw3")
    assert "SARANA DISTRIBUSI PERDAGANGAN" in out


async def test_another_offices_bidang_from_a_member_is_refused_without_figures(
    seeded: Engine, tmp_path: Path
) -> None:
    add_users(seeded)  # before the second office: the demo's people are the demo office's
    second_office(seeded, tmp_path)
    settings = Settings(MONEV_ADMIN_IDS=str(ADMIN), DATABASE_URL="", TELEGRAM_BOT_TOKEN="")
    app, api = await open_offline(settings, seeded)
    bot = Bot(app, api, seeded)
    try:
        for text in ("serapan bidang kesmas tw2", "serapan kesehatan masyarakat zirkon tw3"):
            out = await bot.say(KEPALA, text)
            _no_figure(out)
            assert "Dinas Kesehatan (Dinkes)" in out and "tidak dapat Anda lihat" in out, out
            assert "Seluruh dinas" not in out and "Zirkon kegiatan" not in out
    finally:
        await app.stop()
        await app.shutdown()


# --- process questions ------------------------------------------------------------------------


async def test_deadline_questions_answer_the_deadline_not_a_sub_kegiatan(
    shared_bot: Bot,
) -> None:
    out = await shared_bot.say(KEPALA, "kapan batas akhir laporan tw3 2022")
    assert "Batas akhir pelaporan TW III 2022" in out and "10 Oktober 2022" in out
    assert "Laporan Keuangan" not in out and "Sub kegiatan" not in out
    assert "Semua bidang sudah mengirim laporan TW III 2022" in out
    out = await shared_bot.say(KEPALA, "kapan batas akhir laporan tw4")
    assert "Batas akhir pelaporan TW IV" in out and "Laporan Keuangan" not in out
    assert "hari lagi" in out or "sudah lewat" in out or "hari ini" in out
    out = await shared_bot.say(KEPALA, "berapa hari lagi batas lapor")
    assert "Batas akhir pelaporan" in out


async def test_returned_reports_and_who_decided(bot: Bot) -> None:
    with session_scope(bot.engine) as s:
        kop = s.exec(select(Bidang).where(Bidang.nama == "Koperasi")).one()
        p = s.exec(
            select(Pelaporan).where(Pelaporan.bidang_id == kop.id, Pelaporan.triwulan == 3)
        ).one()
        p.status = StatusLaporan.DIKEMBALIKAN
        p.alasan = "bukti kwitansi belum lengkap"
        p.decided_at = datetime(2022, 10, 12, 3, tzinfo=UTC)
        s.add(p)
    out = await bot.say(KEPALA, "laporan apa yang dikembalikan")
    assert "Koperasi TW III 2022" in out and "bukti kwitansi belum lengkap" in out
    _no_figure(out)
    out = await bot.say(KEPALA, "laporan perdagangan yang dikembalikan")
    assert "Tidak ada laporan yang sedang dikembalikan" in out
    out = await bot.say(KEPALA, "siapa yang menyetujui laporan perdagangan tw3")
    assert "Perdagangan TW III 2022: ✅ disetujui" in out and "impor berkas" in out


async def test_a_program_absent_from_the_quarters_plan_says_where_it_is(
    shared_bot: Bot,
) -> None:
    out = await shared_bot.say(KEPALA, "serapan program pengembangan umkm tw3")
    assert "tidak ada dalam rencana TW III 2022; ada dalam rencana TW I 2022" in out
    assert "belum lengkap" not in out
    labels = dict(shared_bot.buttons(KEPALA))
    seen = await shared_bot.press(KEPALA, labels["Lihat TW I 2022"])
    assert "PROGRAM PENGEMBANGAN UMKM · TW I 2022" in seen and "Serapan:" in seen


# --- rankings at every level and early warning in people's words --------------------------------


async def test_rankings_below_bidang_with_n_and_scope(shared_bot: Bot) -> None:
    key = Key(shared_bot.engine)
    subs = sorted(
        ((n, f.serapan) for n, f in key.level("sub_kegiatan", 2) if f.serapan is not None),
        key=lambda r: r[1] or 0,
    )
    out = await shared_bot.say(KEPALA, "5 sub kegiatan dengan realisasi terendah tw2")
    assert "Peringkat sub kegiatan menurut serapan anggaran · Seluruh dinas · TW II 2022" in out
    assert f"5 terendah dari {len(subs)} sub kegiatan" in out and "6. " not in out
    lines = {ln.split(". ", 1)[0]: ln for ln in out.splitlines() if ln[:1].isdigit()}
    for i, (name, v) in enumerate(subs[:5], 1):
        # Ties (two at 0,00%) may come in either order: the value at each place, the names.
        assert lines[str(i)].endswith(f": {id_percent(v)}"), lines
        assert name[:40] in out
    progs = sorted(
        ((n, f.serapan) for n, f in key.level("program", 3, "UMKM")), key=lambda r: -(r[1] or 0)
    )
    out = await shared_bot.say(KEPALA, "program dengan serapan tertinggi di UMKM tw3")
    assert "Peringkat program menurut serapan anggaran · Bidang UMKM · TW III 2022" in out
    assert f"1. {progs[0][0][:40]}" in out and id_percent(progs[0][1]) in out
    sisa = sorted(((n, f.sisa) for n, f in key.level("program", 3)), key=lambda r: -(r[1] or 0))
    out = await shared_bot.say(KEPALA, "program dengan sisa anggaran terbesar tw3")
    assert "menurut sisa anggaran" in out
    assert f"1. {sisa[0][0][:40]}" in out and id_rupiah(sisa[0][1] or 0) in out


async def test_early_warning_in_peoples_words(shared_bot: Bot) -> None:
    key = Key(shared_bot.engine)
    out = await shared_bot.say(KEPALA, "apa saja yang harus dipercepat")
    assert out.startswith("Peringatan dini · Seluruh dinas · TW III 2022")
    proj = key.projection(3)
    assert f"Rp {str(round(proj / 1e9, 2)).replace('.', ',')} M (67,56% dari pagu" in out
    out = await shared_bot.say(KEPALA, "kalau begini terus koperasi akhir tahun terserap berapa")
    assert out.startswith("Peringatan dini · Bidang Koperasi · TW III 2022")
    kop = key.scope(3, "Koperasi")
    assert f"({id_percent(percent(key.projection(3, 'Koperasi'), kop.pagu))} dari pagu" in out
    out = await shared_bot.say(KEPALA, "kegiatan yang paling tertinggal dari rencananya tw2")
    assert "Peringkat kegiatan menurut deviasi dari rencana · Seluruh dinas · TW II 2022" in out
    assert "1. Kegiatan Pembangunan dan Pengelolaan Sarana Distribusi" in out
