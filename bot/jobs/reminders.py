"""Deadline reminders: the minute job that sends them, and /jadwal, /pengingat, /grupkantor.

What is due is decided by :func:`storage.services.schedule.due_reminders` from the
database alone, so a restart, a second process or a clock jump never sends anything twice:
every message is claimed in ``sent_reminder`` (unique per kind, quarter and chat) before it is sent.

Sending is paced below Telegram's ~30 messages/s with no burst (the fake Bot API and Telegram
both count a sliding second), network errors and 5xx are retried a bounded number of times,
a 403 marks the person as having blocked the bot, and one failure never stops the rest.
"""

from __future__ import annotations

import asyncio
import logging
import time as _time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from html import escape
from typing import Any

from sqlalchemy.engine import Engine
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    TypeHandler,
)

from bot.cluster import run_alone
from bot.context import FIGURE_CACHE, MonevContext
from bot.jobs.early_warning import with_digest
from bot.settings import WIB, wib
from bot.views import texts
from bot.views.reminders import (
    kabupaten_outlook_text,
    outlook_text,
    reminder_button,
    reminder_text,
)
from storage.data.db import read_scope, session_scope
from storage.domain.enums import ReminderStatus
from storage.domain.numbers import ParseError, format_tanggal, format_waktu
from storage.domain.policy import KABUPATEN_ROLES, Role
from storage.services import conversation
from storage.services.cache import FigureCache
from storage.services.conversation import Flow, State
from storage.services.kabupaten import office_names
from storage.services.schedule import (
    DEFAULT_MAX_OVERDUE,
    Audience,
    GroupChange,
    Reminder,
    ScheduleError,
    Window,
    blocked_telegram_ids,
    clear_blocked,
    describe_kabupaten,
    describe_reminders,
    due_reminders,
    finish_sent,
    get_jadwal,
    group_chat_id,
    kabupaten_digest,
    label,
    list_jadwal,
    mark_blocked,
    move_group_chat,
    parse_tanggal,
    record_sent,
    remove_group_chat,
    set_deadline,
    set_group_chat,
    set_muted,
)

log = logging.getLogger(__name__)

JOB_NAME = "monev-pengingat"
# Runs before every other group (identify is -1) and alone in it: it only notices that a
# person who had blocked the bot writes to it again.
UNBLOCK_GROUP = -20

DEFAULT_RATE_PER_S = 28.0  # under Telegram's ~30/s overall, with room for replies to users
DEFAULT_WORKERS = 8  # sends in flight; hides Telegram's round trip behind the pacing
RETRY_DELAYS: tuple[float, ...] = (1.0, 3.0, 9.0)  # network errors and 5xx, then "gagal"
MAX_RETRY_AFTER_S = 60.0

# bot_data keys (tests and benchmarks override the first five)
CLOCK = "clock"
RATE = "reminder_rate_per_s"
WORKERS = "reminder_workers"
DELAYS = "reminder_retry_delays"
MAX_OVERDUE = "reminder_max_overdue"
_LOCK = "_reminder_lock"
_PACER = "_reminder_pacer"
_BLOCKED = "_reminder_blocked_ids"
LAST_REPORT = "reminder_last_report"

JADWAL_PICK, JADWAL_DATE = "pilih", "tanggal"  # steps of the /jadwal flow

