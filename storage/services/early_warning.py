"""Early warning (peringatan dini): the office's spending plan, deviation from it, a year-end
projection, and the settings of the weekly digest.

No Telegram here. The arithmetic is ``storage.domain.early_warning``; this module reads the
plan rows (``rencana_penarikan``) of an office-year, applies them to the figures of
``YearData`` (node-figure rule for realisasi, pagu in force at the quarter) and returns data.
Plan rows are kept per revision quarter like pagu revisions: ``set_rencana`` adds or updates
the row of its quarter and audits every amount it changes, never an earlier quarter's row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.data.audit import record
from storage.data.models import (
    AppUser,
    Level,
    Node,
    RencanaPenarikan,
    Role,
    SentReminder,
    Setting,
    Source,
    UserPref,
    UserStatus,
    row_id,
    utcnow,
)
from storage.domain.early_warning import (
    DEFAULT_TOLERANCE_PP,
    Deviation,
    Path,
    PlanError,
    PlanSource,
    Projection,
    add_paths,
    at_risk,
    check_plan,
    combine_sources,
    deviation,
    fill_path,
    national_path,
    project,
    projection_ratio,
)
from storage.domain.errors import MonevError
from storage.domain.numbers import ratio_percent
from storage.domain.periods import roman
from storage.services.queries import (
    NodeRow,
    YearData,
    benchmarks,
    bidang_sasaran_ids,
    cached,
    get_opd,
    list_bidang,
    unverified,
    year_data,
)
from storage.services.users import get_user

TOLERANCE_SETTING = "peringatan_toleransi"  # percentage points, e.g. "5"
WEEKDAY_SETTING = "peringatan_hari"  # 0 = Senin … 6 = Minggu
DEFAULT_WEEKDAY = 0
WEEKDAYS = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
_WEEKDAY_ALIASES = {"jum'at": 4, "ahad": 6}
MAX_TOLERANCE_PP = 50.0


class EarlyWarningError(MonevError, ValueError):
    """A request that cannot be carried out; ``str()`` is an Indonesian message."""


# --- settings ----------------------------------------------------------------------------------


def tolerance(session: Session) -> float:
    """Percentage points of pagu beyond which a node is *menyimpang* (default 5)."""

    def build() -> float:
        row = session.get(Setting, TOLERANCE_SETTING)
        try:
            return float(row.value) if row and row.value.strip() else DEFAULT_TOLERANCE_PP
        except ValueError:
            return DEFAULT_TOLERANCE_PP

    return cached(session, "ew_tolerance", (), build)


def digest_weekday(session: Session) -> int:
    """The weekday of the weekly digest (0 = Senin), default Senin."""
    row = session.get(Setting, WEEKDAY_SETTING)
    if row is None or not row.value.strip().isdecimal() or int(row.value) > 6:
        return DEFAULT_WEEKDAY
    return int(row.value)


def parse_weekday(text: str) -> int:
    word = " ".join(text.lower().split())
    if word in WEEKDAYS:
        return WEEKDAYS.index(word)
    if word in _WEEKDAY_ALIASES:
        return _WEEKDAY_ALIASES[word]
    raise EarlyWarningError(
        f"'{text[:20]}' bukan nama hari. Tulis salah satu: {', '.join(WEEKDAYS)}."
    )


def _set(session: Session, key: str, value: str, actor: str) -> None:
    row = session.get(Setting, key) or Setting(key=key)
    old = row.value or None
    if old == value:
        return
    row.value = value
    session.add(row)
    # entity "setting": the figure cache cannot place it and starts afresh (unsure = stale).
    record(session, actor=actor, entity="setting", entity_id=None, field=key, old=old, new=value)
    session.flush()


def set_tolerance(session: Session, *, points: float, actor: str) -> float:
    if not 0 < points <= MAX_TOLERANCE_PP:
        raise EarlyWarningError(
            f"Toleransi harus lebih dari 0 dan paling besar {MAX_TOLERANCE_PP:g} poin persen, "
            f"bukan {points:g}."
        )
    _set(session, TOLERANCE_SETTING, f"{points:g}", actor)
    return points


def set_digest_weekday(session: Session, *, weekday: int, actor: str) -> int:
    if not 0 <= weekday <= 6:
        raise EarlyWarningError("Hari harus Senin sampai Minggu.")
    _set(session, WEEKDAY_SETTING, str(weekday), actor)
    return weekday


# --- plan rows ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RencanaRow:
    """A plan row as loaded for figures (plain data, cacheable)."""

    node_id: int
    triwulan: int
    values: tuple[int | None, int | None, int | None, int | None]
    source: str


def rencana_rows(session: Session, opd_id: int, tahun: int) -> dict[int, list[RencanaRow]]:
    """Every plan row of the office-year by node, oldest revision first (cached per
    office-year; writes to ``rencana_penarikan`` are audited under the node, which drops it)."""
    return cached(session, "rencana", (opd_id, tahun), lambda: _load(session, opd_id, tahun))


def _load(session: Session, opd_id: int, tahun: int) -> dict[int, list[RencanaRow]]:
    out: dict[int, list[RencanaRow]] = {}
    for r in session.exec(
        select(RencanaPenarikan)
        .join(Node, col(Node.id) == col(RencanaPenarikan.node_id))
        .where(col(Node.opd_id) == opd_id, col(Node.tahun) == tahun)
        .order_by(col(RencanaPenarikan.triwulan), col(RencanaPenarikan.id))
    ).all():
        out.setdefault(r.node_id, []).append(
            RencanaRow(r.node_id, r.triwulan, r.cumulative(), str(r.source))
        )
    return out


def in_force(rows: Sequence[RencanaRow], tw: int) -> RencanaRow | None:
    """The revision in force at ``tw``: the latest at or before it."""
    earlier = [r for r in rows if r.triwulan <= tw]
    return earlier[-1] if earlier else None


def set_rencana(
    session: Session,
    *,
    node_id: int,
    dari_tw: int,
    values: Sequence[int | None],
    actor: str,
    alasan: str = "",
    source: Source = Source.ADMIN,
) -> bool:
    """Set a sub kegiatan's cumulative plan TW I..IV in force from ``dari_tw`` on.

    Returns whether anything changed. The row of ``dari_tw`` is created or updated; rows of
    earlier quarters stay as they are (the deviations measured against them do not change).
    """
    if dari_tw not in (1, 2, 3, 4):
        raise EarlyWarningError(f"Triwulan harus 1 sampai 4 (TW I–IV), bukan {dari_tw}.")
    node = session.get(Node, node_id)
    if node is None:
        raise EarlyWarningError(f"Sub kegiatan dengan id {node_id} tidak ada.")
    data = YearData(session, node.opd_id, node.tahun)
    # A node that enters the plan later in the year (a revision) takes its plan from then on.
    first = next((q for q in range(dari_tw, 5) if data.plan(node_id, q) is not None), None)
    if first is None:
        raise EarlyWarningError(
            f"'{node.nama}' tidak termasuk rencana {node.tahun} mulai TW {roman(dari_tw)}."
        )
    plan = data.plan(node_id, first)
    assert plan is not None
    if data.children(node_id, first):
        raise EarlyWarningError(
            f"Rencana penarikan diisi per sub kegiatan; '{node.nama}' adalah "
            f"{str(node.level).replace('_', ' ')} yang rencananya dijumlah dari sub kegiatannya."
        )
    vals = tuple(list(values)[:4] + [None] * (4 - len(values)))
    try:
        check_plan(vals, plan.pagu)
    except PlanError as exc:
        raise EarlyWarningError(f"{node.nama}: {exc}") from None
    rows = list(
        session.exec(
            select(RencanaPenarikan)
            .where(RencanaPenarikan.node_id == node_id)
            .order_by(col(RencanaPenarikan.triwulan))
        ).all()
    )
    current = next((r for r in reversed(rows) if r.triwulan <= dari_tw), None)
    before = current.cumulative() if current else (None, None, None, None)
    if before == vals:
        return False
    row = next((r for r in rows if r.triwulan == dari_tw), None)
    if row is None:
        row = RencanaPenarikan(node_id=node_id, triwulan=dari_tw)
    row.tw1, row.tw2, row.tw3, row.tw4 = vals
    row.source, row.updated_by, row.updated_at = source, actor, utcnow()
    session.add(row)
    why = f" — {alasan.strip()}" if alasan.strip() else ""
    for q, (old, new) in enumerate(zip(before, vals, strict=True), start=1):
        if old != new:
            record(
                session,
                actor=actor,
                entity="rencana_penarikan",
                entity_id=node_id,
                field=f"rencana TW {roman(q)} {node.tahun} mulai TW {roman(dari_tw)}{why}",
                old=old,
                new=new,
            )
    session.flush()
    return True


# --- figures --------------------------------------------------------------------------------------


class PlanPaths:
    """Plan paths of the nodes of an office-year at one quarter, by the roll-up rule:
    a sub kegiatan with a plan in force uses it; a node whose subtree has any plan sums its
    children; a node without any plan follows the national path of its own pagu."""

    def __init__(
        self, data: YearData, rencana: dict[int, list[RencanaRow]], bench: dict[int, float], tw: int
    ) -> None:
        self.data, self.rencana, self.bench, self.tw = data, rencana, bench, tw
        self._memo: dict[int, tuple[Path, PlanSource]] = {}
        self._has: dict[int, bool] = {}

    def _has_plan(self, node_id: int) -> bool:
        if node_id not in self._has:
            own = in_force(self.rencana.get(node_id, []), self.tw) is not None
            kids = self.data.children(node_id, self.tw)
            self._has[node_id] = any(self._has_plan(k.id) for k in kids) if kids else own
        return self._has[node_id]

    def path(self, node_id: int) -> tuple[Path, PlanSource]:
        if node_id not in self._memo:
            self._memo[node_id] = self._compute(node_id)
        return self._memo[node_id]

    def _compute(self, node_id: int) -> tuple[Path, PlanSource]:
        kids = self.data.children(node_id, self.tw)
        if kids and self._has_plan(node_id):
            parts = [self.path(k.id) for k in kids]
            return add_paths([p for p, _ in parts]), combine_sources([s for _, s in parts])
        row = in_force(self.rencana.get(node_id, []), self.tw) if not kids else None
        if row is not None:
            return fill_path(row.values), PlanSource.KANTOR
        pagu = self.data.node_figure(node_id, self.tw).pagu or 0
        return national_path(pagu, self.bench), PlanSource.NASIONAL


@dataclass
class EwRow:
    """Plan, realisation, deviation and projection of a node (or a scope) at a quarter."""

    kind: str  # "program", "kegiatan", "sub_kegiatan", "bidang", "opd"
    id: int
    nama: str
    bidang: str  # the owning bidang's name ("" for the office)
    pagu: int | None
    path: Path
    source: PlanSource
    realisasi: int | None  # None: incomplete (some part has no figure)
    deviasi: Deviation | None
    menyimpang: bool
    proyeksi: Projection | None
    berisiko: int | None  # rupiah of the year's plan the projection leaves unabsorbed
    tw: int  # the quarter its figure is of (a program's latest reported one, see upto)
    # A bidang or the office whose programs stand at different quarters: the sum of their
    # plans at their own quarters (None: the path at ``tw``).
    rencana_now: int | None = None

    @property
    def rencana(self) -> int:
        return self.path[self.tw - 1] if self.rencana_now is None else self.rencana_now

    @property
    def rencana_akhir(self) -> int:
        return self.path[3]


@dataclass
class EarlyWarning:
    """The answer to 'what is at risk of not being absorbed' for a scope and quarter."""

    opd_nama: str
    tahun: int
    triwulan: int
    scope_kind: str  # "opd", "bidang", or a node level
    scope_name: str
    level: str  # the level of the listed rows
    tolerance: float
    benchmarks: dict[int, float]
    total: EwRow
    rows: list[EwRow]  # complete rows, most rupiah at risk first
    incomplete: list[EwRow] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)  # "Koperasi (menunggu verifikasi)"

    @property
    def at_risk(self) -> list[EwRow]:
        return [r for r in self.rows if (r.berisiko or 0) > 0]

    @property
    def source_label(self) -> str:
        return self.total.source.label(self.benchmarks)

    @property
    def menyimpang(self) -> list[EwRow]:
        return [r for r in self.rows if r.menyimpang]


def _row(
    data: YearData,
    paths: PlanPaths,
    node: NodeRow,
    bidang: str,
    tol: float,
) -> EwRow:
    tw = paths.tw
    fig = data.node_figure(node.id, tw)
    path, source = paths.path(node.id)
    return _measure(str(node.level), node.id, node.nama, bidang, fig.pagu, path, source,
                    fig.realisasi, tw, tol)  # fmt: skip


def _measure(
    kind: str,
    ident: int,
    nama: str,
    bidang: str,
    pagu: int | None,
    path: Path,
    source: PlanSource,
    realisasi: int | None,
    tw: int,
    tol: float,
    proyeksi: Projection | None = None,
    planned: int | None = None,
) -> EwRow:
    if realisasi is None:
        return EwRow(kind, ident, nama, bidang, pagu, path, source, None, None, False, None,
                     None, tw, planned)  # fmt: skip
    dev = deviation(realisasi, path[tw - 1] if planned is None else planned, pagu)
    proj = proyeksi or project(path, realisasi, pagu, at=tw)
    return EwRow(kind, ident, nama, bidang, pagu, path, source, realisasi, dev, dev.beyond(tol),
                 proj, at_risk(path, proj), tw, planned)  # fmt: skip


def _scope_total(
    kind: str, ident: int, nama: str, parts: list[EwRow], tw: int, tol: float
) -> EwRow:
    """A bidang or the office: sums of its programs. The projection is the sum of the
    programs' projections, each capped at its own pagu (README *Aturan angka*: one rule for
    every answer, chart, digest and file), never the formula applied to the total. Programs
    may stand at different quarters (each at its latest reported one): the plan compared
    is the sum of their plans at their own quarters."""
    pagu = sum(p.pagu or 0 for p in parts)
    path = add_paths([p.path for p in parts]) if parts else (0, 0, 0, 0)
    source = combine_sources([p.source for p in parts])
    mixed = len({p.tw for p in parts}) > 1
    planned_now = sum(p.rencana for p in parts) if parts else 0
    if not parts or any(p.realisasi is None for p in parts):
        return _measure(kind, ident, nama, "", pagu, path, source, None, tw, tol,
                        planned=planned_now if mixed else None)  # fmt: skip
    realisasi = sum(p.realisasi or 0 for p in parts)
    projs = [p.proyeksi for p in parts if p.proyeksi is not None]
    proj = Projection(
        amount=sum(p.amount for p in projs),
        ratio=projection_ratio(realisasi, planned_now),
        remaining_plan=max(path[3] - planned_now, 0),
        capped=any(p.capped for p in projs),
    )
    return _measure(kind, ident, nama, "", pagu, path, source, realisasi, tw, tol, proj,
                    planned_now if mixed else None)  # fmt: skip


def _nodes_at(data: YearData, roots: list[NodeRow], level: str, tw: int) -> list[NodeRow]:
    """The nodes of ``level`` under (and including) ``roots``, in plan order."""
    out: list[NodeRow] = []

    def walk(n: NodeRow) -> None:
        if n.level == level:
            out.append(n)
            return
        for k in data.children(n.id, tw):
            walk(k)

    for r in roots:
        walk(r)
    return out


def early_warning(
    session: Session,
    opd_id: int,
    tahun: int,
    tw: int,
    *,
    bidang_id: int | None = None,
    node_id: int | None = None,
    level: str | None = None,
    tol: float | None = None,
    upto: int | None = None,
) -> EarlyWarning:
    """Plan, realisation, deviation and projection of the office, a bidang or a node at
    ``tw``, with its programs (or the ``level`` asked for) ranked by rupiah at risk.

    ``upto``: a quarter in progress. Each node stands at its latest quarter up to ``upto``
    with a complete figure (else at ``tw``), so a program whose bidang has not reported
    the newest quarter is still measured, at the quarter it last reported."""
    opd = get_opd(session, opd_id)
    assert opd is not None
    data = year_data(session, opd_id, tahun)
    bench = benchmarks(session)
    plans = rencana_rows(session, opd_id, tahun)
    paths = PlanPaths(data, plans, bench, tw)
    paths_at: dict[int, PlanPaths] = {tw: paths}

    def at(node_id: int) -> PlanPaths:
        if upto is None or upto <= tw:
            return paths
        q = next((q for q in range(upto, tw, -1) if data.node_figure(node_id, q).complete), tw)
        if q not in paths_at:
            paths_at[q] = PlanPaths(data, plans, bench, q)
        return paths_at[q]

    tol = tolerance(session) if tol is None else tol
    bidang = list_bidang(session, opd_id)
    owner = {sid: b.nama for b in bidang for sid in bidang_sasaran_ids(data, row_id(b))}
    programs_of = {
        row_id(b): data.programs(tw, bidang_sasaran_ids(data, row_id(b))) for b in bidang
    }

    def row(n: NodeRow) -> EwRow:
        return _row(data, at(n.id), n, owner.get(n.sasaran_id, ""), tol)

    if node_id is not None:
        node = data.nodes[node_id]
        total = row(node)
        scope_kind, scope_name = str(node.level), node.nama
        below = data.children(node_id, tw)
        level = level or (str(below[0].level) if below else str(node.level))
        roots = below or [node]
    elif bidang_id is not None:
        b = next(x for x in bidang if x.id == bidang_id)
        programs = programs_of.get(bidang_id, [])
        total = _scope_total("bidang", bidang_id, b.nama, [row(p) for p in programs], tw, tol)
        scope_kind, scope_name, roots = "bidang", b.nama, programs
    else:
        per_bidang = [
            _scope_total(
                "bidang", row_id(b), b.nama, [row(p) for p in programs_of[row_id(b)]], tw, tol
            )
            for b in bidang
        ]
        total = _scope_total("opd", opd_id, opd.nama, per_bidang, tw, tol)
        scope_kind, scope_name, roots = "opd", opd.nama, data.programs(tw)
    level = level or Level.PROGRAM.value
    listed = [row(n) for n in _nodes_at(data, roots, level, tw)]
    complete = [r for r in listed if r.realisasi is not None]
    complete.sort(key=lambda r: (-(r.berisiko or 0), r.deviasi.rupiah if r.deviasi else 0))
    pending = unverified(session, opd_id, tahun, tw, bidang_id=bidang_id)
    for q in sorted(paths_at)[1:]:
        pending += unverified(session, opd_id, tahun, q, bidang_id=bidang_id)
    return EarlyWarning(
        opd_nama=opd.nama,
        tahun=tahun,
        triwulan=tw,
        scope_kind=scope_kind,
        scope_name=scope_name,
        level=level,
        tolerance=tol,
        benchmarks=dict(bench),
        total=total,
        rows=complete,
        incomplete=[r for r in listed if r.realisasi is None],
        unverified=[
            f"{r.bidang.nama} ("
            f"{'menunggu verifikasi' if r.status == 'diajukan' else 'dikembalikan'})"
            for r in pending
        ],
    )


def latest_early_warning(
    session: Session, opd_id: int, tahun: int | None = None, **kw: Any
) -> EarlyWarning:
    """The early warning without a period asked (questions, the weekly digest): at the
    latest quarter every bidang reported, each program at its latest reported quarter."""
    from storage.services.queries import latest_complete_quarter, resolve_period

    period = resolve_period(session, opd_id=opd_id, tahun=tahun)
    done = latest_complete_quarter(session, opd_id, period.tahun) or period.triwulan
    return early_warning(
        session,
        opd_id,
        period.tahun,
        min(done, period.triwulan),
        upto=period.triwulan,
        **kw,  # forwarded as given: early_warning names them
    )


# --- back-test ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestRow:
    bidang: str
    pagu: int
    projected: int
    actual: int | None  # None: the bidang's figures of the later quarter are incomplete

    @property
    def error(self) -> int | None:
        return None if self.actual is None else self.projected - self.actual

    @property
    def error_points(self) -> float | None:
        e = self.error
        return None if e is None else ratio_percent(e, self.pagu)


def backtest(
    session: Session, opd_id: int, tahun: int, *, at: int = 2, to: int = 3
) -> list[BacktestRow]:
    """Project each bidang's realisation of TW ``to`` from the figures of TW ``at`` (sum of
    its programs' projections) and set it beside what was reported for TW ``to``."""
    data = year_data(session, opd_id, tahun)
    paths = PlanPaths(data, rencana_rows(session, opd_id, tahun), benchmarks(session), at)
    out: list[BacktestRow] = []
    for b in list_bidang(session, opd_id):
        sids = bidang_sasaran_ids(data, row_id(b))
        programs = data.programs(at, sids)
        if not programs:
            continue
        projected, pagu, complete = 0, 0, True
        for p in programs:
            fig = data.node_figure(p.id, at)
            pagu += fig.pagu or 0
            if fig.realisasi is None:
                complete = False
                continue
            projected += project(paths.path(p.id)[0], fig.realisasi, fig.pagu, at=at, to=to).amount
        later = data.scope_figure(sids, to)
        out.append(BacktestRow(b.nama, pagu, projected, later.realisasi if complete else None))
    return out


