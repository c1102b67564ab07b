"""/laporan: the office's 22-column report file, straight out of the bot."""

from __future__ import annotations

from html import escape

from sqlmodel import Session
from telegram import Update
from telegram.constants import ChatAction

from bot.context import MonevContext
from bot.handlers.kabupaten import Asker, asker
from bot.views import texts
from bot.views.files import laporan_caption
from storage.domain.errors import ExportError, MonevError
from storage.domain.offices import match_office
from storage.domain.periods import parse_quarter, roman
from storage.domain.policy import Denied, is_kabupaten
from storage.services.kabupaten import kabupaten_period, office_names
from storage.services.queries import NoYearData, ReportPeriod, report_period, resolve_period


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


def _export(
    session: Session, opd_id: int, tw: int | None, tahun: int | None, fmt: str
) -> tuple[str, bytes, ReportPeriod]:
    try:
        period = resolve_period(session, opd_id=opd_id, tahun=tahun, tw=tw)
    except NoYearData:
        raise ExportError("Belum ada data.") from None
    from storage.files.export import export_bytes  # openpyxl (and numpy) load on first export

    report = report_period(session, opd_id, period)
    name, data = export_bytes(session, opd_id, period.tahun, report.progress.triwulan, fmt=fmt)
    return name, data, report


def _named_office(session: Session, text: str) -> int | None:
    """The one office ``text`` names when the deployment serves several, else None."""
    offices = office_names(session)
    found = match_office(offices, text) if len(offices) > 1 else []
    return found[0].id if len(found) == 1 else None


async def laporan(update: Update, context: MonevContext) -> None:
    """Send the Laporan Kinerja Triwulan as XLSX (add 'csv' for raw figures)."""
    message = update.effective_message
    assert message is not None and update.effective_chat is not None
    if context.actor is None or not context.actor.active:
        await message.reply_text(texts.NOT_REGISTERED)
        return
    args = list(context.args or [])
    if args and args[0].lower() == "rekap":
        await laporan_rekap(update, context, args[1:])
        return
    fmt = "csv" if any(a.lower() == "csv" for a in args) else "xlsx"
    with_bukti = any(a.lower() == "bukti" for a in args)
    args = [a for a in args if a.lower() not in ("csv", "bukti")]
    # Several offices: "/laporan dinkes 3 2022" names one (the kabupaten roles read all).
    words = [a for a in args if _parse_args([a]) is None]
    office: int | None = None
    if words:
        found = await context.read(_named_office, " ".join(words)[:120])
        if found is None:
            await message.reply_text(texts.LAPORAN_USAGE)
            return
        if not context.may_see(found):
            await message.reply_text(texts.denied(Denied.NOT_THEIR_OFFICE))
            return
        office = found
        args = [a for a in args if a not in words]
    parsed = _parse_args(args)
    if parsed is None:
        await message.reply_text(texts.LAPORAN_USAGE)
        return
    if with_bukti:
        from bot.handlers.bukti import send_zip

        await send_zip(update, context, *parsed, opd_id=office)
        return
    await context.bot.send_chat_action(update.effective_chat.id, ChatAction.UPLOAD_DOCUMENT)
    try:
        name, data, report = await context.read(_export, office or context.opd_id, *parsed, fmt)
    except MonevError as exc:  # no data for the period, an unknown office, …
        await message.reply_text(f"{exc.user_message}\n\n{texts.LAPORAN_USAGE}")
        return
    await message.reply_document(data, filename=name, caption=laporan_caption(report, fmt))


def _rekap(
    session: Session, asker: Asker, tw: int | None, tahun: int | None, fmt: str
) -> tuple[str, bytes, int, int, str]:
    """The recap file, or the reason there is none (``ValueError``/``PermissionError``)."""
    from storage.files.export_rekap import rekap_bytes, signer_hint  # openpyxl on first use

    if len(office_names(session)) > 1 and not is_kabupaten(asker.role, asker.status):
        raise PermissionError
    tahun, tw = kabupaten_period(session, tahun, tw)
    name, data = rekap_bytes(session, tahun, tw, fmt=fmt)
    return name, data, tahun, tw, signer_hint(session)


async def laporan_rekap(update: Update, context: MonevContext, args: list[str]) -> None:
    """/laporan rekap [tw] [tahun]: one row per office, ranked by serapan (kabupaten roles)."""
    message = update.effective_message
    assert message is not None and update.effective_chat is not None
    fmt = "csv" if any(a.lower() == "csv" for a in args) else "xlsx"
    parsed = _parse_args([a for a in args if a.lower() != "csv"])
    if parsed is None:
        await message.reply_text(texts.REKAP_USAGE)
        return
    await context.bot.send_chat_action(update.effective_chat.id, ChatAction.UPLOAD_DOCUMENT)
    try:
        name, data, tahun, tw, hint = await context.read(_rekap, asker(context), *parsed, fmt)
    except PermissionError:
        await message.reply_text(texts.KAB_ONLY)
        return
    except MonevError as exc:  # no data for the period, an unknown office, …
        await message.reply_text(f"{exc.user_message}\n\n{texts.REKAP_USAGE}")
        return
    await message.reply_document(
        data,
        filename=name,
        caption=texts.REKAP_CAPTION.format(tw=roman(tw), tahun=tahun, fmt=fmt.upper()),
    )
    if hint:
        await message.reply_text(escape(hint))
