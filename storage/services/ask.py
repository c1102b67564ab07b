"""Answering a question: parsed text in, structured answer data out.

This is the layer between the question parser and the domain queries. It decides the
defaults docs/domain.md asks for (no year: the latest year with data; no quarter: the latest
quarter with data) and what to do with an ambiguous or unknown question. It returns data
only; the bot and the console format it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process
from sqlmodel import Session, select

from storage.data.models import Bidang, Level, Node, row_id
from storage.domain.periods import default_year, latest_ended_quarter, roman, today_wib
from storage.domain.question_parser import (
    Catalog,
    Metric,
    ParsedQuestion,
    ScopeEntry,
    parse_question,
)
from storage.domain.text import normalise_name
from storage.services.early_warning import EarlyWarning, early_warning
from storage.services.process_questions import ProcessInfo, process_answer
from storage.services.queries import (
    CapaianRow,
    Figure,
    NarasiRow,
    NodeRow,
    NoYearData,
    Progress,
    ScopeResult,
    StatusRow,
    bidang_of_node,
    bidang_sasaran_ids,
    cached,
    capaian_kinerja,
    get_opd,
    latest_complete_quarter,
    latest_quarter,
    list_bidang,
    narasi,
    progress,
    reporting_status,
    resolve_period,
    scope_result,
    unverified,
    year_data,
    years_with_data,
)
from storage.services.ranking import By, RankRow, level_below, rank


class Kind(StrEnum):
    SCOPE = "scope"  # serapan / fisik / deviasi of one scope with its breakdown
    RANKING = "ranking"
    STATUS = "status"
    CAPAIAN = "capaian"
    HAMBATAN = "hambatan"
    DAFTAR = "daftar"
    CLARIFY = "clarify"  # which of these did you mean?
    UNKNOWN = "unknown"  # nothing understood: show examples
    NODATA = "nodata"  # understood, but there are no figures for it
    COMPARE = "compare"  # two figures side by side
    COURTESY = "courtesy"  # a greeting or thanks
    PERINGATAN = "peringatan"  # early warning: what is at risk of not being absorbed
    NOT_FOUND = "not_found"  # a scope named that does not exist: named back, no figure
    OTHER_OFFICE = "other_office"  # a scope of another office: said so, no figure
    PROCESS = "process"  # deadlines, returned reports, who verified what


# --- what an answer could not give, and why: typed here, worded in bot/views/answers.py -----


class Why(StrEnum):
    """Why an answer shows no figures (``Kind.NODATA``)."""

    NOTHING = "nothing"  # no data at all
    NO_YEAR = "no_year"  # none for the year asked (``Empty.tahun``, ``Answer.years`` has some)
    NO_BIDANG = "no_bidang"  # the bidang of a button is gone
    NOT_PLANNED = "not_planned"  # the program/kegiatan/sub kegiatan is not in that year's plan
    NO_CAPAIAN = "no_capaian"  # no indicator achievement reported for the quarter
    NO_HAMBATAN = "no_hambatan"  # no obstacle reported for the quarter


@dataclass(frozen=True)
class Empty:
    """No figures: why, for which year, and the period as typed (``Why.NO_YEAR``)."""

    why: Why
    tahun: int = 0
    words: str = ""


@dataclass(frozen=True)
class ParserNote:
    """A part of the question the parser could not answer, in the parser's words."""

    text: str


@dataclass(frozen=True)
class StrayWords:
    """Words neither recognised nor used (at most five)."""

    words: tuple[str, ...]


@dataclass(frozen=True)
class LatestShown:
    """The words named no quarter: the latest one with data is shown."""

    tahun: int
    triwulan: int


@dataclass(frozen=True)
class YearWithoutData:
    """No data for ``tahun`` (one side of a comparison); ``years``: those that have some,
    named when given."""

    tahun: int
    years: tuple[int, ...] = ()


@dataclass(frozen=True)
class OutOfPlan:
    """``name`` is not in the plan of the quarter asked; it is in the ``planned`` quarters
    (a button offers the latest of them)."""

    name: str
    tahun: int
    triwulan: int
    planned: tuple[int, ...]


