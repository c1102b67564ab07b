"""/jadwal, /pengingat, /grupkantor and the switch of the weekly digest: the handlers of
deadlines and reminders (the minute jobs that send them are in ``bot.jobs``).

The typed date of /jadwal reaches :func:`jadwal_date` through the text's turn
(``bot/handlers/routing.py``); all of them are registered in ``bot/app.py``.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from typing import Any

from sqlmodel import Session
from telegram import Update
from telegram.constants import ChatType

from bot.context import Actor, MonevContext
from bot.handlers.shared import markup
from bot.jobs.early_warning import DIGEST_ROLES
from bot.jobs.reminders import BLOCKED, MAX_OVERDUE, clock_now, reminder_time
from bot.settings import WIB
from bot.views import early_warning as ew_views
from bot.views import reminders as views
from bot.views import texts
from bot.views.answers import Keyboard
from bot.views.reminders import kabupaten_outlook_text, outlook_text
from storage.domain.numbers import ParseError, format_tanggal
from storage.domain.policy import KABUPATEN_ROLES, Role
from storage.services import conversation
from storage.services.conversation import Flow, State
from storage.services.early_warning import digest_muted, digest_weekday, set_digest_muted
from storage.services.schedule import (
    DEFAULT_MAX_OVERDUE,
    GroupChange,
    ScheduleError,
    Window,
    clear_blocked,
    describe_kabupaten,
    describe_reminders,
    get_jadwal,
    group_chat_id,
    label,
    list_jadwal,
    parse_tanggal,
    remove_group_chat,
    set_deadline,
    set_group_chat,
    set_muted,
)

JADWAL_PICK, JADWAL_DATE = "pilih", "tanggal"  # steps of the /jadwal flow
# unblock_on_contact runs before every other group (identify is -1) and alone in it: it only
# notices that a person who had blocked the bot writes to it again.
UNBLOCK_GROUP = -20


async def unblock_on_contact(update: Update, context: MonevContext) -> None:
    """A person who had blocked the bot writes to it privately: they can be reminded again."""
    user, chat = update.effective_user, update.effective_chat
    blocked: set[int] | None = context.bot_data.get(BLOCKED)
    if user is None or chat is None or chat.type != ChatType.PRIVATE or not blocked:
        return
    if user.id in blocked:
        blocked.discard(user.id)
        await context.write(lambda s: clear_blocked(s, telegram_id=user.id))


def _admin(context: MonevContext) -> Actor | None:
    """The sender when they are an active admin (typed, so nobody reaches into None)."""
    actor = context.actor
    return actor if actor is not None and actor.has(Role.ADMIN) else None


def _jadwal_windows(session: Session, opd_id: int, today: date, tahun: int | None) -> list[Window]:
    if tahun is not None:
        return list_jadwal(session, opd_id=opd_id, tahun=tahun)
    out = list_jadwal(session, opd_id=opd_id, tahun=today.year)
    last_tw4 = get_jadwal(session, opd_id=opd_id, tahun=today.year - 1, tw=4)
    if last_tw4.tenggat >= today - timedelta(days=30):
        out.insert(0, last_tw4)  # January: last year's TW IV is the one being reported
    return out


def _jadwal_chat(update: Update) -> int | None:
    return update.effective_chat.id if update.effective_chat is not None else None


async def jadwal(update: Update, context: MonevContext) -> None:
    """/jadwal [tahun]: admins see the deadlines of a year and pick one to change."""
    message = update.effective_message
    assert message is not None
    admin = _admin(context)
    if admin is None:
        await message.reply_text(views.TEXTS["not_admin_jadwal"])
        return
    today = clock_now(context.bot_data).astimezone(WIB).date()
    args = context.args or []
    tahun = int(args[0]) if args and args[0].isdecimal() and 2000 <= int(args[0]) <= 2100 else None
    windows = await context.read(_jadwal_windows, context.opd_id, today, tahun)
    years = sorted({w.tahun for w in windows})
    text, keyboard = views.jadwal_view(windows, " dan ".join(str(y) for y in years))
    # Showing the deadlines opens the flow, so that /batal answers for it.
    await context.write(
        conversation.start,
        telegram_id=admin.telegram_id,
        flow=Flow.JADWAL,
        step=JADWAL_PICK,
        payload={"chat_id": _jadwal_chat(update)},
    )
    await message.reply_text(text, reply_markup=markup(keyboard))


async def jadwal_pick(update: Update, context: MonevContext) -> None:
    """A quarter was picked (on the latest /jadwal message or an older one): ask for the new
    deadline."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    admin = _admin(context)
    if admin is None:
        await query.edit_message_text(views.TEXTS["not_admin_jadwal"])
        return
    _, _, tahun_s, tw_s = query.data.split(":")
    tahun, tw = int(tahun_s), int(tw_s)
    w = await context.read(lambda s: get_jadwal(s, opd_id=context.opd_id, tahun=tahun, tw=tw))
    await context.write(
        conversation.start,
        telegram_id=admin.telegram_id,
        flow=Flow.JADWAL,
        step=JADWAL_DATE,
        payload={"tahun": tahun, "triwulan": tw, "chat_id": _jadwal_chat(update)},
    )
    text, keyboard = views.jadwal_ask(w)
    await query.edit_message_text(text, reply_markup=markup(keyboard))


