"""The /lapor conversation as a state machine: plain values in, typed results out.

An operator reports the bidang's quarter one question at a time. Every function here runs in
the caller's write (or read) transaction and takes what the transport parsed from an update
(telegram id, draft id, the typed text or a button's step and action); it returns a result
dataclass that a view turns into a message. The draft holds the answers and the current step;
``chat_state`` (see :mod:`storage.services.conversation`) says that the person's typed text
answers it, and both are written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial

from sqlmodel import Session, col, select

from storage.data.buttons import SentButtons
from storage.data.models import (
    Draft,
    DraftStatus,
    Pelaporan,
    StatusLaporan,
)
from storage.domain.lapor_steps import REVIEW, StepId, step_id
from storage.domain.policy import Denied, may_submit
from storage.services import bukti, conversation, plan_step, verification
from storage.services.conversation import Flow
from storage.services.queries import list_bidang
from storage.services.submission import (
    NARASI_FIELDS,
    Check,
    Closed,
    Conflict,
    DraftPlan,
    Drop,
    Invalid,
    Measure,
    NotPermitted,
    OutdatedDraft,
    Overtaken,
    QuarterClosed,
    Review,
    SubmissionError,
    Unparsed,
    active_draft,
    check_anggaran,
    check_fisik,
    clean_text,
    draft_plan,
    load,
    next_step,
    propose_period,
    save,
    start_draft,
    submit,
    verifiers,
)
from storage.services.submission import review as build_review
from storage.services.users import active_user, person_name

# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """The question of one step, with what is needed to show it."""

    draft_id: int
    step: str
    plan: DraftPlan
    data: dict


@dataclass(frozen=True)
class ReviewScreen:
    """Every answer and the serapan it yields, before sending."""

    draft_id: int
    review: Review


Screen = Question | ReviewScreen


@dataclass(frozen=True)
class NotOperator:
    """The sender is not an active operator of a bidang of this office."""


@dataclass(frozen=True)
class NoPlan:
    """No quarter to propose: the office has no plan yet."""


@dataclass(frozen=True)
class Resume:
    """An active draft exists: offer to continue or to start over."""

    draft_id: int
    tahun: int
    triwulan: int
    bidang: str
    done: int
    total: int
    updated_at: datetime


@dataclass(frozen=True)
class Propose:
    """No draft: propose a quarter (a returned one first, with the verifier's reason)."""

    bidang: str
    tahun: int
    triwulan: int
    alasan: str


@dataclass(frozen=True)
class AllDone:
    """Every quarter of the bidang is waiting for verification or approved."""

    bidang: str


Opening = NotOperator | NoPlan | Resume | Propose | AllDone


@dataclass(frozen=True)
class Started:
    """A draft begun (or, for the same quarter, continued) and the typing attached to it."""

    draft_id: int
    tahun: int
    triwulan: int
    bidang: str
    subs: int
    continued: bool
    screen: Screen


@dataclass(frozen=True)
class Shown:
    """The screen that follows an answer (``retype``: the operator chose to type again)."""

    screen: Screen
    retype: bool = False
    cleaned: str = ""  # the step kind whose typed text lost control characters ("hambatan")
    plan_echo: plan_step.Echo | None = None  # what an answer of the plan step did


@dataclass(frozen=True)
class OldStep:
    """A button of a step already left (a double tap, an old message): the current screen."""

    screen: Screen


@dataclass(frozen=True)
class NotYours:
    """No active draft of the sender's matches (sent, cancelled, or somebody else's)."""


@dataclass(frozen=True)
class UseButtons:
    """Text typed on the review, where only buttons act."""


@dataclass(frozen=True)
class Refused:
    """The answer is not accepted: one of the reasons below says why (the view words it),
    or ``error``, an exception's user message (a figure the parser could not read, a
    submission the rules refused)."""

    error: str = ""
    invalid: Invalid | None = None  # the typed answer broke a rule of its step
    closed: Closed | None = None  # the quarter cannot be reported now (approved, waiting)
    denied: Denied | None = None  # a permission rule refused: the view words the reason
    status: str = ""  # the report's status, for Denied.NOT_SUBMITTED
    tanpa_bukti: tuple[str, ...] = ()  # MONEV_BUKTI_WAJIB: sub kegiatan still without evidence
    plan_buttons_first: bool = False  # text typed where the plan step waits for its buttons


@dataclass(frozen=True)
class ConfirmDrop:
    """A cumulative figure lower than last quarter's: ask before keeping it."""

    draft_id: int
    step: str
    drop: Drop


@dataclass(frozen=True)
class Conflicts:
    """Not sent: figures changed by someone else since the draft began."""

    conflicts: list[Conflict]
    current: Screen | None


@dataclass(frozen=True)
class Overtook:
    """Not sent: another submission of the quarter came after the draft began. The operator
    chooses to discard the draft or to submit it over that one (``overtaken.version``)."""

    draft_id: int
    overtaken: Overtaken


@dataclass(frozen=True)
class Discarded:
    """The operator threw the draft away after seeing the other submission."""

    tahun: int
    triwulan: int


@dataclass(frozen=True)
class Sent:
    """Submitted: who should verify it, and what they are shown."""

    pelaporan_id: int
    version: int
    tahun: int
    triwulan: int
    bidang: str
    oleh: str
    review: Review
    verifiers: list[int]
    retired: list[SentButtons]  # earlier approve/return messages whose buttons go
    rencana: plan_step.Saved | None = None  # the plan given in the draft, written now


Step = (
    Shown
    | OldStep
    | NotYours
    | UseButtons
    | Refused
    | ConfirmDrop
    | Conflicts
    | Overtook
    | Discarded
    | Sent
)


@dataclass(frozen=True)
class Progress:
    """How far the active draft is, for /batal."""

    tahun: int
    triwulan: int
    done: int
    total: int


# --- helpers ---------------------------------------------------------------------------------


def _plan(session: Session, draft: Draft) -> DraftPlan:
    return draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)


