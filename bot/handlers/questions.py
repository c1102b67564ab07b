"""Questions in plain Indonesian, and the buttons that refine them."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from sqlmodel import Session
from telegram import Update

from bot.context import Actor, MonevContext
from bot.handlers.charts import send_chart, warm_for
from bot.handlers.kabupaten import (
    Answered,
    Asker,
    asker,
    examples,
    named,
    office_reply,
    parse_pick,
    picked,
    short_name,
)
from bot.handlers.shared import first_page, kept_page, markup, quick_work
from bot.views import texts
from bot.views.answers import Reply, render
from charts.answers import encode, request_for
from storage.domain.policy import Denied
from storage.domain.question_parser import MAX_PARSED, Metric
from storage.services.ask import answer, run_query
from storage.services.kabupaten import office_label, office_names, scope_office
from storage.services.users import sender_office

MAX_QUESTION = 1000  # longer than any real question; beyond this we don't even parse


def answer_text(
    session: Session, opd_id: int, text: str, examples: Callable[[], list[str]] | None = None
) -> Answered:
    """The reply, the chart that goes with it, and whether the question asked for the chart.
    ``examples``: makes the asker's own (``texts.examples_for``), for an answer that shows
    some."""
    a = answer(session, opd_id, text)
    reply = render(a, examples)
    chart = request_for(a)
    if chart is not None:
        reply.keyboard.append([(texts.CHART_BUTTON, encode(chart))])
    return reply, chart, bool(a.parsed and a.parsed.chart)


def _answer_text_for(session: Session, who: Asker) -> Callable[[Session, int, str], Answered]:
    """``answer_text`` showing the asker's own examples (their office's bidang, their role),
    made only for an answer that shows them: most answers don't, and making them costs
    more than a cached answer."""

    def shown() -> list[str]:
        return examples(session, who)

    def answer_one(s: Session, opd_id: int, text: str) -> Answered:
        return answer_text(s, opd_id, text, shown)

    return answer_one


def _answer(session: Session, who: Asker, text: str) -> Answered:
    """Several offices: which one, and may the sender see it; one office: as always."""
    one = _answer_text_for(session, who)
    several = office_reply(session, who, text, one)
    if several is not None:
        return several
    assert who.opd_id is not None  # one office: everybody's
    return one(session, who.opd_id, text)


def prepared(
    session: Session, actor: Actor, text: str, *, only_office: int | None
) -> Answered | None:
    """The answer to an active sender's text as a question, made in the session of its turn
    (``storage.services.text_turn``: one worker-thread trip for the common case); None for a
    text too long to be one. ``only_office``: the only office (None when there are several).
    A decider's words asking for the queue are answered too and then not used."""
    if len(text) > MAX_QUESTION:
        return None
    own = sender_office(opd_id=actor.opd_id, only_office=only_office)
    who = Asker(actor.role, actor.status, own, actor.bidang_id)
    return _answer(session, who, text[: MAX_PARSED * 2])


async def question(update: Update, context: MonevContext, answered: Answered | None = None) -> None:
    """Answer a free-text question about the figures (``answered``: already answered in the
    text's turn)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    if context.actor is None or not context.actor.active:
        await message.reply_text(texts.NOT_REGISTERED)
        return
    if len(message.text) > MAX_QUESTION:
        shown = await context.read(examples, asker(context))
        await message.reply_text(texts.TOO_LONG.format(example=escape(shown[1])))
        return
    with quick_work(context):
        if answered is not None:
            reply, chart, wants_chart = answered
        else:
            reply, chart, wants_chart = await context.read(
                _answer, asker(context), message.text[: MAX_PARSED * 2]
            )
        if not (wants_chart and chart is not None):
            async with first_page(context, reply) as (text, keyboard):
                await message.reply_text(text, reply_markup=markup(keyboard))
            warm_for(context, keyboard)
            return
    await send_chart(update, context, chart)


def _run_button(session: Session, opd_id: int, parts: list[str]) -> Reply:
    _, kind, scope_id, metric, tw, tahun = parts
    a = run_query(
        session,
        opd_id,
        metric=Metric(metric),
        scope_kind=kind,
        scope_id=int(scope_id),
        triwulan=int(tw) or None,
        tahun=int(tahun) or None,
    )
    reply = render(a)
    chart = request_for(a)
    if chart is not None:
        reply.keyboard.append([(texts.CHART_BUTTON, encode(chart))])
    return reply


async def ask_button(update: Update, context: MonevContext) -> None:
    """A choice from a clarification: run the query it carries."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    if context.actor is None or not context.actor.active:
        await query.edit_message_text(texts.NOT_REGISTERED)
        return
    parts = query.data.split(":")
    valid_kinds = {"opd", "bidang", "program", "kegiatan", "sub_kegiatan"}
    if (
        len(parts) != 6
        or parts[1] not in valid_kinds
        or not all(p.isdecimal() for p in parts[2:3] + parts[4:])
        or parts[3] not in {m.value for m in Metric}
        or not 0 <= int(parts[4]) <= 4
    ):
        await query.edit_message_text(texts.STALE_BUTTON)
        return
    office = await context.read(scope_office, parts[1], int(parts[2]))
    if office is not None and not context.may_see(office):
        await query.edit_message_text(texts.denied(Denied.NOT_THEIR_OFFICE))
        return
    reply = await context.read(_run_button, office or context.opd_id, parts)
    if office is not None and office != context.actor.opd_id:
        # Somebody reading another office (a pemantau): say which one, as the question did.
        label = await context.read(_short_label, office)
        reply.text = named(label, reply.text)
    async with first_page(context, reply) as (text, keyboard):
        await query.edit_message_text(text, reply_markup=markup(keyboard))
    warm_for(context, keyboard)


def _short_label(session: Session, opd_id: int) -> str:
    found = [o for o in office_names(session) if o.id == opd_id]
    return short_name(found[0]) if found else office_label(session, opd_id)


async def pick_button(update: Update, context: MonevContext) -> None:
    """An office chosen for a question that named none (kabupaten roles): answer it there."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    if context.actor is None or not context.actor.active:
        await query.edit_message_text(texts.NOT_REGISTERED)
        return
    got = parse_pick(query.data)
    if got is None:
        await query.edit_message_text(texts.STALE_BUTTON)
        return
    opd_id, question = got
    # The office boundary first: an office outside the sender's scope is never read.
    if not context.may_see(opd_id):
        await query.edit_message_text(texts.denied(Denied.NOT_THEIR_OFFICE))
        return
    who = asker(context)
    with quick_work(context):
        result = await context.read(_picked, who, opd_id, question[:MAX_PARSED])
    if result is None:
        await query.edit_message_text(texts.KAB_PICK_GONE)
        return
    async with first_page(context, result[0]) as (text, keyboard):
        await query.edit_message_text(text, reply_markup=markup(keyboard))
    warm_for(context, keyboard)


async def page_button(update: Update, context: MonevContext) -> None:
    """ "Selengkapnya"/"Sebelumnya" under a long answer: show that page of it in place."""
    query = update.callback_query
    assert query is not None and query.data is not None
    if context.actor is None or not context.actor.active:
        await query.answer()
        await query.edit_message_text(texts.NOT_REGISTERED)
        return
    got = await kept_page(context, query.data)
    if isinstance(got, str):
        await query.answer(got, show_alert=True)
        return
    await query.answer()
    text, keyboard = got
    await query.edit_message_text(text, reply_markup=markup(keyboard))


def _picked(session: Session, who: Asker, opd_id: int, question: str) -> Answered | None:
    return picked(session, who, opd_id, question, _answer_text_for(session, who))
