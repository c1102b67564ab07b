"""Helpers the question, chart and /lapor handlers share.

They live apart from the handlers so that questions (which sends charts) and charts (which waits
for questions) can import them without importing each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot.context import MonevContext
from bot.views.answers import Keyboard


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
