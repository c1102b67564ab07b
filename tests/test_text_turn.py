"""A typed text as one turn (storage/services/text_turn.py): the sender, their flow and the
text's effect in one session, as a typed outcome; nothing parked on the context."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.context import MonevContext
from storage.data.db import read_scope, session_scope
from storage.services import conversation, text_turn
from storage.services import lapor_flow as flow
from storage.services.actor import Actor
from storage.services.conversation import Flow
from tests.bot_harness import KEPALA, OPERATOR_KOP, add_users


def _ask(session: Session, actor: Actor, text: str) -> str:
    return f"jawaban untuk {actor.telegram_id}: {text}"


def _turn(session: Session, telegram_id: int, text: str, **kw: object) -> object:
    return text_turn.take_turn(
        session, telegram_id=telegram_id, text=text, only_office=1, ask=_ask, **kw
    )


def test_a_question_is_answered_in_the_turn_and_strangers_get_no_answer(seeded: Engine) -> None:
    add_users(seeded)
    with read_scope(seeded) as s:
        asked = _turn(s, KEPALA, "serapan tw 3")
        assert isinstance(asked, text_turn.Asked)
        assert asked.actor.active and asked.answer == f"jawaban untuk {KEPALA}: serapan tw 3"
        stranger = _turn(s, 424242, "serapan tw 3")
        assert isinstance(stranger, text_turn.Asked)
        assert stranger.answer is None and not stranger.actor.active


def test_a_lapor_answer_is_applied_only_in_a_write_turn_and_marked_with_it(
    seeded: Engine,
) -> None:
    add_users(seeded)
    with session_scope(seeded) as s:
        started = flow.begin(s, telegram_id=OPERATOR_KOP, tahun=2022, triwulan=4)
        assert isinstance(started, flow.Started)
    with read_scope(seeded) as s:
        # A read session cannot apply it: it says so, and nothing was asked or marked.
        assert isinstance(_turn(s, OPERATOR_KOP, "21 jt"), text_turn.ToDraft)
    marks: list[Session] = []
    with session_scope(seeded) as s:
        stepped = _turn(s, OPERATOR_KOP, "21 jt", write=True, mark=marks.append)
        assert isinstance(stepped, text_turn.Stepped) and stepped.marked
        assert isinstance(stepped.step, flow.Shown)
        assert isinstance(stepped.step.screen, flow.Question)
        assert stepped.step.screen.step == "fisik:0"
        assert marks == [s]  # in the transaction that applied it
    with session_scope(seeded) as s:
        refused = _turn(s, OPERATOR_KOP, "banyak sekali", write=True, mark=marks.append)
        assert isinstance(refused, text_turn.Stepped)
        assert isinstance(refused.step, flow.Refused)  # a refusal is a step: shown, marked
        assert len(marks) == 2


def test_a_draft_gone_detaches_the_typing_and_other_flows_keep_their_text(
    seeded: Engine,
) -> None:
    add_users(seeded)
    with session_scope(seeded) as s:
        # In the /lapor flow with no draft behind it (sent or cancelled elsewhere).
        conversation.start(s, telegram_id=OPERATOR_KOP, flow=Flow.LAPOR, payload={})
    marks: list[Session] = []
    with session_scope(seeded) as s:
        detached = _turn(s, OPERATOR_KOP, "serapan tw 3", write=True, mark=marks.append)
        assert isinstance(detached, text_turn.Detached) and marks == []
        assert conversation.get(s, telegram_id=OPERATOR_KOP) is None  # the typing is detached
    with session_scope(seeded) as s:
        conversation.start(
            s, telegram_id=KEPALA, flow=Flow.REASON, payload={"pelaporan_id": 1, "version": 1}
        )
    with session_scope(seeded) as s:
        in_flow = _turn(s, KEPALA, "angka fisik belum sesuai", write=True, mark=marks.append)
        assert isinstance(in_flow, text_turn.InFlow) and in_flow.state.flow == Flow.REASON
        assert marks == []


def test_the_context_carries_no_prepared_results() -> None:
    """The turn's outcome goes straight to the handler that shows it (routing.on_text)."""
    names = set(vars(MonevContext)) | set(MonevContext.__init__.__code__.co_names)
    assert not {n for n in names if n.startswith(("prepared", "preloaded"))}