def _done(draft: Draft) -> int:
    return sum(1 for v in load(draft).get("items", {}).values() if v.get("anggaran") is not None)


def _screen(session: Session, draft: Draft, plan: DraftPlan | None = None) -> Screen:
    assert draft.id is not None
    if draft.step == "review":
        return ReviewScreen(draft.id, build_review(session, draft))
    return Question(draft.id, draft.step, plan or _plan(session, draft), load(draft))


def _owned(session: Session, telegram_id: int, draft_id: int) -> Draft | None:
    user = active_user(session, telegram_id=telegram_id)
    if user is None:
        return None
    draft = session.get(Draft, draft_id, with_for_update=True)
    if draft is None or draft.user_id != user.id or draft.status != DraftStatus.AKTIF:
        return None
    return draft


def _attach(session: Session, telegram_id: int, draft: Draft) -> None:
    """From now on the person's typed text answers ``draft`` (until sent or /batal)."""
    conversation.start(
        session, telegram_id=telegram_id, flow=Flow.LAPOR, payload={"draft_id": draft.id}
    )


@dataclass
class _Slot:
    """Where one question's answer goes, what 'same as last quarter' means, how it's checked."""

    store: dict
    key: str
    previous: object
    check: Callable[[str], Check]
    skippable: bool = False


