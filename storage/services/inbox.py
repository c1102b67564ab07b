"""The update inbox: every update from Telegram is in it before Telegram forgets it, as
received or already done, so one fetched but not handled when the process died is handled
after the restart (at-least-once), and an update id seen twice is handled once. No
Telegram (when each write happens is ``bot.inbox``'s business)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from storage.data.models import InboxStatus, UpdateInbox, utcnow

# Built once: these run for every update, and building a statement costs more than SQLite
# takes to run it. Plain rows through the session's connection, no ORM objects.
_KNOWN = select(UpdateInbox.update_id, UpdateInbox.status).where(
    col(UpdateInbox.update_id).in_(bindparam("ids", expanding=True))
)
_INSERT = insert(UpdateInbox)


def receive(session: Session, *, updates: list[tuple[int, str]]) -> list[int]:
    """Write the updates not seen before; returns the ids still to handle (new or pending)."""
    if not updates:
        return []
    conn = session.connection()
    ids = [u for u, _ in updates]
    known = dict(conn.execute(_KNOWN, {"ids": ids}).all())
    fresh = {u: payload for u, payload in updates if u not in known}
    if fresh:
        conn.execute(_INSERT, [{"update_id": u, "payload": p} for u, p in fresh.items()])
    return [u for u in ids if known.get(u) != InboxStatus.SELESAI]


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
            update_id=bindparam("uid"),
            payload=bindparam("payload"),
            status=InboxStatus.SELESAI,
            received_at=bindparam("at"),
            done_at=bindparam("at"),
        )
        built = _UPSERTS[dialect] = stmt.on_conflict_do_update(
            index_elements=[UpdateInbox.__table__.c.update_id],  # type: ignore[attr-defined]
            set_={"status": InboxStatus.SELESAI, "done_at": stmt.excluded.done_at},
        )
    return built


_UPSERTS: dict[str, Any] = {}


def mark_done(conn: Connection, *, update_id: int, payload: str) -> None:
    """Mark an update handled, in one statement (``statement_scope``: it is the whole
    transaction). An update fetched by polling and handled quickly has no receipt yet (see
    ``bot.inbox``): then it is written here, done, from ``payload``; a receipt written later
    finds it done and leaves it."""
    conn.execute(
        _upsert_done(conn.dialect.name), {"uid": update_id, "payload": payload, "at": utcnow()}
    )


def pending(session: Session) -> list[tuple[int, str]]:
    """Updates received but never handled (the process died first), oldest first."""
    return [
        (r.update_id, r.payload)
        for r in session.exec(
            select(UpdateInbox)
            .where(UpdateInbox.status == InboxStatus.BARU)
            .order_by(UpdateInbox.update_id)  # type: ignore[arg-type]
        ).all()
    ]


def recent_done(session: Session, *, limit: int) -> list[int]:
    """Ids of the newest ``limit`` handled updates, oldest first."""
    rows = session.exec(
        select(UpdateInbox.update_id)
        .where(UpdateInbox.status == InboxStatus.SELESAI)
        .order_by(col(UpdateInbox.update_id).desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


PRUNE_BATCH = 1000


def prune(session: Session, *, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete handled updates done more than ``older_than`` ago; returns how many. Rows not
    yet handled are kept whatever their age (they are replayed after a restart)."""
    cutoff = (now or utcnow()) - older_than
    removed = 0
    while True:  # in batches: one statement never carries an unbounded list of ids
        rows = session.exec(
            select(UpdateInbox.update_id)
            .where(UpdateInbox.status == InboxStatus.SELESAI, col(UpdateInbox.done_at) < cutoff)
            .limit(PRUNE_BATCH)
        ).all()
        if rows:
            session.execute(delete(UpdateInbox).where(col(UpdateInbox.update_id).in_(rows)))
            session.flush()
        removed += len(rows)
        if len(rows) < PRUNE_BATCH:
            return removed
