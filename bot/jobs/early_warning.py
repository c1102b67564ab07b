"""The weekly early-warning digest (peringatan dini mingguan) and its switch in /pengingat.

Once a week, on the weekday the admin set (``monev peringatan --hari``, default Senin) at
``MONEV_REMINDER_TIME``, every active kepala who has not switched it off, and the group that
office registered with /grupkantor, get the items most at risk of not being absorbed, with the
plan-vs-realisasi chart. Each chat's digest is claimed in ``sent_reminder`` under the ISO week
("ew:2026-W48") before it is sent, so a restart, a second process or a minute job running late
neither repeats nor skips it: a digest not sent on its day (the bot was down) goes out at the
next run of the same week.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, time
from html import escape

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, CallbackContext

from bot.cluster import run_alone
from bot.context import FIGURE_CACHE
from bot.settings import WIB
from bot.views import texts
from bot.views.answers import chart_caption
from bot.views.early_warning import TEXTS, digest_text
from charts.answers import ChartKind, ChartPlan, ChartRequest, plan_chart
from charts.pool import RenderPool
from charts.spec import NoData
from storage.data.db import read_scope, session_scope
from storage.domain.enums import ReminderStatus
from storage.domain.numbers import format_waktu
from storage.domain.policy import Role
from storage.services.cache import FigureCache
from storage.services.early_warning import (
    DigestRecipient,
    claim_digest,
    digest_kind,
    digest_recipients,
    digest_sent_to,
    digest_weekday,
    kabupaten_digest_recipients,
    latest_early_warning,
)
from storage.services.kabupaten import OfficeError, kabupaten_period, kabupaten_risk, office_names
from storage.services.queries import NoYearData, resolve_period
from storage.services.schedule import finish_sent, group_chat_id, mark_blocked

log = logging.getLogger(__name__)

JOB_NAME = "monev-peringatan-dini"
LAST_DIGEST = "digest_last_report"  # bot_data: what the last run did (tests, logs)
CLOCK = "clock"  # bot_data: the same test clock as bot.jobs.reminders.CLOCK
_LOCK = "_digest_lock"
# Who gets a weekly digest: the kepala (their office's), the kabupaten roles (every office's).
DIGEST_ROLES = frozenset({Role.KEPALA, Role.PEMANTAU, Role.ADMIN_KABUPATEN})


@dataclass
class Digest:
    """This week's digest, ready to send: its claim key, text, chart and who still gets it."""

    kind: str
    year: int
    text: str
    chart: ChartPlan | None
    recipients: list[DigestRecipient]


@dataclass
class DigestReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # claimed already by another process or an earlier run


def _now(bot_data: dict) -> datetime:
    clock = bot_data.get(CLOCK)
    return clock() if clock is not None else datetime.now(WIB)


def _reminder_time(bot_data: dict) -> time:
    """MONEV_REMINDER_TIME, the hour every reminder and digest goes out."""
    settings = bot_data.get("settings")
    return getattr(settings, "reminder_time", None) or time(8, 0)


def prepare_digest(
    engine: Engine, cache: FigureCache | None, opd_id: int | None, now: datetime, at: time
) -> list[Digest]:
    """The digests due at ``now`` (none before its day and time, when nobody is left to get
    it this week, or without figures). ``opd_id`` None (several offices): one per office, to
    that office's kepala and, naming the office, to the group."""
    local = now.astimezone(WIB)
    with read_scope(engine) if cache is None else cache.read(engine) as s:
        weekday = digest_weekday(s)
        # Due from the set weekday's reminder time until the week ends (catch-up after downtime).
        if (local.weekday(), local.time()) < (weekday, at):
            return []
        kind, year = digest_kind(local.date())
        if opd_id is not None:
            one = _office_digest(s, opd_id, kind, year, None, several=False)
            return [] if one is None else [one]
        digests = []
        for office in office_names(s):
            # Claims per office: the group gets each office's digest once a week.
            one = _office_digest(
                s,
                office.id,
                f"{kind}:{office.id}",
                year,
                office.singkatan or office.short_label(40),
                several=True,
            )
            if one is not None:
                digests.append(one)
        kab = _kabupaten_digest(s, f"{kind}:kab", year)
        return digests + ([kab] if kab is not None else [])


def _kabupaten_digest(s: Session, kind: str, year: int) -> Digest | None:
    """The kabupaten's weekly digest: every office by rupiah at risk, to the pemantau and
    admin kabupaten (and the kabupaten group), claimed per chat like an office's."""
    from bot.views.kabupaten import kabupaten_risk_reply

    done = digest_sent_to(s, kind, year)
    recipients = kabupaten_digest_recipients(s, group_chat_id(s, opd_id=None))
    recipients = [r for r in recipients if r.chat_id not in done]
    if not recipients:
        return None
    try:
        tahun, tw = kabupaten_period(s, None, None)
    except OfficeError:
        return None
    body = kabupaten_risk_reply(tahun, tw, kabupaten_risk(s, tahun, tw)).text
    head = TEXTS["digest_kab_head"]
    return Digest(kind, year, f"{head}\n{body}\n\n{TEXTS['digest_kab_foot']}", None, recipients)


