"""/lapor: an operator reports the bidang's quarter, one question at a time; verification.

The conversation's state lives in the database, not in memory: every answer is saved in the
draft as it is given, and whether typed text answers the draft (or gives a reason for
returning a report) is the person's ``chat_state`` row, written in the same transaction. So a
restart of the bot, a dropped connection or days of silence lose nothing. Who may do what is
checked here, on every update, whatever the buttons say.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from sqlmodel import Session, select
from telegram import Update
from telegram.error import TelegramError

from bot.context import Actor, MonevContext, load_actor_and_state
from bot.handlers import bukti
from bot.handlers.questions import question
from bot.handlers.shared import markup, webapp_row
from bot.inbox import mark_within, marked
from bot.settings import WIB
from bot.views import lapor as views
from bot.views import texts
from bot.views import webapp as webapp_views
from bot.views.answers import Reply
from storage.data.models import (
    AppUser,
    Pelaporan,
    Role,
    StatusLaporan,
    UserStatus,
    VerifMessage,
)
from storage.domain.numbers import format_percent, format_rupiah, format_waktu
from storage.domain.periods import parse_quarter, roman
from storage.domain.policy import (
    Denied,
    may_decide,
    may_decide_as,
    may_see_history,
    may_see_office,
)
from storage.services import conversation
from storage.services import lapor_flow as flow
from storage.services.conversation import Flow, State
from storage.services.queries import list_bidang, years_with_data
from storage.services.submission import (
    SubmissionError,
    Superseded,
    bidang_of,
    decide,
    history,
    remember_message,
    reopen,
    retire_messages,
    sent_draft,
    waiting_for,
)
from storage.services.submission import review as build_review

log = logging.getLogger(__name__)

# --- database steps (run in worker threads) -----------------------------------------------------


def _user(session: Session, telegram_id: int) -> AppUser | None:
    u = session.exec(select(AppUser).where(AppUser.telegram_id == telegram_id)).first()
    return u if u is not None and u.status == UserStatus.ACTIVE else None


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
    parts = views.split_html(text)
    for part in parts[:-1]:
        await context.bot.send_message(chat.id, part)
    await context.bot.send_message(chat.id, parts[-1], reply_markup=markup(reply.keyboard))


async def _send_card(context: MonevContext, chat_id: int, card: list[Reply]) -> None:
    """A verification card (summary parts, buttons on the last); remembered so that its
    buttons can be taken away when the report moves on."""
    last = None
    for part in card:
        last = await context.bot.send_message(
            chat_id, part.text, reply_markup=markup(part.keyboard) if part.keyboard else None
        )
    data = card[-1].keyboard[0][0][1] if card and card[-1].keyboard else ""
    m = re.fullmatch(r"vf:ok:(\d+):(\d+)", data)
    if last is not None and m:
        await context.write(
            remember_message,
            pelaporan_id=int(m.group(1)),
            version=int(m.group(2)),
            chat_id=chat_id,
            message_id=last.message_id,
            text=card[-1].text,
        )


async def _retire(
    context: MonevContext, rows: list[VerifMessage], note: str, *, skip: tuple[int, int] | None
) -> None:
    """Take the buttons off earlier verification messages and say what happened."""
    for r in rows:
        if skip is not None and (r.chat_id, r.message_id) == skip:
            continue
        try:
            await context.bot.edit_message_text(
                views.retired_text(r.text, note),
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
        today=datetime.now(WIB).date(),
    )
    if isinstance(info, flow.Refuse):
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


def _years(session: Session, opd_id: int) -> list[int]:
    return years_with_data(session, opd_id)


async def _started(
    update: Update,
    context: MonevContext,
    result: flow.Started | flow.Refuse | flow.NotYours,
    *,
    prefix: str = "",
) -> None:
    query = update.callback_query
    assert query is not None
    if isinstance(result, flow.NotYours):
        await _say(update, context, texts.LAPOR_NOT_YOURS)
        return
    if isinstance(result, flow.Refuse):
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
            picker = views.period_picker(await context.read(_years, context.opd_id))
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
            await query.edit_message_text(escape(texts.submission_error(exc)))
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
                await query.edit_message_text(escape(texts.submission_error(exc)))
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
        error = texts.denied(result.denied, status=result.status) if result.denied else result.error
        await _say(update, context, "❗ " + escape(error))
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
        context,
        result.retired,
        texts.VERIF_RETIRED.format(
            what=texts.VERIF_RETIRED_RESUBMITTED.format(versi=result.version),
            oleh=escape(result.oleh),
        ),
        skip=None,
    )
    request = views.verifier_request(result)
    for verifier in result.verifiers:
        try:
            await _send_card(context, verifier, request)
        except TelegramError as exc:
            log.warning("could not reach a verifier: %s", type(exc).__name__)


TYPING = "typing_lapor"  # bot_data key: ids last seen typing into a /lapor draft


def type_answer(
    session: Session,
    *,
    telegram_id: int,
    user_id: int | None,
    text: str,
    mark: Callable[[Session], None] | None = None,
) -> tuple[flow.Step, bool]:
    """The typed answer applied to the draft, and the update marked done in the same
    transaction (``bot.inbox.mark_within``) when it was applied: a text carries no version,
    so only that keeps an update Telegram sends again after a crash from landing in the next
    question. Returns the step and whether it was marked."""
    step = flow.type_text(session, telegram_id=telegram_id, user_id=user_id, text=text)
    if mark is None or isinstance(step, flow.NotYours):
        return step, False  # not applied: the text is then a question, marked after its answer
    mark(session)
    return step, True


def load_and_type(
    session: Session,
    telegram_id: int,
    text: str,
    mark: Callable[[Session], None] | None,
    only_office: int | None = None,
) -> tuple[Actor, State | None, tuple[flow.Step, bool] | None]:
    """Who sent a text, their flow, and, when they are an active user in /lapor, the typed
    answer already applied to their draft (``type_answer``): one write transaction (one
    worker-thread trip) for a step, instead of a read and then a write. ``None`` step: not
    typing into a draft after all (the text then goes the usual way). ``only_office``: the
    only office of a one-office deployment (None when there are several)."""
    actor, state = load_actor_and_state(session, telegram_id, only_office)
    if state is None or state.flow != Flow.LAPOR or not actor.active:
        return actor, state, None
    typed = type_answer(
        session, telegram_id=telegram_id, user_id=actor.user_id, text=text, mark=mark
    )
    return actor, state, typed


def note_typing(context: MonevContext, telegram_id: int, typing: bool) -> None:
    """Remember who is typing into a draft, so their next text takes ``load_and_type``."""
    ids: set[int] = context.bot_data.setdefault(TYPING, set())
    if typing:
        ids.add(telegram_id)
    else:
        ids.discard(telegram_id)


async def on_text(update: Update, context: MonevContext, state: State) -> None:
    """A typed answer to the draft's current question (the sender is in the /lapor flow)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    actor = context.actor
    prepared, context.prepared_step = context.prepared_step, None
    if prepared is not None and prepared[0] == message.text:
        result, done = prepared[1]
    else:
        # The draft's plan comes from the figure cache (the step reads it before saving).
        result, done = await context.write_cached(
            type_answer,
            telegram_id=state.telegram_id,
            user_id=actor.user_id if actor is not None and actor.active else None,
            text=message.text,
            mark=mark_within(context.application, update),
        )
    if done:
        marked(context.application, update)
    note_typing(context, state.telegram_id, not isinstance(result, flow.NotYours))
    if isinstance(result, flow.NotYours):
        # No active draft any more (sent or cancelled elsewhere): it is a question after all.
        await question(update, context)
        return
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
    await update.effective_message.reply_text(
        "Pengembalian laporan dibatalkan; laporan tetap menunggu keputusan."
    )


