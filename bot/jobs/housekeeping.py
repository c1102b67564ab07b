"""Housekeeping in the JobQueue: handled updates leave the update inbox after N days, and
the pages of long answers after 30; on PostgreSQL, stale planner statistics are refreshed
(storage/data/statistics.py)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram.ext import Application, ContextTypes

from bot.cluster import run_alone
from bot.settings import Settings
from storage.data.db import is_sqlite, session_scope
from storage.data.statistics import analyze_stale
from storage.services import answer_pages, inbox

log = logging.getLogger(__name__)

PRUNE_JOB = "bersihkan-inbox"
PRUNE_EVERY = timedelta(hours=6)
STATISTICS_JOB = "statistik-basis-data"
# Soon after a start (a database filled while no bot ran is analysed within a minute), then
# hourly: a look at pg_stat_user_tables costs a millisecond when nothing is stale.
STATISTICS_FIRST = timedelta(minutes=1)
STATISTICS_EVERY = timedelta(hours=1)


def _prune(app: Application) -> int:
    settings: Settings = app.bot_data["settings"]
    with session_scope(app.bot_data["engine"]) as s:
        removed = inbox.prune(s, older_than=timedelta(days=settings.inbox_keep_days))
        answer_pages.prune(s)
        return removed


async def prune_inbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete handled updates older than MONEV_INBOX_KEEP_DAYS from the update inbox."""
    async with run_alone(context.application, "bersihkan-inbox") as mine:
        if not mine:
            return  # another process prunes now
        removed = await asyncio.to_thread(_prune, context.application)
    if removed:
        log.info("update inbox: %d handled updates pruned", removed)


async def refresh_statistics(context: ContextTypes.DEFAULT_TYPE) -> None:
    """ANALYZE the PostgreSQL tables whose planner statistics are missing or stale."""
    async with run_alone(context.application, STATISTICS_JOB) as mine:
        if mine:
            await asyncio.to_thread(analyze_stale, context.application.bot_data["engine"])


def schedule_housekeeping(app: Application) -> None:
    """Call from post_init (once; a second call keeps the jobs already there)."""
    jq = app.job_queue
    if jq is None or jq.get_jobs_by_name(PRUNE_JOB):
        return
    jq.run_repeating(
        prune_inbox,
        interval=PRUNE_EVERY,
        first=timedelta(minutes=5),
        name=PRUNE_JOB,
        job_kwargs={"max_instances": 1, "coalesce": True},
    )
    if not is_sqlite(app.bot_data["engine"]):
        jq.run_repeating(
            refresh_statistics,
            interval=STATISTICS_EVERY,
            first=STATISTICS_FIRST,
            name=STATISTICS_JOB,
            job_kwargs={"max_instances": 1, "coalesce": True},
        )
