"""Issue 27, roles: every person's screens fit their role and office, through the real
Application on both databases. The pemantau's first questions are answered (an office named,
or chosen with a button), the kabupaten has its early warning, /pengingat and weekly digest,
and nobody of a second office sees Diskoperindag's examples."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from storage.data.db import read_scope
from storage.domain.numbers import format_percent
from storage.services.queries import summary
from tests import office_pair
from tests.bot_harness import OPERATOR_KOP, Bot
from tests.office_pair import Office
from tests.test_kabupaten import DEMO, KEP_B, OP_B, PEMANTAU, kab, people, second_office

__all__ = ["kab"]  # the fixture, used by name
pair = office_pair.pair

DEAD_END = "tidak terikat pada satu perangkat daerah"
DEMO_EXAMPLES = ("serapan anggaran Q2 koperasi", "hambatan umkm", "perindustrian")


def _koperasi_serapan(engine: Engine, opd_id: int) -> str:
    with read_scope(engine) as s:
        row = next(r for r in summary(s, opd_id, 2022, 3).rows if r.nama == "Koperasi")
        return format_percent(row.figure.serapan)


async def test_pemantau_greeting_help_and_first_questions(kab: tuple[Bot, int]) -> None:
    bot, office_b = kab
    start = await bot.say(PEMANTAU, "/start")
    assert "pemantau kabupaten" in start and "Diskoperindag" in start and "Dinkes" in start
    assert "OPD mana yang berisiko tidak terserap" in start
    assert not any(e in start for e in DEMO_EXAMPLES)
    help_ = await bot.say(PEMANTAU, "/bantuan")
    assert "Pemantauan seluruh OPD" in help_ and "OPD yang ada: Diskoperindag, Dinkes" in help_
    assert "bidang mana serapannya paling rendah" not in help_

    # an office named: the office's question, answered for it
    named = await bot.say(PEMANTAU, "serapan koperasi diskoperindag tw3")
    assert named.startswith("🏢 Diskoperindag · ") and "Bidang Koperasi" in named
    assert _koperasi_serapan(bot.engine, DEMO) in named and DEAD_END not in named

    # no office named: which one? a button per office, carrying the question
    asked = await bot.say(PEMANTAU, "serapan koperasi tw3")
    assert "OPD mana" in asked and DEAD_END not in asked and "%" not in asked
    buttons = dict(bot.buttons(PEMANTAU))
    assert set(buttons) == {"Diskoperindag", "Dinkes"}
    answered = await bot.press(PEMANTAU, buttons["Dinkes"])
    assert answered.startswith("🏢 Dinkes · ") and "Bidang Koperasi" in answered
    assert _koperasi_serapan(bot.engine, office_b) in answered
    # the answer replaced the question in place (no new message)
    assert bot.api.calls[-1].method == "editMessageText"

    # every office question form, without an office: asked, then answered for the office
    for question, shows in (
        ("apa saja hambatan di tw3", "Hambatan dan tindak lanjut"),
        ("capaian kinerja koperasi tw3", "Capaian kinerja"),
        ("program mana yang berisiko tidak terserap", "Peringatan dini"),
        ("program apa saja di perdagangan?", "Daftar program"),
        ("siapa yang belum lapor triwulan 3?", "Status pelaporan"),
    ):
        asked = await bot.say(PEMANTAU, question)
        assert "OPD mana" in asked, (question, asked)
        out = await bot.press(PEMANTAU, dict(bot.buttons(PEMANTAU))["Diskoperindag"])
        assert out.startswith("🏢 Diskoperindag · ") and shows in out, (question, out)
        assert DEAD_END not in out


async def test_an_office_button_of_the_pemantau_is_refused_to_an_office(
    kab: tuple[Bot, int],
) -> None:
    bot, office_b = kab
    await bot.say(PEMANTAU, "serapan koperasi tw3")
    data = dict(bot.buttons(PEMANTAU))["Diskoperindag"]
    # Office B's kepala forging the pemantau's button: the boundary refuses, no figure.
    refused = await bot.press(KEP_B, data)
    assert "perangkat daerah lain" in refused and "%" not in refused
    assert "belum memahami" not in await bot.press(KEP_B, f"kq:{office_b}:serapan tw3")
    assert "tidak berlaku" in await bot.press(PEMANTAU, "kq:x:serapan")


async def test_pemantau_office_commands_say_what_to_do_instead(kab: tuple[Bot, int]) -> None:
    bot, _ = kab
    out = await bot.say(PEMANTAU, "/verifikasi")
    assert "memantau semua OPD" in out and "berapa OPD yang belum lapor" in out
    assert "/bantuan" in out


async def test_kabupaten_early_warning(kab: tuple[Bot, int]) -> None:
    bot, _ = kab
    out = await bot.say(PEMANTAU, "OPD mana yang berisiko tidak terserap tw3 2022")
    assert "OPD berisiko tidak terserap" in out and "TW III 2022" in out
    assert "1. " in out and "Diskoperindag" in out and "Dinkes" in out
    assert "berisiko Rp" in out and " M" in out  # rounded: "Rp 3,12 M", not 13 digits
    assert DEAD_END not in out
    lines = out.splitlines()
    assert len(lines) <= 15 and len(out) <= 1000, (len(lines), len(out))
    # an office's own kepala gets no cross-office view
    assert "pemantau" in await bot.say(KEP_B, "OPD mana yang berisiko tidak terserap tw3")


async def test_kabupaten_pengingat(kab: tuple[Bot, int]) -> None:
    bot, _ = kab
    out = await bot.say(PEMANTAU, "/pengingat")
    assert DEAD_END not in out
    assert "Rekap OPD yang belum lapor" in out and "batas akhir kabupaten" in out
    assert "Peringatan dini mingguan: setiap Senin pukul 08.00 WIB" in out
    labels = [label for label, _ in bot.buttons(PEMANTAU)]
    assert "Matikan peringatan mingguan" in labels
    off = await bot.press(PEMANTAU, "peringatan:mati")
    assert "dimatikan" in off
    muted = await bot.press(PEMANTAU, "pengingat:mati")
    assert "Rekap OPD yang belum lapor" in muted and "dimatikan" in muted


async def test_weekly_kabupaten_digest_claimed_once(seeded: Engine, tmp_path: Path) -> None:
    from telegram.ext import CallbackContext

    from bot.jobs.early_warning import send_digest
    from tests.test_reminders import Clock, close, open_bot, wib

    office_b = second_office(seeded, tmp_path)
    people(seeded, office_b)
    bot = await open_bot(seeded, Clock(wib(2023, 1, 2, 8, 0)))  # a Monday, 08.00
    try:
        await send_digest(CallbackContext(bot.app))
        await send_digest(CallbackContext(bot.app))  # claimed: never twice in a week

        def kab_digests(chat: int) -> list[str]:
            return [
                c.text or ""
                for c in bot.api.sent(chat)
                if "Peringatan dini mingguan kabupaten" in (c.text or "")
            ]

        [digest] = kab_digests(PEMANTAU)
        assert "Diskoperindag" in digest and "Dinkes" in digest and "berisiko" in digest
        assert kab_digests(KEP_B) == [] and kab_digests(OP_B) == []
    finally:
        await close(bot)


async def test_second_office_sees_its_own_examples(pair: tuple[Bot, Office, Office]) -> None:
    bot, _, b = pair
    kepala = b.people["kepala"]
    start = await bot.say(kepala, "/start")
    assert "kesmas" in start or "yankes" in start, start
    assert not any(e in start for e in DEMO_EXAMPLES)
    unknown = await bot.say(kepala, "zzz qqq")
    assert "belum memahami" in unknown
    assert not any(e in unknown for e in DEMO_EXAMPLES)
    help_ = await bot.say(kepala, "/bantuan")
    assert not any(e in help_ for e in DEMO_EXAMPLES)
    # a photo outside /lapor: the example is the office's own too
    from bot.offline.updates import make_photo_update

    await bot.app.process_update(make_photo_update(bot.app.bot, b.photo, user_id=kepala))
    assert not any(e in (bot.api.last(kepala).text or "") for e in DEMO_EXAMPLES)
    # an example shown is one the bot answers for this office
    example = next(line[2:] for line in start.splitlines() if line.startswith("• serapan"))
    assert "belum memahami" not in await bot.say(kepala, example)


async def test_operator_greeting(bot: Bot) -> None:
    start = await bot.say(OPERATOR_KOP, "/start")
    assert "operator bidang Koperasi" in start and "bidang bidang" not in start
    assert "/lapor" in start
    assert "bidang mana serapannya paling rendah" not in start
    help_ = await bot.say(OPERATOR_KOP, "/bantuan")
    assert "/lapor" in help_ and "laporan triwulan bidang Koperasi" in help_
