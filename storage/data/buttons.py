"""Messages that carry buttons, remembered so their buttons can be taken away later."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from storage.data.models import RegMessage, VerifMessage, row_id

M = TypeVar("M", VerifMessage, RegMessage)


@dataclass(frozen=True)
class SentButtons:
    """A message sent with buttons, as the transport edits it (plain values, not a row)."""

    id: int
    chat_id: int
    message_id: int
    text: str


def sent(row: VerifMessage | RegMessage) -> SentButtons:
    return SentButtons(row_id(row), row.chat_id, row.message_id, row.text)


def retire(session: Session, model: type[M], *where: Any) -> list[SentButtons]:
    """Mark every not-yet-retired row of ``model`` matching ``where`` as retired and return
    them; the caller edits the messages themselves (the database knows no Telegram)."""
    rows = list(session.exec(select(model).where(col(model.retired).is_(False), *where)).all())
    for r in rows:
        r.retired = True
        session.add(r)
    session.flush()
    return [sent(r) for r in rows]
