"""/laporan: the office's 22-column report file, straight out of the bot."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatAction

from bot.context import MonevContext
from bot.views import texts
from storage.domain.periods import parse_quarter, roman
from storage.services.queries import NoData, resolve_period


def _parse_args(args: list[str]) -> tuple[int | None, int | None] | None:
    tw = tahun = None
    for a in args:
        if a.isdecimal() and len(a) == 4:
            tahun = int(a)
        elif (v := parse_quarter(a)) is not None:
            tw = v
        else:
            return None
    return tw, tahun


def _export(session, opd_id: int, tw: int | None, tahun: int | None, fmt: str):  # type: ignore[no-untyped-def]
    try:
        period = resolve_period(session, opd_id=opd_id, tahun=tahun, tw=tw)
    except NoData:
        raise ValueError("Belum ada data.") from None
    from storage.files.export import export_bytes  # openpyxl (and numpy) load on first export

    name, data = export_bytes(session, opd_id, period.tahun, period.triwulan, fmt=fmt)
    return name, data, period.tahun, period.triwulan


async def laporan(update: Update, context: MonevContext) -> None:
    """Send the Laporan Kinerja Triwulan as XLSX (add 'csv' for raw figures)."""
    message = update.effective_message
    assert message is not None and update.effective_chat is not None
    if context.actor is None or not context.actor.active:
        await message.reply_text(texts.NOT_REGISTERED)
        return
    args = list(context.args or [])
    fmt = "csv" if any(a.lower() == "csv" for a in args) else "xlsx"
    with_bukti = any(a.lower() == "bukti" for a in args)
    parsed = _parse_args([a for a in args if a.lower() not in ("csv", "bukti")])
    if parsed is None:
        await message.reply_text(texts.LAPORAN_USAGE)
        return
    if with_bukti:
        from bot.handlers.bukti import send_zip

        await send_zip(update, context, *parsed)
        return
    await context.bot.send_chat_action(update.effective_chat.id, ChatAction.UPLOAD_DOCUMENT)
    try:
        name, data, tahun, tw = await context.read(_export, context.opd_id, *parsed, fmt)
    except ValueError as exc:
        await message.reply_text(f"{exc}\n\n{texts.LAPORAN_USAGE}")
        return
    await message.reply_document(
        data,
        filename=name,
        caption=texts.LAPORAN_CAPTION.format(tw=roman(tw), tahun=tahun, fmt=fmt.upper()),
    )
