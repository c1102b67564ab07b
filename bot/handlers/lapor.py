"""/lapor: an operator reports the bidang's quarter, one question at a time; verification.

The conversation's state lives in the database, not in memory: every answer is saved in the
draft as it is given, and whether typed text answers the draft (or gives a reason for
returning a report) is the person's ``chat_state`` row, written in the same transaction. So a
restart of the bot, a dropped connection or days of silence lose nothing. Who may do what is
checked on every update, whatever the buttons say, by the services these handlers call
(``storage/services/lapor_flow.py``, ``storage/services/verification.py``): a handler parses
the update, calls one service function through ``context.read``/``write`` and shows the
typed result.
"""

from __future__ import annotations

import logging
import re
from html import escape

from telegram import Message, Update
from telegram.error import TelegramError

from bot.context import MonevContext
from bot.handlers import bukti
from bot.handlers.questions import question
from bot.handlers.shared import markup, webapp_row
from bot.views import lapor as views
from bot.views import texts
from bot.views import verification as vf_views
from bot.views import webapp as webapp_views
from bot.views.answers import Reply
from bot.views.budget import split_html
from storage.data.buttons import SentButtons
from storage.domain.periods import parse_quarter, today_wib
from storage.domain.policy import Role, may_decide_as
from storage.services import conversation
from storage.services import lapor_flow as flow
from storage.services import verification as service
from storage.services.conversation import Flow, State
from storage.services.queries import years_with_data
from storage.services.submission import (
    NodeChoices,
    NodeHistory,
    NoNode,
    SubmissionError,
    node_history,
)

log = logging.getLogger(__name__)

# --- handlers ------------------------------------------------------------------------------------


async def _say(update: Update, context: MonevContext, text: str) -> None:
    """A plain message in the chat the update came from (buttons are answered only once)."""
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, text)


async def _show(update: Update, context: MonevContext, reply: Reply, *, note: str = "") -> None:
    """A screen, in several messages when it is long: the buttons go with the last part, so
    they are always visible and nothing is cut."""
    chat = update.effective_chat
    assert chat is not None
    text = f"{note}\n\n{reply.text}" if note else reply.text
    parts = split_html(text)
    for part in parts[:-1]:
        await context.bot.send_message(chat.id, part)
    await context.bot.send_message(chat.id, parts[-1], reply_markup=markup(reply.keyboard))


async def _send_card(
    context: MonevContext, chat_id: int, card: service.Card, head: str = texts.VERIF_REQUEST
) -> None:
    """A verification card (summary parts, buttons on the last) under ``head``; remembered
    so that its buttons can be taken away when the report moves on."""
    parts = vf_views.card(card, head)
    last = None
    for part in parts:
        last = await context.bot.send_message(
            chat_id, part.text, reply_markup=markup(part.keyboard) if part.keyboard else None
        )
    if last is not None:
        await context.write(
            service.remember_card,
            pelaporan_id=card.pelaporan_id,
            version=card.version,
            chat_id=chat_id,
            message_id=last.message_id,
            text=parts[-1].text,
        )


async def _retire(
    context: MonevContext, rows: list[SentButtons], note: str, *, skip: tuple[int, int] | None
) -> None:
    """Take the buttons off earlier verification messages and say what happened."""
    for r in rows:
        if skip is not None and (r.chat_id, r.message_id) == skip:
            continue
        try:
            await context.bot.edit_message_text(
                vf_views.retired_text(r.text, note),
                chat_id=r.chat_id,
                message_id=r.message_id,
                reply_markup=None,
            )
        except TelegramError as exc:
            log.info("could not retire a verification message: %s", type(exc).__name__)


