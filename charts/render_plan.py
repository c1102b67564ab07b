"""The early-warning chart: plan (rencana) vs realisation per program, at-risk ones highlighted.

Built with ``charts.render``'s frame, labels and checks, so it reads like the other charts on a
phone: one row per program, the light bar is the plan up to the quarter, the dark bar inside
it the realisation (vermillion where the program is at risk), figures at the bar ends.
"""

from __future__ import annotations

from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from charts.format import rupiah_short
from charts.render import (
    _RENDER_LOCK,
    BLUE,
    PAGU_FILL,
    SKY,
    VERMILLION,
    _render,
    _require,
    paired_money_bars,
)
from charts.spec import ChartMeta, MoneyBar, PlanBar
from storage.domain.numbers import format_percent


def _points(value: float | None) -> str:
    if value is None:
        return ""
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f" ({sign}{format_percent(abs(value), 1).rstrip('%')} poin)"


def rencana_realisasi(bars: list[PlanBar], meta: ChartMeta) -> bytes:
    """Plan vs realisation per program, the programs at risk in vermillion."""
    _require([b.realisasi for b in bars], "realisasi anggaran", meta)
    with _RENDER_LOCK:
        return _render(build_rencana_realisasi(bars, meta))


def build_rencana_realisasi(bars: list[PlanBar], meta: ChartMeta) -> Figure:
    legend: list[tuple[Artist, str]] = [
        (Patch(facecolor=PAGU_FILL, edgecolor=SKY), "Rencana s.d. triwulan ini"),
        (Patch(color=BLUE), "Realisasi"),
    ]
    if any(b.at_risk for b in bars):
        legend.append((Patch(color=VERMILLION), "Realisasi, berisiko tidak terserap"))
    # The pagu chart's drawing and label placement, with the plan in the role of the pagu.
    return paired_money_bars(
        [MoneyBar(b.label, b.rencana, b.realisasi) for b in bars],
        meta,
        legend,
        outer_word="rencana",
        texts=[
            ""
            if b.realisasi is None
            else f"{rupiah_short(b.realisasi)} dari {rupiah_short(b.rencana)}{_points(b.points)}"
            for b in bars
        ],
        colors=[VERMILLION if b.at_risk else BLUE for b in bars],
    )