@dataclass(frozen=True)
class NoRealisasi:
    """Nobody has reported the quarter asked; ``latest``: the latest (tahun, tw) with data
    when that is another one (a button offers it)."""

    tahun: int
    triwulan: int
    latest: tuple[int, int] | None = None


Note = ParserNote | StrayWords | LatestShown | YearWithoutData | OutOfPlan | NoRealisasi


@dataclass
class Query:
    """What was understood, with defaults filled in."""

    metric: Metric
    scope_kind: str  # "opd", "bidang", "program", "kegiatan", "sub_kegiatan"
    scope_id: int
    scope_name: str
    tahun: int
    triwulan: int
    tw_defaulted: bool = False
    year_defaulted: bool = False
    ranking_metric: Metric = Metric.SERAPAN
    order: str | None = None
    chart: bool = False
    trend: bool = False
    period_words: str = ""  # how the question named the period ("sampai Juni")


@dataclass
class CompareSide:
    """One side of a comparison: a quarter, a year or a bidang, with its figure."""

    label: str  # "TW I 2022", "Bidang Koperasi", "Realisasi fisik"
    figure: Figure | None  # None: no data at all for this side
    value: float | None  # the percentage compared (serapan or fisik)


@dataclass
class DaftarRow:
    level: str
    nama: str
    pagu: int | None
    depth: int


@dataclass
class Answer:
    kind: Kind
    query: Query | None = None
    scope: ScopeResult | None = None
    status: list[StatusRow] = field(default_factory=list)
    unverified: list[StatusRow] = field(default_factory=list)  # figures not approved yet
    capaian: list[CapaianRow] = field(default_factory=list)
    narasi: list[NarasiRow] = field(default_factory=list)
    daftar: list[DaftarRow] = field(default_factory=list)
    candidates: list[ScopeEntry] = field(default_factory=list)
    parsed: ParsedQuestion | None = None
    years: list[int] = field(default_factory=list)
    empty: Empty | None = None  # Kind.NODATA: why there are no figures
    compare: list[CompareSide] = field(default_factory=list)
    compare_kind: str = ""  # "periods", "scopes", "fisik_keuangan"
    notes: list[Note] = field(default_factory=list)  # what could not be answered, and why
    latest: tuple[int, int] | None = None  # (tahun, tw) with data, offered when asked had none
    early: EarlyWarning | None = None  # Kind.PERINGATAN
    opd_id: int = 0  # the office answered about (buttons carry it: a pemantau has no office)
    missing: str = ""  # NOT_FOUND / OTHER_OFFICE: the words as typed
    missing_kind: str = ""  # their level word ("bidang", "program", "opd"), "" when none
    office_name: str = ""  # the office asked (NOT_FOUND), or the other office (OTHER_OFFICE)
    process: ProcessInfo | None = None  # Kind.PROCESS
    # A quarter in progress: the answered quarter when not every bidang of the scope has
    # reported it (totals are over the reported ones), and the quarter coming in after the
    # complete one a question without a period is answered for.
    progress: Progress | None = None
    coming: Progress | None = None
    # Kind.RANKING at any level: the rows ranked (best or worst first, as asked), the rows
    # with no figure (listed apart), the level, what they are ranked by, how many there were.
    ranked: list[RankRow] = field(default_factory=list)
    unranked: list[RankRow] = field(default_factory=list)
    rank_level: str = "bidang"
    rank_by: str = "serapan"
    rank_total: int = 0


def cached_catalog(session: Session, opd_id: int) -> Catalog:
    """The catalogue, rebuilt only when the data changed (the parser indexes it once)."""
    return cached(session, "catalog", (opd_id,), lambda: build_catalog(session, opd_id))


