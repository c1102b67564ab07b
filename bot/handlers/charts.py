"""Charts in the chat: /grafik, 'grafik …' questions and the 'Lihat grafik' button."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import TypeVar

from sqlmodel import Session
from telegram import Update
from telegram.constants import ChatAction

from bot.context import MonevContext
from bot.handlers.shared import after_quick_work, markup
from bot.views import texts
from bot.views.answers import chart_caption
from charts.answers import ChartKind, ChartPlan, ChartRequest, decode, encode, plan_chart
from charts.kabupaten import encode_kabupaten
from charts.pool import RenderPool
from charts.spec import NoData
from storage.domain.policy import KABUPATEN_ROLES
from storage.services.kabupaten import OfficeError, kabupaten_period
from storage.services.queries import list_bidang

T = TypeVar("T")


def _plan(session: Session, opd_id: int, req: ChartRequest) -> ChartPlan | str:
    try:
        return plan_chart(session, opd_id, req)
    except NoData as exc:
        return exc.user_message


def render_pool(context: MonevContext) -> RenderPool:
    return context.bot_data.setdefault("render_pool", RenderPool())


def warm_for(context: MonevContext, keyboard: list[list[tuple[str, str]]]) -> None:
    """A reply offering a chart button was just sent: start the chart worker now (in the
    background), so it is ready when the person taps it (starting it takes over a second)."""
    if any(data.startswith("gr:") for row in keyboard for _, data in row):
        render_pool(context).warm()


async def send_chart(update: Update, context: MonevContext, req: ChartRequest) -> None:
    """Draw in the render process while the chat shows 'sending photo…', then send it."""
    chat = update.effective_chat
    assert chat is not None
    await after_quick_work(context)
    await context.bot.send_chat_action(chat.id, ChatAction.UPLOAD_PHOTO)
    plan = await context.read(_plan, context.opd_id, req)
    if isinstance(plan, str):
        await context.bot.send_message(chat.id, escape(plan) + "\n\n" + texts.CHART_NODATA_HINT)
        return
    await draw_and_send(context, chat.id, plan, hint="\n\n" + texts.CHART_NODATA_HINT)


async def draw_and_send(
    context: MonevContext, chat_id: int, plan: ChartPlan, *, hint: str = ""
) -> None:
    """Draw ``plan`` in the render process and send it with its caption (or why not)."""
    try:
        png = await render_pool(context).draw(plan)
    except NoData as exc:
        await context.bot.send_message(chat_id, escape(exc.user_message) + hint)
        return
    await context.bot.send_photo(chat_id, png, caption=chart_caption(plan), filename=plan.filename)


def _menu(session: Session, opd_id: int) -> list[list[tuple[str, str]]]:
    rows = [
        [("Serapan per bidang", encode(ChartRequest(ChartKind.BIDANG)))],
        [("Tren serapan dinas", encode(ChartRequest(ChartKind.TREN)))],
        [("Fisik vs keuangan per bidang", encode(ChartRequest(ChartKind.FISIK)))],
        [("Status pelaporan", encode(ChartRequest(ChartKind.STATUS)))],
    ]
    bidang = [(b.id, b.nama) for b in list_bidang(session, opd_id)]
    row: list[tuple[str, str]] = []
    for bid, nama in bidang:
        row.append((f"Program {nama}", encode(ChartRequest(ChartKind.PROGRAM, bidang_id=bid))))
        if len(row) == 2:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    return rows


async def grafik(update: Update, context: MonevContext) -> None:
    """/grafik: pick a chart with buttons."""
    message = update.effective_message
    assert message is not None
    if context.actor is None or not context.actor.active:
        await message.reply_text(texts.NOT_REGISTERED)
        return
    if context.actor.role in KABUPATEN_ROLES and context.bot_data.get("opd_id") is None:
        # Several offices and no office of one's own: the chart of every office.
        kab = await context.read(_kabupaten_menu)
        await message.reply_text(texts.CHART_MENU, reply_markup=markup(kab))
        warm_for(context, kab)
        return
    kb = await context.read(_menu, context.opd_id)
    await message.reply_text(texts.CHART_MENU, reply_markup=markup(kb))
    warm_for(context, kb)


def _kabupaten_menu(session: Session) -> list[list[tuple[str, str]]]:
    try:
        tahun, tw = kabupaten_period(session, None, None)
    except OfficeError:
        return []
    return [[("Serapan per OPD", encode_kabupaten(tahun, tw))]]


async def pressed(
    update: Update, context: MonevContext, decode_data: Callable[[str], T | None]
) -> tuple[int, T] | None:
    """A chart button's common start: answer the press, refuse someone not (or no longer)
    registered and a button this version cannot read. (chat id, decoded) or None."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    chat = update.effective_chat
    assert chat is not None
    if context.actor is None or not context.actor.active:
        await context.bot.send_message(chat.id, texts.NOT_REGISTERED)
        return None
    decoded = decode_data(query.data)
    if decoded is None:
        await context.bot.send_message(chat.id, texts.STALE_BUTTON)
        return None
    return chat.id, decoded


async def chart_button(update: Update, context: MonevContext) -> None:
    """A chart button (from /grafik or 'Lihat grafik')."""
    got = await pressed(update, context, decode)
    if got is None:
        return
    chat_id, req = got
    if req.bidang_id is not None:
        known = {b.id for b in await context.read(list_bidang, context.opd_id)}
        if req.bidang_id not in known:
            await context.bot.send_message(chat_id, texts.STALE_BUTTON)
            return
    await send_chart(update, context, req)
