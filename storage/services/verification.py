"""Verification of a submitted quarter: approve (Setujui), return with a reason (Kembalikan),
the queue of reports waiting for a person, reopening an approved quarter, and the buttons
of earlier verification messages that go when a report moves on.

Every function runs in the caller's transaction (``MonevContext.read``/``write``, within the
sender's office scope) and takes plain values parsed from an update; it returns one of the
frozen result dataclasses below, which a view turns into messages. A decision names the
report version its button showed (compare-and-set): any other version decides nothing and
shows the current one instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from storage.data import buttons
from storage.data.audit import record
from storage.data.buttons import SentButtons
from storage.data.models import AppUser, Bidang, Pelaporan, VerifMessage, row_id, utcnow
from storage.domain.periods import default_year
from storage.domain.policy import (
    Denied,
    StatusLaporan,
    may_decide,
    may_decide_as,
    may_reopen,
    may_see_office,
)
from storage.services import conversation
from storage.services.conversation import Flow
from storage.services.queries import years_with_data
from storage.services.submission import MAX_TYPED, Review, pelaporan, sent_draft
from storage.services.submission import review as build_review
from storage.services.users import active_user, find_bidang, person_name

# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """A waiting report as its approvers are shown it (``review`` None: submitted before
    drafts were kept, or imported: the figures are in the answers, not in a summary)."""

    pelaporan_id: int
    version: int
    bidang: str
    tahun: int
    triwulan: int
    oleh: str
    review: Review | None


@dataclass(frozen=True)
class NotActive:
    """The sender is not (or no longer) an active user."""


@dataclass(frozen=True)
class NotFound:
    """The report is not there: another office's (the scope leaves it out) or never existed;
    both read the same."""


@dataclass(frozen=True)
class Forbidden:
    """A permission rule (``storage.domain.policy``) refused; the view words ``denied``."""

    denied: Denied
    status: str = ""  # the report's status, for Denied.NOT_SUBMITTED


@dataclass(frozen=True)
class NoReason:
    """'Kembalikan' without a reason: nothing was returned."""


@dataclass(frozen=True)
class Current:
    """The button showed an older version: nothing was decided; the current one is shown."""

    card: Card


@dataclass(frozen=True)
class AskReason:
    """'Kembalikan' pressed: the reason is asked for next (the sender is in the reason flow)."""

    bidang: str
    tahun: int
    triwulan: int


@dataclass(frozen=True)
class Decided:
    """Approved (and locked) or returned; what the messages around the decision need."""

    approved: bool
    bidang: str
    tahun: int
    triwulan: int
    alasan: str
    operator: int | None  # the submitter's telegram id, to be told
    by: str  # who decided, as shown
    retired: list[SentButtons]  # earlier approve/return messages whose buttons go


Refusal = NotActive | NotFound | Forbidden | NoReason
Decision = Refusal | Current | Decided
ReasonAsked = NotActive | NotFound | Forbidden | Current | AskReason


@dataclass(frozen=True)
class Reopened:
    """An approved quarter unlocked by an admin."""

    bidang: str
    tahun: int
    triwulan: int


@dataclass(frozen=True)
class UnknownBidang:
    """/bukakembali named no bidang of the office."""

    text: str


Reopening = NotActive | UnknownBidang | Forbidden | Reopened


# --- the rules, once ---------------------------------------------------------------------------


def office_of_report(session: Session, p: Pelaporan) -> int | None:
    bidang = session.get(Bidang, p.bidang_id)
    return bidang.opd_id if bidang is not None else None


def verifier_check(session: Session, user: AppUser, p: Pelaporan) -> Denied | None:
    """May ``user`` approve or return ``p`` now? Their office's reports only, by a deciding
    role, never their own submission, only while it waits (``policy.may_decide``)."""
    return may_see_office(
        role=user.role,
        status=user.status,
        user_opd_id=user.opd_id,
        opd_id=office_of_report(session, p),
    ) or may_decide(
        role=user.role,
        status=user.status,
        user_id=user.id,
        submitted_by=p.submitted_by,
        report_status=p.status,
    )


def waiting_for(
    session: Session, *, role: str | None, status: str | None, user_id: int | None, opd_id: int
) -> list[Pelaporan]:
    """Every report of office ``opd_id`` waiting for this person's decision, oldest first:
    the one definition of "reports waiting for me" (the queue, its count on /start and in
    the reminder outlook)."""
    rows = session.exec(
        select(Pelaporan)
        .join(Bidang, col(Bidang.id) == col(Pelaporan.bidang_id))
        .where(Bidang.opd_id == opd_id, Pelaporan.status == StatusLaporan.DIAJUKAN)
        .order_by(col(Pelaporan.submitted_at), col(Pelaporan.id))
    ).all()
    return [
        p
        for p in rows
        if may_decide(
            role=role,
            status=status,
            user_id=user_id,
            submitted_by=p.submitted_by,
            report_status=p.status,
        )
        is None
    ]


# --- reading -----------------------------------------------------------------------------------


def card(session: Session, p: Pelaporan) -> Card:
    """The current version of a waiting report, as its approvers are shown it."""
    bidang = session.get(Bidang, p.bidang_id)
    op = session.get(AppUser, p.submitted_by) if p.submitted_by else None
    draft = sent_draft(session, p)
    return Card(
        pelaporan_id=row_id(p),
        version=p.version,
        bidang=bidang.nama if bidang is not None else "",
        tahun=p.tahun,
        triwulan=p.triwulan,
        oleh=person_name(op) if op is not None else "-",
        review=build_review(session, draft) if draft is not None else None,
    )


def queue(session: Session, *, telegram_id: int, opd_id: int) -> list[Card] | Forbidden:
    """/verifikasi: every report waiting for this person's decision, as cards."""
    user = active_user(session, telegram_id=telegram_id)
    if user is None or may_decide_as(role=user.role, status=user.status) is not None:
        return Forbidden(Denied.NOT_VERIFIER)
    found = waiting_for(session, role=user.role, status=user.status, user_id=user.id, opd_id=opd_id)
    return [card(session, p) for p in found]


