"""Issue 26: one message budget (bot/views/budget.py). ``fit`` and ``split_html`` measured as
Telegram measures (visible text after the HTML is parsed, UTF-16 code units), checked against
the offline Bot API's own HTML parser; and one over-long answer through the real Application."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from telegram.constants import MessageLimit

from bot.offline.entities import parse_html
from bot.views.budget import CAPTION, TEXT, fit, length, split_html, visible
from tests.test_bot_import import ADMIN, Bot, _send, distan  # noqa: F401 (fixture)

# Pieces of a message: words (some outside the BMP: two UTF-16 units each), entities, spaces,
# line and paragraph breaks, and tags that may span lines.
_WORDS = st.sampled_from(
    ["Rp", "31.964.015", "kegiatan", "✅", "🌾🌾", "&amp;", "&lt;b&gt;", "𝐁𝐨𝐥𝐝", "x" * 60]
)
_PIECE = st.one_of(
    _WORDS,
    st.sampled_from([" ", " ", "\n", "\n\n"]),
    st.builds(
        lambda tag, words: f"<{tag}>{' '.join(words)}</{tag.split()[0]}>",
        st.sampled_from(["b", "i", "code", 'a href="https://contoh.id/x"']),
        st.lists(_WORDS | st.just("\n"), min_size=1, max_size=30),
    ),
)
_TEXT = st.lists(_PIECE, max_size=400).map("".join)


def _telegram_units(html_text: str) -> int:
    """What the offline Bot API counts (Python's HTML parser, not the budget's own)."""
    shown, _ = parse_html(html_text)
    return len(shown.encode("utf-16-le")) // 2


def _balanced(html_text: str) -> bool:
    """Every tag closed, in order (Telegram refuses a message with one left open)."""
    stack: list[str] = []
    for closing, name in re.findall(r"<(/?)([a-z-]+)[^>]*>", html_text):
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def _ink(html_text: str) -> str:
    """The visible characters that are not whitespace, in order."""
    return re.sub(r"\s", "", visible(html_text))


def test_the_limits_are_telegrams() -> None:
    assert (TEXT, CAPTION) == (MessageLimit.MAX_TEXT_LENGTH, MessageLimit.CAPTION_LENGTH)
    assert length("<b>a &amp; b</b> 🌾") == len("a & b ") + 2


@settings(max_examples=150, deadline=None)
@given(_TEXT, st.integers(min_value=20, max_value=600))
def test_split_parts_fit_lose_nothing_and_balance_tags(text: str, limit: int) -> None:
    parts = split_html(text, limit)
    assert parts
    for part in parts:
        assert _telegram_units(part) <= limit and _balanced(part), part
    assert "".join(_ink(p) for p in parts) == _ink(text)


@settings(max_examples=150, deadline=None)
@given(_TEXT, st.integers(min_value=60, max_value=600))
def test_fit_stays_within_and_keeps_the_tail(text: str, limit: int) -> None:
    tail = "\n\n<i>catatan: angka belum disetujui</i>"
    out = fit(text, limit, tail=tail, more=lambda n: f"… dan {n} baris lagi")
    assert _telegram_units(out) <= limit and _balanced(out)
    assert out.endswith(tail)
    if length(text + tail) <= limit:
        assert out == text + tail
    else:  # what is kept is the start of the text, whole lines where a line fits
        kept = out[: -len(tail)].rsplit("\n", 1)[0]
        assert _ink(text).startswith(_ink(kept)[:-1] if kept.endswith("…") else _ink(kept))


def test_split_prefers_a_paragraph_and_reopens_a_tag() -> None:
    para = "\n".join(["baris " * 10] * 5)
    parts = split_html(f"{para}\n\n<b>{para}</b>", 400)
    assert parts == [para, f"<b>{para}</b>"]  # cut at the blank line, not after it
    long_bold = "<b>" + "kata " * 400 + "</b>"
    parts = split_html(long_bold, 500)
    assert len(parts) > 1 and all(p.startswith("<b>") and p.endswith("</b>") for p in parts)
    assert all(not p.removeprefix("<b>").startswith(" ") for p in parts)


def test_a_word_longer_than_a_message_is_cut_between_characters_not_in_an_entity() -> None:
    parts = split_html("&amp;" * 3000, 1000)
    assert [length(p) for p in parts] == [1000, 1000, 1000]
    assert all(set(re.findall(r"&\w*;?", p)) == {"&amp;"} for p in parts)


async def test_an_import_preview_with_long_names_stays_within_telegrams_limit(
    distan: Bot,  # noqa: F811
) -> None:
    # Forty programmes named with emoji (two UTF-16 units each): main measured code points
    # with a margin of its own and sent ~6,000 units, which Telegram refuses.
    rows = ["NO\tIndikator\tProgram/Kegiatan\tAnggaran (Rp)\tRealisasi (Rp)\tCapaian (%)"]
    for i in range(1, 41):
        rows += [
            f"{i}\tIndikator {i}\tProgram {i} Tani {'🌾' * 90}\t\t\t90,00",
            f"\t\tKegiatan Pengawasan {i}\t\t\t",
            f"\t\t1. Sub Kegiatan Pupuk {i}\t1.000.000\t900.000\t90,00",
        ]
    rows.append("\t\tJUMLAH\t40.000.000\t36.000.000\t90,00")
    head = "BAB III AKUNTABILITAS KINERJA\n\nTabel 19\n"
    head += "Realisasi Keuangan Dinas Pertanian Tahun 2023\n"
    data = (head + "\n".join(rows)).encode()
    before = len(distan.api.sent(ADMIN))
    shown = await _send(distan, ADMIN, "lkj-tani-2023.tsv", data)
    calls = distan.api.sent(ADMIN)[before:]
    assert "Pratinjau impor lkj-tani-2023.tsv" in shown, shown
    assert "baris lagi; lengkapnya: monev import --coba" in shown  # cut, and says so
    assert "Tekan Impor untuk menyimpan" in shown  # the foot is kept
    assert all(_telegram_units(c.text or "") <= TEXT for c in calls)
