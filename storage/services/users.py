"""People known to the bot: registration, approval, roles. Keyword-only CRUD."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.data.audit import record
from storage.data.models import (
    AppUser,
    Bidang,
    PerangkatDaerah,
    Role,
    UserStatus,
    row_id,
    table_of,
    utcnow,
)
from storage.domain.errors import MonevError
from storage.domain.policy import KABUPATEN_ROLES
from storage.domain.text import normalise_name
from storage.services.queries import list_bidang


class UserError(MonevError, ValueError):
    """A request about a user that cannot be carried out; ``str()`` is Indonesian."""


def get_user(session: Session, *, telegram_id: int) -> AppUser | None:
    return session.exec(select(AppUser).where(AppUser.telegram_id == telegram_id)).first()


def active_user(session: Session, *, telegram_id: int) -> AppUser | None:
    """The user if registered and approved; everyone else is a stranger. The one lookup of
    "who is this, may they act" by Telegram id (every service asks this one)."""
    user = get_user(session, telegram_id=telegram_id)
    return user if user is not None and user.status == UserStatus.ACTIVE and user.role else None


@dataclass(frozen=True)
class Identity:
    """A known person as every update needs them (plain values of their row)."""

    user_id: int
    nama: str
    role: Role | None
    bidang_id: int | None
    status: str
    opd_id: int | None


_users = table_of(AppUser)
# Built once: it runs for every update, and building it costs about what running it does.
IDENTITY_COLUMNS = (
    _users.c.id, _users.c.nama, _users.c.role, _users.c.bidang_id, _users.c.status, _users.c.opd_id
)  # fmt: skip
_IDENTITY = sa_select(*IDENTITY_COLUMNS).where(_users.c.telegram_id == bindparam("telegram_id"))


def identity(session: Session, *, telegram_id: int) -> Identity | None:
    """Who this Telegram id is, whatever their status (None: a stranger); runs for every
    update, so a plain row query, not ORM objects."""
    row = session.connection().execute(_IDENTITY, {"telegram_id": telegram_id}).first()
    return None if row is None else identity_of(row)


def identity_of(row: Any) -> Identity | None:
    """The identity in a row of ``IDENTITY_COLUMNS`` (None: no user, the columns are empty)."""
    if row.id is None:
        return None
    role = Role(row.role) if row.role else None
    return Identity(row.id, row.nama, role, row.bidang_id, str(row.status), row.opd_id)


def person_name(user: AppUser) -> str:
    """How a person is named to others: their name, else their Telegram id."""
    return user.nama or str(user.telegram_id)


def sender_office(*, opd_id: int | None, only_office: int | None) -> int | None:
    """The office a person acts in: their own; for someone without one (the kabupaten roles,
    people registered before offices), the only office of a one-office deployment
    (``only_office``; None when the deployment serves several)."""
    return opd_id if opd_id is not None else only_office


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


def bidang_codes(session: Session, opd_id: int) -> list[tuple[str, str]]:
    """(kode, nama) of the bidang of an office, in order: how a person may name them."""
    rows = session.exec(
        select(Bidang).where(Bidang.opd_id == opd_id).order_by(col(Bidang.id))
    ).all()
    return [(b.kode, b.nama) for b in rows]


def bidang_names(session: Session, *, opd_id: int | None = None) -> list[tuple[int, str]]:
    """(id, name) of the bidang of office ``opd_id`` in their order; None: of every office."""
    if opd_id is not None:
        return [(row_id(b), b.nama) for b in list_bidang(session, opd_id)]
    return [(row_id(b), b.nama) for b in session.exec(select(Bidang).order_by(col(Bidang.id)))]


def audit_change(
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
    audit_change(session, actor, user, "peran", old, f"{user.role}/{user.status}/{user.bidang_id}")
    return user


def _without_access(
    session: Session,
    *,
    telegram_id: int,
    actor: str,
    status: UserStatus,
    field: str,
    old: Callable[[AppUser], object],
    new: Callable[[AppUser], object],
    now: datetime | None = None,
) -> AppUser:
    """The one way a person loses access: no role, ``status``, and the change in the audit
    trail as ``field`` (``old``/``new`` say how the trail words it)."""
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        raise UserError(f"Pengguna {telegram_id} tidak dikenal.")
    before = old(user)
    user.status, user.role = status, None
    user.status_at = now or utcnow()
    session.add(user)
    audit_change(session, actor, user, field, before, new(user))
    return user


def _role_status(user: AppUser) -> str:
    return f"{user.role}/{user.status}"


def reject_user(
    session: Session, *, telegram_id: int, actor: str, now: datetime | None = None
) -> AppUser:
    return _without_access(
        session,
        telegram_id=telegram_id,
        actor=actor,
        status=UserStatus.REJECTED,
        field="status",
        old=lambda u: u.status,
        new=lambda u: u.status,
        now=now,
    )


def block_user(session: Session, *, telegram_id: int, actor: str) -> AppUser:
    """No access and no further requests (an admin lifts it by giving a role)."""
    return _without_access(
        session,
        telegram_id=telegram_id,
        actor=actor,
        status=UserStatus.BLOCKED,
        field="status",
        old=_role_status,
        new=lambda u: u.status,
    )


def remove_user(session: Session, *, telegram_id: int, actor: str) -> AppUser:
    """Revoke access: the user becomes a stranger again (kept for the audit trail)."""
    return _without_access(
        session,
        telegram_id=telegram_id,
        actor=actor,
        status=UserStatus.REJECTED,
        field="akses dicabut",
        old=_role_status,
        new=lambda u: None,
    )


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
