"""An admin brings the office's own file to the bot: sent as a document, previewed (what
``monev import --coba`` shows), imported on **Impor**, dropped on **Batal**.

The file waits on disk (``MONEV_DATA_DIR/impor/``) under the admin's conversation state; a
button acts only for the preview its message showed (the state's version and the file's
SHA-256). Refused or confirmed, the import is one transaction: nothing half-written.
Documents of anyone else go on to the evidence handler as before (operators' /lapor).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from html import escape
from pathlib import Path

from sqlmodel import Session
from telegram import Update
from telegram.constants import ChatType
from telegram.error import NetworkError, TelegramError
from telegram.ext import filters

from bot.context import MonevContext, NoOfficeChosen
from bot.handlers import bukti
from bot.handlers.shared import markup
from bot.settings import Settings
from bot.views import imports as views
from storage.domain.policy import Role
from storage.files.layout_import import Request, import_bytes
from storage.files.workbook import MAX_FILE_BYTES, BadFileError
from storage.services import conversation
from storage.services.conversation import Flow, StaleState

log = logging.getLogger(__name__)

# What an office's own reports come as; photos and PDFs stay evidence.
FILES = (
    filters.Document.FileExtension("xlsx")
    | filters.Document.FileExtension("tsv")
    | filters.Document.FileExtension("txt")
)
_OTHER_OFFICE = "Judul berkas menyebut"  # the start of the importer's office refusal


def _folder(context: MonevContext) -> Path:
    settings: Settings = context.bot_data["settings"]
    return Path(settings.data_dir) / "impor"


def _path(context: MonevContext, telegram_id: int, sha: str) -> Path:
    return _folder(context) / f"{telegram_id}-{sha[:16]}.bin"


def _keep(folder: Path, telegram_id: int, sha: str, data: bytes) -> Path:
    """Store the file of the admin's one pending import (an earlier one is dropped)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{telegram_id}-*.bin"):
        old.unlink(missing_ok=True)
    path = folder / f"{telegram_id}-{sha[:16]}.bin"
    path.write_bytes(data)
    return path


async def _fetch(context: MonevContext, file_id: str) -> bytes | None:
    for attempt in (1, 2):
        try:
            f = await context.bot.get_file(file_id)
            return bytes(await f.download_as_bytearray())
        except (NetworkError, TelegramError) as exc:
            log.info("import download failed (attempt %d): %s", attempt, type(exc).__name__)
            await asyncio.sleep(0.2)
    return None


def _start(session: Session, *, telegram_id: int, payload: dict) -> int:
    return conversation.start(
        session, telegram_id=telegram_id, flow=Flow.IMPORT, step="pratinjau", payload=payload
    ).version


async def on_document(update: Update, context: MonevContext) -> None:
    """A spreadsheet or text file: an admin's import (previewed first); evidence otherwise."""
    message = update.effective_message
    assert message is not None and message.document is not None
    actor = context.actor
    private = message.chat.type == ChatType.PRIVATE
    if actor is None or not private or not actor.has(Role.ADMIN, Role.ADMIN_KABUPATEN):
        await bukti.on_file(update, context)  # an operator's evidence, or the usual reply
        return
    try:
        opd_id = context.opd_id
    except NoOfficeChosen:
        await message.reply_text(views.IMPORT_KABUPATEN)
        return
    doc = message.document
    name = doc.file_name or "berkas"
    if doc.file_size is not None and doc.file_size > MAX_FILE_BYTES:
        mb = f"{doc.file_size / (1024 * 1024):.1f}".replace(".", ",")
        await message.reply_text(
            views.IMPORT_TOO_BIG.format(
                name=escape(name), mb=mb, limit=MAX_FILE_BYTES // (1024 * 1024)
            )
        )
        return
    data = await _fetch(context, doc.file_id)
    if data is None:
        await message.reply_text(views.IMPORT_DOWNLOAD_FAILED.format(name=escape(name)))
        return
    request = Request(opd_id=opd_id, dry_run=True, actor=f"user:{actor.telegram_id}")
    try:
        result = await asyncio.to_thread(import_bytes, context.engine, data, name, request)
    except BadFileError as exc:
        reason = escape(exc.user_message)
        await message.reply_text(views.IMPORT_REFUSED.format(name=escape(name), reason=reason))
        return
    sha = hashlib.sha256(data).hexdigest()
    await asyncio.to_thread(_keep, _folder(context), actor.telegram_id, sha, data)
    other = bool(result.summary.refusals) and all(
        r.startswith(_OTHER_OFFICE) for r in result.summary.refusals
    )
    version = await context.write(
        _start,
        telegram_id=actor.telegram_id,
        payload={"sha": sha, "name": name, "opd_id": opd_id, "other": other},
    )
    keyboard = [[(views.BUTTON_CANCEL, f"imp:no:{version}")]]
    if not result.refused:
        keyboard = [[(views.BUTTON_IMPORT, f"imp:ok:{version}"), keyboard[0][0]]]
    elif other:
        keyboard = [[(views.BUTTON_IMPORT_OTHER, f"imp:lain:{version}"), keyboard[0][0]]]
    await message.reply_text(
        views.preview_html(result, file_name=name), reply_markup=markup(keyboard)
    )


def _claim(session: Session, *, telegram_id: int, version: int) -> dict | None:
    """The pending import of this preview, taken (at most once), or None when the preview is
    not the admin's latest or was decided already."""
    state = conversation.get(session, telegram_id=telegram_id)
    if state is None or state.flow != Flow.IMPORT or state.version != version:
        return None
    try:
        conversation.advance(
            session, telegram_id=telegram_id, expected_version=version, step="diputuskan"
        )
    except StaleState:
        return None
    conversation.clear(session, telegram_id=telegram_id, flow=Flow.IMPORT)
    return state.payload


async def on_button(update: Update, context: MonevContext) -> None:
    """Impor / Impor walau OPD berbeda / Batal under a preview."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    actor = context.actor
    parts = query.data.split(":")
    if (
        actor is None
        or not actor.has(Role.ADMIN, Role.ADMIN_KABUPATEN)
        or len(parts) != 3
        or parts[1] not in {"ok", "lain", "no"}
        or not parts[2].isdecimal()
    ):
        await query.edit_message_text(views.IMPORT_STALE)
        return
    action, version = parts[1], int(parts[2])
    payload = await context.write(_claim, telegram_id=actor.telegram_id, version=version)
    if payload is None:
        await query.edit_message_text(views.IMPORT_STALE)
        return
    name, sha = str(payload.get("name", "berkas")), str(payload.get("sha", ""))
    path = _path(context, actor.telegram_id, sha)
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError:
        await query.edit_message_text(views.IMPORT_GONE)
        return
    if action == "no" or hashlib.sha256(data).hexdigest() != sha:
        await asyncio.to_thread(path.unlink, True)
        text = views.IMPORT_CANCELLED if action == "no" else views.IMPORT_GONE
        await query.edit_message_text(text.format(name=escape(name)))
        return
    request = Request(
        opd_id=int(payload["opd_id"]),
        other_office=action == "lain" and bool(payload.get("other")),
        actor=f"user:{actor.telegram_id}",
    )
    try:
        result = await asyncio.to_thread(import_bytes, context.engine, data, name, request)
    except BadFileError as exc:
        await query.edit_message_text(
            views.IMPORT_REFUSED.format(name=escape(name), reason=escape(exc.user_message))
        )
        return
    finally:
        await asyncio.to_thread(path.unlink, True)
    await query.edit_message_text(views.done_html(result, file_name=name))
