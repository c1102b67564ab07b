"""The later pages of long answers, kept for their "Selengkapnya" buttons. In the database,
not in one process's memory: with several processes any of them may take the press, and a
restart must not turn the button into "ketik ulang pertanyaannya". No Telegram."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.data.models import AnswerPages, utcnow

KEEP = timedelta(days=30)  # an answer older than this is asked again rather than paged

Keyboard = list[list[tuple[str, str]]]


@dataclass(frozen=True)
class Paged:
    """A long answer's pages as they were computed for one person (never recomputed: the
    figures may have changed since the first page was shown)."""

    owner: int  # telegram id of the person it was answered for
    pages: tuple[str, ...]
    keyboard: Keyboard  # the answer's own buttons (chart, latest period), on every page


def keep(session: Session, *, token: str, paged: Paged) -> None:
    """Store ``paged`` under ``token`` (a random, unguessable name)."""
    data = json.dumps({"pages": list(paged.pages), "keyboard": paged.keyboard})
    session.add(AnswerPages(token=token, owner=paged.owner, pages=data))


def find(session: Session, *, token: str) -> Paged | None:
    """The pages kept under ``token``; None when unknown or pruned."""
    row = session.get(AnswerPages, token)
    if row is None:
        return None
    data = json.loads(row.pages)
    keyboard = [[(str(label), str(d)) for label, d in r] for r in data["keyboard"]]
    return Paged(row.owner, tuple(data["pages"]), keyboard)


def prune(session: Session, *, now: datetime | None = None) -> int:
    """Forget answers kept longer than ``KEEP``; returns how many."""
    cutoff = (now or utcnow()) - KEEP
    old = select(AnswerPages.token).where(col(AnswerPages.created_at) < cutoff)
    result = session.execute(delete(AnswerPages).where(col(AnswerPages.token).in_(old)))
    return int(getattr(result, "rowcount", 0) or 0)
