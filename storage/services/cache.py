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
When it moved, the cache reads the new audit entries once and places them (``_touched``): a
/lapor submission in one office-year leaves every other one cached. What it keeps depends on
the kind of write: a figure or pagu write (``realisasi``, ``node_plan`` entries, which carry
the node id) only marks those nodes' rows for a re-read on next use (``YearData.refreshed``)
and leaves the office's names (bidang, years, the question catalogue) cached; a plan change
(nodes, an import, an office-wide entry) reloads the office-year and rebuilds the office's
lookups. An entry it cannot place (a setting, an entity of a kind it does not know, a row gone
since) empties the whole cache: unsure means stale.

The look comes with a session's first statement (``FigureCache.one_along``: who sent the
update, their flow, the newest audit id and the entries since the last look), and reads the
plan and realisasi rows of the nodes those entries name (``rows_along``): the first answer
after a pagu revision or a figure write refreshes from them, so a cached answer is one
statement and the first after such a write one too. Those rows, of whatever office, only
ever refresh an office-year the session was allowed to read (``queries.year_data`` checks
the office first); they are dropped with the session.

Invalidation rules, all checked by tests:
- read sessions carry a cache, and write sessions opened by :meth:`FigureCache.write` until
  they write; a session that flushes (writes) loses its cache at once (the ``after_flush``
  hook below), and one with unflushed changes reads fresh: it never reads cached rows that
  predate its own write, and never stores rows of a transaction that may still roll back;
- every later session asks for the newest audit id, so a committed write is seen by the next
  request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import BindParameter, Column, Select, bindparam, event, func, or_, true
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel, col, select

from storage.data.db import read_scope, session_scope
from storage.data.models import (
    AuditLog,
    Bidang,
    ImportedReport,
    IndikatorSasaran,
    Jadwal,
    Node,
    Pelaporan,
    Sasaran,
    table_of,
)

T = TypeVar("T")

_SESSION_KEY = "figure_cache"
_VERSION_KEY = "data_version"
_SYNCED_KEY = "figure_cache_synced"
_HELD_KEY = "figure_cache_held"  # (office, year) -> the office-year this session was given
_LOOKED_KEY = "figure_cache_looked"  # a look that came along with another statement (one_along)
_ROWS_KEY = "figure_cache_rows"  # rows read with the look the session's sync took (taken_rows)


_NEWEST = select(func.max(AuditLog.id))  # built once: asked by every cached read


def data_version(session: Session) -> int:
    """Newest audit id, asked once per session (a read session sees one snapshot anyway)."""
    if _VERSION_KEY not in session.info:
        session.info[_VERSION_KEY] = session.connection().execute(_NEWEST).scalar() or 0
    return session.info[_VERSION_KEY]


def figure_cache(session: Session) -> FigureCache | None:
    """The cache the session carries; ``None`` (read fresh) for write sessions, and for a
    session with changes of its own not flushed yet (cached rows would not show them)."""
    cache = session.info.get(_SESSION_KEY)
    if cache is not None and (session.new or session.dirty or session.deleted):
        return None
    return cache


