"""Evidence (bukti dukung): photos and documents sent during /lapor, the review's 'Tambah
bukti'/'Hapus bukti', the verifier's 'Lihat bukti', and /bukti.

A file is downloaded once (retried when Telegram fails), checked by its content, written to
the data folder under its SHA-256 and only then recorded on the draft, in one write
transaction that re-checks the draft: a refused or failed file leaves the draft as it was.
Every item of an album arrives as an update of its own; the first one sends the
confirmation and the others edit it with the running count, so an album is confirmed in
one message and never silently.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from html import escape
from pathlib import Path

from sqlmodel import Session
from telegram import InputMediaDocument, InputMediaPhoto, Message, Update
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.context import MonevContext
from bot.handlers.shared import markup
from bot.settings import Settings
from bot.views import bukti as views
from bot.views import lapor as lapor_views
from bot.views import texts
from bot.views.answers import Keyboard
from bot.views.budget import split_html
from storage.data import bukti_store
from storage.domain.errors import ExportError, MonevError
from storage.domain.periods import parse_quarter, roman
from storage.domain.policy import Role, may_see_history
from storage.domain.question_parser import evidence_request
from storage.services import bukti
from storage.services import lapor_flow as flow
from storage.services.bukti import Item

log = logging.getLogger(__name__)

DOWNLOAD_ATTEMPTS = 3


def _settings(context: MonevContext) -> Settings:
    return context.bot_data["settings"]


def _data_dir(context: MonevContext) -> Path:
    return Path(_settings(context).data_dir)


def _max_bytes(context: MonevContext) -> int:
    return int(_settings(context).bukti_max_mb * 1024 * 1024)


async def _download(context: MonevContext, file_id: str) -> bytes | None:
    """The file's bytes, retried on network trouble; None when Telegram kept failing."""
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            f = await context.bot.get_file(file_id)
            return bytes(await f.download_as_bytearray())
        except RetryAfter as exc:
            delay = min(
                float(exc.retry_after if isinstance(exc.retry_after, int | float) else 1), 5
            )
        except (NetworkError, BadRequest) as exc:
            if isinstance(exc, BadRequest) and "too big" in str(exc).lower():
                return None
            delay = 0.2 * attempt
            log.info("evidence download failed (attempt %d): %s", attempt, type(exc).__name__)
        if attempt < DOWNLOAD_ATTEMPTS:
            await asyncio.sleep(delay)
    return None


async def _not_evidence(update: Update, context: MonevContext) -> None:
    """What the bot says to any other photo or file (as to a sticker: it reads text)."""
    assert update.effective_message is not None
    if context.actor is None or not context.actor.active:
        await update.effective_message.reply_text(texts.NOT_REGISTERED)
        return
    await update.effective_message.reply_text(
        texts.NON_TEXT.format(example=await _example(context))
    )


async def _example(context: MonevContext) -> str:
    """A question of the sender's own office and role (``texts.examples_for``)."""
    from bot.handlers.kabupaten import asker, examples

    shown = await context.read(examples, asker(context))
    return escape(shown[1] if len(shown) > 1 else shown[0])