def slot_for(plan: DraftPlan, data: dict, kind: str, i: int) -> _Slot:
    """The slot of step ``kind:i`` in ``data`` (the chat's step and the form's field alike)."""
    if kind in ("anggaran", "fisik", "ket"):
        s = plan.subs[i]
        item = data.setdefault("items", {}).setdefault(str(s.node_id), {})
        if kind == "anggaran":
            check = partial(
                check_anggaran,
                s,
                items=data["items"],
                where=(plan.triwulan, plan.bidang.nama),
            )
            return _Slot(item, kind, s.prev_anggaran, check)
        if kind == "fisik":
            return _Slot(item, kind, s.prev_fisik, partial(check_fisik, prev=s.prev_fisik))
        return _Slot(item, kind, None, clean_text, skippable=True)
    if kind == "ind":
        ind = plan.indikator[i]
        check = partial(check_fisik, prev=ind.prev_r, measure=Measure.INDIKATOR)
        return _Slot(data.setdefault("ind", {}), str(ind.indikator_id), ind.prev_r, check)
    sas = plan.sasaran[i]
    nar = data.setdefault("narasi", {}).setdefault(str(sas.sasaran_id), {})
    return _Slot(nar, kind, sas.prev.get(kind, ""), clean_text, skippable=True)


def drop_key(plan: DraftPlan, kind: str, i: int) -> int | str | None:
    """How a confirmed drop of this step is remembered in ``data["turun"]``."""
    if kind == "anggaran":
        return plan.subs[i].node_id
    if kind == "fisik":
        return f"fisik:{plan.subs[i].node_id}"
    if kind == "ind":
        return f"ind:{plan.indikator[i].indikator_id}"
    return None


def keep_answer(
    data: dict, slot: _Slot, down: int | str | None, value: object, *, drop: bool
) -> None:
    """Store an accepted answer. A drop the operator confirmed is remembered as a finding
    (``data["turun"]``); any other value forgets an earlier one of the same step."""
    slot.store[slot.key] = value
    data["changed"] = True
    if down is None:
        return
    turun = data.setdefault("turun", [])
    if drop and down not in turun:
        turun.append(down)
    elif not drop and down in turun:
        turun.remove(down)


# --- the flow --------------------------------------------------------------------------------


def opening(session: Session, *, telegram_id: int, opd_id: int, today: date) -> Opening:
    """What /lapor shows first."""
    user = active_user(session, telegram_id=telegram_id)
    if user is None or may_submit(
        role=user.role, status=user.status, user_bidang_id=user.bidang_id, bidang_id=None
    ):
        return NotOperator()
    bidang = next((b for b in list_bidang(session, opd_id) if b.id == user.bidang_id), None)
    if bidang is None:
        return NotOperator()
    assert user.id is not None
    draft = active_draft(session, user.id)
    if draft is not None:
        assert draft.id is not None
        at = draft.updated_at
        return Resume(
            draft_id=draft.id,
            tahun=draft.tahun,
            triwulan=draft.triwulan,
            bidang=bidang.nama,
            done=_done(draft),
            total=len(_plan(session, draft).subs),
            updated_at=at if at.tzinfo else at.replace(tzinfo=UTC),
        )
    returned = session.exec(
        select(Pelaporan)
        .where(Pelaporan.bidang_id == bidang.id, Pelaporan.status == StatusLaporan.DIKEMBALIKAN)
        .order_by(col(Pelaporan.tahun).desc(), col(Pelaporan.triwulan).desc())
    ).first()
    if returned is not None:
        return Propose(bidang.nama, returned.tahun, returned.triwulan, returned.alasan)
    if propose_period(session, opd_id, today) is None:
        return NoPlan()
    period = propose_period(session, opd_id, today, bidang_id=bidang.id)
    if period is None:
        return AllDone(bidang.nama)
    return Propose(bidang.nama, period[0], period[1], "")


