"""Composition root: builds the Application and registers every handler, in order."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.engine import Engine
from telegram import BotCommand, LinkPreviewOptions, MenuButtonWebApp, Update, WebAppInfo
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    ExtBot,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.cluster import SharedRateLimiter, attach, bot_id
from bot.cluster import get as cluster_of
from bot.concurrency import PerUserUpdateProcessor
from bot.context import FIGURE_CACHE, MonevContext
from bot.handlers import (
    bukti,
    charts,
    common,
    files,
    imports,
    kabupaten,
    lapor,
    questions,
    registration,
    reminders,
    routing,
    shared,
)
from bot.inbox import InboxRequest, MonevApplication, replay
from bot.jobs.early_warning import schedule_digest
from bot.jobs.housekeeping import schedule_housekeeping
from bot.jobs.reminders import schedule_jobs
from bot.ratelimit import RetryingRateLimiter
from bot.settings import WIB, Settings
from bot.views import texts
from bot.views import verification as verification_views
from charts.pool import RenderPool
from storage.data.db import is_sqlite, session_scope
from storage.services.cache import FigureCache
from storage.services.office import NoOffice, prepare_deployment

log = logging.getLogger(__name__)

# A token that looks real enough for PTB; only used with an offline request (console, tests).
OFFLINE_TOKEN = "123456:OFFLINE-monev-bot-console-token"


def register_handlers(app: Application) -> None:
    """Every handler of the bot, in the order they are tried."""
    # -1: who is this? Every later handler relies on context.actor (typed text: its turn).
    app.add_handler(TypeHandler(Update, common.identify), group=-1)

    # -20, before identify and alone in its group: a person who had blocked the bot writes
    # to it again, so they can be reminded again.
    app.add_handler(
        TypeHandler(Update, reminders.unblock_on_contact), group=reminders.UNBLOCK_GROUP
    )

    # Deadlines and reminders: /jadwal (its typed date comes as text, below), /pengingat,
    # /grupkantor. The buttons work whether or not the flow is still open (an older /jadwal).
    app.add_handler(CommandHandler("jadwal", reminders.jadwal))
    app.add_handler(
        CallbackQueryHandler(reminders.jadwal_pick, pattern=r"^jadwal:ubah:\d{4}:[1-4]$")
    )
    app.add_handler(
        CallbackQueryHandler(reminders.jadwal_close, pattern=r"^jadwal:(selesai|batal)$")
    )
    app.add_handler(CommandHandler("pengingat", reminders.pengingat))
    app.add_handler(CommandHandler("grupkantor", reminders.grupkantor))
    app.add_handler(
        CallbackQueryHandler(reminders.pengingat_toggle, pattern=r"^pengingat:(mati|nyala)$")
    )
    # The weekly early-warning digest's on/off button of /pengingat.
    app.add_handler(
        CallbackQueryHandler(reminders.digest_toggle, pattern=r"^peringatan:(mati|nyala)$")
    )

    # Commands.
    app.add_handler(CommandHandler("start", common.start))
    app.add_handler(CommandHandler("daftar", registration.daftar))
    app.add_handler(CommandHandler("bantuan", common.bantuan))
    app.add_handler(CommandHandler("help", common.bantuan))
    app.add_handler(CommandHandler("lapor", lapor.lapor))
    app.add_handler(CommandHandler("batal", routing.batal))
    app.add_handler(CommandHandler("riwayat", lapor.riwayat))
    app.add_handler(CommandHandler("laporan", files.laporan))
    app.add_handler(CommandHandler("grafik", charts.grafik))
    app.add_handler(CommandHandler("bukakembali", lapor.bukakembali))
    app.add_handler(CommandHandler("verifikasi", lapor.verifikasi))
    app.add_handler(CommandHandler("bukti", bukti.bukti_command))

    # Buttons. Those of a flow check the sender's state themselves (stale otherwise).
    app.add_handler(CallbackQueryHandler(registration.skip_nip, pattern=f"^{registration.SKIP}$"))
    app.add_handler(CallbackQueryHandler(registration.got_office, pattern=r"^reg:opd:\d+$"))
    app.add_handler(CallbackQueryHandler(registration.got_bidang, pattern=r"^reg:bidang:\d+$"))
    app.add_handler(
        CallbackQueryHandler(
            registration.confirm,
            pattern=f"^({registration.CONFIRM_YES}|{registration.CONFIRM_NO})$",
        )
    )
    app.add_handler(CallbackQueryHandler(registration.decide, pattern=r"^reg:(ok|no|blk):"))
    app.add_handler(CallbackQueryHandler(questions.ask_button, pattern=r"^ask:"))
    app.add_handler(CallbackQueryHandler(questions.pick_button, pattern=r"^kq:"))
    app.add_handler(CallbackQueryHandler(questions.page_button, pattern=r"^pg:"))
    app.add_handler(CallbackQueryHandler(lapor.on_button, pattern=r"^lp:"))
    app.add_handler(CallbackQueryHandler(lapor.on_verify, pattern=verification_views.PATTERN))
    app.add_handler(CallbackQueryHandler(bukti.lihat, pattern=r"^bk:"))
    app.add_handler(CallbackQueryHandler(imports.on_button, pattern=r"^imp:"))
    app.add_handler(CallbackQueryHandler(kabupaten.chart_button, pattern=r"^gr:kab:"))
    app.add_handler(CallbackQueryHandler(charts.chart_button, pattern=r"^gr:"))

    # Typed text: the answer to the step of the flow the sender is in (registration, /lapor,
    # a reason for returning a report, /jadwal's date), otherwise a question in plain Indonesian.
    # One turn each (storage/services/text_turn.py), which also identifies the sender.
    app.add_handler(MessageHandler(shared.TEXT, routing.on_text))

    # XLSX, TSV and text documents from an admin: the office's own file, previewed and
    # imported on a button; from anyone else they go on to evidence as below.
    app.add_handler(MessageHandler(imports.FILES, imports.on_document))
    # Photos and documents: evidence (bukti dukung) for the sender's /lapor draft.
    app.add_handler(MessageHandler(filters.PHOTO | filters.Document.ALL, bukti.on_file))

    # Catch-alls: unknown commands, non-text messages, buttons of finished conversations.
    app.add_handler(MessageHandler(filters.COMMAND, common.unknown_command))
    app.add_handler(MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, common.non_text))
    app.add_handler(CallbackQueryHandler(common.stale_button))

    app.add_error_handler(common.on_error)


def _startup_sync(engine: Engine, admin_ids: list[int]) -> dict[str, Any]:
    """Admins from MONEV_ADMIN_IDS, and the office the bot serves."""
    with session_scope(engine) as session:
        # Each person's office comes from their row (context.opd_id); a one-office
        # deployment also keeps its office here for people without one (a kabupaten role).
        try:
            deployment = prepare_deployment(session, admin_ids=admin_ids)
        except NoOffice:
            raise RuntimeError(
                "Basis data belum berisi perangkat daerah. Impor laporan (monev import FILE) "
                "atau aktifkan data contoh (MONEV_DEMO_DATA=true)."
            ) from None
        return {"opd_id": deployment.opd_id, "bidang_names": deployment.bidang_names}


def prepare(app: Application) -> None:
    """The database part of start-up (blocking): admins and the office the bot serves."""
    settings: Settings = app.bot_data["settings"]
    engine: Engine = app.bot_data["engine"]
    app.bot_data.update(_startup_sync(engine, settings.admin_ids))


async def post_init(app: Application) -> None:
    """Lifecycle: sync admins, load the office, register the command menu, start charts."""
    await asyncio.to_thread(prepare, app)
    # The chart worker starts when an answer offers a chart (or on the first chart) and
    # stops when idle: the bot process itself never loads matplotlib, numpy or openpyxl.
    settings = app.bot_data["settings"]
    idle = settings.chart_idle_seconds
    app.bot_data.setdefault(
        "render_pool", RenderPool(idle_seconds=idle or None, warm_up=settings.chart_warmup)
    )
    await app.bot.set_my_commands([BotCommand(c, d) for c, d in texts.COMMANDS])
    await _webapp(app)
    schedule_jobs(app)
    schedule_housekeeping(app)
    schedule_digest(app)
    group = cluster_of(app)
    if group is not None:
        await group.start()  # its sweep handles what earlier processes left in the inbox
    elif app.bot_data.get("serving"):
        await replay(app)


async def _webapp(app: Application) -> None:
    """MONEV_WEBAPP_URL set: the menu button opens the Mini App, and in polling mode the
    process serves it (webhook mode serves it beside the webhook). Unset: nothing at all."""
    settings: Settings = app.bot_data["settings"]
    if not settings.webapp_url:
        return
    # Loaded only when used: without the setting the process holds no web server code.
    from bot.views import webapp as webapp_views
    from bot.webapp import server as webapp_server

    try:
        await app.bot.set_chat_menu_button(
            menu_button=MenuButtonWebApp(
                webapp_views.MENU_BUTTON, WebAppInfo(f"{settings.webapp_url}/")
            )
        )
    except TelegramError as exc:
        log.warning("could not set the Mini App menu button: %s", type(exc).__name__)
    if app.bot_data.get("serving"):
        await webapp_server.start_for(app)


async def post_shutdown(app: Application) -> None:
    """Lifecycle: stop the Mini App's server and the chart process, release connections."""
    group = cluster_of(app)
    if group is not None:
        await group.stop()
    web = app.bot_data.pop("webapp_server", None)
    if web is not None:
        await web.stop()
    pool = app.bot_data.pop("render_pool", None)
    if pool is not None:
        await pool.aclose()
    engine: Engine | None = app.bot_data.get("engine")
    if engine is not None:
        engine.dispose()


