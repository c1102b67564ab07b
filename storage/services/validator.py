"""Validator: finds the mistakes in a year's figures and records them as findings.

Nothing is repaired: the reported figure stands and the finding says where and what.
Findings derived from stored figures are recomputed on every run; those only an import
can see (values for quarters that had not ended) stay with their report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from storage.data.models import (
    CapaianSasaran,
    Finding,
    FindingKind,
    ImportedReport,
    IndikatorSasaran,
    row_id,
    table_of,
)
from storage.domain.numbers import format_percent, format_rupiah
from storage.domain.periods import roman
from storage.services.queries import NodeRow, SasaranRow, YearData

DERIVED = (
    FindingKind.CAPAIAN_SUM,
    FindingKind.CAPAIAN_RANGE,
    FindingKind.CUMULATIVE_DOWN,
    FindingKind.PARENT_MISMATCH,
    FindingKind.ABOVE_PAGU,
    FindingKind.REPORTS_DIFFER,
)
CAPAIAN_MAX = 1000.0  # above this a capaian is not an achievement but a typing slip

# validate_year's ``add(kind, tw, message, **fields of the Finding)``.
AddFinding = Callable[..., None]


def validate_year(session: Session, opd_id: int, tahun: int) -> list[Finding]:
    """Recompute the findings of one office-year; returns all of them (derived and import)."""
    session.exec(
        delete(Finding).where(
            col(Finding.opd_id) == opd_id,
            col(Finding.tahun) == tahun,
            col(Finding.kind).in_([k.value for k in DERIVED]),
        )
    )
    data = YearData(session, opd_id, tahun)
    reports = {
        r.id: r
        for r in session.exec(
            select(ImportedReport).where(
                ImportedReport.opd_id == opd_id, ImportedReport.tahun == tahun
            )
        ).all()
    }
    found: list[Finding] = []

    def add(kind: FindingKind, tw: int | None, message: str, **kw: Any) -> None:
        found.append(
            Finding(opd_id=opd_id, tahun=tahun, triwulan=tw, kind=kind, message=message, **kw)
        )

    def where(node: NodeRow, tw: int) -> str:
        r = data.real.get((node.id, tw))
        rep = reports.get(r.report_id) if r and r.report_id else None
        src = f"laporan TW {roman(tw)} {tahun}" if rep else f"isian TW {roman(tw)} {tahun}"
        row = f", baris {r.row_no}" if r and r.row_no and rep else ""
        return f"{src}{row}, {node.level.replace('_', ' ')} '{node.nama}'"

    for node in data.nodes.values():
        nid: int = node.id
        prev_tw: int | None = None
        for tw in range(1, 5):
            real = data.real.get((nid, tw))
            if real is None:
                continue
            plan = data.plan(nid, tw)
            if (
                real.anggaran is not None
                and plan
                and plan.pagu is not None
                and real.anggaran > plan.pagu
            ):
                add(
                    FindingKind.ABOVE_PAGU,
                    tw,
                    f"{where(node, tw)}: realisasi {format_rupiah(real.anggaran)} melebihi pagu "
                    f"{format_rupiah(plan.pagu)}.",
                    node_id=nid,
                    report_id=real.report_id,
                    row_no=real.row_no,
                )
            if real.fisik is not None and not 0 <= real.fisik <= 100:
                add(
                    FindingKind.CAPAIAN_RANGE,
                    tw,
                    f"{where(node, tw)}: realisasi fisik {format_percent(real.fisik)} "
                    "di luar 0–100%.",
                    node_id=nid,
                    report_id=real.report_id,
                    row_no=real.row_no,
                )
            if prev_tw is not None:
                prev = data.real[(nid, prev_tw)]
                if (
                    prev.anggaran is not None
                    and real.anggaran is not None
                    and real.anggaran < prev.anggaran
                ):
                    add(
                        FindingKind.CUMULATIVE_DOWN,
                        tw,
                        f"{where(node, tw)}: realisasi kumulatif turun dari "
                        f"{format_rupiah(prev.anggaran)} (TW {roman(prev_tw)}) menjadi "
                        f"{format_rupiah(real.anggaran)} (TW {roman(tw)}); angka kumulatif "
                        "tidak boleh turun.",
                        node_id=nid,
                        report_id=real.report_id,
                        row_no=real.row_no,
                    )
                if prev.fisik is not None and real.fisik is not None and real.fisik < prev.fisik:
                    add(
                        FindingKind.CUMULATIVE_DOWN,
                        tw,
                        f"{where(node, tw)}: realisasi fisik kumulatif turun dari "
                        f"{format_percent(prev.fisik)} (TW {roman(prev_tw)}) menjadi "
                        f"{format_percent(real.fisik)} (TW {roman(tw)}).",
                        node_id=nid,
                        report_id=real.report_id,
                        row_no=real.row_no,
                    )
            prev_tw = tw
            kids = data.children(nid, tw)
            if real.anggaran is not None and kids:
                figs = [data.node_figure(k.id, tw) for k in kids]
                if all(f.complete for f in figs):
                    total = sum(f.realisasi or 0 for f in figs)  # all complete: none is None
                    if total != real.anggaran:
                        names = "; ".join(
                            f"'{k.nama}' {format_rupiah(f.realisasi)}"
                            for k, f in zip(kids, figs, strict=True)
                        )
                        add(
                            FindingKind.PARENT_MISMATCH,
                            tw,
                            f"{where(node, tw)}: melaporkan realisasi "
                            f"{format_rupiah(real.anggaran)}, "
                            f"sedangkan jumlah rinciannya {format_rupiah(total)} ({names}). "
                            "Angka yang dilaporkan tetap dipakai.",
                            node_id=nid,
                            report_id=real.report_id,
                            row_no=real.row_no,
                        )

    _rolled_up_drops(data, tahun, add)
    _capaian_findings(session, data, reports, tahun, add)
    session.flush()
    if found:
        # One executemany: the ORM would insert the findings one statement each on SQLite.
        table = table_of(Finding)
        columns = [c.name for c in table.columns if c.name != "id"]
        session.connection().execute(
            insert(table), [{n: getattr(f, n) for n in columns} for f in found]
        )
    return list(
        session.exec(
            select(Finding)
            .where(Finding.opd_id == opd_id, Finding.tahun == tahun)
            .order_by(col(Finding.triwulan), col(Finding.row_no), col(Finding.id))
        ).all()
    )


def _rolled_up_drops(data: YearData, tahun: int, add: AddFinding) -> None:
    """A quarter reported at kegiatan or program level, the next one entered per sub
    kegiatan: the level's figure is then the sum of its rincian, and a sum below what the
    level reported before is a drop like any other."""
    for node in data.nodes.values():
        for tw in range(2, 5):
            prev = data.real.get((node.id, tw - 1))
            if prev is None or prev.anggaran is None or (node.id, tw) in data.real:
                continue
            kids = data.children(node.id, tw)
            # Only the level the figure was reported at (its rincian had none of their own).
            if not kids or any((k.id, tw - 1) in data.real for k in data.children(node.id, tw - 1)):
                continue
            fig = data.node_figure(node.id, tw)
            if fig.complete and fig.realisasi is not None and fig.realisasi < prev.anggaran:
                add(
                    FindingKind.CUMULATIVE_DOWN,
                    tw,
                    f"isian TW {roman(tw)} {tahun}, {node.level.replace('_', ' ')} "
                    f"'{node.nama}': jumlah rinciannya {format_rupiah(fig.realisasi)}, turun dari "
                    f"{format_rupiah(prev.anggaran)} yang dilaporkan untuknya pada TW "
                    f"{roman(tw - 1)}; angka kumulatif tidak boleh turun.",
                    node_id=node.id,
                )


def _capaian_findings(
    session: Session,
    data: YearData,
    reports: dict[int | None, ImportedReport],
    tahun: int,
    add: AddFinding,
) -> None:
    sasaran = {s.id: s for s in data.sasaran.values()}
    inds = session.exec(
        select(IndikatorSasaran).where(col(IndikatorSasaran.sasaran_id).in_(list(sasaran)))
    ).all()
    # Every indicator's values in one select (not one per indicator: a large office has
    # thousands), in the order they were stored.
    values_of: dict[int, list[CapaianSasaran]] = {}
    if inds:
        for v in session.exec(
            select(CapaianSasaran)
            .where(col(CapaianSasaran.indikator_id).in_([i.id for i in inds]))
            .order_by(col(CapaianSasaran.id))
        ).all():
            values_of.setdefault(v.indikator_id, []).append(v)
    for ind in inds:
        s: SasaranRow = sasaran[ind.sasaran_id]
        prog = data.nodes.get(ind.program_id) if ind.program_id else None
        label = f"sasaran {s.nomor}" + (f" ({prog.nama})" if prog else "")
        vals = values_of.get(row_id(ind), [])
        by_report: dict[int | None, dict[int, CapaianSasaran]] = {}
        for v in vals:
            by_report.setdefault(v.report_id, {})[v.triwulan] = v
        for rid, per_tw in by_report.items():
            rep = reports.get(rid)
            if rep is None:
                continue
            own = per_tw.get(rep.triwulan)
            if own is None or own.capaian_dilaporkan is None:
                continue
            c = own.capaian_dilaporkan
            rs = [r for t in sorted(per_tw) if (r := per_tw[t].realisasi) is not None]
            where = f"laporan TW {roman(rep.triwulan)} {tahun}, {label}"
            if len(rs) >= 2 and abs(sum(rs) - c) <= 0.02 + 0.0001:
                parts = " + ".join(format_percent(r) for r in rs)
                add(
                    FindingKind.CAPAIAN_SUM,
                    rep.triwulan,
                    f"{where}: % capaian {format_percent(c)} adalah jumlah realisasi kumulatif "
                    f"({parts}); untuk angka kumulatif jumlah itu tidak bermakna. Capaian "
                    f"TW {roman(rep.triwulan)} = R ÷ T triwulan itu.",
                    sasaran_id=s.id,
                    node_id=ind.program_id,
                    report_id=rid,
                )
            if not 0 <= c <= CAPAIAN_MAX:
                add(
                    FindingKind.CAPAIAN_RANGE,
                    rep.triwulan,
                    f"{where}: % capaian {format_percent(c)} tidak masuk akal (di luar 0–"
                    f"{format_percent(CAPAIAN_MAX, 0)}).",
                    sasaran_id=s.id,
                    node_id=ind.program_id,
                    report_id=rid,
                )
        # The same quarter's figure as two reports give it.
        per_tw_all: dict[int, list[CapaianSasaran]] = {}
        for v in vals:
            per_tw_all.setdefault(v.triwulan, []).append(v)
        for tw, vs in sorted(per_tw_all.items()):
            distinct = {(v.target, v.realisasi) for v in vs}
            if len(distinct) < 2:
                continue
            said = "; ".join(
                f"laporan TW {roman(reports[v.report_id].triwulan)}: T {format_percent(v.target)}, "
                f"R {format_percent(v.realisasi)}"
                for v in sorted(vs, key=lambda v: reports[v.report_id].triwulan)
                if v.report_id in reports
            )
            add(
                FindingKind.REPORTS_DIFFER,
                tw,
                f"{label}: angka TW {roman(tw)} {tahun} berbeda antar laporan ({said}). "
                f"Yang dipakai: laporan TW {roman(tw)} sendiri.",
                sasaran_id=s.id,
                node_id=ind.program_id,
            )