TEXTS: dict[str, str] = {
    "not_admin_jadwal": (
        "Maaf, pengaturan jadwal pelaporan hanya dapat dilakukan oleh admin. Untuk melihat "
        "kapan Anda akan diingatkan, ketik /pengingat."
    ),
    "not_registered": (
        "Maaf, Anda belum terdaftar sehingga belum menerima pengingat. Ketik /daftar untuk "
        "meminta akses."
    ),
    "jadwal_head": "<b>Jadwal pelaporan {tahun}</b>",
    "jadwal_row": "• <b>{label}</b>: dibuka {buka}, batas akhir <b>{tenggat}</b> ({asal})",
    "jadwal_default": "bawaan",
    "jadwal_custom": "diubah {waktu}",
    "jadwal_pick": "Pilih triwulan yang batas akhirnya ingin diubah.",
    "jadwal_ask": (
        "Ketik batas akhir baru untuk <b>{label}</b> (saat ini {tenggat}), misalnya "
        "<i>{contoh}</i>, <i>{contoh_angka}</i> atau <i>{contoh_iso}</i>.\n\n"
        "Ketik /batal untuk membatalkan."
    ),
    "jadwal_bad": "{error}\n\nSilakan ketik lagi, atau /batal untuk membatalkan.",
    "jadwal_done": (
        "Batas akhir <b>{label}</b> diubah dari {lama} menjadi <b>{baru}</b>. Pengingat "
        "mengikuti batas akhir yang baru."
    ),
    "jadwal_same": "Batas akhir <b>{label}</b> tetap {baru}; tidak ada yang berubah.",
    "jadwal_past": (
        "\n\nCatatan: tanggal itu sudah lewat, sehingga bidang yang belum melapor langsung "
        "dianggap terlambat."
    ),
    "jadwal_closed": "Pengaturan jadwal ditutup.",
    "jadwal_cancel": "Perubahan jadwal dibatalkan; batas akhir tidak berubah.",
    "mute_on": "Matikan pengingat",
    "mute_off": "Nyalakan pengingat",
    "muted": "Pengingat dimatikan.",
    "unmuted": "Pengingat dinyalakan kembali.",
    "grup_private": (
        "Perintah ini dipakai di grup kantor: tambahkan bot ke grup tersebut, lalu admin "
        "mengirim /grupkantor di grup itu. Grup akan menerima pengumuman pada hari batas "
        "akhir pelaporan (H) dan pada hari kerja sesudahnya (H+1).\n\n{status}"
    ),
    "grup_status_set": "Saat ini sudah ada grup kantor yang terdaftar untuk kantor Anda.",
    "grup_status_none": "Saat ini belum ada grup kantor yang terdaftar untuk kantor Anda.",
    "grup_not_admin": "Maaf, hanya admin monev-bot yang dapat mendaftarkan grup kantor.",
    "grup_done": (
        "Grup ini terdaftar sebagai grup kantor perangkat daerah Anda. Pengumuman batas akhir "
        "pelaporan (hari H dan H+1) dan peringatan dini mingguan kantor ini akan dikirim ke "
        "sini. Untuk berhenti, admin dapat mengirim /grupkantor hapus."
    ),
    "grup_done_kab": (
        "Grup ini terdaftar sebagai grup kabupaten: rekap OPD yang belum lapor (untuk "
        "pemantau) akan dikirim ke sini. Untuk berhenti, kirim /grupkantor hapus."
    ),
    "grup_same": "Grup ini sudah terdaftar sebagai grup kantor Anda; tidak ada yang diubah.",
    "grup_taken": (
        "Grup ini sudah terdaftar sebagai grup kantor perangkat daerah lain (satu grup hanya "
        "untuk satu kantor); tidak ada yang diubah. Daftarkan grup lain untuk kantor Anda."
    ),
    "grup_removed": "Grup ini tidak lagi menerima pengumuman pelaporan.",
    "grup_not_this": "Grup ini bukan grup kantor Anda yang terdaftar; tidak ada yang diubah.",
    "btn_done": "Selesai",
    "btn_cancel": "Batal",
}


# --- sending ----------------------------------------------------------------------------------


class Pacer:
    """Spaces sends evenly at ``rate`` per second, with no burst.

    PTB's AIORateLimiter is a leaky bucket that lets 30 go at once and then 30/s, i.e. up to
    ~60 in the first second; Telegram (and bot/offline/http.py) count a sliding second,
    so a big batch of reminders would meet 429s. Even spacing never does.
    """

    def __init__(self, rate_per_s: float | None) -> None:
        self.interval = 1.0 / rate_per_s if rate_per_s else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = _time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


