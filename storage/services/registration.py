"""Registration (/daftar) as a service: a stranger's request for access, one at a time and
versioned, and an admin's decision on the version their message showed.

Every function runs in the caller's transaction (``MonevContext.read``/``write``) and takes
plain values parsed from an update; the decisions return one of the frozen result
dataclasses below, which the transport words (``bot/handlers/registration.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from storage.data import buttons
from storage.data.buttons import SentButtons
from storage.data.models import AppUser, Bidang, RegMessage, Setting, row_id, utcnow
from storage.domain.offices import OfficeName
from storage.domain.policy import Role, UserStatus, may_see_office
from storage.domain.text import clean_line
from storage.services import conversation
from storage.services.conversation import Flow
from storage.services.kabupaten import office_names
from storage.services.users import (
    admins,
    audit_change,
    bidang_names,
    block_user,
    get_user,
    office_of,
    reject_user,
    set_user,
)

# Hours a rejected person waits before asking again (docs/domain.md: registration).
COOLDOWN_SETTING = "daftar_jeda_jam"
DEFAULT_COOLDOWN_HOURS = 24
# A waiting request is changed at most this often: each change edits the admins' messages.
RESEND_AFTER = timedelta(minutes=1)


def cooldown(session: Session) -> timedelta:
    """How long a rejected person waits before a new request (the ``Setting``, else 24 h)."""
    row = session.get(Setting, COOLDOWN_SETTING)
    try:
        hours = float(row.value) if row is not None else DEFAULT_COOLDOWN_HOURS
    except ValueError:
        hours = DEFAULT_COOLDOWN_HOURS
    return timedelta(hours=max(hours, 0))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Gate(StrEnum):
    """Whether a person may send a /daftar request now."""

    OPEN = "open"
    ACTIVE = "active"  # already registered
    BLOCKED = "blocked"
    COOLING = "cooling"  # rejected less than the cool-down ago
    TOO_SOON = "too_soon"  # the waiting request changed less than RESEND_AFTER ago
    OTHER_OFFICE = "other_office"  # the waiting request is for another office


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    until: datetime | None = None  # COOLING, TOO_SOON: when a request is accepted (UTC)
    # A request of this person is waiting (one at a time): a new one changes it, for the
    # same office (``pending_opd``).
    pending: bool = False
    pending_opd: int | None = None


def request_gate(session: Session, *, telegram_id: int, now: datetime | None = None) -> GateResult:
    """May this person ask for access now? Blocked never; rejected only after the cool-down."""
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        return GateResult(Gate.OPEN)
    if user.status == UserStatus.ACTIVE and user.role:
        return GateResult(Gate.ACTIVE)
    if user.status == UserStatus.BLOCKED:
        return GateResult(Gate.BLOCKED)
    if user.status == UserStatus.REJECTED and user.status_at is not None:
        until = _aware(user.status_at) + cooldown(session)
        if (now or utcnow()) < until:
            return GateResult(Gate.COOLING, until)
    if user.status == UserStatus.PENDING and user.request_version > 0:
        return GateResult(Gate.OPEN, pending=True, pending_opd=user.opd_id)
    return GateResult(Gate.OPEN)


@dataclass(frozen=True)
class AccessRequest:
    """The outcome of a /daftar request."""

    gate: GateResult
    user: AppUser | None = None
    version: int = 0
    new: bool = False  # False: the same request already waits (nothing new to send)
    admin_ids: list[int] = field(default_factory=list)  # to notify (a first request)
    # A changed waiting request: the admins' messages showing it, to be edited in place to
    # the new version (their old buttons go with the edit); no new message is sent.
    live: list[SentButtons] = field(default_factory=list)
    opd_id: int | None = None  # the office the request is for


def request_access(
    session: Session,
    *,
    telegram_id: int,
    nama: str,
    nip: str,
    bidang_id: int | None,
    now: datetime | None = None,
    opd_id: int | None = None,
) -> AccessRequest:
    """Record a /daftar request. One request per person at a time: while one waits, a
    different one replaces it as a new version (at most once per ``RESEND_AFTER``, for the
    same office), and the admins' messages of it are edited rather than sent again."""
    gate = request_gate(session, telegram_id=telegram_id, now=now)
    if gate.gate in (Gate.ACTIVE, Gate.BLOCKED, Gate.COOLING):
        return AccessRequest(gate)
    now = now or utcnow()
    nama = clean_line(nama)  # as /lapor's fields: NFC, no bidi or zero-width characters
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        user = AppUser(telegram_id=telegram_id)
    if gate.pending:
        if opd_id is not None and user.opd_id is not None and opd_id != user.opd_id:
            return AccessRequest(replace(gate, gate=Gate.OTHER_OFFICE), opd_id=user.opd_id)
        if (user.nama, user.nip, user.bidang_id) == (nama, nip, bidang_id):
            return AccessRequest(gate, user=user, version=user.request_version)
        if user.status_at is not None and now < _aware(user.status_at) + RESEND_AFTER:
            until = _aware(user.status_at) + RESEND_AFTER
            return AccessRequest(replace(gate, gate=Gate.TOO_SOON, until=until))
    old = f"{user.nama}/{user.nip}/{user.bidang_id}" if user.request_version else None
    user.nama, user.nip, user.bidang_id = nama, nip, bidang_id
    user.opd_id = office_of(session, role=None, bidang_id=bidang_id, opd_id=opd_id or user.opd_id)
    user.status, user.role = UserStatus.PENDING, None
    user.request_version += 1
    user.status_at = now
    session.add(user)
    session.flush()
    audit_change(
        session,
        f"user:{telegram_id}",
        user,
        f"permintaan akses v{user.request_version}",
        old,
        f"{nama}/{nip}/{bidang_id}",
    )
    live = (
        [
            buttons.sent(r)
            for r in session.exec(
                select(RegMessage)
                .where(RegMessage.user_id == user.id, col(RegMessage.retired).is_(False))
                .order_by(col(RegMessage.id))
            ).all()
        ]
        if gate.pending
        else []
    )
    return AccessRequest(
        gate,
        user=user,
        version=user.request_version,
        new=True,
        admin_ids=[] if live else [a.telegram_id for a in admins(session, opd_id=user.opd_id)],
        live=live,
        opd_id=user.opd_id,
    )


