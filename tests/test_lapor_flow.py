"""The /lapor state machine as a service: plain values in, typed results out."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from storage.data.db import read_scope, session_scope
from storage.services import conversation
from storage.services import lapor_flow as flow
from storage.services.conversation import Flow
from tests.bot_harness import KEPALA, OPERATOR_KOP, add_users


def _user_id(engine: Engine, telegram_id: int) -> int:
    from storage.services.users import get_user

    with read_scope(engine) as s:
        user = get_user(s, telegram_id=telegram_id)
        assert user is not None and user.id is not None
        return user.id


def test_begin_answer_and_detach(seeded: Engine) -> None:
    add_users(seeded)
    uid = _user_id(seeded, OPERATOR_KOP)
    with session_scope(seeded) as s:
        assert isinstance(
            flow.begin(s, telegram_id=KEPALA + 999, tahun=2022, triwulan=4), flow.NotOperator
        )
        started = flow.begin(s, telegram_id=OPERATOR_KOP, tahun=2022, triwulan=4)
        assert isinstance(started, flow.Started) and not started.continued
        assert isinstance(started.screen, flow.Question) and started.screen.step == "anggaran:0"
        # Typing is attached in the same transaction as the draft.
        state = conversation.get(s, telegram_id=OPERATOR_KOP)
        assert state is not None and state.payload == {"draft_id": started.draft_id}
    with session_scope(seeded) as s:
        refused = flow.type_text(s, telegram_id=OPERATOR_KOP, user_id=uid, text="banyak sekali")
        assert isinstance(refused, flow.Refused) and "bukan jumlah rupiah" in refused.error
        drop = flow.type_text(s, telegram_id=OPERATOR_KOP, user_id=uid, text="1.000.000")
        assert isinstance(drop, flow.ConfirmDrop) and drop.step == "anggaran:0"
        retype = flow.press(
            s,
            telegram_id=OPERATOR_KOP,
            user_id=uid,
            draft_id=started.draft_id,
            step="anggaran:0",
            action="no",
        )
        assert isinstance(retype, flow.Shown) and retype.retype
        shown = flow.type_text(s, telegram_id=OPERATOR_KOP, user_id=uid, text="21 jt")
        assert isinstance(shown, flow.Shown)
        assert isinstance(shown.screen, flow.Question) and shown.screen.step == "fisik:0"
        # A tap on the step already answered gets the current screen back.
        old = flow.press(
            s,
            telegram_id=OPERATOR_KOP,
            user_id=uid,
            draft_id=started.draft_id,
            step="anggaran:0",
            action="same",
        )
        assert isinstance(old, flow.OldStep) and old.screen.step == "fisik:0"  # type: ignore[union-attr]
        progress = flow.progress(s, telegram_id=OPERATOR_KOP)
        assert progress == flow.Progress(2022, 4, 1, 3)
    # The same quarter again continues; with no user, typing is detached.
    with session_scope(seeded) as s:
        again = flow.begin(s, telegram_id=OPERATOR_KOP, tahun=2022, triwulan=4)
        assert isinstance(again, flow.Started) and again.continued
        gone = flow.type_text(s, telegram_id=OPERATOR_KOP, user_id=None, text="93")
        assert isinstance(gone, flow.NotYours)
        assert conversation.get(s, telegram_id=OPERATOR_KOP) is None


def test_opening_offers_to_resume(seeded: Engine) -> None:
    from datetime import date

    add_users(seeded)
    with session_scope(seeded) as s:
        first = flow.opening(s, telegram_id=OPERATOR_KOP, opd_id=1, today=date(2023, 1, 3))
        assert isinstance(first, flow.Propose) and (first.tahun, first.triwulan) == (2022, 4)
        assert isinstance(
            flow.opening(s, telegram_id=KEPALA, opd_id=1, today=date(2023, 1, 3)), flow.NotOperator
        )
        started = flow.begin(s, telegram_id=OPERATOR_KOP, tahun=2022, triwulan=4)
        assert isinstance(started, flow.Started)
        resume = flow.opening(s, telegram_id=OPERATOR_KOP, opd_id=1, today=date(2023, 1, 3))
        assert isinstance(resume, flow.Resume) and resume.draft_id == started.draft_id
        assert (resume.done, resume.total) == (0, 3)
        conversation.clear(s, telegram_id=OPERATOR_KOP, flow=Flow.LAPOR)
        shown = flow.resume(s, telegram_id=OPERATOR_KOP, draft_id=started.draft_id)
        assert isinstance(shown, flow.Shown)
        assert conversation.get(s, telegram_id=OPERATOR_KOP) is not None
        assert isinstance(flow.resume(s, telegram_id=OPERATOR_KOP, draft_id=-1), flow.NotYours)
