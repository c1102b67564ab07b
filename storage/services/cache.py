"""The figure cache: office-years (``YearData``) and the small lookups every answer makes,
kept between requests while no figure has changed.

Whoever owns the engine owns the cache: the bot's composition root keeps one in ``bot_data``
(``bot/app.py``), a CLI command makes its own. It reaches the query functions through the
session: :meth:`FigureCache.read` opens a read-only session that carries it, and
:func:`figure_cache` is the one place the queries look for it. A session without one — every
write session — reads straight from the database, so the same query functions serve reads
and writes.

Version: figures change only through writes that leave an audit trail, so the newest audit id
is the version stamp (one indexed query per session, instead of reloading a year per
question). Entries of an older version are rebuilt on their next use.

Invalidation rules, all checked by tests:
- only read sessions carry a cache, and a session that flushes (writes) loses its cache at
  once (the ``after_flush`` hook below): it never reads cached rows that predate its own write,
  and never stores rows of a transaction that may still roll back;
- every later session asks for the newest audit id, so a committed write is seen by the next
  request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from storage.data.db import read_scope
from storage.data.models import AuditLog

T = TypeVar("T")

_SESSION_KEY = "figure_cache"
_VERSION_KEY = "data_version"


def data_version(session: Session) -> int:
    """Newest audit id, asked once per session (a read session sees one snapshot anyway)."""
    if _VERSION_KEY not in session.info:
        session.info[_VERSION_KEY] = session.exec(select(func.max(AuditLog.id))).one() or 0
    return session.info[_VERSION_KEY]


def figure_cache(session: Session) -> FigureCache | None:
    """The cache the session carries; ``None`` (read fresh) for write sessions."""
    return session.info.get(_SESSION_KEY)


@event.listens_for(Session, "after_flush")
def _forget_cache(session: Session, _flush_context: object) -> None:
    # Once a session has written, cached rows and its memoised version may be stale for it.
    session.info.pop(_SESSION_KEY, None)
    session.info.pop(_VERSION_KEY, None)


def _pool(session: Session) -> object:
    # The database behind a session: its connection pool (shared by an engine and its
    # option-engines; the URL alone can't tell two PostgreSQL schemas apart).
    return session.get_bind().pool  # type: ignore[union-attr]


def _detach(session: Session, value: object) -> None:
    """Cached rows must outlive the session that loaded them (a rollback would expire them)."""
    items = value if isinstance(value, list | tuple) else [value]
    items = [getattr(v, "bidang", v) for v in items]  # a DraftPlan carries its Bidang
    for obj in items:
        if isinstance(obj, SQLModel) and obj in session:
            session.expunge(obj)


class FigureCache:
    """Office-years keyed by (office, year) and small lookups keyed by (name, args), each
    stamped with the data version it was built at."""

    def __init__(self, *, max_years: int = 16, max_small: int = 256) -> None:
        self.max_years, self.max_small = max_years, max_small
        self._years: dict[tuple[int, int], tuple[object, int, Any]] = {}
        self._small: dict[tuple[str, tuple], tuple[object, int, Any]] = {}

    @contextmanager
    def read(self, engine: Engine) -> Iterator[Session]:
        """A read-only session (``db.read_scope``) whose queries use this cache."""
        with read_scope(engine) as session:
            session.info[_SESSION_KEY] = self
            yield session

    def clear(self) -> None:
        self._years.clear()
        self._small.clear()

    def year(self, session: Session, opd_id: int, tahun: int, build: Callable[[], T]) -> T:
        """The office-year built by ``build()``, reused while the data version holds."""
        key = (opd_id, tahun)
        pool, version = _pool(session), data_version(session)
        hit = self._years.get(key)
        if hit is not None and hit[0] is pool and hit[1] == version:
            return hit[2]
        data = build()
        rows = [
            *getattr(data, "nodes", {}).values(),
            *getattr(data, "real", {}).values(),
            *getattr(data, "sasaran", {}).values(),
            *(p for plans in getattr(data, "plans", {}).values() for p in plans),
        ]
        _detach(session, rows)
        if key not in self._years and len(self._years) >= self.max_years:
            self._years.pop(next(iter(self._years)))  # the oldest entry
        self._years[key] = (pool, version, data)
        return data

    def small(self, session: Session, name: str, args: tuple, build: Callable[[], T]) -> T:
        """``build()`` once per data version."""
        key = (name, args)
        pool, version = _pool(session), data_version(session)
        hit = self._small.get(key)
        if hit is not None and hit[0] is pool and hit[1] == version:
            return hit[2]
        value = build()
        _detach(session, value)
        if key not in self._small and len(self._small) >= self.max_small:
            self._small.clear()
        self._small[key] = (pool, version, value)
        return value
