"""The update inbox: every update from Telegram is written before it is handled and marked
done after, so one fetched but not handled when the process died is handled after the
restart (at-least-once), and an update id seen twice is handled once. No Telegram."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.data.models import InboxStatus, UpdateInbox, utcnow


def receive(session: Session, *, updates: list[tuple[int, str]]) -> list[int]:
    """Write the updates not seen before; returns the ids still to handle (new or pending)."""
    if not updates:
        return []
    ids = [u for u, _ in updates]
    known = {
        r.update_id: r.status
        for r in session.exec(
            select(UpdateInbox).where(UpdateInbox.update_id.in_(ids))  # type: ignore[attr-defined]
        ).all()
    }
    for update_id, payload in updates:
        if update_id not in known:
            session.add(UpdateInbox(update_id=update_id, payload=payload))
    session.flush()
    return [u for u in ids if known.get(u) != InboxStatus.SELESAI]


def is_done(session: Session, *, update_id: int) -> bool:
    row = session.get(UpdateInbox, update_id)
    return row is not None and row.status == InboxStatus.SELESAI


def mark_done(session: Session, *, update_id: int) -> None:
    row = session.get(UpdateInbox, update_id)
    if row is not None and row.status != InboxStatus.SELESAI:
        row.status, row.done_at = InboxStatus.SELESAI, utcnow()
        session.add(row)
        session.flush()


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
