"""Which chart answers a question, its data from the database, and a caption with the numbers.

The bot, the console and the benchmarks ask here; rendering itself is ``charts.render``.
Every figure drawn is also in the caption, so no number lives only in pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlmodel import Session

from charts import spec
from storage.domain.early_warning import national_label
from storage.domain.numbers import format_percent, format_rupiah
from storage.domain.periods import roman
from storage.services.queries import (
    Item,
    NoYearData,
    benchmarks,
    get_opd,
    list_bidang,
    reporting_status,
    resolve_period,
    rollup,
    scope_result,
    trend,
    unverified,
)

if TYPE_CHECKING:
    from storage.services.ask import Answer

UNAPPROVED = "belum disetujui"  # the mark on figures of a submission not yet approved


# Bars a phone shows legibly; beyond it the largest (by pagu) are drawn and the rest are
# summed into one "Lainnya" bar. The caption lists the drawn ones and points to /laporan,
# which has every row.
MAX_BARS = 12


class ChartKind(StrEnum):
    BIDANG = "bidang"  # (a) serapan per bidang with the benchmark line
    TREN = "tren"  # (b) cumulative serapan per quarter against 15/40/60/90
    PROGRAM = "program"  # (c) pagu vs realisasi per program of a bidang (or per bidang)
    FISIK = "fisik"  # (d) realisasi fisik vs keuangan per program
    STATUS = "status"  # (e) reporting status per bidang
    RENCANA = "rencana"  # (f) early warning: plan vs realisasi per program, at risk marked


@dataclass(frozen=True)
class ChartRequest:
    kind: ChartKind
    tahun: int | None = None
    triwulan: int | None = None
    bidang_id: int | None = None  # None: the whole office


@dataclass
class Chart:
    png: bytes
    caption: str  # plain text with the key numbers
    filename: str


@dataclass(frozen=True)
class ChartPlan:
    """Everything needed to draw a chart, as plain picklable data (see charts.pool)."""

    function: str  # a drawing function of charts.render
    args: tuple[object, ...]
    caption: str  # plain text, whole: the sender fits it to Telegram's caption limit
    filename: str
    keep_last: int = 0  # closing lines of the caption kept when it is cut
    more: str = "…"  # the line that says the caption was cut


def draw(plan: ChartPlan) -> bytes:
    """Render a planned chart to PNG bytes (CPU-bound: run it in charts.pool)."""
    import importlib

    # matplotlib loads only where charts are drawn; "render_plan:f" names another module.
    module, _, name = plan.function.rpartition(":")
    drawing: Callable[..., bytes] = getattr(
        importlib.import_module(f"charts.{module or 'render'}"), name
    )
    return drawing(*plan.args)


def _short_opd(nama: str) -> str:
    """'DINAS KOPERASI, … KABUPATEN SOLOK' -> 'Dinas Koperasi, … Kabupaten Solok'."""
    small = {"dan", "di", "ke"}
    words = nama.split()
    out = [w.capitalize() if w.lower() not in small else w.lower() for w in words]
    for abbr in ("Ukm", "Umkm", "Opd"):
        out = [abbr.upper() if w.rstrip(",") == abbr else w for w in out]
    return " ".join(out)


def resolve(session: Session, opd_id: int, req: ChartRequest) -> ChartRequest:
    """Fill in the year (latest with data) and quarter (latest with data)."""
    try:
        period = resolve_period(session, opd_id=opd_id, tahun=req.tahun, tw=req.triwulan)
    except NoYearData:
        raise spec.NoData("Belum ada data untuk digambar.") from None
    if not period.has_data:
        raise spec.NoData(
            f"Belum ada data tahun {period.tahun}. Data tersedia: "
            f"{', '.join(map(str, period.years))}."
        )
    return ChartRequest(req.kind, period.tahun, period.triwulan, req.bidang_id)


def build_chart(session: Session, opd_id: int, req: ChartRequest) -> Chart:
    """Data and PNG of one chart, in the calling thread (CLI, tests, benchmarks)."""
    plan = plan_chart(session, opd_id, req)
    return Chart(draw(plan), plan.caption, plan.filename)


def plan_chart(session: Session, opd_id: int, req: ChartRequest) -> ChartPlan:
    """The data of one chart and its caption, from the database (no drawing yet)."""
    req = resolve(session, opd_id, req)
    tahun, tw = req.tahun, req.triwulan
    assert tahun is not None and tw is not None
    opd = get_opd(session, opd_id)
    assert opd is not None
    bidang = {b.id: b.nama for b in list_bidang(session, opd_id)}
    scope = f"Bidang {bidang[req.bidang_id]}" if req.bidang_id in bidang else "Seluruh dinas"
    period = f"TW {roman(tw)} {tahun}"
    sub = f"{period} · {_short_opd(opd.nama)}"
    lines: list[str] = []
    call: tuple[str, tuple[object, ...]]  # (a drawing function of charts.render, its arguments)

    # Bidang whose figures of the charted quarter await verification (or were returned):
    # their numbers are marked so that a chart never looks final before approval.
    pending = {
        r.bidang.nama for r in unverified(session, opd_id, tahun, tw, bidang_id=req.bidang_id)
    }
    if req.kind == ChartKind.BIDANG:
        res = scope_result(session, opd_id, tahun, tw)
        bars = [spec.Bar(it.nama, it.figure.serapan) for it in res.breakdown]
        meta = spec.ChartMeta("Serapan anggaran per bidang", sub)
        call = ("serapan_per_bidang", (bars, res.benchmark, meta))
        lines.append(
            f"Serapan anggaran per bidang, {period} "
            f"(target nasional {format_percent(res.benchmark, 0)}):"
        )
        lines += [
            f"• {it.nama}: {_pct(it.figure.serapan)}{_mark(it.nama in pending)}"
            for it in res.breakdown
        ]
        lines.append(f"Total dinas: {_pct(res.item.figure.serapan)}{_mark(bool(pending))}")
    elif req.kind == ChartKind.TREN:
        points = [(q, f.serapan) for q, f in trend(session, opd_id, tahun, bidang_id=req.bidang_id)]
        bench = benchmarks(session)
        meta = spec.ChartMeta(
            f"Tren serapan anggaran · {scope}", f"{tahun} · {_short_opd(opd.nama)}"
        )
        call = ("tren_serapan", (points, bench, meta))
        lines.append(f"Serapan kumulatif {scope.lower()} {tahun} (target {national_label(bench)}):")
        waiting = {
            q: {
                r.bidang.nama
                for r in unverified(session, opd_id, tahun, q, bidang_id=req.bidang_id)
            }
            for q, _ in points
        }
        lines += [
            f"• TW {roman(q)}: {_pct(v)} (target {format_percent(bench.get(q, 0), 0)})"
            f"{_mark(bool(waiting[q]))}"
            for q, v in points
        ]
        pending = set().union(*waiting.values()) if waiting else set()
        period = str(tahun)
    elif req.kind in (ChartKind.PROGRAM, ChartKind.FISIK):
        res = scope_result(session, opd_id, tahun, tw, bidang_id=req.bidang_id)
        items, folded = top_items(res.breakdown)
        if req.kind == ChartKind.PROGRAM:
            title = f"Pagu dan realisasi · {scope}"
            bars_m = [
                spec.MoneyBar(it.nama, it.figure.pagu or 0, it.figure.realisasi) for it in items
            ]
            call = ("program_pagu_realisasi", (bars_m, spec.ChartMeta(title, sub)))
            lines.append(f"Pagu dan realisasi {scope.lower()}, {period}:")
            lines += [
                f"• {_short(it.nama)}: {format_rupiah(it.figure.realisasi)} dari "
                f"{format_rupiah(it.figure.pagu)} ({_pct(it.figure.serapan)})"
                for it in items
            ]
        else:
            title = f"Realisasi fisik dan keuangan · {scope}"
            bars_p = [spec.PairBar(it.nama, it.figure.serapan, it.figure.fisik) for it in items]
            call = ("fisik_vs_keuangan", (bars_p, spec.ChartMeta(title, sub)))
            lines.append(f"Realisasi fisik dan keuangan {scope.lower()}, {period}:")
            lines += [
                f"• {_short(it.nama)}: fisik {_pct(it.figure.fisik)}, "
                f"keuangan {_pct(it.figure.serapan)}"
                for it in items
            ]
        if folded:
            lines.append(
                f"{len(res.breakdown)} program; {folded} program dengan pagu terkecil "
                'digabung menjadi "Lainnya". Angka lengkap tiap program: /laporan.'
            )
    elif req.kind == ChartKind.RENCANA:
        call, lines = plan_vs_realisasi(session, opd_id, tahun, tw, req.bidang_id, scope, sub)
    else:
        rows = reporting_status(session, opd_id, tahun, tw)
        bars_s = [spec.StatusBar(r.bidang.nama, str(r.status) if r.status else None) for r in rows]
        meta = spec.ChartMeta("Status pelaporan per bidang", sub)
        call = ("status_pelaporan", (bars_s, meta))
        lines.append(f"Status pelaporan {period}:")
        lines += [f"• {r.bidang.nama}: {r.status or 'belum lapor'}" for r in rows]
    if pending and req.kind != ChartKind.STATUS:
        # Second line, so that cutting a long list never drops it.
        lines.insert(
            1,
            f"⏳ Angka bidang {', '.join(sorted(pending))} {UNAPPROVED} (menunggu verifikasi); "
            "dapat berubah.",
        )
    name = f"grafik-{req.kind}-{tahun}-tw{tw}.png"
    # a cut keeps the closing line (what was folded, where the full figures are)
    keep = 1 if lines[-1].endswith("/laporan.") else 0
    return ChartPlan(call[0], call[1], "\n".join(lines), name, keep_last=keep)


def _mark(on: bool) -> str:
    return f" ({UNAPPROVED})" if on else ""


def top_items(items: list[Item], limit: int = MAX_BARS) -> tuple[list[Item], int]:
    """At most ``limit`` bars: the largest by pagu in their order, the rest summed into one
    "Lainnya" item (incomplete when any of them is). Returns the items and how many were
    folded (0: all shown)."""
    if len(items) <= limit:
        return items, 0
    keep = sorted(items, key=lambda it: -(it.figure.pagu or 0))[: limit - 1]
    kept = {id(it) for it in keep}
    rest = [it for it in items if id(it) not in kept]
    lainnya = Item("lainnya", 0, f"Lainnya ({len(rest)} program)", rollup(it.figure for it in rest))
    return [it for it in items if id(it) in kept] + [lainnya], len(rest)


def _pct(value: float | None) -> str:
    return format_percent(value) if value is not None else "belum lengkap"


def _short(name: str, limit: int = 60) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def request_for(answer: Answer) -> ChartRequest | None:
    """The chart that shows an answer best, if there is one."""
    from storage.domain.question_parser import Metric
    from storage.services.ask import Kind

    q = answer.query
    if q is None:
        return None
    bidang_id = q.scope_id if q.scope_kind == "bidang" else None
    if q.trend and q.scope_kind in ("opd", "bidang"):
        return ChartRequest(ChartKind.TREN, q.tahun, q.triwulan, bidang_id)
    if answer.kind == Kind.RANKING:
        # The chart is of bidang by serapan; a ranking of programs or by sisa has none.
        if answer.rank_level != "bidang" or answer.rank_by not in ("serapan",):
            return None
        return ChartRequest(ChartKind.BIDANG, q.tahun, q.triwulan)
    if answer.kind == Kind.STATUS:
        return ChartRequest(ChartKind.STATUS, q.tahun, q.triwulan)
    if answer.kind == Kind.PERINGATAN:
        return ChartRequest(ChartKind.RENCANA, q.tahun, q.triwulan, bidang_id)
    if answer.kind != Kind.SCOPE or q.scope_kind not in ("opd", "bidang"):
        return None
    if q.metric == Metric.FISIK:
        return ChartRequest(ChartKind.FISIK, q.tahun, q.triwulan, bidang_id)
    if q.scope_kind == "opd":
        return ChartRequest(ChartKind.BIDANG, q.tahun, q.triwulan)
    return ChartRequest(ChartKind.PROGRAM, q.tahun, q.triwulan, bidang_id)


def encode(req: ChartRequest) -> str:
    """Callback data for a 'Lihat grafik' button (well under Telegram's 64 bytes)."""
    return f"gr:{req.kind}:{req.bidang_id or 0}:{req.triwulan or 0}:{req.tahun or 0}"


def decode(data: str) -> ChartRequest | None:
    parts = data.split(":")
    if len(parts) != 5 or parts[0] != "gr" or parts[1] not in {k.value for k in ChartKind}:
        return None
    if not all(p.isdecimal() for p in parts[2:]) or int(parts[3]) > 4:
        return None
    b, tw, tahun = (int(p) or None for p in parts[2:])
    return ChartRequest(ChartKind(parts[1]), tahun, tw, b)


def plan_vs_realisasi(
    session: Session,
    opd_id: int,
    tahun: int,
    tw: int,
    bidang_id: int | None,
    scope: str,
    sub: str,
) -> tuple[tuple[str, tuple[object, ...]], list[str]]:
    """The early-warning chart's data and caption lines: the programs of a bidang (of the
    office: those with most rupiah at risk), plan vs realisasi, at-risk ones marked."""
    from charts.format import rupiah_short
    from storage.services.early_warning import early_warning

    ew = early_warning(session, opd_id, tahun, tw, bidang_id=bidang_id)
    rows = ew.rows + ew.incomplete
    if len(rows) > MAX_BARS:
        rows = rows[:MAX_BARS]  # ranked: the most rupiah at risk first
    bars = [
        spec.PlanBar(
            r.nama,
            r.rencana,
            r.realisasi,
            (r.berisiko or 0) > 0,
            r.deviasi.points if r.deviasi else None,
        )
        for r in rows
    ]
    title = f"Rencana dan realisasi · {scope}"
    call = ("render_plan:rencana_realisasi", (bars, spec.ChartMeta(title, sub)))
    period = f"TW {roman(tw)} {tahun}"
    lines = [f"Rencana dan realisasi {scope.lower()}, {period}; pembanding: {ew.source_label}:"]
    for r in rows:
        name = _short(r.nama, 45)
        if r.realisasi is None or r.deviasi is None or r.proyeksi is None:
            lines.append(f"• {name}: realisasi belum lengkap, rencana {rupiah_short(r.rencana)}")
            continue
        risk = f", berisiko {rupiah_short(r.berisiko)} ⚠" if r.berisiko else ""
        lines.append(
            f"• {name}: {rupiah_short(r.realisasi)} dari rencana {rupiah_short(r.rencana)} "
            f"({_signed_points(r.deviasi.points)}), proyeksi {rupiah_short(r.proyeksi.amount)}"
            f"{risk}"
        )
    hidden = len(ew.rows) + len(ew.incomplete) - len(rows)
    if hidden:
        lines.append(f"{hidden} program lain tidak digambar. Angka lengkap: /laporan.")
    return call, lines


def _signed_points(value: float | None) -> str:
    if value is None:
        return "-"
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f"{sign}{format_percent(abs(value)).rstrip('%')} poin"
