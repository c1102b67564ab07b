"""The optional spending-plan step of /lapor ("Isi rencana penarikan TW I–IV?"), through the
real Application, on a year that has a plan but no realisasi yet (2022 copied to 2023).

Koperasi's three leaves in 2023 (pagu copied from 2022): sub kegiatan "Pengawasan kekuatan"
Rp 22.499.800, kegiatan "Penilaian kesehatan" (no sub kegiatan) Rp 146.440.700, sub kegiatan
"Pemberdayaan peningkatan" Rp 24.749.500; each the only leaf of its program.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.views import plan_step as plan_views
from storage.data.db import read_scope, session_scope
from storage.data.models import AuditLog, Draft, DraftStatus, RencanaPenarikan, Source
from storage.domain.plan_input import PlanInputError, parse_plan
from storage.services import lapor_flow as flow
from storage.services import plan_step
from storage.services.early_warning import set_rencana
from storage.services.office import copy_year
from storage.services.queries import list_bidang
from storage.services.submission import draft_plan, load, save
from storage.services.users import find_bidang, get_user
from tests.bot_harness import KEPALA, Bot
from tests.test_bukti import _jpeg, _photo
from tests.test_bukti import _open as open_with_evidence
from tests.test_lapor import OP1, _button, _close, _finish_narrative, _open, _users

PAGU = (22_499_800, 146_440_700, 24_749_500)
NATIONAL_2 = (21_966_105, 58_576_280, 87_864_420, 131_796_630)  # 15/40/60/90% of Rp 146.440.700


def _leaves(engine: Engine, tahun: int = 2023, tw: int = 1) -> list[int]:
    """Koperasi's leaves (node ids) in the order /lapor asks them."""
    with read_scope(engine) as s:
        kop = find_bidang(s, text="koperasi", opd_id=1)
        assert kop is not None and kop.id is not None
        plan = draft_plan(s, kop.id, tahun, tw)
        assert [x.pagu for x in plan.subs] == list(PAGU)
        return [x.node_id for x in plan.subs]


def _rows(engine: Engine, node_ids: list[int]) -> dict[int, RencanaPenarikan]:
    with read_scope(engine) as s:
        return {
            r.node_id: r
            for r in s.exec(
                select(RencanaPenarikan).where(col(RencanaPenarikan.node_id).in_(node_ids))
            ).all()
        }


@pytest.fixture
def year2023(seeded: Engine) -> Engine:
    """The demo with its 2022 plan copied to 2023 (pagu, no realisasi) and the users."""
    _users(seeded)
    with session_scope(seeded) as s:
        copy_year(s, opd_id=1, dari=2022, ke=2023, actor="t")
    return seeded


@pytest.fixture
async def bot(year2023: Engine) -> AsyncIterator[Bot]:
    b = await _open(year2023)
    try:
        yield b
    finally:
        await _close(b)


async def _start_tw1_2023(bot: Bot) -> str:
    await bot.say(OP1, "/lapor")
    await bot.press(OP1, _button(bot, OP1, "Pilih triwulan lain"))
    return await bot.press(OP1, _button(bot, OP1, "TW I 2023"))


async def _figures_tw1(bot: Bot) -> None:
    """TW I 2023 realisasi: Rp 4.000.000, Rp 30.000.000, Rp 1.000.000."""
    for anggaran, fisik in (("4 jt", "20"), ("30 jt", "25"), ("1 jt", "5")):
        assert "realisasi fisik" in (await bot.say(OP1, anggaran)).lower()
        await bot.say(OP1, fisik)
        await bot.press(OP1, _button(bot, OP1, "Lewati"))
    await _finish_narrative(bot)


def _draft_step(engine: Engine) -> tuple[str, dict]:
    with read_scope(engine) as s:
        d = s.exec(select(Draft).where(Draft.status == DraftStatus.AKTIF)).one()
        return d.step, plan_step.block(load(d)) or {}


