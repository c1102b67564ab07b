"""The offline Bot API harness, proven on a tiny PTB application (not the monev bot)."""

from __future__ import annotations

import asyncio
import datetime as dtm
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.offline.api import BOT_ID, BOT_USERNAME, TEST_TOKEN, Call, OfflineBotAPI
from bot.offline.updates import (
    make_callback_update,
    make_document_update,
    make_message_update,
    message_from_call,
)

USER = 4242


def _png(width: int = 2, height: int = 2) -> bytes:
    """A valid (tiny, grey) PNG, so the upload test sends real image bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


PNG = _png()
CSV = b"bidang;serapan\nkoperasi;42,5\n"


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Triwulan I", callback_data="tw:1"),
                InlineKeyboardButton("Triwulan II", callback_data="tw:2"),
            ],
            [InlineKeyboardButton("Bantuan", url="https://example.org/help")],
        ]
    )
    await update.message.reply_text("Pilih triwulan:", reply_markup=keyboard)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query
    await query.answer("Memuat…")
    await query.edit_message_text(f"Dipilih: {query.data}")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message
    await update.message.reply_chat_action("upload_photo")
    await update.message.reply_photo(PNG, caption="Grafik serapan")
    await update.message.reply_document(CSV, filename="serapan.csv", caption="Data")


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message and update.message.document
    file = await update.message.document.get_file()
    content = await file.download_as_bytearray()
    lines = content.count(b"\n")  # py3.11: no backslash inside an f-string expression
    await update.message.reply_text(
        f"Diterima {update.message.document.file_name}: {len(content)} bytes, {lines} baris"
    )


def build_app(api: OfflineBotAPI) -> Application:
    app = ApplicationBuilder().token(TEST_TOKEN).request(api).get_updates_request(api).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    return app


@pytest.fixture
def api() -> OfflineBotAPI:
    return OfflineBotAPI()


@pytest.fixture
async def app(api: OfflineBotAPI):  # type: ignore[no-untyped-def]
    application = build_app(api)
    async with application:
        yield application


def retry_seconds(exc: RetryAfter) -> float:
    # PTB 22 warns on `.retry_after` unless PTB_TIMEDELTA is set; it may be int or timedelta.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_get_me_identifies_the_test_bot(app: Application, api: OfflineBotAPI) -> None:
    assert app.bot.id == BOT_ID
    assert app.bot.username == BOT_USERNAME
    assert app.bot.can_join_groups is True
    assert api.calls[0].method == "getMe"


async def test_start_replies_with_inline_keyboard(app: Application, api: OfflineBotAPI) -> None:
    await app.process_update(make_message_update(app.bot, "/start", user_id=USER))

    assert api.texts() == ["Pilih triwulan:"]
    assert api.texts(USER) == ["Pilih triwulan:"]
    assert api.texts(USER + 1) == []
    assert api.buttons(api.last(USER)) == [
        [("Triwulan I", "tw:1"), ("Triwulan II", "tw:2")],
        [("Bantuan", None)],
    ]
    message = api.last().result
    assert message["chat"] == {"id": USER, "type": "private", "first_name": f"User {USER}"}
    assert message["from"]["id"] == BOT_ID


async def test_button_press_answers_and_edits_the_same_message(
    app: Application, api: OfflineBotAPI
) -> None:
    await app.process_update(make_message_update(app.bot, "/start", user_id=USER))
    keyboard_message_id = api.last(USER).result["message_id"]

    update = make_callback_update(app.bot, "tw:2", user_id=USER)
    # The query carries the bot's message that had the button, as a real update does.
    assert update.callback_query.message.message_id == keyboard_message_id
    await app.process_update(update)

    [answer] = api.calls_of("answerCallbackQuery")
    assert answer.params == {"callback_query_id": update.callback_query.id, "text": "Memuat…"}
    edit = api.last(USER)
    assert edit.method == "editMessageText"
    assert edit.params["message_id"] == keyboard_message_id
    assert api.texts(USER) == ["Pilih triwulan:", "Dipilih: tw:2"]
    # Editing text without reply_markup removes the keyboard, as Telegram does.
    assert api.buttons(edit) == []
    assert "reply_markup" not in api.message(USER, keyboard_message_id)


async def test_callback_from_a_recorded_call(app: Application, api: OfflineBotAPI) -> None:
    await app.bot.send_message(USER, "first", reply_markup=_one_button("x"))
    await app.bot.send_message(USER, "second", reply_markup=_one_button("x"))
    first = api.sent(USER)[0]

    update = make_callback_update(app.bot, "x", user_id=USER, message=first)
    await app.process_update(update)
    assert api.last(USER).params["message_id"] == first.result["message_id"]
    assert message_from_call(app.bot, first).text == "first"


def _one_button(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data=data)]])


async def test_text_sends_photo_and_document_with_their_bytes(
    app: Application, api: OfflineBotAPI
) -> None:
    await app.process_update(make_message_update(app.bot, "serapan", user_id=USER))

    assert [c.method for c in api.sent(USER)] == ["sendPhoto", "sendDocument"]
    assert api.texts(USER) == ["Grafik serapan", "Data"]
    photo, document = api.sent(USER)
    assert photo.files["photo"][1] == PNG
    assert document.files["document"] == ("serapan.csv", CSV)
    assert api.calls_of("sendChatAction")[0].params["action"] == "upload_photo"
    # The returned Message objects are complete: PTB de-jsoned them into real attributes.
    sent_photo = message_from_call(app.bot, photo)
    assert sent_photo.photo[-1].file_size == len(PNG)
    assert message_from_call(app.bot, document).document.file_name == "serapan.csv"


async def test_document_upload_can_be_downloaded_by_the_bot(
    app: Application, api: OfflineBotAPI
) -> None:
    update = make_document_update(app.bot, CSV, user_id=USER, file_name="serapan.csv")
    await app.process_update(update)

    assert api.calls_of("getFile")
    assert api.texts(USER) == ["Diterima serapan.csv: 29 bytes, 2 baris"]


async def test_message_ids_increase_per_chat_and_are_shared_with_users(
    app: Application, api: OfflineBotAPI
) -> None:
    user_update = make_message_update(app.bot, "halo", user_id=USER)
    a = await app.bot.send_message(USER, "a")
    b = await app.bot.send_message(USER, "b")
    other = await app.bot.send_message(USER + 1, "c")
    group = await app.bot.send_message(-100, "d")
    assert (user_update.message.message_id, a.message_id, b.message_id) == (1, 2, 3)
    assert other.message_id == 1
    assert group.chat.type == "group"


async def test_concurrent_sends_get_unique_ids(api: OfflineBotAPI) -> None:
    api.delay = 0.01
    app = build_app(api)
    async with app:
        messages = await asyncio.gather(*(app.bot.send_message(USER, str(i)) for i in range(20)))
    assert sorted(m.message_id for m in messages) == list(range(1, 21))


# RetryAfter.__init__ itself reads the deprecated int-valued `retry_after` (PTB 22.2+).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429_surfaces_as_retry_after(app: Application, api: OfflineBotAPI) -> None:
    api.fail_next("sendMessage", status=429, retry_after=3)

    with pytest.raises(RetryAfter) as excinfo:
        await app.bot.send_message(USER, "flood")
    assert retry_seconds(excinfo.value) == 3
    # The failure was one-shot, recorded with its status and not counted as shown.
    await app.bot.send_message(USER, "again")
    assert [c.status for c in api.calls_of("sendMessage")] == [429, 200]
    assert api.texts(USER) == ["again"]


async def test_texts_over_telegrams_limits_are_refused(
    app: Application, api: OfflineBotAPI
) -> None:
    # Counted as Telegram does: the visible text after HTML parsing, in UTF-16 units.
    await app.bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is too long"):
        await app.bot.send_message(USER, "x" * 4097)
    with pytest.raises(BadRequest, match="Message is too long"):
        await app.bot.send_message(USER, "😀" * 2049)  # two UTF-16 units each
    sent = await app.bot.send_message(USER, "short")
    with pytest.raises(BadRequest, match="Message is too long"):
        await app.bot.edit_message_text("y" * 5000, chat_id=USER, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await app.bot.send_photo(USER, b"\x89PNG fake", caption="c" * 1025)


async def test_403_surfaces_as_forbidden_for_n_calls(app: Application, api: OfflineBotAPI) -> None:
    api.fail_next("sendMessage", status=403, times=2)

    for _ in range(2):
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_message(USER, "x")
    await app.bot.send_message(USER, "y")
    assert api.texts() == ["y"]


async def test_502_and_wildcard_failures(app: Application, api: OfflineBotAPI) -> None:
    api.fail_next("*", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await app.bot.send_chat_action(USER, "typing")
    # PTB strips the "Bad Request: " prefix and capitalises the rest of the description.
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await app.bot.get_file("nope")


async def test_commands_webhook_chat_and_misc(app: Application, api: OfflineBotAPI) -> None:
    bot = app.bot
    assert await bot.set_my_commands([("start", "Mulai"), ("bantuan", "Bantuan")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "bantuan"]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    assert await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    assert await bot.delete_webhook()
    chat = await bot.get_chat(USER)
    assert (chat.id, chat.type) == (USER, "private")
    member = await bot.get_chat_member(-100, USER)
    assert (member.status, member.user.id) == ("member", USER)
    assert await bot.leave_chat(-100)
    assert await bot.delete_message(USER, 1)
    assert await bot.close()
    assert await bot.log_out()
    assert await bot.set_my_description("unknown methods answer True")


async def test_edits_keep_or_replace_content(app: Application, api: OfflineBotAPI) -> None:
    sent = await app.bot.send_photo(USER, PNG, caption="v1", reply_markup=_one_button("a"))
    edited = await app.bot.edit_message_caption(
        chat_id=USER, message_id=sent.message_id, caption="v2", reply_markup=_one_button("b")
    )
    assert edited.caption == "v2"
    assert edited.photo  # the photo survives a caption edit
    markup_only = await app.bot.edit_message_reply_markup(USER, sent.message_id)
    assert markup_only.caption == "v2"
    assert markup_only.reply_markup is None
    assert api.texts(USER) == ["v1", "v2"]


async def test_get_updates_queue_and_long_poll(app: Application, api: OfflineBotAPI) -> None:
    assert await app.bot.get_updates(timeout=0) == ()

    pushed = make_message_update(app.bot, "hai", user_id=USER)
    api.push_update(pushed)
    [got] = await app.bot.get_updates(timeout=0)
    assert got.message.text == "hai"
    # Confirming with offset forgets the update.
    assert await app.bot.get_updates(offset=got.update_id + 1, timeout=0) == ()

    async def push_later() -> None:
        await asyncio.sleep(0.05)
        api.push_update(make_message_update(app.bot, "nanti", user_id=USER))

    task = asyncio.create_task(push_later())
    [late] = await asyncio.wait_for(app.bot.get_updates(timeout=5), 2)
    await task
    assert late.message.text == "nanti"


async def test_polling_application_runs_offline(api: OfflineBotAPI) -> None:
    """The console-mode path: updater.start_polling against the offline queue."""
    shown: list[str] = []

    async def on_send(call: Call) -> None:
        shown.append(call.text or "")

    api.on_send = on_send
    app = build_app(api)
    async with app:
        await app.updater.start_polling(poll_interval=0, timeout=10)
        await app.start()
        try:
            api.push_update(make_message_update(app.bot, "/start", user_id=USER))
            for _ in range(200):  # bounded: at most ~2 s
                if shown:
                    break
                await asyncio.sleep(0.01)
        finally:
            await app.updater.stop()
            await app.stop()
    assert shown == ["Pilih triwulan:"]
    assert api.pending_updates == 0


# What `monev run` loads: the CLI, the run command's imports, and a built Application with a
# real-looking token (handlers, job queue, HTTP request objects), as run_polling builds it.
_RUN_PATH = """
import sys, tempfile
import bot.cli.main
from bot.app import build_application, prepare, run_polling
from bot.cli.ops import maybe_run_webhook
from bot.logging_setup import setup_logging_from_env
from bot.settings import Settings
from bot.health import check_token
from storage.ops.health import check_data_dir, check_database_url
import bot.webhook
from storage.data import db
from storage.files.demo import ensure_demo_data

with tempfile.TemporaryDirectory() as d:
    url = f"sqlite:///{d}/monev.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    settings = Settings(TELEGRAM_BOT_TOKEN="123456:ABC-real-looking", DATABASE_URL=url)
    app = build_application(settings, engine)
    engine.dispose()
kit = ("bot.offline", "bot.console", "tests", "benchmarks")
print(sorted(m for m in sys.modules if m in kit or m.startswith(tuple(k + "." for k in kit))))
"""


def test_monev_run_does_not_load_the_offline_kit() -> None:
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_PATH],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
