"""A hundred and more ways people ask, through the real Application, with the 2022 figures."""

from __future__ import annotations

import itertools

import pytest

from tests.bot_harness import KEPALA, Bot

# serapan per bidang and quarter as the demo data gives them
SERAPAN = {
    ("Koperasi", 2): ("40,92%", "Rp 79.265.450"),
    ("Koperasi", 3): ("74,81%", "Rp 144.901.250"),
    ("Perdagangan", 3): ("17,69%", "Rp 433.022.122"),
    ("UMKM", 2): ("7,84%", "Rp 17.920.750"),
    ("Perindustrian", 1): ("3,33%", "Rp 66.664.900"),
    ("Sekretariat", 3): ("64,70%", "Rp 3.064.862.971"),
}
METRIC = ["serapan", "penyerapan anggaran", "realisasi keuangan", "serapn", "berapa serapan"]
SCOPE = {
    "Koperasi": ["koperasi", "kop", "koprasi", "bidang koperasi"],
    "Perdagangan": ["perdagangan", "bid. perdagangan", "perdagagan", "dagang"],
    "UMKM": ["umkm", "ukm", "umk"],
    "Perindustrian": ["industri", "perindustian", "perindustrian"],
    "Sekretariat": ["sekretariat", "sekertariat", "sekre"],
}
QUARTER = {
    1: ["tw1", "TW I", "triwulan 1", "q1", "kuartal pertama"],
    2: ["Q2", "tw 2", "TW II", "triwulan kedua", "kuartal kedua"],
    3: ["tw3", "TW III", "triwulan 3", "q3", "kuartal ketiga"],
}


def _cases() -> list[tuple[str, str, int]]:
    cases = []
    combos = itertools.cycle(itertools.product(range(len(METRIC)), range(5), range(2)))
    for (bidang, tw), _ in SERAPAN.items():
        for scope_word in SCOPE[bidang]:
            for quarter_word in QUARTER[tw]:
                m, q_order, order = next(combos)
                parts = [METRIC[m], scope_word, quarter_word]
                if order:
                    parts = [parts[2], parts[0], parts[1]]
                text = " ".join(parts)
                if q_order == 1:
                    text = text.upper()
                elif q_order == 2:
                    text = f"Pak, tolong info {text} ya"
                elif q_order == 3:
                    text += " 2022?"
                cases.append((text, bidang, tw))
    return cases


CASES = _cases()
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_there_are_at_least_a_hundred() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize(("text", "bidang", "tw"), CASES)
async def test_paraphrase(shared_bot: Bot, text: str, bidang: str, tw: int) -> None:
    out = await shared_bot.say(KEPALA, text)
    roman = {1: "I", 2: "II", 3: "III"}[tw]
    serapan, realisasi = SERAPAN[(bidang, tw)]
    assert f"Bidang {bidang}" in out, (text, out)
    assert f"TW {roman} 2022" in out, (text, out)
    assert serapan in out and realisasi in out, (text, out)
