"""/lapor as one form (the Telegram Mini App): the same draft, rules and submission as the chat.

The form shows every question of the draft at once and saves many answers in one go. Each
answer goes through the chat's own slot and check (``lapor_flow.slot_for``, the submission
rules' ``check_anggaran`` / ``check_fisik`` / ``clean_text``), a cumulative figure below last
quarter's needs the same confirmation, and it lands in the same draft row. A save names the
draft revision its page showed: when the chat (or another page) wrote the draft since, nothing
is written and the page is given the draft as it is now. Kirim goes through ``lapor_flow.press``
like the chat's button, so the verifier's card is the chat's.

No Telegram here: plain values in, typed results out (texts live in ``bot/views/webapp.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from storage.data.models import AppUser, Draft
from storage.domain.lapor_steps import StepId
from storage.domain.policy import may_submit
from storage.services import lapor_flow as flow
from storage.services import plan_step
from storage.services.submission import (
    NARASI_FIELDS,
    DraftPlan,
    Drop,
    Invalid,
    QuarterClosed,
    Review,
    SubmissionError,
    active_draft,
    draft_plan,
    load,
    pelaporan,
    save,
)
from storage.services.submission import review as build_review
from storage.services.users import get_user

# Bounds of one save: more answers than any plan has, or longer text than a field keeps
# (``submission.MAX_TYPED``) many times over, is not a form the page sent.
MAX_ANSWERS = 2000
MAX_ANSWER_TEXT = 2000

SUB_KINDS = ("anggaran", "fisik", "ket")
REQUIRED = ("anggaran", "fisik", "ind")  # asked by the chat without a skip button


@dataclass(frozen=True)
class Answer:
    """What the page sends for one field: the typed text, and whether the operator confirmed
    a cumulative figure lower than last quarter's."""

    text: str
    confirmed: bool = False


@dataclass(frozen=True)
class Form:
    """The draft as the page shows it (``revision``: what a save must name)."""

    draft_id: int
    revision: int
    step: str
    plan: DraftPlan
    data: dict
    review: Review
    returned: str  # the verifier's reason when the quarter came back, else ""


@dataclass(frozen=True)
class Saved:
    """A save applied: what was stored, and per field what was refused or must be confirmed
    (those are not stored; the page keeps them)."""

    form: Form
    stored: list[str]
    errors: dict[str, Invalid | None] = field(default_factory=dict)  # None: an empty figure
    confirms: dict[str, Drop] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # fields this draft does not have


@dataclass(frozen=True)
class Changed:
    """The draft was written since the page loaded it: nothing of the save was written."""

    form: Form


@dataclass(frozen=True)
class Incomplete:
    """Kirim refused before anything changed: sub kegiatan without realisasi anggaran."""

    form: Form
    missing: list[str]


@dataclass(frozen=True)
class Checked:
    """One field checked as typed, nothing written (``value``: the figure understood)."""

    value: object = None
    error: Invalid | None = None
    confirm: Drop | None = None
    unknown: bool = False


@dataclass(frozen=True)
class NoDraft:
    """The operator has no active draft (sent, cancelled, or never begun)."""


Opened = Form | flow.NotOperator | flow.NoPlan | flow.AllDone


def _form(session: Session, draft: Draft, returned: str = "") -> Form:
    assert draft.id is not None
    rv = build_review(session, draft)
    if not returned and rv.data.get("returned"):
        p = pelaporan(session, draft.bidang_id, draft.tahun, draft.triwulan)
        returned = p.alasan if p is not None else ""
    return Form(draft.id, draft.revision, draft.step, rv.plan, rv.data, rv, returned)


def _operator(session: Session, telegram_id: int) -> AppUser | None:
    """The sender when they are an active operator of a bidang (``policy.may_submit``)."""
    user = get_user(session, telegram_id=telegram_id)
    if user is None or user.id is None:
        return None
    if may_submit(
        role=user.role, status=user.status, user_bidang_id=user.bidang_id, bidang_id=None
    ):
        return None
    return user


def _draft(session: Session, telegram_id: int) -> Draft | None:
    user = _operator(session, telegram_id)
    if user is None or user.id is None:
        return None
    return active_draft(session, user.id, lock=True)


def open_form(session: Session, *, telegram_id: int, opd_id: int, today: date) -> Opened:
    """The operator's active draft; without one, the quarter /lapor would propose is begun
    (as "Isi TW …" in the chat does, but without taking over the chat's typing)."""
    draft = _draft(session, telegram_id)
    if draft is not None:
        return _form(session, draft)
    opening = flow.opening(session, telegram_id=telegram_id, opd_id=opd_id, today=today)
    if isinstance(opening, flow.NotOperator | flow.NoPlan | flow.AllDone):
        return opening
    assert isinstance(opening, flow.Propose)  # no active draft, so not a Resume
    started = flow.begin(
        session,
        telegram_id=telegram_id,
        tahun=opening.tahun,
        triwulan=opening.triwulan,
        attach=False,
    )
    if isinstance(started, flow.NotOperator):
        return started
    draft = session.get(Draft, started.draft_id)
    assert draft is not None
    return _form(session, draft, opening.alasan)


