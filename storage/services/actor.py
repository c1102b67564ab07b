"""Who sent an update, as far as the database knows, and the offices that person may read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, bindparam, cast
from sqlalchemy import select as sa_select
from sqlmodel import Session

from storage.domain.policy import NO_OFFICE, Role, Scope, UserStatus, scope_of
from storage.services import conversation
from storage.services.cache import figure_cache
from storage.services.users import IDENTITY_COLUMNS, identity, identity_of, sender_office


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
    own = sender_office(opd_id=actor.opd_id, only_office=only_office)
    return scope_of(role=actor.role, status=actor.status, user_opd_id=own)


def load_actor(session: Session, telegram_id: int) -> Actor:
    """Who this is (runs for every update: ``users.identity``, a plain row query)."""
    who = identity(session, telegram_id=telegram_id)
    if who is None:
        return Actor(telegram_id, None, "", None, None, None)
    return Actor(
        telegram_id, who.user_id, who.nama, who.role, who.bidang_id, who.status, who.opd_id
    )


# Who sent a text and the flow they are in, in one statement: every text asks both (two
# round trips on PostgreSQL otherwise, issue 29). The sender's id is the left side, so a
# stranger, or someone in no flow, still gets a row.
_KEY = sa_select(cast(bindparam("telegram_id"), BigInteger).label("tid")).subquery("k")
_USERS, _CHATS = IDENTITY_COLUMNS[0].table, conversation.STATE_COLUMNS[0].table
_SENDER = sa_select(*IDENTITY_COLUMNS, *conversation.STATE_COLUMNS).select_from(
    _KEY.outerjoin(_USERS, _USERS.c.telegram_id == _KEY.c.tid).outerjoin(
        _CHATS, _CHATS.c.telegram_id == _KEY.c.tid
    )
)


def load_actor_and_flow(
    session: Session, telegram_id: int
) -> tuple[Actor, conversation.State | None]:
    """``load_actor`` and ``conversation.get`` in one statement (with the figure cache's look
    at the audit trail when the session carries the cache: the answer's next statement)."""
    params = {"telegram_id": telegram_id}
    cache = figure_cache(session)
    row = (
        session.connection().execute(_SENDER, params).one()
        if cache is None
        else cache.one_along(session, _SENDER, params)
    )
    who = identity_of(row)
    actor = (
        Actor(telegram_id, None, "", None, None, None)
        if who is None
        else Actor(
            telegram_id, who.user_id, who.nama, who.role, who.bidang_id, who.status, who.opd_id
        )
    )
    return actor, conversation.state_of(row)
