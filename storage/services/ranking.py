"""Rankings at every level: bidang, program, kegiatan or sub kegiatan of a scope, by serapan,
realisasi fisik, deviation from the plan (rencana penarikan, else the national path) or sisa
anggaran. Data only; the bot words it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session

from storage.data.models import row_id
from storage.services.early_warning import early_warning
from storage.services.queries import (
    Figure,
    NodeRow,
    bidang_sasaran_ids,
    list_bidang,
    scope_result,
    year_data,
)

By = Literal["serapan", "fisik", "deviasi", "sisa"]
LEVELS = ("bidang", "program", "kegiatan", "sub_kegiatan")


@dataclass
class RankRow:
    kind: str
    id: int
    nama: str
    bidang: str  # owning bidang ("" for a bidang row)
    figure: Figure
    value: float | None  # serapan/fisik/deviasi in points, sisa in rupiah; None: no figure


def level_below(scope_kind: str) -> str:
    """The rows a ranking of a scope lists when no level is named."""
    return {"opd": "bidang", "bidang": "program", "program": "kegiatan"}.get(
        scope_kind, "sub_kegiatan"
    )


def rank(
    session: Session,
    opd_id: int,
    tahun: int,
    tw: int,
    *,
    level: str,
    by: By,
    bidang_id: int | None = None,
    node_id: int | None = None,
) -> list[RankRow]:
    """Every row of ``level`` inside the scope with its value, highest first; rows without a
    figure last (they are listed apart, never ranked as 0)."""
    data = year_data(session, opd_id, tahun)
    bidang = list_bidang(session, opd_id)
    owner = {sid: b.nama for b in bidang for sid in bidang_sasaran_ids(data, row_id(b))}
    rows: list[RankRow] = []
    if level == "bidang":
        res = scope_result(session, opd_id, tahun, tw)
        wanted = {b.id for b in bidang if bidang_id is None or b.id == bidang_id}
        for it in res.breakdown:
            if it.id in wanted:
                rows.append(RankRow("bidang", it.id, it.nama, "", it.figure, None))
    else:
        if node_id is not None:
            roots = [data.nodes[node_id]]
        else:
            sids = bidang_sasaran_ids(data, bidang_id) if bidang_id is not None else None
            roots = data.programs(tw, sids)
        found: list[NodeRow] = []

        def walk(n: NodeRow) -> None:
            if str(n.level) == level:
                found.append(n)
                return
            for k in data.children(n.id, tw):
                walk(k)

        for root in roots:
            walk(root)
        for n in found:
            fig = data.node_figure(n.id, tw)
            rows.append(RankRow(str(n.level), n.id, n.nama, owner.get(n.sasaran_id, ""), fig, None))
    deviasi: dict[int, float | None] = {}
    if by == "deviasi":
        if level == "bidang":
            for r in rows:
                t = early_warning(session, opd_id, tahun, tw, bidang_id=r.id).total
                deviasi[r.id] = t.deviasi.points if t.deviasi else None
        else:
            ew = early_warning(
                session, opd_id, tahun, tw, bidang_id=bidang_id, node_id=node_id, level=level
            )
            deviasi = {e.id: (e.deviasi.points if e.deviasi else None) for e in ew.rows}
    for r in rows:
        f = r.figure
        if by == "serapan":
            r.value = f.serapan
        elif by == "fisik":
            r.value = f.fisik
        elif by == "sisa":
            r.value = None if f.realisasi is None or f.pagu is None else f.pagu - f.realisasi
        else:
            r.value = deviasi.get(r.id)
    ranked = sorted((r for r in rows if r.value is not None), key=lambda r: -(r.value or 0))
    return ranked + [r for r in rows if r.value is None]