def build_application(
    settings: Settings,
    engine: Engine,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    rate_limiter: bool = True,
    inbox: bool = False,
    cluster: bool = False,
) -> Application:
    """The bot, ready to run (polling, webhook, console or tests). ``cluster``: one of
    several processes on one PostgreSQL (bot.cluster)."""
    defaults = Defaults(
        parse_mode=ParseMode.HTML,
        tzinfo=WIB,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    # ExtBot[Any]: the rate limiter below, when there is one, turns ExtBot[None] into ExtBot[int].
    builder: ApplicationBuilder[ExtBot[Any], MonevContext, dict, dict, dict, Any] = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token or OFFLINE_TOKEN)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_base_file_url)
        .defaults(defaults)
        .context_types(ContextTypes(context=MonevContext))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .concurrent_updates(PerUserUpdateProcessor())
        .application_class(MonevApplication)
    )
    if cluster:
        # One budget for every process of the bot, kept in PostgreSQL.
        builder = builder.rate_limiter(
            SharedRateLimiter(engine, bot_id(settings.telegram_bot_token), max_retries=3)
        )
    elif rate_limiter:
        builder = builder.rate_limiter(RetryingRateLimiter(max_retries=3))
    if request is not None:
        builder = builder.request(request)
    else:
        # A few connections suffice within Telegram's ~30 messages/s; a large pool only costs
        # httpcore time scanning it, and waiting for a connection must not time out a reply.
        builder = builder.connection_pool_size(16).pool_timeout(10.0)
    fetcher: InboxRequest | None = None
    if inbox:
        # Every fetched update is written down before it is handled (at-least-once).
        fetcher = InboxRequest(get_updates_request or HTTPXRequest(connection_pool_size=1))
        get_updates_request = fetcher
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    app = builder.build()
    if fetcher is not None:
        fetcher.app = app
    app.bot_data["settings"] = settings
    app.bot_data["engine"] = engine
    # The figure cache lives as long as the engine it caches; read sessions carry it.
    app.bot_data[FIGURE_CACHE] = FigureCache()
    if cluster:
        # The inbox's getUpdates connection means polling: only the poller gets updates.
        attach(app, engine, settings.telegram_bot_token, polling=inbox)
    register_handlers(app)
    return app


def run_polling(settings: Settings, engine: Engine) -> None:
    """``monev run``: long polling until interrupted (logging is set up by the caller).
    On PostgreSQL, one of several processes: it polls while it holds the poller lock and
    stands by otherwise (bot.cluster)."""
    if not is_sqlite(engine):
        from bot.cluster import serve_polling

        app = build_application(settings, engine, inbox=True, cluster=True)
        app.bot_data["serving"] = True
        asyncio.run(serve_polling(app, post_init, post_shutdown))
        return
    app = build_application(settings, engine, inbox=True)
    app.bot_data["serving"] = True
    app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
