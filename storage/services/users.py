"""People known to the bot: registration, approval, roles. Keyword-only CRUD."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.data.audit import record
from storage.data.models import AppUser, Bidang, Role, UserStatus
from storage.files.importer import normalise_name


class UserError(ValueError):
    """A request about a user that cannot be carried out; ``str()`` is Indonesian."""


def get_user(session: Session, *, telegram_id: int) -> AppUser | None:
    return session.exec(select(AppUser).where(AppUser.telegram_id == telegram_id)).first()


def active_user(session: Session, *, telegram_id: int) -> AppUser | None:
    """The user if registered and approved; everyone else is a stranger."""
    user = get_user(session, telegram_id=telegram_id)
    return user if user is not None and user.status == UserStatus.ACTIVE and user.role else None


def find_bidang(session: Session, *, text: str, opd_id: int) -> Bidang | None:
    """A bidang of the office ``opd_id`` by id, code, name or alias."""
    rows = session.exec(select(Bidang).where(Bidang.opd_id == opd_id)).all()
    t = text.strip()
    if t.isdecimal():
        return next((b for b in rows if b.id == int(t)), None)
    key = normalise_name(t)
    for b in rows:
        names = [b.kode, b.nama, *b.alias_list()]
        if key in {normalise_name(n) for n in names}:
            return b
    return None


def _audit(
    session: Session, actor: str, user: AppUser, field: str, old: object, new: object
) -> None:
    record(
        session, actor=actor, entity="app_user", entity_id=user.id, field=field, old=old, new=new
    )


def set_user(
    session: Session,
    *,
    telegram_id: int,
    role: Role,
    bidang_id: int | None = None,
    nama: str | None = None,
    actor: str,
) -> AppUser:
    """Create or update an active user with ``role`` (operators need a bidang)."""
    if role == Role.OPERATOR and bidang_id is None:
        raise UserError(
            "Operator harus punya bidang. Tambahkan --bidang, misalnya --bidang koperasi."
        )
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        user = AppUser(telegram_id=telegram_id)
        session.add(user)
        session.flush()
    old = f"{user.role}/{user.status}/{user.bidang_id}"
    user.role = role
    user.bidang_id = bidang_id if role == Role.OPERATOR else None
    user.status = UserStatus.ACTIVE
    if nama:
        user.nama = nama
    session.add(user)
    session.flush()
    _audit(session, actor, user, "peran", old, f"{user.role}/{user.status}/{user.bidang_id}")
    return user


def request_access(
    session: Session, *, telegram_id: int, nama: str, nip: str, bidang_id: int | None
) -> AppUser:
    """Record a /daftar request; an active user stays as they are."""
    user = get_user(session, telegram_id=telegram_id)
    if user is not None and user.status == UserStatus.ACTIVE:
        raise UserError("Anda sudah terdaftar.")
    if user is None:
        user = AppUser(telegram_id=telegram_id)
    user.nama, user.nip, user.bidang_id = nama, nip, bidang_id
    user.status, user.role = UserStatus.PENDING, None
    session.add(user)
    session.flush()
    _audit(session, f"user:{telegram_id}", user, "permintaan akses", None, nama)
    return user


def reject_user(session: Session, *, telegram_id: int, actor: str) -> AppUser:
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        raise UserError(f"Pengguna {telegram_id} tidak dikenal.")
    old = user.status
    user.status, user.role = UserStatus.REJECTED, None
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
    session.add(user)
    _audit(session, actor, user, "akses dicabut", old, None)
    return user


def list_users(session: Session) -> list[AppUser]:
    return list(
        session.exec(
            select(AppUser).order_by(col(AppUser.status), col(AppUser.role), col(AppUser.id))
        ).all()
    )


def admins(session: Session) -> list[AppUser]:
    return list(
        session.exec(
            select(AppUser).where(AppUser.role == Role.ADMIN, AppUser.status == UserStatus.ACTIVE)
        ).all()
    )