def begin(
    session: Session,
    *,
    telegram_id: int,
    tahun: int,
    triwulan: int,
    fresh: bool = False,
    attach: bool = True,
) -> Started | NotOperator:
    """Start the quarter's draft (``fresh``: throwing the active one away) and attach typing
    to it (not for the Mini App form: ``attach`` False); a draft of the same quarter is
    continued instead. Raises :class:`SubmissionError` when the quarter cannot be reported
    (locked, no plan)."""
    user = active_user(session, telegram_id=telegram_id)
    if user is None:
        return NotOperator()
    assert user.id is not None
    current = active_draft(session, user.id, lock=True)
    if not fresh and current is not None and (current.tahun, current.triwulan) == (tahun, triwulan):
        # "Lapor sekarang" on a reminder, or a second tap: carry on, never throw work away.
        draft, continued = current, True
    else:
        draft, continued = start_draft(session, user=user, tahun=tahun, tw=triwulan), False
        bukti.carry_over(session, draft)  # a returned report keeps its evidence
        plan_step.offer(session, draft)  # at the start of the year: the spending plan first
    assert draft.id is not None
    if attach:
        _attach(session, telegram_id, draft)
    plan = _plan(session, draft)
    return Started(
        draft_id=draft.id,
        tahun=tahun,
        triwulan=triwulan,
        bidang=plan.bidang.nama,
        subs=len(plan.subs),
        continued=continued,
        screen=_screen(session, draft, plan),
    )


def restart(
    session: Session, *, telegram_id: int, draft_id: int
) -> Started | NotYours | NotOperator:
    """'Mulai ulang': throw the draft away and begin its quarter again."""
    draft = _owned(session, telegram_id, draft_id)
    if draft is None:
        return NotYours()
    return begin(
        session, telegram_id=telegram_id, tahun=draft.tahun, triwulan=draft.triwulan, fresh=True
    )


def resume(session: Session, *, telegram_id: int, draft_id: int) -> Shown | NotYours:
    """'Lanjutkan': the current screen of the person's draft ``draft_id``, typing attached."""
    user = active_user(session, telegram_id=telegram_id)
    draft = active_draft(session, user.id) if user is not None and user.id is not None else None
    if draft is None or draft.id != draft_id:
        return NotYours()
    _attach(session, telegram_id, draft)
    return Shown(_screen(session, draft))


def _answer(
    session: Session,
    user_id: int | None,
    draft_id: int | None,
    step: str | None,
    action: str,
    text: str = "",
) -> Step:
    draft = active_draft(session, user_id, lock=True) if user_id is not None else None
    if draft is None or (draft_id is not None and draft.id != draft_id):
        return NotYours()
    assert draft.id is not None
    if step is not None and step != draft.step:
        return OldStep(_screen(session, draft))
    plan = _plan(session, draft)
    data = load(draft)
    parsed = StepId.parse(draft.step)
    kind, idx = parsed.kind, parsed.arg
    if kind == REVIEW:
        return UseButtons()
    if kind == plan_step.KIND:
        return _plan_answer(session, draft, plan, data, action, text)
    i = int(idx)
    error: Invalid | None = None
    confirm: Drop | None = None
    cleaned = ""
    if action == "review" and data.get("returned"):
        # 'Ke ringkasan' on a returned report: the rest keeps the operator's own values.
        data.pop("editing", None)
        save(session, draft, data, "review")
        return Shown(_screen(session, draft, plan))
    slot = slot_for(plan, data, kind, i)
    down = drop_key(plan, kind, i)
    if action in ("yes", "no") and down is not None:
        # The answer to "a cumulative figure went down: keep it?"
        pending = data.pop("pending", None)
        if action == "no" or pending is None:
            save(session, draft, data)
            return Shown(_screen(session, draft, plan), retype=True)
        keep_answer(data, slot, down, pending, drop=True)
    else:
        if action == "same" and slot.previous is not None:
            slot.store[slot.key] = slot.previous
            data["changed"] = True
        elif action == "keep" and slot.store.get(slot.key) is not None:
            pass
        elif action == "skip" and slot.skippable:
            slot.store[slot.key] = ""
            data["changed"] = True
        elif action == "text":
            chk = slot.check(text)
            error, confirm = chk.error, chk.confirm
            cleaned = kind if chk.cleaned and error is None else ""
            if confirm is not None:
                data["pending"] = chk.value
            elif error is None:
                keep_answer(data, slot, down, chk.value, drop=False)
        else:
            return OldStep(_screen(session, draft, plan))
        if action == "same" and down is not None and down in data.get("turun", []):
            data["turun"].remove(down)
    if error is not None:
        save(session, draft, data)
        if isinstance(error, Unparsed):
            return Refused(error.message)
        return Refused(invalid=error)
    if confirm is not None:
        save(session, draft, data)
        return ConfirmDrop(draft.id, draft.step, confirm)
    save(session, draft, data, next_step(plan, draft.step, data))
    return Shown(_screen(session, draft, plan), cleaned=cleaned)


