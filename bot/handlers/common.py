"""Handlers every user meets: who they are, /start, /bantuan, and the catch-alls."""

from __future__ import annotations

import logging
from collections import OrderedDict
from html import escape

from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop

from bot.context import MonevContext, NoOfficeChosen, load_actor
from bot.handlers import shared
from bot.handlers.kabupaten import Asker, asker, example_source, examples, short_name
from bot.handlers.shared import markup, webapp_row
from bot.views import texts
from bot.views import webapp as webapp_views
from storage.data.boundary import OutOfScope
from storage.domain.policy import DECIDING_ROLES, KABUPATEN_ROLES, Denied, Role, UserStatus
from storage.services import verification
from storage.services.kabupaten import office_names

log = logging.getLogger(__name__)


SEEN_MAX = 10_000


async def identify(update: Update, context: MonevContext) -> None:
    """Load the sender's role before any other handler runs; drop a repeated update."""
    seen: OrderedDict[int, None] = context.bot_data.setdefault("seen_updates", OrderedDict())
    if update.update_id in seen:
        # Telegram (a webhook retry, or a replay after a crash) delivered it again.
        raise ApplicationHandlerStop
    seen[update.update_id] = None
    if len(seen) > SEEN_MAX:
        seen.popitem(last=False)
    user = update.effective_user
    if user is None:
        return
    if shared.TEXT.check_update(update):
        return  # its turn identifies the sender (routing.on_text), in the same trip as the rest
    try:
        context.actor = await context.read(load_actor, user.id)
    except OperationalError:
        await unreachable(update)


async def unreachable(update: Update) -> None:
    """The database failed while identifying the sender: without knowing who this is, no
    later handler may run; say so, and stop here."""
    log.warning("database unreachable while identifying a user")
    if update.callback_query is not None:
        await update.callback_query.answer(texts.DB_DOWN, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(texts.DB_DOWN)
    raise ApplicationHandlerStop from None


def _bidang_name(context: MonevContext, bidang_id: int | None) -> str:
    names: dict[int, str] = context.bot_data.get("bidang_names", {})
    return names.get(bidang_id or -1, "")


def _greeting(session: Session, who: Asker, nama: str, bidang: str) -> str:
    """The greeting of an active person: their role, and examples of their office and role."""
    src = example_source(session, who)
    shown = texts.examples_for(src)
    offices = office_names(session)
    several = len(offices) > 1
    assert who.role is not None  # greeted as an active person
    role = texts.ROLE_NAMES[who.role]
    if who.role in KABUPATEN_ROLES:
        names = ", ".join(escape(short_name(o)) for o in offices[:8])
        more = f" dan {len(offices) - 8} lainnya" if len(offices) > 8 else ""
        return texts.START_KABUPATEN.format(
            nama=nama,
            role=role,
            offices=(names + more) or "-",
            examples=texts.example_list(shown, 4),
        )
    own = next((o for o in offices if o.id == who.opd_id), None)
    where = f" · {escape(short_name(own))}" if several and own is not None else ""
    if who.role == Role.OPERATOR and bidang:
        return texts.START_OPERATOR.format(
            nama=nama,
            bidang=escape(bidang),
            where=where,
            examples=texts.example_list(shown[1:], 3),
        )
    return texts.START_ACTIVE.format(
        nama=nama, role=role, where=where, examples=texts.example_list(shown, 3)
    )


def _help(session: Session, who: Asker, bidang: str) -> str:
    offices = ", ".join(short_name(o) for o in office_names(session))
    return texts.help_for(example_source(session, who), bidang_name=bidang, offices=offices)


async def start(update: Update, context: MonevContext) -> None:
    """Greet the user according to their role."""
    actor = context.actor
    assert update.effective_message is not None
    if actor is None or actor.status is None:
        text = texts.START_STRANGER
    elif actor.status == UserStatus.PENDING:
        text = texts.START_PENDING
    elif not actor.active:
        text = texts.START_REJECTED
    else:
        nama = escape(
            actor.nama or (update.effective_user.first_name if update.effective_user else "")
        )
        bidang = _bidang_name(context, actor.bidang_id)
        text = await context.read(_greeting, asker(context), nama, bidang)
        if actor.role in DECIDING_ROLES:
            n = await context.read(
                verification.waiting_count, telegram_id=actor.telegram_id, opd_id=context.opd_id
            )
            if n:
                text += texts.VERIF_WAITING_START.format(n=n)
        if actor.role in DECIDING_ROLES | KABUPATEN_ROLES:
            keyboard = webapp_row(context, webapp_views.DASHBOARD_BUTTON, "dasbor")
            await update.effective_message.reply_text(text, reply_markup=markup(keyboard))
            return
    await update.effective_message.reply_text(text)


async def bantuan(update: Update, context: MonevContext) -> None:
    """Show what can be asked, for the sender's role and office (strangers only learn how to
    ask for access)."""
    assert update.effective_message is not None
    actor = context.actor
    if actor is None or not actor.active:
        await update.effective_message.reply_text(texts.HELP_STRANGER)
        return
    bidang = _bidang_name(context, actor.bidang_id)
    await update.effective_message.reply_text(await context.read(_help, asker(context), bidang))


async def unknown_command(update: Update, context: MonevContext) -> None:
    """Any command the bot does not know."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(texts.UNKNOWN_COMMAND)


async def non_text(update: Update, context: MonevContext) -> None:
    """Stickers, photos, voice notes: say what the bot can read."""
    assert update.effective_message is not None
    if context.actor is None or not context.actor.active:
        await update.effective_message.reply_text(texts.NOT_REGISTERED)
        return
    shown = await context.read(examples, asker(context))
    await update.effective_message.reply_text(texts.NON_TEXT.format(example=escape(shown[1])))


async def stale_button(update: Update, context: MonevContext) -> None:
    """A button whose conversation or purpose is gone."""
    query = update.callback_query
    assert query is not None
    await query.answer(texts.STALE_BUTTON, show_alert=True)


async def on_error(update: object, context: MonevContext) -> None:
    """Log the error and tell the user something went wrong — never a traceback."""
    err = context.error
    if isinstance(err, BadRequest) and "message is not modified" in str(err).lower():
        return  # a double tap re-sending the same content; nothing to tell anyone
    if isinstance(err, NoOfficeChosen):
        # Someone without an office (a kabupaten role) used a command about one office.
        text = texts.KAB_NO_OFFICE
    elif isinstance(err, OutOfScope):
        # The office boundary refused a read (storage/data/boundary.py): nothing was shown.
        log.info("a read outside the sender's office was refused")
        text = texts.denied(Denied.NOT_THEIR_OFFICE)
    else:
        log.error("update failed: %s", type(err).__name__, exc_info=err)
        text = texts.ERROR
    if not isinstance(update, Update):
        return
    if isinstance(err, OperationalError):
        detail = str(err.orig).lower() if err.orig is not None else ""
        readonly = any(w in detail for w in ("readonly", "read-only", "disk", "full"))
        text = texts.DB_READONLY if readonly else texts.DB_DOWN
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
    except Exception:
        log.warning("could not tell the user about the error")
