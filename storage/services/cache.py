"""The figure cache: office-years (``YearData``) and the small lookups every answer makes,
kept between requests while no figure has changed.

Whoever owns the engine owns the cache: the bot's composition root keeps one in ``bot_data``
(``bot/app.py``), a CLI command makes its own. It reaches the query functions through the
session: :meth:`FigureCache.read` opens a read-only session that carries it, and
:func:`figure_cache` is the one place the queries look for it. A session without one — every
write session — reads straight from the database, so the same query functions serve reads
and writes.

Version: figures change only through writes that leave an audit trail, so the newest audit id
tells whether anything changed since the cache last looked (one indexed query per session).
When it moved, the cache reads the new audit entries once and drops only the office-years they
touch (``_touched``): a /lapor submission in one office-year leaves every other one cached. An
entry it cannot place (a setting, an entity of a kind it does not know, a row gone since)
empties the whole cache: unsure means stale.

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
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, event, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from storage.data.db import read_scope
from storage.data.models import (
    AuditLog,
    Bidang,
    ImportedReport,
    IndikatorSasaran,
    Jadwal,
    Node,
    Pelaporan,
    Sasaran,
)

T = TypeVar("T")

_SESSION_KEY = "figure_cache"
_VERSION_KEY = "data_version"
_SYNCED_KEY = "figure_cache_synced"


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
    session.info.pop(_SYNCED_KEY, None)


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


# More new audit entries than this at once (a bulk import) are not worth placing one by one.
_MAX_PLACED = 2_000
_ALL = None  # "every office-year": what _touched answers when it cannot place an entry


@dataclass(frozen=True)
class _Touched:
    """Office-years (and whole offices) a batch of audit entries changed."""

    years: frozenset[tuple[int, int]]
    offices: frozenset[int]  # every year of these offices (an office-wide change)

    @property
    def lookups(self) -> frozenset[int]:
        """Offices whose small lookups (years, latest quarter, catalog...) may have changed."""
        return self.offices | {opd for opd, _ in self.years}


def _touched(session: Session, after: int, upto: int) -> _Touched | None:
    """Which office-years the audit entries ``after < id <= upto`` changed; ``None``: unknown."""
    rows = session.execute(
        select(AuditLog.entity, AuditLog.entity_id)
        .where(col(AuditLog.id) > after, col(AuditLog.id) <= upto)
        .limit(_MAX_PLACED + 1)
    ).all()
    if len(rows) > _MAX_PLACED:
        return _ALL
    ids: dict[str, set[int]] = {}
    for entity, entity_id in rows:
        if entity == "app_user":
            continue  # people, not figures: nothing cached depends on them
        if entity_id is None or entity not in _PLACE:
            return _ALL
        ids.setdefault(entity, set()).add(entity_id)
    years: set[tuple[int, int]] = set()
    offices: set[int] = set(ids.pop("perangkat_daerah", set()))
    for entity, wanted in ids.items():
        found = session.execute(_PLACE[entity](wanted)).all()
        if len(found) < len(wanted):
            return _ALL  # a row deleted since: its office-year is unknown
        years.update((int(opd), int(tahun)) for _, opd, tahun in found)
    return _Touched(frozenset(years), frozenset(offices))


def _by_node(ids: set[int]) -> Select:
    return select(Node.id, Node.opd_id, Node.tahun).where(col(Node.id).in_(ids))


# entity -> (ids -> select of (id, opd_id, tahun)). Node-level entries carry the node id
# (realisasi, node_plan and node, from /lapor, pagu revisions and imports alike).
_PLACE: dict[str, Callable[[set[int]], Select]] = {
    "node": _by_node,
    "node_plan": _by_node,
    "realisasi": _by_node,
    "rencana_penarikan": _by_node,  # the early-warning plan (storage/services/early_warning.py)
    "report": lambda ids: select(
        ImportedReport.id, ImportedReport.opd_id, ImportedReport.tahun
    ).where(col(ImportedReport.id).in_(ids)),
    "capaian_sasaran": lambda ids: (
        select(IndikatorSasaran.id, Sasaran.opd_id, Sasaran.tahun)
        .join(Sasaran, col(Sasaran.id) == col(IndikatorSasaran.sasaran_id))
        .where(col(IndikatorSasaran.id).in_(ids))
    ),
    "pelaporan": lambda ids: (
        select(Pelaporan.id, Bidang.opd_id, Pelaporan.tahun)
        .join(Bidang, col(Bidang.id) == col(Pelaporan.bidang_id))
        .where(col(Pelaporan.id).in_(ids))
    ),
    "jadwal": lambda ids: select(Jadwal.id, Jadwal.opd_id, Jadwal.tahun).where(
        col(Jadwal.id).in_(ids)
    ),
}


class FigureCache:
    """Office-years keyed by (office, year) and small lookups keyed by (name, args), valid for
    the database (connection pool) and audit id they were last checked against."""

    def __init__(self, *, max_years: int = 16, max_small: int = 256) -> None:
        self.max_years, self.max_small = max_years, max_small
        self._years: dict[tuple[int, int], Any] = {}
        self._small: dict[tuple[str, tuple], Any] = {}
        self._pool: object = None
        self._seen = 0  # the newest audit id the entries were checked against

    @contextmanager
    def read(self, engine: Engine) -> Iterator[Session]:
        """A read-only session (``db.read_scope``) whose queries use this cache."""
        with read_scope(engine) as session:
            session.info[_SESSION_KEY] = self
            yield session

    def clear(self) -> None:
        self._years.clear()
        self._small.clear()

    def _sync(self, session: Session) -> None:
        """Drop what changed since the last look; once per session."""
        if session.info.get(_SYNCED_KEY) is self:
            return
        pool, version = _pool(session), data_version(session)
        if pool is not self._pool or version < self._seen:
            self.clear()  # another database, or this one restored from a backup
        elif version > self._seen:
            touched = _touched(session, self._seen, version)
            if touched is None:
                self.clear()
            else:
                for year in [
                    k for k in self._years if k in touched.years or k[0] in touched.offices
                ]:
                    del self._years[year]
                for small in [k for k in self._small if _small_touched(k, touched)]:
                    del self._small[small]
        self._pool, self._seen = pool, version
        session.info[_SYNCED_KEY] = self

    def year(self, session: Session, opd_id: int, tahun: int, build: Callable[[], T]) -> T:
        """The office-year built by ``build()``, reused until a write touches it."""
        self._sync(session)
        key = (opd_id, tahun)
        if key in self._years:
            return self._years[key]
        data = build()  # plain rows (YearData): nothing to detach
        if len(self._years) >= self.max_years:
            self._years.pop(next(iter(self._years)))  # the oldest entry
        self._years[key] = data
        return data

    def small(self, session: Session, name: str, args: tuple, build: Callable[[], T]) -> T:
        """``build()`` once, until a write touches its office."""
        self._sync(session)
        key = (name, args)
        if key in self._small:
            return self._small[key]
        value = build()
        _detach(session, value)
        if len(self._small) >= self.max_small:
            self._small.clear()
        self._small[key] = value
        return value


def _small_touched(key: tuple[str, tuple], touched: _Touched) -> bool:
    # Small lookups are keyed by office first (opd, bidang, years, latest_tw, catalog); one
    # without an office (benchmarks) depends on settings, which _touched never places.
    args = key[1]
    return not args or args[0] in touched.lookups