# --- verification ---------------------------------------------------------------------------------


def _pelaporan_info(session: Session, pid: int) -> tuple[Pelaporan, str, int | None] | None:
    p = session.get(Pelaporan, pid)
    if p is None:
        return None
    bidang = next(
        (b.nama for b in list_bidang(session, _opd_of(session, p)) if b.id == p.bidang_id), ""
    )
    op = session.get(AppUser, p.submitted_by) if p.submitted_by else None
    return p, bidang, op.telegram_id if op else None


def _opd_of(session: Session, p: Pelaporan) -> int:
    from storage.data.models import Bidang

    b = session.get(Bidang, p.bidang_id)
    return b.opd_id if b else 0


def _card(session: Session, p: Pelaporan, head: str) -> list[Reply]:
    """The current version of a waiting report, as its approvers are shown it."""
    info = _pelaporan_info(session, p.id)  # type: ignore[arg-type]
    draft = sent_draft(session, p)
    assert info is not None
    _, bidang, _ = info
    op = session.get(AppUser, p.submitted_by) if p.submitted_by else None
    oleh = (op.nama or str(op.telegram_id)) if op else "-"
    if draft is None:
        # Submitted before drafts were kept (or imported): the figures are in the answers.
        return [
            Reply(
                head.format(
                    bidang=escape(bidang),
                    tw=roman(p.triwulan),
                    tahun=p.tahun,
                    oleh=escape(oleh),
                    versi=p.version,
                    summary=texts.VERIF_NO_SUMMARY,
                ),
                [
                    [
                        ("✅ Setujui", f"vf:ok:{p.id}:{p.version}"),
                        ("↩️ Kembalikan", f"vf:back:{p.id}:{p.version}"),
                    ]
                ],
            )
        ]
    return views.verification_card(
        bidang=bidang,
        tahun=p.tahun,
        triwulan=p.triwulan,
        oleh=oleh,
        review=build_review(session, draft),
        pelaporan_id=p.id,  # type: ignore[arg-type]
        version=p.version,
        head=head,
    )