def waiting_count(session: Session, *, telegram_id: int, opd_id: int) -> int:
    """How many reports wait for this person's decision (0 for everyone else)."""
    found = queue(session, telegram_id=telegram_id, opd_id=opd_id)
    return 0 if isinstance(found, Forbidden) else len(found)


# --- deciding ----------------------------------------------------------------------------------


def _checked(
    session: Session, user: AppUser | None, pelaporan_id: int, *, lock: bool = False
) -> Pelaporan | NotActive | NotFound | Forbidden:
    if user is None:
        return NotActive()
    p = session.get(Pelaporan, pelaporan_id, with_for_update=lock)
    if p is None:
        return NotFound()
    denied = verifier_check(session, user, p)
    return Forbidden(denied, status=p.status) if denied is not None else p


def decide(
    session: Session,
    *,
    telegram_id: int,
    pelaporan_id: int,
    version: int | None,
    approve: bool,
    alasan: str = "",
) -> Decision:
    """Approve (locks the quarter) or return with ``alasan`` the ``version`` the approver
    was shown. A button without a version (sent before versions existed) decides nothing
    unseen: it gets the current card. The decision, the end of a pending reason and the
    retired buttons commit together."""
    user = active_user(session, telegram_id=telegram_id)
    p = _checked(session, user, pelaporan_id, lock=True)
    if not isinstance(p, Pelaporan):
        return p
    assert user is not None
    if version != p.version:
        conversation.clear(session, telegram_id=telegram_id, flow=Flow.REASON)
        return Current(card(session, p))
    if not approve and not alasan.strip():
        return NoReason()
    _decided(
        session,
        p,
        StatusLaporan.DISETUJUI if approve else StatusLaporan.DIKEMBALIKAN,
        by=user,
        alasan=alasan.strip()[:MAX_TYPED],
        field="status",
    )
    conversation.clear(session, telegram_id=telegram_id, flow=Flow.REASON)
    shown = card(session, p)
    op = session.get(AppUser, p.submitted_by) if p.submitted_by else None
    return Decided(
        approved=approve,
        bidang=shown.bidang,
        tahun=p.tahun,
        triwulan=p.triwulan,
        alasan=p.alasan,
        operator=op.telegram_id if op is not None else None,
        by=person_name(user),
        retired=retire(session, pelaporan_id=row_id(p)),
    )


