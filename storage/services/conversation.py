"""Where each person stands in a multi-step conversation, kept in the database.

One mechanism for every flow (registration, /lapor, the reason for returning a report,
/jadwal): a ``chat_state`` row per person. Steps run in the caller's session, so a flow's own
data and its state commit together and a crash between them cannot leave them apart. Starting
a flow replaces whatever flow the person was in; ``advance`` is a compare-and-set on
``version`` so that two processes (or a replayed update) cannot both apply the same step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import Session, col

from storage.data.models import ChatState, table_of
from storage.domain.errors import MonevError


class Flow(StrEnum):
    """The conversations the bot can be in with one person."""

    REGISTRATION = "daftar"
    LAPOR = "lapor"
    REASON = "alasan"
    JADWAL = "jadwal"
    IMPORT = "impor"  # an admin's file, previewed, waiting for Impor / Batal


# Flows that end on their own after this much silence, as their in-memory predecessors did
# (PTB's conversation_timeout). /lapor and a pending reason wait as long as it takes.
TIMEOUTS: dict[Flow, timedelta] = {
    Flow.REGISTRATION: timedelta(hours=1),
    Flow.JADWAL: timedelta(minutes=15),
    Flow.IMPORT: timedelta(hours=1),
}


class StaleState(MonevError):
    """The state changed since it was read (another update applied a step first)."""


@dataclass(frozen=True)
class State:
    """A person's place in a flow."""

    telegram_id: int
    flow: Flow
    step: str
    payload: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    updated_at: datetime | None = None


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


_GET = select(
    col(ChatState.telegram_id),
    col(ChatState.flow),
    col(ChatState.step),
    col(ChatState.payload),
    col(ChatState.version),
    col(ChatState.updated_at),
).where(col(ChatState.telegram_id) == bindparam("telegram_id"))
_TABLE = table_of(ChatState)  # for the compare-and-set update, without ORM objects


def _state(row: Any) -> State | None:
    try:
        flow = Flow(row.flow)
    except ValueError:
        return None  # a flow this version of the bot no longer has
    try:
        payload = json.loads(row.payload or "{}")
    except ValueError:
        payload = {}
    return State(
        telegram_id=row.telegram_id,
        flow=flow,
        step=row.step,
        payload=payload if isinstance(payload, dict) else {},
        version=row.version,
        updated_at=_aware(row.updated_at),
    )


def _expired(state: State, now: datetime) -> bool:
    limit = TIMEOUTS.get(state.flow)
    return limit is not None and state.updated_at is not None and now - state.updated_at > limit


def get(session: Session, *, telegram_id: int, now: datetime | None = None) -> State | None:
    """The flow ``telegram_id`` is in, or None (never started, finished or timed out).

    Read-only: a timed-out row is left for the next ``start`` or ``clear`` to replace."""
    # Plain columns, not an ORM object: every text anyone sends asks this. Through the
    # session, so a change of this session not flushed yet is seen (autoflush).
    row = session.execute(_GET, {"telegram_id": telegram_id}).first()
    return None if row is None else state_of(row, now=now)


STATE_COLUMNS = tuple(_GET.selected_columns)  # a row of these is what ``state_of`` reads


def state_of(row: Any, *, now: datetime | None = None) -> State | None:
    """The flow in a row of ``STATE_COLUMNS`` (None: no row, the columns are empty, or its
    flow ended or timed out)."""
    if row.telegram_id is None:
        return None
    state = _state(row)
    if state is None or _expired(state, _now(now)):
        return None
    return state


def start(
    session: Session,
    *,
    telegram_id: int,
    flow: Flow,
    step: str = "",
    payload: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> State:
    """Put ``telegram_id`` at the first ``step`` of ``flow``, ending any other flow."""
    at = _now(now)
    body = json.dumps(payload or {}, ensure_ascii=False)
    row = session.get(ChatState, telegram_id)
    if row is None:
        row = ChatState(
            telegram_id=telegram_id, flow=flow, step=step, payload=body, version=1, updated_at=at
        )
    else:
        row.flow, row.step, row.payload = flow.value, step, body
        row.version += 1
        row.updated_at = at
    session.add(row)
    session.flush()
    state = _state(row)
    assert state is not None
    return state


def advance(
    session: Session,
    *,
    telegram_id: int,
    expected_version: int,
    step: str,
    payload: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> State:
    """Move to ``step`` (and replace the payload when one is given) if nobody moved first.

    Raises :class:`StaleState` when the row is gone or its version is no longer
    ``expected_version``."""
    at = _now(now)
    values: dict[str, Any] = {
        "step": step,
        "version": expected_version + 1,
        "updated_at": at,
    }
    if payload is not None:
        values["payload"] = json.dumps(payload, ensure_ascii=False)
    t = _TABLE
    result = session.connection().execute(
        update(t)
        .where(t.c.telegram_id == telegram_id, t.c.version == expected_version)
        .values(**values)
    )
    if result.rowcount != 1:
        raise StaleState(detail=str(telegram_id))
    # The ORM may hold the row from an earlier get(); make it read the new values.
    row = session.get(ChatState, telegram_id, populate_existing=True)
    assert row is not None
    state = _state(row)
    assert state is not None
    return state


def clear(
    session: Session,
    *,
    telegram_id: int,
    flow: Flow | None = None,
    now: datetime | None = None,
) -> State | None:
    """End the flow ``telegram_id`` is in (only if it is ``flow``, when given).

    Returns the state that was ended; None when there was none to end (a timed-out flow is
    removed too, and reported as None)."""
    row = session.get(ChatState, telegram_id)
    if row is None:
        return None
    state = _state(row)
    if flow is not None and (state is None or state.flow != flow):
        return None
    session.delete(row)
    session.flush()
    if state is None or _expired(state, _now(now)):
        return None
    return state


__all__ = ["TIMEOUTS", "Flow", "StaleState", "State", "advance", "clear", "get", "start"]
