"""Deadline reminders: the minute job that sends them (/jadwal, /pengingat and /grupkantor are
in ``bot.handlers.reminders``).

What is due is decided by :func:`storage.services.schedule.due_reminders` from the
database alone, so a restart, a second process or a clock jump never sends anything twice:
every message is claimed in ``sent_reminder`` (unique per kind, quarter and chat) before it is sent.
A round writes its plan first (:mod:`storage.services.reminder_plan`): a process taking over a
round whose sender died sends the plan's unclaimed rest at once, without working out again
what is due in every office; a process that finds the round taken looks again every
:data:`TAKEOVER_S` seconds until it is over. Each message is claimed only once its slot of the
sending budget has come, just before it is sent, so a sender dying leaves in doubt only what it
really had in flight (claimed, maybe sent: never sent again).

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
from typing import Any

from sqlalchemy.engine import Engine
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
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
)

from bot.cluster import SharedRateLimiter, run_alone
from bot.context import FIGURE_CACHE
from bot.settings import WIB
from bot.views.reminders import (
    reminder_button,
    reminder_text,
)
from storage.data.db import read_scope, session_scope
from storage.domain.enums import ReminderStatus
from storage.domain.numbers import format_waktu
from storage.services import reminder_plan
from storage.services.cache import FigureCache
from storage.services.kabupaten import office_names
from storage.services.reminder_plan import Planned
from storage.services.schedule import (
    DEFAULT_MAX_OVERDUE,
    Audience,
    Reminder,
    blocked_telegram_ids,
    due_reminders,
    finish_sent,
    kabupaten_digest,
    mark_blocked,
    move_group_chat,
)

log = logging.getLogger(__name__)

JOB_NAME = "monev-pengingat"
TAKEOVER_JOB = "monev-pengingat-ambil-alih"
TAKEOVER_S = 2.0  # how often a process looks whether a round another one holds is over

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
BLOCKED = "_reminder_blocked_ids"
LAST_REPORT = "reminder_last_report"


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


def _markup(r: Planned) -> InlineKeyboardMarkup | None:
    if r.button is None:
        return None
    text, data = r.button
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data)]])


def _retry_after_s(exc: RetryAfter) -> float:
    # PTB 22 warns on .retry_after unless PTB_TIMEDELTA is set; it may be int or timedelta.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def _claim(engine: Engine, r: Planned) -> int | None:
    with session_scope(engine) as s:
        return reminder_plan.claim(s, planned=r)


def _finish(engine: Engine, sent_id: int, status: ReminderStatus, r: Planned) -> None:
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
    r: Planned,
    pacer: Pacer,
    delays: Sequence[float],
    report: DeliveryReport,
) -> ReminderStatus:
    """Send with bounded retries; returns the outcome (never raises). The first attempt's
    slot was waited for before the claim (:func:`deliver`)."""
    chat_id, attempt = r.chat_id, 0
    text, markup = r.text, _markup(r)
    while True:
        if attempt:
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
    reminders: Sequence[Planned],
    *,
    pacer: Pacer | None = None,
    workers: int = DEFAULT_WORKERS,
    retry_delays: Sequence[float] = RETRY_DELAYS,
    on_blocked: Callable[[int], None] | None = None,
) -> DeliveryReport:
    """Claim, send and record every planned reminder; one failure never stops the others.

    Each one waits for its slot first (this process's pacing and, in a cluster, the budget
    every process shares), then is claimed, then sent: at any moment only the messages whose
    slot has come are claimed and not yet answered."""
    report = DeliveryReport(due=len(reminders))
    pacer = pacer or Pacer(DEFAULT_RATE_PER_S)
    budget = getattr(bot, "rate_limiter", None)
    shared = budget if isinstance(budget, SharedRateLimiter) else None
    queue: asyncio.Queue[Planned] = asyncio.Queue()
    for r in reminders:
        queue.put_nowait(r)
    started = _time.perf_counter()

    async def worker() -> None:
        while True:
            try:
                r = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await pacer.wait()
            try:
                if shared is not None:
                    await shared.reserve(r.chat_id)
                sent_id = await asyncio.to_thread(_claim, engine, r)
            except Exception:
                # No claim, no send: at-most-once holds even when the database is down.
                log.exception("could not claim reminder %s for %s", r.kind, r.chat_id)
                report.failed += 1
                SharedRateLimiter.unreserve()
                continue
            if sent_id is None:
                report.skipped += 1
                SharedRateLimiter.unreserve()
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


def clock_now(bot_data: dict) -> datetime:
    clock: Callable[[], datetime] = bot_data.get(CLOCK, lambda: datetime.now(WIB))
    return clock()


def reminder_time(bot_data: dict) -> time:
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


def _rest(engine: Engine, now: datetime) -> tuple[list[Planned], set[int]]:
    """What an earlier round planned and nobody claimed (its sender died), and who blocked
    the bot."""
    with session_scope(engine) as s:
        return reminder_plan.rest(s, now=now), blocked_telegram_ids(s)


def _plan(engine: Engine, reminders: Sequence[Reminder], now: datetime) -> list[Planned]:
    """Write the round's plan, every message rendered as it will be sent; good until the end
    of the day (WIB), after which what is due is worked out afresh."""
    day_end = datetime.combine(now.astimezone(WIB).date() + timedelta(days=1), time(0), WIB)
    rendered = [(r, reminder_text(r), reminder_button(r)) for r in reminders]
    with session_scope(engine) as s:
        reminder_plan.plan(s, rendered=rendered, expires_at=day_end)
        return reminder_plan.rest(s, now=now)


async def _send(
    context: CallbackContext, planned: list[Planned], blocked: set[int], now: datetime
) -> DeliveryReport:
    data = context.bot_data
    data[BLOCKED] = blocked
    rate = data.get(RATE, DEFAULT_RATE_PER_S)
    pacer = data.get(_PACER)
    if pacer is None or pacer.interval != (1.0 / rate if rate else 0.0):
        pacer = data[_PACER] = Pacer(rate)
    report = await deliver(
        context.bot,
        data["engine"],
        planned,
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
    return report


async def send_due(context: CallbackContext) -> None:
    """JobQueue callback (every minute): send whatever reminders are due now; first the rest
    of a round whose sender died, if there is one."""
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
            # Another process is sending this round: look again shortly, to take over its
            # rest within seconds if it dies (not at the next minute's run).
            _watch_takeover(context.application)
            return
        now = clock_now(data)
        if await _send_rest(context, engine, now, "melanjutkan") is not False:
            return  # the interrupted round's rest was sent, or its plan could not be read
        try:
            reminders, blocked = await asyncio.to_thread(
                _due,
                engine,
                data.get(FIGURE_CACHE),
                opd_id,
                now,
                reminder_time(data),
                int(data.get(MAX_OVERDUE, DEFAULT_MAX_OVERDUE)),
            )
            if not reminders:
                data[BLOCKED] = blocked
                return
            planned = await asyncio.to_thread(_plan, engine, reminders, now)
        except Exception:
            log.exception("could not compute due reminders")
            return
        await _send(context, planned, blocked, now)


def _watch_takeover(app: Application) -> None:
    jq = app.job_queue
    if jq is not None and not jq.get_jobs_by_name(TAKEOVER_JOB):
        jq.run_once(_takeover, when=TAKEOVER_S, name=TAKEOVER_JOB)


async def _takeover(context: CallbackContext) -> None:
    """While another process holds the round: once it is free, send what its plan still
    holds (the sender died), or, if nothing, stop looking."""
    data = context.bot_data
    engine: Engine | None = data.get("engine")
    lock: asyncio.Lock = data.setdefault(_LOCK, asyncio.Lock())
    if engine is None or lock.locked():
        return  # this process is sending a round itself
    async with lock, run_alone(context.application, "pengingat") as mine:
        if not mine:
            jq = context.application.job_queue
            if jq is not None:
                jq.run_once(_takeover, when=TAKEOVER_S, name=TAKEOVER_JOB)
            return
        await _send_rest(context, engine, clock_now(data), "mengambil alih")


async def _send_rest(
    context: CallbackContext, engine: Engine, now: datetime, verb: str
) -> bool | None:
    """Send what the round's plan still holds (an interrupted round, here or in a dead
    process); True when there was some, False when none, None when the plan could not be
    read (logged; the next run tries again)."""
    try:
        rest, blocked = await asyncio.to_thread(_rest, engine, now)
    except Exception:
        log.exception("could not read the reminder round's plan")
        return None
    if not rest:
        return False
    log.warning("pengingat: %s putaran yang terputus, %d pesan tersisa", verb, len(rest))
    await _send(context, rest, blocked, now)
    return True


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


__all__ = [
    "DeliveryReport",
    "Pacer",
    "deliver",
    "schedule_jobs",
    "send_due",
]
