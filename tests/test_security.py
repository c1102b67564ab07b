"""Every command and every button pattern, as a stranger and as an operator of another bidang:
nothing leaks and nothing changes."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.views import texts
from storage.data.db import read_scope, session_scope
from storage.data.models import AppUser, Draft, DraftStatus, Pelaporan, Role, StatusLaporan
from storage.services.users import find_bidang, set_user
from tests.bot_harness import OPERATOR_KOP, STRANGER, Bot

OP_DAG = 9500
COMMANDS = [f"/{c}" for c, _ in texts.COMMANDS] + [
    "/help",
    "/grafik",
    "/laporan 3 2022",
    "/laporan csv",
    "/riwayat gaji",
    "/bukakembali koperasi 3 2022",
    "/lapor",
]
CALLBACKS = [
    "reg:ok:9003:admin:0",
    "reg:ok:9100:kepala:0",
    "reg:no:9003",
    "reg:bidang:2",
    "reg:send",
    "ask:bidang:2:serapan:2:2022",
    "ask:program:1:serapan:3:2022",
    "gr:bidang:0:3:2022",
    "gr:program:2:3:2022",
    "gr:status:0:3:2022",
    "lp:new:2022.4:go",
    "lp:new:pick:go",
    "lp:1:anggaran.0:same",
    "lp:1:review:send",
    "lp:1:resume:go",
    "lp:1:resume:restart",
    "vf:ok:1",
    "vf:back:1",
]
SECRETS = ["Rp", "%", "PROGRAM", "Kepala Dinas", "Op Kop", "Sekretariat", "Koperasi"]


def _leaks(out: str) -> list[str]:
    # Registration may name the bidang a stranger chooses from; nothing else may show.
    allowed = out.replace("/daftar", "")
    return [
        s for s in SECRETS if s in allowed and not (s == "Koperasi" and "bidang" in out.lower())
    ]


@pytest.mark.parametrize("text", COMMANDS)
async def test_stranger_commands(bot: Bot, text: str) -> None:
    out = await bot.say(STRANGER, text)
    assert out.strip()
    if not text.startswith("/daftar"):
        assert _leaks(out) == [], (text, out)
    assert not bot.api.calls_of("sendPhoto") and not bot.api.calls_of("sendDocument")


@pytest.mark.parametrize("data", CALLBACKS)
async def test_stranger_buttons(bot: Bot, data: str) -> None:
    before = _state(bot)
    out = await bot.press(STRANGER, data)
    assert _leaks(out) == [], (data, out)
    assert not bot.api.calls_of("sendPhoto")
    assert _state(bot) == before


def _state(bot: Bot) -> tuple:
    with read_scope(bot.engine) as s:
        users = sorted((u.telegram_id, u.role, u.status) for u in s.exec(select(AppUser)).all())
        drafts = sorted((d.id, d.status, d.step) for d in s.exec(select(Draft)).all())
        pel = sorted((p.id, p.status) for p in s.exec(select(Pelaporan)).all())
    return users, drafts, pel


async def test_operator_of_another_bidang_cannot_touch_koperasi(bot: Bot) -> None:
    with session_scope(bot.engine) as s:
        dag = find_bidang(s, text="perdagangan", opd_id=1)
        set_user(
            s, telegram_id=OP_DAG, role=Role.OPERATOR, bidang_id=dag.id, nama="Op Dag", actor="t"
        )
    # Koperasi's operator has a draft with a figure in it
    await bot.say(OPERATOR_KOP, "/lapor")
    await bot.press(OPERATOR_KOP, dict(bot.buttons(OPERATOR_KOP))["Isi TW IV 2022"])
    await bot.say(OPERATOR_KOP, "21.000.000")
    with read_scope(bot.engine) as s:
        draft = s.exec(select(Draft).where(Draft.status == DraftStatus.AKTIF)).one()
    before = _state(bot)
    for data in (
        f"lp:{draft.id}:fisik.0:same",
        f"lp:{draft.id}:review:send",
        f"lp:{draft.id}:review:edit-anggaran.0",
        f"lp:{draft.id}:resume:go",
        f"lp:{draft.id}:resume:restart",
    ):
        out = await bot.press(OP_DAG, data)
        assert "milik pengguna lain" in out, (data, out)
        assert "21.000.000" not in out
    assert _state(bot) == before
    # the draft's content never shows to them, nor may they verify or reopen
    assert "tidak diizinkan" in await bot.press(OP_DAG, "vf:ok:1")
    assert "tidak diizinkan" in await bot.say(OP_DAG, "/bukakembali koperasi 3 2022")
    with read_scope(bot.engine) as s:
        assert all(p.status == StatusLaporan.DISETUJUI for p in s.exec(select(Pelaporan)).all())
    # reading figures of other bidang is open to every registered role
    assert "Bidang Koperasi" in await bot.say(OP_DAG, "serapan koperasi tw3")
    assert "Rp" not in await bot.say(STRANGER, "serapan koperasi tw3")