async def lapor(update: Update, context: MonevContext) -> None:
    """Start or resume the quarterly report of the operator's bidang."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    actor = context.actor
    if actor is None or not actor.active:
        await message.reply_text(texts.NOT_REGISTERED)
        return
    if not actor.has(Role.OPERATOR):
        await message.reply_text(texts.LAPOR_ONLY_OPERATOR)
        return
    info = await context.read(
        flow.opening,
        telegram_id=actor.telegram_id,
        opd_id=context.opd_id,
        today=today_wib(),
    )
    if isinstance(info, flow.NotOperator):
        await message.reply_text(texts.LAPOR_ONLY_OPERATOR)
    elif isinstance(info, flow.NoPlan):
        await message.reply_text(texts.LAPOR_NO_PLAN)
    elif isinstance(info, flow.AllDone):
        picker = views.all_done(info)
        await message.reply_text(picker.text, reply_markup=markup(picker.keyboard))
    else:
        reply = views.resume_offer(info) if isinstance(info, flow.Resume) else views.proposal(info)
        # The whole quarter as one form, beside the one-question-at-a-time chat.
        keyboard = reply.keyboard + webapp_row(context, webapp_views.FORM_BUTTON, "lapor")
        await message.reply_text(reply.text, reply_markup=markup(keyboard))


async def _started(
    update: Update,
    context: MonevContext,
    result: flow.Started | flow.NotOperator | flow.NotYours,
    *,
    prefix: str = "",
) -> None:
    query = update.callback_query
    assert query is not None
    if isinstance(result, flow.NotYours):
        await _say(update, context, texts.LAPOR_NOT_YOURS)
        return
    if isinstance(result, flow.NotOperator):
        await query.edit_message_text(texts.LAPOR_ONLY_OPERATOR)
        return
    await query.edit_message_text(prefix + views.started_intro(result))
    await _show(update, context, views.screen(result.screen))


async def on_button(update: Update, context: MonevContext) -> None:
    """Every /lapor button: period choice, resume, quick answers, Ubah and Kirim."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    await query.answer()
    actor = context.actor
    if actor is None or not actor.has(Role.OPERATOR):
        await _say(
            update,
            context,
            texts.LAPOR_ONLY_OPERATOR if actor and actor.active else texts.NOT_REGISTERED,
        )
        return
    parts = query.data.split(":")
    if len(parts) != 4 or parts[0] != "lp":
        await query.edit_message_text(texts.STALE_BUTTON)
        return
    _, draft_token, step_token, action = parts
    tgid = actor.telegram_id
    note_typing(context, tgid, True)  # their next text most likely answers the draft
    if draft_token == "new":
        if step_token == "pick":
            picker = views.period_picker(await context.read(years_with_data, context.opd_id))
            await query.edit_message_text(picker.text, reply_markup=markup(picker.keyboard))
            return
        m = re.fullmatch(r"(\d{4})\.([1-4])", step_token)
        if not m:
            await query.edit_message_text(texts.STALE_BUTTON)
            return
        try:
            started = await context.write(
                flow.begin, telegram_id=tgid, tahun=int(m.group(1)), triwulan=int(m.group(2))
            )
        except SubmissionError as exc:
            await query.edit_message_text(escape(views.submission_error(exc)))
            return
        await _started(update, context, started)
        return
    if not draft_token.isdecimal():
        await query.edit_message_text(texts.STALE_BUTTON)
        return
    draft_id = int(draft_token)
    if step_token == "resume":
        if action == "restart":
            try:
                restarted = await context.write(flow.restart, telegram_id=tgid, draft_id=draft_id)
            except SubmissionError as exc:
                await query.edit_message_text(escape(views.submission_error(exc)))
                return
            await _started(update, context, restarted, prefix=f"{texts.LAPOR_CANCELLED_DRAFT}\n\n")
            return
        resumed = await context.write(flow.resume, telegram_id=tgid, draft_id=draft_id)
        if isinstance(resumed, flow.NotYours):
            await _say(update, context, texts.LAPOR_NOT_YOURS)
            return
        await query.edit_message_reply_markup(None)
        await _show(update, context, views.screen(resumed.screen))
        return
    if step_token == "review" and action.startswith(("bukti", "hapusb", "ringkas")):
        await bukti.on_review_button(update, context, draft_id, action.replace(".", ":"))
        return
    result = await context.write(
        flow.press,
        telegram_id=tgid,
        user_id=actor.user_id,
        draft_id=draft_id,
        step=step_token.replace(".", ":"),
        action=action.replace(".", ":"),
        bukti_wajib=context.bot_data["settings"].bukti_wajib,
    )
    await _after(update, context, result, edited=True)


