"""Typed text and /batal go to the flow the sender is in.

Which flow that is lives in the database (``chat_state``, see
:mod:`storage.services.conversation`), read once per text message, so a restart or a second
process continues every conversation where it stood. Text from somebody in no flow is a
question. A text is one turn (:mod:`storage.services.text_turn`): the sender, their flow and
the text's effect (a /lapor answer applied, a question answered) in one worker-thread trip;
``on_text`` shows what it did.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy.exc import OperationalError
from telegram import Update

from bot.context import MonevContext
from bot.handlers import bukti, common, lapor, questions, registration, reminders
from bot.handlers.questions import Answered
from bot.inbox import mark_within, marked
from bot.views import imports as import_views
from bot.views import reminders as reminder_views
from bot.views import texts
from storage.services import conversation, text_turn
from storage.services.conversation import Flow, StaleState, State


async def _take_turn(update: Update, context: MonevContext, text: str) -> text_turn.Turn[Answered]:
    """The text's turn (``storage.services.text_turn``) in one worker-thread trip: a write
    transaction for somebody last seen typing into a /lapor draft, a read for everyone else
    (then a second trip, writing, only when the read finds them in a draft after all)."""
    user = update.effective_user
    assert user is not None
    only_office = context.bot_data.get("opd_id")
    ask = partial(questions.prepared, only_office=only_office)
    turn: text_turn.Turn[Answered]
    drafting: text_turn.ToDraft | None = None
    if user.id not in context.bot_data.get(lapor.TYPING, ()):
        turn = await context.read(
            text_turn.take_turn, telegram_id=user.id, text=text, only_office=only_office, ask=ask
        )
        if not isinstance(turn, text_turn.ToDraft):
            return turn
        drafting = turn
    # The draft's plan comes from the figure cache (the step reads it before saving).
    return await context.write_cached(
        text_turn.take_turn,
        telegram_id=user.id,
        text=text,
        only_office=only_office,
        ask=ask,
        write=True,
        mark=mark_within(context.application, update),
        drafting=drafting,
    )


async def _show(update: Update, context: MonevContext, turn: text_turn.Turn[Answered]) -> None:
    """What the turn did, shown (a flow's own handler takes the text of that flow)."""
    user = update.effective_user
    assert user is not None
    context.actor = turn.actor
    if isinstance(turn, text_turn.Stepped) and turn.marked:
        marked(context.application, update)
    lapor.note_typing(context, user.id, isinstance(turn, text_turn.Stepped))
    if isinstance(turn, text_turn.Stepped):
        await lapor.typed(update, context, turn.step)
    elif isinstance(turn, text_turn.Detached):
        await questions.question(update, context)
    elif isinstance(turn, text_turn.Asked):
        await _asked(update, context, turn.answer)
    elif isinstance(turn, text_turn.ToDraft):
        raise AssertionError("a write turn applies the answer")  # pragma: no cover
    else:
        await _in_flow(update, context, turn.state)


async def _asked(update: Update, context: MonevContext, answered: Answered | None) -> None:
    """Text from somebody in no flow: the queue, evidence, or a question about the figures."""
    if lapor.asks_for_queue(update, context):
        await lapor.verifikasi(update, context)
    elif update.effective_message and bukti.asks_for_evidence(update.effective_message.text or ""):
        await bukti.question(update, context)
    else:
        await questions.question(update, context, answered)


async def _in_flow(update: Update, context: MonevContext, state: State) -> None:
    if state.flow == Flow.REGISTRATION:
        await registration.on_text(update, context, state)
    elif state.flow == Flow.REASON:
        await lapor.on_reason(update, context, state)
    elif reminders.jadwal_takes_text(state, update):
        await reminders.jadwal_date(update, context, state)
    else:
        # /jadwal shown but no quarter picked, an import waiting for its button, or a date
        # typed in another chat: a question.
        await questions.question(update, context)


async def on_text(update: Update, context: MonevContext) -> None:
    """Every text message that is not a command: its turn, then what it did."""
    message = update.effective_message
    assert message is not None and message.text is not None
    if update.effective_user is None:
        await _asked(update, context, None)  # nobody to identify (a channel post)
        return
    try:
        try:
            await _show(update, context, await _take_turn(update, context, message.text))
        except StaleState:
            # Another update moved the flow on between our read and our write (a second
            # process): nothing was written or sent; apply this text to where the flow is now.
            await _show(update, context, await _take_turn(update, context, message.text))
    except OperationalError:
        if context.actor is not None:
            raise  # identified: the error handler words what failed
        # Without knowing who this is, nothing may run: say so, and stop here.
        await common.unreachable(update)


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
        await message.reply_text(reminder_views.TEXTS["jadwal_cancel"])