@dataclass(frozen=True)
class _Refused:
    """Nothing was decided; ``text`` says why (plain text)."""

    text: str


@dataclass(frozen=True)
class _Current:
    """The button showed an older version: the current one is shown instead."""

    card: list[Reply]


@dataclass(frozen=True)
class _AskReason:
    """'Kembalikan' pressed: the reason is asked for next."""

    text: str


@dataclass(frozen=True)
class _Decided:
    """Approved or returned; what the messages around it need."""

    p: Pelaporan
    bidang: str
    operator: int | None
    by: str
    retired: list[VerifMessage]


def _decide(
    session: Session, telegram_id: int, pid: int, approve: bool, alasan: str, version: int | None
) -> _Refused | _Current | _Decided:
    user = _user(session, telegram_id)
    if user is None:
        return _Refused(texts.NOT_ALLOWED)
    try:
        p = decide(
            session, pelaporan_id=pid, user=user, approve=approve, alasan=alasan, version=version
        )
    except Superseded as exc:
        conversation.clear(session, telegram_id=telegram_id, flow=Flow.REASON)
        return _Current(_card(session, exc.pelaporan, texts.VERIF_CURRENT))
    except SubmissionError as exc:
        return _Refused(texts.submission_error(exc))
    info = _pelaporan_info(session, pid)
    assert info is not None
    _, bidang, op = info
    # The decision, the end of a pending reason and the retired buttons commit together.
    conversation.clear(session, telegram_id=telegram_id, flow=Flow.REASON)
    return _Decided(
        p, bidang, op, user.nama or str(user.telegram_id), retire_messages(session, pid)
    )


def _ask_reason(
    session: Session, telegram_id: int, pid: int, version: int | None
) -> _Refused | _Current | _AskReason:
    user = _user(session, telegram_id)
    info = _pelaporan_info(session, pid)
    if user is None:
        return _Refused(texts.STALE_BUTTON)
    if info is None:
        return _Refused(texts.NOT_IN_SCOPE)
    p, bidang, _ = info
    denied = may_see_office(
        role=user.role, status=user.status, user_opd_id=user.opd_id, opd_id=_opd_of(session, p)
    ) or may_decide(
        role=user.role,
        status=user.status,
        user_id=user.id,
        submitted_by=p.submitted_by,
        report_status=p.status,
    )
    if denied is not None:
        return _Refused(texts.denied(denied, status=p.status))
    if version != p.version:
        return _Current(_card(session, p, texts.VERIF_CURRENT))
    conversation.start(
        session,
        telegram_id=telegram_id,
        flow=Flow.REASON,
        payload={"pelaporan_id": pid, "version": version},
    )
    return _AskReason(
        texts.VERIF_ASK_REASON.format(bidang=escape(bidang), tw=roman(p.triwulan), tahun=p.tahun)
    )


