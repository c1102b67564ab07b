"""The update inbox: every update from Telegram is in it before Telegram forgets it, as
received or already done, so one fetched but not handled when the process died is handled
after the restart (at-least-once), and an update id seen twice is handled once. No
Telegram (when each write happens is ``bot.inbox``'s business).

Every row belongs to one bot (``bot``: the number before ':' in its token): Telegram numbers
each bot's updates on their own, so a new token against the same database starts afresh
instead of finding its first ids "already handled"."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, tuple_, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from storage.data.models import InboxStatus, UpdateInbox, utcnow

# Built once: these run for every update, and building a statement costs more than SQLite
# takes to run it. Plain rows through the session's connection, no ORM objects.
_KNOWN = select(UpdateInbox.update_id, UpdateInbox.status).where(
    UpdateInbox.bot_id == bindparam("bot"),
    col(UpdateInbox.update_id).in_(bindparam("ids", expanding=True)),
)
_INSERT = insert(UpdateInbox)


def receive(
    session: Session,
    *,
    bot: int,
    updates: list[tuple[int, str]],
    keys: dict[int, int] | None = None,
) -> list[int]:
    """Write the updates not seen before; returns the ids still to handle (new or pending).
    ``keys``: each update's order key (whose updates are handled in order), when known."""
    if not updates:
        return []
    conn = session.connection()
    ids = [u for u, _ in updates]
    known = dict(conn.execute(_KNOWN, {"bot": bot, "ids": ids}).all())
    fresh = {u: payload for u, payload in updates if u not in known}
    if fresh:
        keys = keys or {}
        conn.execute(
            _INSERT,
            [
                {"bot_id": bot, "update_id": u, "payload": p, "order_key": keys.get(u, 0)}
                for u, p in fresh.items()
            ],
        )
    return [u for u in ids if known.get(u) != InboxStatus.SELESAI]


# Built once: with several processes these run for every update and every sweep.
_PENDING_OF = (
    select(UpdateInbox.update_id, UpdateInbox.payload)
    .where(
        UpdateInbox.bot_id == bindparam("bot"),
        UpdateInbox.status == InboxStatus.BARU,
        UpdateInbox.order_key == bindparam("key"),
    )
    .order_by(col(UpdateInbox.update_id))
    .limit(bindparam("limit"))
)
_PENDING_KEYS = (
    select(UpdateInbox.order_key)
    .where(UpdateInbox.bot_id == bindparam("bot"), UpdateInbox.status == InboxStatus.BARU)
    .distinct()
)


def pending_of(conn: Connection, *, bot: int, key: int, limit: int = 50) -> list[tuple[int, str]]:
    """This bot's oldest updates of ``key`` received and not yet handled, in order."""
    params = {"bot": bot, "key": key, "limit": limit}
    return [(r[0], r[1]) for r in conn.execute(_PENDING_OF, params).all()]


def pending_keys(conn: Connection, *, bot: int) -> list[int]:
    """Every order key with an update of this bot received and not yet handled."""
    return [r[0] for r in conn.execute(_PENDING_KEYS, {"bot": bot}).all()]


def _upsert_done(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE for ``dialect``, built once (it runs for every update)."""
    built = _UPSERTS.get(dialect)
    if built is None:
        # Imported here: the PostgreSQL dialect module costs a SQLite bot 25 ms at start-up.
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt: Any = sqlite_insert(UpdateInbox)
        else:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt = pg_insert(UpdateInbox)
        stmt = stmt.values(
            bot_id=bindparam("bot"),
            update_id=bindparam("uid"),
            payload=bindparam("payload"),
            status=InboxStatus.SELESAI,
            received_at=bindparam("at"),
            done_at=bindparam("at"),
        )
        built = _UPSERTS[dialect] = stmt.on_conflict_do_update(
            index_elements=[col(UpdateInbox.bot_id), col(UpdateInbox.update_id)],
            set_={"status": InboxStatus.SELESAI, "done_at": stmt.excluded.done_at},
        )
    return built


_UPSERTS: dict[str, Any] = {}


def mark_done(conn: Connection, *, bot: int, update_id: int, payload: str) -> None:
    """Mark an update handled, in one statement (``statement_scope``: it is the whole
    transaction). An update fetched by polling and handled quickly has no receipt yet (see
    ``bot.inbox``): then it is written here, done, from ``payload``; a receipt written later
    finds it done and leaves it."""
    conn.execute(
        _upsert_done(conn.dialect.name),
        {"bot": bot, "uid": update_id, "payload": payload, "at": utcnow()},
    )


LEGACY_BOT = 0  # rows written before the inbox knew its bot (migration 0014)


def bot_of(token: str) -> int:
    """The bot a token belongs to, as the inbox keys it: the number before ':', which
    Telegram keeps for a bot across its token changes and gives a new bot anew."""
    head = token.partition(":")[0]
    return int(head) if head.isdigit() else LEGACY_BOT


def adopt(session: Session, *, bot: int) -> int:
    """Make the rows written before the inbox was keyed by bot this bot's own; returns how
    many. They were written by the bot that ran last, which is almost always this one; were
    it not, its ids are another bot's numbering, which this bot's ids hardly ever meet."""
    result = session.execute(
        update(UpdateInbox).where(col(UpdateInbox.bot_id) == LEGACY_BOT).values(bot_id=bot)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def pending(session: Session, *, bot: int) -> list[tuple[int, str]]:
    """This bot's updates received but never handled (the process died first), oldest first."""
    return [
        (r.update_id, r.payload)
        for r in session.exec(
            select(UpdateInbox)
            .where(UpdateInbox.bot_id == bot, UpdateInbox.status == InboxStatus.BARU)
            .order_by(col(UpdateInbox.update_id))
        ).all()
    ]


def recent_done(session: Session, *, bot: int, limit: int) -> list[int]:
    """Ids of this bot's newest ``limit`` handled updates, oldest first."""
    rows = session.exec(
        select(UpdateInbox.update_id)
        .where(UpdateInbox.bot_id == bot, UpdateInbox.status == InboxStatus.SELESAI)
        .order_by(col(UpdateInbox.update_id).desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


PRUNE_BATCH = 1000


def prune(session: Session, *, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete handled updates done more than ``older_than`` ago, of every bot; returns how
    many. Rows not yet handled are kept whatever their age (they are replayed after a
    restart)."""
    cutoff = (now or utcnow()) - older_than
    removed = 0
    while True:  # in batches: one statement never carries an unbounded list of ids
        rows = session.exec(
            select(UpdateInbox.bot_id, UpdateInbox.update_id)
            .where(UpdateInbox.status == InboxStatus.SELESAI, col(UpdateInbox.done_at) < cutoff)
            .limit(PRUNE_BATCH)
        ).all()
        if rows:
            key = tuple_(col(UpdateInbox.bot_id), col(UpdateInbox.update_id))
            session.execute(delete(UpdateInbox).where(key.in_([tuple(r) for r in rows])))
            session.flush()
        removed += len(rows)
        if len(rows) < PRUNE_BATCH:
            return removed