def _plan_answer(
    session: Session, draft: Draft, plan: DraftPlan, data: dict, action: str, text: str
) -> Step:
    """An answer to the optional spending-plan step (``storage.services.plan_step``)."""
    out = plan_step.answer(plan, data, draft.step, action, text)
    if out.error or out.buttons_first:
        # Nothing changed: the draft keeps every earlier answer.
        return Refused(out.error, plan_buttons_first=out.buttons_first)
    if out.next is None:
        return OldStep(_screen(session, draft, plan))
    save(session, draft, data, out.next)
    return Shown(_screen(session, draft, plan), plan_echo=out.echo)


def type_text(session: Session, *, telegram_id: int, user_id: int | None, text: str) -> Step:
    """Typed text answers the current question of the active draft.

    ``user_id`` is the active user identified for this very update (None: nobody active).
    Without an active draft the typing is detached (the text is then a question)."""
    result = _answer(session, user_id, None, None, "text", text)
    if isinstance(result, NotYours):
        conversation.clear(session, telegram_id=telegram_id, flow=Flow.LAPOR)
    return result


def _edit(session: Session, telegram_id: int, draft_id: int, target: str) -> Step:
    """'Ubah' on the review: go to one item, and come back to the review after it."""
    draft = _owned(session, telegram_id, draft_id)
    if draft is None:
        return NotYours()
    if draft.step != "review":
        return OldStep(_screen(session, draft))
    plan = _plan(session, draft)
    parsed = StepId.parse(target)
    kind, idx = parsed.kind, parsed.arg
    data = load(draft)
    if kind == "anggaran" and idx.isdecimal() and int(idx) < len(plan.subs):
        data["editing"] = f"ket:{idx}"
    elif kind == "ind" and plan.indikator:
        idx, data["editing"] = "0", f"ind:{len(plan.indikator) - 1}"
    elif kind == NARASI_FIELDS[0] and plan.sasaran:
        idx, data["editing"] = "0", f"{NARASI_FIELDS[-1]}:{len(plan.sasaran) - 1}"
    elif target == plan_step.ASK and plan_step.edit(data):
        pass  # back to "Isi rencana penarikan?"; the step's last answer returns to the review
    else:
        return OldStep(_screen(session, draft))
    save(session, draft, data, step_id(kind, idx))
    return Shown(_screen(session, draft))


def _discard(session: Session, telegram_id: int, draft_id: int) -> Step:
    """'Buang draf saya' after seeing another submission of the quarter."""
    draft = _owned(session, telegram_id, draft_id)
    if draft is None:
        return NotYours()
    draft.status = DraftStatus.DIBATALKAN
    save(session, draft, load(draft))
    conversation.clear(session, telegram_id=telegram_id, flow=Flow.LAPOR)
    return Discarded(draft.tahun, draft.triwulan)