# --- the weekly digest ---------------------------------------------------------------------------

DIGEST_PREFIX = "ew:"  # sent_reminder.kind "ew:2026-W48": one digest per ISO week and chat


def digest_kind(day: date) -> tuple[str, int]:
    """The claim key of the week ``day`` falls in: ("ew:2026-W48", 2026)."""
    year, week, _ = day.isocalendar()
    return f"{DIGEST_PREFIX}{year}-W{week:02d}", year


@dataclass(frozen=True)
class DigestRecipient:
    chat_id: int
    telegram_id: int | None  # None: the office group


def digest_recipients(
    session: Session, group_chat: int | None, *, opd_id: int | None = None
) -> list[DigestRecipient]:
    """Active kepala who have not switched the digest off or blocked the bot, then the group;
    with ``opd_id`` (several offices) only that office's kepala."""
    query = (
        select(AppUser, UserPref)
        .join(UserPref, col(UserPref.app_user_id) == col(AppUser.id), isouter=True)
        .where(AppUser.role == Role.KEPALA, AppUser.status == UserStatus.ACTIVE)
        .order_by(col(AppUser.id))
    )
    if opd_id is not None:
        query = query.where(AppUser.opd_id == opd_id)
    rows = session.exec(query).all()
    out = [
        DigestRecipient(u.telegram_id, u.telegram_id)
        for u, pref in rows
        if not (pref and (pref.digest_muted or pref.blocked))
    ]
    if group_chat is not None:
        out.append(DigestRecipient(group_chat, None))
    return out


