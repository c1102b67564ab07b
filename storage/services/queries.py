"""Domain queries: serapan, realisasi fisik, capaian, ranking and reporting status.

No Telegram here. Rules (docs/domain.md): a quarter uses the plan (pagu) in force at that
quarter; a node's figure is its own reported figure, else the sum of its children when
every child has one, else *incomplete* — never 0. Realisasi fisik of a roll-up is the
pagu-weighted mean of its children's fisik.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import BindParameter, ColumnElement, Row, Select, bindparam, func
from sqlmodel import Session, SQLModel, col, select

from storage.data.boundary import require, require_every_office
from storage.data.models import (
    Bidang,
    CapaianSasaran,
    ImportedReport,
    IndikatorSasaran,
    Narasi,
    Node,
    NodePlan,
    Pelaporan,
    PerangkatDaerah,
    Realisasi,
    Sasaran,
    Setting,
    StatusLaporan,
    row_id,
    table_of,
)
from storage.domain.early_warning import DEFAULT_BENCHMARKS
from storage.domain.errors import MonevError
from storage.domain.numbers import half_up, ratio_percent
from storage.domain.periods import default_year
from storage.domain.reported import quarter_value
from storage.services.cache import figure_cache, rows_along, taken_rows

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T")

BENCHMARK_SETTING = "benchmark_serapan"  # value "15,40,60,90"


def benchmarks(session: Session) -> dict[int, float]:
    """National cumulative absorption targets per quarter, from settings."""
    return dict(cached(session, "benchmarks", (), lambda: _benchmarks(session)))


def _benchmarks(session: Session) -> dict[int, float]:
    row = session.get(Setting, BENCHMARK_SETTING)
    if row is None or not row.value.strip():
        return dict(DEFAULT_BENCHMARKS)
    parts = [float(p) for p in row.value.split(",")]
    return {i + 1: v for i, v in enumerate(parts[:4])}


@dataclass
class Figure:
    """Pagu and realisation of a node, bidang or office at one quarter."""

    pagu: int | None
    realisasi: int | None  # None: incomplete (some part has no figure)
    fisik: float | None
    reported: bool = False  # the figure was reported for this node itself, not rolled up
    missing: list[str] = field(default_factory=list)  # parts without a figure

    @property
    def complete(self) -> bool:
        return self.realisasi is not None

    @property
    def serapan(self) -> float | None:
        return ratio_percent(self.realisasi, self.pagu)


@dataclass
class Item:
    """A named thing with its figure: a bidang, program, kegiatan or sub kegiatan."""

    kind: str  # "opd", "bidang", "program", "kegiatan", "sub_kegiatan"
    id: int
    nama: str
    figure: Figure


@dataclass
class ScopeResult:
    """The answer to 'how far is X at TW q of year y'."""

    opd: PerangkatDaerah
    tahun: int
    triwulan: int
    item: Item
    breakdown: list[Item]
    benchmark: float

    @property
    def deviasi(self) -> float | None:
        s = self.item.figure.serapan
        return None if s is None else round(s - self.benchmark, 2)

    @property
    def behind(self) -> bool:
        d = self.deviasi
        return d is not None and d < 0


@dataclass(slots=True)
class NodeRow:
    """A node of the plan tree as loaded for figures (a plain row, not an ORM object)."""

    id: int
    opd_id: int
    tahun: int
    sasaran_id: int
    parent_id: int | None
    level: str  # a Level value; Level is a StrEnum, so comparisons with Level.X hold
    nama: str
    indikator: str
    urutan: int


@dataclass(slots=True)
class PlanRow:
    """A plan row (pagu, aktif) of a node from a quarter on."""

    id: int
    node_id: int
    triwulan: int
    aktif: bool
    target: str
    pagu: int | None
    source: str
    report_id: int | None


@dataclass(slots=True)
class RealRow:
    """A reported realisation of a node at a quarter."""

    id: int
    node_id: int
    triwulan: int
    anggaran: int | None
    fisik: float | None
    ket: str
    source: str
    report_id: int | None
    row_no: int | None
    version: int


@dataclass(slots=True)
class SasaranRow:
    """A sasaran of an office-year."""

    id: int
    opd_id: int
    bidang_id: int | None
    tahun: int
    nomor: int
    teks: str
    indikator: str


def _columns(model: type[SQLModel], row: type[DataclassInstance]) -> list:
    # The model's columns in the order of the row's fields, so a result row unpacks into it.
    table = table_of(model)
    return [table.c[f.name] for f in fields(row)]


# Built once (a figure write refreshes a few nodes' rows with these at the next question).
_NODE_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_PLANS_OF = (
    select(*_columns(NodePlan, PlanRow))
    .where(col(NodePlan.node_id).in_(_NODE_IDS))
    .order_by(col(NodePlan.triwulan), col(NodePlan.id))
)
_REAL_OF = select(*_columns(Realisasi, RealRow)).where(col(Realisasi.node_id).in_(_NODE_IDS))
# The first answer after a write reads the changed nodes' rows with its look at the audit
# trail, in its first statement (the audit entries of both carry the node id).
rows_along("node_plan", _columns(NodePlan, PlanRow))
rows_along("realisasi", _columns(Realisasi, RealRow))
_QUARTERS = (1, 2, 3, 4)

V = TypeVar("V")


def _without(
    memo: dict[tuple[int, int], V], nodes: set[int], in_place: bool
) -> dict[tuple[int, int], V]:
    """A memo keyed by (node id, quarter) without the entries of ``nodes``: the memo itself
    (``in_place``) or a copy."""
    out = memo if in_place else dict(memo)  # a C-level copy; then no walk over the year
    for n in nodes:
        for tw in _QUARTERS:
            out.pop((n, tw), None)
    return out


class YearData:
    """One office-year loaded once (four plain selects, no ORM objects); every figure is then
    computed in memory. The rows are copies: writing goes through the ORM elsewhere."""

    def __init__(
        self, session: Session, opd_id: int, tahun: int, *, only: Sequence[int] | None = None
    ) -> None:
        """``only``: just these nodes (with every ancestor among them), e.g. for a write that
        needs one node's plan in force: its cost is not the office-year's size."""
        # Plain rows bypass the ORM's office criteria: the office is checked here instead.
        require(session, opd_id)
        self.opd_id, self.tahun = opd_id, tahun
        in_year: tuple[ColumnElement[bool], ...] = (
            col(Node.opd_id) == opd_id,
            col(Node.tahun) == tahun,
        )
        if only is not None:
            in_year = (*in_year, col(Node.id).in_(list(only)))
        # Core on the session's connection: rows come back as tuples, no ORM loading step
        # (a flush first, so a write session sees its own pending changes, as a query would).
        session.flush()
        conn = session.connection()

        def run(query: Select) -> Sequence[Row]:
            return conn.execute(query).all()  # fetchall: a third of the time of row by row

        self.nodes: dict[int, NodeRow] = {
            r[0]: NodeRow(*r) for r in run(select(*_columns(Node, NodeRow)).where(*in_year))
        }
        self.plans: dict[int, list[PlanRow]] = {}
        self.real: dict[tuple[int, int], RealRow | Realisasi] = {}
        if self.nodes:
            for r in run(
                select(*_columns(NodePlan, PlanRow))
                .join(Node, col(Node.id) == col(NodePlan.node_id))
                .where(*in_year)
                .order_by(col(NodePlan.triwulan), col(NodePlan.id))
            ):
                self.plans.setdefault(r[1], []).append(PlanRow(*r))
            for r in run(
                select(*_columns(Realisasi, RealRow))
                .join(Node, col(Node.id) == col(Realisasi.node_id))
                .where(*in_year)
            ):
                self.real[(r[1], r[2])] = RealRow(*r)
        self.sasaran: dict[int, SasaranRow] = {
            r[0]: SasaranRow(*r)
            for r in run(
                select(*_columns(Sasaran, SasaranRow)).where(
                    col(Sasaran.opd_id) == opd_id, col(Sasaran.tahun) == tahun
                )
            )
        }
        self.kids: dict[int | None, list[NodeRow]] = {}
        for n in sorted(self.nodes.values(), key=lambda n: (n.urutan, n.id)):
            self.kids.setdefault(n.parent_id, []).append(n)
        self._memo: dict[tuple[int, int], Figure] = {}
        self._plan_memo: dict[tuple[int, int], PlanRow | None] = {}
        # the top of the plan per (quarter, sasaran), and its total: every answer about the
        # office or a bidang asks them, and at 100x the demo office they cost more than the
        # rest of the answer (a walk over every program)
        self._programs_memo: dict[tuple[int, frozenset[int] | None], list[NodeRow]] = {}
        self._scope_memo: dict[tuple[int, frozenset[int] | None], Figure] = {}
        self._quarters: list[int] | None = None
        # quarter -> (realisasi rows carrying an anggaran, all its realisasi rows); None: not
        # counted yet. Kept by a refresh: a write does not walk every row of the year.
        self._quarter_rows: dict[int, tuple[int, int]] | None = None

    def refreshed(
        self,
        session: Session,
        changed: Iterable[tuple[str, int]],
        in_place: bool = False,
    ) -> YearData:
        """This office-year with the rows that ``changed`` names read again: (``"node_plan"``,
        node id) its plan rows, (``"realisasi"``, node id) its realisasi rows (a select per
        table named): what a figure write or a pagu revision changed. As a copy that leaves
        this one, and any reader of it, untouched (the nodes and sasaran, the structure, are
        shared); or ``in_place``, when no one else is reading it (the figure cache knows):
        then nothing the size of the office-year is copied.

        What was computed from rows that did not change is kept (issue 29: the first answer
        after a write must not cost the size of the office-year): a node's plan depends on
        its own rows and its ancestors' plans, its figure on its own rows and its children's
        figures, so only the changed nodes, their descendants and their ancestors are
        computed again; the top of the plan only when a changed node is at the top."""
        plan_ids = sorted({i for table, i in changed if table == "node_plan" and i in self.nodes})
        real_ids = sorted({i for table, i in changed if table != "node_plan" and i in self.nodes})
        ids = sorted({*plan_ids, *real_ids})
        view = self if in_place else copy.copy(self)
        if not ids:
            return view  # nothing of this year changed: the computed figures all hold
        # whether each changed program was in the plan, at each quarter the top of the plan
        # was asked for, read before the rows change
        was = {
            (n, tw): self.in_plan(n, tw)
            for n in ids
            if self.nodes[n].parent_id is None
            for tw in {tw for tw, _ in self._programs_memo}
        }
        conn = session.connection()
        if plan_ids:
            if not in_place:
                view.plans = dict(self.plans)
            for i in plan_ids:
                view.plans.pop(i, None)
            taken = taken_rows(session, "node_plan", plan_ids)
            plan_rows: Sequence[Sequence[Any]] = (
                conn.execute(_PLANS_OF, {"ids": plan_ids}).all()
                if taken is None
                else sorted(taken, key=lambda r: (r[2], r[0]))  # as _PLANS_OF orders them
            )
            for r in plan_rows:
                view.plans.setdefault(r[1], []).append(PlanRow(*r))
        old: list[RealRow | Realisasi] = []
        new: list[RealRow | Realisasi] = []
        if real_ids:
            if not in_place:
                view.real = dict(self.real)
            # realisasi rows are keyed (node, quarter I-IV): the changed nodes' keys are found
            # without a walk over every row of the year
            old = [
                row for i in real_ids for tw in _QUARTERS if (row := view.real.pop((i, tw), None))
            ]
            real_rows = taken_rows(session, "realisasi", real_ids)
            if real_rows is None:
                real_rows = list(conn.execute(_REAL_OF, {"ids": real_ids}).all())
            new = [RealRow(*r) for r in real_rows]
            for row in new:
                view.real[(row.node_id, row.triwulan)] = row
        view._forget_computed(ids, old=old, new=new, was=was, base=self)
        return view

    def _forget_computed(
        self,
        ids: list[int],
        *,
        old: Sequence[RealRow | Realisasi],
        new: Sequence[RealRow | Realisasi],
        was: Mapping[tuple[int, int], bool],
        base: YearData,
    ) -> None:
        """This copy of ``base``, or ``base`` itself, had the rows of ``ids`` replaced
        (``old`` realisasi rows out, ``new`` in; ``was``: whether each changed program was in
        the plan at each quarter before): its memos keep what the change leaves valid."""
        below: set[int] = set()
        todo = list(ids)
        while todo:  # the changed nodes and their descendants: plans and figures
            n = todo.pop()
            if n not in below:
                below.add(n)
                todo.extend(k.id for k in self.kids.get(n, []))
        figures = set(below)
        for n in ids:  # and their ancestors: figures (a roll-up of the changed ones)
            parent = self.nodes[n].parent_id
            while parent is not None and parent not in figures:
                figures.add(parent)
                parent = self.nodes[parent].parent_id
        in_place = self is base
        self._plan_memo = _without(base._plan_memo, below, in_place)
        self._memo = _without(base._memo, figures, in_place)
        # The top of the plan changes only when a changed program enters or leaves the plan
        # (a pagu revision of a program leaves it where it was).
        moved = any(in_plan != self.in_plan(n, tw) for (n, tw), in_plan in was.items())
        if moved:
            self._programs_memo = {}
        elif not in_place:
            self._programs_memo = dict(base._programs_memo)
        roots = {n for n in figures if self.nodes[n].parent_id is None}
        touched = {self.nodes[n].sasaran_id for n in roots}
        self._scope_memo = {
            k: v
            for k, v in base._scope_memo.items()
            if not moved and k[1] is not None and not (k[1] & touched)
        }
        counts = base._quarter_rows
        if counts is not None:
            counts = dict(counts)
            for row, step in [*((r, -1) for r in old), *((r, 1) for r in new)]:
                with_figure, rows = counts.get(row.triwulan, (0, 0))
                counts[row.triwulan] = (
                    with_figure + step * (row.anggaran is not None),
                    rows + step,
                )
        self._quarter_rows = counts
        self._quarters = None

    def with_realisasi(self, overrides: Mapping[tuple[int, int], Realisasi | None]) -> YearData:
        """A view of the same year with some figures replaced (None: removed), e.g. to preview
        a submission. Shares the loaded plan rows; leaves this one, and any cache, untouched."""
        view = copy.copy(self)
        view.real = dict(self.real)
        for key, row in overrides.items():
            if row is None:
                view.real.pop(key, None)
            else:
                view.real[key] = row
        view._memo, view._scope_memo, view._quarters, view._quarter_rows = {}, {}, None, None
        return view

    # --- plan -------------------------------------------------------------------------------

    def plan(self, node_id: int, tw: int) -> PlanRow | None:
        """The plan row in force at ``tw`` (latest at or before it), if the node is active."""
        # Remembered: every tree walk asks it of each node and, through in_plan, of all its
        # ancestors (a hundred thousand calls for a 3,300-sub-kegiatan export).
        key = (node_id, tw)
        if key in self._plan_memo:
            return self._plan_memo[key]
        rows = [p for p in self.plans.get(node_id, []) if p.triwulan <= tw]
        found = rows[-1] if rows and rows[-1].aktif else None
        node = self.nodes[node_id]
        if (
            found is not None
            and node.parent_id is not None
            and self.plan(node.parent_id, tw) is None
        ):
            found = None
        if tw in _QUARTERS:  # a refresh forgets a node's entries quarter by quarter
            self._plan_memo[key] = found
        return found

    def in_plan(self, node_id: int, tw: int) -> bool:
        return self.plan(node_id, tw) is not None

    def children(self, node_id: int | None, tw: int) -> list[NodeRow]:
        return [n for n in self.kids.get(node_id, []) if self.in_plan(n.id, tw)]

    def programs(self, tw: int, sasaran_ids: set[int] | None = None) -> list[NodeRow]:
        """The top of the plan at ``tw``: programs, or kegiatan where an office's own
        reports have no program level."""
        key = (tw, None if sasaran_ids is None else frozenset(sasaran_ids))
        found = self._programs_memo.get(key)
        if found is None:
            out = [n for n in self.kids.get(None, []) if self.in_plan(n.id, tw)]
            if sasaran_ids is not None:
                out = [n for n in out if n.sasaran_id in sasaran_ids]
            found = sorted(out, key=lambda n: (self.sasaran[n.sasaran_id].nomor, n.urutan, n.id))
            self._programs_memo[key] = found
        return list(found)  # the caller's own list: the memo stays as it was

    def sub_kegiatan(self, tw: int, sasaran_ids: set[int] | None = None) -> list[NodeRow]:
        """Leaves of the plan at ``tw``: the level data entry happens at."""
        out: list[NodeRow] = []

        def walk(n: NodeRow) -> None:
            kids = self.children(n.id, tw)
            if not kids:
                out.append(n)
            for k in kids:
                walk(k)

        for p in self.programs(tw, sasaran_ids):
            walk(p)
        return out

    # --- figures ----------------------------------------------------------------------------

    def node_figure(self, node_id: int, tw: int) -> Figure:
        key = (node_id, tw)
        found = self._memo.get(key)
        if found is None:
            found = self._compute(node_id, tw)
            if tw in _QUARTERS:  # a refresh forgets a node's entries quarter by quarter
                self._memo[key] = found
        return found

    def _compute(self, node_id: int, tw: int) -> Figure:
        node = self.nodes[node_id]
        plan = self.plan(node_id, tw)
        pagu = plan.pagu if plan else None
        kids = self.children(node_id, tw)
        real = self.real.get((node_id, tw))
        if real is not None and real.anggaran is not None:
            fisik = real.fisik
            if fisik is None and kids:
                fisik = rollup(self.node_figure(k.id, tw) for k in kids).fisik
            return Figure(pagu, real.anggaran, fisik, reported=True)
        if not kids:
            return Figure(pagu, None, real.fisik if real else None, missing=[node.nama])
        fig = rollup(self.node_figure(k.id, tw) for k in kids)
        if pagu is None:
            pagu = fig.pagu
        return Figure(pagu, fig.realisasi, fig.fisik, missing=fig.missing)

    def scope_figure(self, sasaran_ids: set[int] | None, tw: int) -> Figure:
        key = (tw, None if sasaran_ids is None else frozenset(sasaran_ids))
        found = self._scope_memo.get(key)
        if found is None:
            found = rollup(self.node_figure(p.id, tw) for p in self.programs(tw, sasaran_ids))
            self._scope_memo[key] = found
        return copy.copy(found)  # a Figure is mutable (its list of missing parts is not)

    def _counts(self) -> dict[int, tuple[int, int]]:
        if self._quarter_rows is None:
            counts: dict[int, tuple[int, int]] = {}
            for (_, tw), r in self.real.items():
                with_figure, rows = counts.get(tw, (0, 0))
                counts[tw] = (with_figure + (r.anggaran is not None), rows + 1)
            self._quarter_rows = counts
        return self._quarter_rows

    def quarters_with_data(self) -> list[int]:
        """Quarters with a realisasi figure (an anggaran) of some node."""
        if self._quarters is None:  # asked by every answer with an explicit quarter
            self._quarters = sorted(tw for tw, (n, _) in self._counts().items() if n > 0)
        return list(self._quarters)

    def latest_quarter(self) -> int:
        """The latest quarter with any realisasi row (a figure or fisik only); TW I if none."""
        return max((tw for tw, (_, n) in self._counts().items() if n > 0), default=1)


# Lookups of the directory (offices and their bidang, which anyone registering is shown), or
# of settings: every scope reads them alike.
_DIRECTORY = frozenset({"opd", "bidang", "offices", "benchmarks", "ew_tolerance"})


def cached(session: Session, name: str, args: tuple, build: Callable[[], T]) -> T:
    """``build()``, kept in the session's figure cache when it carries one (read sessions
    opened by ``FigureCache.read``); computed afresh otherwise.

    Every other lookup is keyed by its office first (a draft plan by its bidang), or reads
    every office (no arguments): one outside the session's scope is refused
    (``boundary.require``) before it is built or taken from the cache, so an entry built for
    one scope never answers another."""
    keyed_by_bidang = name == "draft_plan"
    if name in _DIRECTORY or keyed_by_bidang:
        pass
    elif args:
        require(session, args[0])
    else:
        require_every_office(session)
    cache = figure_cache(session)
    value = build() if cache is None else cache.small(session, name, args, build)
    if keyed_by_bidang:
        require(session, value.bidang.opd_id)  # type: ignore[attr-defined]
    return value


def year_data(session: Session, opd_id: int, tahun: int) -> YearData:
    """The office-year, from the session's figure cache when it carries one (treat it as
    read-only)."""
    require(session, opd_id)  # before the cache: an office-year cached for another scope stays
    cache = figure_cache(session)
    if cache is None:
        return YearData(session, opd_id, tahun)
    return cache.year(
        session,
        opd_id,
        tahun,
        lambda: YearData(session, opd_id, tahun),
        lambda data, changed, in_place: data.refreshed(session, changed, in_place),
    )


@lru_cache(maxsize=1 << 16)
def _weighted(fisik: float, pagu: int) -> Decimal:
    """A part's fisik × pagu: the decimals as written, so an exact half rounds up like every
    percentage. Remembered: an office total after a write rolls up every program again, and
    most of their figures did not change (at 100x the demo office this was most of it)."""
    return Decimal(str(fisik)) * pagu


def rollup(figures: Iterable[Figure]) -> Figure:
    """Sum of parts; incomplete when any part is. Fisik is weighted by pagu."""
    # One pass (an office total at 100x the demo office rolls up a thousand programs after
    # every write); every sum is taken over the parts in their order, as before.
    figs = list(figures)
    if not figs:
        return Figure(None, None, None, missing=[])
    pagu = 0
    missing: list[str] = []
    spent: list[int] = []
    weighted: list[Decimal] | None = []  # fisik × pagu per part; None once a part has no fisik
    for f in figs:
        part = f.pagu or 0
        pagu += part
        missing += f.missing
        if f.realisasi is not None:
            spent.append(f.realisasi)
        if weighted is not None:
            if f.fisik is None:
                weighted = None
            else:
                weighted.append(_weighted(f.fisik, part))
    realisasi = None if missing else sum(spent)
    fisik = float(half_up(sum(weighted) / pagu)) if weighted is not None and pagu else None
    return Figure(pagu, realisasi, fisik, missing=missing)


# --- queries on the database ------------------------------------------------------------------


def get_opd(session: Session, opd_id: int) -> PerangkatDaerah | None:
    return cached(session, "opd", (opd_id,), lambda: session.get(PerangkatDaerah, opd_id))


def list_bidang(session: Session, opd_id: int) -> list[Bidang]:
    return cached(session, "bidang", (opd_id,), lambda: _list_bidang(session, opd_id))


def _list_bidang(session: Session, opd_id: int) -> list[Bidang]:
    return list(
        session.exec(
            select(Bidang)
            .where(col(Bidang.opd_id) == opd_id)
            .order_by(col(Bidang.urutan), col(Bidang.id))
        ).all()
    )


def years_with_data(session: Session, opd_id: int) -> list[int]:
    def build() -> list[int]:
        rows = session.exec(select(Node.tahun).where(Node.opd_id == opd_id).distinct()).all()
        return sorted(rows)

    return list(cached(session, "years", (opd_id,), build))


class NoYearData(MonevError, LookupError):
    """The office has no plan in any year yet."""

    default_message = "Belum ada rencana (program dan pagu) perangkat daerah ini di tahun mana pun."


@dataclass(frozen=True)
class Period:
    """The year and quarter a question, chart, report or command is about."""

    tahun: int
    triwulan: int
    years: tuple[int, ...]  # years with a plan, oldest first
    tahun_defaulted: bool = False
    triwulan_defaulted: bool = False

    @property
    def has_data(self) -> bool:
        """Whether ``tahun`` has a plan (a year asked for explicitly may have none)."""
        return self.tahun in self.years


def resolve_period(
    session: Session, *, opd_id: int, tahun: int | None = None, tw: int | None = None
) -> Period:
    """Fill in what was not said (docs/domain.md): no year -> the latest year with a plan; no
    quarter -> the latest quarter of that year with realisation, else TW I.

    Raises ``NoYearData`` when the office has no plan at all; a year given explicitly is kept
    even without data (``Period.has_data`` tells), so each caller words that case.
    """
    years = tuple(years_with_data(session, opd_id))
    year = default_year(tahun, years)
    if year is None or not years:  # no plan at all, whichever year was named
        raise NoYearData()
    quarter = tw or latest_quarter(session, opd_id, year)
    return Period(year, quarter, years, tahun is None, tw is None)


def latest_quarter(session: Session, opd_id: int, tahun: int) -> int:
    """The latest quarter of the office-year with realisasi rows, TW I when none."""
    if figure_cache(session) is not None:
        # from the cached office-year: every answer asks, and after a write the statement
        # below costs the office-year's size (it reads every realisasi row of the year)
        return year_data(session, opd_id, tahun).latest_quarter()
    require(session, opd_id)
    return _latest_quarter(session, opd_id, tahun)


_LATEST_TW = (
    select(func.max(Realisasi.triwulan))
    .join(Node, col(Node.id) == col(Realisasi.node_id))
    .where(col(Node.opd_id) == bindparam("opd_id"), col(Node.tahun) == bindparam("tahun"))
)


def _latest_quarter(session: Session, opd_id: int, tahun: int) -> int:
    tw = session.connection().execute(_LATEST_TW, {"opd_id": opd_id, "tahun": tahun}).scalar()
    return int(tw or 1)


def bidang_sasaran_ids(data: YearData, bidang_id: int) -> set[int]:
    return {s.id for s in data.sasaran.values() if s.bidang_id == bidang_id}


def _node_kind(node: NodeRow) -> str:
    return str(node.level)


def scope_result(
    session: Session,
    opd_id: int,
    tahun: int,
    tw: int,
    *,
    bidang_id: int | None = None,
    node_id: int | None = None,
    data: YearData | None = None,
    only_bidang: frozenset[int] | None = None,
) -> ScopeResult:
    """Serapan and fisik of the office, a bidang or a node, with the level below it.
    ``only_bidang``: the office's total over these bidang only (a quarter not every bidang
    has reported yet); the breakdown still lists every bidang."""
    opd = get_opd(session, opd_id)
    assert opd is not None
    data = data or year_data(session, opd_id, tahun)
    bench = benchmarks(session).get(tw, 0.0)
    if node_id is not None:
        node = data.nodes[node_id]
        item = Item(_node_kind(node), node_id, node.nama, data.node_figure(node_id, tw))
        breakdown = [
            Item(_node_kind(k), k.id, k.nama, data.node_figure(k.id, tw))
            for k in data.children(node_id, tw)
        ]
    elif bidang_id is not None:
        b = next((x for x in list_bidang(session, opd_id) if x.id == bidang_id), None)
        assert b is not None
        sids = bidang_sasaran_ids(data, bidang_id)
        item = Item("bidang", bidang_id, b.nama, data.scope_figure(sids, tw))
        breakdown = [
            Item("program", p.id, p.nama, data.node_figure(p.id, tw))
            for p in data.programs(tw, sids)
        ]
    else:
        item = Item("opd", opd_id, opd.nama, data.scope_figure(None, tw))
        breakdown = [
            Item(
                "bidang",
                row_id(b),
                b.nama,
                data.scope_figure(bidang_sasaran_ids(data, row_id(b)), tw),
            )
            for b in list_bidang(session, opd_id)
        ]
        loose = unassigned_sasaran_ids(data, tw)
        if loose:
            # Programs of no bidang (a new office's first import): their own row, so the
            # bidang rows always add up to the office total.
            breakdown.append(Item(NO_BIDANG_KIND, 0, NO_BIDANG, data.scope_figure(loose, tw)))
        if only_bidang is not None:
            part = rollup(it.figure for it in breakdown if it.id in only_bidang)
            item = Item("opd", opd_id, opd.nama, part)
    return ScopeResult(opd, tahun, tw, item, breakdown, bench)


NO_BIDANG = "Tanpa bidang"
NO_BIDANG_KIND = "tanpa_bidang"


def unassigned_sasaran_ids(data: YearData, tw: int) -> set[int]:
    """Sasaran of no bidang that hold a program in the plan at ``tw``."""
    ids = {s.id for s in data.sasaran.values() if s.bidang_id is None}
    return {p.sasaran_id for p in data.programs(tw, ids)} if ids else set()


def ranking(
    session: Session, opd_id: int, tahun: int, tw: int, *, by: str = "serapan"
) -> list[Item]:
    """Bidang ordered from highest to lowest serapan (or fisik); incomplete ones last."""
    res = scope_result(session, opd_id, tahun, tw)

    def key(it: Item) -> tuple[int, float]:
        v = it.figure.fisik if by == "fisik" else it.figure.serapan
        return (0, -v) if v is not None else (1, 0.0)

    # A ranking of bidang: programs of no bidang are not one.
    return sorted((it for it in res.breakdown if it.kind != NO_BIDANG_KIND), key=key)


def trend(
    session: Session,
    opd_id: int,
    tahun: int,
    *,
    bidang_id: int | None = None,
    node_id: int | None = None,
) -> list[tuple[int, Figure]]:
    """Cumulative figures of a scope for TW I..IV of a year."""
    data = year_data(session, opd_id, tahun)
    out = []
    for tw in range(1, 5):
        out.append(
            (
                tw,
                scope_result(
                    session, opd_id, tahun, tw, bidang_id=bidang_id, node_id=node_id, data=data
                ).item.figure,
            )
        )
    return out


@dataclass
class StatusRow:
    bidang: Bidang
    status: StatusLaporan | None  # None: nothing submitted yet

    @property
    def reported(self) -> bool:
        return self.status in (StatusLaporan.DIAJUKAN, StatusLaporan.DISETUJUI)


# Built once: every answer asks it, and building it costs more than running it.
_STATUSES = (
    select(Pelaporan.bidang_id, Pelaporan.status)
    .join(Bidang, col(Bidang.id) == col(Pelaporan.bidang_id))
    .where(
        col(Bidang.opd_id) == bindparam("opd_id"),
        col(Pelaporan.tahun) == bindparam("tahun"),
        col(Pelaporan.triwulan) == bindparam("tw"),
    )
)


def reporting_status(session: Session, opd_id: int, tahun: int, tw: int) -> list[StatusRow]:
    """For each bidang: has it reported TW ``tw``, and where does its report stand."""
    # Plain rows, not ORM objects: every answer asks (its figures may not be approved yet).
    # Kept in the figure cache until a report of the office-year changes status (every change
    # leaves a "pelaporan" audit entry, an import a "report" one: cache._small_touched). The
    # office is checked by ``cached`` (plain rows: the office's criteria do not reach them).
    params = {"opd_id": opd_id, "tahun": tahun, "tw": tw}
    rows = cached(session, "statuses", (opd_id, tahun, tw), lambda: _statuses(session, params))
    return [
        StatusRow(b, StatusLaporan(rows[b.id]) if b.id in rows else None)
        for b in list_bidang(session, opd_id)
    ]


def _statuses(session: Session, params: dict[str, int]) -> dict[int, str]:
    return dict(session.connection().execute(_STATUSES, params).all())


def unverified(
    session: Session, opd_id: int, tahun: int, tw: int, *, bidang_id: int | None = None
) -> list[StatusRow]:
    """The bidang whose figures of the quarter were entered but are not approved (waiting
    for verification, or returned): answers mark them so they never look final."""
    return [
        r
        for r in reporting_status(session, opd_id, tahun, tw)
        if r.status in (StatusLaporan.DIAJUKAN, StatusLaporan.DIKEMBALIKAN)
        and (bidang_id is None or r.bidang.id == bidang_id)
    ]


@dataclass
class CapaianRow:
    sasaran_nomor: int
    indikator: str
    program: str | None
    target: float | None
    realisasi: float | None

    @property
    def capaian(self) -> float | None:
        """Capaian = realisasi ÷ target of the same period."""
        return ratio_percent(self.realisasi, self.target)


def capaian_kinerja(
    session: Session, opd_id: int, tahun: int, tw: int, *, bidang_id: int | None = None
) -> list[CapaianRow]:
    """Indicator T/R of each sasaran at ``tw``; the quarter's own report wins over restatements.

    Three statements whatever the size: the quarter's own report, the indicators (with their
    sasaran and program), and every value of the quarter."""
    own_report = session.exec(
        select(ImportedReport.id).where(
            ImportedReport.opd_id == opd_id,
            ImportedReport.tahun == tahun,
            ImportedReport.triwulan == tw,
        )
    ).first()
    in_year = [col(Sasaran.opd_id) == opd_id, col(Sasaran.tahun) == tahun]
    if bidang_id is not None:
        in_year.append(col(Sasaran.bidang_id) == bidang_id)
    indicators = session.execute(
        select(IndikatorSasaran.id, Sasaran.nomor, IndikatorSasaran.nama, Node.nama)
        .join(Sasaran, col(Sasaran.id) == col(IndikatorSasaran.sasaran_id))
        .outerjoin(Node, col(Node.id) == col(IndikatorSasaran.program_id))
        .where(*in_year)
        .order_by(col(Sasaran.nomor), col(Sasaran.id), col(IndikatorSasaran.urutan))
    ).all()
    values: dict[int, list[tuple[int | None, CapaianSasaran]]] = {}
    for v in session.exec(
        select(CapaianSasaran)
        .join(IndikatorSasaran, col(IndikatorSasaran.id) == col(CapaianSasaran.indikator_id))
        .join(Sasaran, col(Sasaran.id) == col(IndikatorSasaran.sasaran_id))
        .where(*in_year, col(CapaianSasaran.triwulan) == tw)
        .order_by(col(CapaianSasaran.id))
    ).all():
        values.setdefault(v.indikator_id, []).append((v.report_id, v))
    out: list[CapaianRow] = []
    for ind_id, nomor, nama, program in indicators:
        chosen = quarter_value(values.get(ind_id, []), own_report)
        if chosen is not None:
            out.append(CapaianRow(nomor, nama, program, chosen.target, chosen.realisasi))
    return out


@dataclass
class NarasiRow:
    sasaran_nomor: int
    program: str | None
    aksi: str
    hambatan: str
    tindak_lanjut: str


def narasi(
    session: Session, opd_id: int, tahun: int, tw: int, *, bidang_id: int | None = None
) -> list[NarasiRow]:
    """Aksi, hambatan and tindak lanjut reported for TW ``tw``."""
    q = (
        select(Narasi, Sasaran)
        .join(Sasaran, col(Sasaran.id) == Narasi.sasaran_id)
        .where(Sasaran.opd_id == opd_id, Sasaran.tahun == tahun, Narasi.triwulan == tw)
        .order_by(col(Sasaran.nomor), col(Narasi.urutan))
    )
    if bidang_id is not None:
        q = q.where(Sasaran.bidang_id == bidang_id)
    out = []
    for n, s in session.exec(q).all():
        prog = session.get(Node, n.program_id) if n.program_id else None
        out.append(
            NarasiRow(s.nomor, prog.nama if prog else None, n.aksi, n.hambatan, n.tindak_lanjut)
        )
    return out


@dataclass
class SummaryRow:
    nama: str
    figure: Figure


@dataclass
class Summary:
    opd: PerangkatDaerah
    tahun: int
    triwulan: int
    rows: list[SummaryRow]
    total: Figure
    benchmark: float

    @cached_property
    def behind(self) -> list[str]:
        return [
            r.nama
            for r in self.rows
            if r.figure.serapan is not None and r.figure.serapan < self.benchmark
        ]


def summary(session: Session, opd_id: int, tahun: int, tw: int) -> Summary:
    """Pagu, realisasi and serapan for each bidang and the office total."""
    res = scope_result(session, opd_id, tahun, tw)
    rows = [SummaryRow(it.nama, it.figure) for it in res.breakdown]
    return Summary(res.opd, tahun, tw, rows, res.item.figure, res.benchmark)


# --- a quarter in progress ----------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Which bidang of a scope have reported a quarter (issue 24: a quarter comes in over
    weeks; an answer must not read a partly reported quarter as the office's figure)."""

    tahun: int
    triwulan: int
    reported: tuple[str, ...]  # bidang names, in the office's order
    missing: tuple[str, ...]  # bidang of the scope that have not reported
    reported_ids: frozenset[int] = frozenset()
    approved: bool = False  # every bidang of the scope reported and was approved

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def total(self) -> int:
        return len(self.reported) + len(self.missing)