def _locate(plan: DraftPlan, key: str) -> tuple[str, int] | None:
    """A field's key ("anggaran:28", "ind:5", "hambatan:3") as the chat's step (kind,
    index); None when the draft's plan has no such field."""
    kind, _, ident = key.partition(":")
    if not ident.isdecimal():
        return None
    wanted = int(ident)
    if kind in SUB_KINDS:
        found = [i for i, s in enumerate(plan.subs) if s.node_id == wanted]
    elif kind == "ind":
        found = [i for i, x in enumerate(plan.indikator) if x.indikator_id == wanted]
    elif kind in NARASI_FIELDS:
        found = [i for i, x in enumerate(plan.sasaran) if x.sasaran_id == wanted]
    else:
        return None
    return (kind, found[0]) if found else None


def check_field(session: Session, *, telegram_id: int, key: str, text: str) -> Checked | NoDraft:
    """One field checked as the operator types it: the chat's check of that step."""
    draft = _draft(session, telegram_id)
    if draft is None:
        return NoDraft()
    plan = draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    at = _locate(plan, key)
    if at is None:
        return Checked(unknown=True)
    slot = flow.slot_for(plan, load(draft), *at)
    if not text.strip() and slot.skippable:
        return Checked(value="")
    chk = slot.check(text[:MAX_ANSWER_TEXT])
    return Checked(chk.value, chk.error, chk.confirm)


def _first_open_step(plan: DraftPlan, data: dict) -> str:
    """Where the chat carries on after a save: the first question it asks without a skip
    that has no answer yet, else the review."""
    for step in plan.steps():
        parsed = StepId.parse(step)
        if parsed.kind not in REQUIRED or parsed.index is None:
            continue
        slot = flow.slot_for(plan, data, parsed.kind, parsed.index)
        if slot.store.get(slot.key) is None:
            return step
    return "review"


def save_form(
    session: Session, *, telegram_id: int, revision: int, answers: dict[str, Answer]
) -> Saved | Changed | NoDraft:
    """Store the page's answers onto draft ``revision`` (one transaction, one new revision).

    An empty skippable field (keterangan, aksi, hambatan, tindak lanjut) is stored empty, as
    the chat's Lewati / Kosongkan; an empty figure is refused (the chat has no skip there)."""
    draft = _draft(session, telegram_id)
    if draft is None:
        return NoDraft()
    if draft.revision != revision:
        return Changed(_form(session, draft))
    plan = draft_plan(session, draft.bidang_id, draft.tahun, draft.triwulan)
    data = load(draft)
    stored: list[str] = []
    errors: dict[str, Invalid | None] = {}
    confirms: dict[str, Drop] = {}
    unknown: list[str] = []
    for key, ans in list(answers.items())[:MAX_ANSWERS]:
        at = _locate(plan, key)
        if at is None:
            unknown.append(key)
            continue
        slot = flow.slot_for(plan, data, *at)
        down = flow.drop_key(plan, *at)
        text = ans.text[:MAX_ANSWER_TEXT]
        if not text.strip():
            if not slot.skippable:
                errors[key] = None  # the view says what to type
                continue
            value: object = ""
            drop = False
        else:
            chk = slot.check(text)
            if chk.error is not None:
                errors[key] = chk.error
                continue
            if chk.confirm is not None and not ans.confirmed:
                confirms[key] = chk.confirm
                continue
            value, drop = chk.value, chk.confirm is not None
        if slot.store.get(slot.key) == value and (
            down is None or drop == (down in data.get("turun", []))
        ):
            continue  # the draft already holds it: no write, no new revision
        flow.keep_answer(data, slot, down, value, drop=drop)
        stored.append(key)
    if stored:
        # A question the chat was showing (or a drop it was asking to confirm) may have been
        # answered here: the chat carries on at the first open question, and a button of an
        # earlier question then shows the current one instead of acting.
        data.pop("pending", None)
        data.pop("editing", None)
        kind = StepId.parse(draft.step).kind
        step = draft.step if kind == plan_step.KIND else _first_open_step(plan, data)
        save(session, draft, data, step)
    return Saved(_form(session, draft), stored, errors, confirms, unknown)


def send_form(
    session: Session,
    *,
    telegram_id: int,
    revision: int,
    over: int | None = None,
    discard: bool = False,
    bukti_wajib: bool = False,
) -> flow.Step | Changed | Incomplete | NoDraft:
    """Kirim from the page for draft ``revision`` (``over``: over the other submission of
    that version the page showed; ``discard``: throw the draft away after seeing it): the
    chat's review buttons, through the same service (``lapor_flow.press``)."""
    draft = _draft(session, telegram_id)
    if draft is None or draft.id is None:
        return NoDraft()
    if draft.revision != revision:
        return Changed(_form(session, draft))
    action = "discard" if discard else ("send" if over is None else f"over-{over}")
    if not discard:
        form = _form(session, draft)
        if form.review.missing:
            return Incomplete(form, form.review.missing)
        if draft.step != "review":
            # Kirim is a button of the review; the page showed everything the review shows.
            data = load(draft)
            data.pop("pending", None)
            data.pop("editing", None)
            save(session, draft, data, "review")
    try:
        return flow.press(
            session,
            telegram_id=telegram_id,
            user_id=draft.user_id,
            draft_id=draft.id,
            step="review",
            action=action,
            bukti_wajib=bukti_wajib,
        )
    except QuarterClosed as exc:
        return flow.Refused(closed=exc.reason)
    except SubmissionError as exc:
        return flow.Refused(str(exc))


__all__ = [
    "Answer",
    "Changed",
    "Checked",
    "Form",
    "Incomplete",
    "NoDraft",
    "Saved",
    "check_field",
    "open_form",
    "save_form",
    "send_form",
]