def jadwal_takes_text(state: State, update: Update) -> bool:
    """Whether typed text is the date the /jadwal flow waits for: only at that step and in
    the chat where the quarter was picked (elsewhere it is a question, as before)."""
    return (
        state.flow == Flow.JADWAL
        and state.step == JADWAL_DATE
        and state.payload.get("chat_id") == _jadwal_chat(update)
    )


async def jadwal_date(update: Update, context: MonevContext, state: State) -> None:
    """The new deadline, as typed."""
    message = update.effective_message
    assert message is not None and message.text is not None
    tahun, tw = state.payload.get("tahun"), state.payload.get("triwulan")
    admin = _admin(context)
    if admin is None or not isinstance(tahun, int) or not isinstance(tw, int):
        await context.write(conversation.clear, telegram_id=state.telegram_id, flow=Flow.JADWAL)
        await message.reply_text(views.TEXTS["not_admin_jadwal"])
        return
    try:
        tenggat = parse_tanggal(message.text)
    except ParseError as exc:
        await message.reply_text(views.TEXTS["jadwal_bad"].format(error=escape(exc.user_message)))
        return
    actor = f"user:{admin.telegram_id}"

    def change(session: Session) -> tuple[Window, Window]:
        old = get_jadwal(session, opd_id=context.opd_id, tahun=tahun, tw=tw)
        new = set_deadline(
            session, opd_id=context.opd_id, tahun=tahun, tw=tw, tenggat=tenggat, actor=actor
        )
        # The new deadline and the end of the flow commit together.
        conversation.clear(session, telegram_id=state.telegram_id, flow=Flow.JADWAL)
        return old, new

    try:
        old, new = await context.write(change)
    except ScheduleError as exc:
        await message.reply_text(views.TEXTS["jadwal_bad"].format(error=escape(exc.user_message)))
        return
    key = "jadwal_same" if old.tenggat == new.tenggat else "jadwal_done"
    text = views.TEXTS[key].format(
        label=label(tahun, tw), lama=format_tanggal(old.tenggat), baru=format_tanggal(new.tenggat)
    )
    if new.tenggat < clock_now(context.bot_data).astimezone(WIB).date():
        text += views.TEXTS["jadwal_past"]
    await message.reply_text(text)


async def jadwal_close(update: Update, context: MonevContext) -> None:
    """Close the deadline view, or cancel a change in progress (its buttons)."""
    query = update.callback_query
    assert query is not None
    if update.effective_user is not None:
        await context.write(
            conversation.clear, telegram_id=update.effective_user.id, flow=Flow.JADWAL
        )
    await query.answer()
    key = "jadwal_cancel" if query.data == "jadwal:batal" else "jadwal_closed"
    await query.edit_message_text(views.TEXTS[key])


def _describe(session: Any, context: MonevContext, telegram_id: int) -> tuple[str, bool]:
    outlook = describe_reminders(
        session,
        opd_id=context.opd_id,
        telegram_id=telegram_id,
        now=clock_now(context.bot_data),
        reminder_time=reminder_time(context.bot_data),
        max_overdue=int(context.bot_data.get(MAX_OVERDUE, DEFAULT_MAX_OVERDUE)),
    )
    return outlook_text(outlook), outlook.muted


def _describe_kabupaten(session: Any, context: MonevContext, telegram_id: int) -> tuple[str, bool]:
    outlook = describe_kabupaten(
        session,
        telegram_id=telegram_id,
        today=clock_now(context.bot_data).date(),
        max_overdue=int(context.bot_data.get(MAX_OVERDUE, DEFAULT_MAX_OVERDUE)),
    )
    actor = context.actor
    assert actor is not None and actor.role is not None
    jam = reminder_time(context.bot_data).strftime("%H.%M")
    role = texts.ROLE_NAMES[actor.role]
    return kabupaten_outlook_text(outlook, role=role, jam=jam), outlook.muted


async def _outlook(context: MonevContext, telegram_id: int) -> tuple[str, bool]:
    """What the sender is reminded of: a kabupaten role's (several offices), else their
    office's."""
    actor = context.actor
    if (
        actor is not None
        and actor.role in KABUPATEN_ROLES
        and context.bot_data.get("opd_id") is None
    ):
        return await context.read(_describe_kabupaten, context, telegram_id)
    return await context.read(_describe, context, telegram_id)


