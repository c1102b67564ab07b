"""The early-warning chart: plan (rencana) vs realisation per program, at-risk ones highlighted.

Built with ``charts.render``'s frame, labels and checks, so it reads like the other charts on a
phone: one row per program, the light bar is the plan up to the quarter, the dark bar inside
it the realisation (vermillion where the program is at risk), figures at the bar ends.
"""

from __future__ import annotations

from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Annotation

from charts.format import rupiah_short
from charts.render import (
    _RENDER_LOCK,
    BELUM_LENGKAP,
    BLUE,
    DPI,
    FS,
    GREY,
    GRID,
    PAD_IN,
    PAGU_FILL,
    REAL_H,
    SKY,
    VERMILLION,
    WIDTH_IN,
    _Frame,
    _freeze_layout,
    _money_ticks,
    _place_money_labels,
    _render,
    _require,
    _value_label,
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
    f = _Frame(meta, legend)
    names = [b.label for b in bars]
    ax = f.finish(len(bars) * f.rows_in(names, 0.6) + 0.6)
    f.category_axis(ax, names)
    top = max(max(b.rencana, b.realisasi or 0) for b in bars) or 1
    ax.set_xlim(0, top * 1.02)
    ax.grid(axis="x", color=GRID, linewidth=0.9)

    labels: list[Annotation] = []
    for y, b in enumerate(bars):
        ax.barh(y, b.rencana, height=0.7, color=PAGU_FILL, edgecolor=SKY, linewidth=1.0, zorder=2)
        if b.realisasi is None:
            ax.add_patch(
                Rectangle(
                    (0, y - REAL_H / 2),
                    max(b.rencana, top * 0.02),
                    REAL_H,
                    fill=False,
                    edgecolor=GREY,
                    linestyle=(0, (4, 3)),
                    linewidth=1.3,
                    zorder=3,
                )
            )
            text = f"rencana {rupiah_short(b.rencana)} · realisasi {BELUM_LENGKAP}"
            labels.append(_value_label(ax, b.rencana, y, text, color=GREY, style="italic"))
            continue
        color = VERMILLION if b.at_risk else BLUE
        ax.barh(y, b.realisasi, height=REAL_H, color=color, zorder=3)
        text = f"{rupiah_short(b.realisasi)} dari {rupiah_short(b.rencana)}{_points(b.points)}"
        labels.append(_value_label(ax, max(b.rencana, b.realisasi), y, text))
    prop = FontProperties(size=FS)
    label_px = max(
        f.r.get_text_width_height_descent(line, prop, ismath=False)[0]
        for name in names
        for line in f.wrap(name).split("\n")
    )
    _money_ticks(ax, top, (WIDTH_IN - 2 * PAD_IN) * DPI - label_px - 30, f.r)
    # The label placement of the pagu chart, with the plan in the role of the pagu.
    as_money = [MoneyBar(b.label, b.rencana, b.realisasi) for b in bars]
    width = _place_money_labels(f.fig, ax, as_money, labels)
    _money_ticks(ax, top, width, f.r)
    _freeze_layout(f.fig)
    return f.fig