async def test_fill_path_bad_input_and_restart_then_early_warning_uses_it(
    year2023: Engine,
) -> None:
    seeded = year2023
    leaves = _leaves(seeded)
    bot = await _open(seeded)
    out = await _start_tw1_2023(bot)
    assert "Isi rencana penarikan TW I–IV?" in out
    assert "3 dari 3 sub kegiatan" in out and "pola nasional 15/40/60/90%" in out
    assert [label for label, _ in bot.buttons(OP1)] == ["Isi rencana", "Lewati"]
    out = await bot.press(OP1, _button(bot, OP1, "Isi rencana"))
    assert "rencana 1/3" in out and "Pagu: Rp 22.499.800" in out
    assert "Pola nasional 15/40/60/90%: TW I Rp 3.374.970" in out
    # Bad input: a clear message each time, nothing stored, the same question stays.
    refused = {
        "50 jt; 200 jt": "tepat empat angka (TW I–IV), bukan 2",
        "10 jt; 5 jt; 15 jt; 20 jt": "TW II (Rp 5.000.000) tidak boleh lebih kecil dari TW I",
        "5 jt; 10 jt; 15 jt; 30 jt": "melebihi pagu Rp 22.499.800",
        "lima juta; 1; 2; 3": "TW I: 'lima juta' bukan jumlah rupiah",
        "5 jt; -1; 2 jt; 3 jt": "Rencana TW II tidak boleh negatif",
    }
    for typed, why in refused.items():
        answer = await bot.say(OP1, typed)
        assert answer.startswith("❗") and why in answer, answer
        assert any(w in answer for w in ("misalnya", "Ketik", "Contoh")), answer
        assert _draft_step(seeded) == ("rencana:0", _draft_step(seeded)[1])
        assert _draft_step(seeded)[1]["isi"] == {}
    out = await bot.say(OP1, "5 jt; 10 jt; 15 jt; 20 jt")
    assert "TW IV Rp 20.000.000 (tersimpan di draf)" in out and "rencana 2/3" in out
    nasional = _button(bot, OP1, "Pakai pola nasional")
    # The bot restarts in the middle of the step: the answer given and the step survive.
    await _close(bot)
    bot = await _open(seeded)
    try:
        out = await bot.press(OP1, nasional)
        assert "mengikuti pola nasional: TW I Rp 21.966.105" in out and "rencana 3/3" in out
        out = await bot.say(OP1, "2 jt\n5 jt\n10 jt\n24.749.500")
        assert "Ketik realisasi anggaran kumulatif" in out and "(1/3)" in out
        await _figures_tw1(bot)
        review = bot.api.last(OP1).text or ""
        assert "Rencana penarikan: diisi untuk 3 sub kegiatan" in review
        assert "Ubah rencana" in [label for label, _ in bot.buttons(OP1)]
        assert _rows(seeded, leaves) == {}  # nothing written before Kirim
        sent = await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
        assert "terkirim" in sent
        assert "Rencana penarikan 2023 disimpan untuk 3 sub kegiatan, berlaku mulai TW I" in sent
        rows = _rows(seeded, leaves)
        assert {n: (r.triwulan, r.cumulative()) for n, r in rows.items()} == {
            leaves[0]: (1, (5_000_000, 10_000_000, 15_000_000, 20_000_000)),
            leaves[1]: (1, NATIONAL_2),
            leaves[2]: (1, (2_000_000, 5_000_000, 10_000_000, 24_749_500)),
        }
        assert {(r.source, r.updated_by) for r in rows.values()} == {(Source.ENTRY, f"user:{OP1}")}
        with read_scope(seeded) as s:
            audit = s.exec(
                select(AuditLog).where(
                    AuditLog.entity == "rencana_penarikan", AuditLog.entity_id == leaves[0]
                )
            ).all()
        assert {(a.actor, a.field, a.new) for a in audit} >= {
            (
                f"user:{OP1}",
                "rencana TW IV 2023 mulai TW I — diisi lewat /lapor TW I 2023",
                "20000000",
            )
        }
        # The early-warning answer uses the office's plan for those nodes, to the rupiah:
        # program of the first leaf: plan TW I Rp 5.000.000, realisasi Rp 4.000.000.
        text = await bot.say_all(
            KEPALA, "program mana yang berisiko tidak terserap koperasi tw1 2023"
        )
        assert "TW I 2023" in text and "Pembanding: rencana kantor." in text, text
        assert "deviasi −Rp 1.000.000 (−4,44 poin)" in text
        # 4.000.000 + (20.000.000 − 5.000.000) × 4.000.000 / 5.000.000 = 16.000.000
        assert "proyeksi Rp 16.000.000 · berisiko Rp 4.000.000" in text
        assert "belum disetujui" in text  # the figures are still waiting for verification
    finally:
        await _close(bot)


async def test_skip_path_keeps_the_national_path(year2023: Engine, tmp_path: Path) -> None:
    seeded = year2023
    leaves = _leaves(seeded)
    bot = await open_with_evidence(seeded, tmp_path / "data")
    try:
        await _skip_path(seeded, bot, leaves)
    finally:
        await _close(bot)