@dataclass
class DeliveryReport:
    """What one run did; kept in bot_data for tests and logs."""

    due: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    skipped: int = 0  # claimed already (another process, or an earlier run)
    retries: int = 0
    seconds: float = 0.0


def _markup(r: Reminder) -> InlineKeyboardMarkup | None:
    button = reminder_button(r)
    if button is None:
        return None
    text, data = button
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data)]])


def _retry_after_s(exc: RetryAfter) -> float:
    # PTB 22 warns on .retry_after unless PTB_TIMEDELTA is set; it may be int or timedelta.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _claim(engine: Engine, r: Reminder) -> int | None:
    with session_scope(engine) as s:
        return record_sent(s, reminder=r)


def _finish(engine: Engine, sent_id: int, status: ReminderStatus, r: Reminder) -> None:
    with session_scope(engine) as s:
        finish_sent(s, sent_id=sent_id, status=status)
        if status == ReminderStatus.DIBLOKIR and r.telegram_id is not None:
            mark_blocked(s, telegram_id=r.telegram_id)


def _move_group(engine: Engine, old: int, new: int) -> None:
    with session_scope(engine) as s:
        move_group_chat(s, old=old, new=new, actor="telegram:migrasi-grup")


async def _send_one(
    bot: Bot,
    engine: Engine,
    r: Reminder,
    pacer: Pacer,
    delays: Sequence[float],
    report: DeliveryReport,
) -> ReminderStatus:
    """Send with bounded retries; returns the outcome (never raises)."""
    chat_id, attempt = r.chat_id, 0
    text, markup = reminder_text(r), _markup(r)
    while True:
        await pacer.wait()
        try:
            await bot.send_message(chat_id, text, reply_markup=markup)
            return ReminderStatus.TERKIRIM
        except Forbidden:
            return ReminderStatus.DIBLOKIR
        except ChatMigrated as exc:
            # A group that became a supergroup: follow it once, and remember the new id.
            if r.audience != Audience.GRUP or chat_id != r.chat_id:
                return ReminderStatus.GAGAL
            chat_id = int(exc.new_chat_id)
            await asyncio.to_thread(_move_group, engine, r.chat_id, chat_id)
            continue
        except RetryAfter as exc:
            wait = _retry_after_s(exc)
        except BadRequest as exc:
            log.warning("reminder %s to %s refused: %s", r.kind, chat_id, exc)
            return ReminderStatus.GAGAL
        except NetworkError as exc:  # timeouts, connection errors, 5xx
            wait = delays[attempt] if attempt < len(delays) else 0.0
            log.info("reminder %s to %s: %s, retrying", r.kind, chat_id, exc)
        except TelegramError as exc:
            log.warning("reminder %s to %s failed: %s", r.kind, chat_id, exc)
            return ReminderStatus.GAGAL
        except Exception:
            log.exception("reminder %s to %s failed unexpectedly", r.kind, chat_id)
            return ReminderStatus.GAGAL
        if attempt >= len(delays):
            return ReminderStatus.GAGAL
        attempt += 1
        report.retries += 1
        await asyncio.sleep(wait)