async def _after(
    update: Update, context: MonevContext, result: flow.Step, *, edited: bool = False
) -> None:
    """Show what follows an answer."""
    query = update.callback_query
    if isinstance(result, flow.NotYours):
        await _say(update, context, texts.LAPOR_NOT_YOURS)
        return
    moved_on = (flow.Shown, flow.ConfirmDrop, flow.Sent, flow.Conflicts)
    if edited and query is not None and isinstance(result, moved_on):
        await query.edit_message_reply_markup(None)
    if isinstance(result, flow.OldStep):
        await _show(update, context, views.screen(result.screen), note=texts.LAPOR_OLD_STEP)
    elif isinstance(result, flow.Refused):
        await _say(update, context, "❗ " + escape(views.refusal(result)))
    elif isinstance(result, flow.UseButtons):
        assert update.effective_message is not None
        await update.effective_message.reply_text(texts.LAPOR_USE_BUTTONS)
    elif isinstance(result, flow.Shown):
        note = views.RETYPE if result.retype else views.plan_note(result)
        if result.cleaned:
            # Kept the text, told which field lost invisible characters (issue 13 item 4).
            note = views.control_removed(result.cleaned)
        await _show(update, context, views.screen(result.screen), note=note)
    elif isinstance(result, flow.ConfirmDrop):
        await _show(update, context, views.confirm_drop(result))
    elif isinstance(result, flow.Conflicts):
        await _say(update, context, views.conflict_text(result))
        if result.current is not None:
            await _show(update, context, views.screen(result.current))
    elif isinstance(result, flow.Overtook):
        await _show(update, context, views.overtook(result))
    elif isinstance(result, flow.Discarded):
        await _say(update, context, views.discarded(result))
    elif isinstance(result, flow.Sent):
        assert update.effective_chat is not None
        await announce_sent(context, update.effective_chat.id, result)


async def announce_sent(context: MonevContext, chat_id: int, result: flow.Sent) -> None:
    """After Kirim (in the chat or the Mini App form): the operator's confirmation in
    ``chat_id``, the earlier verification messages retired, and every verifier's card."""
    await context.bot.send_message(chat_id, views.sent_text(result))
    await _retire(
        context, result.retired, vf_views.resubmitted_note(result.version, result.oleh), skip=None
    )
    card = vf_views.sent_card(result)
    for verifier in result.verifiers:
        try:
            await _send_card(context, verifier, card)
        except TelegramError as exc:
            log.warning("could not reach a verifier: %s", type(exc).__name__)


# bot_data key: ids last seen typing into a /lapor draft. Only a guess of which session a
# text's turn opens first (a write transaction for them, a read for everyone else): a wrong
# guess costs a worker-thread trip, never a wrong effect (storage/services/text_turn.py).
TYPING = "typing_lapor"


def note_typing(context: MonevContext, telegram_id: int, typing: bool) -> None:
    """Remember who is typing into a draft, so their next text's turn is a write."""
    ids: set[int] = context.bot_data.setdefault(TYPING, set())
    if typing:
        ids.add(telegram_id)
    else:
        ids.discard(telegram_id)


async def typed(update: Update, context: MonevContext, result: flow.Step) -> None:
    """What follows a typed answer applied to the draft (``text_turn.Stepped``)."""
    await _after(update, context, result)


async def stop_drafting(update: Update, context: MonevContext) -> None:
    """/batal outside any other flow: stop typing into the draft (it stays saved)."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    active = context.actor is not None and context.actor.active
    info = (
        await context.read(flow.progress, telegram_id=update.effective_user.id) if active else None
    )
    if info is None:
        await message.reply_text(texts.NOTHING_TO_CANCEL)
        return
    await message.reply_text(views.stopped(info))


async def stop_reason(update: Update, context: MonevContext) -> None:
    """/batal while a reason for returning a report was awaited (the flow is already ended)."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(vf_views.REASON_CANCELLED)


