"""Typed text and /batal go to the flow the sender is in.

Which flow that is lives in the database (``chat_state``, see
:mod:`storage.services.conversation`), read once per text message, so a restart or a second
process continues every conversation where it stood. Text from somebody in no flow is a
question.
"""

from __future__ import annotations

from telegram import Update

from bot.context import MonevContext
from bot.handlers import bukti, lapor, questions, registration
from bot.jobs import reminders
from bot.views import imports as import_views
from bot.views import texts
from storage.services import conversation
from storage.services.conversation import Flow, StaleState, State


async def _state(update: Update, context: MonevContext) -> State | None:
    user = update.effective_user
    if user is None:
        return None
    preloaded, context.preloaded_state = context.preloaded_state, None
    if preloaded is not None:  # read with the actor a moment ago, for this very update
        return preloaded[0]
    return await context.read(conversation.get, telegram_id=user.id)


async def _dispatch(update: Update, context: MonevContext, state: State | None) -> None:
    if state is None:
        if lapor.asks_for_queue(update, context):
            await lapor.verifikasi(update, context)
        elif update.effective_message and bukti.asks_for_evidence(
            update.effective_message.text or ""
        ):
            await bukti.question(update, context)
        else:
            await questions.question(update, context)
    elif state.flow == Flow.REGISTRATION:
        await registration.on_text(update, context, state)
    elif state.flow == Flow.REASON:
        await lapor.on_reason(update, context, state)
    elif state.flow == Flow.LAPOR:
        await lapor.on_text(update, context, state)
    elif reminders.jadwal_takes_text(state, update):
        await reminders.jadwal_date(update, context, state)
    else:
        # /jadwal shown but no quarter picked, or a date typed in another chat: a question.
        await questions.question(update, context)


async def on_text(update: Update, context: MonevContext) -> None:
    """Every text message that is not a command."""
    try:
        await _dispatch(update, context, await _state(update, context))
    except StaleState:
        # Another update moved the flow on between our read and our write (a second
        # process): nothing was written or sent; apply this text to where the flow is now.
        await _dispatch(update, context, await _state(update, context))


async def batal(update: Update, context: MonevContext) -> None:
    """/batal: leave whatever flow the sender is in. A /lapor draft stays saved."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    ended = await context.write(conversation.clear, telegram_id=user.id)
    if ended is None or ended.flow == Flow.LAPOR:
        await lapor.stop_drafting(update, context)
    elif ended.flow == Flow.REGISTRATION:
        await message.reply_text(texts.REG_CANCELLED)
    elif ended.flow == Flow.REASON:
        await lapor.stop_reason(update, context)
    elif ended.flow == Flow.IMPORT:
        await message.reply_text(import_views.IMPORT_CANCELLED.format(name="berkas"))
    else:
        await message.reply_text(reminders.TEXTS["jadwal_cancel"])