async def deliver(
    bot: Bot,
    engine: Engine,
    reminders: Sequence[Reminder],
    *,
    pacer: Pacer | None = None,
    workers: int = DEFAULT_WORKERS,
    retry_delays: Sequence[float] = RETRY_DELAYS,
    on_blocked: Callable[[int], None] | None = None,
) -> DeliveryReport:
    """Claim, send and record every reminder; one failure never stops the others."""
    report = DeliveryReport(due=len(reminders))
    pacer = pacer or Pacer(DEFAULT_RATE_PER_S)
    queue: asyncio.Queue[Reminder] = asyncio.Queue()
    for r in reminders:
        queue.put_nowait(r)
    started = _time.perf_counter()

    async def worker() -> None:
        while True:
            try:
                r = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                sent_id = await asyncio.to_thread(_claim, engine, r)
            except Exception:
                # No claim, no send: at-most-once holds even when the database is down.
                log.exception("could not claim reminder %s for %s", r.kind, r.chat_id)
                report.failed += 1
                continue
            if sent_id is None:
                report.skipped += 1
                continue
            status = await _send_one(bot, engine, r, pacer, retry_delays, report)
            if status == ReminderStatus.TERKIRIM:
                report.sent += 1
            elif status == ReminderStatus.DIBLOKIR:
                report.blocked += 1
                if on_blocked is not None and r.telegram_id is not None:
                    on_blocked(r.telegram_id)
            else:
                report.failed += 1
            try:
                await asyncio.to_thread(_finish, engine, sent_id, status, r)
            except Exception:
                log.exception("could not record reminder %s for %s", r.kind, r.chat_id)

    await asyncio.gather(*(worker() for _ in range(max(1, min(workers, len(reminders) or 1)))))
    report.seconds = _time.perf_counter() - started
    return report


def job_interval(app: Application) -> float:
    """Seconds between runs of the minute jobs (MONEV_JOB_INTERVAL_SECONDS, default 60)."""
    settings = app.bot_data.get("settings")
    return float(getattr(settings, "job_interval_seconds", 60.0))


def _now(bot_data: dict) -> datetime:
    clock: Callable[[], datetime] = bot_data.get(CLOCK, lambda: datetime.now(WIB))
    return clock()


def _reminder_time(bot_data: dict) -> time:
    settings = bot_data.get("settings")
    return getattr(settings, "reminder_time", None) or time(8, 0)


def _due(
    engine: Engine,
    cache: FigureCache | None,
    opd_id: int | None,
    now: datetime,
    at: time,
    max_overdue: int,
) -> tuple[list[Reminder], set[int]]:
    """The office's reminders; ``opd_id`` None (a kabupaten): every office's, each against
    its own deadline, and the pemantau digest."""
    with read_scope(engine) if cache is None else cache.read(engine) as s:
        if opd_id is not None:
            due = due_reminders(
                s, opd_id=opd_id, now=now, reminder_time=at, max_overdue=max_overdue
            )
        else:
            due = []
            for o in office_names(s):
                due += due_reminders(
                    s,
                    opd_id=o.id,
                    now=now,
                    reminder_time=at,
                    max_overdue=max_overdue,
                    office=o.label,
                )
            due += kabupaten_digest(s, now=now, reminder_time=at, max_overdue=max_overdue)
        return due, blocked_telegram_ids(s)


async def send_due(context: CallbackContext) -> None:
    """JobQueue callback (every minute): send whatever reminders are due now."""
    data = context.bot_data
    engine: Engine | None = data.get("engine")
    if engine is None or "opd_id" not in data:
        return  # not started yet
    opd_id: int | None = data["opd_id"]  # None: several offices
    lock: asyncio.Lock = data.setdefault(_LOCK, asyncio.Lock())
    if lock.locked():
        return  # the previous run is still sending; the database would skip its claims anyway
    async with lock, run_alone(context.application, "pengingat") as mine:
        if not mine:
            return  # another process is sending this round; the next run resumes it if it dies
        now = _now(data)
        try:
            reminders, blocked = await asyncio.to_thread(
                _due,
                engine,
                data.get(FIGURE_CACHE),
                opd_id,
                now,
                _reminder_time(data),
                int(data.get(MAX_OVERDUE, DEFAULT_MAX_OVERDUE)),
            )
        except Exception:
            log.exception("could not compute due reminders")
            return
        data[_BLOCKED] = blocked
        if not reminders:
            return
        rate = data.get(RATE, DEFAULT_RATE_PER_S)
        pacer = data.get(_PACER)
        if pacer is None or pacer.interval != (1.0 / rate if rate else 0.0):
            pacer = data[_PACER] = Pacer(rate)
        report = await deliver(
            context.bot,
            engine,
            reminders,
            pacer=pacer,
            workers=int(data.get(WORKERS, DEFAULT_WORKERS)),
            retry_delays=tuple(data.get(DELAYS, RETRY_DELAYS)),
            on_blocked=blocked.add,
        )
        data[LAST_REPORT] = report
        log.info(
            "reminders at %s: %d due, %d sent, %d failed, %d blocked, %d skipped in %.1fs",
            format_waktu(now.astimezone(WIB)),
            report.due,
            report.sent,
            report.failed,
            report.blocked,
            report.skipped,
            report.seconds,
        )