async def pengingat(update: Update, context: MonevContext) -> None:
    """/pengingat: what I will be reminded of, with a mute/unmute button."""
    message = update.effective_message
    assert message is not None
    actor = context.actor
    if actor is None or not actor.active:
        await message.reply_text(views.TEXTS["not_registered"])
        return
    text, muted = await _outlook(context, actor.telegram_id)
    # The kepala's weekly early-warning digest has its line and switch here too.
    text, keyboard = await with_digest(context, text, views.pengingat_view(muted, actor.role))
    await message.reply_text(text, reply_markup=markup(keyboard))


async def pengingat_toggle(update: Update, context: MonevContext) -> None:
    """Mute or unmute my reminders."""
    query = update.callback_query
    assert query is not None
    actor = context.actor
    if actor is None or not actor.active:
        await query.answer()
        await query.edit_message_text(views.TEXTS["not_registered"])
        return
    mute = query.data == "pengingat:mati"
    await context.write(lambda s: set_muted(s, telegram_id=actor.telegram_id, muted=mute))
    await query.answer(views.TEXTS["muted" if mute else "unmuted"])
    text, muted = await _outlook(context, actor.telegram_id)
    text, keyboard = await with_digest(context, text, views.pengingat_view(muted, actor.role))
    await query.edit_message_text(text, reply_markup=markup(keyboard))


def _group_office(context: MonevContext) -> int | None:
    """Whose group the sender manages and is told about: their own office's, or the
    kabupaten's (None) for the kabupaten roles."""
    actor = context.actor
    if actor is not None and actor.role in KABUPATEN_ROLES:
        return None
    return context.opd_id


async def grupkantor(update: Update, context: MonevContext) -> None:
    """/grupkantor in a group (admins): that group gets their office's H and H+1 notices and
    weekly digest (the admin kabupaten's: the kabupaten's notices for the pemantau)."""
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    actor = context.actor
    if chat.type == ChatType.PRIVATE:
        if actor is None or not actor.active:
            await message.reply_text(views.TEXTS["not_registered"])
            return
        office = _group_office(context)
        registered = await context.read(lambda s: group_chat_id(s, opd_id=office))
        status = views.TEXTS["grup_status_set" if registered is not None else "grup_status_none"]
        await message.reply_text(views.TEXTS["grup_private"].format(status=status))
        return
    if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return
    if actor is None or not actor.has(Role.ADMIN, Role.ADMIN_KABUPATEN):
        await message.reply_text(views.TEXTS["grup_not_admin"])
        return
    office = _group_office(context)
    who = f"user:{actor.telegram_id}"
    if context.args and context.args[0].lower() in {"hapus", "berhenti", "stop"}:
        change = await context.write(remove_group_chat, opd_id=office, chat_id=chat.id, actor=who)
    else:
        change = await context.write(set_group_chat, opd_id=office, chat_id=chat.id, actor=who)
    key = {
        GroupChange.SET: "grup_done" if office is not None else "grup_done_kab",
        GroupChange.SAME: "grup_same",
        GroupChange.TAKEN: "grup_taken",
        GroupChange.REMOVED: "grup_removed",
        GroupChange.NOT_THIS: "grup_not_this",
    }[change]
    await message.reply_text(views.TEXTS[key])


# --- /pengingat: the kepala's digest switch --------------------------------------------------


def _digest_state(session: Any, telegram_id: int) -> tuple[bool, int]:
    return digest_muted(session, telegram_id=telegram_id), digest_weekday(session)


async def with_digest(context: MonevContext, text: str, keyboard: Keyboard) -> tuple[str, Keyboard]:
    """/pengingat for a kepala: the digest's line and its on/off button added."""
    actor = context.actor
    if actor is None or actor.role not in DIGEST_ROLES:
        return text, keyboard
    muted, weekday = await context.read(_digest_state, actor.telegram_id)
    at = reminder_time(context.bot_data).strftime("%H.%M")
    text += "\n\n" + ew_views.pengingat_line(muted=muted, weekday=weekday, at=at)
    return text, [*keyboard, [ew_views.digest_button(muted)]]


async def digest_toggle(update: Update, context: MonevContext) -> None:
    """Switch my weekly digest off or on (kepala only)."""
    query = update.callback_query
    assert query is not None
    actor = context.actor
    if actor is None or not actor.active or actor.role not in DIGEST_ROLES:
        await query.answer()
        await query.edit_message_text(ew_views.TEXTS["only_kepala"])
        return
    mute = query.data == "peringatan:mati"
    await context.write(lambda s: set_digest_muted(s, telegram_id=actor.telegram_id, muted=mute))
    await query.answer(ew_views.TEXTS["turned_off" if mute else "turned_on"])
    muted, weekday = await context.read(_digest_state, actor.telegram_id)
    at = reminder_time(context.bot_data).strftime("%H.%M")
    text = ew_views.switch_text(muted, weekday, at)
    await query.edit_message_text(text, reply_markup=markup([[ew_views.digest_button(muted)]]))
