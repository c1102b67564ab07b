"""Messages that carry buttons, remembered so their buttons can be taken away later."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import Session, col, select

from storage.data.models import RegMessage, VerifMessage

M = TypeVar("M", VerifMessage, RegMessage)


def retire(session: Session, model: type[M], *where: Any) -> list[M]:
    """Mark every not-yet-retired row of ``model`` matching ``where`` as retired and return
    them; the caller edits the messages themselves (the database knows no Telegram)."""
    rows = list(session.exec(select(model).where(col(model.retired).is_(False), *where)).all())
    for r in rows:
        r.retired = True
        session.add(r)
    session.flush()
    return rows
