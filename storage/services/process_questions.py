"""Questions about the reporting process rather than its figures: deadlines ("kapan batas
akhir tw4", "berapa hari lagi"), returned reports ("laporan apa yang dikembalikan") and who
submitted and decided a report ("siapa yang menyetujui laporan koperasi tw3").

Data only: the bot formats it (bot/views/answers.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from storage.data.models import AppUser, Bidang, Pelaporan, StatusLaporan
from storage.domain.periods import default_year
from storage.domain.question_parser import ParsedQuestion, Process
from storage.services.queries import list_bidang, reporting_status
from storage.services.schedule import Window, get_jadwal, windows_around


@dataclass
class ReportRow:
    """One bidang's report of one quarter, and the people on it."""

    bidang: str
    tahun: int
    triwulan: int
    status: StatusLaporan | None  # None: nothing submitted
    submitted_by: str = ""
    submitted_at: datetime | None = None
    decided_by: str = ""
    decided_at: datetime | None = None
    alasan: str = ""


@dataclass
class ProcessInfo:
    kind: Process
    window: Window | None = None  # BATAS
    today: date | None = None
    not_reported: list[str] = field(default_factory=list)  # BATAS: bidang yet to report
    rows: list[ReportRow] = field(default_factory=list)  # DIKEMBALIKAN / VERIFIKASI
    tahun: int | None = None  # the period rows are about (None: every period)
    triwulan: int | None = None
    bidang: str = ""  # the bidang asked about ("" = every bidang)


def _window(session: Session, opd_id: int, p: ParsedQuestion, today: date) -> Window:
    """The window asked: the quarter named (this reporting year's), else the next deadline."""
    windows = windows_around(session, opd_id=opd_id, today=today)
    if p.triwulan is not None:
        if p.tahun is not None:
            return get_jadwal(session, opd_id=opd_id, tahun=p.tahun, tw=p.triwulan)
        same = [w for w in windows if w.triwulan == p.triwulan]
        # The one still ahead, or the one that passed most recently.
        ahead = [w for w in same if w.tenggat >= today]
        return ahead[0] if ahead else same[-1]
    ahead = [w for w in windows if w.tenggat >= today]
    return ahead[0] if ahead else windows[-1]


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    users = session.exec(select(AppUser).where(col(AppUser.id).in_(wanted))).all()
    return {u.id: u.nama for u in users if u.id is not None}


def _reports(
    session: Session,
    opd_id: int,
    *,
    bidang_id: int | None,
    tahun: int | None,
    tw: int | None,
    status: StatusLaporan | None = None,
) -> list[ReportRow]:
    q = (
        select(Pelaporan, Bidang)
        .join(Bidang, col(Bidang.id) == col(Pelaporan.bidang_id))
        .where(col(Bidang.opd_id) == opd_id)
    )
    if bidang_id is not None:
        q = q.where(col(Pelaporan.bidang_id) == bidang_id)
    if tahun is not None:
        q = q.where(col(Pelaporan.tahun) == tahun)
    if tw is not None:
        q = q.where(col(Pelaporan.triwulan) == tw)
    if status is not None:
        q = q.where(col(Pelaporan.status) == status)
    found = session.exec(
        q.order_by(col(Pelaporan.tahun).desc(), col(Pelaporan.triwulan).desc(), col(Bidang.urutan))
    ).all()
    names = _names(session, {p.submitted_by for p, _ in found} | {p.decided_by for p, _ in found})
    return [
        ReportRow(
            b.nama,
            p.tahun,
            p.triwulan,
            StatusLaporan(p.status),
            names.get(p.submitted_by or 0, ""),
            p.submitted_at,
            names.get(p.decided_by or 0, ""),
            p.decided_at,
            p.alasan,
        )
        for p, b in found
    ]


def process_answer(
    session: Session, opd_id: int, p: ParsedQuestion, *, years: list[int], today: date
) -> ProcessInfo:
    """What a process question asks, read from the schedule and the reports."""
    assert p.process is not None
    bidang_id = p.scope.id if p.scope is not None and p.scope.kind == "bidang" else None
    bidang = p.scope.name if bidang_id is not None and p.scope is not None else ""
    if p.process == Process.BATAS:
        w = _window(session, opd_id, p, today)
        late = [
            r.bidang.nama
            for r in reporting_status(session, opd_id, w.tahun, w.triwulan)
            if not r.reported and (bidang_id is None or r.bidang.id == bidang_id)
        ]
        return ProcessInfo(p.process, window=w, today=today, not_reported=late, bidang=bidang)
    if p.process == Process.DIKEMBALIKAN:
        rows = _reports(
            session,
            opd_id,
            bidang_id=bidang_id,
            tahun=p.tahun,
            tw=p.triwulan,
            status=StatusLaporan.DIKEMBALIKAN,
        )
        return ProcessInfo(p.process, rows=rows, tahun=p.tahun, triwulan=p.triwulan, bidang=bidang)
    # VERIFIKASI: the reports of the quarter asked (default: the latest with any report).
    tahun, tw = p.tahun, p.triwulan
    if tw is None or tahun is None:
        latest = _reports(session, opd_id, bidang_id=bidang_id, tahun=tahun, tw=tw)
        if latest:
            tahun, tw = tahun or latest[0].tahun, tw or latest[0].triwulan
        else:
            tahun = default_year(tahun, years)
    rows = _reports(session, opd_id, bidang_id=bidang_id, tahun=tahun, tw=tw) if tw else []
    if tw is not None and tahun is not None:
        done = {r.bidang for r in rows}
        rows += [
            ReportRow(b.nama, tahun, tw, None)
            for b in list_bidang(session, opd_id)
            if b.nama not in done and (bidang_id is None or b.id == bidang_id)
        ]
    return ProcessInfo(p.process, rows=rows, tahun=tahun, triwulan=tw, bidang=bidang)