async def _skip_path(seeded: Engine, bot: Bot, leaves: list[int]) -> None:
    await _start_tw1_2023(bot)
    skip = _button(bot, OP1, "Lewati")
    # A photo sent while the plan is asked is kept for a sub kegiatan chosen later, and
    # "Lanjutkan mengisi" comes back to the plan question.
    out = await _photo(bot, OP1, _jpeg(1), caption="Rapat anggaran kas")
    assert "menunggu sub kegiatannya" in out
    out = await bot.press(OP1, _button(bot, OP1, "Lanjutkan mengisi"))
    assert "Isi rencana penarikan TW I–IV?" in out
    out = await bot.press(OP1, skip)
    assert "Rencana penarikan dilewati: pola nasional 15/40/60/90% dari pagu tetap dipakai" in out
    assert "Ketik realisasi anggaran kumulatif" in out and "(1/3)" in out
    await _figures_tw1(bot)
    review = bot.api.last(OP1).text or ""
    assert "Rencana penarikan: dilewati (pola nasional 15/40/60/90% tetap dipakai)" in review
    sent = await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    assert "terkirim" in sent and "Rencana penarikan 2023 disimpan" not in sent
    assert _rows(seeded, leaves) == {}
    text = await bot.say_all(KEPALA, "program mana yang berisiko tidak terserap koperasi tw1 2023")
    assert "Pembanding: pola nasional 15/40/60/90%" in text, text
    # 15% of the bidang's pagu Rp 193.690.000 = Rp 29.053.500; realisasi Rp 35.000.000.
    assert "rencana s.d. TW I 2023 Rp 29.053.500, realisasi Rp 35.000.000" in text
    assert "deviasi +Rp 5.946.500 (+3,07 poin)" in text
    # The third leaf: 15% of Rp 24.749.500 = Rp 3.712.425, realisasi Rp 1.000.000.
    assert "rencana Rp 3.712.425 · realisasi Rp 1.000.000 · deviasi −Rp 2.712.425" in text


async def test_change_from_the_review_and_a_later_quarter_offers_no_step(
    seeded: Engine, bot: Bot
) -> None:
    leaves = _leaves(seeded)
    await _start_tw1_2023(bot)
    await bot.press(OP1, _button(bot, OP1, "Lewati"))
    await _figures_tw1(bot)
    # Changed on the review: the question again, then back to the review.
    out = await bot.press(OP1, _button(bot, OP1, "Ubah rencana"))
    assert "Isi rencana penarikan TW I–IV?" in out
    await bot.press(OP1, _button(bot, OP1, "Isi rencana"))
    await bot.say(OP1, "5 jt; 10 jt; 15 jt; 20 jt")
    await bot.press(OP1, _button(bot, OP1, "Pakai pola nasional"))
    out = await bot.press(OP1, _button(bot, OP1, "Pakai pola nasional"))
    assert "periksa sebelum mengirim" in out
    assert "Rencana penarikan: diisi untuk 3 sub kegiatan" in out
    assert "terkirim" in await bot.press(OP1, _button(bot, OP1, "📨 Kirim"))
    assert len(_rows(seeded, leaves)) == 3
    # TW II: the year is under way and the plan exists: the figures come first.
    out = await bot.press(OP1, "lp:new:2023.2:go")
    assert "Isi rencana penarikan" not in out
    step, block = _draft_step(seeded)
    assert step == "anggaran:0" and block == {}


async def test_demo_quarters_never_offer_the_step(seeded: Engine) -> None:
    """Every 2022 quarter of every bidang has realisasi of another quarter: no step, so the
    existing /lapor flows and benchmarks see the figures first."""
    _users(seeded)
    with session_scope(seeded) as s:
        for b in list_bidang(s, 1):
            assert b.id is not None
            for tw in (1, 2, 3, 4):
                plan = draft_plan(s, b.id, 2022, tw)
                assert not plan.subs or not plan_step.should_offer(s, plan), (b.nama, tw)
        started = flow.begin(s, telegram_id=OP1, tahun=2022, triwulan=4)
        assert isinstance(started, flow.Started)
        assert isinstance(started.screen, flow.Question) and started.screen.step == "anggaran:0"


def _user_id(engine: Engine) -> int:
    with read_scope(engine) as s:
        u = get_user(s, telegram_id=OP1)
        assert u is not None and u.id is not None
        return u.id


