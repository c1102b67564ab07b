"""Housekeeping in the JobQueue: handled updates leave the update inbox after N days, and
the pages of long answers after 30."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram.ext import Application, ContextTypes

from bot.cluster import run_alone
from bot.settings import Settings
from storage.data.db import session_scope
from storage.services import answer_pages, inbox

log = logging.getLogger(__name__)

PRUNE_JOB = "bersihkan-inbox"
PRUNE_EVERY = timedelta(hours=6)


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


def schedule_housekeeping(app: Application) -> None:
    """Call from post_init (once; a second call keeps the job already there)."""
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
