"""Who sent an update, as far as the database knows, and the offices that person may read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlmodel import Session

from storage.data.models import AppUser, Role, UserStatus
from storage.domain.policy import NO_OFFICE, Scope, scope_of


@dataclass(frozen=True)
class Actor:
    """Who sent the update, as far as the database knows (None fields for a stranger)."""

    telegram_id: int
    user_id: int | None
    nama: str
    role: Role | None
    bidang_id: int | None
    status: str | None
    opd_id: int | None = None  # the person's office; None for the kabupaten roles

    @property
    def active(self) -> bool:
        return self.role is not None and self.status == UserStatus.ACTIVE

    def has(self, *roles: Role) -> bool:
        return self.active and self.role in roles


def actor_scope(actor: Actor | None, only_office: int | None) -> Scope:
    """The offices ``actor`` may read (``policy.scope_of``); in a deployment serving one office
    (``only_office``), a person without an office belongs to that one."""
    if actor is None:
        return NO_OFFICE
    own = actor.opd_id if actor.opd_id is not None else only_office
    return scope_of(role=actor.role, status=actor.status, user_opd_id=own)


_users = AppUser.__table__  # type: ignore[attr-defined]
# Built once: it runs for every update, and building it costs about what running it does.
_ACTOR = select(
    _users.c.id, _users.c.nama, _users.c.role, _users.c.bidang_id, _users.c.status, _users.c.opd_id
).where(_users.c.telegram_id == bindparam("telegram_id"))


def load_actor(session: Session, telegram_id: int) -> Actor:
    """Who this is; runs for every update, so a plain row query, not ORM objects."""
    row = session.connection().execute(_ACTOR, {"telegram_id": telegram_id}).first()
    if row is None:
        return Actor(telegram_id, None, "", None, None, None)
    role = Role(row.role) if row.role else None
    return Actor(telegram_id, row.id, row.nama, role, row.bidang_id, str(row.status), row.opd_id)