def kabupaten_digest_recipients(session: Session, group_chat: int | None) -> list[DigestRecipient]:
    """The kabupaten's weekly digest: active pemantau and admin kabupaten who have not
    switched it off or blocked the bot, then the kabupaten's group."""
    rows = session.exec(
        select(AppUser, UserPref)
        .join(UserPref, col(UserPref.app_user_id) == col(AppUser.id), isouter=True)
        .where(
            col(AppUser.role).in_([Role.PEMANTAU, Role.ADMIN_KABUPATEN]),
            AppUser.status == UserStatus.ACTIVE,
        )
        .order_by(col(AppUser.id))
    ).all()
    out = [
        DigestRecipient(u.telegram_id, u.telegram_id)
        for u, pref in rows
        if not (pref and (pref.digest_muted or pref.blocked))
    ]
    if group_chat is not None:
        out.append(DigestRecipient(group_chat, None))
    return out


def digest_sent_to(session: Session, kind: str, year: int) -> set[int]:
    """Chats the week's digest was claimed for already (sent, failed or being sent)."""
    return set(
        session.exec(
            select(SentReminder.chat_id).where(
                SentReminder.kind == kind, SentReminder.tahun == year, SentReminder.triwulan == 0
            )
        ).all()
    )


def claim_digest(session: Session, *, kind: str, year: int, to: DigestRecipient) -> int | None:
    """Claim the week's digest for one chat before sending it (as ``schedule.record_sent``
    does for reminders); ``None``: claimed already, so it must not be sent again."""
    row = SentReminder(
        kind=kind, tahun=year, triwulan=0, telegram_id=to.telegram_id, chat_id=to.chat_id
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row.id


def set_digest_muted(session: Session, *, telegram_id: int, muted: bool) -> bool:
    """Switch one person's weekly digest off (or on again); returns the new state."""
    user = get_user(session, telegram_id=telegram_id)
    if user is None:
        raise EarlyWarningError("Anda belum terdaftar.")
    pref = session.exec(select(UserPref).where(UserPref.app_user_id == user.id)).first()
    pref = pref or UserPref(app_user_id=row_id(user))
    pref.digest_muted = muted
    session.add(pref)
    session.flush()
    return muted


def digest_muted(session: Session, *, telegram_id: int) -> bool:
    row = session.exec(
        select(UserPref.digest_muted)
        .join(AppUser, col(AppUser.id) == col(UserPref.app_user_id))
        .where(AppUser.telegram_id == telegram_id)
    ).first()
    return bool(row)


# --- the export's second sheet -------------------------------------------------------------------


@dataclass
class PlanTableRow:
    depth: int  # 0 bidang / office total, 1 program, 2 kegiatan, 3 sub kegiatan
    row: EwRow


@dataclass
class PlanTable:
    """Plan, deviation and projection of every node, bidang and the office at a quarter."""

    tahun: int
    triwulan: int
    tolerance: float
    source_label: str
    rows: list[PlanTableRow]
    benchmarks: dict[int, float]  # the configured national path, for each row's source


def _walk_rows(
    data: YearData,
    paths: PlanPaths,
    node: NodeRow,
    depth: int,
    bidang: str,
    tol: float,
    out: list[PlanTableRow],
) -> None:
    out.append(PlanTableRow(depth, _row(data, paths, node, bidang, tol)))
    for k in data.children(node.id, paths.tw):
        _walk_rows(data, paths, k, depth + 1, bidang, tol, out)


def plan_table(session: Session, data: YearData, tw: int) -> PlanTable:
    """Every node of the plan at ``tw`` under its bidang, then the office total. ``data`` may be
    a filtered view (an export without unapproved figures), so figures follow it."""
    bench = benchmarks(session)
    paths = PlanPaths(data, rencana_rows(session, data.opd_id, data.tahun), bench, tw)
    tol = tolerance(session)
    opd = get_opd(session, data.opd_id)
    rows: list[PlanTableRow] = []
    totals: list[EwRow] = []
    for b in list_bidang(session, data.opd_id):
        assert b.id is not None
        programs = data.programs(tw, bidang_sasaran_ids(data, b.id))
        nodes: list[PlanTableRow] = []
        for p in programs:
            _walk_rows(data, paths, p, 1, b.nama, tol, nodes)
        total = _scope_total(
            "bidang", b.id, b.nama, [r.row for r in nodes if r.depth == 1], tw, tol
        )
        totals.append(total)
        rows.append(PlanTableRow(0, total))
        rows.extend(nodes)
    office = _scope_total("opd", data.opd_id, opd.nama if opd else "", totals, tw, tol)
    rows.append(PlanTableRow(0, office))
    return PlanTable(data.tahun, tw, tol, office.source.label(bench), rows, bench)