def build_catalog(session: Session, opd_id: int, tahun: int | None = None) -> Catalog:
    """Scopes a question may name: the office, its bidang, and the nodes of one year."""
    opd = get_opd(session, opd_id)
    assert opd is not None
    years = years_with_data(session, opd_id)
    tahun = default_year(tahun, years)
    own = (opd.singkatan or "", *opd.alias_list())
    entries: list[ScopeEntry] = [
        ScopeEntry(
            "opd",
            opd_id,
            opd.nama,
            ("dinas", "total", "kantor", "opd", "keseluruhan", *(a for a in own if a)),
        )
    ]
    bidang = list_bidang(session, opd_id)
    entries += [
        ScopeEntry("bidang", row_id(b), b.nama, tuple(b.alias_list()), row_id(b)) for b in bidang
    ]
    if tahun is not None:
        data = year_data(session, opd_id, tahun)
        owner = {sid: s.bidang_id for sid, s in data.sasaran.items()}
        entries += [
            ScopeEntry(str(n.level), n.id, n.nama, (), owner.get(n.sasaran_id))  # type: ignore[arg-type]
            for n in data.nodes.values()
        ]
    return Catalog(tuple(entries), tuple(years))


def _node_in_year(session: Session, node_id: int, tahun: int) -> Node | None:
    """The same program/kegiatan in another year's plan (matched by name and level)."""
    node = session.get(Node, node_id)
    if node is None or node.tahun == tahun:
        return node
    key = normalise_name(node.nama)
    for other in session.exec(
        select(Node).where(
            Node.opd_id == node.opd_id, Node.tahun == tahun, Node.level == node.level
        )
    ).all():
        if normalise_name(other.nama) == key:
            return other
    return None


def answer(
    session: Session,
    opd_id: int,
    text: str,
    *,
    catalog: Catalog | None = None,
    bidang_hint: int | None = None,
    today: date | None = None,
) -> Answer:
    """Answer a free-text question about the office's figures."""
    result = _answer(session, opd_id, text, catalog=catalog, bidang_hint=bidang_hint, today=today)
    result.opd_id = opd_id
    return result


def _answer(
    session: Session,
    opd_id: int,
    text: str,
    *,
    catalog: Catalog | None,
    bidang_hint: int | None,
    today: date | None,
) -> Answer:
    catalog = catalog or cached_catalog(session, opd_id)
    parsed = parse_question(text, catalog)
    years = list(catalog.years)
    if parsed.courtesy:
        return Answer(Kind.COURTESY, parsed=parsed, years=years)
    if parsed.unknown_scope:
        return _not_found(session, opd_id, parsed, catalog)
    if parsed.process is not None and not (parsed.scope is None and parsed.scope_candidates):
        info = process_answer(session, opd_id, parsed, years=years, today=today or today_wib())
        return Answer(Kind.PROCESS, parsed=parsed, years=years, process=info)
    if (
        parsed.is_garbage
        or (
            parsed.metric is None
            and parsed.scope is None
            and not parsed.scope_candidates
            and not parsed.compare
        )
        # No figure asked and words that name nothing: not a monev question ("tolong
        # kirimkan undangan rapat besok"), whatever node shares one of its words.
        or (
            parsed.metric is None
            and parsed.stray
            and not parsed.compare
            and (
                parsed.scope is None
                or parsed.scope.kind not in ("opd", "bidang")
                # "printer di ruang sekretariat rusak": a bidang's name among words that
                # name nothing, with no period either, is not a question about it.
                or not (parsed.quarters or parsed.years or parsed.period_words)
            )
        )
    ):
        return Answer(Kind.UNKNOWN, parsed=parsed, years=years)
    if parsed.scope is None and parsed.scope_candidates:
        return Answer(
            Kind.CLARIFY, parsed=parsed, candidates=list(parsed.scope_candidates), years=years
        )
    today = today or today_wib()
    tahun, triwulan = parsed.tahun, parsed.triwulan
    period_words = parsed.period_words
    if parsed.previous_quarter and triwulan is None:
        # "triwulan lalu": the quarter that ended most recently by the calendar
        y, triwulan = latest_ended_quarter(today)
        tahun = tahun or y
        period_words = f"triwulan lalu = TW {roman(triwulan)} {tahun}"
    if parsed.relative_year is not None and tahun is None and parsed.compare != "periods":
        tahun = today.year + parsed.relative_year
        period_words = f"{period_words} = {tahun}" if period_words else str(tahun)
    scope = parsed.scope
    metric = parsed.metric or Metric.SERAPAN
    if metric == Metric.PERINGATAN and parsed.triwulan == 4 and "akhir" in period_words:
        # "proyeksi akhir tahun": the year's end is what is projected, from the latest
        # quarter with figures, not a TW IV nobody has reported yet.
        triwulan, period_words = None, ""
    if parsed.compare:
        return _compare(session, opd_id, parsed, metric, tahun, triwulan)
    a = run_query(
        session,
        opd_id,
        metric=metric,
        scope_kind=scope.kind if scope else "opd",
        scope_id=scope.id if scope else opd_id,
        tahun=tahun,
        triwulan=triwulan,
        ranking_metric=parsed.ranking_metric,
        order=parsed.order,
        chart=parsed.chart,
        trend=parsed.trend,
        parsed=parsed,
        period_words=period_words,
    )
    a.notes[:0] = [ParserNote(n) for n in parsed.unanswerable]
    if parsed.stray:
        a.notes.append(StrayWords(tuple(parsed.stray[:5])))
    if parsed.unanswerable and parsed.triwulan is None and a.query is not None:
        a.query.period_words = ""  # the words named no quarter; don't claim they did
        a.notes.append(LatestShown(a.query.tahun, a.query.triwulan))
    return a


