"""Helpers the question, chart and /lapor handlers share.

They live apart from the handlers so that questions (which sends charts) and charts (which waits
for questions) can import them without importing each other.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from telegram.ext import filters

from bot.context import MonevContext
from bot.views import pages as page_views
from bot.views.answers import Keyboard, Reply
from storage.services import answer_pages
from storage.services.answer_pages import Paged

# Typed text that is not a command: each is one turn (``bot.handlers.routing.on_text``), which
# identifies its sender itself, so ``common.identify`` leaves exactly these updates alone.
TEXT = filters.TEXT & ~filters.COMMAND


@contextmanager
def quick_work(context: MonevContext) -> Iterator[None]:
    """Mark a question being answered, so that slow work (charts) lets it go first."""
    counter = context.bot_data.setdefault("quick_in_flight", [0])
    counter[0] += 1
    try:
        yield
    finally:
        counter[0] -= 1


async def after_quick_work(context: MonevContext, *, limit: float = 0.25) -> None:
    """Wait (briefly) until no question is being answered: a chart can spare a few ms."""
    counter = context.bot_data.setdefault("quick_in_flight", [0])
    waited = 0.0
    while counter[0] > 0 and waited < limit:
        await asyncio.sleep(0.002)
        waited += 0.002


# A keyboard entry whose data is this prefix and a URL opens that page as a Mini App.
WEBAPP = "webapp:"


def _button(label: str, data: str) -> InlineKeyboardButton:
    if data.startswith(WEBAPP):
        return InlineKeyboardButton(label, web_app=WebAppInfo(data[len(WEBAPP) :]))
    return InlineKeyboardButton(label, callback_data=data)


def markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup([[_button(label, data) for label, data in row] for row in keyboard])


def webapp_row(context: MonevContext, label: str, page: str) -> Keyboard:
    """A row with one button opening ``page`` of the Mini App; none when MONEV_WEBAPP_URL is
    not set (then nothing about the Mini App shows)."""
    base = context.bot_data["settings"].webapp_url
    return [[(label, f"{WEBAPP}{base}/{page}")]] if base else []


# --- one phone screen per answer: the pages of a long answer, kept for its "Selengkapnya" ------

PAGE_PREFIX = "pg:"


def page_keyboard(token: str, i: int, paged: Paged) -> Keyboard:
    total = len(paged.pages)
    nav: list[tuple[str, str]] = []
    if i > 0:
        nav.append((page_views.BACK, f"{PAGE_PREFIX}{token}:{i - 1}"))
    if i + 1 < total:
        nav.append((page_views.MORE.format(n=i + 2, total=total), f"{PAGE_PREFIX}{token}:{i + 1}"))
    return ([nav] if nav else []) + paged.keyboard


@asynccontextmanager
async def first_page(context: MonevContext, reply: Reply) -> AsyncIterator[tuple[str, Keyboard]]:
    """The first screen of ``reply`` and its buttons, to send inside the block; the later
    pages are kept (in the database: any process may take the press) for the person's
    "Selengkapnya", stored when the block ends.

    Stored after the first page is sent, not before: on PostgreSQL that commit costs more
    than the whole answer, and a long answer must not wait for it, nor share the processor
    with it while being sent (issue 29). No press can come before it: the owner's next
    update is handled after this one ends (one sender at a time, ``bot/concurrency.py``;
    one sender's lock in a cluster), and only the owner's press shows a page."""
    body = reply.text[: len(reply.text) - len(reply.foot)] if reply.foot else reply.text
    pages = page_views.paginate(body, reply.foot)
    if len(pages) == 1 or context.actor is None:
        yield pages[0], reply.keyboard
        return
    token = secrets.token_urlsafe(9)  # 12 characters: unguessable, and short in callback data
    paged = Paged(context.actor.telegram_id, tuple(pages), reply.keyboard)
    try:
        yield pages[0], page_keyboard(token, 0, paged)
    finally:
        await context.write(answer_pages.keep, token=token, paged=paged)


async def kept_page(context: MonevContext, data: str) -> tuple[str, Keyboard] | str:
    """The page a "Selengkapnya"/"Sebelumnya" button names, with its buttons; or why not
    (plain text): gone (an answer older than the kept days), another person's, or malformed."""
    token, _, index = data.removeprefix(PAGE_PREFIX).partition(":")
    if not index.isdecimal() or not 0 < len(token) <= 16:
        return page_views.GONE
    paged = await context.read(answer_pages.find, token=token)
    if paged is None:
        return page_views.GONE
    if context.actor is None or paged.owner != context.actor.telegram_id:
        return page_views.NOT_YOURS
    i = int(index)
    if i >= len(paged.pages):
        return page_views.GONE
    return paged.pages[i], page_keyboard(token, i, paged)