def schedule_jobs(app: Application) -> None:
    """Call from post_init: the minute job (its first run, right away, sends catch-ups)."""
    jq = app.job_queue
    if jq is None:
        log.warning("no JobQueue (install python-telegram-bot[job-queue]): reminders are off")
        return
    if jq.get_jobs_by_name(JOB_NAME):
        return
    jq.run_repeating(
        send_due,
        interval=job_interval(app),
        first=0,
        name=JOB_NAME,
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": 60},
    )
    if not app.running:
        # post_init runs before the scheduler starts, and APScheduler then moves an interval
        # job's already-past first run a whole interval ahead. A one-off job whose time has
        # passed does run when the scheduler starts, so the start-up catch-up is not delayed.
        jq.run_once(
            send_due,
            when=0,
            name=f"{JOB_NAME}-mulai",
            job_kwargs={"misfire_grace_time": 600},
        )


# --- handlers ---------------------------------------------------------------------------------


async def unblock_on_contact(update: Update, context: MonevContext) -> None:
    """A person who had blocked the bot writes to it privately: they can be reminded again."""
    user, chat = update.effective_user, update.effective_chat
    blocked: set[int] | None = context.bot_data.get(_BLOCKED)
    if user is None or chat is None or chat.type != ChatType.PRIVATE or not blocked:
        return
    if user.id in blocked:
        blocked.discard(user.id)
        await context.write(lambda s: clear_blocked(s, telegram_id=user.id))


def _is_admin(context: MonevContext) -> bool:
    return context.actor is not None and context.actor.has(Role.ADMIN)


def _jadwal_windows(session: Any, opd_id: int, today: Any, tahun: int | None) -> list[Window]:
    if tahun is not None:
        return list_jadwal(session, opd_id=opd_id, tahun=tahun)
    out = list_jadwal(session, opd_id=opd_id, tahun=today.year)
    last_tw4 = get_jadwal(session, opd_id=opd_id, tahun=today.year - 1, tw=4)
    if last_tw4.tenggat >= today - timedelta(days=30):
        out.insert(0, last_tw4)  # January: last year's TW IV is the one being reported
    return out


def _jadwal_view(windows: list[Window], tahun_label: str) -> tuple[str, InlineKeyboardMarkup]:
    lines = [TEXTS["jadwal_head"].format(tahun=tahun_label), ""]
    for w in windows:
        asal = (
            TEXTS["jadwal_custom"].format(waktu=format_waktu(wib(w.updated_at)))
            if w.custom and w.updated_at
            else TEXTS["jadwal_default"]
        )
        lines.append(
            TEXTS["jadwal_row"].format(
                label=w.label,
                buka=format_tanggal(w.buka),
                tenggat=format_tanggal(w.tenggat),
                asal=asal,
            )
        )
    lines += ["", TEXTS["jadwal_pick"]]
    buttons = [
        InlineKeyboardButton(w.label, callback_data=f"jadwal:ubah:{w.tahun}:{w.triwulan}")
        for w in windows
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton(TEXTS["btn_done"], callback_data="jadwal:selesai")])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def _jadwal_chat(update: Update) -> int | None:
    return update.effective_chat.id if update.effective_chat is not None else None