_RANK_BY: dict[Metric, By] = {
    Metric.FISIK: "fisik",
    Metric.DEVIASI: "deviasi",
    Metric.SISA: "sisa",
    Metric.SERAPAN: "serapan",
}


def _nearest(phrase: str, entries: list[ScopeEntry], limit: int = 4) -> list[ScopeEntry]:
    """The real scopes most like what was typed, best first (never empty when any exist)."""
    if not entries:
        return []
    choices = {i: " ".join([e.name, *e.aliases]) for i, e in enumerate(entries)}
    best = process.extract(
        phrase, choices, scorer=fuzz.WRatio, processor=default_process, limit=limit
    )
    return [entries[i] for _, _, i in best]


def _not_found(session: Session, opd_id: int, parsed: ParsedQuestion, catalog: Catalog) -> Answer:
    """A bidang, program, kegiatan or office that is not this office's: named back with the
    nearest real ones; never answered for the whole office instead."""
    phrase, kind = parsed.unknown_scope, parsed.unknown_kind
    opd = get_opd(session, opd_id)
    own = (opd.singkatan or opd.nama) if opd else ""
    a = Answer(
        Kind.NOT_FOUND,
        parsed=parsed,
        years=list(catalog.years),
        missing=phrase,
        missing_kind=kind,
        office_name=own,
    )
    if kind in ("bidang", "", "opd"):
        other = _other_office_bidang(session, opd_id, phrase, parsed.text)
        if other is not None:
            a.kind, a.office_name = Kind.OTHER_OFFICE, other
            return a
    if kind == "opd":
        return a  # no office of that name to offer: the asker's own is the one they can ask
    levels = {"bidang": ("bidang",), "": ("bidang", "program")}.get(kind, (kind,))
    nearest = _nearest(phrase, [e for e in catalog.entries if e.kind in levels])
    # A node found through the other words of the question is offered first, as a question.
    found = [parsed.scope] if parsed.scope is not None and kind == "" else []
    a.candidates = [*found, *(e for e in nearest if e not in found)][:4]
    return a


def _other_office_bidang(session: Session, opd_id: int, phrase: str, text: str) -> str | None:
    """The other office whose bidang (or the office itself) the question names: the
    unknown words are its name, or its whole name is in the question."""
    from storage.domain.offices import find_in_text, normalise
    from storage.services.kabupaten import office_names

    key, said = normalise(phrase), f" {normalise(text)} "
    offices = office_names(session)
    for b in session.exec(select(Bidang).where(Bidang.opd_id != opd_id)).all():
        names = {normalise(n) for n in (b.kode, b.nama, *b.alias_list()) if n}
        if key in names or any(len(n) >= 6 and f" {n} " in said for n in names):
            return next((o.label for o in offices if o.id == b.opd_id), "")
    mention = find_in_text([o for o in offices if o.id != opd_id], f"dinas {phrase}")
    return mention.office.label if mention is not None else None