async def _tell_operator(context: MonevContext, result: _Decided) -> None:
    p = result.p
    if result.operator is None:
        return
    if p.status == StatusLaporan.DISETUJUI:
        text = texts.VERIF_APPROVED_OP.format(
            tw=roman(p.triwulan), tahun=p.tahun, bidang=escape(result.bidang)
        )
    else:
        text = texts.VERIF_RETURNED_OP.format(
            tw=roman(p.triwulan),
            tahun=p.tahun,
            bidang=escape(result.bidang),
            alasan=escape(p.alasan),
        )
    try:
        await context.bot.send_message(result.operator, text)
    except TelegramError as exc:
        log.warning("could not tell the operator: %s", type(exc).__name__)


async def _decided(update: Update, context: MonevContext, result: _Decided) -> None:
    """After a decision: every earlier approve/return message loses its buttons and says
    who decided what; the operator is told."""
    p = result.p
    what = (
        texts.VERIF_RETIRED_APPROVED
        if p.status == StatusLaporan.DISETUJUI
        else texts.VERIF_RETIRED_RETURNED
    )
    query = update.callback_query
    pressed = None
    if query is not None and query.message is not None:
        pressed = (query.message.chat.id, query.message.message_id)
    await _retire(
        context,
        result.retired,
        texts.VERIF_RETIRED.format(what=what, oleh=escape(result.by)),
        skip=pressed,
    )
    await _tell_operator(context, result)


async def _show_card(update: Update, context: MonevContext, card: list[Reply]) -> None:
    assert update.effective_chat is not None
    await _send_card(context, update.effective_chat.id, card)


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
    m = re.fullmatch(r"vf:(ok|back):(\d+)(?::(\d+))?", query.data)
    if not m:
        await _say(update, context, texts.STALE_BUTTON)
        return
    pid = int(m.group(2))
    # A button without a version (sent before versions existed) approves nothing unseen.
    version = int(m.group(3)) if m.group(3) else None
    res: _Refused | _Current | _AskReason | _Decided
    if m.group(1) == "back":
        res = await context.write(_ask_reason, actor.telegram_id, pid, version)
    else:
        res = await context.write(_decide, actor.telegram_id, pid, True, "", version)
    if isinstance(res, _Refused):
        await _say(update, context, escape(res.text))
        return
    if isinstance(res, _Current):
        await query.edit_message_reply_markup(None)
        await _show_card(update, context, res.card)
        return
    if isinstance(res, _AskReason):
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, res.text)
        return
    original = (
        query.message.text_html if query.message and getattr(query.message, "text", None) else ""
    )
    await query.edit_message_text(
        texts.VERIF_DONE.format(original=original, outcome="✅ disetujui", oleh=escape(res.by))
    )
    await _decided(update, context, res)


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
        await message.reply_text(
            "Alasan terlalu singkat. Tulis apa yang perlu diperbaiki, minimal 5 huruf, atau /batal."
        )
        return
    result = await context.write(
        _decide, tgid, pid, False, alasan, version if isinstance(version, int) else None
    )
    if isinstance(result, _Current):
        await _show_card(update, context, result.card)
        return
    if isinstance(result, _Refused):
        # Decided meanwhile, or no longer allowed: the reason has nothing left to return.
        await context.write(conversation.clear, telegram_id=tgid, flow=Flow.REASON)
        await message.reply_text(escape(result.text))
        return
    await message.reply_text(
        f"↩️ Laporan dikembalikan ke operator dengan alasan: <i>{escape(alasan[:500])}</i>"
    )
    await _decided(update, context, result)


def _queue(session: Session, telegram_id: int, opd_id: int) -> list[list[Reply]] | None:
    user = _user(session, telegram_id)
    if user is None or may_decide_as(role=user.role, status=user.status) is not None:
        return None
    return [
        _card(session, p, texts.VERIF_QUEUE_ITEM)
        for p in waiting_for(session, user=user, opd_id=opd_id)
    ]


def waiting_count(session: Session, telegram_id: int, opd_id: int) -> int:
    """How many reports wait for this person's decision (0 for everyone else)."""
    user = _user(session, telegram_id)
    if user is None or may_decide_as(role=user.role, status=user.status) is not None:
        return 0
    return len(waiting_for(session, user=user, opd_id=opd_id))


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
    cards = await context.read(_queue, actor.telegram_id, context.opd_id)
    if cards is None:
        await message.reply_text(texts.denied(Denied.NOT_VERIFIER))
        return
    if not cards:
        await message.reply_text(texts.VERIF_QUEUE_EMPTY)
        return
    await message.reply_text(texts.VERIF_QUEUE_HEAD.format(n=len(cards)))
    for card in cards:
        await _show_card(update, context, card)