async def jadwal(update: Update, context: MonevContext) -> None:
    """/jadwal [tahun]: admins see the deadlines of a year and pick one to change."""
    message = update.effective_message
    assert message is not None
    if not _is_admin(context):
        await message.reply_text(TEXTS["not_admin_jadwal"])
        return
    today = _now(context.bot_data).astimezone(WIB).date()
    args = context.args or []
    tahun = int(args[0]) if args and args[0].isdecimal() and 2000 <= int(args[0]) <= 2100 else None
    windows = await context.read(_jadwal_windows, context.opd_id, today, tahun)
    years = sorted({w.tahun for w in windows})
    text, markup = _jadwal_view(windows, " dan ".join(str(y) for y in years))
    # Showing the deadlines opens the flow, so that /batal answers for it.
    await context.write(
        conversation.start,
        telegram_id=context.actor.telegram_id,  # type: ignore[union-attr]
        flow=Flow.JADWAL,
        step=JADWAL_PICK,
        payload={"chat_id": _jadwal_chat(update)},
    )
    await message.reply_text(text, reply_markup=markup)


async def jadwal_pick(update: Update, context: MonevContext) -> None:
    """A quarter was picked (on the latest /jadwal message or an older one): ask for the new
    deadline."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    if not _is_admin(context):
        await query.edit_message_text(TEXTS["not_admin_jadwal"])
        return
    _, _, tahun_s, tw_s = query.data.split(":")
    tahun, tw = int(tahun_s), int(tw_s)
    w = await context.read(lambda s: get_jadwal(s, opd_id=context.opd_id, tahun=tahun, tw=tw))
    await context.write(
        conversation.start,
        telegram_id=context.actor.telegram_id,  # type: ignore[union-attr]
        flow=Flow.JADWAL,
        step=JADWAL_DATE,
        payload={"tahun": tahun, "triwulan": tw, "chat_id": _jadwal_chat(update)},
    )
    contoh = w.tenggat
    await query.edit_message_text(
        TEXTS["jadwal_ask"].format(
            label=w.label,
            tenggat=format_tanggal(w.tenggat),
            contoh=format_tanggal(contoh),
            contoh_angka=f"{contoh.day}/{contoh.month}/{contoh.year}",
            contoh_iso=contoh.isoformat(),
        ),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(TEXTS["btn_cancel"], callback_data="jadwal:batal")]]
        ),
    )


def jadwal_takes_text(state: State, update: Update) -> bool:
    """Whether typed text is the date the /jadwal flow waits for: only at that step and in
    the chat where the quarter was picked (elsewhere it is a question, as before)."""
    return (
        state.flow == Flow.JADWAL
        and state.step == JADWAL_DATE
        and state.payload.get("chat_id") == _jadwal_chat(update)
    )


async def jadwal_date(update: Update, context: MonevContext, state: State) -> None:
    """The new deadline, as typed."""
    message = update.effective_message
    assert message is not None and message.text is not None
    tahun, tw = state.payload.get("tahun"), state.payload.get("triwulan")
    if not _is_admin(context) or not isinstance(tahun, int) or not isinstance(tw, int):
        await context.write(conversation.clear, telegram_id=state.telegram_id, flow=Flow.JADWAL)
        await message.reply_text(TEXTS["not_admin_jadwal"])
        return
    try:
        tenggat = parse_tanggal(message.text)
    except ParseError as exc:
        await message.reply_text(TEXTS["jadwal_bad"].format(error=escape(exc.user_message)))
        return
    actor = f"user:{context.actor.telegram_id}"  # type: ignore[union-attr]

    def change(session: Any) -> tuple[Window, Window]:
        old = get_jadwal(session, opd_id=context.opd_id, tahun=tahun, tw=tw)
        new = set_deadline(
            session, opd_id=context.opd_id, tahun=tahun, tw=tw, tenggat=tenggat, actor=actor
        )
        # The new deadline and the end of the flow commit together.
        conversation.clear(session, telegram_id=state.telegram_id, flow=Flow.JADWAL)
        return old, new

    try:
        old, new = await context.write(change)
    except ScheduleError as exc:
        await message.reply_text(TEXTS["jadwal_bad"].format(error=escape(exc.user_message)))
        return
    key = "jadwal_same" if old.tenggat == new.tenggat else "jadwal_done"
    text = TEXTS[key].format(
        label=label(tahun, tw), lama=format_tanggal(old.tenggat), baru=format_tanggal(new.tenggat)
    )
    if new.tenggat < _now(context.bot_data).astimezone(WIB).date():
        text += TEXTS["jadwal_past"]
    await message.reply_text(text)


async def jadwal_close(update: Update, context: MonevContext) -> None:
    """Close the deadline view, or cancel a change in progress (its buttons)."""
    query = update.callback_query
    assert query is not None
    if update.effective_user is not None:
        await context.write(
            conversation.clear, telegram_id=update.effective_user.id, flow=Flow.JADWAL
        )
    await query.answer()
    key = "jadwal_cancel" if query.data == "jadwal:batal" else "jadwal_closed"
    await query.edit_message_text(TEXTS[key])


def _pengingat_view(
    text: str, muted: bool, role: Role | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    if role == Role.ADMIN:
        return text, None  # admins receive no personal reminders: nothing to mute
    button = (
        InlineKeyboardButton(TEXTS["mute_off"], callback_data="pengingat:nyala")
        if muted
        else InlineKeyboardButton(TEXTS["mute_on"], callback_data="pengingat:mati")
    )
    return text, InlineKeyboardMarkup([[button]])


def _describe(session: Any, context: MonevContext, telegram_id: int) -> tuple[str, bool]:
    outlook = describe_reminders(
        session,
        opd_id=context.opd_id,
        telegram_id=telegram_id,
        now=_now(context.bot_data),
        reminder_time=_reminder_time(context.bot_data),
        max_overdue=int(context.bot_data.get(MAX_OVERDUE, DEFAULT_MAX_OVERDUE)),
    )
    return outlook_text(outlook), outlook.muted


async def _with_digest(
    context: MonevContext, text: str, markup: InlineKeyboardMarkup | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    # The kepala's weekly early-warning digest has its line and switch here too.
    return await with_digest(context, text, markup)


def _describe_kabupaten(session: Any, context: MonevContext, telegram_id: int) -> tuple[str, bool]:
    outlook = describe_kabupaten(
        session,
        telegram_id=telegram_id,
        today=_now(context.bot_data).date(),
        max_overdue=int(context.bot_data.get(MAX_OVERDUE, DEFAULT_MAX_OVERDUE)),
    )
    actor = context.actor
    assert actor is not None and actor.role is not None
    jam = _reminder_time(context.bot_data).strftime("%H.%M")
    role = texts.ROLE_NAMES[actor.role]
    return kabupaten_outlook_text(outlook, role=role, jam=jam), outlook.muted


async def _outlook(context: MonevContext, telegram_id: int) -> tuple[str, bool]:
    """What the sender is reminded of: a kabupaten role's (several offices), else their
    office's."""
    actor = context.actor
    if (
        actor is not None
        and actor.role in KABUPATEN_ROLES
        and context.bot_data.get("opd_id") is None
    ):
        return await context.read(_describe_kabupaten, context, telegram_id)
    return await context.read(_describe, context, telegram_id)