def _side_value(fig: Figure, metric: Metric) -> float | None:
    return fig.fisik if metric == Metric.FISIK else fig.serapan


def _compare(
    session: Session,
    opd_id: int,
    parsed: ParsedQuestion,
    metric: Metric,
    tahun: int | None,
    triwulan: int | None,
) -> Answer:
    """Two figures side by side: two quarters or years, two bidang, or fisik vs keuangan."""
    try:
        period = resolve_period(session, opd_id=opd_id, tahun=tahun, tw=triwulan)
    except NoYearData:
        return Answer(Kind.NODATA, parsed=parsed, empty=Empty(Why.NOTHING))
    if period.triwulan_defaulted and period.has_data:
        # No quarter named: the latest one every bidang reported, as every other answer.
        done = latest_complete_quarter(session, opd_id, period.tahun)
        if done is not None and done < period.triwulan:
            period = replace(period, triwulan=done)
    years = list(period.years)
    scope = parsed.scope
    kind = parsed.compare or ""
    bidang_id = scope.id if scope and scope.kind == "bidang" else None
    node_id = scope.id if scope and scope.kind not in ("opd", "bidang") else None
    scope_kind = scope.kind if scope else "opd"
    opd = get_opd(session, opd_id)
    scope_name = scope.name if scope else (opd.nama if opd else "")
    q = Query(
        metric=metric,
        scope_kind=scope_kind,
        scope_id=scope.id if scope else opd_id,
        scope_name=scope_name,
        tahun=period.tahun,
        triwulan=period.triwulan,
        tw_defaulted=period.triwulan_defaulted,
        year_defaulted=period.tahun_defaulted,
        period_words=parsed.period_words,
    )
    a = Answer(Kind.COMPARE, query=q, parsed=parsed, years=years, compare_kind=kind)

    def figure(y: int, tw: int, *, b: int | None, nd: int | None) -> Figure | None:
        if y not in years:
            return None
        if nd is not None:
            node = _node_in_year(session, nd, y)
            if node is None:
                return None
            nd = node.id
        return scope_result(session, opd_id, y, tw, bidang_id=b, node_id=nd).item.figure

    if kind == "scopes":
        for e in parsed.compare_scopes[:2]:
            fig = figure(period.tahun, period.triwulan, b=e.id, nd=None)
            val = _side_value(fig, metric) if fig else None
            a.compare.append(CompareSide(f"Bidang {e.name}", fig, val))
        q.scope_kind, q.scope_name = "bidang", " dan ".join(e.name for e in parsed.compare_scopes)
    elif kind == "fisik_keuangan":
        if not period.has_data:
            a.notes.append(YearWithoutData(period.tahun))
        fig = figure(period.tahun, period.triwulan, b=bidang_id, nd=node_id)
        a.compare = [
            CompareSide("Realisasi fisik", fig, fig.fisik if fig else None),
            CompareSide("Realisasi keuangan (serapan)", fig, fig.serapan if fig else None),
        ]
    else:
        sides: list[tuple[int, int]]
        if len(set(parsed.quarters)) > 1:
            sides = [(period.tahun, tw) for tw in parsed.quarters[:2]]
        else:
            ys = list(dict.fromkeys(parsed.years))
            if len(ys) < 2:
                base = default_year(parsed.years[0] if parsed.years else None, years)
                assert base is not None  # an office without a plan was answered above
                ys = [base - 1, base]
            with_data = [y for y in ys if y in years]
            tw = triwulan or (latest_quarter(session, opd_id, max(with_data)) if with_data else 4)
            sides = [(y, tw) for y in ys[:2]]
            q.triwulan = tw
        for y, tw in sides:
            fig = figure(y, tw, b=bidang_id, nd=node_id)
            if fig is None:
                a.notes.append(YearWithoutData(y, tuple(years)))
            a.compare.append(
                CompareSide(f"TW {roman(tw)} {y}", fig, _side_value(fig, metric) if fig else None)
            )
    return a