def refresh_reg_messages(
    session: Session, *, telegram_id: int, ids: list[int], version: int, text: str
) -> None:
    """The admins' messages ``ids`` were edited to show ``version`` of the request."""
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        return
    for row in session.exec(
        select(RegMessage).where(col(RegMessage.id).in_(ids), RegMessage.user_id == user.id)
    ).all():
        row.version, row.text = version, text
        # Replaced again (or decided) while it was being edited: its buttons are stale.
        row.retired = user.request_version != version or user.status != UserStatus.PENDING
        session.add(row)
    session.flush()


def retire_reg_messages(session: Session, *, user_id: int) -> list[SentButtons]:
    """Take the buttons off every admin message of this person's requests: the rows are
    marked here, and the caller edits the messages."""
    return buttons.retire(session, RegMessage, col(RegMessage.user_id) == user_id)


def remember_reg_message(
    session: Session, *, telegram_id: int, version: int, chat_id: int, message_id: int, text: str
) -> None:
    """An admin was sent the buttons for ``version`` of this person's request."""
    user = get_user(session, telegram_id=telegram_id)
    if user is None or user.id is None:
        return
    session.add(
        RegMessage(
            user_id=user.id,
            version=version,
            chat_id=chat_id,
            message_id=message_id,
            text=text,
            # Already replaced while it was being sent: retire it at once.
            retired=user.request_version != version or user.status != UserStatus.PENDING,
        )
    )
    session.flush()


# --- the request ---------------------------------------------------------------------------------


def bidang_rows(session: Session, *, opd_id: int) -> list[tuple[int, str]]:
    """The bidang a person of office ``opd_id`` may ask to operate: (id, name), in order."""
    return bidang_names(session, opd_id=opd_id)


def offices(session: Session) -> list[OfficeName]:
    """The offices a request may be for."""
    return office_names(session)


def office_label(session: Session, *, opd_id: int | None) -> str:
    """The office's name for a registration message when there are several, else ""."""
    found = office_names(session)
    if len(found) < 2:
        return ""
    return next((o.label for o in found if o.id == opd_id), "")


@dataclass(frozen=True)
class GateClosed:
    """Not sent now: blocked, cooling down after a rejection, or changed too recently."""

    gate: GateResult


@dataclass(frozen=True)
class OtherOffice:
    """A request of this person waits for another office (its name when there are several)."""

    label: str


@dataclass(frozen=True)
class AlreadyActive:
    """The person was given access meanwhile."""


@dataclass(frozen=True)
class SamePending:
    """The same request already waits: nothing new to send."""


@dataclass(frozen=True)
class Requested:
    """A new request, or a new version of the waiting one, for the admins to decide."""

    nama: str
    version: int
    opd_id: int | None
    office_label: str  # "" when the deployment serves one office
    bidang: list[tuple[int, str]]  # the office's bidang, for the approval buttons
    admin_ids: list[int]  # to be sent the request (a first request)
    live: list[SentButtons]  # a changed request: the admins' messages to edit in place


Sending = GateClosed | OtherOffice | AlreadyActive | SamePending | Requested