def _send(
    session: Session,
    telegram_id: int,
    draft_id: int,
    over: int | None = None,
    bukti_wajib: bool = False,
) -> Step:
    draft = _owned(session, telegram_id, draft_id)
    user = active_user(session, telegram_id=telegram_id)
    if draft is None or user is None:
        return NotYours()
    if draft.step != "review":
        return OldStep(_screen(session, draft))
    rv = build_review(session, draft)
    if bukti_wajib and rv.tanpa_bukti:
        # MONEV_BUKTI_WAJIB: money spent this quarter needs something to look at.
        return Refused(tanpa_bukti=tuple(rv.tanpa_bukti[:5]))
    try:
        conflicts = submit(session, draft, user=user, over=over)
    except OutdatedDraft as exc:
        return Overtook(draft_id, exc.overtaken)
    except NotPermitted as exc:
        return Refused(str(exc), denied=exc.reason, status=exc.status)
    except QuarterClosed as exc:
        return Refused(closed=exc.reason)
    except SubmissionError as exc:
        return Refused(str(exc))
    if conflicts:
        current = active_draft(session, user.id) if user.id is not None else None
        return Conflicts(conflicts, _screen(session, current) if current is not None else None)
    # The submission, the plan given in its draft and the end of the typing commit together.
    rencana = plan_step.store(session, draft, actor=f"user:{user.telegram_id}")
    conversation.clear(session, telegram_id=telegram_id, flow=Flow.LAPOR)
    p = session.exec(
        select(Pelaporan).where(
            Pelaporan.bidang_id == draft.bidang_id,
            Pelaporan.tahun == draft.tahun,
            Pelaporan.triwulan == draft.triwulan,
        )
    ).one()
    assert p.id is not None
    return Sent(
        pelaporan_id=p.id,
        version=p.version,
        retired=verification.retire(session, pelaporan_id=p.id),
        tahun=draft.tahun,
        triwulan=draft.triwulan,
        bidang=rv.plan.bidang.nama,
        oleh=person_name(user),
        review=rv,
        verifiers=[
            v.telegram_id
            for v in verifiers(session, submitted_by=user.id, opd_id=rv.plan.bidang.opd_id)
        ],
        rencana=rencana,
    )


def press(
    session: Session,
    *,
    telegram_id: int,
    user_id: int | None,
    draft_id: int,
    step: str,
    action: str,
    bukti_wajib: bool = False,
) -> Step:
    """A button of a draft's screen: a quick answer, or 'Ubah'/'Kirim' on the review.

    ``step`` is the step the button was shown for (a stale tap is recognised by it);
    ``bukti_wajib``: Kirim needs evidence wherever realisasi rose (MONEV_BUKTI_WAJIB)."""
    if step == "review":
        if action == "send":
            return _send(session, telegram_id, draft_id, bukti_wajib=bukti_wajib)
        if action.startswith("over-") and action[5:].isdecimal():
            return _send(
                session, telegram_id, draft_id, over=int(action[5:]), bukti_wajib=bukti_wajib
            )
        if action == "discard":
            return _discard(session, telegram_id, draft_id)
        if action.startswith("edit-"):
            return _edit(session, telegram_id, draft_id, action[len("edit-") :])
        return NotYours()
    return _answer(session, user_id, draft_id, step, action)


def progress(session: Session, *, telegram_id: int) -> Progress | None:
    """How far the person's active draft is; None without one."""
    user = active_user(session, telegram_id=telegram_id)
    draft = active_draft(session, user.id) if user is not None and user.id is not None else None
    if draft is None:
        return None
    return Progress(draft.tahun, draft.triwulan, _done(draft), len(_plan(session, draft).subs))


__all__ = [
    "AllDone",
    "ConfirmDrop",
    "Conflicts",
    "Discarded",
    "NoPlan",
    "NotOperator",
    "NotYours",
    "OldStep",
    "Opening",
    "Overtook",
    "Progress",
    "Propose",
    "Question",
    "Refused",
    "Resume",
    "ReviewScreen",
    "Screen",
    "Sent",
    "Shown",
    "Started",
    "Step",
    "UseButtons",
    "begin",
    "opening",
    "press",
    "progress",
    "restart",
    "resume",
    "type_text",
]
