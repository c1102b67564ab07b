"""Charts for monev-bot, as PNG bytes ready to send as a Telegram photo.

Pure functions of plain data: no database, no Telegram. Every public function takes
dataclasses the caller fills from ``storage.services.queries`` and returns PNG bytes, or raises
``NoData`` (an Indonesian message the bot can show as is) when there is nothing to draw.

Why the code looks the way it does:

* Only matplotlib's object API (``Figure`` + ``FigureCanvasAgg``), never pyplot: pyplot
  keeps every figure in a global registry (a leak in a long-running bot) and is not
  meant for worker threads. A figure here is plain garbage once the call returns, and
  its pixel buffer is dropped before that.
* The width is fixed (10 in at 110 dpi = 1100 px) and the height grows with the number
  of rows, so phones show every chart at the same text size. Header (title, subtitle,
  legend) and footer (source) are measured and placed by us; the plot area in between
  is laid out by the "constrained" layout engine, which keeps tick labels inside it.
* Value labels at the end of bars are kept out of the layout engine and the x axis is
  widened until they fit, because otherwise the engine would shrink the plot instead.
* One chart at a time (a module lock): matplotlib's font and text caches are shared
  by the process and not documented as thread-safe. Rendering takes ~0.1 s.
* ``_check_layout`` verifies the result (no text outside the image, no two texts on top
  of each other, no text under 12 pt). It runs on every render and logs a warning if
  something is off; the tests require it to come back empty.
"""

from __future__ import annotations

import io
import logging
import math
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Annotation, Text
from matplotlib.ticker import MaxNLocator
from PIL import Image

from charts.format import clean_label, percent_short, points_signed, rupiah_short, wrap_label
from charts.spec import Bar, ChartMeta, MoneyBar, NoData, PairBar, StatusBar
from storage.domain.numbers import format_percent, ratio_percent
from storage.domain.periods import roman

log = logging.getLogger(__name__)

# --- look ---------------------------------------------------------------------------------

DPI = 110
WIDTH_IN = 10.0  # 1100 px: sharp on phones, readable when Telegram scales it to the screen
MIN_FONT_PT = 12.0
FS = 13.0  # labels, ticks, values, legend
FS_TITLE = 18.0
FS_SUBTITLE = 14.0
FS_SOURCE = 12.0
PAD_IN = 0.25  # outer margin of the image
LABEL_MAX_PX = 400  # width of a wrapped category label: ~38 mixed-case characters at 13 pt
LABEL_LINES = 3

# Okabe-Ito: distinguishable with every common colour-vision deficiency.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREY = "#6E6E6E"  # neutral ink for secondary text and "belum lengkap"
GRID = "#DDDDDD"
PAGU_FILL = "#BFE1F5"  # light sky blue: the ceiling, with the darker realisasi drawn inside

BELUM_LENGKAP = "belum lengkap"
REAL_H = 0.4  # realisasi bar height (rows are 1 apart), drawn inside a 0.7 pagu bar
# White backing behind value labels: grid and target lines pass behind digits, not through.
_BACKING = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"}

# Matplotlib keeps a few process-wide caches (fonts, text layout) and documents that it
# is not thread-safe. The bot renders from worker threads, so one chart at a time;
# a render takes a fraction of a second and the GIL would serialise most of it anyway.
_RENDER_LOCK = threading.Lock()


# --- public API -----------------------------------------------------------------------------


def serapan_per_bidang(bars: list[Bar], benchmark: float, meta: ChartMeta) -> bytes:
    """Horizontal bars of serapan per bidang with a dashed national-target line."""
    _require([b.value for b in bars], "serapan anggaran", meta)
    with _RENDER_LOCK:
        return _render(_build_serapan(bars, benchmark, meta))


def serapan_per_opd(bars: list[Bar], benchmark: float, meta: ChartMeta) -> bytes:
    """Horizontal bars of serapan per office (a kabupaten), ranked, with the target line:
    the per-bidang chart's drawing, one bar per office."""
    _require([b.value for b in bars], "serapan anggaran", meta)
    with _RENDER_LOCK:
        return _render(_build_serapan(bars, benchmark, meta))


def tren_serapan(
    points: list[tuple[int, float | None]], benchmarks: dict[int, float], meta: ChartMeta
) -> bytes:
    """Cumulative serapan over TW I..IV against the national 15/40/60/90% path."""
    _require([v for _, v in points], "serapan anggaran", meta)
    with _RENDER_LOCK:
        return _render(_build_tren(points, benchmarks, meta))


def program_pagu_realisasi(bars: list[MoneyBar], meta: ChartMeta) -> bytes:
    """Horizontal bars: pagu with realisasi drawn inside it, per program, rupiah axis."""
    _require([b.realisasi for b in bars], "realisasi anggaran", meta)
    with _RENDER_LOCK:
        return _render(_build_pagu_realisasi(bars, meta))