async def pengingat(update: Update, context: MonevContext) -> None:
    """/pengingat: what I will be reminded of, with a mute/unmute button."""
    message = update.effective_message
    assert message is not None
    actor = context.actor
    if actor is None or not actor.active:
        await message.reply_text(TEXTS["not_registered"])
        return
    text, muted = await _outlook(context, actor.telegram_id)
    text, markup = _pengingat_view(text, muted, actor.role)
    text, markup = await _with_digest(context, text, markup)
    await message.reply_text(text, reply_markup=markup)


async def pengingat_toggle(update: Update, context: MonevContext) -> None:
    """Mute or unmute my reminders."""
    query = update.callback_query
    assert query is not None
    actor = context.actor
    if actor is None or not actor.active:
        await query.answer()
        await query.edit_message_text(TEXTS["not_registered"])
        return
    mute = query.data == "pengingat:mati"
    await context.write(lambda s: set_muted(s, telegram_id=actor.telegram_id, muted=mute))
    await query.answer(TEXTS["muted" if mute else "unmuted"])
    text, muted = await _outlook(context, actor.telegram_id)
    text, markup = _pengingat_view(text, muted, actor.role)
    text, markup = await _with_digest(context, text, markup)
    await query.edit_message_text(text, reply_markup=markup)


def _group_office(context: MonevContext) -> int | None:
    """Whose group the sender manages and is told about: their own office's, or the
    kabupaten's (None) for the kabupaten roles."""
    actor = context.actor
    if actor is not None and actor.role in KABUPATEN_ROLES:
        return None
    return context.opd_id