@event.listens_for(Session, "after_flush")
def _forget_cache(session: OrmSession, _flush_context: object) -> None:
    # Once a session has written, cached rows and its memoised version may be stale for it.
    session.info.pop(_SESSION_KEY, None)
    session.info.pop(_VERSION_KEY, None)
    session.info.pop(_SYNCED_KEY, None)
    session.info.pop(_LOOKED_KEY, None)
    session.info.pop(_ROWS_KEY, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_cache_on_write_statement(state: ORMExecuteState) -> None:
    # An UPDATE/DELETE/INSERT statement through the session writes without a flush.
    if not state.is_select:
        _forget_cache(state.session, None)


def _pool(session: Session) -> object:
    # The database behind a session: its connection pool (shared by an engine and its
    # option-engines; the URL alone can't tell two PostgreSQL schemas apart).
    return session.get_bind().engine.pool  # an Engine's .engine is itself


def _detach(session: Session, value: object) -> None:
    """Cached rows must outlive the session that loaded them (a rollback would expire them)."""
    items = value if isinstance(value, list | tuple) else [value]
    items = [getattr(v, "bidang", v) for v in items]  # a DraftPlan carries its Bidang
    for obj in items:
        if isinstance(obj, SQLModel) and obj in session:
            session.expunge(obj)


# More new audit entries than this at once (a bulk import) are not worth placing one by one.
_MAX_PLACED = 2_000
_MISSING = object()
_ALL = None  # "every office-year": what _touched answers when it cannot place an entry
# How long an audit id missing below the newest one is waited for (its transaction may still
# commit); longer than any write transaction of the bot or the CLI.
_GAP_SECONDS = 600.0
_GAP_WINDOW = 1_000  # ids drawn by transactions still open are among the newest this many
# More changed nodes than this in one office-year: reload the year rather than the rows.
_MAX_REFRESHED = 500


@dataclass(frozen=True)
class _Touched:
    """What a batch of audit entries changed, from the broadest to the narrowest kind.

    - ``offices``: an office-wide change (its bidang, a copied plan year): everything of it;
    - ``plans``: office-years whose plan structure may have changed (nodes, sasaran; an import
      writes those): the office-year is reloaded and the office's catalogue rebuilt;
    - ``rows``: per office-year, the (table, node id) of the pagu (``node_plan``) or realisasi
      rows that changed (/lapor, a pagu revision): only those rows are reloaded, from that
      table only; the catalogue (names) stays;
    - ``other``: office-years with another change (status, indicators, schedule), which no
      office-year data depends on, but a bidang's draft plan does.
    """

    offices: frozenset[int]
    plans: frozenset[tuple[int, int]]
    rows: dict[tuple[int, int], frozenset[tuple[str, int]]]
    other: frozenset[tuple[int, int]]

    def structure(self, opd_id: int, tahun: int | None = None) -> bool:
        """Whether the office's structure changed (in ``tahun`` when given)."""
        if opd_id in self.offices:
            return True
        return any(o == opd_id and (tahun is None or t == tahun) for o, t in self.plans)

    def any_in(self, opd_id: int, tahun: int | None = None) -> bool:
        """Whether anything of the office (in ``tahun`` when given) changed."""
        return self.structure(opd_id, tahun) or any(
            o == opd_id and (tahun is None or t == tahun) for o, t in (*self.rows, *self.other)
        )


# Which kind of change an audit entity records (see _Touched); _OFFICE is office-wide.
_OFFICE = "perangkat_daerah"
_STRUCTURE, _ROWS, _OTHER = "plans", "rows", "other"
_KIND = {
    "node": _STRUCTURE,
    "report": _STRUCTURE,  # an import: nodes, sasaran, plans and figures of one office-year
    "node_plan": _ROWS,
    "realisasi": _ROWS,
    "capaian_sasaran": _OTHER,
    "pelaporan": _OTHER,
    "jadwal": _OTHER,
    "rencana_penarikan": _OTHER,  # the early-warning plan: only the "rencana" lookup reads it
}


# Built once: these run at the first look after every write, and building a statement costs
# more than SQLite takes to run it.
_IN_RANGE = (col(AuditLog.id) > bindparam("after")) & (col(AuditLog.id) <= bindparam("upto"))
_IN_GAPS = col(AuditLog.id).in_(bindparam("gaps", expanding=True))
_ENTRIES = select(AuditLog.id, AuditLog.entity, AuditLog.entity_id)
_ENTRIES_PLAIN = _ENTRIES.where(_IN_RANGE).limit(_MAX_PLACED + 1)
_ENTRIES_GAPS = _ENTRIES.where(or_(_IN_RANGE, _IN_GAPS)).limit(_MAX_PLACED + 1)
_IDS_PLAIN = select(AuditLog.id).where(_IN_RANGE)
_IDS_GAPS = select(AuditLog.id).where(or_(_IN_RANGE, _IN_GAPS))


# The newest id and the entries after the last look, in one statement: the first look of
# every session after a write asks both (two round trips on PostgreSQL otherwise, issue 29).
# The newest id is the left side: a row even when nothing is new.
_NEWEST_ROW = select(func.max(AuditLog.id).label("newest")).subquery("n")
_LATER = table_of(AuditLog).alias("a")
_AFTER_SEEN = (_LATER.c.id > bindparam("after")) & (_LATER.c.id <= _NEWEST_ROW.c.newest)
_LOOK = select(_NEWEST_ROW.c.newest, _LATER.c.id, _LATER.c.entity, _LATER.c.entity_id)
_LOOK_PLAIN = _LOOK.select_from(_NEWEST_ROW.outerjoin(_LATER, _AFTER_SEEN)).limit(_MAX_PLACED + 1)
_LOOK_GAPS = _LOOK.select_from(
    _NEWEST_ROW.outerjoin(
        _LATER, or_(_AFTER_SEEN, _LATER.c.id.in_(bindparam("gaps", expanding=True)))
    )
).limit(_MAX_PLACED + 1)


def _look(
    session: Session, after: int, gaps: set[int]
) -> tuple[int, list[tuple[str, int | None]] | None, set[int]]:
    """The newest audit id, and what ``_entries`` gives for ``after`` up to it."""
    params: dict[str, object] = {"after": after, "gaps": sorted(gaps)}
    rows = session.connection().execute(_LOOK_GAPS if gaps else _LOOK_PLAIN, params).all()
    looked = _looked(rows)
    if looked is not None:
        return looked
    newest = int(rows[0][0] or 0)
    entries, ids = _entries(session, after, newest, gaps)
    return newest, entries, ids


_Looked = tuple[int, list[tuple[str, int | None]], set[int]]


def _looked(rows: Sequence[Sequence[Any]]) -> _Looked | None:
    """The newest id, the entries and their ids in rows of (newest, id, entity, entity_id);
    None when there are too many entries to place (``_entries`` decides then)."""
    found = [r for r in rows if r[1] is not None]
    if len(found) > _MAX_PLACED:
        return None
    return int(rows[0][0] or 0), [(r[2], r[3]) for r in found], {r[1] for r in found}


@dataclass(frozen=True)
class _Along:
    """A look taken with a session's first statement (``FigureCache.one_along``): the ids
    after ``after`` up to ``newest``, and those of ``gaps``, as (id, entity, entity_id);
    and for the entities a refresh reads rows of (``rows_along``), the rows of each node an
    entry names, as of the same moment: entity -> node id -> rows."""

    after: int
    gaps: frozenset[int]
    newest: int
    entries: tuple[tuple[int, str, int | None], ...]
    rows: Mapping[str, Mapping[int, tuple[tuple[Any, ...], ...]]] = field(default_factory=dict)

    def since(self, seen: int, gaps: Iterable[int]) -> _Looked | None:
        """What a look after ``seen`` with ``gaps`` would have found at this look's moment;
        None when this look did not cover that: it began after ``seen``, missed a gap, or
        stopped before ``seen`` (another session looked later than it; looking again
        gives this session a version at or after the cache's)."""
        if self.after > seen or self.newest < seen:
            return None
        wanted = set(gaps)
        if any(g <= self.after and g not in self.gaps for g in wanted):
            return None
        found = [e for e in self.entries if e[0] > seen or e[0] in wanted]
        return self.newest, [(entity, i) for _, entity, i in found], {e[0] for e in found}


# Rows a refresh after a write reads (queries registers them, ``rows_along``): entity of the
# audit entry -> the columns of its rows, the row id first and the node id second.
_ROWS_ALONG: dict[str, list[Column[Any]]] = {}


def rows_along(entity: str, columns: Sequence[Column[Any]]) -> None:
    """Have the look taken with a session's first statement also read the rows of
    ``entity`` (a table keyed by node) of every node its new entries name: the first answer
    after a write then refreshes from them without a statement of its own (issue 29)."""
    _ROWS_ALONG[entity] = list(columns)
    _ALONG.clear()


def taken_rows(session: Session, entity: str, node_ids: Iterable[int]) -> list[Any] | None:
    """The rows of ``node_ids`` that the session's look along read (``rows_along``), as of
    its moment; None unless that look was the one the session's cache took and it named
    each of these nodes (then read them: they may have changed since)."""
    rows: Mapping[str, Mapping[int, tuple[tuple[Any, ...], ...]]] | None = session.info.get(
        _ROWS_KEY
    )
    of = None if rows is None else rows.get(entity)
    if of is None:
        return None
    out: list[Any] = []
    for node in node_ids:
        found = of.get(node)
        if found is None:
            return None
        out.extend(found)
    return out


# A one-row statement with the look joined on (FigureCache.one_along), built once per
# statement and dialect: (statement, plain, with gaps, where each entity's rows start in a
# row). The look's columns, and the rows', get names no table column has.
_ALONG: dict[tuple[int, bool], tuple[Select, Select[Any], Select[Any], dict[str, int]]] = {}
_ALONG_NAMES = ("look_newest", "look_id", "look_entity", "look_entity_id")


def _along(
    stmt: Select[Any], lateral: bool = False
) -> tuple[Select[Any], Select[Any], dict[str, int]]:
    """``lateral`` (PostgreSQL): each entry's rows in a LATERAL subquery the planner may not
    flatten (``OFFSET 0``), so they are found through the node id's index, entry by entry.
    Joined plainly, PostgreSQL cannot tell how few entries the look gives and hashes the
    whole table instead (at 100x the demo office: 5 ms for every statement, not 0.1).
    SQLite knows no LATERAL and only joins in nested loops, through the same index."""
    built = _ALONG.get((id(stmt), lateral))
    if built is None or built[0] is not stmt:
        pair, starts = [], {}
        for look in (_LOOK_PLAIN, _LOOK_GAPS):
            sub = look.subquery("look")
            labelled = [c.label(name) for c, name in zip(sub.c, _ALONG_NAMES, strict=True)]
            q = stmt.add_columns(*labelled).join(sub, true())
            at = len(q.selected_columns)
            for entity, columns in _ROWS_ALONG.items():
                name = f"along_{entity}"
                starts[entity] = at
                at += len(columns)
                if lateral:
                    node = columns[1]
                    of: Any = (
                        select(*columns)
                        .where(sub.c.entity == entity, node == sub.c.entity_id)
                        .offset(0)
                        .lateral(name)
                    )
                    on: Any = true()
                else:
                    of = columns[0].table.alias(name)
                    on = (sub.c.entity == entity) & (of.c[columns[1].name] == sub.c.entity_id)
                q = q.add_columns(*(of.c[c.name].label(f"{name}_{c.name}") for c in columns))
                q = q.outerjoin(of, on)
            pair.append(q)
        built = _ALONG[(id(stmt), lateral)] = (stmt, pair[0], pair[1], starts)
    return built[1], built[2], built[3]


def _entries(
    session: Session, after: int, upto: int, gaps: set[int]
) -> tuple[list[tuple[str, int | None]] | None, set[int]]:
    """The audit entries ``after < id <= upto`` and those of ``gaps`` committed since (None:
    too many to place), with the ids found."""
    conn = session.connection()
    params: dict[str, object] = {"after": after, "upto": upto, "gaps": sorted(gaps)}
    rows = conn.execute(_ENTRIES_GAPS if gaps else _ENTRIES_PLAIN, params).all()
    if len(rows) <= _MAX_PLACED:
        return [(entity, entity_id) for _, entity, entity_id in rows], {r[0] for r in rows}
    params["after"] = max(after, upto - _GAP_WINDOW)
    return None, set(conn.execute(_IDS_GAPS if gaps else _IDS_PLAIN, params).scalars())


def _touched(
    session: Session,
    rows: list[tuple[str, int | None]],
    known: Callable[[int], tuple[int, int] | None] = lambda _node: None,
) -> _Touched | None:
    """What these audit entries (entity, entity_id) changed; ``None``: unknown. ``known``:
    the office-year of a node already loaded (a node never moves to another office or year),
    so a write to nodes of a cached office-year is placed without a statement."""
    ids: dict[str, set[int]] = {}
    for entity, entity_id in rows:
        if entity == "app_user":
            continue  # people, not figures: nothing cached depends on them
        if entity_id is None or (entity not in _PLACE and entity != _OFFICE):
            return _ALL
        ids.setdefault(entity, set()).add(entity_id)
    offices: set[int] = set(ids.pop(_OFFICE, set()))  # entries carry the office id
    by_kind: dict[str, set[tuple[int, int]]] = {_STRUCTURE: set(), _ROWS: set(), _OTHER: set()}
    nodes: dict[tuple[int, int], set[tuple[str, int]]] = {}
    for entity, wanted in ids.items():
        found: list[tuple[int, int, int]] = []
        if _PLACE[entity] is _BY_NODE:
            for node in list(wanted):
                if (place := known(node)) is not None:
                    found.append((node, *place))
                    wanted.discard(node)
        if wanted:
            more = session.connection().execute(_PLACE[entity], {"ids": sorted(wanted)}).all()
            if len(more) < len(wanted):
                return _ALL  # a row deleted since: its office-year is unknown
            found += [tuple(r) for r in more]
        kind = _KIND[entity]
        for row_id, opd, tahun in found:
            key = (int(opd), int(tahun))
            by_kind[kind].add(key)
            if kind == _ROWS:  # these entities carry the node id
                nodes.setdefault(key, set()).add((entity, int(row_id)))
    return _Touched(
        frozenset(offices),
        frozenset(by_kind[_STRUCTURE]),
        {k: frozenset(v) for k, v in nodes.items()},
        frozenset(by_kind[_OTHER]),
    )


_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_BY_NODE = select(Node.id, Node.opd_id, Node.tahun).where(col(Node.id).in_(_IDS))

# entity -> select of (id, opd_id, tahun) for the ids bound as "ids", built once. Node-level
# entries carry the node id (realisasi, node_plan and node, from /lapor, pagu revisions and
# imports alike).
_PLACE: dict[str, Select] = {
    "node": _BY_NODE,
    "node_plan": _BY_NODE,
    "realisasi": _BY_NODE,
    "rencana_penarikan": _BY_NODE,  # the early-warning plan (storage/services/early_warning.py)
    "report": select(ImportedReport.id, ImportedReport.opd_id, ImportedReport.tahun).where(
        col(ImportedReport.id).in_(_IDS)
    ),
    "capaian_sasaran": (
        select(IndikatorSasaran.id, Sasaran.opd_id, Sasaran.tahun)
        .join(Sasaran, col(Sasaran.id) == col(IndikatorSasaran.sasaran_id))
        .where(col(IndikatorSasaran.id).in_(_IDS))
    ),
    "pelaporan": (
        select(Pelaporan.id, Bidang.opd_id, Pelaporan.tahun)
        .join(Bidang, col(Bidang.id) == col(Pelaporan.bidang_id))
        .where(col(Pelaporan.id).in_(_IDS))
    ),
    "jadwal": select(Jadwal.id, Jadwal.opd_id, Jadwal.tahun).where(col(Jadwal.id).in_(_IDS)),
}


class FigureCache:
    """Office-years keyed by (office, year) and small lookups keyed by (name, args), valid for
    the database (connection pool) and audit id they were last checked against."""

    def __init__(self, *, max_years: int = 16, max_small: int = 256) -> None:
        self.max_years, self.max_small = max_years, max_small
        self._years: dict[tuple[int, int], Any] = {}
        # node ids whose rows changed since the office-year was loaded: refreshed on next use
        self._stale: dict[tuple[int, int], frozenset[tuple[str, int]]] = {}
        self._small: dict[tuple[str, tuple], Any] = {}
        self._pool: object = None
        self._seen = 0  # the newest audit id the entries were checked against
        self._gaps: dict[int, float] = {}  # audit ids below it not seen yet -> since when
        # Sessions of several worker threads share the cache: its bookkeeping under one lock,
        # and an office-year built or refreshed by one thread at a time (another asking for
        # it waits for the new one rather than being given the stale one, or building it too).
        self._lock = threading.RLock()
        self._year_locks: dict[tuple[int, int], threading.Lock] = {}
        # How many open sessions were given the office-year now cached under a key: a refresh
        # changes it in place only when none is, else it makes a copy (YearData.refreshed).
        self._holders: dict[tuple[int, int], int] = {}

    @contextmanager
    def read(self, engine: Engine) -> Iterator[Session]:
        """A read-only session (``db.read_scope``) whose queries use this cache."""
        with read_scope(engine) as session:
            session.info[_SESSION_KEY] = self
            try:
                yield session
            finally:
                self._release(session)

    @contextmanager
    def write(self, engine: Engine) -> Iterator[Session]:
        """A write session (``db.session_scope``) that reads through this cache only until it
        writes: a flush takes the cache away (``_forget_cache``), and so does a change not
        flushed yet (``figure_cache``). For a step that reads a plan, then saves."""
        with session_scope(engine) as session:
            session.info[_SESSION_KEY] = self
            try:
                yield session
            finally:
                self._release(session)

    def one_along(self, session: Session, stmt: Select[Any], params: dict[str, Any]) -> Any:
        """The one row of ``stmt``, with this session's look at the audit trail (``_sync``)
        taken in the same statement: every update's first statement is who sent it, and its
        answer then looks (one round trip fewer on PostgreSQL for every answer, issue 29).
        ``stmt`` must give exactly one row; the look is kept for the session's first sync,
        which takes it when the cache has not moved since (else it looks again)."""
        # Core on the session's connection: a plain row, none of the ORM's steps (the first
        # statement of a session: there is nothing of it to flush).
        conn = session.connection()
        with self._lock:
            after, gaps = self._seen, frozenset(self._gaps)
            # synced already, or a first look at this database (it clears everything anyway)
            plain_only = (
                session.info.get(_SYNCED_KEY) is self
                or _VERSION_KEY in session.info
                or _pool(session) is not self._pool
            )
        if plain_only:
            return conn.execute(stmt, params).one()
        plain, with_gaps, starts = _along(stmt, conn.dialect.name == "postgresql")
        rows = conn.execute(
            with_gaps if gaps else plain, {**params, "after": after, "gaps": sorted(gaps)}
        ).all()
        at = len(stmt.selected_columns)  # the look's columns follow the statement's
        newest = int(rows[0][at] or 0)
        # one row per entry, or per row of the node it names (its rows read along)
        entries = tuple(dict.fromkeys(tuple(r[at + 1 : at + 4]) for r in rows if r[at + 1]))
        if len(entries) <= _MAX_PLACED:  # else the sync looks on its own (_entries)
            read: dict[str, dict[int, dict[Any, tuple[Any, ...]]]] = {}
            for entity, start in starts.items():
                of = read[entity] = {}
                width = len(_ROWS_ALONG[entity])
                for r in rows:
                    if r[at + 2] == entity and r[at + 3] is not None:
                        found = of.setdefault(r[at + 3], {})
                        if r[start] is not None:  # the row id: a row of that node
                            found[r[start]] = tuple(r[start : start + width])
            taken = {
                e: {n: tuple(by_id.values()) for n, by_id in of.items()} for e, of in read.items()
            }
            session.info[_LOOKED_KEY] = _Along(after, gaps, newest, entries, taken)
        return rows[0]

    def _release(self, session: Session) -> None:
        """The session is over: the office-years it was given are no longer in use by it."""
        held: dict[tuple[int, int], Any] = session.info.pop(_HELD_KEY, {})
        with self._lock:
            for key, data in held.items():
                if self._years.get(key) is data and self._holders.get(key, 0) > 0:
                    self._holders[key] -= 1

    def clear(self) -> None:
        with self._lock:
            self._years.clear()
            self._stale.clear()
            self._small.clear()
            self._holders.clear()

    def _sync(self, session: Session) -> None:
        """Drop (or mark for refresh) what changed since the last look; once per session."""
        if session.info.get(_SYNCED_KEY) is self:
            return
        with self._lock:
            self._sync_locked(session)

    def _sync_locked(self, session: Session) -> None:
        pool, now = _pool(session), time.monotonic()
        for gap in [g for g, since in self._gaps.items() if now - since > _GAP_SECONDS]:
            del self._gaps[gap]  # a rolled-back transaction's id: it never comes
        looked: tuple[list[tuple[str, int | None]] | None, set[int]] | None = None
        if pool is self._pool and _VERSION_KEY not in session.info:
            along: _Along | None = session.info.pop(_LOOKED_KEY, None)
            # Taken with the session's first statement: usable when it covers what a look
            # now would ask, also after another session looked since (two answers at once
            # right after a write).
            taken = None if along is None else along.since(self._seen, self._gaps)
            if taken is not None and along is not None:
                # Its rows are as new as the entries it placed: a refresh of this session
                # may use them (taken_rows); any entry placed later marks its nodes again.
                session.info[_ROWS_KEY] = along.rows
            version, entries, ids = taken or _look(session, self._seen, set(self._gaps))
            session.info[_VERSION_KEY] = version
            looked = entries, ids
        else:
            version = data_version(session)
        if pool is not self._pool or version < self._seen:
            # Another database, or this one restored from a backup: start afresh, and only
            # note which recent ids are still missing.
            self.clear()
            self._gaps.clear()
            after = max(0, version - _GAP_WINDOW)
            found = set(
                session.execute(
                    select(AuditLog.id).where(col(AuditLog.id) > after, col(AuditLog.id) <= version)
                ).scalars()
            )
            self._note_gaps(after, version, found, now)
        elif version > self._seen or self._gaps:
            if looked is None:
                looked = _entries(session, self._seen, version, set(self._gaps))
            rows, found = looked
            self._note_gaps(self._seen, version, found, now)
            touched = None if rows is None else _touched(session, rows, self._place_node)
            if touched is None:
                self.clear()
            else:
                self._forget(touched)
        self._pool, self._seen = pool, version
        session.info[_SYNCED_KEY] = self

    def _note_gaps(self, after: int, upto: int, found: set[int], now: float) -> None:
        # Ids are drawn when a transaction writes and become visible when it commits, so a
        # transaction that began earlier may commit a smaller id later (PostgreSQL): the ids
        # missing below the newest one are looked for again at every later look.
        for gap in set(range(max(after, upto - _GAP_WINDOW) + 1, upto + 1)) - found:
            self._gaps[gap] = now
        for gap in found & self._gaps.keys():
            del self._gaps[gap]

    def _forget(self, touched: _Touched) -> None:
        for key in list(self._years):
            if touched.structure(*key):
                self._drop(key)
            elif key in touched.rows:
                stale = self._stale.get(key, frozenset()) | touched.rows[key]
                if len(stale) > _MAX_REFRESHED:
                    self._drop(key)
                else:
                    self._stale[key] = stale
        for small in [k for k, v in self._small.items() if _small_touched(k, v, touched)]:
            del self._small[small]

    def _place_node(self, node_id: int) -> tuple[int, int] | None:
        """The (office, year) of a node of a cached office-year; None when none holds it."""
        for key, data in self._years.items():
            if node_id in getattr(data, "nodes", ()):
                return key
        return None

    def _drop(self, key: tuple[int, int]) -> None:
        del self._years[key]
        self._stale.pop(key, None)
        self._holders.pop(key, None)

    def year(
        self,
        session: Session,
        opd_id: int,
        tahun: int,
        build: Callable[[], T],
        refresh: Callable[[T, frozenset[tuple[str, int]], bool], T] | None = None,
    ) -> T:
        """The office-year built by ``build()``, reused until a write touches it; when a write
        changed only some nodes' rows, ``refresh(data, changed, in_place)`` makes the new
        one: in place when no other open session was given it (issue 29: no copy of the
        office-year on the first answer after a write), else as a copy.

        A session is given one office-year for its whole life (what it computes from it
        stays consistent), and a session whose snapshot is older than what the cache has
        seen gets its own, never stored (it would put old rows under a newer version)."""
        self._sync(session)
        key = (opd_id, tahun)
        held: dict[tuple[int, int], Any] = session.info.setdefault(_HELD_KEY, {})
        if key in held:
            return held[key]
        version = data_version(session)
        with self._lock:
            lock = self._year_locks.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                base = self._years.get(key)
                older = version < self._seen
                stale = self._stale.get(key)
                if base is not None and stale is None:
                    return self._hold(session, key, base)
                if not older:
                    self._stale.pop(key, None)  # this session reads them: at or after the write
                alone = not older and self._holders.get(key, 0) == 0
            if base is None or refresh is None or stale is None:
                data = build()  # plain rows (YearData): nothing to detach
            else:
                data = refresh(base, stale, alone)
            with self._lock:
                # Stored unless the office-year was dropped meanwhile (a plan change), or a
                # write was seen meanwhile that a year built from this session's snapshot may
                # predate (a refresh keeps that write's marks; a new year has none).
                if (
                    older
                    or self._years.get(key) is not base
                    or (base is None and version < self._seen)
                ):
                    held[key] = data  # this session's own: never released into the cache
                    return data
                if data is not base:
                    self._store(key, data)
                return self._hold(session, key, data)

    def _hold(self, session: Session, key: tuple[int, int], data: T) -> T:
        session.info[_HELD_KEY][key] = data
        self._holders[key] = self._holders.get(key, 0) + 1
        return data

    def _store(self, key: tuple[int, int], data: object) -> None:
        self._years.pop(key, None)
        self._holders.pop(key, None)  # the ones given the object it replaces keep theirs
        if len(self._years) >= self.max_years:
            oldest = next(iter(self._years))
            self._drop(oldest)
        self._years[key] = data

    def small(self, session: Session, name: str, args: tuple, build: Callable[[], T]) -> T:
        """``build()`` once, until a write touches what it depends on (``_small_touched``)."""
        self._sync(session)
        key = (name, args)
        found = self._small.get(key, _MISSING)
        if found is not _MISSING:
            return found
        value = build()
        _detach(session, value)
        with self._lock:
            if data_version(session) < self._seen:
                return value  # built from a snapshot older than the cache: not kept
            if len(self._small) >= self.max_small:
                self._small.clear()
            self._small[key] = value
        return value


# Small lookups built from the office's plan structure only (names, bidang, years): a write
# of figures or a pagu revision leaves them; their first argument is the office.
_STRUCTURAL = frozenset({"opd", "bidang", "years", "catalog"})
# Lookups without arguments that depend on settings only.
_SETTINGS_ONLY = frozenset({"benchmarks", "ew_tolerance"})


def _small_touched(key: tuple[str, tuple], value: object, touched: _Touched) -> bool:
    name, args = key
    if not args:
        if name in _SETTINGS_ONLY:
            return False  # a setting's change is never placed: it clears everything
        if name == "offices":  # the list of offices and their names
            return bool(touched.offices)
        return True  # across offices (a kabupaten's figures): any change may matter
    if name in _STRUCTURAL:
        return touched.structure(args[0])
    if name == "statuses":  # (office, year, quarter): reports change status with an audit
        # entry of their own ("pelaporan", placed as another change) or by an import
        return touched.structure(args[0], args[1]) or (args[0], args[1]) in touched.other
    if name == "draft_plan":  # keyed by bidang: its office is on the plan it holds
        opd_id = getattr(getattr(value, "bidang", None), "opd_id", None)
        return opd_id is None or touched.any_in(opd_id, args[1])
    # Anything else is keyed by office first and may depend on anything of it.
    return touched.any_in(args[0])