def send_request(
    session: Session,
    *,
    telegram_id: int,
    nama: str,
    nip: str,
    bidang_id: int | None,
    opd_id: int | None,
) -> Sending:
    """Kirim on the confirmation: the request recorded and the registration flow ended in
    one transaction (a crash cannot send it twice)."""
    conversation.clear(session, telegram_id=telegram_id, flow=Flow.REGISTRATION)
    result = request_access(
        session, telegram_id=telegram_id, nama=nama, nip=nip, bidang_id=bidang_id, opd_id=opd_id
    )
    gate = result.gate.gate
    if gate in (Gate.BLOCKED, Gate.COOLING, Gate.TOO_SOON):
        return GateClosed(result.gate)
    if gate == Gate.OTHER_OFFICE:
        return OtherOffice(office_label(session, opd_id=result.opd_id))
    if gate == Gate.ACTIVE:
        return AlreadyActive()
    if not result.new:
        return SamePending()
    office = opd_id or result.opd_id
    return Requested(
        nama=result.user.nama if result.user is not None else nama,
        version=result.version,
        opd_id=office,
        office_label=office_label(session, opd_id=office),
        bidang=bidang_rows(session, opd_id=office) if office else [],
        admin_ids=result.admin_ids,
        live=result.live,
    )


# --- the admin's decision ----------------------------------------------------------------------


class Verdict(StrEnum):
    APPROVE = "ok"
    REJECT = "no"
    BLOCK = "blk"


@dataclass(frozen=True)
class Approved:
    role: Role
    bidang: str = ""  # an operator's bidang


@dataclass(frozen=True)
class Rejected:
    pass


@dataclass(frozen=True)
class Blocked:
    pass


Outcome = Approved | Rejected | Blocked


@dataclass(frozen=True)
class UnknownRequest:
    """No such person, or the bidang of the button is not the office's: a stale button."""


@dataclass(frozen=True)
class NotTheirOffice:
    """The request is for an office the admin does not manage."""


@dataclass(frozen=True)
class AlreadyDecided:
    outcome: Outcome


@dataclass(frozen=True)
class Replaced:
    """The button showed an older version of the request: nothing decided; the request as
    it stands now."""

    nama: str
    nip: str
    bidang: str


@dataclass(frozen=True)
class Done:
    outcome: Outcome
    telegram_id: int  # the person, to be told (unless blocked)
    retired: list[SentButtons]  # the other admins' messages of the request


Decision = UnknownRequest | NotTheirOffice | AlreadyDecided | Replaced | Done


def decide(
    session: Session,
    *,
    admin_telegram_id: int,
    admin_opd_id: int | None,
    telegram_id: int,
    verdict: Verdict,
    version: int,
    role: Role | None = None,
    bidang_id: int | None = None,
) -> Decision:
    """Apply an admin's button to the request version it showed. ``admin_opd_id``: the
    office the admin acts in (``users.sender_office``)."""
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        return UnknownRequest()
    admin = get_user(session, telegram_id=admin_telegram_id)
    if admin is None or (
        user.opd_id is not None
        and may_see_office(
            role=admin.role, status=admin.status, user_opd_id=admin_opd_id, opd_id=user.opd_id
        )
        is not None
    ):
        return NotTheirOffice()
    if user.status != UserStatus.PENDING:
        if user.status == UserStatus.ACTIVE and user.role is not None:
            return AlreadyDecided(Approved(Role(user.role)))
        if user.status == UserStatus.BLOCKED:
            return AlreadyDecided(Blocked())
        return AlreadyDecided(Rejected())
    if version != user.request_version:
        asked = session.get(Bidang, user.bidang_id) if user.bidang_id else None
        return Replaced(user.nama, user.nip or "-", asked.nama if asked is not None else "-")
    actor = f"user:{admin_telegram_id}"
    outcome: Outcome
    if verdict == Verdict.REJECT:
        reject_user(session, telegram_id=telegram_id, actor=actor)
        outcome = Rejected()
    elif verdict == Verdict.BLOCK:
        block_user(session, telegram_id=telegram_id, actor=actor)
        outcome = Blocked()
    else:
        if role is None:
            return UnknownRequest()
        bidang_name = ""
        if role == Role.OPERATOR:
            office = user.opd_id or admin_opd_id or 0
            match = [nama for b, nama in bidang_rows(session, opd_id=office) if b == bidang_id]
            if not match:
                return UnknownRequest()
            bidang_name = match[0]
        set_user(session, telegram_id=telegram_id, role=role, bidang_id=bidang_id, actor=actor)
        outcome = Approved(role, bidang_name)
    return Done(outcome, telegram_id, retire_reg_messages(session, user_id=row_id(user)))