async def on_file(update: Update, context: MonevContext) -> None:
    """A photo or document: evidence for the sub kegiatan of the sender's draft."""
    message = update.effective_message
    assert message is not None
    actor = context.actor
    private = message.chat.type == ChatType.PRIVATE
    if actor is None or not actor.has(Role.OPERATOR) or not private:
        # In a group a photo is somebody's conversation, never evidence of a draft.
        await _not_evidence(update, context)
        return
    group = message.media_group_id or ""
    where = await context.read(bukti.target, user_id=actor.user_id, media_group_id=group)
    if isinstance(where, bukti.NoDraft):
        await message.reply_text(texts.BUKTI_NO_DRAFT.format(example=await _example(context)))
        return
    if message.photo:
        p = message.photo[-1]
        file_id, unique, size, name, kind = p.file_id, p.file_unique_id, p.file_size, "", "foto"
    elif message.document is not None:
        d = message.document
        file_id, unique, size = d.file_id, d.file_unique_id, d.file_size
        name, kind = d.file_name or "", "dokumen"
    else:
        await _not_evidence(update, context)
        return
    limit = _max_bytes(context)
    if size is not None and size > limit:
        # Refused before downloading anything: Telegram would not hand it to a bot anyway.
        reason = bukti_store.too_big(size, limit)
        await message.reply_text(texts.BUKTI_REFUSED.format(reason=escape(reason)))
        return
    content = await _download(context, file_id)
    if kind != "foto":
        # A document's file_id is not kept: re-sent by it, Telegram would show the
        # uploader's own file name instead of the one the bot gives it.
        file_id = ""
    if content is None:
        await message.reply_text(texts.BUKTI_DOWNLOAD_FAILED.format(n=DOWNLOAD_ATTEMPTS))
        return
    try:
        stored = await asyncio.to_thread(
            bukti_store.store, _data_dir(context), content, max_bytes=limit
        )
    except bukti_store.RefusedFile as exc:
        await message.reply_text(texts.BUKTI_REFUSED.format(reason=escape(exc.user_message)))
        return
    if isinstance(where, bukti.PickSub):
        # No sub kegiatan is being asked: kept on the draft until the operator names one.
        assert actor.user_id is not None
        meta = bukti.received(
            stored,
            kind=kind,
            file_id=file_id,
            file_unique_id=unique,
            file_name=name,
            caption=message.caption or "",
            media_group_id=group,
            uploaded_by=actor.user_id,
        )
        held = await context.write(
            bukti.hold, user_id=actor.user_id, draft_id=where.draft_id, meta=meta
        )
        if isinstance(held, bukti.NoDraft):
            await message.reply_text(texts.BUKTI_NO_DRAFT.format(example=await _example(context)))
            return
        reply = views.picker(held.picker)
        text = (texts.BUKTI_HELD_FULL if held.full else "") + reply.text
        await _confirm(
            context, message, text, reply.keyboard, held.album_message, group, where.draft_id
        )
        return
    result = await context.write(
        bukti.attach,
        user_id=actor.user_id,
        target=where,
        stored=stored,
        kind=kind,
        file_id=file_id,
        file_unique_id=unique,
        file_name=name,
        caption=message.caption or "",
        media_group_id=group,
    )
    if isinstance(result, bukti.NoDraft):
        await message.reply_text(texts.BUKTI_NO_DRAFT.format(example=await _example(context)))
        return
    if isinstance(result, bukti.Full):
        await message.reply_text(
            texts.BUKTI_FULL.format(sub=escape(result.sub), n=bukti.MAX_PER_SUB)
        )
        return
    await _confirm(
        context, message, views.attached(result), [], result.album_message, group, where.draft_id
    )


async def _confirm(
    context: MonevContext,
    message: Message,
    text: str,
    keyboard: Keyboard,
    album_message: int,
    group: str,
    draft_id: int,
) -> None:
    """Say what happened to a file: a message of its own, or for a later item of an album
    the album's one message, edited with the running count."""
    if album_message:
        try:
            await context.bot.edit_message_text(
                text,
                chat_id=message.chat_id,
                message_id=album_message,
                reply_markup=markup(keyboard),
            )
            return
        except TelegramError as exc:
            log.info("album confirmation not edited: %s", type(exc).__name__)
    sent = await message.reply_text(text, reply_markup=markup(keyboard))
    if group:
        await context.write(
            bukti.remember_album,
            draft_id=draft_id,
            media_group_id=group,
            message_id=sent.message_id,
        )


# --- the review's evidence screens -----------------------------------------------------------


async def on_review_button(
    update: Update, context: MonevContext, draft_id: int, action: str
) -> None:
    """'Tambah bukti', 'Bukti N', 'Hapus bukti N', 'Ke ringkasan' (query already answered)."""
    query = update.callback_query
    assert query is not None and context.actor is not None
    tgid = context.actor.telegram_id
    result: bukti.Picker | bukti.NotHere
    if action == "ringkas":
        resumed = await context.write(flow.resume, telegram_id=tgid, draft_id=draft_id)
        if isinstance(resumed, flow.NotYours):
            await query.edit_message_text(texts.LAPOR_NOT_YOURS)
            return
        await query.edit_message_reply_markup(None)
        assert update.effective_chat is not None
        reply = lapor_views.screen(resumed.screen)
        parts = split_html(reply.text)
        for part in parts[:-1]:
            await context.bot.send_message(update.effective_chat.id, part)
        await context.bot.send_message(
            update.effective_chat.id, parts[-1], reply_markup=markup(reply.keyboard)
        )
        return
    m = re.fullmatch(r"(bukti|hapusb)(?::(\d+))?", action)
    if m is None:
        await query.edit_message_text(texts.STALE_BUTTON)
        return
    if m.group(1) == "hapusb" and m.group(2):
        result = await context.write(
            bukti.remove, telegram_id=tgid, draft_id=draft_id, bukti_id=int(m.group(2))
        )
        if isinstance(result, bukti.Picker) and result.removed_sha:
            # After the commit: the file goes only when no row (an earlier submission,
            # another draft) names it any more.
            await context.write(bukti.prune, _data_dir(context), result.removed_sha)
    else:
        index = int(m.group(2)) if m.group(2) else None
        result = await context.write(
            bukti.open_picker, telegram_id=tgid, draft_id=draft_id, index=index
        )
    if isinstance(result, bukti.NotHere):
        await query.edit_message_text(
            texts.LAPOR_NOT_YOURS if result.draft_id is None else texts.STALE_BUTTON
        )
        return
    reply = views.picker(result)
    await query.edit_message_text(reply.text, reply_markup=markup(reply.keyboard))


