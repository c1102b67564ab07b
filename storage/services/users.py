"""People known to the bot: registration, approval, roles. Keyword-only CRUD."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from storage.data import buttons
from storage.data.audit import record
from storage.data.models import (
    AppUser,
    Bidang,
    PerangkatDaerah,
    RegMessage,
    Role,
    Setting,
    UserStatus,
    utcnow,
)
from storage.domain.policy import KABUPATEN_ROLES
from storage.domain.text import clean_line, normalise_name


class UserError(ValueError):
    """A request about a user that cannot be carried out; ``str()`` is Indonesian."""


def get_user(session: Session, *, telegram_id: int) -> AppUser | None:
    return session.exec(select(AppUser).where(AppUser.telegram_id == telegram_id)).first()


def active_user(session: Session, *, telegram_id: int) -> AppUser | None:
    """The user if registered and approved; everyone else is a stranger."""
    user = get_user(session, telegram_id=telegram_id)
    return user if user is not None and user.status == UserStatus.ACTIVE and user.role else None


def find_bidang(
    session: Session, *, text: str, opd_id: int, partial: bool = False
) -> Bidang | None:
    """A bidang of the office ``opd_id`` by id, code, name or alias; ``partial``: also by the
    start of words of its name ("pencegahan"), when that names one bidang only."""
    rows = session.exec(select(Bidang).where(Bidang.opd_id == opd_id)).all()
    t = text.strip()
    if t.isdecimal():
        return next((b for b in rows if b.id == int(t)), None)
    key = normalise_name(t)
    for b in rows:
        names = [b.kode, b.nama, *b.alias_list()]
        if key in {normalise_name(n) for n in names}:
            return b
    # A word of the name ("pencegahan" for "Pencegahan dan Kesiapsiagaan"): only when it
    # names one bidang, never a guess between two.
    words = key.split()
    if not partial or not words:
        return None
    found = [
        b
        for b in rows
        if all(
            any(w.startswith(k) for w in normalise_name(n).split())
            for k in words
            for n in [" ".join([b.kode, b.nama, *b.alias_list()])]
        )
    ]
    return found[0] if len(found) == 1 else None


def bidang_choices(session: Session, opd_id: int) -> str:
    """The bidang of an office as a person may name them: "kode (Nama)", in order."""
    rows = session.exec(
        select(Bidang).where(Bidang.opd_id == opd_id).order_by(col(Bidang.id))
    ).all()
    return ", ".join(f"{b.kode} ({b.nama})" for b in rows) or "belum ada bidang"


def _audit(
    session: Session, actor: str, user: AppUser, field: str, old: object, new: object
) -> None:
    record(
        session, actor=actor, entity="app_user", entity_id=user.id, field=field, old=old, new=new
    )


def _only_office_id(session: Session) -> int | None:
    ids = session.exec(select(PerangkatDaerah.id).limit(2)).all()
    return ids[0] if len(ids) == 1 else None


def office_of(
    session: Session, *, role: Role | None, bidang_id: int | None, opd_id: int | None
) -> int | None:
    """The office a person with ``role`` belongs to: none for the kabupaten roles, the
    bidang's office for an operator, else the one named, else the only office there is."""
    if role in KABUPATEN_ROLES:
        return None
    if bidang_id is not None:
        bidang = session.get(Bidang, bidang_id)
        if bidang is not None:
            if opd_id is not None and opd_id != bidang.opd_id:
                raise UserError("Bidang itu bukan bidang perangkat daerah yang dipilih.")
            return bidang.opd_id
    return opd_id if opd_id is not None else _only_office_id(session)


def bind_to_office(session: Session, *, opd_id: int) -> int:
    """Bind people of a one-office deployment who have no office yet (kabupaten roles
    excepted) to it; returns how many were bound."""
    rows = session.exec(select(AppUser).where(col(AppUser.opd_id).is_(None))).all()
    n = 0
    for user in rows:
        if user.role in KABUPATEN_ROLES:
            continue
        user.opd_id = opd_id
        session.add(user)
        n += 1
    if n:
        session.flush()
    return n


