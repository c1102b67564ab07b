"""Registration as a versioned record (issue 12 item 9), through the real Application."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select
from telegram import Update

from bot.console import html_to_text
from bot.offline.api import Call, OfflineBotAPI
from bot.offline.updates import make_callback_update
from storage.data.db import read_scope, session_scope
from storage.data.models import AppUser, Role, UserStatus
from storage.services.users import set_user
from tests.bot_harness import ADMIN, Bot

ADMIN2 = 9005


async def _request(bot: Bot, user: int, nama: str, nip: str | None = None) -> str:
    await bot.say(user, "/daftar")
    await bot.say(user, nama)
    if nip is None:
        await bot.press(user, "reg:skip")
    else:
        await bot.say(user, nip)
    await bot.press(user, "reg:bidang:0")
    return await bot.press(user, "reg:send")


def _button(call: Call, part: str) -> str:
    return next(d for row in OfflineBotAPI.buttons(call) for _, d in row if d and part in d)


def _approve_kepala(call: Call) -> str:
    return _button(call, ":kepala:")


def _user(bot: Bot, tgid: int) -> AppUser:
    with read_scope(bot.engine) as s:
        return s.exec(select(AppUser).where(AppUser.telegram_id == tgid)).one()


async def _press_on(bot: Bot, user_id: int, data: str, message) -> str:  # type: ignore[no-untyped-def]
    """A tap on a button of ``message`` as the admin still sees it (an old message)."""
    before = len(bot.api.calls)
    update: Update = make_callback_update(bot.app.bot, data, user_id=user_id, message=message)
    await bot.app.process_update(update)
    new = bot.api.calls[before:]
    shown = [c.text or "" for c in new if c.method != "answerCallbackQuery"]
    alerts = [str(c.params.get("text", "")) for c in new if c.method == "answerCallbackQuery"]
    return html_to_text("\n".join(shown + alerts))


def _backdate(bot: Bot, tgid: int, minutes: int = 2) -> None:
    """The person's last request as if sent ``minutes`` ago (past the resend limit)."""
    with session_scope(bot.engine) as s:
        row = s.exec(select(AppUser).where(AppUser.telegram_id == tgid)).one()
        assert row.status_at is not None
        row.status_at = row.status_at - timedelta(minutes=minutes)
        s.add(row)


async def test_changed_name_updates_the_admins_messages_and_a_stale_tap_is_refused(
    bot: Bot,
) -> None:
    # Issue 23: one request per person; a change edits the admins' messages (their old
    # buttons go) instead of sending new ones.
    with session_scope(bot.engine) as s:
        set_user(s, telegram_id=ADMIN2, role=Role.ADMIN, nama="Admin Dua", actor="test")
    u = 9400
    assert "dikirim ke admin" in await _request(bot, u, "Budi Santoso")
    first = {a: bot.api.last(a) for a in (ADMIN, ADMIN2)}
    assert all("Budi Santoso" in (c.text or "") for c in first.values())
    old_approve = _approve_kepala(first[ADMIN])
    sent_before = len(bot.api.calls_of("sendMessage"))

    # the same person asks again under another name after the admins were notified
    _backdate(bot, u)
    assert "diperbarui" in await _request(bot, u, "Kepala Dinas Palsu 2")
    admins_messaged = [
        c for c in bot.api.calls_of("sendMessage")[sent_before:] if c.chat_id in (ADMIN, ADMIN2)
    ]
    assert admins_messaged == []  # no new broadcast
    for admin, call in first.items():
        # the same message now shows the new name, with the new version's buttons
        shown = bot.api.message(admin, call.result["message_id"])
        assert shown is not None
        assert "Kepala Dinas Palsu 2" in shown["text"] and "Budi Santoso" not in shown["text"]
        assert "Diperbarui oleh pemohon (versi 2)" in shown["text"]
        data = [b["callback_data"] for row in shown["reply_markup"]["inline_keyboard"] for b in row]
        assert old_approve not in data and any(d.endswith(":2") for d in data)

    # an admin taps the old "Kepala" he saw for Budi Santoso: refused, the current one shown
    out = await _press_on(bot, ADMIN, old_approve, first[ADMIN])
    assert "tidak ada yang disetujui" in out and "Kepala Dinas Palsu 2" in out
    u_row = _user(bot, u)
    assert u_row.status == UserStatus.PENDING and u_row.role is None

    # the tap on the message as it shows now approves under the current name
    current = bot.api.message(ADMIN2, first[ADMIN2].result["message_id"])
    out = await _press_on(bot, ADMIN2, _approve_kepala_in(current), current)
    assert "disetujui sebagai kepala" in out
    u_row = _user(bot, u)
    assert u_row.status == UserStatus.ACTIVE and u_row.nama == "Kepala Dinas Palsu 2"


def _approve_kepala_in(message: dict | None) -> str:
    assert message is not None
    rows = message["reply_markup"]["inline_keyboard"]
    return next(b["callback_data"] for row in rows for b in row if ":kepala:" in b["callback_data"])


async def test_same_request_twice_notifies_once(bot: Bot) -> None:
    u = 9401
    await _request(bot, u, "Rina Marlina")
    n = len(bot.api.sent(ADMIN))
    assert "masih menunggu" in await _request(bot, u, "Rina Marlina")
    assert len(bot.api.sent(ADMIN)) == n


async def test_rejected_user_waits_for_the_cool_down(bot: Bot) -> None:
    u = 9402
    await _request(bot, u, "Budi Santoso")
    reject = _button(bot.api.last(ADMIN), "reg:no:")
    await bot.press(ADMIN, reject)
    n = len(bot.api.sent(ADMIN))
    for _ in range(3):
        out = await bot.say(u, "/daftar")
        assert "dapat mengirim permintaan baru mulai" in out and "WIB" in out
        assert "nama lengkap" not in out
    assert len(bot.api.sent(ADMIN)) == n  # no new admin messages within the cool-down
    # after the cool-down (the rejection dated 25 h back) a new request reaches the admins
    with session_scope(bot.engine) as s:
        row = s.exec(select(AppUser).where(AppUser.telegram_id == u)).one()
        assert row.status_at is not None
        row.status_at = row.status_at - timedelta(hours=25)
        s.add(row)
    assert "dikirim ke admin" in await _request(bot, u, "Budi Santoso")
    assert len(bot.api.sent(ADMIN)) == n + 1


async def test_blocked_user_cannot_ask_again(bot: Bot) -> None:
    u = 9403
    await _request(bot, u, "Pengganggu")
    block = _button(bot.api.last(ADMIN), "reg:blk:")
    before_user = len(bot.api.sent(u))
    out = await bot.press(ADMIN, block)
    assert "diblokir" in out
    assert len(bot.api.sent(u)) == before_user  # the blocked person is not messaged
    assert _user(bot, u).status == UserStatus.BLOCKED
    n = len(bot.api.sent(ADMIN))
    assert "diblokir" in await bot.say(u, "/daftar")
    assert len(bot.api.sent(ADMIN)) == n


async def test_button_without_version_is_refused(bot: Bot) -> None:
    u = 9404
    await _request(bot, u, "Tanpa Versi")
    assert "sudah tidak berlaku" in await bot.press(ADMIN, f"reg:ok:{u}:admin:0")
    assert _user(bot, u).status == UserStatus.PENDING