def test_partial_plan_offers_tetap_and_kirim_never_overwrites_a_newer_plan(
    seeded: Engine,
) -> None:
    _users(seeded)
    with session_scope(seeded) as s:
        copy_year(s, opd_id=1, dari=2022, ke=2023, actor="t")
    leaves = _leaves(seeded)
    uid = _user_id(seeded)
    office_plan = (1_000_000, 2_000_000, 3_000_000, 22_000_000)
    with session_scope(seeded) as s:
        set_rencana(s, node_id=leaves[0], dari_tw=1, values=office_plan, actor="import:x")
        opening = flow.opening(s, telegram_id=OP1, opd_id=1, today=date(2024, 1, 5))
        assert isinstance(opening, flow.Propose) and (opening.tahun, opening.triwulan) == (2023, 4)
        started = flow.begin(s, telegram_id=OP1, tahun=2023, triwulan=1)
        assert isinstance(started, flow.Started)
        assert isinstance(started.screen, flow.Question) and started.screen.step == plan_step.ASK
        draft_id = started.draft_id
        assert started.screen.data["rencana"]["lama"][str(leaves[0])] == list(office_plan)
        shown = flow.press(
            s, telegram_id=OP1, user_id=uid, draft_id=draft_id, step=plan_step.ASK, action="isi"
        )
        assert isinstance(shown, flow.Shown)
        # The sub kegiatan with an office plan: "Tetap" keeps it (nothing to write at Kirim).
        kept = flow.press(
            s, telegram_id=OP1, user_id=uid, draft_id=draft_id, step="rencana:0", action="tetap"
        )
        assert isinstance(kept, flow.Shown) and kept.plan_echo is not None
        assert kept.plan_echo.kind == "tetap" and kept.plan_echo.values == office_plan
        typed = flow.type_text(s, telegram_id=OP1, user_id=uid, text="1 jt; 2 jt; 3 jt; 100 jt")
        assert isinstance(typed, flow.Shown)
        assert isinstance(typed.screen, flow.Question) and typed.screen.step == "rencana:2"
        # A stale tap on a step already answered gets the current question back.
        old = flow.press(
            s, telegram_id=OP1, user_id=uid, draft_id=draft_id, step="rencana:0", action="tetap"
        )
        assert isinstance(old, flow.OldStep)
        flow.type_text(s, telegram_id=OP1, user_id=uid, text="1 jt; 2 jt; 3 jt; 4 jt")
    # Meanwhile someone imports a plan for the second leaf.
    with session_scope(seeded) as s:
        set_rencana(s, node_id=leaves[1], dari_tw=1, values=(1, 2, 3, 4), actor="import:y")
    with session_scope(seeded) as s:
        for anggaran in ("0", "0", "0"):
            flow.type_text(s, telegram_id=OP1, user_id=uid, text=anggaran)
            flow.type_text(s, telegram_id=OP1, user_id=uid, text="0")
            d = s.get(Draft, draft_id)
            assert d is not None
            skipped = flow.press(
                s, telegram_id=OP1, user_id=uid, draft_id=draft_id, step=d.step, action="skip"
            )
            assert isinstance(skipped, flow.Shown)
        d = s.get(Draft, draft_id)
        assert d is not None
        save(s, d, load(d), "review")  # indicators and notes are optional for this test
        sent = flow.press(
            s, telegram_id=OP1, user_id=uid, draft_id=draft_id, step="review", action="send"
        )
        assert isinstance(sent, flow.Sent), sent
        assert sent.rencana is not None
        assert sent.rencana.saved == [draft_plan(s, d.bidang_id, 2023, 1).subs[2].nama]
        assert sent.rencana.kept == 1
        # Changed meanwhile (no rule's message): the view words it.
        assert [why for _, why in sent.rencana.skipped] == [None]
        assert "sudah diubah orang lain sejak Anda mengisinya" in "\n".join(
            plan_views.saved_lines(sent.rencana)
        )
    rows = _rows(seeded, leaves)
    assert rows[leaves[0]].cumulative() == office_plan  # kept, not rewritten
    assert rows[leaves[1]].cumulative() == (1, 2, 3, 4)  # the newer import stays
    assert rows[leaves[2]].cumulative() == (1_000_000, 2_000_000, 3_000_000, 4_000_000)


def test_parse_plan_accepts_the_anggaran_shapes() -> None:
    assert parse_plan("50 jt; 200 jt; 400 jt; 600 jt", None) == (
        50_000_000,
        200_000_000,
        400_000_000,
        600_000_000,
    )
    assert parse_plan("Rp 1.000.000\n2,5 jt\n\n3.000.000;3 jt", 3_000_000) == (
        1_000_000,
        2_500_000,
        3_000_000,
        3_000_000,
    )
    assert parse_plan("0; 0; 1 M; 1 M", None)[2] == 1_000_000_000
    with pytest.raises(PlanInputError, match="terlalu panjang"):
        parse_plan("1;" * 200, None)
    with pytest.raises(PlanInputError, match="bukan 5"):
        parse_plan("1;2;3;4;5", None)
