"""The dashboard of the Mini App: the figures the chat answers, gathered for one screen.

Nothing is computed here that the chat does not compute: serapan and fisik per bidang come
from the answer to "serapan anggaran" (``ask.run_query``), the early-warning table from
"peringatan dini", who has reported from "status pelaporan", and the kabupaten's offices from
the kabupaten ranking (``kabupaten.kabupaten_figures``). No Telegram here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from storage.domain.offices import OfficeName
from storage.domain.question_parser import Metric
from storage.services.ask import Answer, Kind, run_query
from storage.services.early_warning import EwRow, early_warning
from storage.services.kabupaten import (
    OfficeFigure,
    kabupaten_figures,
    kabupaten_period,
    office_names,
    ranked,
)
from storage.services.queries import (
    Figure,
    StatusRow,
    reporting_status,
    rollup,
    trend,
)
from storage.services.submission import propose_period


@dataclass(frozen=True)
class OfficeDashboard:
    """One office at one quarter; ``reporting``: the quarter being reported now, when it is
    another one (its status is shown beside)."""

    opd_id: int
    serapan: Answer  # Kind.SCOPE (breakdown per bidang) or Kind.NODATA
    early: Answer | None  # Kind.PERINGATAN
    status: list[StatusRow]
    trend: list[tuple[int, Figure]]
    reporting: tuple[int, int] | None
    reporting_status: list[StatusRow]

    @property
    def period(self) -> tuple[int, int] | None:
        q = self.serapan.query
        return (q.tahun, q.triwulan) if q is not None else None


def office_dashboard(
    session: Session, opd_id: int, *, tahun: int | None, tw: int | None, today: date
) -> OfficeDashboard:
    """Serapan and fisik per bidang, the trend, the early warning and who has reported, for
    the quarter asked (none: the latest with data, as a question without a quarter)."""
    serapan = run_query(
        session, opd_id, metric=Metric.SERAPAN, scope_kind="opd", scope_id=opd_id,
        tahun=tahun, triwulan=tw,
    )  # fmt: skip
    q = serapan.query
    if serapan.kind is Kind.NODATA or q is None:
        return OfficeDashboard(opd_id, serapan, None, [], [], None, [])
    # No quarter asked: the same complete quarter, each program at its latest reported one.
    early = run_query(
        session, opd_id, metric=Metric.PERINGATAN, scope_kind="opd", scope_id=opd_id,
        tahun=q.tahun, triwulan=q.triwulan if tw is not None else None,
    )  # fmt: skip
    status = reporting_status(session, opd_id, q.tahun, q.triwulan)
    now = propose_period(session, opd_id, today)
    reporting = now if now is not None and now != (q.tahun, q.triwulan) else None
    return OfficeDashboard(
        opd_id,
        serapan,
        early,
        status,
        trend(session, opd_id, q.tahun),
        reporting,
        reporting_status(session, opd_id, *reporting) if reporting else [],
    )


@dataclass(frozen=True)
class OfficeRisk:
    """An office's early-warning total (its own "peringatan dini" answer's first line)."""

    office: OfficeName
    total: EwRow


@dataclass(frozen=True)
class KabupatenDashboard:
    """Every office at one quarter, the kabupaten's trend, and each office's early warning."""

    tahun: int
    triwulan: int
    offices: list[OfficeFigure]  # by serapan, highest first; those without one last
    trend: list[tuple[int, Figure]]
    risks: list[OfficeRisk]  # most rupiah at risk first

    @property
    def not_reported(self) -> list[OfficeFigure]:
        return [f for f in self.offices if f.has_plan and f.not_reported > 0]


def _total(figures: list[OfficeFigure]) -> Figure:
    with_plan = [f for f in figures if f.has_plan]
    return rollup(
        Figure(
            f.pagu, f.realisasi, f.fisik, missing=[] if f.realisasi is not None else [f.office.nama]
        )
        for f in with_plan
    )


def kabupaten_dashboard(
    session: Session, *, tahun: int | None, tw: int | None
) -> KabupatenDashboard:
    """The kabupaten ranking's figures (``kabupaten_figures``) for the quarter asked (none:
    the latest with data), TW I–IV of its year, and every office's early warning."""
    tahun, tw = kabupaten_period(session, tahun, tw)
    figures = kabupaten_figures(session, tahun, tw)
    series = [
        (q, _total(figures if q == tw else kabupaten_figures(session, tahun, q)))
        for q in range(1, 5)
    ]
    risks = [
        OfficeRisk(f.office, early_warning(session, f.office.id, tahun, tw).total)
        for f in figures
        if f.has_plan
    ]
    risks.sort(key=lambda r: -(r.total.berisiko or 0))
    return KabupatenDashboard(tahun, tw, ranked(figures), series, risks)


def several_offices(session: Session) -> bool:
    """Does the deployment serve more than one office (the kabupaten view applies)?"""
    return len(office_names(session)) > 1