def bidang_of_node(data: YearData, node_id: int) -> int | None:
    node = data.nodes.get(node_id)
    sasaran = data.sasaran.get(node.sasaran_id) if node is not None else None
    return sasaran.bidang_id if sasaran is not None else None


def progress(
    session: Session, opd_id: int, tahun: int, tw: int, *, bidang_id: int | None = None
) -> Progress:
    """Who of the scope (the office's bidang with programs in the plan at ``tw``, or one
    bidang) has reported ``tw``: a report sent or approved, or, for figures that came
    without a report (an import), a complete figure of the bidang."""
    data = year_data(session, opd_id, tahun)
    status = {r.bidang.id: r.status for r in reporting_status(session, opd_id, tahun, tw)}
    reported: list[Bidang] = []
    missing: list[Bidang] = []
    approved = True
    for b in list_bidang(session, opd_id):
        if bidang_id is not None and b.id != bidang_id:
            continue
        sids = bidang_sasaran_ids(data, row_id(b))
        if bidang_id is None and not data.programs(tw, sids):
            continue  # nothing planned for it this quarter: not awaited
        st = status.get(b.id)
        if st in (StatusLaporan.DIAJUKAN, StatusLaporan.DISETUJUI):
            ok = True
        elif st is None:
            fig = data.scope_figure(sids, tw)
            ok = fig.complete and tw in data.quarters_with_data()
        else:
            ok = False  # a draft or a returned report is not a report yet
        (reported if ok else missing).append(b)
        approved = approved and ok and st in (StatusLaporan.DISETUJUI, None)
    return Progress(
        tahun,
        tw,
        tuple(b.nama for b in reported),
        tuple(b.nama for b in missing),
        frozenset(b.id for b in reported if b.id is not None),
        approved and not missing,
    )


def latest_complete_quarter(
    session: Session, opd_id: int, tahun: int, *, bidang_id: int | None = None
) -> int | None:
    """The latest quarter of ``tahun`` every bidang of the scope has reported."""
    for tw in range(latest_quarter(session, opd_id, tahun), 0, -1):
        if progress(session, opd_id, tahun, tw, bidang_id=bidang_id).complete:
            return tw
    return None


@dataclass(frozen=True)
class ReportPeriod:
    """The quarter a report file is made for, and how far it has come in."""

    progress: Progress  # of the quarter made (complete and approved: ready to print)
    coming: Progress | None = None  # a later quarter partly reported (no period asked)


def report_period(session: Session, opd_id: int, period: Period) -> ReportPeriod:
    """Without a quarter asked, the latest complete one (the one coming in named apart)."""
    tahun, tw = period.tahun, period.triwulan
    coming = None
    if period.triwulan_defaulted and period.has_data:
        done = latest_complete_quarter(session, opd_id, tahun)
        if done is not None and done < tw:
            now = progress(session, opd_id, tahun, tw)
            coming, tw = (now if now.reported else None), done
    return ReportPeriod(progress(session, opd_id, tahun, tw), coming)
