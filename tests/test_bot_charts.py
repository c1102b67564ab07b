"""Charts through the real Application: questions, /grafik, the 'Lihat grafik' button."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from tests.bot_harness import KEPALA, STRANGER, Bot

# Every test here only asks and reads: they share one bot per backend (conftest.shared_bot),
# and so one chart-drawing process instead of starting one per test.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def bot(shared_bot: Bot) -> Bot:
    return shared_bot


def _photo(b: Bot) -> tuple[bytes, str]:
    call = b.api.calls_of("sendPhoto")[-1]
    [(_name, data)] = call.files.values()
    return data, call.text or ""


@pytest.mark.parametrize(
    ("question", "in_caption"),
    [
        (
            "grafik serapan tw3",
            ["Serapan anggaran per bidang, TW III 2022", "Sekretariat: 64,70%", "UMKM: 14,20%"],
        ),
        (
            "grafik koperasi",
            ["Pagu dan realisasi bidang koperasi, TW III 2022", "Rp 20.520.600 dari Rp 22.499.800"],
        ),
        (
            "grafik tren serapan dinas 2022",
            ["seluruh dinas 2022", "TW I: 6,46%", "TW III: 45,22%", "TW IV: belum lengkap"],
        ),
        (
            "grafik realisasi fisik perdagangan",
            ["Realisasi fisik dan keuangan bidang perdagangan", "fisik 11,74%"],
        ),
    ],
)
async def test_chart_questions_send_a_photo_with_the_numbers(
    bot: Bot, question: str, in_caption: list[str]
) -> None:
    before = len(bot.api.calls_of("sendPhoto"))
    actions_before = len(bot.api.calls_of("sendChatAction"))
    await bot.say(KEPALA, question)
    assert len(bot.api.calls_of("sendPhoto")) == before + 1
    png, caption = _photo(bot)
    for text in in_caption:
        assert text in caption, (text, caption)
    img = Image.open(BytesIO(png))
    assert img.format == "PNG" and img.width >= 1000
    actions = bot.api.calls_of("sendChatAction")[actions_before:]
    assert any(c.params.get("action") == "upload_photo" for c in actions)


async def test_answer_carries_a_chart_button(bot: Bot) -> None:
    await bot.say(KEPALA, "serapan anggaran Q2 koperasi")
    data = dict(bot.buttons(KEPALA))["📊 Lihat grafik"]
    before = len(bot.api.calls_of("sendPhoto"))
    await bot.press(KEPALA, data)
    assert len(bot.api.calls_of("sendPhoto")) == before + 1
    _png, caption = _photo(bot)
    assert "TW II 2022" in caption and "Rp 635.000 dari Rp 22.499.800" in caption


async def test_grafik_menu_and_status_chart(bot: Bot) -> None:
    await bot.say(KEPALA, "/grafik")
    labels = dict(bot.buttons(KEPALA))
    assert "Status pelaporan" in labels and "Program Koperasi" in labels
    before = len(bot.api.calls_of("sendPhoto"))
    await bot.press(KEPALA, labels["Status pelaporan"])
    assert len(bot.api.calls_of("sendPhoto")) == before + 1
    _png, caption = _photo(bot)
    assert "Status pelaporan TW III 2022" in caption and "Koperasi: disetujui" in caption


async def test_empty_quarter_is_a_clear_answer_not_a_crash(bot: Bot) -> None:
    before = len(bot.api.calls_of("sendPhoto"))
    out = await bot.press(KEPALA, "gr:program:2:4:2022")
    assert len(bot.api.calls_of("sendPhoto")) == before
    assert "Belum ada data" in out or "belum" in out.lower()
    out = await bot.press(KEPALA, "gr:bidang:0:0:2031")
    assert "Belum ada data tahun 2031" in out


@pytest.mark.parametrize(
    "data", ["gr:bidang:999:3:2022", "gr:nope:0:0:0", "gr:bidang:x:3:2022", "gr:status:0:7:2022"]
)
async def test_crafted_chart_buttons(bot: Bot, data: str) -> None:
    before = len(bot.api.calls_of("sendPhoto"))
    assert "tidak berlaku" in await bot.press(KEPALA, data)
    assert len(bot.api.calls_of("sendPhoto")) == before


async def test_strangers_get_no_chart(bot: Bot) -> None:
    before = len(bot.api.calls_of("sendPhoto"))
    await bot.say(STRANGER, "grafik serapan tw3")
    await bot.press(STRANGER, "gr:bidang:0:3:2022")
    assert "belum terdaftar" in await bot.say(STRANGER, "/grafik")
    assert len(bot.api.calls_of("sendPhoto")) == before
