"""Issue 27, answers on a phone: one screen per answer (about 15 lines, 1,000 characters), the
rest behind "Selengkapnya", rupiah rounded in running text with the exact figures one tap away,
early-warning signals that never contradict each other, hambatan without repeated headers.

Measured through the real Application (what the person sees, tags removed). Before this change
(main at 64bfdda, the demo office, the kepala): "program mana yang berisiko tidak terserap" was
one message of 25 lines / 1,830 characters (the issue measured 24 / 1,926 on its data);
"apa saja hambatan di tw3" 53 lines / 2,588 characters (40 without blank lines)."""

from __future__ import annotations

import re

import pytest

from bot.views import pages as page_views
from bot.views.pages import MAX_CHARS, MAX_LINES, measure, paginate, visible
from storage.domain.numbers import format_rupiah_short
from tests.bot_harness import KEPALA, OPERATOR_KOP, Bot

EARLY = "program mana yang berisiko tidak terserap"
BEFORE = {EARLY: (25, 1830), "apa saja hambatan di tw3": (53, 2588)}
LONG_RUPIAH = re.compile(r"Rp \d{1,3}(\.\d{3}){2,}")  # Rp 1.363.286.715


def _pages(bot: Bot, user: int) -> list[str]:
    """Every message and edit the person was shown, as text."""
    return [visible(c.text or "") for c in bot.api.sent(user) if c.text]


def _more(bot: Bot, user: int) -> str | None:
    rows = bot.api.buttons(bot.api.sent(user)[-1]) or []
    found = [d for row in rows for label, d in row if label.startswith("Selengkapnya")]
    return found[0] if found else None


async def _all_pages(bot: Bot, user: int, question: str) -> list[str]:
    shown = [await bot.say(user, question)]
    while (data := _more(bot, user)) is not None:
        shown.append(await bot.press(user, data))
        assert len(shown) < 20
    return shown


@pytest.mark.parametrize("question", list(BEFORE))
async def test_long_answers_fit_one_screen_each(bot: Bot, question: str) -> None:
    pages = await _all_pages(bot, KEPALA, question)
    assert len(pages) >= 2, "a long answer comes in pages"
    before_lines, before_chars = BEFORE[question]
    first_lines, first_chars = len(pages[0].splitlines()), len(pages[0])
    print(f"\n{question!r}: before {before_lines} lines/{before_chars} chars; "
          f"first screen now {first_lines}/{first_chars}, {len(pages)} pages")  # fmt: skip
    for page in pages:
        assert len(page.splitlines()) <= MAX_LINES and len(page) <= MAX_CHARS, page
    assert first_lines < before_lines and first_chars < before_chars
    # every later page says what it continues
    assert all(p.splitlines()[0].endswith("· lanjutan") for p in pages[1:])
    # the pages were edits of the one message, not new messages
    assert [c.method for c in bot.api.sent(KEPALA)][-len(pages) + 1 :] == ["editMessageText"] * (
        len(pages) - 1
    )


async def test_early_warning_rounded_first_exact_one_tap_away(bot: Bot) -> None:
    pages = await _all_pages(bot, KEPALA, EARLY)
    first, rest = pages[0], "\n".join(pages[1:])
    assert not LONG_RUPIAH.search(first), first  # running text: rounded
    assert "Rp 1,36 M" in first and "Rp 4,35 M" in first
    # the exact figure of the first item at risk, on the next screens
    assert "berisiko Rp 1.363.286.715" in rest and "Angka lengkap (rupiah)" in rest
    # the words explained once, on the first screen
    assert "Berisiko = rencana setahun" in first and "Poin = selisih" in first
    assert first.count("Berisiko =") == 1


async def test_early_warning_signals_agree(bot: Bot) -> None:
    # Koperasi TW III is ahead of its plan: never a warning beside "nothing at risk".
    pages = await _all_pages(bot, KEPALA, "program mana yang berisiko tidak terserap koperasi")
    text = "\n".join(pages)
    assert "Tidak ada program yang diproyeksikan tertinggal" in text
    assert "⚠️" not in text and "menyimpang" not in text
    assert "di atas rencana (+14,81 poin)" in pages[0]
    assert "0 dari 3 program tertinggal dan 3 di atas rencana" in text
    # Behind plan: the warning and the list agree.
    umkm = await bot.say(KEPALA, "program mana yang berisiko tidak terserap umkm tw2")
    assert "⚠️ tertinggal 32,16 poin" in umkm and "1. PROGRAM PEMBERDAYAAN" in umkm


