"""Answering a question: parsed text in, structured answer data out.

This is the layer between the question parser and the domain queries. It decides the
defaults DESIGN.md asks for (no year: the latest year with data; no quarter: the latest
quarter with data) and what to do with an ambiguous or unknown question. It returns data
only; the bot and the console format it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlmodel import Session, select

from storage.data.models import Level, Node
from storage.domain.question_parser import (
    Catalog,
    Metric,
    ParsedQuestion,
    ScopeEntry,
    parse_question,
)
from storage.files.importer import normalise_name
from storage.services.queries import (
    CapaianRow,
    Item,
    NarasiRow,
    NoData,
    ScopeResult,
    StatusRow,
    bidang_sasaran_ids,
    cache_key,
    capaian_kinerja,
    data_version,
    get_opd,
    list_bidang,
    narasi,
    ranking,
    reporting_status,
    resolve_period,
    scope_result,
    unverified,
    year_data,
    years_with_data,
)


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
    ranking: list[Item] = field(default_factory=list)
    status: list[StatusRow] = field(default_factory=list)
    unverified: list[StatusRow] = field(default_factory=list)  # figures not approved yet
    capaian: list[CapaianRow] = field(default_factory=list)
    narasi: list[NarasiRow] = field(default_factory=list)
    daftar: list[DaftarRow] = field(default_factory=list)
    candidates: list[ScopeEntry] = field(default_factory=list)
    parsed: ParsedQuestion | None = None
    years: list[int] = field(default_factory=list)
    message: str = ""


_CATALOGS: dict[tuple[int, int], tuple[object, int, Catalog]] = {}


def cached_catalog(session: Session, opd_id: int) -> Catalog:
    """The catalogue, rebuilt only when the data changed (the parser indexes it once)."""
    pool_id, pool = cache_key(session)
    version = data_version(session)
    hit = _CATALOGS.get((pool_id, opd_id))
    if hit is None or hit[0] is not pool or hit[1] != version:
        if len(_CATALOGS) >= 16:
            _CATALOGS.pop(next(iter(_CATALOGS)))
        hit = (pool, version, build_catalog(session, opd_id))
        _CATALOGS[(pool_id, opd_id)] = hit
    return hit[2]


def build_catalog(session: Session, opd_id: int, tahun: int | None = None) -> Catalog:
    """Scopes a question may name: the office, its bidang, and the nodes of one year."""
    opd = get_opd(session, opd_id)
    assert opd is not None
    years = years_with_data(session, opd_id)
    tahun = tahun or (years[-1] if years else None)
    entries: list[ScopeEntry] = [
        ScopeEntry("opd", opd_id, opd.nama, ("dinas", "total", "kantor", "opd", "keseluruhan"))
    ]
    bidang = list_bidang(session, opd_id)
    entries += [ScopeEntry("bidang", b.id, b.nama, tuple(b.alias_list()), b.id) for b in bidang]  # type: ignore[arg-type]
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
) -> Answer:
    """Answer a free-text question about the office's figures."""
    catalog = catalog or cached_catalog(session, opd_id)
    parsed = parse_question(text, catalog)
    years = list(catalog.years)
    if parsed.is_garbage or (
        parsed.metric is None and parsed.scope is None and not parsed.scope_candidates
    ):
        return Answer(Kind.UNKNOWN, parsed=parsed, years=years)
    if parsed.scope is None and parsed.scope_candidates:
        return Answer(
            Kind.CLARIFY, parsed=parsed, candidates=list(parsed.scope_candidates), years=years
        )
    scope = parsed.scope
    metric = parsed.metric or Metric.SERAPAN
    return run_query(
        session,
        opd_id,
        metric=metric,
        scope_kind=scope.kind if scope else "opd",
        scope_id=scope.id if scope else opd_id,
        tahun=parsed.tahun,
        triwulan=parsed.triwulan,
        ranking_metric=parsed.ranking_metric,
        order=parsed.order,
        chart=parsed.chart,
        trend=parsed.trend,
        parsed=parsed,
    )


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
) -> Answer:
    """Run an understood query (from text, or from a button that carries one)."""
    try:
        period = resolve_period(session, opd_id=opd_id, tahun=tahun, tw=triwulan)
    except NoData:
        return Answer(Kind.NODATA, parsed=parsed, message="Belum ada data sama sekali.")
    years = list(period.years)
    if not period.has_data:
        return Answer(
            Kind.NODATA,
            parsed=parsed,
            years=years,
            message=f"Belum ada data tahun {period.tahun}. Data tersedia: "
            f"{', '.join(map(str, years))}.",
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
            return Answer(
                Kind.NODATA, parsed=parsed, years=years, message="Bidang tidak ditemukan."
            )
    elif scope_kind in {k.value for k in Level}:
        node = _node_in_year(session, scope_id, tahun)
        if node is None or node.opd_id != opd_id:
            return Answer(
                Kind.NODATA,
                parsed=parsed,
                years=years,
                message=f"Tidak ada dalam rencana tahun {tahun}.",
            )
        node_id, scope_kind, scope_name = node.id, str(node.level), node.nama
    else:
        scope_kind, scope_id = "opd", opd_id
        opd = get_opd(session, opd_id)
        scope_name = opd.nama if opd else ""
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
    )
    a = Answer(Kind.SCOPE, query=q, parsed=parsed, years=years)
    if metric == Metric.RANKING:
        a.kind = Kind.RANKING
        by = "fisik" if ranking_metric == Metric.FISIK else "serapan"
        a.ranking = ranking(session, opd_id, tahun, tw, by=by)
        if order == "asc":
            complete = [
                i
                for i in a.ranking
                if (i.figure.fisik if by == "fisik" else i.figure.serapan) is not None
            ]
            rest = [i for i in a.ranking if i not in complete]
            a.ranking = list(reversed(complete)) + rest
    elif metric == Metric.STATUS:
        a.kind = Kind.STATUS
        a.status = reporting_status(session, opd_id, tahun, tw)
    elif metric == Metric.CAPAIAN:
        a.kind = Kind.CAPAIAN
        a.capaian = capaian_kinerja(session, opd_id, tahun, tw, bidang_id=bidang_id)
        if not a.capaian:
            a.kind, a.message = Kind.NODATA, "Belum ada capaian indikator untuk triwulan ini."
    elif metric == Metric.HAMBATAN:
        a.kind = Kind.HAMBATAN
        a.narasi = [
            r
            for r in narasi(session, opd_id, tahun, tw, bidang_id=bidang_id)
            if r.hambatan or r.tindak_lanjut
        ]
        if not a.narasi:
            a.kind, a.message = (
                Kind.NODATA,
                "Tidak ada hambatan yang dilaporkan untuk triwulan ini.",
            )
    elif metric == Metric.DAFTAR:
        a.kind = Kind.DAFTAR
        a.daftar = _daftar(session, opd_id, tahun, tw, bidang_id=bidang_id, node_id=node_id)
    else:
        a.scope = scope_result(session, opd_id, tahun, tw, bidang_id=bidang_id, node_id=node_id)
    if a.kind in (Kind.SCOPE, Kind.RANKING, Kind.CAPAIAN, Kind.HAMBATAN, Kind.DAFTAR):
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

    def add(n: Node, depth: int, max_depth: int) -> None:
        plan = data.plan(n.id, tw)  # type: ignore[arg-type]
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