def _office_digest(
    s: Session, opd_id: int, kind: str, year: int, label: str | None, *, several: bool
) -> Digest | None:
    done = digest_sent_to(s, kind, year)
    # The office's own group (its /grupkantor), never another office's.
    group = group_chat_id(s, opd_id=opd_id)
    recipients = digest_recipients(s, group, opd_id=opd_id if several else None)
    recipients = [r for r in recipients if r.chat_id not in done]
    if not recipients:
        return None
    try:
        period = resolve_period(s, opd_id=opd_id)
    except NoYearData:
        return None
    # A quarter in progress never hides a program: each at its latest reported quarter.
    ew = latest_early_warning(s, opd_id, period.tahun)
    try:
        chart: ChartPlan | None = plan_chart(
            s, opd_id, ChartRequest(ChartKind.RENCANA, ew.tahun, ew.triwulan)
        )
    except NoData:
        chart = None
    text = digest_text(ew)
    if label is not None:
        text = texts.KAB_OFFICE_HEAD.format(office=escape(label)) + text
    return Digest(kind, year, text, chart, recipients)


def _claim(engine: Engine, digest: Digest, to: DigestRecipient) -> int | None:
    with session_scope(engine) as s:
        return claim_digest(s, kind=digest.kind, year=digest.year, to=to)


def _finish(engine: Engine, sent_id: int, status: ReminderStatus, to: DigestRecipient) -> None:
    with session_scope(engine) as s:
        finish_sent(s, sent_id=sent_id, status=status)
        if status == ReminderStatus.DIBLOKIR and to.telegram_id is not None:
            mark_blocked(s, telegram_id=to.telegram_id)


async def send_digest(context: CallbackContext) -> None:
    """JobQueue callback (every minute): send this week's digest where it is due."""
    data = context.bot_data
    engine: Engine | None = data.get("engine")
    if engine is None or "opd_id" not in data:
        return  # not started yet
    opd_id: int | None = data["opd_id"]  # None: several offices
    lock: asyncio.Lock = data.setdefault(_LOCK, asyncio.Lock())
    if lock.locked():
        return
    async with lock, run_alone(context.application, "peringatan-dini") as mine:
        if not mine:
            return  # another process sends this round
        now = _now(data)
        try:
            digests = await asyncio.to_thread(
                prepare_digest, engine, data.get(FIGURE_CACHE), opd_id, now, _reminder_time(data)
            )
        except Exception:
            log.exception("could not prepare the early-warning digest")
            return
        for digest in digests:
            data[LAST_DIGEST] = await _deliver(context, engine, digest, now)


async def _deliver(
    context: CallbackContext, engine: Engine, digest: Digest, now: datetime
) -> DigestReport:
    """Claim, send and record one digest for each of its recipients."""
    data = context.bot_data
    png: bytes | None = None
    if digest.chart is not None:
        pool: RenderPool = data.setdefault("render_pool", RenderPool())
        try:
            png = await pool.draw(digest.chart)
        except Exception:
            # The text carries every figure; a chart that cannot be drawn never holds it up.
            log.exception("early-warning chart could not be drawn")
    report = DigestReport()
    for to in digest.recipients:
        try:
            sent_id = await asyncio.to_thread(_claim, engine, digest, to)
        except Exception:
            log.exception("could not claim the digest for %s", to.chat_id)
            report.failed += 1
            continue
        if sent_id is None:
            report.skipped += 1
            continue
        status = await _send(context, digest, png, to)
        report.sent += status == ReminderStatus.TERKIRIM
        report.failed += status != ReminderStatus.TERKIRIM
        try:
            await asyncio.to_thread(_finish, engine, sent_id, status, to)
        except Exception:
            log.exception("could not record the digest for %s", to.chat_id)
    log.info(
        "early-warning digest %s at %s: %d sent, %d failed, %d skipped",
        digest.kind,
        format_waktu(now.astimezone(WIB)),
        report.sent,
        report.failed,
        report.skipped,
    )
    return report


async def _send(
    context: CallbackContext, digest: Digest, png: bytes | None, to: DigestRecipient
) -> ReminderStatus:
    """The text, then the chart with its figures in the caption; never raises."""
    try:
        await context.bot.send_message(to.chat_id, digest.text)
        if png is not None and digest.chart is not None:
            await context.bot.send_photo(
                to.chat_id,
                png,
                caption=chart_caption(digest.chart),
                filename=digest.chart.filename,
            )
        return ReminderStatus.TERKIRIM
    except Forbidden:
        return ReminderStatus.DIBLOKIR
    except TelegramError as exc:
        log.warning("digest to %s failed: %s", to.chat_id, exc)
        return ReminderStatus.GAGAL
    except Exception:
        log.exception("digest to %s failed unexpectedly", to.chat_id)
        return ReminderStatus.GAGAL


def schedule_digest(app: Application) -> None:
    """Call from post_init: the minute job of the weekly digest."""
    jq = app.job_queue
    if jq is None or jq.get_jobs_by_name(JOB_NAME):
        return
    settings = app.bot_data.get("settings")
    jq.run_repeating(
        send_digest,
        interval=float(getattr(settings, "job_interval_seconds", 60.0)),
        first=5,
        name=JOB_NAME,
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": 60},
    )