async def test_capaian_readable(bot: Bot) -> None:
    out = await bot.say(KEPALA, "capaian kinerja koperasi tw3")
    assert "7.296,00%" not in out and "T 1,25%" not in out
    assert "realisasi 91,20% = 73 kali target 1,25%" in out
    assert "Capaian = realisasi ÷ target" in out
    normal = await bot.say(KEPALA, "capaian kinerja sekretariat tw1 2022")
    assert "capaian 62,56% (target 25,00%, realisasi 15,64%)" in normal


async def test_hambatan_grouped_without_empty_rows(bot: Bot) -> None:
    pages = await _all_pages(bot, KEPALA, "apa saja hambatan di tw3")
    text = "\n".join(pages)
    assert "Hambatan: -" not in text and "\n-\n" not in text
    heads = [line for line in text.splitlines() if line.startswith("PROGRAM")]
    assert len(heads) == len(set(heads)), heads  # each program once
    assert "Kurangnya SDM bidang Koperasi" in text
    # the program with only a follow-up reported keeps it, without an empty hambatan
    assert "Update harga bahan pokok" in text


async def test_page_buttons_belong_to_their_answer_and_person(bot: Bot) -> None:
    first = await bot.say(KEPALA, EARLY)
    data = _more(bot, KEPALA)
    assert data is not None
    # somebody else pressing it (a forwarded message) sees nothing of it
    assert "pengguna lain" in await bot.press(OPERATOR_KOP, data)
    second = await bot.press(KEPALA, data)
    back = [d for row in bot.api.buttons(bot.api.sent(KEPALA)[-1]) or [] for label, d in row
            if label.startswith("‹")]  # fmt: skip
    assert back and (await bot.press(KEPALA, back[0])).strip() == first.strip()
    assert second != first
    # an unknown or expired page says what to do
    assert "Ketik ulang pertanyaannya" in await bot.press(KEPALA, "pg:tidakada:1")


def test_pages_lose_nothing_and_keep_the_foot() -> None:
    head = "<b>Judul</b> · Seluruh dinas · TW III 2022"
    rows = [f"{i}. Program {i}\n   rencana Rp {i}.000.000 · realisasi Rp {i}" for i in range(40)]
    body = "\n".join([head, "", "<b>Daftar:</b>", *rows, "", "<i>Catatan akhir.</i>"])
    foot = "\n\n⏳ <i>Angka belum disetujui.</i>"
    pages = paginate(body, foot)
    assert len(pages) > 3
    for p in pages:
        lines, chars = measure(p)
        assert lines <= MAX_LINES and chars <= MAX_CHARS
        assert p.endswith(foot) and p.startswith(head)
        assert not p.removesuffix(foot).rstrip().endswith("<b>Daftar:</b>")  # no orphan heading
    seen = [x for p in pages for x in p.removesuffix(foot).splitlines()[1:] if x.strip()]
    assert seen == [x for x in body.splitlines()[1:] if x.strip()]
    # rows of two lines are never cut in half
    for p in pages:
        assert not p.removesuffix(foot).splitlines()[-1].startswith("0. Program")
        assert not p.splitlines()[1].startswith("   ")
    assert paginate("pendek", foot) == ["pendek" + foot]


def _long_texts() -> list[str]:
    head = "<b>Serapan</b> · Bidang Koperasi · TW II 2022"
    rows = [
        f"{i}. <b>Program {i}</b> &amp; lainnya\n   rencana Rp {i}.000.000 · realisasi <i>{i}%</i>"
        for i in range(60)
    ]
    return [
        "\n".join([head, "", "<b>Daftar:</b>", *rows, "", "<i>Catatan akhir.</i>"]),
        "\n".join([head, *(f"baris {i} 😀 &lt;kurang&gt;" for i in range(50))]),
        "\n".join([head, "", "x" * 1500, "", *rows[:10]]),
        # a tag across a line break, a bare "<": each page is measured whole, as before
        "\n".join([head, "<a href='x\ny'>tautan</a>", *rows]),
        "\n".join([head, "nilai <b>x</b> < 5", *rows]),
        "\n".join([head, "nilai < 5 <b>x</b>", *rows]),  # its tags close on the line
        "\n".join([head, "", "<b>Judul:</b>", "", "<b>Judul lain:</b>", *rows[:30]]),
    ]