# --- showing evidence ----------------------------------------------------------------------------


def _media(
    it: Item, caption: str, data_dir: Path, *, upload: bool
) -> InputMediaPhoto | InputMediaDocument:
    source: str | bytes = it.file_id
    # A document is always uploaded from the data folder under the name the bot gives it:
    # re-sent by its file_id, Telegram would show the uploader's own file name.
    if upload or not it.file_id or it.kind != "foto":
        source = bukti_store.read(data_dir, it.sha256)
    if it.kind == "foto":
        return InputMediaPhoto(source, caption=caption)
    return InputMediaDocument(source, caption=caption, filename=it.file_name)


async def _send_group(
    context: MonevContext, chat_id: int, group: Sequence[Item], caps: list[str], *, upload: bool
) -> None:
    data_dir = _data_dir(context)
    # Reading up to ten files from disk (for an upload) is blocking work: a worker thread.
    media = await asyncio.to_thread(
        lambda: [_media(it, c, data_dir, upload=upload) for it, c in zip(group, caps, strict=True)]
    )
    if len(media) == 1:
        one, it = media[0], group[0]
        if it.kind == "foto":
            await context.bot.send_photo(chat_id, one.media, caption=caps[0])
        else:
            await context.bot.send_document(chat_id, one.media, caption=caps[0])
        return
    await context.bot.send_media_group(chat_id, media)


async def send_items(context: MonevContext, chat_id: int, its: list[Item]) -> None:
    """The files as albums of at most ten (photos apart from documents, which Telegram does
    not mix), re-sent by file_id; uploaded from the data folder when the id is refused."""
    total = len(its)
    numbered = list(enumerate(its, 1))
    for kind in ("foto", "dokumen"):
        part = [(n, it) for n, it in numbered if it.kind == kind]
        for start in range(0, len(part), bukti.ALBUM):
            chunk = part[start : start + bukti.ALBUM]
            group = [it for _, it in chunk]
            caps = [views.caption(it, n, total) for n, it in chunk]
            try:
                await _send_group(context, chat_id, group, caps, upload=False)
            except BadRequest as exc:
                log.info("evidence re-sent by upload: %s", type(exc).__name__)
                await _send_group(context, chat_id, group, caps, upload=True)


