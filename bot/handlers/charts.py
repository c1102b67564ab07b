"""Charts in the chat: /grafik, 'grafik …' questions and the 'Lihat grafik' button."""

from __future__ import annotations

from html import escape

from sqlmodel import Session
from telegram import Update
from telegram.constants import ChatAction

from bot import texts
from bot.context import MonevContext
from bot.handlers.questions import markup
from charts.answers import Chart, ChartKind, ChartRequest, build_chart, decode, encode
from charts.render import NoData
from storage.queries import list_bidang


def _build(session: Session, opd_id: int, req: ChartRequest) -> Chart | str:
    try:
        return build_chart(session, opd_id, req)
    except NoData as exc:
        return str(exc)


async def send_chart(update: Update, context: MonevContext, req: ChartRequest) -> None:
    """Render off the event loop while the chat shows 'sending photo…', then send it."""
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_chat_action(chat.id, ChatAction.UPLOAD_PHOTO)
    result = await context.read(_build, context.opd_id, req)
    if isinstance(result, str):
        await context.bot.send_message(chat.id, escape(result) + "\n\n" + texts.CHART_NODATA_HINT)
        return
    await context.bot.send_photo(
        chat.id, result.png, caption=escape(result.caption), filename=result.filename
    )


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
    kb = await context.read(_menu, context.opd_id)
    await message.reply_text(texts.CHART_MENU, reply_markup=markup(kb))


async def chart_button(update: Update, context: MonevContext) -> None:
    """A chart button (from /grafik or 'Lihat grafik')."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    chat = update.effective_chat
    assert chat is not None
    if context.actor is None or not context.actor.active:
        await context.bot.send_message(chat.id, texts.NOT_REGISTERED)
        return
    req = decode(query.data)
    if req is None:
        await context.bot.send_message(chat.id, texts.STALE_BUTTON)
        return
    if req.bidang_id is not None:
        known = {
            b for b, _ in [(x.id, x.nama) for x in await context.read(list_bidang, context.opd_id)]
        }
        if req.bidang_id not in known:
            await context.bot.send_message(chat.id, texts.STALE_BUTTON)
            return
    await send_chart(update, context, req)
