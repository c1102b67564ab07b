"""Questions in a deployment serving several offices: which office a question is about,
whether the sender may see it, and the questions about every office at once.

With one office nothing here changes an answer (``office_reply`` returns None). With
several, every answer names its office; a question naming another office is answered
only for that office's own people and the kabupaten roles (``MonevContext.may_see``, i.e.
``policy.may_see_office``), and refused without any figure otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from sqlmodel import Session
from telegram import Update
from telegram.constants import ChatAction

from bot.context import MonevContext
from bot.views import kabupaten as views
from bot.views import texts
from bot.views.answers import Reply
from bot.views.budget import fits
from charts.answers import ChartPlan
from charts.spec import NoData
from storage.domain.kabupaten_questions import KabKind, KabQuestion, parse_kabupaten
from storage.domain.offices import OfficeName, find_in_text, normalise
from storage.domain.policy import KABUPATEN_ROLES, is_kabupaten, may_see_office
from storage.services.kabupaten import (
    OfficeError,
    kabupaten_figures,
    kabupaten_period,
    kabupaten_risk,
    office_names,
)
from storage.services.queries import list_bidang
from storage.services.users import sender_office

if TYPE_CHECKING:
    from charts.answers import ChartRequest


@dataclass(frozen=True)
class Asker:
    """Who asks, as plain values (read in the event loop, used in the worker thread)."""

    role: str | None
    status: str | None
    opd_id: int | None  # their office (the only office for an office-less one-office user)
    bidang_id: int | None = None  # an operator's bidang (their examples name it)


def asker(context: MonevContext) -> Asker:
    """The sender as the office check needs them (their office, else the only office)."""
    actor = context.actor
    assert actor is not None
    own = sender_office(opd_id=actor.opd_id, only_office=context.bot_data.get("opd_id"))
    return Asker(actor.role, actor.status, own, actor.bidang_id)


def short_name(office: OfficeName) -> str:
    """How an answer names an office once: its short name ("Dinkes"), else its name."""
    return office.singkatan or office.short_label(40)


def example_source(session: Session, who: Asker) -> texts.ExampleSource:
    """What this asker's examples are made of (``texts.examples_for``): their own office's
    bidang and role; the kabupaten's offices for the kabupaten roles."""
    if who.role in KABUPATEN_ROLES:
        offices = office_names(session)
        return texts.ExampleSource(who.role, offices=tuple(short_name(o) for o in offices))
    if who.opd_id is None:
        return texts.ExampleSource(who.role)
    bidang = list_bidang(session, who.opd_id)
    own = next((b.kode for b in bidang if b.id == who.bidang_id), None)
    return texts.ExampleSource(who.role, tuple(b.kode for b in bidang), own)


def examples(session: Session, who: Asker) -> list[str]:
    return texts.examples_for(example_source(session, who))


def _may_see(asker: Asker, opd_id: int) -> bool:
    return (
        may_see_office(
            role=asker.role, status=asker.status, user_opd_id=asker.opd_id, opd_id=opd_id
        )
        is None
    )


def _names_own_bidang(session: Session, opd_id: int, words: str) -> bool:
    key = normalise(words)
    return any(
        key in {normalise(n) for n in (b.kode, b.nama, *b.alias_list())}
        for b in list_bidang(session, opd_id)
    )


def kabupaten_answer(session: Session, q: KabQuestion) -> Reply:
    """A ranking, the offices not yet reported, or the recap, for the period asked."""
    try:
        tahun, tw = kabupaten_period(session, q.tahun, q.tw)
    except OfficeError as exc:
        return Reply(escape(exc.user_message))
    if q.kind is KabKind.RISK:
        return views.kabupaten_risk_reply(tahun, tw, kabupaten_risk(session, tahun, tw))
    reply = views.kabupaten_reply(q, tahun, tw, kabupaten_figures(session, tahun, tw))
    if q.kind is not KabKind.NOT_REPORTED:
        from charts.kabupaten import encode_kabupaten

        reply.keyboard.append([(texts.CHART_BUTTON, encode_kabupaten(tahun, tw))])
    return reply


# A text answered: the reply, the chart it offers, and whether it was a question at all.
Answered = tuple[Reply, "ChartRequest | None", bool]


def office_reply(
    session: Session, asker: Asker, text: str, answer_text: Callable[..., Answered]
) -> Answered | None:
    """The reply to a question when the deployment serves several offices (with the chart
    that goes with it, and whether the chart was asked for); None when it serves one (the
    question is answered as before). ``answer_text`` answers one office's question
    (``questions.answer_text``, passed in: questions calls this module)."""
    offices = office_names(session)
    if len(offices) < 2:
        return None
    kab = parse_kabupaten(text)
    if kab is not None:
        if not is_kabupaten(asker.role, asker.status):
            return Reply(texts.KAB_ONLY), None, False
        return kabupaten_answer(session, kab), None, False
    mention = find_in_text(offices, text)
    # "umkm" may be another office's acronym and a bidang of one's own: one's own wins.
    if (
        mention is not None
        and asker.opd_id is not None
        and mention.office.id != asker.opd_id
        and _names_own_bidang(session, asker.opd_id, mention.words)
    ):
        mention = None
    office: OfficeName | None
    if mention is not None:
        office, question = mention.office, mention.rest
    else:
        office = next((o for o in offices if o.id == asker.opd_id), None)
        question = text
        if office is None:
            return pick_office(offices, text), None, False
    return for_office(session, asker, office, question, answer_text)