def run_query(
    session: Session,
    opd_id: int,
    *,
    metric: Metric,
    scope_kind: str,
    scope_id: int,
    tahun: int | None = None,
    triwulan: int | None = None,
    ranking_metric: Metric = Metric.SERAPAN,
    order: str | None = None,
    chart: bool = False,
    trend: bool = False,
    parsed: ParsedQuestion | None = None,
    period_words: str = "",
) -> Answer:
    """Run an understood query (from text, or from a button that carries one)."""
    try:
        period = resolve_period(session, opd_id=opd_id, tahun=tahun, tw=triwulan)
    except NoYearData:
        return Answer(Kind.NODATA, parsed=parsed, empty=Empty(Why.NOTHING))
    years = list(period.years)
    if not period.has_data:
        return Answer(
            Kind.NODATA,
            parsed=parsed,
            years=years,
            empty=Empty(Why.NO_YEAR, period.tahun, period_words),
            latest=(years[-1], latest_quarter(session, opd_id, years[-1])),
        )
    tahun, tw = period.tahun, period.triwulan
    year_defaulted, tw_defaulted = period.tahun_defaulted, period.triwulan_defaulted

    scope_name = ""
    bidang_id: int | None = None
    node_id: int | None = None
    if scope_kind == "bidang":
        bidang_id = scope_id
        scope_name = next((b.nama for b in list_bidang(session, opd_id) if b.id == scope_id), "")
        if not scope_name:
            return Answer(Kind.NODATA, parsed=parsed, years=years, empty=Empty(Why.NO_BIDANG))
    elif scope_kind in {k.value for k in Level}:
        node = _node_in_year(session, scope_id, tahun)
        if node is None or node.opd_id != opd_id:
            return Answer(
                Kind.NODATA,
                parsed=parsed,
                years=years,
                empty=Empty(Why.NOT_PLANNED, tahun),
            )
        node_id, scope_kind, scope_name = node.id, str(node.level), node.nama
    else:
        scope_kind, scope_id = "opd", opd_id
        opd = get_opd(session, opd_id)
        scope_name = opd.nama if opd else ""
    # A quarter in progress: without a period, the latest quarter every bidang of the scope
    # has reported; the one coming in is named apart (with a button to see it).
    owner = bidang_id
    if node_id is not None:
        owner = bidang_of_node(year_data(session, opd_id, tahun), node_id)
    coming: Progress | None = None
    latest_tw = tw
    if tw_defaulted and metric not in (Metric.STATUS,):
        done = latest_complete_quarter(session, opd_id, tahun, bidang_id=owner)
        if done is not None and done < tw:
            now = progress(session, opd_id, tahun, tw, bidang_id=owner)
            coming = now if now.reported else None
            tw = done
    prog = progress(session, opd_id, tahun, tw, bidang_id=owner)
    q = Query(
        metric=metric,
        scope_kind=scope_kind,
        scope_id=node_id or bidang_id or opd_id,
        scope_name=scope_name,
        tahun=tahun,
        triwulan=tw,
        tw_defaulted=tw_defaulted,
        year_defaulted=year_defaulted,
        ranking_metric=ranking_metric,
        order=order,
        chart=chart,
        trend=trend,
        period_words=period_words,
    )
    a = Answer(Kind.SCOPE, query=q, parsed=parsed, years=years, coming=coming)
    if node_id is not None:
        data = year_data(session, opd_id, tahun)
        if not data.in_plan(node_id, tw):
            # Out of this quarter's plan: say in which quarters it is, with a button.
            planned = [x for x in range(1, 5) if data.in_plan(node_id, x)]
            if planned:
                shown = [x for x in planned if x <= latest_quarter(session, opd_id, tahun)]
                a.latest = (tahun, (shown or planned)[-1])
                a.notes.append(OutOfPlan(scope_name, tahun, tw, tuple(planned)))
    if not prog.complete:
        a.progress = prog
    only = prog.reported_ids if a.progress is not None and prog.reported else None
    figures = metric not in (Metric.STATUS, Metric.HAMBATAN, Metric.DAFTAR, Metric.CAPAIAN)
    if (
        figures
        and not tw_defaulted
        and tw not in year_data(session, opd_id, tahun).quarters_with_data()
    ):
        # An explicit quarter nobody has reported yet: say so and offer the latest one,
        # rather than silently answering another quarter.
        latest = latest_quarter(session, opd_id, years[-1])
        if (years[-1], latest) != (tahun, tw):
            a.latest = (years[-1], latest)
            a.notes.append(NoRealisasi(tahun, tw, a.latest))
        else:
            a.notes.append(NoRealisasi(tahun, tw))
    if metric == Metric.RANKING:
        a.kind = Kind.RANKING
        by: By = _RANK_BY.get(ranking_metric, "serapan")
        level = parsed.level if parsed and parsed.level else level_below(scope_kind)
        if level == "bidang" and scope_kind not in ("opd", "bidang"):
            level = level_below(scope_kind)
        rows = rank(
            session, opd_id, tahun, tw, level=level, by=by, bidang_id=bidang_id, node_id=node_id
        )
        # Only rows with a figure are ranked; the others are named apart.
        a.ranked = [r for r in rows if r.value is not None]
        a.unranked = [r for r in rows if r.value is None]
        if order == "asc":
            a.ranked.reverse()
        a.rank_level, a.rank_by = level, by
        a.rank_total = len(a.ranked)
        if parsed and parsed.limit:
            a.ranked = a.ranked[: parsed.limit]
    elif metric == Metric.STATUS:
        a.kind = Kind.STATUS
        a.status = reporting_status(session, opd_id, tahun, tw)
    elif metric == Metric.CAPAIAN:
        a.kind = Kind.CAPAIAN
        a.capaian = capaian_kinerja(session, opd_id, tahun, tw, bidang_id=bidang_id)
        if not a.capaian:
            a.kind, a.empty = Kind.NODATA, Empty(Why.NO_CAPAIAN)
    elif metric == Metric.HAMBATAN:
        a.kind = Kind.HAMBATAN
        a.narasi = [
            r
            for r in narasi(session, opd_id, tahun, tw, bidang_id=bidang_id)
            if r.hambatan or r.tindak_lanjut
        ]
        if not a.narasi:
            a.kind, a.empty = Kind.NODATA, Empty(Why.NO_HAMBATAN)
    elif metric == Metric.PERINGATAN:
        a.kind = Kind.PERINGATAN
        a.early = early_warning(
            session,
            opd_id,
            tahun,
            tw,
            bidang_id=bidang_id,
            node_id=node_id,
            level=parsed.level if parsed else None,
            # No period asked: each program at its latest reported quarter.
            upto=latest_tw if tw_defaulted else None,
        )
    elif metric == Metric.DAFTAR:
        a.kind = Kind.DAFTAR
        a.daftar = _daftar(session, opd_id, tahun, tw, bidang_id=bidang_id, node_id=node_id)
    else:
        a.scope = scope_result(
            session,
            opd_id,
            tahun,
            tw,
            bidang_id=bidang_id,
            node_id=node_id,
            only_bidang=only if bidang_id is None and node_id is None else None,
        )
    if a.kind in (
        Kind.SCOPE, Kind.RANKING, Kind.CAPAIAN, Kind.HAMBATAN, Kind.DAFTAR, Kind.PERINGATAN
    ):  # fmt: skip
        a.unverified = unverified(session, opd_id, tahun, tw, bidang_id=bidang_id)
    return a


def _daftar(
    session: Session,
    opd_id: int,
    tahun: int,
    tw: int,
    *,
    bidang_id: int | None,
    node_id: int | None,
) -> list[DaftarRow]:
    data = year_data(session, opd_id, tahun)
    rows: list[DaftarRow] = []

    def add(n: NodeRow, depth: int, max_depth: int) -> None:
        plan = data.plan(n.id, tw)
        rows.append(DaftarRow(str(n.level), n.nama, plan.pagu if plan else None, depth))
        if depth < max_depth:
            for k in data.children(n.id, tw):
                add(k, depth + 1, max_depth)

    if node_id is not None:
        for k in data.children(node_id, tw):
            add(k, 0, 0)
        return rows
    sids = bidang_sasaran_ids(data, bidang_id) if bidang_id is not None else None
    for p in data.programs(tw, sids):
        add(p, 0, 1 if bidang_id is not None else 0)
    return rows