# --- verification -----------------------------------------------------------------------------


async def _decided(update: Update, context: MonevContext, result: service.Decided) -> None:
    """After a decision: every earlier approve/return message loses its buttons and says
    who decided what; the operator is told."""
    query = update.callback_query
    pressed = None
    if query is not None and query.message is not None:
        pressed = (query.message.chat.id, query.message.message_id)
    await _retire(context, result.retired, vf_views.decided_note(result), skip=pressed)
    if result.operator is None:
        return
    try:
        await context.bot.send_message(result.operator, vf_views.to_operator(result))
    except TelegramError as exc:
        log.warning("could not tell the operator: %s", type(exc).__name__)


async def _show_card(
    update: Update, context: MonevContext, card: service.Card, head: str = texts.VERIF_CURRENT
) -> None:
    """A card in the chat of the update: by default the current version of a report whose
    older version a button showed."""
    assert update.effective_chat is not None
    await _send_card(context, update.effective_chat.id, card, head)


async def on_verify(update: Update, context: MonevContext) -> None:
    """Setujui / Kembalikan on a submitted report (for the version the message showed)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    actor = context.actor
    if actor is None or may_decide_as(role=actor.role, status=actor.status) is not None:
        await _say(
            update, context, texts.NOT_ALLOWED if actor and actor.active else texts.NOT_REGISTERED
        )
        return
    button = vf_views.VfButton.decode(query.data)
    if button is None:
        await _say(update, context, texts.STALE_BUTTON)
        return
    if button.action == vf_views.VfAction.RETURN:
        asked = await context.write(
            service.ask_reason,
            telegram_id=actor.telegram_id,
            pelaporan_id=button.submission_id,
            version=button.version,
        )
        if isinstance(asked, service.AskReason):
            assert update.effective_chat is not None
            await context.bot.send_message(update.effective_chat.id, vf_views.ask_reason(asked))
        elif isinstance(asked, service.Current):
            await query.edit_message_reply_markup(None)
            await _show_card(update, context, asked.card)
        else:
            await _say(update, context, vf_views.refusal(asked, inactive=texts.STALE_BUTTON))
        return
    res = await context.write(
        service.decide,
        telegram_id=actor.telegram_id,
        pelaporan_id=button.submission_id,
        version=button.version,
        approve=True,
    )
    if isinstance(res, service.Current):
        await query.edit_message_reply_markup(None)
        await _show_card(update, context, res.card)
    elif isinstance(res, service.Decided):
        shown = query.message
        original = shown.text_html if isinstance(shown, Message) and shown.text else ""
        await query.edit_message_text(vf_views.approved_here(original, res))
        await _decided(update, context, res)
    else:
        await _say(update, context, vf_views.refusal(res))


async def on_reason(update: Update, context: MonevContext, state: State) -> None:
    """The reason typed after 'Kembalikan' (the sender is in the reason flow)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    tgid = state.telegram_id
    pid = state.payload.get("pelaporan_id")
    version = state.payload.get("version")
    if not isinstance(pid, int):
        await context.write(conversation.clear, telegram_id=tgid, flow=Flow.REASON)
        await question(update, context)
        return
    alasan = " ".join(message.text.split())
    if len(alasan) < 5:
        await message.reply_text(vf_views.REASON_TOO_SHORT)
        return
    result = await context.write(
        service.decide,
        telegram_id=tgid,
        pelaporan_id=pid,
        version=version if isinstance(version, int) else None,
        approve=False,
        alasan=alasan,
    )
    if isinstance(result, service.Current):
        await _show_card(update, context, result.card)
    elif isinstance(result, service.Decided):
        await message.reply_text(vf_views.returned_here(alasan))
        await _decided(update, context, result)
    else:
        # Decided meanwhile, or no longer allowed: the reason has nothing left to return.
        await context.write(conversation.clear, telegram_id=tgid, flow=Flow.REASON)
        await message.reply_text(vf_views.refusal(result))