def for_office(
    session: Session,
    asker: Asker,
    office: OfficeName,
    question: str,
    answer_text: Callable[..., Answered],
) -> Answered:
    """``question`` answered for ``office`` (refused, without any figure, to somebody who may
    not see it), its first line naming the office by its short name."""
    if not _may_see(asker, office.id):
        # Not even whether the office has data: no figure, no name of a bidang.
        return Reply(texts.KAB_OTHER_OFFICE.format(office=escape(office.label))), None, False
    reply, chart, wants_chart = answer_text(session, office.id, question or "serapan")
    keyboard = reply.keyboard
    if office.id != asker.opd_id:
        chart, wants_chart = None, False
        # A chart button names no office: it would draw the sender's own (they have none).
        keyboard = [[b for b in row if not b[1].startswith("gr:")] for row in keyboard]
        keyboard = [row for row in keyboard if row]
    return Reply(named(short_name(office), reply.text), keyboard), chart, wants_chart


def named(office: str, text: str) -> str:
    """``text`` with the office's short name at the start of its first line, once."""
    full = texts.KAB_OFFICE_HEAD.format(office=escape(office)) + text
    return full if fits(full) else text


PICK_PREFIX = "kq:"  # kq:<office id>:<the question as typed>
PICK_MAX = 64  # Telegram's limit on callback data, in bytes
PICK_SHOWN = 40


def pick_data(opd_id: int, question: str) -> str | None:
    """The button answering ``question`` for office ``opd_id``; None when the question does
    not fit a button (it is then typed again with the office named)."""
    data = f"{PICK_PREFIX}{opd_id}:{' '.join(question.split())}"
    return data if len(data.encode()) <= PICK_MAX else None


def pick_office(offices: list[OfficeName], text: str) -> Reply:
    """A kabupaten role asked an office's question without naming the office: which one?
    The buttons carry the question itself, so each answers exactly what was asked."""
    question = " ".join(text.split())
    rows: list[list[tuple[str, str]]] = []
    for o in offices[:PICK_SHOWN]:
        data = pick_data(o.id, question)
        if data is None:
            names = ", ".join(short_name(x) for x in offices[:12])
            return Reply(texts.KAB_NO_OFFICE_LONG.format(offices=escape(names)))
        label = short_name(o)
        if rows and len(rows[-1]) < 3:
            rows[-1].append((label, data))
        else:
            rows.append([(label, data)])
    more = len(offices) - PICK_SHOWN
    tail = texts.KAB_PICK_MORE.format(n=more) if more > 0 else ""
    example = escape(short_name(offices[0]).lower()) if offices else ""
    return Reply(texts.KAB_PICK.format(question=escape(question), office=example) + tail, rows)


def parse_pick(data: str) -> tuple[int, str] | None:
    """(office id, question) of a kq: button, None when it is malformed."""
    head, _, question = data.removeprefix(PICK_PREFIX).partition(":")
    if not head.isdecimal() or not question.strip() or len(head) > 9:
        return None
    return int(head), question


def picked(
    session: Session, asker: Asker, opd_id: int, question: str, answer_text: Callable[..., Answered]
) -> Answered | None:
    """The answer for the office a kq: button names (None: no such office)."""
    office = next((o for o in office_names(session) if o.id == opd_id), None)
    if office is None:
        return None
    return for_office(session, asker, office, question, answer_text)


def _chart(session: Session, asker: Asker, tahun: int, tw: int) -> ChartPlan | str:
    """The kabupaten chart's plan, or why there is none (plain text)."""
    from charts.kabupaten import plan_kabupaten_chart

    if len(office_names(session)) > 1 and not is_kabupaten(asker.role, asker.status):
        return texts.KAB_ONLY
    try:
        return plan_kabupaten_chart(session, tahun, tw)
    except NoData as exc:
        return escape(exc.user_message)


async def chart_button(update: Update, context: MonevContext) -> None:
    """'Lihat grafik' under a kabupaten ranking or recap: serapan per OPD."""
    from bot.handlers.charts import draw_and_send, pressed
    from charts.kabupaten import decode_kabupaten

    got = await pressed(update, context, decode_kabupaten)
    if got is None:
        return
    chat_id, period = got
    await context.bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
    plan = await context.read(_chart, asker(context), *period)
    if isinstance(plan, str):
        await context.bot.send_message(chat_id, plan)
        return
    await draw_and_send(context, chat_id, plan)