# --- admin and history ---------------------------------------------------------------------


def _reopen(session: Session, telegram_id: int, opd_id: int, args: list[str]) -> str:
    from storage.services.users import find_bidang

    user = _user(session, telegram_id)
    tw = parse_quarter(args[1]) if len(args) >= 2 else None
    if user is None or tw is None:
        return texts.REOPEN_USAGE
    b = find_bidang(session, text=args[0], opd_id=opd_id)
    if b is None:
        return f"Bidang '{escape(args[0])}' tidak dikenal. " + texts.REOPEN_USAGE
    years = years_with_data(session, opd_id)
    tahun = int(args[2]) if len(args) > 2 and args[2].isdecimal() else (years[-1] if years else 0)
    try:
        reopen(session, bidang_id=b.id, tahun=tahun, tw=tw, user=user)  # type: ignore[arg-type]
    except SubmissionError as exc:
        return escape(texts.submission_error(exc))
    return texts.REOPEN_DONE.format(tw=roman(tw), tahun=tahun, bidang=escape(b.nama))


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
    await message.reply_text(
        await context.write(_reopen, actor.telegram_id, context.opd_id, list(context.args or []))
    )


def _history(session: Session, telegram_id: int, opd_id: int, q: str) -> str:
    from storage.services.nodes import find_node

    user = _user(session, telegram_id)
    if user is None:
        return texts.NOT_REGISTERED
    match = find_node(session, opd_id=opd_id, text=q)
    if match.best is None:
        return texts.RIWAYAT_NONE.format(q=escape(q))
    node = match.sure
    if node is None:
        return texts.node_choices("/riwayat", q, [n.nama for n in match.nodes])
    node_id = node.id
    assert node_id is not None  # a stored node
    bidang_id = bidang_of(session, node_id)
    denied = may_see_history(
        role=user.role, status=user.status, user_bidang_id=user.bidang_id, bidang_id=bidang_id
    )
    if denied is not None:
        return texts.denied(denied)
    rows = history(session, node_id)
    if not rows:
        return texts.RIWAYAT_EMPTY.format(nama=escape(node.nama))
    names: dict[str, str] = {}
    for a in rows:
        if a.actor.startswith("user:") and a.actor not in names:
            u = session.exec(select(AppUser).where(AppUser.telegram_id == int(a.actor[5:]))).first()
            names[a.actor] = u.nama if u and u.nama else a.actor
    head = [f"<b>Riwayat: {escape(node.nama)}</b>", ""]
    lines: list[str] = []
    for a in rows[-25:]:
        at = a.at if a.at.tzinfo else a.at.replace(tzinfo=UTC)
        who = names.get(
            a.actor,
            "impor laporan" if a.actor.startswith("import") or a.actor == "demo" else a.actor,
        )
        old = _fmt_value(a.field, a.old)
        new = _fmt_value(a.field, a.new)
        lines.append(
            f"• {format_waktu(at.astimezone(WIB))} — {escape(who)}: {escape(a.field)} {old} → {new}"
        )
    # A bounded fit, never a cut: the oldest changes give way whole (a slice could end
    # inside a word or an HTML entity), and the reader is told how many are left out.
    shown = len(rows)
    while lines and len("\n".join(head + lines)) > views.PART_LIMIT:
        lines.pop(0)
        shown -= 1
    if shown < len(rows):
        head.append(texts.RIWAYAT_OLDER.format(n=len(rows) - shown))
    return "\n".join(head + lines)


def _fmt_value(field: str, value: str | None) -> str:
    if value is None:
        return "-"
    try:
        if field.startswith(("anggaran", "pagu")):
            return format_rupiah(int(value))
        if field.startswith("fisik"):
            return format_percent(float(value))
    except ValueError:
        pass
    return escape(value)


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
    await message.reply_text(
        await context.read(_history, actor.telegram_id, context.opd_id, q[:200])
    )