# "laporan mana yang perlu saya setujui", "ada yang menunggu verifikasi?": the queue.
_QUEUE_WORDS = re.compile(
    r"\b(menunggu|perlu|harus|belum)\b.*\b(verifikasi|diverifikasi|setujui|disetujui|"
    r"persetujuan)\b|\b(setujui|verifikasi)\b.*\bsaya\b",
    re.IGNORECASE,
)


def asks_for_queue(update: Update, context: MonevContext) -> bool:
    """Plain words asking what waits for the sender's decision (deciders only: for anyone
    else the words stay a question about the figures)."""
    message, actor = update.effective_message, context.actor
    if message is None or not message.text or actor is None:
        return False
    if may_decide_as(role=actor.role, status=actor.status) is not None:
        return False
    return len(message.text) <= 120 and _QUEUE_WORDS.search(message.text) is not None


async def verifikasi(update: Update, context: MonevContext) -> None:
    """/verifikasi: every report waiting for this person, with its figures and buttons."""
    message = update.effective_message
    assert message is not None
    actor = context.actor
    if actor is None or not actor.active:
        await message.reply_text(texts.NOT_REGISTERED)
        return
    cards = await context.read(service.queue, telegram_id=actor.telegram_id, opd_id=context.opd_id)
    if isinstance(cards, service.Forbidden):
        await message.reply_text(texts.denied(cards.denied))
        return
    if not cards:
        await message.reply_text(texts.VERIF_QUEUE_EMPTY)
        return
    await message.reply_text(texts.VERIF_QUEUE_HEAD.format(n=len(cards)))
    for card in cards:
        await _show_card(update, context, card, texts.VERIF_QUEUE_ITEM)


# --- admin and history ---------------------------------------------------------------------


async def bukakembali(update: Update, context: MonevContext) -> None:
    """/bukakembali bidang tw [tahun]: an admin unlocks an approved quarter."""
    message = update.effective_message
    assert message is not None
    actor = context.actor
    if actor is None or not actor.has(Role.ADMIN):
        await message.reply_text(
            texts.NOT_ALLOWED if actor and actor.active else texts.NOT_REGISTERED
        )
        return
    args = list(context.args or [])
    tw = parse_quarter(args[1]) if len(args) >= 2 else None
    if tw is None:
        await message.reply_text(texts.REOPEN_USAGE)
        return
    done = await context.write(
        service.reopen_quarter,
        telegram_id=actor.telegram_id,
        opd_id=context.opd_id,
        bidang=args[0],
        tw=tw,
        tahun=int(args[2]) if len(args) > 2 and args[2].isdecimal() else None,
    )
    await message.reply_text(vf_views.reopened(done))


async def riwayat(update: Update, context: MonevContext) -> None:
    """/riwayat <sub kegiatan>: who changed its figures, when, from what to what."""
    message = update.effective_message
    assert message is not None
    actor = context.actor
    if actor is None or not actor.active:
        await message.reply_text(texts.NOT_REGISTERED)
        return
    q = " ".join(context.args or []).strip()
    if len(q) < 3:
        await message.reply_text(texts.RIWAYAT_USAGE)
        return
    q = q[:200]
    found = await context.read(
        node_history,
        user_role=actor.role,
        user_status=actor.status,
        user_bidang_id=actor.bidang_id,
        opd_id=context.opd_id,
        text=q,
    )
    if isinstance(found, NoNode):
        await message.reply_text(texts.RIWAYAT_NONE.format(q=escape(q)))
    elif isinstance(found, NodeChoices):
        await message.reply_text(texts.node_choices("/riwayat", q, found.names))
    elif isinstance(found, NodeHistory):
        await message.reply_text(views.history_text(found))
    else:
        await message.reply_text(texts.denied(found.denied))
