"""The bot through the real Application, with Telegram's Bot API answered offline."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.data.db import read_scope
from storage.data.models import AppUser, Role, UserStatus
from tests.bot_harness import ADMIN, KEPALA, OPERATOR_KOP, STRANGER, Bot

# Tests that only ask and read share one bot per backend (``shared_bot``, in the module's event
# loop); tests that register users or look at the bot's start-up get a fresh one (``bot``).


async def test_commands_registered_in_indonesian(bot: Bot) -> None:
    [call] = bot.api.calls_of("setMyCommands")
    names = [c["command"] for c in _json(call.params["commands"])]
    assert names == [
        "start", "bantuan", "lapor", "verifikasi", "riwayat", "bukti", "laporan", "grafik",
        "pengingat", "jadwal", "daftar", "batal",
    ]  # fmt: skip
    assert all(c["description"][0].isupper() for c in _json(call.params["commands"]))


def _json(value):  # type: ignore[no-untyped-def]
    import json

    return json.loads(value) if isinstance(value, str) else value


async def test_admin_ids_are_admins_at_start(bot: Bot) -> None:
    with read_scope(bot.engine) as s:
        u = s.exec(select(AppUser).where(AppUser.telegram_id == ADMIN)).one()
        assert u.role == Role.ADMIN and u.status == UserStatus.ACTIVE


async def test_start_greets_by_role(bot: Bot) -> None:
    assert "belum terdaftar" in await bot.say(STRANGER, "/start")
    assert "kepala dinas" in await bot.say(KEPALA, "/start")
    out = await bot.say(OPERATOR_KOP, "/start")
    assert "operator bidang" in out and "Koperasi" in out
    assert "admin" in await bot.say(ADMIN, "/start")


STRANGER_PROBES = [
    "serapan anggaran Q2 koperasi",
    "program apa saja di perindustrian?",
    "siapa yang belum lapor triwulan 3?",
    "hambatan umkm",
    "/bantuan",
    "/riwayat gaji",
    "/lapor",
    "halo",
]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("text", STRANGER_PROBES)
async def test_strangers_learn_nothing(shared_bot: Bot, text: str) -> None:
    out = await shared_bot.say(STRANGER, text)
    assert out, "the bot must never go silent"
    assert (
        "Rp" not in out and "%" not in out and "PROGRAM" not in out.upper().replace("/DAFTAR", "")
    )
    assert "Kepala Dinas" not in out and "Op Kop" not in out


@pytest.mark.asyncio(loop_scope="module")
async def test_stranger_cannot_press_data_buttons(shared_bot: Bot) -> None:
    out = await shared_bot.press(STRANGER, "ask:bidang:2:serapan:2:2022")
    assert "Rp" not in out and "belum terdaftar" in out


async def test_registration_and_approval(bot: Bot) -> None:
    new_user = 9200
    assert "nama lengkap" in await bot.say(new_user, "/daftar")
    assert "3–80" in await bot.say(new_user, "x")  # too short: told what to type
    assert "NIP" in await bot.say(new_user, "Rina Marlina, S.E.")
    assert "18 angka" in await bot.say(new_user, "12345")
    out = await bot.say(new_user, "19800414 199810 2 001")
    assert "bidang" in out
    labels = [label for label, _ in bot.buttons(new_user)]
    assert "Koperasi" in labels
    kop = next(data for label, data in bot.buttons(new_user) if label == "Koperasi")
    assert "Periksa kembali" in await bot.press(new_user, kop)
    assert "dikirim ke admin" in await bot.press(new_user, "reg:send")
    # the admin received the request with buttons
    request = bot.api.last(ADMIN)
    assert "Rina Marlina" in (request.text or "") and "Koperasi" in (request.text or "")
    admin_buttons = [d for row in bot.api.buttons(request) for _, d in row]
    approve = next(d for d in admin_buttons if d and ":operator:2:" in d)
    # nobody but an admin may press it, even with the right data
    assert "tidak diizinkan" in await bot.press(KEPALA, approve, chat_id=ADMIN)
    with read_scope(bot.engine) as s:
        assert (
            s.exec(select(AppUser).where(AppUser.telegram_id == new_user)).one().status
            == UserStatus.PENDING
        )
    before = len(bot.api.sent(new_user))
    out = await bot.press(ADMIN, approve)
    assert "disetujui sebagai operator bidang bidang Koperasi" in out or "disetujui" in out
    told = bot.api.sent(new_user)[before:]
    assert any("disetujui" in (c.text or "") for c in told)
    # a second tap (or another admin) gets a clear answer, not a second approval
    assert "sudah diputuskan" in await bot.press(ADMIN, approve)
    # now the user can ask
    assert "Rp 79.265.450" in await bot.say(new_user, "serapan anggaran Q2 koperasi")


async def test_registration_rejected_and_cancelled(bot: Bot) -> None:
    u = 9300
    await bot.say(u, "/daftar")
    await bot.say(u, "Budi Santoso")
    await bot.press(u, "reg:skip")
    await bot.press(u, "reg:bidang:0")
    await bot.press(u, "reg:send")
    reject = f"reg:no:{u}:1"
    before = len(bot.api.sent(u))
    await bot.press(ADMIN, reject)
    assert any("tidak disetujui" in (c.text or "") for c in bot.api.sent(u)[before:])
    assert "belum terdaftar" in await bot.say(u, "serapan dinas")
    # /batal in the middle keeps nothing
    v = 9301
    await bot.say(v, "/daftar")
    assert "dibatalkan" in await bot.say(v, "/batal")
    with read_scope(bot.engine) as s:
        assert s.exec(select(AppUser).where(AppUser.telegram_id == v)).first() is None


async def test_crafted_admin_callback_is_rejected(bot: Bot) -> None:
    out = await bot.press(OPERATOR_KOP, f"reg:ok:{OPERATOR_KOP}:admin:0")
    assert "tidak diizinkan" in out
    with read_scope(bot.engine) as s:
        assert (
            s.exec(select(AppUser).where(AppUser.telegram_id == OPERATOR_KOP)).one().role
            == "operator"
        )


# --- questions -------------------------------------------------------------------------------

EXAMPLES = {
    "serapan anggaran Q2 koperasi": [
        "Bidang Koperasi",
        "TW II 2022",
        "Rp 79.265.450",
        "Rp 193.690.000",
        "40,92%",
        "PROGRAM PENGAWASAN DAN PEMERIKSAAN KOPERASI",
        "PROGRAM PENILAIAN KESEHATAN KSP/USP KOPERASI",
        "PROGRAM PEMBERDAYAAN DAN PELINDUNGAN KOPERASI",
    ],
    "realisasi fisik tw 3 perdagangan": [
        "Realisasi fisik",
        "Bidang Perdagangan",
        "TW III 2022",
        "17,70%",
        "11,74%",
    ],
    "bidang mana serapannya paling rendah?": [
        "Peringkat",
        "TW III 2022",
        "1. UMKM: 14,20%",
        "5. Koperasi: 74,81%",
        "Terendah: UMKM",
    ],
    "siapa yang belum lapor triwulan 3?": [
        "Status pelaporan TW III 2022",
        "Semua bidang sudah melapor",
    ],
    "hambatan umkm": ["Hambatan", "Bidang UMKM", "TW III 2022", "Adanya perubahan SK Pengelola"],
    "serapan dinas tw1 2022": [
        "Seluruh dinas",
        "TW I 2022",
        "Rp 853.415.987",
        "Rp 13.211.277.228",
        "6,46%",
    ],
    "program apa saja di perindustrian?": [
        "Daftar program",
        "Bidang Perindustrian",
        "PROGRAM PERENCANAAN DAN PEMBANGUNAN INDUSTRI",
        "PROGRAM PENGENDALIAN IZIN USAHA INDUSTRI",
        "Rp 1.965.123.950",
    ],
}


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("question", list(EXAMPLES))
async def test_example_questions_with_exact_figures(shared_bot: Bot, question: str) -> None:
    out = await shared_bot.say(KEPALA, question)
    for expected in EXAMPLES[question]:
        assert expected in out, (expected, out)
    assert len(out) < 4096


@pytest.mark.asyncio(loop_scope="module")
async def test_operator_may_read_other_bidang(shared_bot: Bot) -> None:
    out = await shared_bot.say(OPERATOR_KOP, "serapan perdagangan tw3")
    assert "Bidang Perdagangan" in out and "17,69%" in out


@pytest.mark.asyncio(loop_scope="module")
async def test_quarter_without_data_is_incomplete_not_zero(shared_bot: Bot) -> None:
    out = await shared_bot.say(KEPALA, "serapan koperasi tw4")
    # Nobody reported TW IV: "belum ada laporan", never "belum lengkap" (partial) nor 0.
    assert "TW IV 2022" in out and "belum ada laporan" in out and "Rp 193.690.000" in out
    assert "belum lengkap" not in out
    assert "0,00%" not in out
    st = await shared_bot.say(KEPALA, "siapa yang belum lapor tw4")
    assert "Belum melapor" in st and "Koperasi" in st


@pytest.mark.asyncio(loop_scope="module")
async def test_behind_benchmark_is_flagged(shared_bot: Bot) -> None:
    out = await shared_bot.say(KEPALA, "serapan umkm tw3")
    assert "⚠️ di bawah target nasional 60%" in out and "14,20%" in out
    out = await shared_bot.say(KEPALA, "serapan dinas tw3")
    assert "UMKM: 14,20%" in out and "⚠️" in out


@pytest.mark.asyncio(loop_scope="module")
async def test_ambiguous_question_offers_buttons(shared_bot: Bot) -> None:
    out = await shared_bot.say(KEPALA, "serapan metrologi tw2")
    assert "yang mana" in out
    choices = shared_bot.buttons(KEPALA)
    assert len(choices) >= 2
    _label, data = choices[0]
    assert data.startswith("ask:")
    picked = await shared_bot.press(KEPALA, data)
    assert "TW II 2022" in picked and "Rp" in picked


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    "data",
    [
        "ask:bidang:999:serapan:2:2022",
        "ask:x",
        "ask:bidang:2:nonsense:2:2022",
        "ask:bidang:2:serapan:9:2022",
        "ask:program:99999:serapan:1:2022",
        "zzz",
        "lp:1:2:x",
    ],
)
async def test_crafted_or_stale_buttons_get_a_clear_answer(shared_bot: Bot, data: str) -> None:
    out = await shared_bot.press(KEPALA, data)
    assert out.strip()
    assert "Traceback" not in out


GARBAGE = [
    "",
    " ",
    "🙂🙂🙂",
    "x" * 4000,
    "'; DROP TABLE app_user; --",
    "SELECT * FROM realisasi",
    "what is the budget absorption",
    "<b>halo</b>",
    "\u0000\u0001",
    "?" * 50,
]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("text", GARBAGE)
async def test_garbage_gets_a_clear_message(shared_bot: Bot, text: str) -> None:
    out = await shared_bot.say(KEPALA, text or "?")
    assert out.strip() and "Traceback" not in out
    # Either a clear "not understood" with examples, or an answer that says what it answered
    # ("SELECT * FROM realisasi" does say "realisasi").
    assert any(w in out for w in ("belum memahami", "terlalu panjang", "Maaf", "contoh")) or (
        "TW " in out and "Seluruh dinas" in out
    )
    with read_scope(shared_bot.engine) as s:
        assert s.exec(select(AppUser)).first() is not None  # nothing dropped


@pytest.mark.asyncio(loop_scope="module")
async def test_unknown_command_and_non_text(shared_bot: Bot) -> None:
    assert "tidak dikenal" in await shared_bot.say(KEPALA, "/abrakadabra")
    assert "Tidak ada langkah" in await shared_bot.say(KEPALA, "/batal")


async def test_laporan_sends_the_report_file(bot: Bot) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    await bot.say(KEPALA, "/laporan 3 2022")
    doc = bot.api.calls_of("sendDocument")[-1]
    [(filename, data)] = doc.files.values()
    assert filename == "laporan-kinerja-2022-tw3.xlsx"
    assert "TW III 2022" in (doc.text or "")
    assert any(
        c.params.get("action") == "upload_document" for c in bot.api.calls_of("sendChatAction")
    )
    ws = load_workbook(BytesIO(data)).active
    assert ws["A2"].value == "LAPORAN KINERJA TRIWULAN III TAHUN 2022"
    await bot.say(KEPALA, "/laporan tw2 csv")
    name, csv = next(iter(bot.api.calls_of("sendDocument")[-1].files.values()))
    assert name.endswith("tw2.csv") and b"79265450" not in csv.split(b"\n")[0]
    # the quarter is written any way the one quarter parser accepts
    for arg in ("q1", "I", "tw1"):
        await bot.say(KEPALA, f"/laporan {arg} 2022")
        name, _ = next(iter(bot.api.calls_of("sendDocument")[-1].files.values()))
        assert name == "laporan-kinerja-2022-tw1.xlsx", arg
    assert "Cara pakai" in await bot.say(KEPALA, "/laporan kemarin")
    assert "Cara pakai" in await bot.say(KEPALA, "/laporan tw5 2022")
    # strangers get nothing
    before = len(bot.api.calls_of("sendDocument"))
    assert "belum terdaftar" in await bot.say(STRANGER, "/laporan 3 2022")
    assert len(bot.api.calls_of("sendDocument")) == before


@pytest.mark.asyncio(loop_scope="module")
async def test_capaian_deviasi_and_status_figures(shared_bot: Bot) -> None:
    out = await shared_bot.say(KEPALA, "capaian kinerja sekretariat tw1 2022")
    # TW I's own report: T 25,00%, R 15,64% -> capaian 62,56% (not the restated 15,46%)
    assert "Capaian kinerja" in out and "TW I 2022" in out
    assert "capaian 62,56% (target 25,00%, realisasi 15,64%)" in out
    out = await shared_bot.say(KEPALA, "deviasi dari target tw2")
    assert "Deviasi serapan dari target" in out and "TW II 2022" in out
    assert "27,11%" in out and "di bawah target nasional 40%" in out and "12,89 poin" in out
    out = await shared_bot.say(KEPALA, "hambatan koperasi tw3")
    assert "Kurangnya SDM bidang Koperasi" in out and "↳ tindak lanjut" in out
