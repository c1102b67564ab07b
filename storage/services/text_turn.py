"""One typed text, one turn: who sent it, which flow it answers, and what it did.

Every text message that is not a command is one call of :func:`take_turn`, in one session
(one worker-thread trip): the sender, the flow they are in (``chat_state``), and then either
the typed answer applied to their /lapor draft (with the update marked done in the same
transaction) or, for somebody in no flow, the answer to the text as a question. The result is
a typed outcome that the transport renders (``bot.handlers.routing.on_text``); nothing is
parked anywhere for a later handler to pick up.

A read-only session cannot apply a /lapor answer: it says so (:class:`ToDraft`) and the
transport takes the turn again in a write transaction, handing it what the read found (the
sender, in a draft) so that the write does not read them again. Which session to open first
is the transport's guess (who was last seen typing into a draft); a wrong guess costs a trip,
never a wrong effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlmodel import Session

from storage.data import boundary
from storage.services import lapor_flow as flow
from storage.services.actor import Actor, actor_scope, load_actor_and_flow
from storage.services.conversation import Flow, State

A = TypeVar("A")


@dataclass(frozen=True)
class Stepped:
    """The typed answer was applied to the sender's /lapor draft (``step`` says how: the next
    screen, a refusal saying what to type, the review…). ``marked``: the update was marked
    done in that same transaction."""

    actor: Actor
    step: flow.Step
    marked: bool


@dataclass(frozen=True)
class Detached:
    """The sender was typing into a draft that is gone (sent or cancelled elsewhere): the
    typing is detached, and the text is a question after all."""

    actor: Actor


@dataclass(frozen=True)
class ToDraft:
    """The text answers the sender's /lapor draft, but the session was read-only: nothing was
    done; take the turn again in a write transaction."""

    actor: Actor


@dataclass(frozen=True)
class InFlow:
    """The text answers a step of another flow (registration, a reason for returning a
    report, /jadwal's date, an import): that flow's handler takes it from ``state``."""

    actor: Actor
    state: State


@dataclass(frozen=True)
class Asked(Generic[A]):
    """The sender is in no flow: the text is a question. ``answer``: what ``ask`` made of it,
    None when the sender may not ask (not an active user) or ``ask`` declined it."""

    actor: Actor
    answer: A | None


Turn = Stepped | Detached | ToDraft | InFlow | Asked[A]


def take_turn(
    session: Session,
    *,
    telegram_id: int,
    text: str,
    only_office: int | None,
    ask: Callable[[Session, Actor, str], A | None],
    write: bool = False,
    mark: Callable[[Session], None] | None = None,
    drafting: ToDraft | None = None,
) -> Turn[A]:
    """The turn of the text ``text`` from ``telegram_id``.

    ``only_office``: the only office of a one-office deployment (None when there are
    several). ``ask``: how the transport answers a question (run here, in this session, for
    an active sender in no flow). ``write``: the session is a write transaction, so a /lapor
    answer is applied here. ``mark``: marks the update done inside that transaction, called
    when the answer was applied — a text carries no version, so only that keeps an update
    Telegram sends again after a crash from landing in the next question. ``drafting``: what
    a read turn of this same text found (a write turn only): the sender, typing into a draft.
    Nothing of theirs ran in between (one sender's updates are handled one at a time), and
    the draft itself is read and saved under its version here."""
    if drafting is None:
        actor, state = load_actor_and_flow(session, telegram_id)
    else:
        actor, state = drafting.actor, None
    # The session was opened before the sender was known: from here on it reads as them.
    boundary.enter(session, actor_scope(actor, only_office))
    if drafting is None:
        if state is None:
            return Asked(actor, ask(session, actor, text) if actor.active else None)
        if state.flow != Flow.LAPOR:
            return InFlow(actor, state)
    if not write:
        return ToDraft(actor)
    step = flow.type_text(
        session,
        telegram_id=telegram_id,
        user_id=actor.user_id if actor.active else None,
        text=text,
    )
    if isinstance(step, flow.NotYours):
        return Detached(actor)  # not applied: the question it becomes is marked after its answer
    if mark is not None:
        mark(session)
    return Stepped(actor, step, mark is not None)


__all__ = ["Asked", "Detached", "InFlow", "Stepped", "ToDraft", "Turn", "take_turn"]
