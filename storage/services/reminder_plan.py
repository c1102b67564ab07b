"""A reminder round's plan: who is due, written once when the round starts.

Working out what is due reads every office (its people, windows and reports): seconds for a
kabupaten, minutes for a province on a busy machine. A process that takes over a round whose
sender died must not do that again before it sends: it reads the plan's rest instead. A row
leaves the plan in the very transaction that claims it in ``sent_reminder``
(:func:`claim`), so the rest is exactly what nobody has claimed, and at-most-once stays the
claim's unique key as before. No Telegram: the messages are stored as they will be sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from storage.data.models import ReminderPlan
from storage.services.schedule import Audience, Reminder, record_sent


@dataclass(frozen=True)
class Planned:
    """One message of a round's plan, as it will be sent."""

    id: int
    kind: str
    tahun: int
    triwulan: int
    chat_id: int
    telegram_id: int | None
    audience: Audience
    text: str  # Telegram HTML
    button: tuple[str, str] | None  # (label, callback data)


Rendered = tuple[Reminder, str, tuple[str, str] | None]  # a reminder, its text and button


def plan(session: Session, *, rendered: Sequence[Rendered], expires_at: datetime) -> None:
    """Write the round's plan (one statement): every reminder due, with its message."""
    seen: set[tuple[str, int, int, int]] = set()
    rows = []
    for r, text, button in rendered:
        if r.key in seen:
            continue
        seen.add(r.key)
        rows.append(
            {
                "kind": r.kind,
                "tahun": r.tahun,
                "triwulan": r.triwulan,
                "chat_id": r.chat_id,
                "telegram_id": r.telegram_id,
                "audience": r.audience.value,
                "text": text,
                "button_text": button[0] if button else None,
                "button_data": button[1] if button else None,
                "expires_at": expires_at,
            }
        )
    if rows:
        session.execute(insert(ReminderPlan), rows)


def rest(session: Session, *, now: datetime) -> list[Planned]:
    """What the plan still holds (nobody claimed it), in the order it was planned; rows past
    their day are dropped first (what is due then is worked out afresh)."""
    session.execute(delete(ReminderPlan).where(col(ReminderPlan.expires_at) <= now))
    rows = session.exec(select(ReminderPlan).order_by(col(ReminderPlan.id))).all()
    return [
        Planned(
            id=row.id,  # type: ignore[arg-type]
            kind=row.kind,
            tahun=row.tahun,
            triwulan=row.triwulan,
            chat_id=row.chat_id,
            telegram_id=row.telegram_id,
            audience=Audience(row.audience),
            text=row.text,
            button=(row.button_text, row.button_data or "") if row.button_text else None,
        )
        for row in rows
    ]


def claim(session: Session, *, planned: Planned) -> int | None:
    """Claim ``planned`` in ``sent_reminder`` and take it out of the plan, together; the
    claim's id, or None when it was claimed already (then it must not be sent)."""
    sent_id = record_sent(session, reminder=planned)
    session.execute(delete(ReminderPlan).where(col(ReminderPlan.id) == planned.id))
    return sent_id
