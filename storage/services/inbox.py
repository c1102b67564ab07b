"""The update inbox: every update from Telegram is written before it is handled and marked
done after, so one fetched but not handled when the process died is handled after the
restart (at-least-once), and an update id seen twice is handled once. No Telegram."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, update
from sqlmodel import Session, col, select

from storage.data.models import InboxStatus, UpdateInbox, utcnow

# Built once: these run for every update, and building a statement costs more than SQLite
# takes to run it. Plain rows through the session's connection, no ORM objects.
_KNOWN = select(UpdateInbox.update_id, UpdateInbox.status).where(
    col(UpdateInbox.update_id).in_(bindparam("ids", expanding=True))
)
_INSERT = insert(UpdateInbox)
_DONE = (
    update(UpdateInbox)
    .where(
        col(UpdateInbox.update_id) == bindparam("uid"),
        col(UpdateInbox.status) != InboxStatus.SELESAI,
    )
    .values(status=InboxStatus.SELESAI, done_at=bindparam("at"))
)


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


def mark_done(session: Session, *, update_id: int) -> None:
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # A lost "done" mark only means the update is handled again after a crash (the
        # inbox promises at least once), so this commit need not wait for the disk.
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    conn.execute(_DONE, {"uid": update_id, "at": utcnow()})


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
