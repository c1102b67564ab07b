"""The audit trail: who changed what, when, from which value to which."""

from __future__ import annotations

from sqlmodel import Session

from storage.data.models import AuditLog


def record(
    session: Session,
    *,
    actor: str,
    entity: str,
    entity_id: int | None,
    field: str,
    old: object = None,
    new: object = None,
) -> None:
    """Add one audit entry to the session's transaction (values are kept as text)."""
    session.add(
        AuditLog(
            actor=actor,
            entity=entity,
            entity_id=entity_id,
            field=field,
            old=None if old is None else str(old),
            new=None if new is None else str(new),
        )
    )