async def grupkantor(update: Update, context: MonevContext) -> None:
    """/grupkantor in a group (admins): that group gets their office's H and H+1 notices and
    weekly digest (the admin kabupaten's: the kabupaten's notices for the pemantau)."""
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    actor = context.actor
    if chat.type == ChatType.PRIVATE:
        if actor is None or not actor.active:
            await message.reply_text(TEXTS["not_registered"])
            return
        office = _group_office(context)
        registered = await context.read(lambda s: group_chat_id(s, opd_id=office))
        status = TEXTS["grup_status_set" if registered is not None else "grup_status_none"]
        await message.reply_text(TEXTS["grup_private"].format(status=status))
        return
    if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return
    if actor is None or not actor.has(Role.ADMIN, Role.ADMIN_KABUPATEN):
        await message.reply_text(TEXTS["grup_not_admin"])
        return
    office = _group_office(context)
    who = f"user:{actor.telegram_id}"
    if context.args and context.args[0].lower() in {"hapus", "berhenti", "stop"}:
        change = await context.write(remove_group_chat, opd_id=office, chat_id=chat.id, actor=who)
    else:
        change = await context.write(set_group_chat, opd_id=office, chat_id=chat.id, actor=who)
    key = {
        GroupChange.SET: "grup_done" if office is not None else "grup_done_kab",
        GroupChange.SAME: "grup_same",
        GroupChange.TAKEN: "grup_taken",
        GroupChange.REMOVED: "grup_removed",
        GroupChange.NOT_THIS: "grup_not_this",
    }[change]
    await message.reply_text(TEXTS[key])


def register_reminder_handlers(app: Application) -> None:
    """/jadwal, /pengingat, /grupkantor and their buttons. Register before the free-text and
    catch-all handlers of group 0. The typed date of /jadwal reaches :func:`jadwal_date`
    through the application's one text router (bot/handlers/routing.py)."""
    app.add_handler(TypeHandler(Update, unblock_on_contact), group=UNBLOCK_GROUP)
    app.add_handler(CommandHandler("jadwal", jadwal))
    # The buttons work whether or not the flow is still open (an older /jadwal message).
    app.add_handler(CallbackQueryHandler(jadwal_pick, pattern=r"^jadwal:ubah:\d{4}:[1-4]$"))
    app.add_handler(CallbackQueryHandler(jadwal_close, pattern=r"^jadwal:(selesai|batal)$"))
    app.add_handler(CommandHandler("pengingat", pengingat))
    app.add_handler(CommandHandler("grupkantor", grupkantor))
    app.add_handler(CallbackQueryHandler(pengingat_toggle, pattern=r"^pengingat:(mati|nyala)$"))


__all__ = [
    "TEXTS",
    "DeliveryReport",
    "Pacer",
    "deliver",
    "register_reminder_handlers",
    "schedule_jobs",
    "send_due",
]