async def lihat(update: Update, context: MonevContext) -> None:
    """'Lihat bukti' on a verification message: the submission's files, as albums."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    actor = context.actor
    chat = update.effective_chat
    assert chat is not None
    if actor is None or not actor.active:
        await context.bot.send_message(chat.id, texts.NOT_REGISTERED)
        return
    m = re.fullmatch(r"bk:(\d+):(\d+)", query.data)
    if m is None:
        await context.bot.send_message(chat.id, texts.STALE_BUTTON)
        return
    shown = await context.read(
        bukti.for_pelaporan, telegram_id=actor.telegram_id, pelaporan_id=int(m.group(1))
    )
    await _show(context, chat.id, shown, shown_version=int(m.group(2)))


async def _show(
    context: MonevContext,
    chat_id: int,
    shown: bukti.Shown | bukti.Refused,
    *,
    shown_version: int | None = None,
    period: str = "",
) -> None:
    if isinstance(shown, bukti.Refused):
        if shown.denied is not None:
            text = texts.BUKTI_FORBIDDEN
        elif shown.choices:
            text = texts.node_choices("/bukti", shown.unknown[:100], list(shown.choices))
        elif shown.unknown:
            text = texts.BUKTI_UNKNOWN.format(q=escape(shown.unknown[:100]))
        elif shown.stale:
            text = texts.STALE_BUTTON
        else:
            text = texts.NOT_REGISTERED
        await context.bot.send_message(chat_id, text)
        return
    if not shown.items:
        where = f" (TW {roman(shown.triwulan)} {shown.tahun})" if shown.tahun else period
        await context.bot.send_message(
            chat_id, texts.BUKTI_NONE.format(title=escape(shown.title), period=where)
        )
        return
    head = views.shown_head(shown)
    if shown_version is not None and shown_version != shown.version:
        head = texts.BUKTI_CHANGED.format(versi=shown.version) + "\n\n" + head
    for part in split_html(head):
        await context.bot.send_message(chat_id, part)
    await send_items(context, chat_id, shown.items)


def _parse(args: list[str]) -> tuple[str, int | None, int | None]:
    """'pembangunan pasar tw3 2022' -> ('pembangunan pasar', 3, 2022)."""
    words = list(args)
    tw = tahun = None
    while words:
        last = words[-1]
        if tahun is None and last.isdecimal() and len(last) == 4:
            tahun = int(words.pop())
        elif tw is None and (q := parse_quarter(last)) is not None:
            tw = q
            words.pop()
            if words and words[-1].lower() in ("tw", "triwulan"):
                words.pop()
        else:
            break
    return " ".join(words).strip(), tw, tahun


async def bukti_command(update: Update, context: MonevContext) -> None:
    """/bukti ‹sub kegiatan› [tw] [tahun]: the files sent as evidence, who sent them, when."""
    message = update.effective_message
    assert message is not None
    if context.actor is None or not context.actor.active:
        await message.reply_text(texts.NOT_REGISTERED)
        return
    q, tw, tahun = _parse(list(context.args or []))
    if len(q) < 3:
        await message.reply_text(texts.BUKTI_USAGE)
        return
    await _answer(update, context, q[:200], tw, tahun)


async def _answer(
    update: Update, context: MonevContext, q: str, tw: int | None, tahun: int | None
) -> None:
    assert context.actor is not None and update.effective_chat is not None
    shown = await context.read(
        bukti.find,
        telegram_id=context.actor.telegram_id,
        opd_id=context.opd_id,
        text=q,
        triwulan=tw,
        tahun=tahun,
    )
    period = ""
    if tw is not None:
        period = f" (TW {roman(tw)}{f' {tahun}' if tahun else ''})"
    await _show(context, update.effective_chat.id, shown, period=period)


def asks_for_evidence(text: str) -> bool:
    """'bukti pembangunan pasar tw3', 'foto kegiatan koperasi tw2': a request for files."""
    return len(text) <= 200 and evidence_request(text) is not None


async def question(update: Update, context: MonevContext) -> None:
    """A plain request for evidence (the sender is in no flow)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    if context.actor is None or not context.actor.active:
        await message.reply_text(texts.NOT_REGISTERED)
        return
    req = evidence_request(message.text)
    if req is None or len(req.name) < 3:
        await message.reply_text(texts.BUKTI_USAGE)
        return
    await _answer(update, context, req.name[:200], req.triwulan, req.tahun)


# --- /laporan … bukti ----------------------------------------------------------------------------

ZIP_LIMIT = 50 * 1024 * 1024  # what a bot may upload to Telegram


def _zip(
    session: Session, opd_id: int, tw: int | None, tahun: int | None, data_dir: Path
) -> tuple[str, bytes, int, int, int]:
    from storage.files.export_bukti import export_zip
    from storage.services.queries import NoYearData, resolve_period

    try:
        period = resolve_period(session, opd_id=opd_id, tahun=tahun, tw=tw)
    except NoYearData:
        raise ExportError("Belum ada data.") from None
    name, data, n = export_zip(session, opd_id, period.tahun, period.triwulan, data_dir)
    return name, data, n, period.tahun, period.triwulan


async def send_zip(
    update: Update,
    context: MonevContext,
    tw: int | None,
    tahun: int | None,
    *,
    opd_id: int | None = None,
) -> None:
    """/laporan … bukti: the report and the evidence of every bidang, as one ZIP (for those
    who oversee every bidang: the same rule as /bukti on another bidang)."""
    message = update.effective_message
    actor = context.actor
    assert message is not None and actor is not None and update.effective_chat is not None
    denied = may_see_history(
        role=actor.role, status=actor.status, user_bidang_id=actor.bidang_id, bidang_id=None
    )
    if denied is not None:
        await message.reply_text(texts.BUKTI_ZIP_FORBIDDEN)
        return
    await context.bot.send_chat_action(update.effective_chat.id, ChatAction.UPLOAD_DOCUMENT)
    try:
        name, data, n, tahun_, tw_ = await context.read(
            _zip, opd_id or context.opd_id, tw, tahun, _data_dir(context)
        )
    except MonevError as exc:  # no data for the period, an unknown office, …
        await message.reply_text(f"{escape(exc.user_message)}\n\n{texts.LAPORAN_USAGE}")
        return
    if len(data) > ZIP_LIMIT:
        mb = f"{len(data) / (1024 * 1024):.0f}"
        await message.reply_text(texts.BUKTI_ZIP_TOO_BIG.format(mb=mb, tahun=tahun_, tw=tw_))
        return
    await message.reply_document(
        data,
        filename=name,
        caption=texts.BUKTI_ZIP_CAPTION.format(tw=roman(tw_), tahun=tahun_, n=n),
    )
