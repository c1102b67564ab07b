"""Issue 12 item 10: no message over Telegram's 4096 characters, through the real Application.
The Sekretariat review (every sub kegiatan lower than last quarter, every drop confirmed) and
the verifier's summary come in parts, each within the limit, with the buttons on the last."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bot.console import html_to_text
from bot.views import answers, budget
from storage.data.db import session_scope
from storage.data.models import PerangkatDaerah, Role
from storage.domain.question_parser import Metric
from storage.services.ask import Answer, DaftarRow, Kind, Query
from storage.services.queries import Figure, Item, ScopeResult
from storage.services.users import find_bidang, set_user
from tests.test_lapor import VERIF, _close, _open, _users

OP_SEK = 9410
LIMIT = 4096


def _units(text: str) -> int:
    return len(html_to_text(text).encode("utf-16-le")) // 2


async def test_sekretariat_review_and_verifier_summary_are_split(seeded: Engine) -> None:
    _users(seeded)
    with session_scope(seeded) as s:
        sek = find_bidang(s, text="sekretariat", opd_id=1)
        assert sek is not None
        set_user(
            s, telegram_id=OP_SEK, role=Role.OPERATOR, bidang_id=sek.id, nama="Op Sek", actor="t"
        )
    bot = await _open(seeded)
    try:
        out = await bot.say(OP_SEK, "/lapor")
        start = next(d for label, d in bot.buttons(OP_SEK) if label.startswith("Isi TW IV"))
        await bot.press(OP_SEK, start)
        confirmed = 0
        for _ in range(600):
            # The buttons of the screen now shown (a step without any, e.g. fisik of a sub
            # kegiatan new this quarter, must not bring back an earlier message's).
            rows = bot.api.buttons(bot.api.last(OP_SEK))
            labels = {label: data or "" for row in rows for label, data in row}
            if any(label.startswith("📨 Kirim") for label in labels):
                break
            if "Ya, benar" in labels:  # a drop below last quarter: keep it
                await bot.press(OP_SEK, labels["Ya, benar"])
                confirmed += 1
                continue
            prompt = (bot.api.last(OP_SEK).text or "").lower()
            if "Lewati" in labels and "realisasi" not in prompt.split("\n")[-1]:
                await bot.press(OP_SEK, labels["Lewati"])
            else:
                # the smallest figure: every cumulative amount, fisik and indicator drops
                await bot.say(OP_SEK, "1")
        else:
            raise AssertionError("never reached the review: " + (bot.api.last(OP_SEK).text or ""))
        assert confirmed >= 18, confirmed
        # The review: several parts, each within the limit, Kirim on the last.
        review = [c for c in bot.api.sent(OP_SEK) if c.method == "sendMessage"][-8:]
        assert all(_units(c.text or "") <= LIMIT for c in bot.api.sent(OP_SEK))
        last = bot.api.last(OP_SEK)
        assert any(lbl.startswith("📨 Kirim") for row in bot.api.buttons(last) for lbl, _ in row)
        total = sum(_units(c.text or "") for c in review)
        assert total > LIMIT, total  # the case of the issue: too long for one message
        kirim = next(d for label, d in bot.buttons(OP_SEK) if label.startswith("📨 Kirim"))
        before = len(bot.api.sent(VERIF))
        out = await bot.press(OP_SEK, kirim)
        assert "terkirim" in out, out
        card = bot.api.sent(VERIF)[before:]
        assert len(card) >= 2
        assert all(_units(c.text or "") <= LIMIT for c in card)
        assert bot.api.buttons(card[-1]) and not any(bot.api.buttons(c) for c in card[:-1])
        # nothing cut mid-word: every part ends at the end of a line's word
        for c in card[:-1]:
            assert (c.text or "").rstrip()[-1:] not in ("", " ")
        assert "turun dari" in "\n".join(c.text or "" for c in card)
    finally:
        await _close(bot)


async def test_riwayat_with_long_changes_fits_without_cutting(seeded: Engine) -> None:
    from storage.data.audit import record
    from storage.services.nodes import find_node

    _users(seeded)
    with session_scope(seeded) as s:
        node = find_node(s, opd_id=1, text="pengawasan kekuatan").best
        assert node is not None
        for i in range(30):  # 30 keterangan changes of ~300 characters each, with "&" in them
            record(
                s, actor="cli", entity="realisasi", entity_id=node.id, field="ket",
                old="lama & " + "kata " * 60, new=f"baru{i} & " + "kata " * 60,
            )  # fmt: skip
    bot = await _open(seeded)
    try:
        out = await bot.say(VERIF, "/riwayat pengawasan kekuatan")
        last = bot.api.last(VERIF)
        assert _units(last.text or "") <= LIMIT
        assert "perubahan yang lebih lama tidak ditampilkan" in out
        assert "baru29 &" in out  # the newest change is shown whole
        assert out.rstrip().endswith("kata")  # ends at a word, not inside one
    finally:
        await _close(bot)


# --- a long breakdown is cut before it is formatted (issue 29) --------------------------------


def _long_answer(metric: Metric, kind: Kind) -> Answer:
    """An answer listing 2,000 programs (a bidang of an office-year far larger than any real
    one)."""
    items = [
        Item("program", i, f"PROGRAM UJI {i} " + "X" * (i % 40), Figure(10_000 + i, 5_000, 50.0))
        for i in range(2_000)
    ]
    opd = PerangkatDaerah(id=1, nama="Dinas Uji")
    q = Query(metric, "bidang", 2, "Koperasi", 2022, 3)
    whole = Figure(sum(it.figure.pagu or 0 for it in items), 5_000 * len(items), 50.0)
    a = Answer(kind, query=q, scope=ScopeResult(opd, 2022, 3, Item("bidang", 2, "K", whole),
                                                 items, 60.0))  # fmt: skip
    a.daftar = [DaftarRow("program", it.nama, it.figure.pagu, i % 2) for i, it in enumerate(items)]
    return a


@pytest.mark.parametrize(
    ("metric", "kind"),
    [
        (Metric.SERAPAN, Kind.SCOPE),
        (Metric.FISIK, Kind.SCOPE),
        (Metric.SISA, Kind.SCOPE),
        (Metric.SERAPAN, Kind.DAFTAR),
    ],
)
def test_a_long_list_is_cut_where_it_was_when_every_row_was_formatted(
    monkeypatch: pytest.MonkeyPatch, metric: Metric, kind: Kind
) -> None:
    a = _long_answer(metric, kind)
    shown = answers.render(a)
    # Telegram's limit, counted as Telegram counts (visible UTF-16 units after the HTML)
    assert "dipersingkat" in shown.text and budget.length(shown.text) <= budget.TEXT
    # every row formatted, as before: the same message, cut at the same row
    monkeypatch.setattr(answers, "_until_full", lambda lines, rows: lines.extend(rows))
    assert answers.render(a) == shown