@pytest.mark.parametrize("text", _long_texts())
def test_pages_measured_line_by_line_are_the_pages_measured_whole(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pagination measures each line once (a long answer at 100x the demo office, issue 29):
    the very pages measuring each candidate page whole gives."""
    foot = "\n\n⏳ <i>Angka belum disetujui.</i>"
    assert page_views._Lines(text).exact == ("\n<a href" not in text and "/b> < 5" not in text)
    fast = [paginate(text, foot), paginate(text)]
    monkeypatch.setattr(page_views._Lines, "__init__", _measured_whole)
    assert fast == [paginate(text, foot), paginate(text)]
    assert len(fast[0]) > 1


def _measured_whole(self: page_views._Lines, text: str) -> None:
    self._seen, self.exact = {}, False


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1_363_286_715, "Rp 1,36 M"),
        (28_687_250, "Rp 28,7 jt"),
        (331_590_656, "Rp 332 jt"),
        (999_600_000, "Rp 1 M"),
        (450_000, "Rp 450 rb"),
        (-1_420_192_142, "−Rp 1,42 M"),
        (12, "Rp 12"),
        (None, "-"),
    ],
)
def test_rupiah_rounded(value: int | None, shown: str) -> None:
    assert format_rupiah_short(value) == shown


async def test_page_buttons_work_after_a_restart_and_in_another_process(bot: Bot) -> None:
    """The pages are kept in the database: a second Application on the same database (a
    restart, or the other process of a cluster taking the press) shows the same page."""
    from bot.console import open_offline

    first = await bot.say(KEPALA, EARLY)
    data = _more(bot, KEPALA)
    assert data is not None
    settings = bot.app.bot_data["settings"]
    other, api = await open_offline(settings, bot.engine)
    try:
        again = Bot(other, api, bot.engine)
        second = await again.press(KEPALA, data)
        assert "Ketik ulang" not in second and second.strip() != first.strip()
        assert second == await bot.press(KEPALA, data)  # the same page in either process
        assert "pengguna lain" in await again.press(OPERATOR_KOP, data)
    finally:
        await other.stop()
        await other.shutdown()


async def test_old_answer_pages_are_pruned(bot: Bot) -> None:
    from datetime import timedelta

    from storage.data.db import session_scope
    from storage.data.models import utcnow
    from storage.services import answer_pages

    await bot.say(KEPALA, EARLY)
    data = _more(bot, KEPALA)
    assert data is not None
    with session_scope(bot.engine) as s:
        assert answer_pages.prune(s, now=utcnow() + timedelta(days=29)) == 0
    with session_scope(bot.engine) as s:
        assert answer_pages.prune(s, now=utcnow() + timedelta(days=31)) == 1
    assert "Ketik ulang pertanyaannya" in await bot.press(KEPALA, data)


async def test_the_first_page_does_not_wait_for_the_later_pages_to_be_stored(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 29: storing the later pages is a commit (on PostgreSQL more than the whole
    answer costs); the first page is sent meanwhile, and the pages are stored before the
    person's next update is handled, so "Selengkapnya" finds them."""
    import threading
    import time

    from storage.services import answer_pages

    keep, seen = answer_pages.keep, threading.Event()
    before = len(bot.api.sent(KEPALA))

    def slow_keep(session, **kwargs) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + 5
        while len(bot.api.sent(KEPALA)) == before and time.monotonic() < deadline:
            time.sleep(0.005)  # the worker thread waits to see the first page sent
        if len(bot.api.sent(KEPALA)) > before:
            seen.set()
        keep(session, **kwargs)

    monkeypatch.setattr(answer_pages, "keep", slow_keep)
    first = await bot.say(KEPALA, EARLY)
    assert seen.is_set(), "the first page waited for the later pages to be stored"
    data = _more(bot, KEPALA)
    assert data is not None
    second = await bot.press(KEPALA, data)
    assert "Ketik ulang" not in second and second.strip() != first.strip()
