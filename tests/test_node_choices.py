"""/riwayat and /bukti name the program, kegiatan or sub kegiatan meant, or ask which: words
that fit several rincian are never answered with one of them (issue 24, never a nearby
answer)."""

from __future__ import annotations

from sqlmodel import select

from storage.data.db import read_scope
from storage.data.models import Node
from storage.domain.text import normalise_name
from tests.bot_harness import KEPALA, Bot


def _names_with(bot: Bot, word: str) -> list[str]:
    """Independent of the bot: the 2022 rincian whose name holds ``word``."""
    with read_scope(bot.engine) as s:
        nodes = s.exec(select(Node).where(Node.tahun == 2022)).all()
    return sorted({n.nama for n in nodes if word in normalise_name(n.nama).split()})


async def test_riwayat_with_words_fitting_several_asks_which(bot: Bot) -> None:
    several = _names_with(bot, "penyediaan")
    assert len(several) > 1
    out = await bot.say(KEPALA, "/riwayat penyediaan")
    assert f"cocok dengan {len(several)} rincian. Maksud Anda:" in out
    assert "Riwayat:" not in out  # no one of them answered as if it were the one meant
    shown = [line[2:] for line in out.splitlines() if line.startswith("• ")]
    assert shown and set(shown) <= set(several)
    # Its whole name, as the message suggests, answers that one.
    out = await bot.say(KEPALA, f"/riwayat {shown[0]}")
    assert "Maksud Anda" not in out and shown[0] in out


async def test_bukti_with_words_fitting_several_asks_which(bot: Bot) -> None:
    several = _names_with(bot, "penyediaan")
    out = await bot.say(KEPALA, "/bukti penyediaan tw3 2022")
    assert f"cocok dengan {len(several)} rincian. Maksud Anda:" in out
    assert "<code>" not in out and "/bukti " in out