def set_user(
    session: Session,
    *,
    telegram_id: int,
    role: Role,
    bidang_id: int | None = None,
    nama: str | None = None,
    actor: str,
    opd_id: int | None = None,
) -> AppUser:
    """Create or update an active user with ``role`` (operators need a bidang; people of an
    office need the office when the database holds several)."""
    if role == Role.OPERATOR and bidang_id is None:
        raise UserError(
            "Operator harus punya bidang. Tambahkan --bidang, misalnya --bidang koperasi."
        )
    user = get_user(session, telegram_id=telegram_id)
    office = office_of(
        session,
        role=role,
        bidang_id=bidang_id if role == Role.OPERATOR else None,
        opd_id=opd_id if opd_id is not None else (user.opd_id if user is not None else None),
    )
    if office is None and role not in KABUPATEN_ROLES:
        raise UserError(
            "Ada lebih dari satu perangkat daerah: sebutkan perangkat daerah orang ini "
            "(--opd SINGKATAN)."
        )
    if user is None:
        user = AppUser(telegram_id=telegram_id)
        session.add(user)
        session.flush()
    old = f"{user.role}/{user.status}/{user.bidang_id}"
    user.role = role
    user.opd_id = office
    user.bidang_id = bidang_id if role == Role.OPERATOR else None
    user.status = UserStatus.ACTIVE
    user.status_at = utcnow()
    if nama:
        user.nama = nama
    session.add(user)
    session.flush()
    _audit(session, actor, user, "peran", old, f"{user.role}/{user.status}/{user.bidang_id}")
    return user


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
    live: list[RegMessage] = field(default_factory=list)
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
    _audit(
        session,
        f"user:{telegram_id}",
        user,
        f"permintaan akses v{user.request_version}",
        old,
        f"{nama}/{nip}/{bidang_id}",
    )
    live = (
        list(
            session.exec(
                select(RegMessage)
                .where(RegMessage.user_id == user.id, col(RegMessage.retired).is_(False))
                .order_by(col(RegMessage.id))
            ).all()
        )
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


def retire_reg_messages(session: Session, *, user_id: int) -> list[RegMessage]:
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


def reject_user(
    session: Session, *, telegram_id: int, actor: str, now: datetime | None = None
) -> AppUser:
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        raise UserError(f"Pengguna {telegram_id} tidak dikenal.")
    old = user.status
    user.status, user.role = UserStatus.REJECTED, None
    user.status_at = now or utcnow()
    session.add(user)
    _audit(session, actor, user, "status", old, user.status)
    return user


def block_user(session: Session, *, telegram_id: int, actor: str) -> AppUser:
    """No access and no further requests (an admin lifts it by giving a role)."""
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        raise UserError(f"Pengguna {telegram_id} tidak dikenal.")
    old = f"{user.role}/{user.status}"
    user.status, user.role = UserStatus.BLOCKED, None
    user.status_at = utcnow()
    session.add(user)
    _audit(session, actor, user, "status", old, user.status)
    return user


def remove_user(session: Session, *, telegram_id: int, actor: str) -> AppUser:
    """Revoke access: the user becomes a stranger again (kept for the audit trail)."""
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        raise UserError(f"Pengguna {telegram_id} tidak dikenal.")
    old = f"{user.role}/{user.status}"
    user.status, user.role = UserStatus.REJECTED, None
    user.status_at = utcnow()
    session.add(user)
    _audit(session, actor, user, "akses dicabut", old, None)
    return user


def list_users(session: Session) -> list[AppUser]:
    return list(
        session.exec(
            select(AppUser).order_by(col(AppUser.status), col(AppUser.role), col(AppUser.id))
        ).all()
    )


def admins(session: Session, *, opd_id: int | None = None) -> list[AppUser]:
    """Active admins; with ``opd_id``, those of that office and the admins kabupaten (who
    manage every office's admins)."""
    if opd_id is None:
        return list(
            session.exec(
                select(AppUser).where(
                    AppUser.role == Role.ADMIN, AppUser.status == UserStatus.ACTIVE
                )
            ).all()
        )
    return list(
        session.exec(
            select(AppUser)
            .where(
                AppUser.status == UserStatus.ACTIVE,
                ((AppUser.role == Role.ADMIN) & (AppUser.opd_id == opd_id))
                | (AppUser.role == Role.ADMIN_KABUPATEN),
            )
            .order_by(col(AppUser.id))
        ).all()
    )