def fisik_vs_keuangan(bars: list[PairBar], meta: ChartMeta) -> bytes:
    """Grouped bars of realisasi keuangan and fisik per program, with their difference."""
    _require([v for b in bars for v in (b.keuangan, b.fisik)], "realisasi fisik dan keuangan", meta)
    with _RENDER_LOCK:
        return _render(_build_fisik_keuangan(bars, meta))


def status_pelaporan(bars: list[StatusBar], meta: ChartMeta) -> bytes:
    """One row per bidang, coloured and labelled by report status.

    Unlike the other charts, all-``None`` is data here (nobody has reported yet);
    only an empty list raises ``NoData``.
    """
    if not bars:
        raise NoData(_no_data_message("bidang", meta))
    with _RENDER_LOCK:
        return _render(_build_status(bars, meta))


# --- validation ---------------------------------------------------------------------------


def _num(value: float | int | None) -> float | None:
    """A usable number or None: NaN/inf from upstream arithmetic count as 'no data'."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def _no_data_message(what: str, meta: ChartMeta) -> str:
    # The subtitle carries the quarter, year and scope ("TW IV 2022 · Dinas ...").
    parts = [p.strip() for p in meta.subtitle.split("·") if p.strip()]
    if parts:
        return f"Belum ada data {what} untuk {', '.join(parts)}."
    return f"Belum ada data {what} untuk grafik ini."


def _require(values: Iterable[float | int | None], what: str, meta: ChartMeta) -> None:
    if all(_num(v) is None for v in values):  # also true for an empty list
        raise NoData(_no_data_message(what, meta))


# --- figure frame: header, plot area, footer -------------------------------------------


def _wrap_px(text: str, size: float, weight: str, max_px: float, r: RendererBase) -> str:
    """Greedy word wrap by measured width, for titles whose width we cannot guess by length
    (an upper-case office name is half again as wide as the same letters in lower case)."""
    prop = FontProperties(size=size, weight=weight)
    out: list[str] = []
    line = ""
    for word in clean_label(text).split(" "):
        cand = f"{line} {word}" if line else word
        if line and r.get_text_width_height_descent(cand, prop, ismath=False)[0] > max_px:
            out.append(line)
            line = word
        else:
            line = cand
    if line:
        out.append(line)
    return "\n".join(out)


def _plain(text: str) -> str:
    # User text must never switch on mathtext: a "$" in a program name would.
    return text.replace("$", r"\$")


class _Frame:
    """A figure of fixed width whose height is header + body + footer.

    Usage: create (builds and measures header and footer), use ``wrap``/``rows_in`` to
    size the body, then ``finish(body_in)`` fixes the height and returns the one Axes,
    which the constrained layout engine keeps inside the body together with its labels.
    Everything is measured on this figure's own renderer, so sizes are exact, not guessed.
    """

    def __init__(self, meta: ChartMeta, legend: Sequence[tuple[Artist, str]] = ()) -> None:
        self.fig = fig = Figure(figsize=(WIDTH_IN, 2.0), dpi=DPI, facecolor="white")
        FigureCanvasAgg(fig)  # attaches itself as fig.canvas
        self.r = r = _agg(fig).get_renderer()
        max_px = (WIDTH_IN - 2 * PAD_IN) * DPI

        # Header artists are created and measured now, placed once the height is known.
        self._header: list[tuple[Text | Legend, float]] = []  # artist, inches from the top
        cursor = PAD_IN
        specs = [
            (meta.title, FS_TITLE, "bold", BLACK),
            (meta.subtitle, FS_SUBTITLE, "normal", GREY),
        ]
        for text, size, weight, color in specs:
            if not clean_label(text):
                continue
            t = fig.text(
                PAD_IN / WIDTH_IN,
                0,
                _plain(_wrap_px(text, size, weight, max_px, r)),
                fontsize=size,
                fontweight=weight,
                color=color,
                ha="left",
                va="top",
            )
            self._header.append((t, cursor))
            cursor += t.get_window_extent(r).height / DPI + 0.06
        if legend:
            leg = _legend(fig, legend, max_px, r)
            cursor += 0.08
            self._header.append((leg, cursor))
            cursor += leg.get_window_extent(r).height / DPI
        self.header_in = cursor + 0.12

        self._source = fig.text(
            PAD_IN / WIDTH_IN,
            0,
            _plain(_wrap_px(meta.source, FS_SOURCE, "normal", max_px, r)),
            fontsize=FS_SOURCE,
            color=GREY,
            ha="left",
            va="bottom",
        )
        self.footer_in = 0.5 * PAD_IN + self._source.get_window_extent(r).height / DPI + 0.18

        probe = fig.text(0, 0, "Ag\nAg", fontsize=FS)
        self.line_in = probe.get_window_extent(r).height / DPI / 2
        probe.remove()

    def wrap(self, label: str) -> str:
        """``wrap_label`` with a line length that suits the letters: upper-case names are
        about a fifth wider than mixed case, so they get fewer characters per line."""
        text = clean_label(label)
        if not text:
            return "-"
        prop = FontProperties(size=FS)
        w = self.r.get_text_width_height_descent(text, prop, ismath=False)[0]
        per_char = w / len(text)
        width = max(24, min(45, round(LABEL_MAX_PX / per_char)))
        return _plain(wrap_label(text, width, LABEL_LINES))

    def rows_in(self, labels: Sequence[str], minimum: float) -> float:
        """Height of one category row: the tallest wrapped label plus some air."""
        lines = max(self.wrap(lb).count("\n") + 1 for lb in labels)
        return max(minimum, lines * self.line_in + 0.24)

    def finish(self, body_in: float) -> Axes:
        fig = self.fig
        height = self.header_in + body_in + self.footer_in
        fig.set_size_inches(WIDTH_IN, height)
        for artist, top in self._header:
            y = 1 - top / height
            if isinstance(artist, Legend):
                artist.set_bbox_to_anchor((PAD_IN / WIDTH_IN, y), transform=fig.transFigure)
            else:
                artist.set_y(y)
        self._source.set_y(0.5 * PAD_IN / height)
        fig.set_layout_engine(
            ConstrainedLayoutEngine(
                rect=(
                    PAD_IN / WIDTH_IN,
                    self.footer_in / height,
                    1 - 2 * PAD_IN / WIDTH_IN,
                    body_in / height,
                ),
                h_pad=0.03,
                w_pad=0.03,
            )
        )
        ax = fig.add_subplot()
        ax.tick_params(labelsize=FS, colors=BLACK)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_axisbelow(True)
        return ax

    def category_axis(self, ax: Axes, labels: Sequence[str]) -> None:
        """Categories top to bottom, wrapped, in the order the caller gave them."""
        n = len(labels)
        ax.set_yticks(range(n), labels=[self.wrap(lb) for lb in labels])
        ax.set_ylim(n - 0.5, -0.5)
        ax.tick_params(axis="y", length=0, pad=8)
        ax.spines["left"].set_color(GREY)


def _legend(
    fig: Figure, entries: Sequence[tuple[Artist, str]], max_px: float, r: RendererBase
) -> Legend:
    """A legend row under the subtitle; fewer columns if one row would be too wide."""
    handles = [h for h, _ in entries]
    labels = [_plain(lb) for _, lb in entries]
    for ncols in range(len(entries), 0, -1):
        leg = fig.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(PAD_IN / WIDTH_IN, 1.0),
            ncols=ncols,
            frameon=False,
            fontsize=FS,
            borderaxespad=0.0,
            borderpad=0.0,
            handlelength=1.8,
            columnspacing=1.6,
        )
        if leg.get_window_extent(r).width <= max_px or ncols == 1:
            return leg
        leg.remove()
    raise AssertionError("unreachable")


def _percent_ticks(values: Iterable[float]) -> list[float]:
    """Ticks every 20% from 0 to 100%, coarser when data go far beyond (the seed has a
    1349,06% cell): never more than six intervals, so the tick labels cannot crowd."""
    vals = list(values)
    lo, hi = min([0.0, *vals]), max([100.0, *vals])
    for step in (m * 10**k for k in range(1, 20) for m in (2, 2.5, 5, 10)):
        first, last = math.floor(lo / step), math.ceil(hi / step)
        if last - first <= 6:
            return [i * step for i in range(first, last + 1)]
    raise ValueError(f"percent values out of range: {lo}..{hi}")


def _percent_axis(ax: Axes, values: Sequence[float]) -> float:
    """Horizontal percent axis; returns the last tick (the end of an empty bar)."""
    ticks = _percent_ticks(values)
    ax.set_xticks(ticks, labels=[percent_short(t) for t in ticks])
    ax.set_xlim(ticks[0], ticks[-1] * 1.02)
    ax.grid(axis="x", color=GRID, linewidth=0.9)
    return ticks[-1]


def _value_label(
    ax: Axes,
    x: float,
    y: float,
    text: str,
    *,
    color: str = BLACK,
    style: str = "normal",
) -> Annotation:
    """Text just right of a bar end. Out of the layout: ``_fit_xmax`` makes room for it."""
    a = ax.annotate(
        _plain(text),
        xy=(x, y),
        xytext=(6, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=FS,
        color=color,
        fontstyle=style,
        annotation_clip=False,
        zorder=5,
        # A white backing keeps digits legible where a grid or benchmark line passes.
        bbox=_BACKING,
    )
    a.set_in_layout(False)
    return a


def _empty_bar(ax: Axes, y: float, height: float, x_end: float, text: str) -> Annotation:
    """An unfilled dashed bar over the whole scale with the reason inside, never a 0 bar."""
    ax.add_patch(
        Rectangle(
            (0, y - height / 2),
            x_end,
            height,
            fill=False,
            edgecolor=GREY,
            linestyle=(0, (4, 3)),
            linewidth=1.3,
            zorder=2,
        )
    )
    a = ax.annotate(
        _plain(text),
        xy=(0, y),
        xytext=(8, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=FS,
        color=GREY,
        fontstyle="italic",
        annotation_clip=False,
        zorder=5,
    )
    a.set_in_layout(False)
    return a


def _layout_pass(fig: Figure) -> RendererBase:
    """Run the layout engine without rasterising, so positions and extents are final."""
    fig.draw_without_rendering()
    return _agg(fig).get_renderer()


def _agg(fig: Figure) -> FigureCanvasAgg:
    """The Agg canvas every figure here is given (typed as such, unlike ``fig.canvas``)."""
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    return canvas


def _fit_xmax(fig: Figure, ax: Axes, labels: Sequence[Annotation]) -> None:
    """Widen the x range until every end-of-bar label fits inside the plot.

    Solves (x - x0) / (xmax - x0) * W + label_px <= W for xmax, with the plot width W
    from a real layout pass; the labels are out of the layout so W does not change.
    """
    if not labels:
        return
    r = _layout_pass(fig)
    x0, x1 = ax.get_xlim()
    width = ax.get_window_extent(r).width
    need = x1
    for t in labels:
        x = float(t.xy[0])
        extra = _px_right_of_anchor(ax, t, r)
        if extra >= width:
            continue  # cannot fit at any scale; _check_layout will report it
        need = max(need, x0 + (x - x0) * width / (width - extra))
    ax.set_xlim(x0, need)
    _freeze_layout(fig)


def _freeze_layout(fig: Figure) -> None:
    """Keep the positions of the last layout pass for the final draw (saves a pass).

    Only valid when nothing that is part of the layout has changed since that pass:
    a wider x range moves bars and out-of-layout labels, not tick labels or margins.
    """
    fig.set_layout_engine("none")


def _px_right_of_anchor(ax: Axes, t: Annotation, r: RendererBase) -> float:
    anchor = ax.transData.transform((float(t.xy[0]), 0))[0]
    return float(t.get_window_extent(r).x1 - anchor + 6)


# --- (a) serapan per bidang ----------------------------------------------------------------


def _build_serapan(bars: list[Bar], benchmark: float, meta: ChartMeta) -> Figure:
    values = [_num(b.value) for b in bars]
    known = [v for v in values if v is not None]
    legend: list[tuple[Artist, str]] = []
    if any(v >= benchmark for v in known):
        legend.append((Patch(color=BLUE), "Mencapai target"))
    if any(v < benchmark for v in known):
        legend.append((Patch(color=ORANGE), "Di bawah target"))
    f = _Frame(meta, legend)
    labels_in = [b.label for b in bars]
    # rows + x tick labels + the target label above the plot
    ax = f.finish(len(bars) * f.rows_in(labels_in, 0.55) + 0.95)
    f.category_axis(ax, labels_in)
    last = _percent_axis(ax, [*known, benchmark])

    labels: list[Annotation] = []
    for y, (b, v) in enumerate(zip(bars, values, strict=True)):
        if v is None:
            labels.append(_empty_bar(ax, y, 0.62, last, clean_label(b.note) or BELUM_LENGKAP))
            continue
        ax.barh(y, v, height=0.62, color=BLUE if v >= benchmark else ORANGE, zorder=2)
        text = format_percent(v) + (f" · {clean_label(b.note)}" if clean_label(b.note) else "")
        labels.append(_value_label(ax, max(v, 0.0), y, text))

    ax.axvline(benchmark, color=BLACK, linestyle=(0, (5, 3)), linewidth=1.6, zorder=3)
    # Above the plot, so it can never sit on a value label inside it.
    _label_above(
        ax,
        _plain(f"Target nasional {percent_short(benchmark)}"),
        xy=(benchmark, 1.0),
        xycoords=("data", "axes fraction"),
        offset=(0, 5),
        ha="center",
    )
    _fit_xmax(f.fig, ax, labels)
    return f.fig


# --- (b) trend over the year -----------------------------------------------------------------


def _build_tren(
    points: list[tuple[int, float | None]], benchmarks: dict[int, float], meta: ChartMeta
) -> Figure:
    by_tw: dict[int, float | None] = {}
    for tw, v in points:
        if tw not in (1, 2, 3, 4):
            raise ValueError(f"triwulan must be 1..4, got {tw}")
        by_tw[tw] = _num(v)
    bench = {tw: float(v) for tw, v in benchmarks.items() if tw in (1, 2, 3, 4)}
    serapan_style: dict[str, Any] = {
        "color": BLUE,
        "marker": "o",
        "linewidth": 2.6,
        "markersize": 8,
    }
    target_style: dict[str, Any] = {
        "color": BLACK,
        "linestyle": (0, (5, 3)),
        "marker": "o",
        "markersize": 7,
        "markerfacecolor": "white",
        "linewidth": 1.6,
    }
    legend: list[tuple[Artist, str]] = [(Line2D([], [], **serapan_style), "Serapan kumulatif")]
    if bench:
        legend.append((Line2D([], [], **target_style), "Target nasional (kumulatif)"))
    f = _Frame(meta, legend)
    ax = f.finish(4.6)
    quarters = [1, 2, 3, 4]
    ax.set_xticks(quarters, labels=[f"TW {roman(q)}" for q in quarters])
    ax.set_xlim(0.45, 4.55)
    ax.tick_params(axis="x", length=0, pad=8)
    known = [v for v in by_tw.values() if v is not None]
    ticks = _percent_ticks([*known, *bench.values()])
    ax.set_yticks(ticks, labels=[percent_short(t) for t in ticks])
    ax.set_ylim(ticks[0], ticks[-1] + (ticks[1] - ticks[0]) * 0.5)
    ax.grid(axis="y", color=GRID, linewidth=0.9)

    # Labels go to opposite corners of their markers (above-left / below-right), so a
    # serapan label and a target label of the same quarter never share a side, however
    # close the values. Above-left of a rising line and below-right of it are both clear
    # of that line; which line gets which corner depends on which one is on top, so the
    # other line does not run through the label either.
    y_lo, y_hi = ax.get_ylim()
    # The plot is about 430 px tall: a label is ~6% of it, a label and its offset ~9%.
    room_below = 0.09 * (y_hi - y_lo)
    label_h = 0.06 * (y_hi - y_lo)
    serapan_corner: dict[int, str] = {}
    target_corner: dict[int, str] = {}
    for q in quarters:
        v, b = by_tw.get(q), bench.get(q)
        serapan_corner[q], target_corner[q] = "above-left", "below-right"
        if v is not None and b is not None and v < b:
            # Serapan behind target (the usual case): target label above its line.
            if v - y_lo >= room_below:
                serapan_corner[q], target_corner[q] = "below-right", "above-left"
            elif b - v >= label_h:  # no room under a value near 0: both above, apart
                serapan_corner[q], target_corner[q] = "above-left", "above-left"

    if bench:
        bx = sorted(bench)
        ax.plot(bx, [bench[q] for q in bx], zorder=5, **target_style)  # visible on top
        for q in bx:
            _point_label(ax, q, bench[q], percent_short(bench[q]), target_corner[q], color=GREY)

    # The serapan line is broken where a quarter has no (complete) figure.
    runs: list[list[tuple[int, float]]] = [[]]
    for q in quarters:
        v = by_tw.get(q)
        if v is None:
            runs.append([])
        else:
            runs[-1].append((q, v))
    for seg in runs:
        if seg:
            ax.plot([q for q, _ in seg], [v for _, v in seg], zorder=4, **serapan_style)
    for q in quarters:
        if q not in by_tw:
            continue  # the caller did not ask about this quarter at all
        v = by_tw[q]
        if v is not None:
            _point_label(ax, q, v, format_percent(v), serapan_corner[q], color=BLUE, bold=True)
            continue
        # The "empty bar" of a line chart: a dashed column with the reason in it, above
        # or below this quarter's target marker and its label (below-right here).
        ax.axvspan(
            q - 0.32,
            q + 0.32,
            fill=False,
            edgecolor=GREY,
            linestyle=(0, (4, 3)),
            linewidth=1.2,
            zorder=1,
        )
        b = bench.get(q)
        y_text = (b - 24 if b >= 40 else b + 24) if b is not None else (y_lo + y_hi) / 2
        ax.annotate(
            BELUM_LENGKAP.replace(" ", "\n"),
            xy=(q, y_text),
            ha="center",
            va="center",
            fontsize=FS,
            color=GREY,
            fontstyle="italic",
            annotation_clip=False,
        )
    return f.fig


def _point_label(
    ax: Axes, x: float, y: float, text: str, corner: str, *, color: str, bold: bool = False
) -> Annotation:
    """A value next to a line marker, in the given corner ("above-left"/"below-right")."""
    above = corner == "above-left"
    return ax.annotate(
        _plain(text),
        xy=(x, y),
        xytext=(-8, 8) if above else (8, -8),
        textcoords="offset points",
        ha="right" if above else "left",
        va="bottom" if above else "top",
        fontsize=FS,
        fontweight="bold" if bold else "normal",
        color=color,
        zorder=6,
        bbox=_BACKING,  # grid lines pass behind the digits, not through them
        annotation_clip=False,
    )


# --- (c) pagu vs realisasi per program --------------------------------------------------------


def _build_pagu_realisasi(bars: list[MoneyBar], meta: ChartMeta) -> Figure:
    legend: list[tuple[Artist, str]] = [
        (Patch(facecolor=PAGU_FILL, edgecolor=SKY), "Pagu"),
        (Patch(color=BLUE), "Realisasi"),
    ]
    if any(b.realisasi is None for b in bars):
        legend.append(
            (Patch(fill=False, edgecolor=GREY, linestyle=(0, (4, 3))), "Realisasi belum lengkap")
        )
    texts = []
    for b in bars:
        text = ""
        if b.realisasi is not None:
            text = f"{rupiah_short(b.realisasi)} dari {rupiah_short(b.pagu)}"
            pct = ratio_percent(b.realisasi, b.pagu)
            if pct is not None:
                text += f" ({format_percent(pct)})"
        texts.append(text)
    return paired_money_bars(bars, meta, legend, outer_word="pagu", texts=texts)


def paired_money_bars(
    bars: Sequence[MoneyBar],
    meta: ChartMeta,
    legend: list[tuple[Artist, str]],
    *,
    outer_word: str,
    texts: Sequence[str],
    colors: Sequence[str] | None = None,
) -> Figure:
    """One row per item: the light bar is ``pagu`` (a pagu, or a plan), the dark bar inside
    it the realisasi in ``colors`` (blue by default), ``texts`` at the bar ends; an item
    without realisasi gets a dashed outline and "‹outer_word› … · realisasi belum lengkap"."""
    f = _Frame(meta, legend)
    names = [b.label for b in bars]
    ax = f.finish(len(bars) * f.rows_in(names, 0.6) + 0.6)
    f.category_axis(ax, names)
    top = max(max(b.pagu, b.realisasi or 0) for b in bars) or 1
    ax.set_xlim(0, top * 1.02)
    ax.grid(axis="x", color=GRID, linewidth=0.9)

    labels: list[Annotation] = []
    for y, b in enumerate(bars):
        ax.barh(y, b.pagu, height=0.7, color=PAGU_FILL, edgecolor=SKY, linewidth=1.0, zorder=2)
        if b.realisasi is None:
            ax.add_patch(
                Rectangle(
                    (0, y - REAL_H / 2),
                    max(b.pagu, top * 0.02),
                    REAL_H,
                    fill=False,
                    edgecolor=GREY,
                    linestyle=(0, (4, 3)),
                    linewidth=1.3,
                    zorder=3,
                )
            )
            text = f"{outer_word} {rupiah_short(b.pagu)} · realisasi {BELUM_LENGKAP}"
            labels.append(_value_label(ax, b.pagu, y, text, color=GREY, style="italic"))
            continue
        color = colors[y] if colors is not None else BLUE
        ax.barh(y, b.realisasi, height=REAL_H, color=color, zorder=3)
        labels.append(_value_label(ax, max(b.pagu, b.realisasi), y, texts[y]))
    # Ticks first, on an estimate of the plot width (figure minus category labels), so the
    # one layout pass in _place_money_labels sees the final tick labels; if the axis is
    # then widened for the value labels, ticks are only ever thinned, which cannot make
    # the plot narrower and so cannot push a placed label out.
    prop = FontProperties(size=FS)
    label_px = max(
        f.r.get_text_width_height_descent(line, prop, ismath=False)[0]
        for name in names
        for line in f.wrap(name).split("\n")
    )
    _money_ticks(ax, top, (WIDTH_IN - 2 * PAD_IN) * DPI - label_px - 30, f.r)
    width = _place_money_labels(f.fig, ax, bars, labels)
    _money_ticks(ax, top, width, f.r)  # only ever removes ticks: the layout stays valid
    _freeze_layout(f.fig)
    return f.fig


def _place_money_labels(
    fig: Figure, ax: Axes, bars: Sequence[MoneyBar], labels: Sequence[Annotation]
) -> float:
    """Put each label after its pagu bar; where it does not fit there, inside the light
    pagu bar just after the realisasi, or in white inside the realisasi bar itself.
    Widen the axis only as far as needed. Returns the plot width in px.

    Pagu of one office spans 1:70 (Rp 68 jt to Rp 4,7 M): putting every label outside
    would squeeze the biggest bar to a third of the plot to make room for its label.
    """
    r = _layout_pass(fig)
    box = ax.get_window_extent(r)
    width = box.width
    # Realisasi bar height in px; white text inside it needs the whole label height.
    real_px = REAL_H * box.height / len(bars)
    base = ax.get_xlim()[1]
    extents = [t.get_window_extent(r) for t in labels]
    label_px = [e.width + 6 for e in extents]
    gap = 6.0

    def placement(xmax: float) -> list[str] | None:
        """Per label "out", "pagu" or "real"; None if some label fits nowhere."""
        s = width / xmax
        out: list[str] = []
        for b, w, e in zip(bars, label_px, extents, strict=True):
            real = (b.realisasi or 0) * s
            if max(b.pagu * s, real) + w + gap <= width:
                out.append("out")
            elif real + w + gap <= b.pagu * s:
                out.append("pagu")
            elif w + gap <= real and e.height + 2 <= real_px:
                out.append("real")
            else:
                return None
        return out

    # Smallest scale first: the base range, then each range where one more label fits
    # outside; the last candidate puts every label outside and always works.
    candidates = [base]
    for b, w in zip(bars, label_px, strict=True):
        if w + gap < width:
            candidates.append(max(b.pagu, b.realisasi or 0) * width / (width - w - gap))
    for xmax in sorted(c for c in candidates if c >= base):  # every bar stays in view
        modes = placement(xmax)
        if modes is not None:
            break
    else:
        xmax, modes = max(candidates), ["out"] * len(bars)
    ax.set_xlim(0, xmax)
    for t, b, mode in zip(labels, bars, modes, strict=True):
        if mode == "out":
            continue
        # Inside a bar a white backing box would look like a hole in it.
        t.set_bbox(None)
        if mode == "pagu":
            t.xy = (b.realisasi or 0, t.xy[1])
        else:
            t.xy = (0, t.xy[1])
            t.set_color("white")
    return width


def _money_ticks(ax: Axes, top: float, width: float, r: RendererBase) -> None:
    """Rupiah ticks up to the largest bar, as many as fit side by side in ``width`` px."""
    xmax = ax.get_xlim()[1]
    prop = FontProperties(size=FS)
    ticks = [0.0]
    for nbins in (6, 5, 4, 3, 2, 1):
        ticks = [
            float(t)
            for t in MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]).tick_values(0, top)
            if 0 <= t <= top * 1.0001
        ]
        if len(ticks) < 2:
            break
        widest = max(
            r.get_text_width_height_descent(rupiah_short(t), prop, ismath=False)[0] for t in ticks
        )
        if (ticks[1] - ticks[0]) * width / xmax >= widest + 24:
            break
    ax.set_xticks(ticks, labels=[rupiah_short(t) for t in ticks])
    ax.set_xlim(0, xmax)  # set_xticks may have widened the view to its ticks


# --- (d) realisasi fisik vs keuangan ------------------------------------------------------------


def _build_fisik_keuangan(bars: list[PairBar], meta: ChartMeta) -> Figure:
    legend: list[tuple[Artist, str]] = [
        (Patch(color=BLUE), "Keuangan (serapan anggaran)"),
        (Patch(color=ORANGE), "Fisik"),
    ]
    f = _Frame(meta, legend)
    names = [b.label for b in bars]
    ax = f.finish(len(bars) * f.rows_in(names, 0.95) + 0.95)
    f.category_axis(ax, names)
    values = [_num(v) for b in bars for v in (b.keuangan, b.fisik)]
    last = _percent_axis(ax, [v for v in values if v is not None])

    h = 0.36
    labels: list[Annotation] = []
    for y, b in enumerate(bars):
        k, p = _num(b.keuangan), _num(b.fisik)
        for v, dy, color in ((k, -0.19, BLUE), (p, 0.19, ORANGE)):
            if v is None:
                labels.append(_empty_bar(ax, y + dy, h, last, BELUM_LENGKAP))
            else:
                ax.barh(y + dy, v, height=h, color=color, zorder=2)
                labels.append(_value_label(ax, max(v, 0.0), y + dy, format_percent(v)))
        dev = None if k is None or p is None else p - k
        # The difference sits in its own column right of the plot (part of the layout).
        ax.annotate(
            _plain(points_signed(dev)),
            xy=(1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(14, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=FS,
            fontweight="bold" if dev is not None and abs(dev) >= 10 else "normal",
            annotation_clip=False,
        )
    _label_above(
        ax, "Fisik − keuangan", xy=(1.0, 1.0), xycoords="axes fraction", offset=(14, 6), ha="left"
    )
    _fit_xmax(f.fig, ax, labels)
    return f.fig


# --- (e) reporting status -----------------------------------------------------------------------

# status -> (text in the bar, fill, edge, bold). Black text on every fill: each of these
# Okabe-Ito colours gives black text a contrast ratio above 4.5.
_STATUS: dict[str | None, tuple[str, str, str, bool]] = {
    "disetujui": ("✓ Disetujui", GREEN, GREEN, False),
    "diajukan": ("Diajukan, menunggu verifikasi", SKY, SKY, False),
    "dikembalikan": ("Dikembalikan untuk diperbaiki", VERMILLION, VERMILLION, False),
    "draft": ("Draf, belum diajukan", YELLOW, YELLOW, False),
    None: ("⚠ BELUM LAPOR", "white", BLACK, True),
}
_SUDAH = {"disetujui", "diajukan"}  # as StatusRow.reported: submitted counts as reported


def _build_status(bars: list[StatusBar], meta: ChartMeta) -> Figure:
    f = _Frame(meta)
    names = [b.label for b in bars]
    ax = f.finish(len(bars) * f.rows_in(names, 0.62) + 0.55)
    f.category_axis(ax, names)
    ax.set_xlim(0, 1)
    ax.set_xticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)

    statuses = [(b.status or "").strip().lower() or None for b in bars]
    for y, st in enumerate(statuses):
        text, fill, edge, bold = _STATUS.get(st, (str(st), "#EEEEEE", GREY, False))
        belum = st is None
        ax.add_patch(
            Rectangle(
                (0, y - 0.34),
                1,
                0.68,
                facecolor=fill,
                edgecolor=edge,
                linewidth=2.4 if belum else 1.0,
                linestyle=(0, (5, 3)) if belum else "-",
                zorder=2,
            )
        )
        ax.text(
            0.02,
            y,
            _plain(text),
            ha="left",
            va="center",
            fontsize=FS + 1,
            fontweight="bold" if bold else "normal",
            color=BLACK,
            zorder=3,
        )
    sudah = sum(st in _SUDAH for st in statuses)
    belum_n = sum(st is None for st in statuses)
    ax.set_title(
        f"Sudah lapor {sudah} dari {len(bars)} bidang · belum lapor {belum_n}",
        loc="left",
        fontsize=FS,
        fontweight="bold",
        pad=10,
    )
    return f.fig


# --- rendering and checks ---------------------------------------------------------------------


def _render(fig: Figure) -> bytes:
    """Draw once, check the layout, encode PNG, and drop the pixel buffer right away."""
    canvas = _agg(fig)
    try:
        canvas.draw()
        problems = _check_layout(fig, draw=False)
        if problems:
            log.warning("chart layout problems: %s", "; ".join(problems))
        w, h = canvas.get_width_height(physical=True)
        img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        out = io.BytesIO()
        img.convert("RGB").save(out, format="PNG", dpi=(DPI, DPI), compress_level=6)
        return out.getvalue()
    finally:
        # Figures are reference cycles; freeing the multi-megabyte Agg buffer now instead
        # of whenever the cyclic GC runs keeps RSS flat under a burst of requests.
        canvas.renderer = None
        canvas._lastKey = None
        fig.clear()


def _drawn_texts(fig: Figure) -> list[Text]:
    """Visible, non-empty texts that a draw actually puts on the image.

    Tick objects are recycled by matplotlib, so a tick label may exist without being
    drawn; ``Axis._update_ticks`` is what ``Axis.draw`` uses to pick the drawn ones.
    """
    tick_labels: set[int] = set()
    drawn: set[int] = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in [*axis.majorTicks, *axis.minorTicks]:
                tick_labels.update((id(tick.label1), id(tick.label2)))
            if ax.axison and axis.get_visible():
                # Private, and absent from the stubs, but it is how Axis.draw picks ticks.
                for tick in axis._update_ticks():  # type: ignore[union-attr]
                    drawn.update((id(tick.label1), id(tick.label2)))
    out: list[Text] = []
    for t in fig.findobj(Text):
        assert isinstance(t, Text)
        if not t.get_visible() or not t.get_text().strip():
            continue
        if id(t) in tick_labels and id(t) not in drawn:
            continue
        out.append(t)
    return out


def _check_layout(fig: Figure, *, draw: bool = True) -> list[str]:
    """What would make the chart hard to read; empty when it is fine.

    Checks every drawn text: inside the image, at least 12 pt, not overlapping another
    text. ``draw=False`` when the caller has just drawn the figure (saves a draw).
    """
    canvas = _agg(fig)
    if draw:
        canvas.draw()
    r = canvas.get_renderer()
    box = fig.bbox
    tol = 1.0  # px: antialiasing rounds extents
    items = [(t, t.get_window_extent(r)) for t in _drawn_texts(fig)]
    problems: list[str] = []
    for t, bb in items:
        name = repr(t.get_text()[:40])
        if (
            bb.x0 < box.x0 - tol
            or bb.y0 < box.y0 - tol
            or bb.x1 > box.x1 + tol
            or bb.y1 > box.y1 + tol
        ):
            problems.append(f"text {name} is cut off ({bb.bounds} outside {box.bounds})")
        if float(t.get_fontsize()) < MIN_FONT_PT:
            problems.append(f"text {name} is {t.get_fontsize()} pt")
    for i, (a, ba) in enumerate(items):
        for b, bb in items[i + 1 :]:
            if (
                ba.x0 < bb.x1 - tol
                and bb.x0 < ba.x1 - tol
                and ba.y0 < bb.y1 - tol
                and bb.y0 < ba.y1 - tol
            ):
                problems.append(f"texts {a.get_text()[:30]!r} and {b.get_text()[:30]!r} overlap")
    return problems


def _label_above(
    ax: Axes,
    text: str,
    *,
    xy: tuple[float, float],
    xycoords: str | tuple[str, str],
    offset: tuple[float, float],
    ha: Literal["left", "center", "right"],
) -> None:
    """A bold label just above the plot area (outside it, so it is never clipped)."""
    ax.annotate(
        text,
        xy=xy,
        xycoords=xycoords,
        xytext=offset,
        textcoords="offset points",
        ha=ha,
        va="bottom",
        fontsize=FS,
        fontweight="bold",
        annotation_clip=False,
    )