def ask_reason(
    session: Session, *, telegram_id: int, pelaporan_id: int, version: int | None
) -> ReasonAsked:
    """'Kembalikan' on the ``version`` shown: the reason flow begins (a typed reason then
    goes to ``decide``); any other version shows the current one."""
    user = active_user(session, telegram_id=telegram_id)
    p = _checked(session, user, pelaporan_id)
    if not isinstance(p, Pelaporan):
        return p
    shown = card(session, p)
    if version != p.version:
        return Current(shown)
    conversation.start(
        session,
        telegram_id=telegram_id,
        flow=Flow.REASON,
        payload={"pelaporan_id": pelaporan_id, "version": version},
    )
    return AskReason(shown.bidang, p.tahun, p.triwulan)


def reopen(
    session: Session, *, bidang_id: int, tahun: int, tw: int, user: AppUser
) -> Pelaporan | Forbidden:
    """Admin: unlock an approved quarter so its bidang can change it ("buka kembali")."""
    p = pelaporan(session, bidang_id, tahun, tw)
    denied = may_reopen(role=user.role, status=user.status, report_status=p.status if p else None)
    bidang = session.get(Bidang, bidang_id)
    if denied is None and bidang is not None:
        denied = may_see_office(
            role=user.role, status=user.status, user_opd_id=user.opd_id, opd_id=bidang.opd_id
        )
    if denied is not None or p is None:
        return Forbidden(denied or Denied.NOT_APPROVED)
    _decided(
        session,
        p,
        StatusLaporan.DIKEMBALIKAN,
        by=user,
        alasan="Dibuka kembali oleh admin",
        field="buka kembali",
    )
    return p


def _decided(
    session: Session,
    p: Pelaporan,
    status: StatusLaporan,
    *,
    by: AppUser,
    alasan: str,
    field: str,
) -> None:
    """A decision on a report (approve, return, reopen), recorded in the audit trail as
    ``field``: the one place a report's status is decided."""
    old = p.status
    p.status, p.decided_by, p.decided_at, p.alasan = status, by.id, utcnow(), alasan
    session.add(p)
    record(
        session,
        actor=f"user:{by.telegram_id}",
        entity="pelaporan",
        entity_id=p.id,
        field=field,
        old=old,
        new=p.status,
    )
    session.flush()


def reopen_quarter(
    session: Session, *, telegram_id: int, opd_id: int, bidang: str, tw: int, tahun: int | None
) -> Reopening:
    """/bukakembali: ``bidang`` (as typed) of office ``opd_id``, quarter ``tw`` of ``tahun``
    (None: the latest year with a plan)."""
    user = active_user(session, telegram_id=telegram_id)
    if user is None:
        return NotActive()
    b = find_bidang(session, text=bidang, opd_id=opd_id)
    if b is None:
        return UnknownBidang(bidang)
    tahun = default_year(tahun, years_with_data(session, opd_id))
    if tahun is None:  # no plan at all: nothing approved to reopen
        return Forbidden(Denied.NOT_APPROVED)
    done = reopen(session, bidang_id=row_id(b), tahun=tahun, tw=tw, user=user)
    if isinstance(done, Forbidden):
        return done
    return Reopened(b.nama, tahun, tw)


# --- buttons of verification messages ----------------------------------------------------------


def remember_card(
    session: Session, *, pelaporan_id: int, version: int, chat_id: int, message_id: int, text: str
) -> None:
    """A message with Setujui/Kembalikan for ``version`` of the report was sent."""
    session.add(
        VerifMessage(
            pelaporan_id=pelaporan_id,
            version=version,
            chat_id=chat_id,
            message_id=message_id,
            text=text,
        )
    )
    session.flush()


def retire(session: Session, *, pelaporan_id: int) -> list[SentButtons]:
    """Take the buttons off every earlier approve/return message of the report: the rows
    are marked here, and the caller edits the messages."""
    return buttons.retire(session, VerifMessage, col(VerifMessage.pelaporan_id) == pelaporan_id)
